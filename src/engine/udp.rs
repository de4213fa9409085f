//! The UDP roles: independent datagrams, no connection; a receiver learns each sender from
//! `recvfrom`. A client sends to one target (optionally `connect`ed first); a server binds a port.
//!
//! Threads: the supervisor sends (UDP sends do not wait on a peer) and runs commands; a reader
//! blocks in `recvfrom`. The reader never waits for the owner: datagrams it cannot queue are
//! counted as "not shown".

use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{at, bounded, never, select};
use socket2::{SockRef, Socket, Type};

use super::autoreply::{AutoReply, AutoReplyView, set_auto_reply};
use super::capture::{CaptureConfig, CaptureWriter};
use super::error::{EngineError, Op};
use super::event::{DatagramBatch, EventKind, Payload, StopReason};
use super::file_send::{
    CancelToken, FileSource, FileStage, Progress, UDP_FILE_LIMIT, check_piece_size,
};
use super::generator::SequenceCheck;
use super::lookup::resolve;
use super::multicast::{
    self, Classifier, DEFAULT_SILENCE, Destination, DestinationKind, GroupJoin, JoinedGroup,
    MulticastEvent, SendOptions,
};
use super::options::{
    apply_buffer_sizes, bind, local_address, new_socket, self_address, set_option,
};
use super::session::{
    EventSink, QueueSizes, Session, SessionShared, Waker, WorkerCtx, add, lock, spawn_worker,
};
use super::template::Template;

/// Largest UDP payload over IPv4: 65,535 − 20 (IP header) − 8 (UDP header).
pub const MAX_PAYLOAD_V4: usize = 65_507;
/// Largest UDP payload over IPv6 without jumbograms: 65,535 − 8 (UDP header).
pub const MAX_PAYLOAD_V6: usize = 65_527;
/// Receive buffer asked for by default: the system default (about 208 KiB on Linux) loses
/// datagrams in bursts even for a raw loop.
pub const DEFAULT_RECV_BUFFER: usize = 4 * 1024 * 1024;
/// Most datagrams in one event.
const BATCH_MAX: usize = 64;
/// Most payload bytes in one event (one datagram may take it past this): with the event queue's
/// 1,024 slots, what an owner that stops draining can be made to hold stays near 128 MiB even
/// under a flood of 64 KiB datagrams (by count alone it would be 4 GiB).
pub(crate) const BATCH_MAX_BYTES: usize = 64 * 1024;
/// How long a reader waits for the next datagram while it holds something for the owner (a
/// "not shown" report that found the queue full, or a batch held back while the owner is behind)
/// before it hands that over anyway.
const HOLD_WAIT: Duration = Duration::from_millis(5);
/// Longest a batch is held back to fill up while the owner is behind.
const HOLD_MAX: Duration = Duration::from_millis(5);

/// The largest payload one datagram to `to` can carry, and the family's name.
pub fn max_payload(to: &SocketAddr) -> (usize, &'static str) {
    match to.ip() {
        IpAddr::V4(_) => (MAX_PAYLOAD_V4, "IPv4"),
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() => (MAX_PAYLOAD_V4, "IPv4"),
        IpAddr::V6(_) => (MAX_PAYLOAD_V6, "IPv6"),
    }
}

/// Checks that `len` bytes fit in one datagram to `to`: the error says the size, the limit and
/// what to do instead. The window checks before Send is pressed, the worker again before sending.
pub fn check_datagram_size(to: SocketAddr, len: usize) -> Result<(), EngineError> {
    let (limit, family) = max_payload(&to);
    if len > limit {
        return Err(EngineError::PayloadTooLarge {
            to,
            len,
            limit,
            family,
        });
    }
    Ok(())
}

/// The sentence for data that no datagram can carry, whatever the peer's family: `what` names it
/// (a file), `len` is its size when known (a stream that keeps going has none).
pub fn too_big_for_any_datagram(what: &str, len: Option<u64>) -> String {
    let size = len.map_or_else(
        || format!("holds more than {MAX_PAYLOAD_V6} bytes"),
        |n| format!("is {n} bytes"),
    );
    format!(
        "{what} {size}, but one UDP datagram can carry at most {MAX_PAYLOAD_V4} bytes over IPv4 and {MAX_PAYLOAD_V6} over IPv6. Send it in smaller pieces, or use TCP, which is a stream and has no such limit."
    )
}

/// How a UDP server binds.
#[derive(Debug, Clone)]
pub struct UdpServerConfig {
    /// Address to bind; `127.0.0.1` (the default) hears only this machine.
    pub bind: IpAddr,
    /// Port; 0 lets the system choose.
    pub port: u16,
    /// `SO_REUSEADDR` (for UDP this lets several sockets share a port; off by default).
    pub reuse_address: bool,
    /// `IPV6_V6ONLY` for an IPv6 socket; off hears IPv4 too.
    pub v6_only: bool,
    /// `SO_BROADCAST`: allow sending to broadcast addresses.
    pub broadcast: bool,
    /// `SO_RCVBUF` to ask for; the granted size is reported.
    pub recv_buffer: Option<usize>,
    /// Send every datagram straight back to its sender. When set, it wins over `auto_reply`.
    pub echo: bool,
    /// Reply rules (or echo) run by the reader; see [`AutoReply`].
    pub auto_reply: AutoReply,
    /// Write the payload of every datagram, in arrival order, to this file.
    pub capture: Option<CaptureConfig>,
    /// *Sequence check*: the reader feeds every datagram to this check (keep a clone to read
    /// its report); see [`crate::engine::generator`].
    pub sequence_check: Option<SequenceCheck>,
    /// Multicast groups to join right after `bind` (more with [`UdpCommand::Join`]). A join
    /// that fails stops the session: it was asked for, and without it nothing would arrive.
    pub groups: Vec<GroupJoin>,
    /// How long a session in groups may hear nothing from them before it says why that may be
    /// ([`MulticastEvent::Silence`]).
    pub silence_after: Duration,
    /// Queue sizes.
    pub queues: QueueSizes,
    /// Start in step mode: wait before each key socket call (see [`super::Session::next_call`]).
    pub step_mode: bool,
}

impl Default for UdpServerConfig {
    fn default() -> Self {
        UdpServerConfig {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            reuse_address: false,
            v6_only: false,
            broadcast: false,
            recv_buffer: Some(DEFAULT_RECV_BUFFER),
            echo: false,
            auto_reply: AutoReply::Off,
            capture: None,
            sequence_check: None,
            groups: Vec::new(),
            silence_after: DEFAULT_SILENCE,
            queues: QueueSizes::default(),
            step_mode: false,
        }
    }
}

/// How a UDP client sends.
#[derive(Debug, Clone)]
pub struct UdpClientConfig {
    /// Target host name or literal.
    pub host: String,
    /// Target port.
    pub port: u16,
    /// Local address to bind; `None` binds the unspecified address with port 0 (ephemeral).
    pub local: Option<SocketAddr>,
    /// Call `connect()` first: only the target's datagrams are received, and an ICMP
    /// "port unreachable" shows up as "connection refused".
    pub connect: bool,
    /// `SO_BROADCAST`.
    pub broadcast: bool,
    /// TTL, outgoing interface and multicast loopback.
    pub multicast: SendOptions,
    /// `SO_RCVBUF` to ask for.
    pub recv_buffer: Option<usize>,
    /// Queue sizes.
    pub queues: QueueSizes,
    /// Start in step mode: wait before each key socket call (see [`super::Session::next_call`]).
    pub step_mode: bool,
}

impl UdpClientConfig {
    /// A client for `host:port` with default options.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        UdpClientConfig {
            host: host.into(),
            port,
            local: None,
            connect: false,
            broadcast: false,
            multicast: SendOptions::default(),
            recv_buffer: Some(DEFAULT_RECV_BUFFER),
            queues: QueueSizes::default(),
            step_mode: false,
        }
    }
}

/// What a UDP session can be asked to do.
#[derive(Debug, Clone)]
pub enum UdpCommand {
    /// Client: send one datagram to the target.
    Send(Payload),
    /// Client: fill the template in (the session's next `{seq}` …) and send it to the target.
    SendTemplate(Arc<Template>),
    /// Fill the template in and send it to this address.
    SendTemplateTo(SocketAddr, Arc<Template>),
    /// Send one datagram to this address.
    SendTo(SocketAddr, Payload),
    /// Send one datagram to whoever sent the newest one.
    ReplyToLast(Payload),
    /// Turn echo mode on or off (off also ends reply rules).
    SetEcho(bool),
    /// Server: echo, reply by rules, or stop replying on our own.
    SetAutoReply(AutoReply),
    /// Server: join a multicast group (on an interface, from one source).
    Join(GroupJoin),
    /// Server: leave a group joined before (named as it was joined).
    Leave(GroupJoin),
    /// Send a file split into datagrams of `datagram_size` bytes (the last one may be shorter),
    /// from a thread of its own so the session keeps taking commands. See
    /// [`crate::engine::file_send`] for the limits.
    SendFile {
        /// The file.
        path: PathBuf,
        /// Payload bytes per datagram: 1 to 65,507 (IPv4) or 65,527 (IPv6).
        datagram_size: usize,
        /// The receiver; `None` means the client's target (a server must name one).
        to: Option<SocketAddr>,
        /// A pause after each datagram, so a receiver that reads slower than we send is not
        /// flooded (UDP has no flow control). Zero sends as fast as the socket takes them.
        gap: Duration,
    },
}

/// A running UDP session (client or server).
pub type UdpSession = Session<UdpCommand>;

/// Starts a UDP server.
pub fn start_server(config: UdpServerConfig, waker: Waker) -> UdpSession {
    let name = format!("udp-server {}", SocketAddr::new(config.bind, config.port));
    Session::spawn_stepped(name, config.queues, config.step_mode, waker, move |ctx| {
        ctx.shared.auto_reply.set(if config.echo {
            AutoReply::Echo
        } else {
            config.auto_reply.clone()
        });
        let setup = Setup {
            local: SocketAddr::new(config.bind, config.port),
            reuse_address: config.reuse_address,
            v6_only: Some(config.v6_only),
            broadcast: config.broadcast,
            recv_buffer: config.recv_buffer,
            target: None,
            connect: false,
            sequence: config.sequence_check.clone(),
            groups: config.groups.clone(),
            silence_after: config.silence_after,
            send: SendOptions::default(),
            server: true,
        };
        run(&ctx, &setup, config.capture.as_ref());
    })
}

/// Starts a UDP client.
pub fn start_client(config: UdpClientConfig, waker: Waker) -> UdpSession {
    let name = format!("udp-client {}:{}", config.host, config.port);
    Session::spawn_stepped(name, config.queues, config.step_mode, waker, move |ctx| {
        let sink = &ctx.sink;
        let args = format!("\"{}\", {}, SOCK_DGRAM", config.host, config.port);
        let target = match resolve(&config.host, config.port) {
            Ok(addrs) => {
                let list: Vec<String> = addrs.iter().map(ToString::to_string).collect();
                sink.call(None, Op::GetAddrInfo, args, Ok(list.join(", ")));
                addrs[0]
            }
            Err(e) => {
                sink.call(None, Op::GetAddrInfo, args, Err(e.to_string()));
                sink.emit(EventKind::Stopped {
                    reason: StopReason::Failed(e),
                });
                return;
            }
        };
        let unspecified = if target.is_ipv4() {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        } else {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        };
        let setup = Setup {
            local: config.local.unwrap_or(SocketAddr::new(unspecified, 0)),
            reuse_address: false,
            v6_only: None,
            broadcast: config.broadcast,
            recv_buffer: config.recv_buffer,
            target: Some(target),
            connect: config.connect,
            sequence: None,
            groups: Vec::new(),
            silence_after: DEFAULT_SILENCE,
            send: config.multicast.clone(),
            server: false,
        };
        run(&ctx, &setup, None);
    })
}

struct Setup {
    local: SocketAddr,
    reuse_address: bool,
    v6_only: Option<bool>,
    broadcast: bool,
    recv_buffer: Option<usize>,
    target: Option<SocketAddr>,
    connect: bool,
    sequence: Option<SequenceCheck>,
    groups: Vec<GroupJoin>,
    silence_after: Duration,
    send: SendOptions,
    /// A server asks for each datagram's destination.
    server: bool,
}

fn open(sink: &EventSink, setup: &Setup) -> Result<(Socket, SocketAddr), EngineError> {
    let mut addr = setup.local;
    let socket = new_socket(sink, None, &addr, Type::DGRAM)?;
    if setup.reuse_address {
        set_option(
            sink,
            None,
            &addr,
            "SO_REUSEADDR",
            1,
            socket.set_reuse_address(true),
        )?;
    }
    if let (Some(v6_only), true) = (setup.v6_only, addr.is_ipv6()) {
        set_option(
            sink,
            None,
            &addr,
            "IPV6_V6ONLY",
            u8::from(v6_only),
            socket.set_only_v6(v6_only),
        )?;
    }
    if setup.broadcast {
        set_option(
            sink,
            None,
            &addr,
            "SO_BROADCAST",
            1,
            socket.set_broadcast(true),
        )?;
    }
    apply_buffer_sizes(sink, None, &socket, &addr, setup.recv_buffer, None)?;
    if let Some(target) = setup.target
        && !setup.send.is_default()
        && let Some(on_interface) =
            multicast::prepare_sender(sink, &socket, addr, target, &setup.send)?
    {
        if !addr.ip().is_unspecified() {
            return Err(EngineError::BadInterface {
                interface: setup.send.interface.clone().unwrap_or_default(),
                why: format!(
                    "choose either a local address ({}) or an interface to send from, not both: the interface's address is the local address",
                    addr.ip()
                ),
            });
        }
        addr = on_interface;
    }
    bind(sink, &socket, &addr)?;
    if let (Some(target), true) = (setup.target, setup.connect) {
        sink.before(Op::Connect, target.to_string())?;
        sink.report(
            None,
            Op::Connect,
            target.to_string(),
            target,
            socket.connect(&target.into()),
            |()| "peer fixed; no packet sent".to_owned(),
        )?;
    }
    let local = local_address(sink, None, &socket, &addr)?;
    Ok((socket, local))
}

#[allow(
    clippy::too_many_lines,
    reason = "the worker's loop owns its socket from open to close; split it in the engine's own refactor, which runs in parallel with this one"
)]
fn run(ctx: &WorkerCtx<UdpCommand>, setup: &Setup, capture: Option<&CaptureConfig>) {
    let sink = &ctx.sink;
    // The file is created only once the socket is bound, so a failed bind leaves no empty file.
    let opened = open(sink, setup).and_then(|(socket, local)| {
        let joined = join_all(sink, &socket, local, &setup.groups)?;
        let capture = capture.map(|c| c.open(&c.path)).transpose()?;
        Ok((socket, local, joined, capture))
    });
    let (socket, local, mut joined, capture) = match opened {
        Ok(s) => s,
        Err(e) => {
            sink.ok(None, Op::Close, "");
            sink.emit(EventKind::Stopped {
                reason: StopReason::after_setup(e),
            });
            return;
        }
    };
    let socket: UdpSocket = socket.into();
    *lock(&ctx.shared.local_addr) = Some(local);
    let connected_peer = setup.target.filter(|_| setup.connect);
    // Each datagram's destination (group, broadcast, this host) where the system tells it.
    let destinations = setup.server && multicast::enable_destination(sink, &socket, local);
    let heard = Arc::new(AtomicU64::new(0));
    sink.emit(EventKind::Ready {
        local,
        peer: connected_peer,
    });
    // After `Ready`: the joins belong to a socket the owner has been told about.
    for group in &joined {
        sink.emit(EventKind::Multicast(Box::new(MulticastEvent::Joined(
            group.clone(),
        ))));
    }

    let last_sender = Arc::new(Mutex::new(None));
    let (done_tx, done_rx) = bounded::<Option<EngineError>>(1);
    let reader = match socket.try_clone() {
        Ok(reader_socket) => {
            let sink = sink.clone();
            let shared = Arc::clone(&ctx.shared);
            let last = Arc::clone(&last_sender);
            let done = done_tx.clone();
            let sequence = setup.sequence.clone();
            let inbox = Inbox {
                connected_peer,
                control: destinations.then(multicast::control_buffer),
                classifier: destinations.then(Classifier::new),
                heard: Arc::clone(&heard),
            };
            spawn_worker(
                format!("udp-recv {local}"),
                &ctx.sink,
                move || {
                    let error = read_loop(
                        &sink,
                        &shared,
                        &reader_socket,
                        inbox,
                        &last,
                        capture,
                        sequence,
                    );
                    let _ = done.send(error);
                },
                move |e| {
                    let _ = done_tx.try_send(Some(e.clone()));
                    EventKind::Error(e)
                },
            )
        }
        Err(e) => {
            let _ = done_tx.send(Some(EngineError::io(Op::Socket, local, &e)));
            None
        }
    };

    let sender = Sender {
        sink,
        shared: &ctx.shared,
        socket: &socket,
        connected: connected_peer.is_some(),
    };
    let mut file_thread: Option<JoinHandle<()>> = None;
    let mut quiet = Quiet::new(setup.silence_after, &heard);
    let reason = loop {
        let silence_timer = if joined.is_empty() {
            never()
        } else {
            at(quiet.next_look())
        };
        select! {
            recv(ctx.commands) -> cmd => {
                let Ok(cmd) = cmd else { break StopReason::Requested };
                let result = match cmd {
                    UdpCommand::SendFile { path, datagram_size, to, gap } => {
                        let to = to.or(setup.target);
                        match to {
                            Some(to) => start_file_send(
                                ctx,
                                &socket,
                                connected_peer.is_some(),
                                &mut file_thread,
                                FileJob { path, datagram_size, to, gap },
                            ),
                            None => Err(EngineError::NotNow {
                                op: Op::SendTo,
                                why: "a server has no fixed target; choose an address to send the file to".to_owned(),
                            }),
                        }
                    }
                    UdpCommand::Send(data) => match setup.target {
                        Some(to) => sender.send(to, &data),
                        None => Err(EngineError::NotNow {
                            op: Op::SendTo,
                            why: "a server has no fixed target; choose an address to send to".to_owned(),
                        }),
                    },
                    UdpCommand::SendTo(to, data) => sender.send(to, &data),
                    UdpCommand::SendTemplate(template) => match setup.target {
                        Some(to) => sender.send(to, &Payload::from(ctx.shared.templates.render(&template))),
                        None => Err(EngineError::NotNow {
                            op: Op::SendTo,
                            why: "a server has no fixed target; choose an address to send to".to_owned(),
                        }),
                    },
                    UdpCommand::SendTemplateTo(to, template) => {
                        sender.send(to, &Payload::from(ctx.shared.templates.render(&template)))
                    }
                    UdpCommand::ReplyToLast(data) => match *lock(&last_sender) {
                        Some(to) => sender.send(to, &data),
                        None => Err(EngineError::NotNow {
                            op: Op::SendTo,
                            why: "no datagram has arrived yet, so there is nobody to reply to".to_owned(),
                        }),
                    },
                    UdpCommand::SetEcho(on) => {
                        set_auto_reply(sink, &ctx.shared, if on { AutoReply::Echo } else { AutoReply::Off });
                        Ok(())
                    }
                    UdpCommand::SetAutoReply(auto) => {
                        set_auto_reply(sink, &ctx.shared, auto);
                        Ok(())
                    }
                    UdpCommand::Join(join) => join_one(sink, &socket, local, &mut joined, &join)
                        .map(|()| quiet.restart(&heard)),
                    UdpCommand::Leave(join) => leave_one(sink, &socket, &mut joined, &join),
                };
                if let Err(e) = result {
                    sink.emit(EventKind::Error(e));
                }
            },
            recv(done_rx) -> error => {
                break match error {
                    Ok(Some(e)) => StopReason::Failed(e),
                    _ => StopReason::Requested,
                };
            },
            recv(silence_timer) -> _ => {
                if let Some(waited) = quiet.look(&heard) {
                    let interfaces = multicast::interfaces().unwrap_or_default();
                    let causes = multicast::diagnose(local, &joined, &interfaces);
                    sink.emit(EventKind::Multicast(Box::new(MulticastEvent::Silence { waited, causes })));
                }
            },
            recv(ctx.stop) -> _ => break StopReason::Requested,
            recv(sink.abort_signal()) -> _ => break StopReason::Requested,
        }
    };

    ctx.shared.stopping.store(true, Ordering::Release);
    wake_reader(&socket, local, connected_peer.is_some() || destinations);
    if let Some(handle) = reader {
        let _ = handle.join();
    }
    // The file thread looks at `stopping` between datagrams and ends with `Cancelled`.
    if let Some(handle) = file_thread {
        let _ = handle.join();
    }
    drop(socket);
    sink.ok(None, Op::Close, "");
    sink.emit(EventKind::Stopped { reason });
}

/// Makes the reader's blocked receive return. A connected socket is shut down for reading, which
/// wakes it and makes `recv` return 0; so is a socket read with `recvmsg`, which returns no
/// sender then (it may be bound to a group no wake-up datagram could reach). Other unconnected
/// ones get an empty datagram from loopback instead: `recvfrom` on a shut-down socket returns no
/// sender address, which the standard library does not expect (it reports an error, or asserts),
/// and the datagram works on every system. The reader checks `stopping` after every receive, so
/// it ends either way.
fn wake_reader(socket: &UdpSocket, local: SocketAddr, shut_down: bool) {
    if shut_down {
        let _ = SockRef::from(socket).shutdown(Shutdown::Read);
        // Not every system wakes an unconnected socket by shutting it down.
        if local.ip().is_multicast() {
            return;
        }
    }
    let from: SocketAddr = if local.is_ipv4() {
        (Ipv4Addr::LOCALHOST, 0).into()
    } else {
        (Ipv6Addr::LOCALHOST, 0).into()
    };
    if let Ok(waker) = UdpSocket::bind(from) {
        let _ = waker.send_to(&[], self_address(local));
    }
}

/// Joins the groups asked for at the start; the first failure ends the session.
fn join_all(
    sink: &EventSink,
    socket: &Socket,
    local: SocketAddr,
    groups: &[GroupJoin],
) -> Result<Vec<JoinedGroup>, EngineError> {
    let mut joined = Vec::new();
    for join in groups {
        join_group(sink, socket, local, &mut joined, join)?;
    }
    Ok(joined)
}

fn join_group(
    sink: &EventSink,
    socket: &Socket,
    local: SocketAddr,
    joined: &mut Vec<JoinedGroup>,
    join: &GroupJoin,
) -> Result<(), EngineError> {
    if joined.iter().any(|g| g.join == *join) {
        return Err(EngineError::NotNow {
            op: Op::SetSockOpt,
            why: format!("{join} is joined already"),
        });
    }
    let interfaces = if join.interface.is_some() {
        multicast::interfaces().map_err(|e| EngineError::io(Op::SetSockOpt, join, &e))?
    } else {
        Vec::new()
    };
    let resolved = join.resolve(&interfaces)?;
    multicast::join(sink, socket, local, &resolved, joined.is_empty())?;
    joined.push(resolved);
    Ok(())
}

fn join_one(
    sink: &EventSink,
    socket: &UdpSocket,
    local: SocketAddr,
    joined: &mut Vec<JoinedGroup>,
    join: &GroupJoin,
) -> Result<(), EngineError> {
    join_group(sink, &SockRef::from(socket), local, joined, join)?;
    if let Some(group) = joined.last() {
        sink.emit(EventKind::Multicast(Box::new(MulticastEvent::Joined(
            group.clone(),
        ))));
    }
    Ok(())
}

fn leave_one(
    sink: &EventSink,
    socket: &UdpSocket,
    joined: &mut Vec<JoinedGroup>,
    join: &GroupJoin,
) -> Result<(), EngineError> {
    let Some(at) = joined.iter().position(|g| g.join == *join) else {
        return Err(EngineError::NotNow {
            op: Op::SetSockOpt,
            why: format!("{join} is not one of the session's groups"),
        });
    };
    multicast::leave(sink, &SockRef::from(socket), &joined[at])?;
    let left = joined.remove(at);
    sink.emit(EventKind::Multicast(Box::new(MulticastEvent::Left(left))));
    Ok(())
}

/// When a session in groups has heard nothing from them for long enough. It looks at the
/// reader's count once per period (no polling in between), says so once per silence, and starts
/// again after a join or when something arrives.
struct Quiet {
    period: Duration,
    since: Instant,
    count: u64,
    said: bool,
    next: Instant,
}

impl Quiet {
    fn new(period: Duration, heard: &AtomicU64) -> Self {
        let now = Instant::now();
        Quiet {
            period,
            since: now,
            count: heard.load(Ordering::Relaxed),
            said: false,
            next: now + period,
        }
    }

    fn restart(&mut self, heard: &AtomicU64) {
        *self = Quiet::new(self.period, heard);
    }

    fn next_look(&self) -> Instant {
        self.next
    }

    /// Looks at the count: how long it has been silent, when that is to be said now.
    fn look(&mut self, heard: &AtomicU64) -> Option<Duration> {
        let now = Instant::now();
        self.next = now + self.period;
        let count = heard.load(Ordering::Relaxed);
        if count != self.count {
            self.count = count;
            self.since = now;
            self.said = false;
            return None;
        }
        if self.said || now.duration_since(self.since) < self.period {
            return None;
        }
        self.said = true;
        Some(now.duration_since(self.since))
    }
}

/// A UDP file send as asked for.
struct FileJob {
    path: PathBuf,
    datagram_size: usize,
    to: SocketAddr,
    gap: Duration,
}

/// Checks the request and starts the file's thread. One file at a time per session: two would
/// interleave their datagrams, which no receiver could tell apart.
fn start_file_send(
    ctx: &WorkerCtx<UdpCommand>,
    socket: &UdpSocket,
    connected: bool,
    file_thread: &mut Option<JoinHandle<()>>,
    job: FileJob,
) -> Result<(), EngineError> {
    if file_thread.as_ref().is_some_and(|h| !h.is_finished()) {
        return Err(EngineError::NotNow {
            op: Op::SendTo,
            why: "a file is being sent already; cancel it or wait until it has gone out".to_owned(),
        });
    }
    if let Some(done) = file_thread.take() {
        let _ = done.join();
    }
    check_piece_size(job.datagram_size, &job.to)?;
    let source = FileSource::open(&job.path, job.to)?;
    if source.total > UDP_FILE_LIMIT {
        return Err(EngineError::UdpFileTooLarge {
            path: job.path.display().to_string(),
            len: source.total,
            limit: UDP_FILE_LIMIT,
        });
    }
    let clone = socket
        .try_clone()
        .map_err(|e| EngineError::io(Op::Socket, job.to, &e))?;
    let token = CancelToken::now(&ctx.shared.file_cancel);
    let sink = ctx.sink.clone();
    let shared = Arc::clone(&ctx.shared);
    *file_thread = spawn_worker(
        format!("udp-file-send {}", job.to),
        &ctx.sink,
        move || send_datagrams(&sink, &shared, &clone, connected, source, &job, token),
        EventKind::Error,
    );
    Ok(())
}

/// Sends the file as datagrams of `job.datagram_size` bytes, counting each as it goes out.
fn send_datagrams(
    sink: &EventSink,
    shared: &SessionShared,
    socket: &UdpSocket,
    connected: bool,
    mut source: FileSource,
    job: &FileJob,
    token: CancelToken,
) {
    let to = job.to;
    let mut progress = Progress::start(sink, None, to, &source);
    let mut buf = vec![0_u8; job.datagram_size];
    loop {
        if token.is_cancelled(&shared.file_cancel) || shared.is_stopping() {
            return progress.finish(sink, FileStage::Cancelled);
        }
        let n = match source.fill(&mut buf) {
            Ok(0) => return progress.finish(sink, FileStage::Finished),
            Ok(n) => n,
            Err(e) => return progress.fail(sink, "read", &e),
        };
        let data = &buf[..n];
        let (step, result) = if connected {
            (
                "send",
                retry_would_block(&shared.stopping, || socket.send(data)),
            )
        } else {
            (
                "sendto",
                retry_would_block(&shared.stopping, || socket.send_to(data, to)),
            )
        };
        match result {
            Ok(_) => {
                add(&shared.counters.datagrams_out, 1);
                add(&shared.counters.bytes_out, n);
                progress.advance(sink, data, true);
            }
            Err(e) => {
                sink.call(
                    None,
                    if connected { Op::Send } else { Op::SendTo },
                    format!("{n} bytes, {to}"),
                    Err(e.to_string()),
                );
                return progress.fail(sink, step, &e);
            }
        }
        if !job.gap.is_zero() {
            std::thread::sleep(job.gap);
        }
    }
}

struct Sender<'a> {
    sink: &'a EventSink,
    shared: &'a SessionShared,
    socket: &'a UdpSocket,
    connected: bool,
}

impl Sender<'_> {
    fn send(&self, to: SocketAddr, data: &Payload) -> Result<(), EngineError> {
        check_datagram_size(to, data.len())?;
        let (op, result) = if self.connected {
            (
                Op::Send,
                retry_would_block(&self.shared.stopping, || self.socket.send(data)),
            )
        } else {
            (
                Op::SendTo,
                retry_would_block(&self.shared.stopping, || self.socket.send_to(data, to)),
            )
        };
        match result {
            Ok(_) => {
                add(&self.shared.counters.datagrams_out, 1);
                add(&self.shared.counters.bytes_out, data.len());
                self.sink.emit(EventKind::DatagramSent {
                    to,
                    data: Arc::clone(data),
                });
                Ok(())
            }
            Err(e) => {
                self.sink.call(
                    None,
                    op,
                    format!("{} bytes, {to}", data.len()),
                    Err(e.to_string()),
                );
                Err(EngineError::io(op, to, &e))
            }
        }
    }
}

/// The reader briefly switches the shared socket to non-blocking to drain a burst; a send that
/// lands in that window and finds the send buffer full is simply tried again.
fn retry_would_block(
    stopping: &std::sync::atomic::AtomicBool,
    mut send: impl FnMut() -> std::io::Result<usize>,
) -> std::io::Result<usize> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match send() {
            Err(e)
                if e.kind() == ErrorKind::WouldBlock
                    && Instant::now() < deadline
                    && !stopping.load(Ordering::Relaxed) =>
            {
                std::thread::sleep(Duration::from_micros(50));
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

struct Reader<'a> {
    sink: &'a EventSink,
    shared: &'a SessionShared,
    socket: &'a UdpSocket,
    batch: DatagramBatch,
    not_shown: (u64, u64),
    /// Datagrams taken since the reader started.
    datagrams_taken: u64,
    capture: Option<CaptureWriter>,
    /// A capture write that failed: the session ends with it rather than lose bytes silently.
    capture_error: Option<EngineError>,
    /// The session's auto-reply as this reader last saw it.
    auto_reply: AutoReplyView,
    /// Replies sent by rules since the last batch was handed over (at most one per datagram of
    /// the batch), shown after it.
    rule_replies: Vec<(SocketAddr, Payload)>,
    /// The session's sequence check, fed before anything can drop a datagram from view.
    sequence: Option<SequenceCheck>,
}

impl Reader<'_> {
    fn take(&mut self, data: &[u8], peer: SocketAddr, to: Option<Destination>) {
        self.datagrams_taken += 1;
        let counters = &self.shared.counters;
        add(&counters.datagrams_in, 1);
        add(&counters.bytes_in, data.len());
        let now = SystemTime::now();
        if let Some(check) = &self.sequence {
            check.observe(peer, data, now);
        }
        self.batch.push_to(now, peer, data, to);
        let (reply, is_echo) = match self.auto_reply.get(&self.shared.auto_reply) {
            None => return,
            Some(AutoReply::Echo) => {
                self.batch.echoed = true;
                (std::borrow::Cow::Borrowed(data), true)
            }
            Some(auto) => match auto.reply_for(data, &self.shared.templates) {
                Some(reply) => (reply, false),
                None => return,
            },
        };
        {
            let reply: &[u8] = &reply;
            match retry_would_block(&self.shared.stopping, || self.socket.send_to(reply, peer)) {
                Ok(_) => {
                    add(&counters.datagrams_out, 1);
                    add(&counters.bytes_out, reply.len());
                    if !is_echo {
                        // A rule's reply differs from what came in, so it is shown on its own,
                        // after the batch that holds the datagram it answers.
                        self.rule_replies.push((peer, Payload::from(reply)));
                    }
                }
                Err(e) => {
                    self.sink
                        .try_emit(EventKind::Error(EngineError::io(Op::SendTo, peer, &e)))
                        .ok();
                }
            }
        }
    }

    /// Writes the batch to the capture file before anything can drop it from view. Flushed per
    /// batch: datagrams come with pauses between, and the file should be current.
    fn capture_batch(&mut self) {
        let Some(file) = self.capture.as_mut() else {
            return;
        };
        if self.batch.is_empty() {
            return;
        }
        let written = self
            .batch
            .iter()
            .try_for_each(|d| file.write(d.data))
            .and_then(|()| file.flush());
        if let Err(e) = written {
            self.capture = None;
            self.capture_error = Some(e);
        }
    }

    /// Hands the batch to the owner if there is room; otherwise counts it as not shown.
    fn flush(&mut self, last_sender: &Mutex<Option<SocketAddr>>) {
        self.capture_batch();
        if self.batch.is_empty() {
            self.report_not_shown();
            return;
        }
        if let Some(peer) = self.batch.last_peer() {
            *lock(last_sender) = Some(peer);
        }
        self.report_not_shown();
        let batch = std::mem::take(&mut self.batch);
        let shown = self.sink.try_emit(EventKind::Datagrams(batch));
        for (to, data) in self.rule_replies.drain(..) {
            // Counted already; like the datagrams, the view skips them when the owner is behind.
            let _ = self.sink.try_emit(EventKind::DatagramSent { to, data });
        }
        if let Err(EventKind::Datagrams(lost)) = shown {
            let counters = &self.shared.counters;
            add(&counters.not_shown_datagrams, lost.len());
            add(&counters.not_shown_bytes, lost.total_bytes());
            self.not_shown.0 += lost.len() as u64;
            self.not_shown.1 += lost.total_bytes() as u64;
        }
    }

    /// Tells the owner how many datagrams it missed since the last report, if there is room now.
    fn report_not_shown(&mut self) {
        if self.not_shown.0 > 0 {
            let (datagrams, bytes) = self.not_shown;
            if self
                .sink
                .try_emit(EventKind::NotShown { datagrams, bytes })
                .is_ok()
            {
                self.not_shown = (0, 0);
            }
        }
    }

    /// True when the batch should go to the owner without taking more.
    fn batch_full(&self) -> bool {
        self.batch.len() >= BATCH_MAX || self.batch.total_bytes() >= BATCH_MAX_BYTES
    }

    /// True while the owner has not yet been told about datagrams it missed.
    fn report_pending(&self) -> bool {
        self.not_shown.0 > 0
    }

    /// Reports a receive error; returns true if reading can go on.
    fn error(&mut self, e: &std::io::Error, local: SocketAddr) -> bool {
        // An ICMP "port unreachable" for an earlier send: the socket itself is fine.
        let recoverable = matches!(
            e.kind(),
            ErrorKind::ConnectionRefused | ErrorKind::ConnectionReset | ErrorKind::Interrupted
        );
        if e.kind() != ErrorKind::Interrupted {
            self.sink
                .try_emit(EventKind::Call(super::event::SocketCall {
                    conn: None,
                    op: Op::RecvFrom,
                    args: String::new(),
                    outcome: Err(e.to_string()),
                }))
                .ok();
            if recoverable {
                let target = self
                    .socket
                    .peer_addr()
                    .map_or_else(|_| local.to_string(), |p| p.to_string());
                self.sink
                    .emit(EventKind::Error(EngineError::io(Op::RecvFrom, target, e)));
            }
        }
        recoverable
    }
}

/// How the reader takes datagrams: with their destination (`recvmsg` and `IP_PKTINFO`) or
/// without, and the count the supervisor's silence check reads.
struct Inbox {
    connected_peer: Option<SocketAddr>,
    /// The control-message buffer, when each datagram's destination is asked for.
    control: Option<Vec<u8>>,
    classifier: Option<Classifier>,
    /// Datagrams to a group (or to an address not known, where the system cannot tell).
    heard: Arc<AtomicU64>,
}

impl Inbox {
    /// One datagram, its sender and where it was sent. A connected socket hears only its peer,
    /// so it uses `recv`, which also returns cleanly (0 bytes) once the socket is shut down to
    /// stop the reader.
    fn receive(
        &mut self,
        socket: &UdpSocket,
        buf: &mut [u8],
    ) -> std::io::Result<(usize, SocketAddr, Option<Destination>)> {
        let (n, peer, to) = match (self.connected_peer, self.control.as_mut()) {
            (Some(peer), _) => (socket.recv(buf)?, peer, None),
            (None, Some(control)) => {
                let (n, peer, to) = multicast::recv_with_destination(socket, buf, control)?;
                // No sender: the socket was shut down to stop this reader.
                let peer = peer.unwrap_or_else(|| (Ipv4Addr::UNSPECIFIED, 0).into());
                let to = match (to, self.classifier.as_mut()) {
                    (Some((addr, index)), Some(c)) => Some(c.classify(addr, index)),
                    _ => None,
                };
                (n, peer, to)
            }
            (None, None) => {
                let (n, peer) = socket.recv_from(buf)?;
                (n, peer, None)
            }
        };
        if to.is_none_or(|d| d.kind == DestinationKind::Group) {
            self.heard.fetch_add(1, Ordering::Relaxed);
        }
        Ok((n, peer, to))
    }
}

/// Where [`take_waiting`] puts the datagrams it takes in one `recvmmsg` burst (Linux).
#[cfg(target_os = "linux")]
type Waiting = super::udp_burst::Burst;
/// Elsewhere the datagrams are taken one at a time into the reader's own buffer.
#[cfg(not(target_os = "linux"))]
struct Waiting;

#[cfg(not(target_os = "linux"))]
impl Waiting {
    fn new() -> Self {
        Waiting
    }
}

/// Takes the datagrams already waiting, without waiting for more, until the batch is full:
/// one event for a burst. Returns an error to report after the batch. A burst is one `recvmmsg`
/// call; a socket that asks for each datagram's destination (`IP_PKTINFO`) takes them one
/// `recvmsg` at a time, as everywhere without `recvmmsg`.
fn take_waiting(
    reader: &mut Reader<'_>,
    waiting: &mut Waiting,
    socket: &UdpSocket,
    inbox: &mut Inbox,
    buf: &mut [u8],
    last_sender: &Mutex<Option<SocketAddr>>,
) -> Option<std::io::Error> {
    #[cfg(target_os = "linux")]
    if inbox.control.is_none() {
        return take_burst(reader, waiting, socket, inbox, last_sender);
    }
    let _ = (waiting, last_sender);
    take_one_by_one(reader, socket, inbox, buf)
}

/// [`take_waiting`] with `recvmmsg`.
#[cfg(target_os = "linux")]
fn take_burst(
    reader: &mut Reader<'_>,
    burst: &mut Waiting,
    socket: &UdpSocket,
    inbox: &Inbox,
    last_sender: &Mutex<Option<SocketAddr>>,
) -> Option<std::io::Error> {
    while !reader.batch_full() {
        let room = BATCH_MAX.saturating_sub(reader.batch.len());
        let n = match burst.take_waiting(socket, room) {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return None,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Some(e),
        };
        for i in 0..n {
            // The stop's wake-up datagram is not data.
            if reader.shared.is_stopping() {
                return None;
            }
            let (data, peer) = burst.datagram(i);
            // A datagram always has a sender over IPv4 and IPv6; were one missing, it would
            // still be counted, under the unspecified address.
            let peer = peer
                .or(inbox.connected_peer)
                .unwrap_or_else(|| SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)));
            // No destination is asked for: every datagram counts as heard (see `Inbox::receive`).
            inbox.heard.fetch_add(1, Ordering::Relaxed);
            reader.take(data, peer, None);
            // A burst of large datagrams ends the batch at its byte limit; the rest start the next.
            if reader.batch_full() && i + 1 < n {
                reader.flush(last_sender);
            }
        }
        if n < room {
            return None;
        }
    }
    None
}

/// [`take_waiting`] one datagram at a time, the socket switched to non-blocking meanwhile.
fn take_one_by_one(
    reader: &mut Reader<'_>,
    socket: &UdpSocket,
    inbox: &mut Inbox,
    buf: &mut [u8],
) -> Option<std::io::Error> {
    if socket.set_nonblocking(true).is_err() {
        return None;
    }
    let mut pending_error = None;
    while !reader.batch_full() {
        match inbox.receive(socket, buf) {
            // The stop's wake-up datagram is not data.
            Ok(_) if reader.shared.is_stopping() => break,
            Ok((n, peer, to)) => reader.take(&buf[..n], peer, to),
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => {
                pending_error = Some(e);
                break;
            }
        }
    }
    let _ = socket.set_nonblocking(false);
    pending_error
}

fn read_loop(
    sink: &EventSink,
    shared: &SessionShared,
    socket: &UdpSocket,
    mut inbox: Inbox,
    last_sender: &Mutex<Option<SocketAddr>>,
    capture: Option<CaptureWriter>,
    sequence: Option<SequenceCheck>,
) -> Option<EngineError> {
    let local = socket
        .local_addr()
        .unwrap_or_else(|_| (Ipv4Addr::UNSPECIFIED, 0).into());
    let mut reader = Reader {
        sink,
        shared,
        socket,
        batch: DatagramBatch::default(),
        not_shown: (0, 0),
        datagrams_taken: 0,
        capture,
        capture_error: None,
        auto_reply: AutoReplyView::default(),
        rule_replies: Vec::new(),
        sequence,
    };
    // Large enough for any datagram, so none is ever cut short.
    let mut buf = vec![0_u8; 65_536];
    let mut waiting = Waiting::new();
    // While something waits to be handed over, the next datagram is waited for only briefly: it
    // may never come, and the owner must still get the held batch or "not shown" report.
    let mut wait_is_short = false;
    let mut held_since: Option<Instant> = None;
    let mut empty_looks = 0_u32;
    loop {
        if let Some(e) = reader.capture_error.take() {
            return Some(e);
        }
        let holding = held_since.is_some() || reader.report_pending();
        if holding != wait_is_short {
            wait_is_short = holding;
            let _ = socket.set_read_timeout(holding.then_some(HOLD_WAIT));
        }
        let first = inbox.receive(socket, &mut buf);
        if shared.is_stopping() {
            // A held batch is handed over (or counted as not shown), never silently dropped.
            reader.flush(last_sender);
            return None;
        }
        match first {
            Ok((n, peer, to)) => reader.take(&buf[..n], peer, to),
            Err(e)
                if wait_is_short
                    && matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
            {
                reader.flush(last_sender);
                held_since = None;
                continue;
            }
            Err(e) => {
                if reader.error(&e, local) {
                    continue;
                }
                return Some(EngineError::io(Op::RecvFrom, local, &e));
            }
        }
        // An owner that keeps up gets the first datagram at once (a reply in a ping-pong must not
        // wait for the burst check below); the rest of a burst then follows in one event.
        if held_since.is_none() && !sink.owner_behind() {
            reader.flush(last_sender);
        }
        // Take whatever else is already waiting, without waiting for more: one event for a burst.
        // When datagrams come one at a time (request and reply), that look costs a system call
        // (three without `recvmmsg`) and finds nothing; after a few such looks, only every
        // eighth datagram looks.
        let mut pending_error = None;
        let look = empty_looks < 4 || empty_looks.is_multiple_of(8) || sink.owner_behind();
        if look {
            let taken_before = reader.datagrams_taken;
            pending_error = take_waiting(
                &mut reader,
                &mut waiting,
                socket,
                &mut inbox,
                &mut buf,
                last_sender,
            );
            empty_looks = if reader.datagrams_taken > taken_before {
                0
            } else {
                empty_looks.wrapping_add(1)
            };
        } else {
            empty_looks = empty_looks.wrapping_add(1);
        }
        // An owner that is behind (it drains once per frame) gets fuller batches, so a burst of
        // small events does not fill its queue and push datagrams out of view.
        if pending_error.is_none() && !reader.batch_full() && sink.owner_behind() {
            let since = *held_since.get_or_insert_with(Instant::now);
            if since.elapsed() < HOLD_MAX {
                continue;
            }
        }
        held_since = None;
        reader.flush(last_sender);
        if shared.is_stopping() {
            return None;
        }
        if let Some(e) = pending_error
            && !reader.error(&e, local)
        {
            return Some(EngineError::io(Op::RecvFrom, local, &e));
        }
    }
}
