//! The TCP client role: resolve, try each address until one connects, then send and receive.

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{select, unbounded};
use socket2::{Socket, Type};

use super::error::{EngineError, ErrorClass, Op};
use super::event::{CloseReason, EventKind, Payload, StopReason};
use super::file_send::{CancelToken, FileSource};
use super::framing::FramingConfig;
use super::lookup::resolve;
use super::options::{
    TcpOptions, apply_tcp_options, bind, local_address, new_socket, peer_address,
};
use super::session::{EventSink, QueueSizes, Session, SessionShared, Waker, WorkerCtx, lock};
use super::tcp_conn::{BufferPool, ConnNotice, ConnSetup, Connection, PassOn};
use super::template::Template;
use super::tls::TlsClientSettings;

/// The id of a TCP client's one connection.
pub const CLIENT_CONN: u64 = 1;

/// How to connect.
#[derive(Debug, Clone)]
pub struct TcpClientConfig {
    /// Host name or IPv4/IPv6 literal (brackets allowed: `[::1]`).
    pub host: String,
    /// Port to connect to.
    pub port: u16,
    /// Local address to bind before connecting; `None` lets the system pick (an ephemeral port).
    pub local: Option<SocketAddr>,
    /// How long one connection attempt may take.
    pub connect_timeout: Duration,
    /// Socket options set before `connect`.
    pub options: TcpOptions,
    /// Queue sizes ([`QueueSizes::tcp`] by default).
    pub queues: QueueSizes,
    /// How received data is cut into messages (none by default: one event per `recv`).
    pub framing: FramingConfig,
    /// Speak TLS over the connection (`None`: plain TCP).
    pub tls: Option<TlsClientSettings>,
    /// Start in step mode: wait before each key socket call (see [`super::Session::next_call`]).
    pub step_mode: bool,
}

impl TcpClientConfig {
    /// A client for `host:port` with default options and a 5 s connect timeout.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        TcpClientConfig {
            host: host.into(),
            port,
            local: None,
            connect_timeout: Duration::from_secs(5),
            options: TcpOptions::default(),
            queues: QueueSizes::tcp(),
            framing: FramingConfig::default(),
            tls: None,
            step_mode: false,
        }
    }
}

/// What a TCP client can be asked to do.
#[derive(Debug, Clone)]
pub enum TcpClientCommand {
    /// Send these bytes (all of them, in order with earlier sends).
    Send(Payload),
    /// Fill the template in (the session's next `{seq}`, the time now …) and send it.
    SendTemplate(Arc<Template>),
    /// Send a whole file, in chunks, in order with the other sends (see
    /// [`crate::engine::file_send`]).
    SendFile(PathBuf),
    /// Half-close: send FIN after what is queued, keep receiving until the peer closes.
    ShutdownWrite,
    /// Close gracefully after what is queued.
    Close,
    /// Reset the connection at once (`SO_LINGER` 0), discarding anything unsent.
    Abort,
}

/// A running TCP client session.
pub type TcpClient = Session<TcpClientCommand>;

/// Starts a TCP client. Resolution and connecting happen on the session's thread; watch the
/// events for `Connected` or for `Stopped` with the reason it could not connect.
pub fn start(config: TcpClientConfig, waker: Waker) -> TcpClient {
    let name = format!("tcp-client {}:{}", config.host, config.port);
    Session::spawn_stepped(name, config.queues, config.step_mode, waker, move |ctx| {
        run(&ctx, &config);
    })
}

#[allow(
    clippy::too_many_lines,
    reason = "the worker's loop owns its socket from open to close; split it in the engine's own refactor, which runs in parallel with this one"
)]
fn run(ctx: &WorkerCtx<TcpClientCommand>, config: &TcpClientConfig) {
    let sink = &ctx.sink;
    let stopped = |reason| {
        sink.emit(EventKind::Stopped { reason });
    };
    // Files and names first: a CA file that cannot be read is found before any packet is sent.
    let tls = match config
        .tls
        .as_ref()
        .map(|t| t.prepare(&config.host))
        .transpose()
    {
        Ok(tls) => tls,
        Err(e) => return stopped(StopReason::Failed(e)),
    };
    let addrs = match resolve(&config.host, config.port) {
        Ok(addrs) => {
            let list: Vec<String> = addrs.iter().map(ToString::to_string).collect();
            sink.call(
                None,
                Op::GetAddrInfo,
                format!("\"{}\", {}", config.host, config.port),
                Ok(list.join(", ")),
            );
            addrs
        }
        Err(e) => {
            sink.call(
                None,
                Op::GetAddrInfo,
                format!("\"{}\", {}", config.host, config.port),
                Err(e.to_string()),
            );
            return stopped(StopReason::Failed(e));
        }
    };

    let mut last_error = None;
    let mut connected = None;
    for addr in addrs {
        if ctx.shared.is_stopping() {
            return stopped(StopReason::Requested);
        }
        match connect_one(sink, &ctx.shared, addr, config) {
            Ok(c) => {
                connected = Some(c);
                break;
            }
            Err(e) => last_error = Some(e),
        }
    }
    let Some((stream, local, peer)) = connected else {
        if ctx.shared.is_stopping() {
            return stopped(StopReason::Requested);
        }
        let error = last_error.unwrap_or(EngineError::Resolve {
            host: config.host.clone(),
            message: "no address to connect to".to_owned(),
        });
        return stopped(StopReason::Failed(error));
    };
    *lock(&ctx.shared.local_addr) = Some(local);

    let tls = match tls.as_ref().map(super::tls::ClientTls::link).transpose() {
        Ok(link) => link,
        Err(e) => return stopped(StopReason::Failed(e)),
    };
    let (notice_tx, notice_rx) = unbounded();
    let pool = BufferPool::new(16);
    let setup = ConnSetup {
        id: CLIENT_CONN,
        stream,
        local,
        peer,
        close_on_peer_finished: false,
        thread_name: format!("tcp-client-read {peer}"),
        capture: None,
        framing: config.framing.clone(),
        tls,
        pass_on: PassOn::default(),
    };
    let mut conn = match Connection::start(setup, sink, &ctx.shared, &pool, &notice_tx) {
        Ok(conn) => conn,
        Err(e) => return stopped(StopReason::Failed(e)),
    };

    let mut stop_requested = false;
    loop {
        select! {
            recv(ctx.commands) -> cmd => match cmd {
                Ok(TcpClientCommand::Send(data)) => {
                    if let Err(e) = conn.send(data) {
                        sink.emit(EventKind::Error(e));
                    }
                }
                Ok(TcpClientCommand::SendTemplate(template)) => {
                    let data = Payload::from(ctx.shared.templates.render(&template));
                    if let Err(e) = conn.send(data) {
                        sink.emit(EventKind::Error(e));
                    }
                }
                Ok(TcpClientCommand::SendFile(path)) => {
                    let queued = FileSource::open(&path, conn.peer()).and_then(|source| {
                        conn.send_file(source, CancelToken::now(&ctx.shared.file_cancel))
                    });
                    if let Err(e) = queued {
                        sink.emit(EventKind::Error(e));
                    }
                }
                Ok(TcpClientCommand::ShutdownWrite) => {
                    if let Err(e) = conn.shutdown_write() {
                        sink.emit(EventKind::Error(e));
                    }
                }
                // A dropped handle closes the connection the same way as Close.
                Ok(TcpClientCommand::Close) | Err(_) => conn.close(CloseReason::YouClosed),
                Ok(TcpClientCommand::Abort) => conn.abort(),
            },
            recv(notice_rx) -> notice => match notice {
                Ok(ConnNotice::CloseAfterPeerFinished(_)) => {
                    if conn.should_close_after_peer_finished() {
                        conn.close(CloseReason::PeerClosed);
                    }
                }
                Ok(ConnNotice::Ended(_, reason)) => {
                    conn.finish(reason.clone());
                    let reason = if stop_requested {
                        StopReason::Requested
                    } else {
                        StopReason::ConnectionEnded(reason)
                    };
                    return stopped(reason);
                }
                Err(_) => return stopped(StopReason::Requested),
            },
            recv(ctx.stop) -> _ => {
                stop_requested = true;
                conn.close_immediately(CloseReason::YouClosed);
            },
            recv(sink.abort_signal()) -> _ => {
                conn.abandon(CloseReason::YouClosed);
                return;
            },
        }
    }
}

/// One connection attempt to `addr`: socket, options, optional bind, connect, addresses.
fn connect_one(
    sink: &EventSink,
    shared: &Arc<SessionShared>,
    addr: SocketAddr,
    config: &TcpClientConfig,
) -> Result<(TcpStream, SocketAddr, SocketAddr), EngineError> {
    let socket = new_socket(sink, None, &addr, Type::STREAM)?;
    apply_tcp_options(sink, None, &socket, &addr, &config.options)?;
    if let Some(local) = config.local {
        bind(sink, &socket, &local)?;
    }
    // Let a stop interrupt a connect that may take the whole timeout.
    if let Ok(clone) = socket.try_clone() {
        *lock(&shared.interrupt) = Some(Box::new(move || {
            let _ = clone.shutdown(std::net::Shutdown::Both);
        }));
    }
    if let Err(e) = sink.before(Op::Connect, addr.to_string()) {
        *lock(&shared.interrupt) = None;
        return Err(e);
    }
    let result = socket.connect_timeout(&addr.into(), config.connect_timeout);
    *lock(&shared.interrupt) = None;
    let timeout_ms = u64::try_from(config.connect_timeout.as_millis()).unwrap_or(u64::MAX);
    match result {
        Ok(()) => sink.ok(None, Op::Connect, addr.to_string()),
        Err(e) => {
            sink.call(None, Op::Connect, addr.to_string(), Err(e.to_string()));
            sink.ok(None, Op::Close, "");
            let error = EngineError::io(Op::Connect, addr, &e);
            return Err(if error.class() == ErrorClass::TimedOut {
                EngineError::ConnectTimeout { addr, timeout_ms }
            } else {
                error
            });
        }
    }
    let local = local_address(sink, None, &socket, &addr)?;
    let peer = peer_address(sink, None, &socket, &addr)?;
    Ok((socket_into_stream(socket), local, peer))
}

fn socket_into_stream(socket: Socket) -> TcpStream {
    socket.into()
}
