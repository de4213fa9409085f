//! Item 2: a raw sender fires datagrams at an engine UDP server as fast as it can; the owner
//! accounts for every one (shown, or reported as not shown; the rest were dropped by the kernel).
//! Baseline: the same sender into a raw `recv_from` loop with the same receive buffer.

use std::cell::Cell;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use socket2::{Domain, Socket, Type};
use socketlab::engine::udp::{self, DEFAULT_RECV_BUFFER};
use socketlab::engine::{EventKind, UdpServerConfig};

use crate::consumer::{Drain, Flow, consume, waker};
use crate::report::{Row, median, spread};
use crate::{Mode, sys};

/// How long the receiver may stay silent after the sender finished before the missing datagrams
/// are declared unaccounted for.
const QUIET_LIMIT: Duration = Duration::from_secs(3);

/// A sender thread and the flag it raises when it has sent everything.
pub struct Sender {
    handle: JoinHandle<Result<(), String>>,
    done: Arc<AtomicBool>,
}

impl Sender {
    /// Sends `count` datagrams of `size` bytes to `to`, from a connected raw socket.
    fn start(to: SocketAddr, size: usize, count: u64) -> Self {
        Self::start_paced(to, size, count, None)
    }

    /// The same, at most `rate` datagrams per second when given: every millisecond it catches
    /// up to the rate, so the offered load is the same whoever receives.
    pub fn start_paced(to: SocketAddr, size: usize, count: u64, rate: Option<f64>) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&done);
        let handle = thread::spawn(move || {
            let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
                .map_err(|e| format!("raw sender: bind: {e}"))?;
            socket
                .connect(to)
                .map_err(|e| format!("raw sender: connect({to}): {e}"))?;
            let payload = vec![0x42_u8; size];
            let start = Instant::now();
            for sent in 0..count {
                if let Some(rate) = rate {
                    let due = start + Duration::from_secs_f64(sent as f64 / rate);
                    if let Some(wait) = due.checked_duration_since(Instant::now())
                        && wait > Duration::from_millis(1)
                    {
                        thread::sleep(wait);
                    }
                }
                loop {
                    match socket.send(&payload) {
                        Ok(_) => break,
                        // The local send queue was momentarily full: the datagram was not sent.
                        Err(e) if e.raw_os_error() == Some(105) => thread::yield_now(),
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(format!("raw sender: send to {to}: {e}")),
                    }
                }
            }
            flag.store(true, Ordering::Release);
            Ok(())
        });
        Sender { handle, done }
    }

    fn finished(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }

    /// Waits for the sender to finish; its error, if it failed.
    pub fn join(self) -> Result<(), String> {
        self.handle
            .join()
            .map_err(|_| "raw sender panicked".to_owned())?
    }
}

/// What one run measured.
struct UdpRun {
    /// Datagrams the receiver took from the socket.
    received: u64,
    /// Of those, how many the owner saw as data (engine only).
    shown: u64,
    /// Of those, how many the owner was told were not shown (engine only).
    not_shown: u64,
    /// Dropped by the kernel because the receive buffer was full.
    kernel_drops: u64,
    /// From the first send to the last datagram accounted for.
    seconds: f64,
}

impl UdpRun {
    fn rate(&self) -> f64 {
        self.received as f64 / self.seconds
    }
}

fn raw(size: usize, count: u64) -> Result<UdpRun, String> {
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, None).map_err(|e| e.to_string())?;
    socket
        .set_recv_buffer_size(DEFAULT_RECV_BUFFER)
        .map_err(|e| format!("raw receiver: SO_RCVBUF: {e}"))?;
    let bind: SocketAddr = (Ipv4Addr::LOCALHOST, 0).into();
    socket.bind(&bind.into()).map_err(|e| e.to_string())?;
    let socket: UdpSocket = socket.into();
    socket
        .set_read_timeout(Some(Duration::from_millis(20)))
        .map_err(|e| e.to_string())?;
    let local = socket.local_addr().map_err(|e| e.to_string())?;
    let mut buf = vec![0_u8; 65_536];
    let start = Instant::now();
    let sender = Sender::start(local, size, count);
    let mut received = 0_u64;
    let mut last = start;
    loop {
        match socket.recv_from(&mut buf) {
            Ok(_) => {
                received += 1;
                last = Instant::now();
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if sender.finished() {
                    let drops = sys::udp_drops(local).unwrap_or(0);
                    if received + drops >= count || last.elapsed() > QUIET_LIMIT {
                        break;
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("raw receiver: recvfrom on {local}: {e}")),
        }
        if start.elapsed() > Duration::from_mins(2) {
            return Err("raw receiver: timed out".to_owned());
        }
    }
    let kernel_drops = sys::udp_drops(local).unwrap_or(0);
    sender.join()?;
    Ok(UdpRun {
        received,
        shown: received,
        not_shown: 0,
        kernel_drops,
        seconds: (last - start).as_secs_f64(),
    })
}

fn engine(size: usize, count: u64, drain: Drain) -> Result<UdpRun, String> {
    let (waker, wake) = waker();
    let server = udp::start_server(UdpServerConfig::default(), waker);
    let local = crate::wait_bound(&server)?;
    let start = Instant::now();
    let sender = Sender::start(local, size, count);
    // Both closures below read and update the tallies, so they live in cells.
    let shown = Cell::new(0_u64);
    let not_shown = Cell::new(0_u64);
    let last = Cell::new(start);
    let kernel_drops = Cell::new(0_u64);
    let mut failure = None;
    let complete = consume(
        &server,
        &wake,
        drain,
        start + Duration::from_mins(2),
        |event| {
            match event.kind {
                EventKind::Datagrams(batch) => {
                    shown.set(shown.get() + batch.len() as u64);
                    last.set(Instant::now());
                }
                EventKind::NotShown { datagrams, .. } => {
                    not_shown.set(not_shown.get() + datagrams);
                    last.set(Instant::now());
                }
                EventKind::Stopped { reason } => {
                    failure = Some(format!("server stopped: {reason}"));
                }
                _ => {}
            }
            if failure.is_some() {
                Flow::Done
            } else {
                Flow::More
            }
        },
        || {
            if !sender.finished() {
                return Flow::More;
            }
            kernel_drops.set(sys::udp_drops(local).unwrap_or(0));
            if shown.get() + not_shown.get() + kernel_drops.get() >= count
                || last.get().elapsed() > QUIET_LIMIT
            {
                Flow::Done
            } else {
                Flow::More
            }
        },
    );
    let received = server.counters().datagrams_in;
    sender.join()?;
    if let Some(f) = failure {
        return Err(f);
    }
    if !complete {
        return Err("timed out".to_owned());
    }
    crate::stop_cleanly(&server)?;
    Ok(UdpRun {
        received,
        shown: shown.get(),
        not_shown: not_shown.get(),
        kernel_drops: kernel_drops.get(),
        seconds: (last.get() - start).as_secs_f64(),
    })
}

/// Every datagram sent is either received (shown or reported not shown) or a kernel drop.
fn accounted(run: &UdpRun, count: u64) -> bool {
    run.shown + run.not_shown == run.received && run.received + run.kernel_drops == count
}

/// Runs item 2 and emits its rows. Fails if any datagram is unaccounted for.
pub fn run(mode: Mode) -> Result<(), String> {
    let count: u64 = if mode.full { 1_000_000 } else { 20_000 };
    let reps = if mode.full { 3 } else { 1 };
    let mut failures = Vec::new();
    for size in [64_usize, 1400] {
        for drain in [Drain::Continuous, Drain::PerFrame] {
            let mut raw_rates = Vec::new();
            let mut engine_rates = Vec::new();
            let mut raw_drops = 0;
            let mut worst = None::<UdpRun>;
            let mut all_accounted = true;
            let mut pair_ratios = Vec::new();
            for _ in 0..reps {
                let r = raw(size, count)?;
                raw_drops += r.kernel_drops;
                raw_rates.push(r.rate());
                let e = engine(size, count, drain)?;
                engine_rates.push(e.rate());
                pair_ratios.push(e.rate() / r.rate());
                all_accounted &= accounted(&e, count);
                let lost = e.kernel_drops + e.not_shown;
                if worst
                    .as_ref()
                    .is_none_or(|w| lost >= w.kernel_drops + w.not_shown)
                {
                    worst = Some(e);
                }
            }
            let Some(worst) = worst else { continue };
            let raw_rate = median(&mut raw_rates);
            let engine_rate = median(&mut engine_rates);
            let ratio = engine_rate / raw_rate;
            let accounting = format!(
                "shown {} + not shown {} + kernel drops {} = {} of {count} sent",
                worst.shown,
                worst.not_shown,
                worst.kernel_drops,
                worst.shown + worst.not_shown + worst.kernel_drops
            );
            eprintln!(
                "  udp receive {size} B, {}: raw {:.0} kpps, engine {:.0} kpps ({ratio:.2}×); \
                 worst run: {accounting}",
                drain.label(),
                raw_rate / 1e3,
                engine_rate / 1e3
            );
            if !all_accounted {
                failures.push(format!(
                    "{size} B, {}: datagrams unaccounted for ({accounting})",
                    drain.label()
                ));
            }
            Row {
                item: 2,
                what: format!(
                    "UDP receive, {count} × {size} B into an engine server, {} (median of {reps}; \
                     accounting of the run that lost most)",
                    drain.label()
                ),
                baseline: Some(format!(
                    "{:.0} kdatagrams/s ({raw_drops} kernel drops in {reps} runs)",
                    raw_rate / 1e3
                )),
                engine: format!("{:.0} kdatagrams/s; {accounting}", engine_rate / 1e3),
                ratio: Some(format!("{ratio:.2}×{}", spread(&pair_ratios))),
                target: "≥ 0.8×; every datagram accounted for".to_owned(),
                met: Some(ratio >= 0.8 && all_accounted),
            }
            .emit();
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("; "))
    }
}
