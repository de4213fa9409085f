//! The TCP server role: socket → set options → bind → listen → accept, one reader per client.
//!
//! Threads: the supervisor (runs commands, owns every connection), the acceptor (blocks in
//! `accept`), and per client a reader (plus a writer once something is sent to that client).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crossbeam_channel::{Sender, select, unbounded};
use socket2::{Socket, Type};

use super::autoreply::{AutoReply, set_auto_reply};
use super::capture::{CaptureConfig, SharedOutput};
use super::error::{EngineError, Op};
use super::event::{CloseReason, ConnId, EventKind, Payload, StopReason};
use super::file_send::{CancelToken, FileSource};
use super::framing::FramingConfig;
use super::options::{
    TcpOptions, apply_tcp_options, bind, local_address, new_socket, peer_address, self_address,
    set_option,
};
use super::session::{
    EventSink, QueueSizes, Session, SessionShared, Waker, WorkerCtx, add, lock, spawn_worker,
};
use super::tcp_conn::{BufferPool, ConnNotice, ConnSetup, Connection, PassOn};
use super::template::Template;
use super::tls::{ServerTls, TlsEvent, TlsServerSettings, TlsStep};

/// How to listen.
#[derive(Debug, Clone)]
pub struct TcpServerConfig {
    /// Address to listen on. `127.0.0.1` (the default) is reachable only from this machine;
    /// `::` listens on every interface for IPv6 and, with `v6_only` off, IPv4 too.
    pub bind: IpAddr,
    /// Port; 0 lets the system choose (the real port is in the `Listening` event).
    pub port: u16,
    /// `SO_REUSEADDR`: allow listening again at once on a port that recently had connections.
    pub reuse_address: bool,
    /// `IPV6_V6ONLY` for an IPv6 listener; off gives one dual-stack listener.
    pub v6_only: bool,
    /// How many finished handshakes may wait for `accept`.
    pub backlog: i32,
    /// Most clients connected at once; one more is accepted, reported and closed.
    pub max_clients: usize,
    /// Send every received byte straight back (runs in the engine, so it is fast). When set, it
    /// wins over `auto_reply`.
    pub echo: bool,
    /// Reply rules (or echo) run by each connection's reader; see [`AutoReply`].
    pub auto_reply: AutoReply,
    /// Close a client's connection as soon as it finishes sending (as most servers do). Off keeps
    /// it open so you can still reply after the client's half-close.
    pub close_when_client_finishes: bool,
    /// Options for each accepted connection.
    pub options: TcpOptions,
    /// Write each client's received bytes to its own file (`dump.bin` → `dump-1.bin`, ...).
    pub capture: Option<CaptureConfig>,
    /// Every client's received bytes also go here, written by its reader as they arrive (the
    /// command line's `--output raw`).
    pub output: Option<SharedOutput>,
    /// Report received data as `Received` events (on by default). Off for an owner that never
    /// looks at it (the command line with `--output raw` or `none`): the bytes still reach the
    /// capture files, the output and the exact counters, without a copy or a thread hop per read.
    pub data_events: bool,
    /// Queue sizes ([`QueueSizes::tcp`] by default).
    pub queues: QueueSizes,
    /// How each client's data is cut into messages (none by default: one event per `recv`).
    /// Reply rules then see messages.
    pub framing: FramingConfig,
    /// Speak TLS with every client (`None`: plain TCP).
    pub tls: Option<Box<TlsServerSettings>>,
    /// Start in step mode: wait before each key socket call (see [`super::Session::next_call`]).
    pub step_mode: bool,
}

impl Default for TcpServerConfig {
    fn default() -> Self {
        TcpServerConfig {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            reuse_address: true,
            v6_only: false,
            backlog: 1024,
            max_clients: 1000,
            echo: false,
            auto_reply: AutoReply::Off,
            close_when_client_finishes: true,
            options: TcpOptions::default(),
            capture: None,
            output: None,
            data_events: true,
            queues: QueueSizes::tcp(),
            framing: FramingConfig::default(),
            tls: None,
            step_mode: false,
        }
    }
}

/// What a TCP server can be asked to do.
#[derive(Debug, Clone)]
pub enum TcpServerCommand {
    /// Send bytes to one client.
    SendTo(ConnId, Payload),
    /// Send the same bytes to every connected client.
    SendToAll(Payload),
    /// Fill the template in (the session's next `{seq}` …) and send it to one client.
    SendTemplateTo(ConnId, Arc<Template>),
    /// Fill the template in once and send the result to every connected client.
    SendTemplateToAll(Arc<Template>),
    /// Send a whole file to one client, in chunks, in order with its other sends.
    SendFileTo(ConnId, PathBuf),
    /// Send a whole file to every connected client (each reads the file for itself).
    SendFileToAll(PathBuf),
    /// Half-close one client: FIN after what is queued, keep reading.
    ShutdownWrite(ConnId),
    /// Close one client gracefully.
    Disconnect(ConnId),
    /// Reset one client (`SO_LINGER` 0).
    Abort(ConnId),
    /// Turn echo mode on or off (off also ends reply rules).
    SetEcho(bool),
    /// Echo, reply by rules, or stop replying on our own.
    SetAutoReply(AutoReply),
    /// Change the client limit while listening. Clients already connected stay, even above a
    /// lowered limit; only new connections are turned away.
    SetMaxClients(usize),
}

/// A running TCP server session.
pub type TcpServer = Session<TcpServerCommand>;

/// Starts a TCP server. Watch for `Listening` (with the real port) or `Stopped` (for example
/// "address already in use").
pub fn start(config: TcpServerConfig, waker: Waker) -> TcpServer {
    let name = format!("tcp-server {}", SocketAddr::new(config.bind, config.port));
    Session::spawn_stepped(name, config.queues, config.step_mode, waker, move |ctx| {
        run(&ctx, &config);
    })
}

enum Internal {
    Conn(ConnNotice),
    Accepted(TcpStream, SocketAddr, ConnId),
    AcceptorEnded(Option<EngineError>),
}

fn listen(sink: &EventSink, config: &TcpServerConfig) -> Result<(Socket, SocketAddr), EngineError> {
    let addr = SocketAddr::new(config.bind, config.port);
    let socket = new_socket(sink, None, &addr, Type::STREAM)?;
    if config.reuse_address {
        set_option(
            sink,
            None,
            &addr,
            "SO_REUSEADDR",
            1,
            socket.set_reuse_address(true),
        )?;
    }
    if addr.is_ipv6() {
        set_option(
            sink,
            None,
            &addr,
            "IPV6_V6ONLY",
            u8::from(config.v6_only),
            socket.set_only_v6(config.v6_only),
        )?;
    }
    bind(sink, &socket, &addr)?;
    sink.before(Op::Listen, config.backlog.to_string())?;
    sink.report(
        None,
        Op::Listen,
        config.backlog.to_string(),
        addr,
        socket.listen(config.backlog),
        |()| String::new(),
    )?;
    let local = local_address(sink, None, &socket, &addr)?;
    Ok((socket, local))
}

#[allow(
    clippy::too_many_lines,
    reason = "the worker's loop owns its socket from open to close; split it in the engine's own refactor, which runs in parallel with this one"
)]
fn run(ctx: &WorkerCtx<TcpServerCommand>, config: &TcpServerConfig) {
    let sink = &ctx.sink;
    ctx.shared.auto_reply.set(if config.echo {
        AutoReply::Echo
    } else {
        config.auto_reply.clone()
    });
    if let Some(Err(e)) = config.capture.as_ref().map(|c| c.check(true)) {
        sink.emit(EventKind::Stopped {
            reason: StopReason::Failed(e),
        });
        return;
    }
    // Certificate and key before the socket: a file that cannot be used is reported before
    // anyone can connect.
    let tls = match config
        .tls
        .as_deref()
        .map(TlsServerSettings::prepare)
        .transpose()
    {
        Ok(tls) => tls,
        Err(e) => {
            sink.emit(EventKind::Stopped {
                reason: StopReason::Failed(e),
            });
            return;
        }
    };
    let (listener, local) = match listen(sink, config) {
        Ok(l) => l,
        Err(e) => {
            sink.ok(None, Op::Close, "");
            sink.emit(EventKind::Stopped {
                reason: StopReason::after_setup(e),
            });
            return;
        }
    };
    *lock(&ctx.shared.local_addr) = Some(local);
    sink.emit(EventKind::Listening { local });
    if let Some(tls) = &tls {
        ctx.shared.counters.tls.store(true, Ordering::Relaxed);
        sink.emit(EventKind::Tls(Box::new(TlsEvent {
            conn: None,
            peer: None,
            step: TlsStep::ServerCertificate {
                cert: tls.cert.clone(),
                generated_pem: tls.generated_pem.clone(),
                clients: tls.clients.clone(),
            },
        })));
    }

    // Notices are few per connection and the supervisor always takes them; an unbounded channel
    // keeps readers from ever waiting on it.
    let (internal_tx, internal_rx) = unbounded::<Internal>();
    let (notice_tx, notice_rx) = unbounded::<ConnNotice>();
    let listener_control = listener.try_clone().ok();
    // Shared with the acceptor so the limit can change while listening.
    let max_clients = Arc::new(AtomicUsize::new(config.max_clients));
    let acceptor = {
        let sink = sink.clone();
        let shared = Arc::clone(&ctx.shared);
        let internal = internal_tx.clone();
        let max_clients = Arc::clone(&max_clients);
        let ended = internal_tx.clone();
        spawn_worker(
            format!("tcp-server-accept {local}"),
            &ctx.sink,
            move || {
                let listener: TcpListener = listener.into();
                let error = accept_loop(&sink, &shared, &listener, &internal, &max_clients);
                let _ = internal.send(Internal::AcceptorEnded(error));
            },
            move |e| {
                let _ = ended.send(Internal::AcceptorEnded(Some(e.clone())));
                EventKind::Error(e)
            },
        )
    };
    let mut supervisor = Supervisor {
        sink,
        shared: &ctx.shared,
        config,
        conns: BTreeMap::new(),
        pool: BufferPool::new(32),
        notices: notice_tx,
        stop_reason: None,
        acceptor_running: acceptor.is_some(),
        max_clients,
        tls,
    };
    if acceptor.is_none() {
        supervisor.begin_stop(StopReason::Failed(EngineError::WorkerFailed {
            thread: format!("tcp-server-accept {local}"),
            message: "could not start".to_owned(),
        }));
    }
    let wake_acceptor = || {
        if let Some(l) = &listener_control {
            wake_listener(l, local);
        }
    };

    loop {
        if let Some(reason) = supervisor.finished() {
            if let Some(handle) = acceptor {
                let _ = handle.join();
            }
            drop(listener_control);
            sink.ok(None, Op::Close, "");
            sink.emit(EventKind::Stopped { reason });
            return;
        }
        select! {
            recv(ctx.commands) -> cmd => {
                if let Ok(cmd) = cmd {
                    supervisor.command(cmd);
                } else {
                    supervisor.begin_stop(StopReason::Requested);
                    wake_acceptor();
                }
            },
            recv(internal_rx) -> msg => {
                if let Ok(msg) = msg {
                    supervisor.internal(msg);
                }
            },
            recv(notice_rx) -> notice => {
                if let Ok(notice) = notice {
                    supervisor.internal(Internal::Conn(notice));
                }
            },
            recv(ctx.stop) -> _ => {
                supervisor.begin_stop(StopReason::Requested);
                wake_acceptor();
            },
            recv(sink.abort_signal()) -> _ => {
                supervisor.begin_stop(StopReason::Requested);
                wake_acceptor();
                if let Some(handle) = acceptor {
                    let _ = handle.join();
                }
                for (_, conn) in std::mem::take(&mut supervisor.conns) {
                    conn.abandon(CloseReason::ServerStopped);
                }
                return;
            },
        }
    }
}

/// Makes a thread blocked in `accept` return: shutting the listener down does it on Linux; a
/// connection to ourselves does it everywhere.
fn wake_listener(listener: &Socket, local: SocketAddr) {
    let _ = listener.shutdown(Shutdown::Both);
    let _ = TcpStream::connect_timeout(&self_address(local), Duration::from_millis(500));
}

struct Supervisor<'a> {
    sink: &'a EventSink,
    shared: &'a Arc<SessionShared>,
    config: &'a TcpServerConfig,
    conns: BTreeMap<ConnId, Connection>,
    pool: BufferPool,
    notices: Sender<ConnNotice>,
    stop_reason: Option<StopReason>,
    acceptor_running: bool,
    max_clients: Arc<AtomicUsize>,
    tls: Option<ServerTls>,
}

impl Supervisor<'_> {
    fn begin_stop(&mut self, reason: StopReason) {
        if self.stop_reason.is_some() {
            return;
        }
        self.shared.stopping.store(true, Ordering::Release);
        self.stop_reason = Some(reason);
        for conn in self.conns.values() {
            conn.close_immediately(CloseReason::ServerStopped);
        }
    }

    /// The reason to report once stopping has finished: acceptor gone and every client closed.
    fn finished(&self) -> Option<StopReason> {
        match &self.stop_reason {
            Some(reason) if !self.acceptor_running && self.conns.is_empty() => Some(reason.clone()),
            _ => None,
        }
    }

    fn conn(&mut self, id: ConnId) -> Result<&mut Connection, EngineError> {
        self.conns
            .get_mut(&id)
            .ok_or(EngineError::NoSuchClient { id })
    }

    fn command(&mut self, cmd: TcpServerCommand) {
        let result = match cmd {
            TcpServerCommand::SendTo(id, data) => self.conn(id).and_then(|c| c.send(data)),
            TcpServerCommand::SendToAll(data) => {
                // One client's full queue must not keep the others from getting the message.
                for conn in self.conns.values_mut() {
                    if let Err(e) = conn.send(Arc::clone(&data)) {
                        self.sink.emit(EventKind::Error(e));
                    }
                }
                Ok(())
            }
            TcpServerCommand::SendTemplateTo(id, template) => {
                let data = Payload::from(self.shared.templates.render(&template));
                self.conn(id).and_then(|c| c.send(data))
            }
            TcpServerCommand::SendTemplateToAll(template) => {
                let data: Payload = Payload::from(self.shared.templates.render(&template));
                for conn in self.conns.values_mut() {
                    if let Err(e) = conn.send(Arc::clone(&data)) {
                        self.sink.emit(EventKind::Error(e));
                    }
                }
                Ok(())
            }
            TcpServerCommand::SendFileTo(id, path) => {
                let token = CancelToken::now(&self.shared.file_cancel);
                self.conn(id).and_then(|c| {
                    let source = FileSource::open(&path, c.peer())?;
                    c.send_file(source, token)
                })
            }
            TcpServerCommand::SendFileToAll(path) => {
                let token = CancelToken::now(&self.shared.file_cancel);
                if self.conns.is_empty() {
                    Err(EngineError::NotNow {
                        op: Op::Send,
                        why: "no client is connected".to_owned(),
                    })
                } else {
                    for conn in self.conns.values_mut() {
                        let queued = FileSource::open(&path, conn.peer())
                            .and_then(|source| conn.send_file(source, token));
                        if let Err(e) = queued {
                            self.sink.emit(EventKind::Error(e));
                        }
                    }
                    Ok(())
                }
            }
            TcpServerCommand::ShutdownWrite(id) => {
                self.conn(id).and_then(Connection::shutdown_write)
            }
            TcpServerCommand::Disconnect(id) => {
                self.conn(id).map(|c| c.close(CloseReason::YouClosed))
            }
            TcpServerCommand::Abort(id) => self.conn(id).map(Connection::abort),
            TcpServerCommand::SetEcho(on) => {
                set_auto_reply(
                    self.sink,
                    self.shared,
                    if on { AutoReply::Echo } else { AutoReply::Off },
                );
                Ok(())
            }
            TcpServerCommand::SetAutoReply(auto) => {
                set_auto_reply(self.sink, self.shared, auto);
                Ok(())
            }
            TcpServerCommand::SetMaxClients(limit) => {
                self.max_clients.store(limit, Ordering::Release);
                Ok(())
            }
        };
        if let Err(e) = result {
            self.sink.emit(EventKind::Error(e));
        }
    }

    fn internal(&mut self, msg: Internal) {
        match msg {
            Internal::Accepted(stream, peer, id) => self.adopt(stream, peer, id),
            Internal::AcceptorEnded(error) => {
                self.acceptor_running = false;
                if let Some(e) = error {
                    self.begin_stop(StopReason::Failed(e));
                } else {
                    self.begin_stop(StopReason::Requested);
                }
            }
            Internal::Conn(ConnNotice::CloseAfterPeerFinished(id)) => {
                if let Some(conn) = self.conns.get_mut(&id)
                    && conn.should_close_after_peer_finished()
                {
                    conn.close(CloseReason::PeerClosed);
                }
            }
            Internal::Conn(ConnNotice::Ended(id, reason)) => {
                if let Some(conn) = self.conns.remove(&id) {
                    conn.finish(reason);
                }
            }
        }
    }

    fn adopt(&mut self, stream: TcpStream, peer: SocketAddr, id: ConnId) {
        if self.stop_reason.is_some() {
            return;
        }
        let socket = Socket::from(stream);
        let configured =
            apply_tcp_options(self.sink, Some(id), &socket, &peer, &self.config.options)
                .and_then(|()| local_address(self.sink, Some(id), &socket, &peer))
                .and_then(|local| {
                    peer_address(self.sink, Some(id), &socket, &peer).map(|p| (local, p))
                });
        let (local, peer) = match configured {
            Ok(addrs) => addrs,
            Err(e) => {
                self.sink.emit(EventKind::Error(e));
                self.sink.ok(Some(id), Op::Close, "");
                return;
            }
        };
        let capture = match &self.config.capture {
            Some(c) => match c.open(&c.path_for_client(id)) {
                Ok(writer) => Some(writer),
                Err(e) => {
                    // Taking data that cannot be captured would break the capture's promise.
                    self.sink.emit(EventKind::Error(e));
                    self.sink.ok(Some(id), Op::Close, "");
                    return;
                }
            },
            None => None,
        };
        let tls = match self.tls.as_ref().map(ServerTls::link).transpose() {
            Ok(link) => link,
            Err(e) => {
                self.sink.emit(EventKind::Error(e));
                self.sink.ok(Some(id), Op::Close, "");
                return;
            }
        };
        add(&self.shared.counters.connections_accepted, 1);
        let setup = ConnSetup {
            id,
            stream: socket.into(),
            local,
            peer,
            close_on_peer_finished: self.config.close_when_client_finishes,
            thread_name: format!("tcp-server-conn {id} {peer}"),
            capture,
            framing: self.config.framing.clone(),
            tls,
            pass_on: PassOn {
                output: self.config.output.clone(),
                events: self.config.data_events,
            },
        };
        match Connection::start(setup, self.sink, self.shared, &self.pool, &self.notices) {
            Ok(conn) => {
                self.conns.insert(id, conn);
            }
            Err(e) => {
                self.sink.emit(EventKind::Error(e));
            }
        }
    }
}

fn accept_loop(
    sink: &EventSink,
    shared: &SessionShared,
    listener: &TcpListener,
    internal: &Sender<Internal>,
    max_clients: &AtomicUsize,
) -> Option<EngineError> {
    let local = listener.local_addr().ok();
    let target = local.map_or_else(String::new, |a| a.to_string());
    let mut next_id: ConnId = 1;
    let mut consecutive_errors = 0_u32;
    loop {
        if sink.before(Op::Accept, "").is_err() {
            return None;
        }
        let accepted = listener.accept();
        if shared.is_stopping() {
            return None;
        }
        match accepted {
            Ok((stream, peer)) => {
                consecutive_errors = 0;
                let id = next_id;
                next_id += 1;
                sink.call(
                    Some(id),
                    Op::Accept,
                    "",
                    Ok(format!("{peer} (client {id})")),
                );
                let active = shared.counters.clients_active.load(Ordering::Relaxed);
                let max_clients = max_clients.load(Ordering::Acquire);
                if usize::try_from(active).unwrap_or(usize::MAX) >= max_clients {
                    add(&shared.counters.connections_rejected, 1);
                    drop(stream);
                    sink.ok(Some(id), Op::Close, "");
                    sink.emit(EventKind::Rejected {
                        peer,
                        limit: max_clients,
                    });
                    continue;
                }
                if internal.send(Internal::Accepted(stream, peer, id)).is_err() {
                    return None;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                sink.call(None, Op::Accept, "", Err(e.to_string()));
                let error = EngineError::io(Op::Accept, &target, &e);
                consecutive_errors += 1;
                // Out of file descriptors and similar: report, wait a moment (so this does not
                // spin), and keep serving the clients already connected.
                if consecutive_errors > 50 {
                    return Some(error);
                }
                sink.emit(EventKind::Error(error));
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}
