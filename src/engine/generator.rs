//! The traffic generator and its sequence check.
//!
//! A generator session sends messages of one size to one peer — UDP datagrams
//! ([`start_udp`]) or writes on a TCP connection ([`start_tcp`]) — as fast as the socket takes
//! them or at a set rate, for a count, a duration, or until stopped. Pacing is by deadlines: the
//! n-th message is due at `start + n × interval`, and the worker waits for the next deadline on
//! the session's stop channel, so Stop ends a run at once at any rate (no sleep of a whole
//! interval, no busy waiting between messages).
//!
//! With `sequence` on, every message starts with a [`SequenceHeader`] (32 bytes, big-endian):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic: the ASCII bytes `SLg1` |
//! | 4 | 4 | message length in bytes, header included (lets a TCP receiver find the next one) |
//! | 8 | 4 | run id: random per generator run, so two runs from one sender are told apart |
//! | 12 | 4 | messages the run announces (its count), 0 when open-ended (a duration, or until stopped) |
//! | 16 | 8 | sequence number, 0 for the first message |
//! | 24 | 8 | send time: nanoseconds since the Unix epoch, by the sender's clock |
//!
//! The rest of each message is filler (`abc…z` repeated). A [`SequenceCheck`] on the receiving
//! side (a UDP server with `sequence_check`, or a TCP server's owner folding its `Received`
//! events into a [`StreamSequenceCheck`]) counts received, lost, duplicated and out-of-order
//! messages per sender and run, and one-way delay percentiles when the sender's address is a
//! loopback address (both ends on this machine, so both read the same clock).

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::select;
use hdrhistogram::Histogram;
use socket2::Type;

use super::error::{EngineError, ErrorClass, Op};
use super::event::{CloseReason, ConnId, EventKind, StopReason};
use super::lookup::resolve;
use super::options::{
    TcpOptions, apply_buffer_sizes, apply_tcp_options, bind, local_address, new_socket,
    peer_address,
};
use super::session::{EventSink, QueueSizes, Session, SessionShared, Waker, WorkerCtx, add, lock};
use super::udp::check_datagram_size;

/// Bytes of the sequence header at the start of each message.
pub const HEADER_LEN: usize = 32;
/// The first four bytes of a sequence header.
pub const MAGIC: [u8; 4] = *b"SLg1";
/// How often a running generator reports its progress.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(100);
/// The TCP generator's connection id in its events.
pub const GENERATOR_CONN: ConnId = 1;
/// Longest a finished TCP generator waits for the receiver to close after its FIN, so the
/// receiver reads every byte before the connection goes (closing with unread data would reset).
const CLOSE_WAIT: Duration = Duration::from_secs(5);
/// Senders tracked separately by one sequence check; datagrams of further senders are counted
/// in [`SequenceSummary::untracked`], so a flood of spoofed senders cannot grow memory.
pub const MAX_FLOWS: usize = 64;
/// How far behind the newest sequence number a late message can still be told apart from a
/// duplicate (one bit each, 8 KiB per sender).
pub const REORDER_WINDOW: u64 = 1 << 16;
/// Longest one-way delay the percentiles hold; longer ones count as this.
const MAX_DELAY_NS: u64 = 3_600_000_000_000;

/// The header at the start of each message of a sequence-numbered run (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SequenceHeader {
    /// Message length in bytes, header included.
    pub length: u32,
    /// Random per generator run.
    pub run: u32,
    /// Messages the run announces; 0 when open-ended.
    pub total: u32,
    /// 0 for the first message of the run.
    pub seq: u64,
    /// Nanoseconds since the Unix epoch when it was sent, by the sender's clock.
    pub sent_at_ns: u64,
}

impl SequenceHeader {
    /// Writes the header into the first [`HEADER_LEN`] bytes of `buf` (which must be that long).
    pub fn write(&self, buf: &mut [u8]) {
        buf[0..4].copy_from_slice(&MAGIC);
        buf[4..8].copy_from_slice(&self.length.to_be_bytes());
        buf[8..12].copy_from_slice(&self.run.to_be_bytes());
        buf[12..16].copy_from_slice(&self.total.to_be_bytes());
        buf[16..24].copy_from_slice(&self.seq.to_be_bytes());
        buf[24..32].copy_from_slice(&self.sent_at_ns.to_be_bytes());
    }

    /// Reads a header from the start of `buf`; `None` when it is shorter than a header, does not
    /// start with [`MAGIC`], or claims a length shorter than the header.
    pub fn parse(buf: &[u8]) -> Option<Self> {
        let head = buf.get(..HEADER_LEN)?;
        if head[0..4] != MAGIC {
            return None;
        }
        let u32_at =
            |i: usize| u32::from_be_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
        let u64_at = |i: usize| {
            let mut b = [0_u8; 8];
            b.copy_from_slice(&head[i..i + 8]);
            u64::from_be_bytes(b)
        };
        let header = SequenceHeader {
            length: u32_at(4),
            run: u32_at(8),
            total: u32_at(12),
            seq: u64_at(16),
            sent_at_ns: u64_at(24),
        };
        (header.length as usize >= HEADER_LEN).then_some(header)
    }
}

/// Nanoseconds since the Unix epoch for `t` (0 before it).
fn epoch_ns(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// How fast a generator sends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rate {
    /// As fast as the socket takes the messages.
    Max,
    /// This many messages (datagrams) per second.
    MessagesPerSecond(f64),
    /// This many payload bytes per second (messages of the plan's size, spread evenly).
    BytesPerSecond(f64),
}

impl Rate {
    /// Time between two messages of `size` bytes; `None` for [`Rate::Max`].
    pub fn interval(self, size: usize) -> Option<Duration> {
        let per_second = match self {
            Rate::Max => return None,
            Rate::MessagesPerSecond(n) => n,
            Rate::BytesPerSecond(b) => b / size.max(1) as f64,
        };
        (per_second.is_finite() && per_second > 0.0)
            .then(|| Duration::try_from_secs_f64(1.0 / per_second).ok())
            .flatten()
    }
}

/// What a generator sends: how much, how fast, how long.
#[derive(Debug, Clone, PartialEq)]
pub struct TrafficPlan {
    /// Bytes per message (datagram payload, or one TCP write). With `sequence` at least
    /// [`HEADER_LEN`].
    pub size: usize,
    /// How fast.
    pub rate: Rate,
    /// Stop after this many messages.
    pub count: Option<u64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Start each message with a [`SequenceHeader`].
    pub sequence: bool,
}

impl Default for TrafficPlan {
    fn default() -> Self {
        TrafficPlan {
            size: 64,
            rate: Rate::Max,
            count: None,
            duration: None,
            sequence: false,
        }
    }
}

impl TrafficPlan {
    /// Checks the plan before any socket is opened: the error names the field and the limit.
    pub fn check(&self) -> Result<(), EngineError> {
        let bad = |why: String| EngineError::NotNow { op: Op::Send, why };
        if self.size == 0 {
            return Err(bad("the message size must be at least 1 byte".to_owned()));
        }
        if self.sequence && self.size < HEADER_LEN {
            return Err(bad(format!(
                "a message of {} bytes cannot hold the {HEADER_LEN}-byte sequence header: choose {HEADER_LEN} bytes or more",
                self.size
            )));
        }
        if self.size > u32::MAX as usize {
            return Err(bad(format!(
                "a message of {} bytes is larger than the generator's limit of {} bytes",
                self.size,
                u32::MAX
            )));
        }
        if let Rate::MessagesPerSecond(r) | Rate::BytesPerSecond(r) = self.rate
            && !(r.is_finite() && r > 0.0)
        {
            return Err(bad(format!(
                "a rate of {r} per second is not possible: give a number above 0"
            )));
        }
        Ok(())
    }
}

/// Where a UDP generator sends.
#[derive(Debug, Clone)]
pub struct UdpGeneratorConfig {
    /// Target host name or literal.
    pub host: String,
    /// Target port.
    pub port: u16,
    /// Local address to send from; `None` lets the system choose.
    pub local: Option<SocketAddr>,
    /// `connect()` first, so "port unreachable" answers show up as refused sends.
    pub connect: bool,
    /// What to send.
    pub plan: TrafficPlan,
}

/// Where a TCP generator connects.
#[derive(Debug, Clone)]
pub struct TcpGeneratorConfig {
    /// Target host name or literal.
    pub host: String,
    /// Target port.
    pub port: u16,
    /// Local address to bind before connecting.
    pub local: Option<SocketAddr>,
    /// How long connecting may take.
    pub connect_timeout: Duration,
    /// Socket options set before `connect`.
    pub options: TcpOptions,
    /// What to send (the size is the size of each write).
    pub plan: TrafficPlan,
}

/// A generator takes no commands: it runs its plan, and Stop ends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeneratorCommand {}

/// A running generator session.
pub type Generator = Session<GeneratorCommand>;

/// How far a generator has got. The session's counters hold the same figures exactly
/// (`datagrams_out` or `writes`, and `bytes_out`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeneratorProgress {
    /// Messages sent whole.
    pub sent: u64,
    /// Payload bytes sent (a TCP write cut short by Stop counts the part that went out).
    pub bytes: u64,
    /// Since the first message.
    pub elapsed: Duration,
    /// The plan's count, if it has one.
    pub count: Option<u64>,
    /// The plan's duration, if it has one.
    pub duration: Option<Duration>,
}

impl GeneratorProgress {
    /// Messages per second achieved so far.
    pub fn messages_per_second(&self) -> f64 {
        per_second(self.sent as f64, self.elapsed)
    }

    /// Bits per second achieved so far.
    pub fn bits_per_second(&self) -> f64 {
        per_second(self.bytes as f64 * 8.0, self.elapsed)
    }

    /// How much of the plan is done (0 to 1), when it has a count or a duration.
    pub fn fraction_done(&self) -> Option<f64> {
        let by_count = self.count.map(|c| self.sent as f64 / c.max(1) as f64);
        let by_time = self
            .duration
            .map(|d| self.elapsed.as_secs_f64() / d.as_secs_f64().max(1e-9));
        match (by_count, by_time) {
            (Some(a), Some(b)) => Some(a.max(b).min(1.0)),
            (a, b) => a.or(b).map(|f| f.min(1.0)),
        }
    }
}

fn per_second(amount: f64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 { amount / secs } else { 0.0 }
}

/// How a generator run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GeneratorEnd {
    /// The count was sent, or the duration ran out.
    Completed,
    /// Stop was asked for first.
    Stopped,
    /// A send failed; the error names the call and the address.
    Failed(EngineError),
}

/// What a generator reports.
#[derive(Debug, Clone, PartialEq)]
pub enum GeneratorEvent {
    /// The run started: the target, and the run id in the sequence headers (if any).
    Started {
        /// Where the messages go.
        to: SocketAddr,
        /// The run id written in each header, when `sequence` is on.
        run: Option<u32>,
    },
    /// Progress, at most every [`PROGRESS_EVERY`] (skipped when the owner is behind: the
    /// counters are exact whatever the view shows).
    Progress(GeneratorProgress),
    /// The run is over: the final figures and why it ended.
    Finished {
        /// The final figures.
        progress: GeneratorProgress,
        /// Why it ended.
        end: GeneratorEnd,
    },
}

/// Starts a UDP generator: resolve, socket, bind, optionally connect, then send the plan.
pub fn start_udp(config: UdpGeneratorConfig, waker: Waker) -> Generator {
    let name = format!("udp-generator {}:{}", config.host, config.port);
    Session::spawn(name, QueueSizes::default(), waker, move |ctx| {
        let reason = match run_udp(&ctx, &config) {
            Ok(()) => StopReason::Requested,
            Err(e) => StopReason::Failed(e),
        };
        ctx.sink.ok(None, Op::Close, "");
        ctx.sink.emit(EventKind::Stopped { reason });
    })
}

/// Starts a TCP generator: resolve, connect, write the plan, half-close, close.
pub fn start_tcp(config: TcpGeneratorConfig, waker: Waker) -> Generator {
    let name = format!("tcp-generator {}:{}", config.host, config.port);
    Session::spawn(name, QueueSizes::tcp(), waker, move |ctx| {
        let reason = match run_tcp(&ctx, &config) {
            Ok(()) => StopReason::Requested,
            Err(e) => StopReason::Failed(e),
        };
        ctx.sink.emit(EventKind::Stopped { reason });
    })
}

fn generator_event(e: GeneratorEvent) -> EventKind {
    EventKind::Generator(Box::new(e))
}

fn resolve_reported(sink: &EventSink, host: &str, port: u16) -> Result<SocketAddr, EngineError> {
    let args = format!("\"{host}\", {port}");
    match resolve(host, port) {
        Ok(addrs) => {
            let list: Vec<String> = addrs.iter().map(ToString::to_string).collect();
            sink.call(None, Op::GetAddrInfo, args, Ok(list.join(", ")));
            addrs.first().copied().ok_or_else(|| EngineError::Resolve {
                host: host.to_owned(),
                message: "no address to connect to".to_owned(),
            })
        }
        Err(e) => {
            sink.call(None, Op::GetAddrInfo, args, Err(e.to_string()));
            Err(e)
        }
    }
}

/// A run's message buffer: filler, with the header rewritten before each send.
struct Messages {
    buf: Vec<u8>,
    header: Option<SequenceHeader>,
}

impl Messages {
    fn new(plan: &TrafficPlan) -> Self {
        const FILLER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
        // Doubling copies: a message of many megabytes is filled in a few dozen steps.
        let mut buf = Vec::with_capacity(plan.size);
        buf.extend_from_slice(&FILLER[..plan.size.min(FILLER.len())]);
        while buf.len() < plan.size {
            let n = buf.len().min(plan.size - buf.len());
            buf.extend_from_within(..n);
        }
        let total = plan.count.and_then(|c| u32::try_from(c).ok()).unwrap_or(0);
        let header = plan.sequence.then(|| SequenceHeader {
            length: plan.size as u32,
            run: fastrand::u32(1..),
            total,
            seq: 0,
            sent_at_ns: 0,
        });
        Messages { buf, header }
    }

    /// The next message's bytes, stamped with its sequence number and the time now.
    fn next(&mut self, seq: u64) -> &[u8] {
        if let Some(header) = self.header.as_mut() {
            header.seq = seq;
            header.sent_at_ns = epoch_ns(SystemTime::now());
            header.write(&mut self.buf);
        }
        &self.buf
    }
}

/// The schedule of a run and the progress reports along it.
struct Pacer {
    start: Instant,
    interval: Option<Duration>,
    end: Option<Instant>,
    next_report: Instant,
    count: Option<u64>,
    duration: Option<Duration>,
}

/// What the pacer says to do next.
enum Step {
    Send,
    Done(GeneratorEnd),
}

impl Pacer {
    fn new(plan: &TrafficPlan) -> Self {
        let start = Instant::now();
        Pacer {
            start,
            interval: plan.rate.interval(plan.size),
            end: plan.duration.map(|d| start + d),
            next_report: start + PROGRESS_EVERY,
            count: plan.count,
            duration: plan.duration,
        }
    }

    fn progress(&self, shared: &SessionShared, sent: u64, tcp: bool) -> GeneratorProgress {
        let c = shared.counters.snapshot();
        GeneratorProgress {
            sent: if tcp { c.writes } else { sent },
            bytes: c.bytes_out,
            elapsed: self.start.elapsed(),
            count: self.count,
            duration: self.duration,
        }
    }

    /// Waits until message `sent` is due (or Stop, or the end of the run), reporting progress on
    /// the way. Only paced runs and progress reports read the clock.
    fn step(&mut self, ctx: &WorkerCtx<GeneratorCommand>, sent: u64, tcp: bool) -> Step {
        loop {
            if ctx.shared.is_stopping() {
                return Step::Done(GeneratorEnd::Stopped);
            }
            if self.count.is_some_and(|c| sent >= c) {
                return Step::Done(GeneratorEnd::Completed);
            }
            // A run at full speed looks at the clock every 64 messages (a few microseconds).
            if self.interval.is_none() && self.end.is_none() && !sent.is_multiple_of(64) {
                return Step::Send;
            }
            let now = Instant::now();
            if self.end.is_some_and(|end| now >= end) {
                return Step::Done(GeneratorEnd::Completed);
            }
            if now >= self.next_report {
                self.next_report = now + PROGRESS_EVERY;
                let progress = self.progress(&ctx.shared, sent, tcp);
                let _ = ctx
                    .sink
                    .try_emit(generator_event(GeneratorEvent::Progress(progress)));
            }
            let due = self
                .interval
                .map_or(now, |i| self.start + i.mul_f64(sent as f64));
            if due <= now {
                return Step::Send;
            }
            let wake = [Some(due), Some(self.next_report), self.end]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(due);
            select! {
                recv(ctx.stop) -> _ => return Step::Done(GeneratorEnd::Stopped),
                recv(ctx.sink.abort_signal()) -> _ => return Step::Done(GeneratorEnd::Stopped),
                default(wake.saturating_duration_since(now)) => {}
            }
        }
    }
}

/// True for a send error that means "try again" rather than failure: interrupted, would block,
/// or (Linux) `ENOBUFS`, the local queue momentarily full — the datagram was not sent.
fn transient(e: &std::io::Error) -> bool {
    const ENOBUFS: i32 = 105;
    matches!(e.kind(), ErrorKind::Interrupted | ErrorKind::WouldBlock)
        || (cfg!(target_os = "linux") && e.raw_os_error() == Some(ENOBUFS))
}

fn run_udp(
    ctx: &WorkerCtx<GeneratorCommand>,
    config: &UdpGeneratorConfig,
) -> Result<(), EngineError> {
    let sink = &ctx.sink;
    config.plan.check()?;
    let target = resolve_reported(sink, &config.host, config.port)?;
    check_datagram_size(target, config.plan.size)?;
    let unspecified = if target.is_ipv4() {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    };
    let local_bind = config.local.unwrap_or(SocketAddr::new(unspecified, 0));
    let socket = new_socket(sink, None, &local_bind, Type::DGRAM)?;
    // A deep send queue keeps the sender from stalling on ENOBUFS in bursts.
    apply_buffer_sizes(sink, None, &socket, &target, None, Some(4 * 1024 * 1024))?;
    bind(sink, &socket, &local_bind)?;
    if config.connect {
        sink.report(
            None,
            Op::Connect,
            target.to_string(),
            target,
            socket.connect(&target.into()),
            |()| "peer fixed; no packet sent".to_owned(),
        )?;
    }
    let local = local_address(sink, None, &socket, &target)?;
    *lock(&ctx.shared.local_addr) = Some(local);
    sink.emit(EventKind::Ready {
        local,
        peer: config.connect.then_some(target),
    });
    let socket: UdpSocket = socket.into();
    let plan = &config.plan;
    let mut messages = Messages::new(plan);
    sink.emit(generator_event(GeneratorEvent::Started {
        to: target,
        run: messages.header.map(|h| h.run),
    }));
    let mut pacer = Pacer::new(plan);
    let mut sent = 0_u64;
    let counters = &ctx.shared.counters;
    let end = loop {
        match pacer.step(ctx, sent, false) {
            Step::Done(end) => break end,
            Step::Send => {}
        }
        let data = messages.next(sent);
        let result = if config.connect {
            socket.send(data)
        } else {
            socket.send_to(data, target)
        };
        match result {
            Ok(n) => {
                sent += 1;
                add(&counters.datagrams_out, 1);
                add(&counters.bytes_out, n);
            }
            Err(e) if transient(&e) => std::thread::yield_now(),
            Err(e) => {
                let op = if config.connect { Op::Send } else { Op::SendTo };
                sink.call(
                    None,
                    op,
                    format!("{} bytes, {target}", data.len()),
                    Err(e.to_string()),
                );
                break GeneratorEnd::Failed(EngineError::io(op, target, &e));
            }
        }
    };
    let progress = pacer.progress(&ctx.shared, sent, false);
    let failure = match &end {
        GeneratorEnd::Failed(e) => Some(e.clone()),
        _ => None,
    };
    sink.emit(generator_event(GeneratorEvent::Finished { progress, end }));
    failure.map_or(Ok(()), Err)
}

fn connect_tcp(
    ctx: &WorkerCtx<GeneratorCommand>,
    config: &TcpGeneratorConfig,
    addr: SocketAddr,
) -> Result<(TcpStream, SocketAddr, SocketAddr), EngineError> {
    let sink = &ctx.sink;
    let socket = new_socket(sink, None, &addr, Type::STREAM)?;
    apply_tcp_options(sink, None, &socket, &addr, &config.options)?;
    if let Some(local) = config.local {
        bind(sink, &socket, &local)?;
    }
    // Stop interrupts a connect (and, later, a write the peer does not read) by shutting the
    // socket down from the handle's thread.
    if let Ok(clone) = socket.try_clone() {
        *lock(&ctx.shared.interrupt) = Some(Box::new(move || {
            let _ = clone.shutdown(Shutdown::Both);
        }));
    }
    if ctx.shared.is_stopping() {
        return Err(EngineError::NotNow {
            op: Op::Connect,
            why: "the generator was stopped before it connected".to_owned(),
        });
    }
    let timeout_ms = u64::try_from(config.connect_timeout.as_millis()).unwrap_or(u64::MAX);
    match socket.connect_timeout(&addr.into(), config.connect_timeout) {
        Ok(()) => sink.ok(None, Op::Connect, addr.to_string()),
        Err(e) => {
            sink.call(None, Op::Connect, addr.to_string(), Err(e.to_string()));
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
    Ok((socket.into(), local, peer))
}

fn run_tcp(
    ctx: &WorkerCtx<GeneratorCommand>,
    config: &TcpGeneratorConfig,
) -> Result<(), EngineError> {
    let sink = &ctx.sink;
    config.plan.check()?;
    let target = resolve_reported(sink, &config.host, config.port)?;
    let connected = connect_tcp(ctx, config, target);
    let (mut stream, local, peer) = match connected {
        Ok(c) => c,
        Err(e) => {
            *lock(&ctx.shared.interrupt) = None;
            sink.ok(None, Op::Close, "");
            return if ctx.shared.is_stopping() {
                Ok(())
            } else {
                Err(e)
            };
        }
    };
    *lock(&ctx.shared.local_addr) = Some(local);
    sink.emit(EventKind::Connected {
        conn: GENERATOR_CONN,
        local,
        peer,
    });
    let plan = &config.plan;
    let mut messages = Messages::new(plan);
    sink.emit(generator_event(GeneratorEvent::Started {
        to: peer,
        run: messages.header.map(|h| h.run),
    }));
    let mut pacer = Pacer::new(plan);
    let counters = &ctx.shared.counters;
    let mut sent = 0_u64;
    let end = 'run: loop {
        match pacer.step(ctx, sent, true) {
            Step::Done(end) => break end,
            Step::Send => {}
        }
        let mut data = messages.next(sent);
        while !data.is_empty() {
            match stream.write(data) {
                Ok(0) => {
                    let e = std::io::Error::from(ErrorKind::WriteZero);
                    break 'run GeneratorEnd::Failed(EngineError::io(Op::Send, peer, &e));
                }
                Ok(n) => {
                    add(&counters.bytes_out, n);
                    data = &data[n..];
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                // Stop shut the socket down under a write the peer was not reading.
                Err(_) if ctx.shared.is_stopping() => break 'run GeneratorEnd::Stopped,
                Err(e) => {
                    sink.call(
                        Some(GENERATOR_CONN),
                        Op::Send,
                        format!("{} bytes", data.len()),
                        Err(e.to_string()),
                    );
                    break 'run GeneratorEnd::Failed(EngineError::io(Op::Send, peer, &e));
                }
            }
        }
        sent += 1;
        add(&counters.writes, 1);
    };
    let progress = pacer.progress(&ctx.shared, sent, true);
    let failure = match &end {
        GeneratorEnd::Failed(e) => Some(e.clone()),
        _ => None,
    };
    let completed = end == GeneratorEnd::Completed;
    sink.emit(generator_event(GeneratorEvent::Finished { progress, end }));
    let reason = if completed {
        finish_tcp(ctx, &mut stream, peer)
    } else if failure.is_some() {
        CloseReason::Failed(failure.clone().unwrap_or(EngineError::SessionEnded))
    } else {
        CloseReason::YouClosed
    };
    *lock(&ctx.shared.interrupt) = None;
    drop(stream);
    sink.ok(Some(GENERATOR_CONN), Op::Close, "");
    sink.emit(EventKind::Disconnected {
        conn: GENERATOR_CONN,
        peer,
        reason,
    });
    failure.map_or(Ok(()), Err)
}

/// After the last message: FIN, then read (and discard) until the receiver closes too, so the
/// receiver gets every byte — closing with its data unread here would send a reset instead.
fn finish_tcp(
    ctx: &WorkerCtx<GeneratorCommand>,
    stream: &mut TcpStream,
    peer: SocketAddr,
) -> CloseReason {
    let sink = &ctx.sink;
    if let Err(e) = stream.shutdown(Shutdown::Write) {
        sink.call(
            Some(GENERATOR_CONN),
            Op::Shutdown,
            "SHUT_WR",
            Err(e.to_string()),
        );
        return CloseReason::Failed(EngineError::io(Op::Shutdown, peer, &e));
    }
    sink.ok(Some(GENERATOR_CONN), Op::Shutdown, "SHUT_WR");
    sink.emit(EventKind::WriteShutdown {
        conn: GENERATOR_CONN,
        peer,
    });
    let deadline = Instant::now() + CLOSE_WAIT;
    let mut buf = vec![0_u8; 16 * 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || ctx.shared.is_stopping() {
            return CloseReason::YouClosed;
        }
        let _ = stream.set_read_timeout(Some(left));
        match stream.read(&mut buf) {
            Ok(0) => {
                sink.emit(EventKind::PeerFinished {
                    conn: GENERATOR_CONN,
                    peer,
                });
                return CloseReason::PeerClosed;
            }
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return CloseReason::YouClosed,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The receiving side.

/// One-way delay percentiles of a sender's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DelayPercentiles {
    /// Messages measured.
    pub samples: u64,
    /// Smallest delay.
    pub min: Duration,
    /// Median.
    pub p50: Duration,
    /// 90th percentile.
    pub p90: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Largest delay.
    pub max: Duration,
}

/// What a sequence check saw of one sender's run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowReport {
    /// The sender.
    pub peer: SocketAddr,
    /// The run id from its headers.
    pub run: u32,
    /// Messages the run announced (its count); `None` when open-ended.
    pub announced: Option<u64>,
    /// Messages expected: the announced count, or (open-ended) the highest sequence number seen
    /// plus one — a loss after the last arrival cannot be seen then.
    pub expected: u64,
    /// Distinct messages received.
    pub received: u64,
    /// Expected but never received: `expected − received`.
    pub lost: u64,
    /// Extra copies of messages already received.
    pub duplicated: u64,
    /// Messages that arrived after one with a higher sequence number.
    pub out_of_order: u64,
    /// Late messages so far behind (more than [`REORDER_WINDOW`]) that they could not be told
    /// apart from duplicates; counted as received and out of order.
    pub too_late_to_check: u64,
    /// One-way delays, when the sender is on this machine (a loopback address); `None` otherwise,
    /// since two machines' clocks differ.
    pub delay: Option<DelayPercentiles>,
}

/// Everything a sequence check saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SequenceSummary {
    /// One report per sender and run, in the order they were first seen.
    pub flows: Vec<FlowReport>,
    /// Messages without a valid sequence header (counted, not checked).
    pub without_header: u64,
    /// Messages of senders beyond [`MAX_FLOWS`] (counted, not checked).
    pub untracked: u64,
}

struct Flow {
    peer: SocketAddr,
    run: u32,
    total: u32,
    received: u64,
    duplicated: u64,
    out_of_order: u64,
    too_late: u64,
    highest: Option<u64>,
    seen: Box<[u64]>,
    delays: Option<Histogram<u64>>,
}

impl Flow {
    fn new(peer: SocketAddr, run: u32, total: u32) -> Self {
        // Two significant digits (1%): ≈ 30 KiB per sender for 1 ns to 1 hour.
        let delays = peer
            .ip()
            .is_loopback()
            .then(|| Histogram::new_with_bounds(1, MAX_DELAY_NS, 2).ok())
            .flatten();
        Flow {
            peer,
            run,
            total,
            received: 0,
            duplicated: 0,
            out_of_order: 0,
            too_late: 0,
            highest: None,
            seen: vec![0_u64; (REORDER_WINDOW / 64) as usize].into_boxed_slice(),
            delays,
        }
    }

    fn bit(&mut self, seq: u64) -> (&mut u64, u64) {
        let slot = seq % REORDER_WINDOW;
        (&mut self.seen[(slot / 64) as usize], 1_u64 << (slot % 64))
    }

    fn observe(&mut self, header: &SequenceHeader, at: SystemTime) {
        let seq = header.seq;
        match self.highest {
            Some(high) if seq <= high => {
                if high - seq >= REORDER_WINDOW {
                    self.too_late += 1;
                    self.out_of_order += 1;
                    self.received += 1;
                } else {
                    let (word, mask) = self.bit(seq);
                    if *word & mask != 0 {
                        self.duplicated += 1;
                        return;
                    }
                    *word |= mask;
                    self.received += 1;
                    self.out_of_order += 1;
                }
            }
            _ => {
                // Clear the slots the window moves over (all of them after a big jump).
                let from = self.highest.map_or(0, |h| h + 1);
                if seq - from >= REORDER_WINDOW {
                    self.seen.fill(0);
                } else {
                    for s in from..seq {
                        let (word, mask) = self.bit(s);
                        *word &= !mask;
                    }
                }
                let (word, mask) = self.bit(seq);
                *word |= mask;
                self.highest = Some(seq);
                self.received += 1;
            }
        }
        if let Some(h) = self.delays.as_mut() {
            let delay = epoch_ns(at).saturating_sub(header.sent_at_ns).max(1);
            h.saturating_record(delay.min(MAX_DELAY_NS));
        }
    }

    fn report(&self) -> FlowReport {
        let announced = (self.total > 0).then_some(u64::from(self.total));
        let expected = announced.unwrap_or_else(|| self.highest.map_or(0, |h| h + 1));
        let delay = self.delays.as_ref().filter(|h| !h.is_empty()).map(|h| {
            let d = |q: f64| Duration::from_nanos(h.value_at_quantile(q));
            DelayPercentiles {
                samples: h.len(),
                min: Duration::from_nanos(h.min()),
                p50: d(0.5),
                p90: d(0.9),
                p99: d(0.99),
                max: Duration::from_nanos(h.max()),
            }
        });
        FlowReport {
            peer: self.peer,
            run: self.run,
            announced,
            expected,
            received: self.received,
            lost: expected.saturating_sub(self.received),
            duplicated: self.duplicated,
            out_of_order: self.out_of_order,
            too_late_to_check: self.too_late,
            delay,
        }
    }
}

#[derive(Default)]
struct CheckState {
    flows: Vec<Flow>,
    index: HashMap<(SocketAddr, u32), usize>,
    without_header: u64,
    untracked: u64,
}

impl CheckState {
    fn observe(&mut self, peer: SocketAddr, data: &[u8], at: SystemTime) {
        let Some(header) = SequenceHeader::parse(data) else {
            self.without_header += 1;
            return;
        };
        let key = (peer, header.run);
        let i = match self.index.get(&key) {
            Some(&i) => i,
            None if self.flows.len() >= MAX_FLOWS => {
                self.untracked += 1;
                return;
            }
            None => {
                self.flows.push(Flow::new(peer, header.run, header.total));
                self.index.insert(key, self.flows.len() - 1);
                self.flows.len() - 1
            }
        };
        self.flows[i].observe(&header, at);
    }

    fn summary(&self) -> SequenceSummary {
        SequenceSummary {
            flows: self.flows.iter().map(Flow::report).collect(),
            without_header: self.without_header,
            untracked: self.untracked,
        }
    }
}

/// Checks sequence-numbered datagrams as they arrive. A UDP server given one
/// (`UdpServerConfig::sequence_check`) feeds it every datagram from its reader thread, before
/// anything can drop it from view, so the figures are exact; the owner keeps a clone and reads
/// [`SequenceCheck::summary`] whenever it likes. Memory is bounded ([`MAX_FLOWS`] senders).
#[derive(Clone, Default)]
pub struct SequenceCheck {
    state: Arc<Mutex<CheckState>>,
}

impl std::fmt::Debug for SequenceCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SequenceCheck").finish_non_exhaustive()
    }
}

impl SequenceCheck {
    /// A check that has seen nothing yet.
    pub fn new() -> Self {
        SequenceCheck::default()
    }

    /// Counts one datagram from `peer` that arrived at `at`.
    pub fn observe(&self, peer: SocketAddr, data: &[u8], at: SystemTime) {
        lock(&self.state).observe(peer, data, at);
    }

    /// What it has seen so far.
    pub fn summary(&self) -> SequenceSummary {
        lock(&self.state).summary()
    }
}

/// The sequence check of TCP streams: finds each message in the byte stream by its header's
/// length, whatever the reads cut it into, and checks it like a datagram. Feed it every
/// `Received` event of a server (TCP events are never dropped: readers wait for the owner).
/// Bytes that do not start a header where one should be are skipped until the next [`MAGIC`].
#[derive(Debug, Default)]
pub struct StreamSequenceCheck {
    check: SequenceCheck,
    streams: HashMap<ConnId, StreamState>,
    /// Bytes skipped because no header was where one should start.
    skipped_bytes: u64,
}

#[derive(Debug, Default)]
struct StreamState {
    /// The header being collected.
    head: Vec<u8>,
    /// Body bytes of the current message still to skip.
    body_left: u64,
}

impl StreamSequenceCheck {
    /// A check that has seen nothing yet.
    pub fn new() -> Self {
        StreamSequenceCheck::default()
    }

    /// Feeds the bytes of one `recv` on connection `conn` from `peer`, received at `at`.
    pub fn observe(&mut self, conn: ConnId, peer: SocketAddr, mut data: &[u8], at: SystemTime) {
        let stream = self.streams.entry(conn).or_default();
        while !data.is_empty() {
            if stream.body_left > 0 {
                let n = data
                    .len()
                    .min(usize::try_from(stream.body_left).unwrap_or(usize::MAX));
                stream.body_left -= n as u64;
                data = &data[n..];
                continue;
            }
            let want = HEADER_LEN - stream.head.len();
            let n = want.min(data.len());
            stream.head.extend_from_slice(&data[..n]);
            data = &data[n..];
            if stream.head.len() < HEADER_LEN {
                break;
            }
            if let Some(header) = SequenceHeader::parse(&stream.head) {
                self.check.observe(peer, &stream.head, at);
                stream.body_left = u64::from(header.length) - HEADER_LEN as u64;
                stream.head.clear();
            } else {
                // Out of step: drop bytes up to the next possible start of a header.
                let next = stream.head[1..]
                    .windows(MAGIC.len())
                    .position(|w| w == MAGIC)
                    .map_or_else(
                        || {
                            let keep = (1..MAGIC.len())
                                .rev()
                                .find(|k| stream.head.ends_with(&MAGIC[..*k]))
                                .unwrap_or(0);
                            HEADER_LEN - keep
                        },
                        |p| p + 1,
                    );
                self.skipped_bytes += next as u64;
                stream.head.drain(..next);
            }
        }
    }

    /// Forgets a connection's partial message when it ends.
    pub fn closed(&mut self, conn: ConnId) {
        if let Some(stream) = self.streams.remove(&conn)
            && !stream.head.is_empty()
        {
            self.skipped_bytes += stream.head.len() as u64;
        }
    }

    /// What it has seen so far.
    pub fn summary(&self) -> SequenceSummary {
        self.check.summary()
    }

    /// Bytes skipped because they were not part of a sequence-numbered message.
    pub fn skipped_bytes(&self) -> u64 {
        self.skipped_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(seq: u64, total: u32) -> Vec<u8> {
        let mut buf = vec![0_u8; 40];
        SequenceHeader {
            length: 40,
            run: 7,
            total,
            seq,
            sent_at_ns: epoch_ns(SystemTime::now()),
        }
        .write(&mut buf);
        buf
    }

    #[test]
    fn header_round_trips_and_rejects_other_bytes() {
        let h = SequenceHeader {
            length: 64,
            run: 0xDEAD_BEEF,
            total: 10,
            seq: 1 << 40,
            sent_at_ns: 123_456_789,
        };
        let mut buf = [0_u8; 64];
        h.write(&mut buf);
        assert_eq!(&buf[..4], b"SLg1");
        assert_eq!(SequenceHeader::parse(&buf), Some(h));
        assert_eq!(SequenceHeader::parse(&buf[..31]), None);
        buf[0] = b'X';
        assert_eq!(SequenceHeader::parse(&buf), None);
    }

    #[test]
    fn loss_duplicates_and_reordering_are_counted() {
        let check = SequenceCheck::new();
        let peer: SocketAddr = "127.0.0.1:9".parse().unwrap();
        for seq in [0, 1, 3, 2, 2, 5, 9] {
            check.observe(peer, &header(seq, 10), SystemTime::now());
        }
        check.observe(peer, b"no header", SystemTime::now());
        let s = check.summary();
        let f = &s.flows[0];
        assert_eq!((f.received, f.duplicated, f.out_of_order), (6, 1, 1));
        assert_eq!((f.expected, f.lost), (10, 4));
        assert_eq!(s.without_header, 1);
        assert!(f.delay.is_some(), "a loopback sender gets delays");
    }

    #[test]
    fn a_stream_split_anywhere_gives_the_same_messages() {
        let peer: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let stream: Vec<u8> = (0..20).flat_map(|s| header(s, 20)).collect();
        for cut in [1, 3, 31, 32, 33, 39, 40, 41, 799] {
            let mut check = StreamSequenceCheck::new();
            for piece in stream.chunks(cut) {
                check.observe(1, peer, piece, SystemTime::now());
            }
            let f = &check.summary().flows[0];
            assert_eq!(
                (f.received, f.lost, f.out_of_order),
                (20, 0, 0),
                "cut {cut}"
            );
            assert_eq!(check.skipped_bytes(), 0);
        }
    }

    #[test]
    fn rates_become_intervals() {
        assert_eq!(Rate::Max.interval(64), None);
        assert_eq!(
            Rate::MessagesPerSecond(1000.0).interval(64),
            Some(Duration::from_millis(1))
        );
        assert_eq!(
            Rate::BytesPerSecond(64_000.0).interval(64),
            Some(Duration::from_millis(1))
        );
    }
}
