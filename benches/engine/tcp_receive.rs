//! Item 1: a raw sender pushes a stream into an engine TCP server; the owner counts every
//! `Received` byte. Baseline: the same sender into a raw blocking receive loop.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use socketlab::engine::{EventKind, TcpServerConfig, tcp_server};

use crate::consumer::{Drain, Flow, consume, waker};
use crate::report::{Row, gbit_per_s, median, spread};
use crate::{Mode, sys};

/// Size of each `write` and of the raw receiver's buffer.
const IO_SIZE: usize = 64 * 1024;

/// Writes `total` bytes to `to` in `IO_SIZE` writes, then half-closes.
fn send_stream(to: SocketAddr, total: u64) -> Result<(), String> {
    let mut stream =
        TcpStream::connect(to).map_err(|e| format!("raw sender: connect({to}): {e}"))?;
    let block = vec![0x5a_u8; IO_SIZE];
    let mut left = total;
    while left > 0 {
        let n = left.min(IO_SIZE as u64) as usize;
        stream
            .write_all(&block[..n])
            .map_err(|e| format!("raw sender: send to {to}: {e}"))?;
        left -= n as u64;
    }
    stream
        .shutdown(Shutdown::Write)
        .map_err(|e| format!("raw sender: shutdown: {e}"))
}

/// Raw baseline: seconds to receive `total` bytes in a blocking loop.
fn raw(total: u64) -> Result<f64, String> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let start = Instant::now();
    let sender = thread::spawn(move || send_stream(addr, total));
    let (mut stream, _) = listener.accept().map_err(|e| e.to_string())?;
    let mut buf = vec![0_u8; IO_SIZE];
    let mut received = 0_u64;
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => received += n as u64,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("raw receiver: recv: {e}")),
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    sender
        .join()
        .map_err(|_| "raw sender panicked".to_owned())??;
    if received != total {
        return Err(format!("raw receiver got {received} of {total} bytes"));
    }
    Ok(seconds)
}

/// What one engine run measured.
struct EngineRun {
    seconds: f64,
    minor_faults: u64,
}

/// Engine: seconds until the owner has counted `total` bytes of `Received` events.
fn engine(total: u64, drain: Drain) -> Result<EngineRun, String> {
    let (waker, wake) = waker();
    let server = tcp_server::start(TcpServerConfig::default(), waker);
    let local = crate::wait_bound(&server)?;
    let faults_before = sys::usage().minor_faults;
    let start = Instant::now();
    let sender = thread::spawn(move || send_stream(local, total));
    let mut counted = 0_u64;
    let mut failure = None;
    let finished = consume(
        &server,
        &wake,
        drain,
        start + Duration::from_mins(2),
        |event| {
            match event.kind {
                EventKind::Received { data, .. } => counted += data.len() as u64,
                EventKind::Stopped { reason } => {
                    failure = Some(format!("server stopped: {reason}"));
                }
                EventKind::Disconnected { reason, .. } if counted < total => {
                    failure = Some(format!("connection ended early: {reason}"));
                }
                _ => {}
            }
            if counted >= total || failure.is_some() {
                Flow::Done
            } else {
                Flow::More
            }
        },
        || Flow::More,
    );
    let seconds = start.elapsed().as_secs_f64();
    let minor_faults = sys::usage().minor_faults - faults_before;
    sender
        .join()
        .map_err(|_| "raw sender panicked".to_owned())??;
    if let Some(f) = failure {
        return Err(f);
    }
    if !finished {
        return Err(format!(
            "timed out after counting {counted} of {total} bytes"
        ));
    }
    let exact = server.counters().bytes_in;
    if counted != total || exact != total {
        return Err(format!(
            "sent {total} bytes; the owner counted {counted}, the session's counter says {exact}"
        ));
    }
    crate::stop_cleanly(&server)?;
    Ok(EngineRun {
        seconds,
        minor_faults,
    })
}

/// Runs item 1 and emits its rows.
pub fn run(mode: Mode) -> Result<(), String> {
    let total: u64 = if mode.full { 1 << 30 } else { 32 << 20 };
    let reps = if mode.full { 5 } else { 1 };
    let label = if total >= 1 << 30 {
        format!("{} GiB", total >> 30)
    } else {
        format!("{} MiB", total >> 20)
    };
    for drain in [Drain::Continuous, Drain::PerFrame] {
        let mut raw_rates = Vec::new();
        let mut engine_rates = Vec::new();
        let mut faults = Vec::new();
        let mut pair_ratios = Vec::new();
        // Alternate raw and engine runs so a change in machine load hits both alike.
        for _ in 0..reps {
            let raw_rate = gbit_per_s(total, raw(total)?);
            let run = engine(total, drain)?;
            let engine_rate = gbit_per_s(total, run.seconds);
            raw_rates.push(raw_rate);
            engine_rates.push(engine_rate);
            pair_ratios.push(engine_rate / raw_rate);
            faults.push(run.minor_faults as f64);
        }
        let raw_rate = median(&mut raw_rates);
        let engine_rate = median(&mut engine_rates);
        let ratio = engine_rate / raw_rate;
        let faults_per_gib = median(&mut faults) / (total as f64 / f64::from(1 << 30));
        eprintln!(
            "  tcp receive, {}: raw {raw_rate:.1} Gbit/s, engine {engine_rate:.1} Gbit/s \
             ({ratio:.2}×), {faults_per_gib:.0} page faults per GiB",
            drain.label()
        );
        Row {
            item: 1,
            what: format!(
                "TCP receive, {label} from a raw sender into an engine server, {} (median of {reps})",
                drain.label()
            ),
            baseline: Some(format!("{raw_rate:.1} Gbit/s")),
            engine: format!(
                "{engine_rate:.1} Gbit/s ({faults_per_gib:.0} page faults/GiB)"
            ),
            ratio: Some(format!("{ratio:.2}×{}", spread(&pair_ratios))),
            target: "≥ 0.8× throughput".to_owned(),
            met: Some(ratio >= 0.8),
        }
        .emit();
    }
    Ok(())
}
