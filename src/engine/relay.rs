//! The Relay session: a network that misbehaves on purpose. It listens on one address and
//! forwards to another, over UDP or TCP, with delay and jitter, loss, duplication, reordering
//! and a bandwidth limit, all decided by a seeded random generator so a run can be repeated.
//!
//! **UDP**: the knobs act on each datagram, in both directions. Each client address gets a socket
//! of its own towards the target, so the target's replies come back to that client. A datagram
//! is dropped (loss), sent twice (duplication), held back until the next one of its flow has gone
//! first (reordering, released alone after [`REORDER_HOLD`] if no other comes), or delayed
//! (delay ± jitter, then queued for the bandwidth limit). Held datagrams wait in a queue of
//! [`RelayConfig::queue_limit`] datagrams per direction; what does not fit is dropped and
//! counted apart from loss, like a router's full queue.
//!
//! **TCP**: the relay can delay, throttle and stall the stream, but it cannot lose, duplicate or
//! reorder bytes: the kernel's TCP below it has already recovered any loss before the relay reads
//! a byte, and what the relay writes is again delivered whole and in order. Loss, duplication and
//! reordering knobs are reported as not applying ([`RelayEvent::StreamKnobsIgnored`]). Each
//! direction holds at most [`RelayConfig::tcp_buffer`] bytes; beyond it the relay stops reading,
//! and TCP flow control slows the sender.
//!
//! Counters ([`Relay::counters`]) are exact, per direction: for UDP, at every moment
//! `received + duplicated = forwarded + dropped + in flight`. Stop ends every thread at once;
//! what was still held then is counted as discarded.

use std::collections::{BinaryHeap, HashMap};
use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded, never, select};
use socket2::{Socket, Type};

use super::error::{EngineError, Op};
use super::event::{CloseReason, EventKind, StopReason};
use super::lookup::resolve;
use super::options::{
    apply_buffer_sizes, bind, local_address, new_socket, self_address, set_option,
};
use super::session::{
    EventSink, QueueSizes, Session, SessionShared, Waker, WorkerCtx, lock, spawn_worker,
};

/// How long a datagram picked for reordering waits for a later one to overtake it before it is
/// sent alone (then it was not reordered, and is not counted so).
pub const REORDER_HOLD: Duration = Duration::from_millis(200);
/// Largest piece one TCP read takes.
const TCP_CHUNK: usize = 16 * 1024;
/// How long connecting to the target may take for one TCP client.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Which transport a relay forwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// A TCP stream per client.
    Tcp,
    /// Datagrams, with a socket per client towards the target.
    Udp,
}

/// What the relay does to the traffic. Percentages are 0 to 100.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Impairments {
    /// Added to every datagram or piece of stream.
    pub delay: Duration,
    /// Each delay varies by up to this much either way (never below zero). On UDP this can
    /// reorder datagrams too; a TCP stream keeps its order.
    pub jitter: Duration,
    /// UDP: the share of datagrams dropped.
    pub loss_percent: f64,
    /// UDP: the share of datagrams sent twice.
    pub duplicate_percent: f64,
    /// UDP: the share of datagrams held back until the next one has gone first.
    pub reorder_percent: f64,
    /// Bandwidth limit per direction, in payload bytes per second.
    pub rate_bytes_per_s: Option<u64>,
}

impl Impairments {
    /// Checks each knob: the error names it and the range it takes.
    pub fn check(&self) -> Result<(), EngineError> {
        for (name, value) in [
            ("loss", self.loss_percent),
            ("duplication", self.duplicate_percent),
            ("reordering", self.reorder_percent),
        ] {
            if !(0.0..=100.0).contains(&value) {
                return Err(EngineError::NotNow {
                    op: Op::Send,
                    why: format!("{name} must be a percentage from 0 to 100, not {value}"),
                });
            }
        }
        if self.rate_bytes_per_s == Some(0) {
            return Err(EngineError::NotNow {
                op: Op::Send,
                why:
                    "a bandwidth limit of 0 bytes per second would forward nothing; give at least 1"
                        .to_owned(),
            });
        }
        Ok(())
    }

    /// True when datagrams can go straight through, without the scheduler's queue.
    fn immediate(&self) -> bool {
        self.delay.is_zero() && self.jitter.is_zero() && self.rate_bytes_per_s.is_none()
    }
}

/// How a relay listens and where it forwards.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Where clients connect or send; `127.0.0.1` (this machine only) by default, port 0 lets the
    /// system choose.
    pub listen: SocketAddr,
    /// The target's host name or address.
    pub to_host: String,
    /// The target's port.
    pub to_port: u16,
    /// UDP or TCP.
    pub transport: Transport,
    /// The knobs (they can change while running: [`RelayCommand::SetImpairments`]).
    pub impairments: Impairments,
    /// Seed of the random decisions: the same seed and the same traffic give the same fates.
    pub seed: u64,
    /// UDP: most datagrams held (delayed, queued for the bandwidth limit) per direction.
    pub queue_limit: usize,
    /// TCP: most bytes held per direction of a connection.
    pub tcp_buffer: usize,
    /// Most clients at once (UDP: client addresses; TCP: connections).
    pub max_clients: usize,
    /// UDP: stop once this many datagrams from clients have been received and forwarded or
    /// dropped. TCP: stop once this many connections have ended.
    pub stop_after: Option<u64>,
}

impl RelayConfig {
    /// A relay from `127.0.0.1:0` to `host:port` with no impairments and seed 0.
    pub fn new(transport: Transport, to_host: impl Into<String>, to_port: u16) -> Self {
        RelayConfig {
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            to_host: to_host.into(),
            to_port,
            transport,
            impairments: Impairments::default(),
            seed: 0,
            queue_limit: 10_000,
            tcp_buffer: 1024 * 1024,
            max_clients: 256,
            stop_after: None,
        }
    }
}

/// What a relay can be asked to do while it runs.
#[derive(Debug, Clone)]
pub enum RelayCommand {
    /// Change the knobs; datagrams and stream pieces that arrive from now on get the new ones.
    SetImpairments(Impairments),
}

/// Which way traffic goes through the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From a client to the target.
    ToTarget,
    /// From the target back to a client.
    ToClient,
}

/// What a relay reports besides socket calls, errors and its end.
#[derive(Debug, Clone, PartialEq)]
pub enum RelayEvent {
    /// The relay is ready: where it listens and where it forwards.
    Forwarding {
        /// Its own address, from `getsockname`.
        listen: SocketAddr,
        /// The target.
        target: SocketAddr,
        /// UDP or TCP.
        transport: Transport,
        /// The knobs in force.
        impairments: Impairments,
        /// The seed.
        seed: u64,
    },
    /// TCP: loss, duplication or reordering were asked for, and a stream cannot have them.
    StreamKnobsIgnored {
        /// Loss asked for, in percent.
        loss_percent: f64,
        /// Duplication asked for, in percent.
        duplicate_percent: f64,
        /// Reordering asked for, in percent.
        reorder_percent: f64,
    },
    /// A new client: UDP, the first datagram from an address; TCP, an accepted connection
    /// (forwarded once the target accepted too).
    ClientStarted {
        /// The client's number within the relay, from 1.
        id: u64,
        /// The client's address.
        client: SocketAddr,
        /// The relay's own end towards the target (what the target sees as the peer).
        upstream: SocketAddr,
    },
    /// A client over the relay's limit was turned away (UDP: its datagrams are dropped).
    ClientRefused {
        /// Who.
        client: SocketAddr,
        /// The limit.
        limit: usize,
    },
    /// TCP: a client's connection pair ended.
    ClientEnded {
        /// The client's number.
        id: u64,
        /// Its address.
        client: SocketAddr,
        /// Bytes forwarded from the client to the target.
        to_target: u64,
        /// Bytes forwarded from the target to the client.
        to_client: u64,
        /// How it ended.
        reason: CloseReason,
    },
    /// The knobs changed.
    ImpairmentsChanged(Impairments),
}

#[derive(Debug, Default)]
struct DirectionStats {
    received: AtomicU64,
    received_bytes: AtomicU64,
    forwarded: AtomicU64,
    forwarded_bytes: AtomicU64,
    dropped_loss: AtomicU64,
    dropped_queue_full: AtomicU64,
    dropped_client_limit: AtomicU64,
    duplicated: AtomicU64,
    reordered: AtomicU64,
    send_failed: AtomicU64,
    discarded_at_stop: AtomicU64,
    discarded_at_stop_bytes: AtomicU64,
    in_flight: AtomicU64,
    in_flight_bytes: AtomicU64,
}

/// One direction's exact counters. UDP counts datagrams; TCP counts reads (`received`) and
/// writes (`forwarded`), and the `_bytes` fields count bytes either way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DirectionCounters {
    /// Datagrams (TCP: reads) that arrived.
    pub received: u64,
    /// Their bytes.
    pub received_bytes: u64,
    /// Datagrams (TCP: writes) sent on, copies included.
    pub forwarded: u64,
    /// Their bytes.
    pub forwarded_bytes: u64,
    /// Dropped by the loss knob.
    pub dropped_loss: u64,
    /// Dropped because the queue of held datagrams was full.
    pub dropped_queue_full: u64,
    /// Dropped because they came from a client over the relay's client limit.
    pub dropped_client_limit: u64,
    /// Extra copies made by the duplication knob.
    pub duplicated: u64,
    /// Datagrams that went out after a later one of the same client and direction.
    pub reordered: u64,
    /// Forwarding sends that failed (for example "port unreachable" from the target).
    pub send_failed: u64,
    /// Still held when the relay stopped, and thrown away (TCP: see the bytes).
    pub discarded_at_stop: u64,
    /// Their bytes.
    pub discarded_at_stop_bytes: u64,
    /// Held in the relay now (delayed, queued, or waiting to be written).
    pub in_flight: u64,
    /// Their bytes.
    pub in_flight_bytes: u64,
}

impl DirectionCounters {
    /// Everything that did not go on: loss, full queue, client limit, failed sends, discarded.
    pub fn dropped(&self) -> u64 {
        self.dropped_loss
            + self.dropped_queue_full
            + self.dropped_client_limit
            + self.send_failed
            + self.discarded_at_stop
    }
}

impl DirectionStats {
    fn snapshot(&self) -> DirectionCounters {
        let r = |a: &AtomicU64| a.load(Ordering::Acquire);
        DirectionCounters {
            received: r(&self.received),
            received_bytes: r(&self.received_bytes),
            forwarded: r(&self.forwarded),
            forwarded_bytes: r(&self.forwarded_bytes),
            dropped_loss: r(&self.dropped_loss),
            dropped_queue_full: r(&self.dropped_queue_full),
            dropped_client_limit: r(&self.dropped_client_limit),
            duplicated: r(&self.duplicated),
            reordered: r(&self.reordered),
            send_failed: r(&self.send_failed),
            discarded_at_stop: r(&self.discarded_at_stop),
            discarded_at_stop_bytes: r(&self.discarded_at_stop_bytes),
            in_flight: r(&self.in_flight),
            in_flight_bytes: r(&self.in_flight_bytes),
        }
    }
}

fn bump(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::AcqRel);
}

fn drop_by(counter: &AtomicU64, n: u64) {
    counter.fetch_sub(n, Ordering::AcqRel);
}

#[derive(Debug, Default)]
struct RelayStats {
    to_target: DirectionStats,
    to_client: DirectionStats,
    clients: AtomicU64,
    clients_refused: AtomicU64,
}

impl RelayStats {
    fn dir(&self, d: Direction) -> &DirectionStats {
        match d {
            Direction::ToTarget => &self.to_target,
            Direction::ToClient => &self.to_client,
        }
    }
}

/// A relay's counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayCounters {
    /// From clients to the target.
    pub to_target: DirectionCounters,
    /// From the target back to clients.
    pub to_client: DirectionCounters,
    /// Clients taken so far.
    pub clients: u64,
    /// Clients turned away by the limit.
    pub clients_refused: u64,
}

/// A running relay: the session (events, stop) and its counters. Dropping it stops the relay
/// and joins every thread.
pub struct Relay {
    session: Session<RelayCommand>,
    stats: Arc<RelayStats>,
}

impl Relay {
    /// The session: its events, commands and stop.
    pub fn session(&self) -> &Session<RelayCommand> {
        &self.session
    }

    /// The exact counters, read now.
    pub fn counters(&self) -> RelayCounters {
        RelayCounters {
            to_target: self.stats.to_target.snapshot(),
            to_client: self.stats.to_client.snapshot(),
            clients: self.stats.clients.load(Ordering::Acquire),
            clients_refused: self.stats.clients_refused.load(Ordering::Acquire),
        }
    }
}

/// Starts a relay.
pub fn start(config: RelayConfig, waker: Waker) -> Relay {
    let stats = Arc::new(RelayStats::default());
    let worker_stats = Arc::clone(&stats);
    let kind = match config.transport {
        Transport::Tcp => "tcp",
        Transport::Udp => "udp",
    };
    let name = format!(
        "relay-{kind} {} → {}:{}",
        config.listen, config.to_host, config.to_port
    );
    let session = Session::spawn(name, QueueSizes::default(), waker, move |ctx| {
        let knobs = Arc::new(Mutex::new(config.impairments));
        let reason = match config.impairments.check().and_then(|()| {
            let target = resolve_target(&ctx.sink, &config)?;
            match config.transport {
                Transport::Udp => run_udp(&ctx, &config, target, &worker_stats, &knobs),
                Transport::Tcp => run_tcp(&ctx, &config, target, &worker_stats, &knobs),
            }
        }) {
            Ok(()) => StopReason::Requested,
            Err(e) => StopReason::Failed(e),
        };
        ctx.sink.emit(EventKind::Stopped { reason });
    });
    Relay { session, stats }
}

fn resolve_target(sink: &EventSink, config: &RelayConfig) -> Result<SocketAddr, EngineError> {
    let args = format!("\"{}\", {}", config.to_host, config.to_port);
    match resolve(&config.to_host, config.to_port) {
        Ok(addrs) => {
            let list: Vec<String> = addrs.iter().map(ToString::to_string).collect();
            sink.call(None, Op::GetAddrInfo, args, Ok(list.join(", ")));
            addrs.first().copied().ok_or_else(|| EngineError::Resolve {
                host: config.to_host.clone(),
                message: "no address to forward to".to_owned(),
            })
        }
        Err(e) => {
            sink.call(None, Op::GetAddrInfo, args, Err(e.to_string()));
            Err(e)
        }
    }
}

fn unspecified_like(addr: SocketAddr) -> SocketAddr {
    let ip = if addr.is_ipv4() {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    };
    SocketAddr::new(ip, 0)
}

/// Splits a seed into independent streams, one per client and direction (splitmix64), so the
/// fates of one client's datagrams do not depend on how threads interleave.
fn stream_seed(seed: u64, client: u64, direction: Direction) -> u64 {
    let mut z = seed
        .wrapping_add(client.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(match direction {
            Direction::ToTarget => 0x632B_E59B_D9B4_E019,
            Direction::ToClient => 0x8CB9_2BA7_2F3D_8DD7,
        });
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The fate of one datagram (or the delay of one piece of stream).
#[derive(Debug, Clone, Copy)]
struct Fate {
    lost: bool,
    duplicate: bool,
    reorder: bool,
    delay: Duration,
}

/// Draws the same four numbers for every datagram, whatever the knobs, so a change of one knob
/// does not shift the fates the others give.
fn decide(rng: &mut fastrand::Rng, knobs: &Impairments) -> Fate {
    let loss_draw = rng.f64() * 100.0;
    let duplicate_draw = rng.f64() * 100.0;
    let reorder_draw = rng.f64() * 100.0;
    let jitter = rng.f64() * 2.0 - 1.0;
    let lost = loss_draw < knobs.loss_percent;
    let delay = knobs.delay.as_secs_f64() + jitter * knobs.jitter.as_secs_f64();
    Fate {
        lost,
        duplicate: !lost && duplicate_draw < knobs.duplicate_percent,
        reorder: !lost && reorder_draw < knobs.reorder_percent,
        delay: Duration::try_from_secs_f64(delay.max(0.0)).unwrap_or_default(),
    }
}

// ---------------------------------------------------------------------------------------------
// UDP

/// Where a datagram goes out: a client's socket towards the target, or the listener towards a
/// client.
#[derive(Clone)]
struct Exit {
    socket: Arc<UdpSocket>,
    to: Option<SocketAddr>,
    direction: Direction,
    /// Highest arrival index sent so far in this client's direction + 1 (0: none yet), to
    /// count what goes out after a later datagram.
    departed: Arc<AtomicU64>,
}

impl Exit {
    /// Sends one datagram, counting it forwarded (or failed) and reordered.
    fn send(&self, stats: &RelayStats, data: &[u8], index: u64) {
        let result = match self.to {
            Some(to) => self.socket.send_to(data, to),
            None => self.socket.send(data),
        };
        let s = stats.dir(self.direction);
        match result {
            Ok(_) => {
                bump(&s.forwarded, 1);
                bump(&s.forwarded_bytes, data.len() as u64);
                if self.departed.fetch_max(index + 1, Ordering::AcqRel) > index + 1 {
                    bump(&s.reordered, 1);
                }
            }
            Err(_) => bump(&s.send_failed, 1),
        }
    }
}

/// A datagram waiting in the scheduler.
struct Held {
    due: Instant,
    /// Order of arrival at the scheduler, so equal due times keep it.
    order: u64,
    index: u64,
    data: Vec<u8>,
    exit: Exit,
}

impl PartialEq for Held {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.order) == (other.due, other.order)
    }
}
impl Eq for Held {}
impl PartialOrd for Held {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Held {
    // Earliest first in a max-heap.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (other.due, other.order).cmp(&(self.due, self.order))
    }
}

/// What one reader thread does to one client's datagrams in one direction.
struct Shaper {
    rng: fastrand::Rng,
    next_index: u64,
    exit: Exit,
    /// A datagram picked for reordering, waiting for the next one to go first.
    waiting: Option<(Held, Instant)>,
}

/// Shared by every UDP reader of a relay.
struct UdpPath {
    stats: Arc<RelayStats>,
    knobs: Arc<Mutex<Impairments>>,
    scheduler: Sender<Held>,
    queue_limit: u64,
    order: AtomicU64,
    /// Signalled by the scheduler whenever nothing towards the target is held any more.
    drained: (Sender<()>, Receiver<()>),
}

impl UdpPath {
    /// Decides one arrived datagram's fate and sends, holds or drops it.
    fn arrive(&self, shaper: &mut Shaper, data: &[u8]) {
        let direction = shaper.exit.direction;
        let s = self.stats.dir(direction);
        bump(&s.received, 1);
        bump(&s.received_bytes, data.len() as u64);
        let knobs = *lock(&self.knobs);
        let fate = decide(&mut shaper.rng, &knobs);
        let index = shaper.next_index;
        shaper.next_index += 1;
        if fate.lost {
            bump(&s.dropped_loss, 1);
            return;
        }
        let now = Instant::now();
        let copies = if fate.duplicate {
            bump(&s.duplicated, 1);
            2
        } else {
            1
        };
        let due = now + fate.delay;
        let mut items: Vec<Held> = (0..copies)
            .map(|_| Held {
                due,
                order: 0,
                index,
                data: data.to_vec(),
                exit: shaper.exit.clone(),
            })
            .collect();
        // The held one goes right after this datagram (and its copy), never before.
        if let Some(mut waiting) = self.take_waiting(shaper) {
            waiting.due = waiting.due.max(due);
            items.push(waiting);
        } else if fate.reorder {
            let first = items.remove(0);
            bump(&s.in_flight, 1);
            bump(&s.in_flight_bytes, first.data.len() as u64);
            shaper.waiting = Some((first, now + REORDER_HOLD));
            if items.is_empty() {
                return;
            }
        }
        for item in items {
            self.dispatch(item, &knobs);
        }
    }

    /// Takes the datagram held for reordering, if any, out of the in-flight count.
    fn take_waiting(&self, shaper: &mut Shaper) -> Option<Held> {
        let (held, _) = shaper.waiting.take()?;
        let s = self.stats.dir(held.exit.direction);
        drop_by(&s.in_flight, 1);
        drop_by(&s.in_flight_bytes, held.data.len() as u64);
        Some(held)
    }

    /// Sends the datagram held for reordering on its way now.
    fn release_waiting(&self, shaper: &mut Shaper) {
        if let Some(held) = self.take_waiting(shaper) {
            let knobs = *lock(&self.knobs);
            self.dispatch(held, &knobs);
        }
    }

    /// Releases a datagram held for reordering whose wait is over.
    fn release_expired(&self, shaper: &mut Shaper) {
        if shaper
            .waiting
            .as_ref()
            .is_some_and(|(_, until)| Instant::now() >= *until)
        {
            self.release_waiting(shaper);
        }
    }

    /// Sends at once when nothing delays datagrams; otherwise queues for the scheduler.
    fn dispatch(&self, mut item: Held, knobs: &Impairments) {
        let s = self.stats.dir(item.exit.direction);
        if knobs.immediate() && item.due <= Instant::now() {
            item.exit.send(&self.stats, &item.data, item.index);
            return;
        }
        if s.in_flight.load(Ordering::Acquire) >= self.queue_limit {
            bump(&s.dropped_queue_full, 1);
            return;
        }
        bump(&s.in_flight, 1);
        bump(&s.in_flight_bytes, item.data.len() as u64);
        item.order = self.order.fetch_add(1, Ordering::AcqRel);
        let len = item.data.len() as u64;
        if self.scheduler.try_send(item).is_err() {
            // Only when the scheduler has ended (the relay is stopping).
            drop_by(&s.in_flight, 1);
            drop_by(&s.in_flight_bytes, len);
            bump(&s.discarded_at_stop, 1);
            bump(&s.discarded_at_stop_bytes, len);
        }
    }

    /// A datagram held for reordering when the relay stops.
    fn discard_waiting(&self, shaper: &mut Shaper) {
        if let Some(held) = self.take_waiting(shaper) {
            let s = self.stats.dir(held.exit.direction);
            bump(&s.discarded_at_stop, 1);
            bump(&s.discarded_at_stop_bytes, held.data.len() as u64);
        }
    }
}

/// Sends held datagrams when they are due, one bandwidth-limited queue per direction.
fn schedule(items: &Receiver<Held>, halt: &Receiver<()>, path: &UdpPath) {
    let mut queues = [BinaryHeap::<Held>::new(), BinaryHeap::<Held>::new()];
    // When each direction's link is free again (the bandwidth limit).
    let mut link_free = [Instant::now(), Instant::now()];
    let slot = |d: Direction| usize::from(d == Direction::ToClient);
    loop {
        let now = Instant::now();
        let mut next: Option<Instant> = None;
        for d in [Direction::ToTarget, Direction::ToClient] {
            let i = slot(d);
            while let Some(top) = queues[i].peek() {
                let at = top.due.max(link_free[i]);
                if at > now {
                    next = Some(next.map_or(at, |n| n.min(at)));
                    break;
                }
                let Some(item) = queues[i].pop() else { break };
                let rate = lock(&path.knobs).rate_bytes_per_s;
                link_free[i] = match rate {
                    Some(r) => at + Duration::from_secs_f64(item.data.len() as f64 / r as f64),
                    None => at,
                };
                let s = path.stats.dir(d);
                drop_by(&s.in_flight, 1);
                drop_by(&s.in_flight_bytes, item.data.len() as u64);
                item.exit.send(&path.stats, &item.data, item.index);
            }
        }
        if path.stats.to_target.in_flight.load(Ordering::Acquire) == 0 {
            let _ = path.drained.0.try_send(());
        }
        let timer = next.map_or_else(never, crossbeam_channel::at);
        select! {
            recv(items) -> item => match item {
                Ok(item) => {
                    let i = slot(item.exit.direction);
                    queues[i].push(item);
                }
                Err(_) => break,
            },
            recv(halt) -> _ => break,
            recv(timer) -> _ => {},
        }
    }
    // Stopping: what is still held is counted, never silently lost.
    let leftovers = queues
        .into_iter()
        .flat_map(BinaryHeap::into_vec)
        .chain(items.try_iter());
    for item in leftovers {
        let s = path.stats.dir(item.exit.direction);
        drop_by(&s.in_flight, 1);
        drop_by(&s.in_flight_bytes, item.data.len() as u64);
        bump(&s.discarded_at_stop, 1);
        bump(&s.discarded_at_stop_bytes, item.data.len() as u64);
    }
}

/// One client's socket towards the target and its reply reader.
struct UdpClient {
    upstream: Arc<UdpSocket>,
    shaper: Shaper,
    reader: Option<JoinHandle<()>>,
}

fn open_upstream(
    sink: &EventSink,
    target: SocketAddr,
) -> Result<(UdpSocket, SocketAddr), EngineError> {
    let from = unspecified_like(target);
    let socket = new_socket(sink, None, &target, Type::DGRAM)?;
    bind(sink, &socket, &from)?;
    sink.report(
        None,
        Op::Connect,
        target.to_string(),
        target,
        socket.connect(&target.into()),
        |()| "peer fixed; no packet sent".to_owned(),
    )?;
    let local = local_address(sink, None, &socket, &target)?;
    Ok((socket.into(), local))
}

fn run_udp(
    ctx: &WorkerCtx<RelayCommand>,
    config: &RelayConfig,
    target: SocketAddr,
    stats: &Arc<RelayStats>,
    knobs: &Arc<Mutex<Impairments>>,
) -> Result<(), EngineError> {
    let sink = &ctx.sink;
    let socket = new_socket(sink, None, &config.listen, Type::DGRAM)?;
    apply_buffer_sizes(
        sink,
        None,
        &socket,
        &config.listen,
        Some(super::udp::DEFAULT_RECV_BUFFER),
        None,
    )?;
    bind(sink, &socket, &config.listen)?;
    let local = local_address(sink, None, &socket, &config.listen)?;
    let listener = Arc::new(UdpSocket::from(socket));
    *lock(&ctx.shared.local_addr) = Some(local);
    sink.emit(EventKind::Ready { local, peer: None });
    sink.emit(relay_event(RelayEvent::Forwarding {
        listen: local,
        target,
        transport: Transport::Udp,
        impairments: *lock(knobs),
        seed: config.seed,
    }));

    let (item_tx, item_rx) = bounded::<Held>(config.queue_limit.max(1) * 2 + 2);
    let (halt_tx, halt_rx) = bounded::<()>(0);
    let path = Arc::new(UdpPath {
        stats: Arc::clone(stats),
        knobs: Arc::clone(knobs),
        scheduler: item_tx,
        queue_limit: config.queue_limit as u64,
        order: AtomicU64::new(0),
        drained: bounded(1),
    });
    let scheduler = {
        let path = Arc::clone(&path);
        spawn_worker(
            format!("relay-udp-schedule {local}"),
            sink,
            move || schedule(&item_rx, &halt_rx, &path),
            EventKind::Error,
        )
    };
    let (done_tx, done_rx) = bounded::<Option<EngineError>>(1);
    let reader = {
        let sink2 = sink.clone();
        let shared = Arc::clone(&ctx.shared);
        let path = Arc::clone(&path);
        let listener = Arc::clone(&listener);
        let seed = config.seed;
        let max_clients = config.max_clients;
        let stop_after = config.stop_after;
        let done = done_tx.clone();
        spawn_worker(
            format!("relay-udp-in {local}"),
            sink,
            move || {
                let error = udp_inbound(
                    &sink2,
                    &shared,
                    &path,
                    &listener,
                    target,
                    seed,
                    max_clients,
                    stop_after,
                );
                let _ = done.send(error);
            },
            move |e| {
                let _ = done_tx.try_send(Some(e.clone()));
                EventKind::Error(e)
            },
        )
    };

    let end = loop {
        select! {
            recv(ctx.commands) -> cmd => match cmd {
                Ok(RelayCommand::SetImpairments(new)) => match new.check() {
                    Ok(()) => {
                        *lock(knobs) = new;
                        sink.emit(relay_event(RelayEvent::ImpairmentsChanged(new)));
                    }
                    Err(e) => { sink.emit(EventKind::Error(e)); }
                },
                Err(_) => break None,
            },
            recv(done_rx) -> error => break error.ok().flatten(),
            recv(ctx.stop) -> _ => break None,
            recv(sink.abort_signal()) -> _ => break None,
        }
    };
    ctx.shared.stopping.store(true, Ordering::Release);
    // Wake the inbound reader with an empty datagram (see udp.rs for why not shutdown).
    let from = SocketAddr::new(
        if local.is_ipv4() {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            IpAddr::V6(Ipv6Addr::LOCALHOST)
        },
        0,
    );
    if let Ok(waker) = UdpSocket::bind(from) {
        let _ = waker.send_to(&[], self_address(local));
    }
    if let Some(handle) = reader {
        let _ = handle.join();
    }
    drop(halt_tx);
    if let Some(handle) = scheduler {
        let _ = handle.join();
    }
    sink.ok(None, Op::Close, "");
    end.map_or(Ok(()), Err)
}

fn relay_event(e: RelayEvent) -> EventKind {
    EventKind::Relay(Box::new(e))
}

/// The listener's reader: datagrams from clients, each client given its socket towards the
/// target (and a thread reading the target's replies) on its first datagram.
#[allow(clippy::too_many_arguments)]
fn udp_inbound(
    sink: &EventSink,
    shared: &Arc<SessionShared>,
    path: &Arc<UdpPath>,
    listener: &Arc<UdpSocket>,
    target: SocketAddr,
    seed: u64,
    max_clients: usize,
    stop_after: Option<u64>,
) -> Option<EngineError> {
    let mut clients: HashMap<SocketAddr, UdpClient> = HashMap::new();
    let mut refused: Vec<SocketAddr> = Vec::new();
    let mut buf = vec![0_u8; 65_536];
    let mut taken = 0_u64;
    let mut result = None;
    let mut read_timeout: Option<Duration> = None;
    // Clients with a datagram held for reordering: only these are looked at between datagrams.
    let mut holding: Vec<SocketAddr> = Vec::new();
    loop {
        // While a datagram waits for reordering, wake in time to release it.
        let wait = holding
            .iter()
            .filter_map(|a| clients.get(a))
            .filter_map(|c| c.shaper.waiting.as_ref().map(|(_, until)| *until))
            .min()
            .map(|until| {
                until
                    .saturating_duration_since(Instant::now())
                    .max(Duration::from_millis(1))
            });
        if wait != read_timeout {
            read_timeout = wait;
            let _ = listener.set_read_timeout(wait);
        }
        let received = listener.recv_from(&mut buf);
        if shared.is_stopping() {
            break;
        }
        match received {
            Ok((n, client)) => {
                if !clients.contains_key(&client) {
                    if clients.len() >= max_clients {
                        let s = &path.stats.to_target;
                        bump(&s.received, 1);
                        bump(&s.received_bytes, n as u64);
                        bump(&s.dropped_client_limit, 1);
                        if !refused.contains(&client) && refused.len() < 1024 {
                            refused.push(client);
                            bump(&path.stats.clients_refused, 1);
                            let _ = sink.try_emit(relay_event(RelayEvent::ClientRefused {
                                client,
                                limit: max_clients,
                            }));
                        }
                        continue;
                    }
                    match start_udp_client(
                        sink,
                        shared,
                        path,
                        listener,
                        target,
                        seed,
                        clients.len() as u64 + 1,
                        client,
                    ) {
                        Ok(c) => {
                            clients.insert(client, c);
                        }
                        Err(e) => {
                            let _ = sink.try_emit(EventKind::Error(e));
                            let s = &path.stats.to_target;
                            bump(&s.received, 1);
                            bump(&s.received_bytes, n as u64);
                            bump(&s.send_failed, 1);
                            continue;
                        }
                    }
                }
                if let Some(c) = clients.get_mut(&client) {
                    path.arrive(&mut c.shaper, &buf[..n]);
                    if c.shaper.waiting.is_some() && !holding.contains(&client) {
                        holding.push(client);
                    }
                }
                taken += 1;
                if stop_after.is_some_and(|limit| taken >= limit) {
                    for c in clients.values_mut() {
                        path.release_waiting(&mut c.shaper);
                    }
                    wait_until_settled(shared, path);
                    break;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            // "Port unreachable" from an earlier reply to a client that has gone: not fatal.
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::ConnectionRefused | ErrorKind::ConnectionReset
                ) => {}
            Err(e) => {
                sink.call(None, Op::RecvFrom, "", Err(e.to_string()));
                result = Some(EngineError::io(
                    Op::RecvFrom,
                    listener
                        .local_addr()
                        .map_or_else(|_| String::new(), |a| a.to_string()),
                    &e,
                ));
                break;
            }
        }
        holding.retain(|a| {
            clients.get_mut(a).is_some_and(|c| {
                path.release_expired(&mut c.shaper);
                c.shaper.waiting.is_some()
            })
        });
    }
    shared.stopping.store(true, Ordering::Release);
    for c in clients.values_mut() {
        path.discard_waiting(&mut c.shaper);
        if let Ok(clone) = c.upstream.try_clone() {
            let _ = Socket::from(clone).shutdown(Shutdown::Read);
        }
    }
    for (_, mut c) in clients {
        if let Some(handle) = c.reader.take() {
            let _ = handle.join();
        }
        sink.ok(None, Op::Close, "");
    }
    result
}

/// With `stop_after`, the relay ends once every datagram taken has gone out or been dropped:
/// the scheduler says when its queue towards the target is empty. A Stop meanwhile is seen
/// within 100 ms; a queue that never drains (a delay of hours) is given up after 10 minutes.
fn wait_until_settled(shared: &SessionShared, path: &UdpPath) {
    let deadline = Instant::now() + Duration::from_mins(10);
    while path.stats.to_target.in_flight.load(Ordering::Acquire) > 0
        && !shared.is_stopping()
        && Instant::now() < deadline
    {
        let _ = path.drained.1.recv_timeout(Duration::from_millis(100));
    }
}

#[allow(clippy::too_many_arguments)]
fn start_udp_client(
    sink: &EventSink,
    shared: &Arc<SessionShared>,
    path: &Arc<UdpPath>,
    listener: &Arc<UdpSocket>,
    target: SocketAddr,
    seed: u64,
    id: u64,
    client: SocketAddr,
) -> Result<UdpClient, EngineError> {
    let (socket, upstream_local) = open_upstream(sink, target)?;
    let upstream = Arc::new(socket);
    bump(&path.stats.clients, 1);
    sink.emit(relay_event(RelayEvent::ClientStarted {
        id,
        client,
        upstream: upstream_local,
    }));
    let to_target = Shaper {
        rng: fastrand::Rng::with_seed(stream_seed(seed, id, Direction::ToTarget)),
        next_index: 0,
        exit: Exit {
            socket: Arc::clone(&upstream),
            to: None,
            direction: Direction::ToTarget,
            departed: Arc::new(AtomicU64::new(0)),
        },
        waiting: None,
    };
    let mut back = Shaper {
        rng: fastrand::Rng::with_seed(stream_seed(seed, id, Direction::ToClient)),
        next_index: 0,
        exit: Exit {
            socket: Arc::clone(listener),
            to: Some(client),
            direction: Direction::ToClient,
            departed: Arc::new(AtomicU64::new(0)),
        },
        waiting: None,
    };
    let reader = {
        let upstream = Arc::clone(&upstream);
        let shared = Arc::clone(shared);
        let path = Arc::clone(path);
        spawn_worker(
            format!("relay-udp-back {client}"),
            sink,
            move || {
                let mut buf = vec![0_u8; 65_536];
                let mut read_timeout = None;
                loop {
                    let wait = back.waiting.as_ref().map(|(_, until)| {
                        until
                            .saturating_duration_since(Instant::now())
                            .max(Duration::from_millis(1))
                    });
                    if wait != read_timeout {
                        read_timeout = wait;
                        let _ = upstream.set_read_timeout(wait);
                    }
                    let received = upstream.recv(&mut buf);
                    if shared.is_stopping() {
                        break;
                    }
                    match received {
                        Ok(n) => path.arrive(&mut back, &buf[..n]),
                        Err(e)
                            if matches!(
                                e.kind(),
                                ErrorKind::WouldBlock
                                    | ErrorKind::TimedOut
                                    | ErrorKind::Interrupted
                            ) => {}
                        // "Port unreachable" for an earlier forward: the target is not
                        // listening (yet); the socket is fine.
                        Err(e)
                            if matches!(
                                e.kind(),
                                ErrorKind::ConnectionRefused | ErrorKind::ConnectionReset
                            ) => {}
                        Err(_) => break,
                    }
                    path.release_expired(&mut back);
                }
                path.discard_waiting(&mut back);
            },
            EventKind::Error,
        )
    };
    Ok(UdpClient {
        upstream,
        shaper: to_target,
        reader,
    })
}

// ---------------------------------------------------------------------------------------------
// TCP

/// A piece of stream on its way through one direction.
enum Piece {
    Data {
        bytes: Vec<u8>,
        due: Instant,
    },
    /// The source finished sending: pass the FIN on after the data.
    End,
}

/// Everything a TCP connection pair's threads share.
struct TcpPair {
    id: u64,
    client_addr: SocketAddr,
    client: TcpStream,
    upstream: TcpStream,
    stats: Arc<RelayStats>,
    knobs: Arc<Mutex<Impairments>>,
    seed: u64,
    /// Set when either side failed: the other is then closed too.
    broken: AtomicBool,
    to_target_bytes: AtomicU64,
    to_client_bytes: AtomicU64,
}

impl TcpPair {
    fn streams(&self, d: Direction) -> (&TcpStream, &TcpStream) {
        match d {
            Direction::ToTarget => (&self.client, &self.upstream),
            Direction::ToClient => (&self.upstream, &self.client),
        }
    }

    fn shut_both(&self) {
        let _ = self.client.shutdown(Shutdown::Both);
        let _ = self.upstream.shutdown(Shutdown::Both);
    }
}

/// Reads one direction, stamps each piece with when it may go on, and hands it to the writer.
fn tcp_read(
    pair: &TcpPair,
    d: Direction,
    out: &Sender<Piece>,
    halt: &Receiver<()>,
    shared: &SessionShared,
) {
    let (mut from, _) = pair.streams(d);
    let s = pair.stats.dir(d);
    let mut rng = fastrand::Rng::with_seed(stream_seed(pair.seed, pair.id, d));
    let mut last_due = Instant::now();
    let mut buf = vec![0_u8; TCP_CHUNK];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => {
                let _ = out.send(Piece::End);
                return;
            }
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => {
                if !shared.is_stopping() {
                    pair.broken.store(true, Ordering::Release);
                    pair.shut_both();
                }
                return;
            }
        };
        bump(&s.received, 1);
        bump(&s.received_bytes, n as u64);
        bump(&s.in_flight, 1);
        bump(&s.in_flight_bytes, n as u64);
        let knobs = *lock(&pair.knobs);
        let fate = decide(&mut rng, &knobs);
        // A stream keeps its order: a piece never goes before the one read ahead of it.
        last_due = last_due.max(Instant::now() + fate.delay);
        let piece = Piece::Data {
            bytes: buf[..n].to_vec(),
            due: last_due,
        };
        // Waits while this direction holds its limit: the relay stops reading, TCP flow control
        // slows the sender.
        select! {
            send(out, piece) -> sent => if sent.is_err() {
                drop_by(&s.in_flight, 1);
                drop_by(&s.in_flight_bytes, n as u64);
                bump(&s.discarded_at_stop_bytes, n as u64);
                return;
            },
            recv(halt) -> _ => {
                drop_by(&s.in_flight, 1);
                drop_by(&s.in_flight_bytes, n as u64);
                bump(&s.discarded_at_stop_bytes, n as u64);
                return;
            },
        }
    }
}

/// Writes one direction: waits for each piece's time, throttles to the bandwidth limit, and
/// passes the FIN on when the source has finished.
fn tcp_write(pair: &TcpPair, d: Direction, pieces: &Receiver<Piece>, halt: &Receiver<()>) {
    let (_, mut to) = pair.streams(d);
    let s = pair.stats.dir(d);
    let mut link_free = Instant::now();
    let discard = |n: u64| {
        drop_by(&s.in_flight_bytes, n);
        bump(&s.discarded_at_stop_bytes, n);
    };
    loop {
        let piece = select! {
            recv(pieces) -> p => match p { Ok(p) => p, Err(_) => return },
            recv(halt) -> _ => return,
        };
        let (bytes, due) = match piece {
            Piece::End => {
                let _ = to.shutdown(Shutdown::Write);
                return;
            }
            Piece::Data { bytes, due } => (bytes, due),
        };
        drop_by(&s.in_flight, 1);
        let mut rest: &[u8] = &bytes;
        let mut start = due;
        while !rest.is_empty() {
            let rate = lock(&pair.knobs).rate_bytes_per_s;
            // Pieces of at most 1/20 s of the limit, so a throttled stream flows evenly.
            let take = rate.map_or(rest.len(), |r| rest.len().min(((r / 20).max(1)) as usize));
            let at = start.max(link_free);
            let wait = at.saturating_duration_since(Instant::now());
            if !wait.is_zero() {
                select! {
                    recv(halt) -> _ => { discard(rest.len() as u64); return; },
                    default(wait) => {},
                }
            }
            match to.write(&rest[..take]) {
                Ok(n) => {
                    bump(&s.forwarded, 1);
                    bump(&s.forwarded_bytes, n as u64);
                    drop_by(&s.in_flight_bytes, n as u64);
                    match d {
                        Direction::ToTarget => bump(&pair.to_target_bytes, n as u64),
                        Direction::ToClient => bump(&pair.to_client_bytes, n as u64),
                    }
                    if let Some(r) = rate {
                        link_free = at + Duration::from_secs_f64(n as f64 / r as f64);
                    }
                    rest = &rest[n..];
                    start = Instant::now();
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    discard(rest.len() as u64);
                    pair.broken.store(true, Ordering::Release);
                    pair.shut_both();
                    return;
                }
            }
        }
    }
}

/// Connects to the target; `pending` holds a clone of the socket meanwhile, so Stop can shut
/// it down and end a connect that would otherwise take the whole timeout.
fn connect_upstream(
    sink: &EventSink,
    target: SocketAddr,
    shared: &SessionShared,
    pending: impl FnOnce(Socket),
) -> Result<TcpStream, EngineError> {
    let socket = new_socket(sink, None, &target, Type::STREAM)?;
    set_option(
        sink,
        None,
        &target,
        "TCP_NODELAY",
        1,
        socket.set_tcp_nodelay(true),
    )?;
    if let Ok(clone) = socket.try_clone() {
        pending(clone);
    }
    if shared.is_stopping() {
        return Err(EngineError::SessionEnded);
    }
    match socket.connect_timeout(&target.into(), CONNECT_TIMEOUT) {
        Ok(()) => sink.ok(None, Op::Connect, target.to_string()),
        Err(e) => {
            sink.call(None, Op::Connect, target.to_string(), Err(e.to_string()));
            return Err(EngineError::io(Op::Connect, target, &e));
        }
    }
    Ok(socket.into())
}

/// Everything the TCP acceptor and the connection threads need.
struct TcpRelay {
    sink: EventSink,
    shared: Arc<SessionShared>,
    stats: Arc<RelayStats>,
    knobs: Arc<Mutex<Impairments>>,
    target: SocketAddr,
    seed: u64,
    tcp_buffer: usize,
    max_clients: usize,
    halt: Receiver<()>,
    /// Open pairs, so Stop can shut their sockets and unblock every thread.
    open: Mutex<HashMap<u64, Arc<TcpPair>>>,
    /// Sockets towards the target still connecting.
    connecting: Mutex<HashMap<u64, Socket>>,
    ended: Sender<u64>,
}

impl TcpRelay {
    /// One client: connect to the target, then pump both ways until both have finished.
    fn serve(self: &Arc<Self>, id: u64, client: TcpStream, client_addr: SocketAddr) {
        let upstream = connect_upstream(&self.sink, self.target, &self.shared, |pending| {
            lock(&self.connecting).insert(id, pending);
        });
        lock(&self.connecting).remove(&id);
        let upstream = match upstream {
            Ok(u) => u,
            Err(e) => {
                if !self.shared.is_stopping() {
                    self.sink.emit(EventKind::Error(e.clone()));
                }
                let _ = client.shutdown(Shutdown::Both);
                self.sink.emit(relay_event(RelayEvent::ClientEnded {
                    id,
                    client: client_addr,
                    to_target: 0,
                    to_client: 0,
                    reason: CloseReason::Failed(e),
                }));
                let _ = self.ended.try_send(id);
                return;
            }
        };
        let upstream_local = upstream
            .local_addr()
            .unwrap_or_else(|_| unspecified_like(self.target));
        let _ = upstream.set_nodelay(true);
        let _ = client.set_nodelay(true);
        let pair = Arc::new(TcpPair {
            id,
            client_addr,
            client,
            upstream,
            stats: Arc::clone(&self.stats),
            knobs: Arc::clone(&self.knobs),
            seed: self.seed,
            broken: AtomicBool::new(false),
            to_target_bytes: AtomicU64::new(0),
            to_client_bytes: AtomicU64::new(0),
        });
        lock(&self.open).insert(id, Arc::clone(&pair));
        if self.shared.is_stopping() {
            pair.shut_both();
        }
        self.sink.emit(relay_event(RelayEvent::ClientStarted {
            id,
            client: client_addr,
            upstream: upstream_local,
        }));
        let pieces = (self.tcp_buffer / TCP_CHUNK).max(1);
        let mut threads = Vec::new();
        let mut queues = Vec::new();
        for d in [Direction::ToTarget, Direction::ToClient] {
            let (tx, rx) = bounded::<Piece>(pieces);
            queues.push((d, rx.clone()));
            let (p, halt, shared) = (
                Arc::clone(&pair),
                self.halt.clone(),
                Arc::clone(&self.shared),
            );
            threads.push(spawn_worker(
                format!("relay-tcp-read {client_addr} {d:?}"),
                &self.sink,
                move || tcp_read(&p, d, &tx, &halt, &shared),
                EventKind::Error,
            ));
            let (p, halt) = (Arc::clone(&pair), self.halt.clone());
            threads.push(spawn_worker(
                format!("relay-tcp-write {client_addr} {d:?}"),
                &self.sink,
                move || tcp_write(&p, d, &rx, &halt),
                EventKind::Error,
            ));
        }
        for handle in threads.into_iter().flatten() {
            let _ = handle.join();
        }
        // Pieces a writer never took (it stopped, or its side broke) are counted, not lost.
        for (d, rx) in queues {
            let s = self.stats.dir(d);
            for piece in rx.try_iter() {
                if let Piece::Data { bytes, .. } = piece {
                    drop_by(&s.in_flight, 1);
                    drop_by(&s.in_flight_bytes, bytes.len() as u64);
                    bump(&s.discarded_at_stop_bytes, bytes.len() as u64);
                }
            }
        }
        lock(&self.open).remove(&id);
        let reason = if self.shared.is_stopping() {
            CloseReason::ServerStopped
        } else if pair.broken.load(Ordering::Acquire) {
            CloseReason::Failed(EngineError::io(
                Op::Recv,
                pair.client_addr,
                &std::io::Error::from(ErrorKind::ConnectionReset),
            ))
        } else {
            CloseReason::PeerClosed
        };
        self.sink.ok(None, Op::Close, "");
        self.sink.emit(relay_event(RelayEvent::ClientEnded {
            id,
            client: pair.client_addr,
            to_target: pair.to_target_bytes.load(Ordering::Acquire),
            to_client: pair.to_client_bytes.load(Ordering::Acquire),
            reason,
        }));
        let _ = self.ended.try_send(id);
    }
}

fn run_tcp(
    ctx: &WorkerCtx<RelayCommand>,
    config: &RelayConfig,
    target: SocketAddr,
    stats: &Arc<RelayStats>,
    knobs: &Arc<Mutex<Impairments>>,
) -> Result<(), EngineError> {
    let sink = &ctx.sink;
    let addr = config.listen;
    let socket = new_socket(sink, None, &addr, Type::STREAM)?;
    set_option(
        sink,
        None,
        &addr,
        "SO_REUSEADDR",
        1,
        socket.set_reuse_address(true),
    )?;
    bind(sink, &socket, &addr)?;
    sink.report(None, Op::Listen, "128", addr, socket.listen(128), |()| {
        String::new()
    })?;
    let local = local_address(sink, None, &socket, &addr)?;
    *lock(&ctx.shared.local_addr) = Some(local);
    sink.emit(EventKind::Listening { local });
    let now = *lock(knobs);
    sink.emit(relay_event(RelayEvent::Forwarding {
        listen: local,
        target,
        transport: Transport::Tcp,
        impairments: now,
        seed: config.seed,
    }));
    if now.loss_percent > 0.0 || now.duplicate_percent > 0.0 || now.reorder_percent > 0.0 {
        sink.emit(relay_event(RelayEvent::StreamKnobsIgnored {
            loss_percent: now.loss_percent,
            duplicate_percent: now.duplicate_percent,
            reorder_percent: now.reorder_percent,
        }));
    }
    let (halt_tx, halt_rx) = bounded::<()>(0);
    let (ended_tx, ended_rx) = bounded::<u64>(config.max_clients.max(1) * 2);
    let relay = Arc::new(TcpRelay {
        sink: sink.clone(),
        shared: Arc::clone(&ctx.shared),
        stats: Arc::clone(stats),
        knobs: Arc::clone(knobs),
        target,
        seed: config.seed,
        tcp_buffer: config.tcp_buffer,
        max_clients: config.max_clients,
        halt: halt_rx,
        open: Mutex::new(HashMap::new()),
        connecting: Mutex::new(HashMap::new()),
        ended: ended_tx,
    });
    let listener: std::net::TcpListener = socket.into();
    let (acceptor_done_tx, acceptor_done_rx) = bounded::<Option<EngineError>>(1);
    let conn_threads: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
    let acceptor = {
        let relay = Arc::clone(&relay);
        let conn_threads = Arc::clone(&conn_threads);
        let done = acceptor_done_tx.clone();
        spawn_worker(
            format!("relay-tcp-accept {local}"),
            sink,
            move || {
                let mut next_id = 0_u64;
                let error = loop {
                    let accepted = listener.accept();
                    if relay.shared.is_stopping() {
                        break None;
                    }
                    match accepted {
                        Ok((client, client_addr)) => {
                            relay.sink.ok(None, Op::Accept, client_addr.to_string());
                            if lock(&relay.open).len() + lock(&relay.connecting).len()
                                >= relay.max_clients
                            {
                                bump(&relay.stats.clients_refused, 1);
                                relay.sink.emit(relay_event(RelayEvent::ClientRefused {
                                    client: client_addr,
                                    limit: relay.max_clients,
                                }));
                                drop(client);
                                continue;
                            }
                            next_id += 1;
                            bump(&relay.stats.clients, 1);
                            let id = next_id;
                            let r = Arc::clone(&relay);
                            let handle = spawn_worker(
                                format!("relay-tcp {client_addr}"),
                                &relay.sink,
                                move || r.serve(id, client, client_addr),
                                EventKind::Error,
                            );
                            let mut threads = lock(&conn_threads);
                            threads.retain(|h| !h.is_finished());
                            threads.extend(handle);
                        }
                        Err(e)
                            if e.kind() == ErrorKind::Interrupted
                                || e.kind() == ErrorKind::ConnectionAborted => {}
                        Err(e) => {
                            relay.sink.call(None, Op::Accept, "", Err(e.to_string()));
                            break Some(EngineError::io(Op::Accept, local, &e));
                        }
                    }
                };
                let _ = done.send(error);
            },
            move |e| {
                let _ = acceptor_done_tx.try_send(Some(e.clone()));
                EventKind::Error(e)
            },
        )
    };

    let mut ended = 0_u64;
    let end = loop {
        select! {
            recv(ctx.commands) -> cmd => match cmd {
                Ok(RelayCommand::SetImpairments(new)) => match new.check() {
                    Ok(()) => {
                        *lock(knobs) = new;
                        sink.emit(relay_event(RelayEvent::ImpairmentsChanged(new)));
                    }
                    Err(e) => { sink.emit(EventKind::Error(e)); }
                },
                Err(_) => break None,
            },
            recv(ended_rx) -> _ => {
                ended += 1;
                if config.stop_after.is_some_and(|n| ended >= n) {
                    break None;
                }
            },
            recv(acceptor_done_rx) -> error => break error.ok().flatten(),
            recv(ctx.stop) -> _ => break None,
            recv(sink.abort_signal()) -> _ => break None,
        }
    };
    ctx.shared.stopping.store(true, Ordering::Release);
    drop(halt_tx);
    let _ = TcpStream::connect_timeout(&self_address(local), Duration::from_millis(500));
    if let Some(handle) = acceptor {
        let _ = handle.join();
    }
    for pair in lock(&relay.open).values() {
        pair.shut_both();
    }
    for stream in lock(&relay.connecting).values() {
        let _ = stream.shutdown(Shutdown::Both);
    }
    let threads = std::mem::take(&mut *lock(&conn_threads));
    for handle in threads {
        let _ = handle.join();
    }
    sink.ok(None, Op::Close, "");
    end.map_or(Ok(()), Err)
}
