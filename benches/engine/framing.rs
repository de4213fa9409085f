//! Item 8: LF framing of a stream of 100-byte lines, against the unframed engine receive of the
//! same stream in the same run (both from the same raw sender, alternating). The owner counts
//! every message and checks each is one whole line.

use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use socketlab::engine::framing::{Framing, FramingConfig, Piece};
use socketlab::engine::{EventKind, TcpServerConfig, tcp_server};

use crate::Mode;
use crate::consumer::{Drain, Flow, consume, waker};
use crate::report::{Row, gbit_per_s, median, spread};

/// One line: 99 bytes and its `\n`.
const LINE: usize = 100;
/// Lines per `write` (65,500 bytes, the engine's 64 KiB reads see lines cut at their ends).
const LINES_PER_WRITE: usize = 655;

/// Writes `lines` 100-byte lines to `to`, then half-closes.
fn send_lines(to: SocketAddr, lines: u64) -> Result<(), String> {
    let mut stream =
        TcpStream::connect(to).map_err(|e| format!("raw sender: connect({to}): {e}"))?;
    let mut block = Vec::with_capacity(LINE * LINES_PER_WRITE);
    for _ in 0..LINES_PER_WRITE {
        block.extend_from_slice(&[b'x'; LINE - 1]);
        block.push(b'\n');
    }
    let mut left = lines;
    while left > 0 {
        let n = left.min(LINES_PER_WRITE as u64) as usize;
        stream
            .write_all(&block[..n * LINE])
            .map_err(|e| format!("raw sender: send to {to}: {e}"))?;
        left -= n as u64;
    }
    stream
        .shutdown(Shutdown::Write)
        .map_err(|e| format!("raw sender: shutdown: {e}"))
}

/// Seconds until the owner has every byte (unframed) or every line as a message (framed).
fn receive(lines: u64, framed: bool) -> Result<f64, String> {
    let total = lines * LINE as u64;
    let (waker, wake) = waker();
    let config = TcpServerConfig {
        framing: if framed {
            FramingConfig::new(Framing::lf())
        } else {
            FramingConfig::default()
        },
        ..TcpServerConfig::default()
    };
    let server = tcp_server::start(config, waker);
    let local = crate::wait_bound(&server)?;
    let start = Instant::now();
    let sender = thread::spawn(move || send_lines(local, lines));
    let mut bytes = 0_u64;
    let mut messages = 0_u64;
    let mut failure = None;
    let finished = consume(
        &server,
        &wake,
        Drain::Continuous,
        start + Duration::from_mins(2),
        |event| {
            match event.kind {
                EventKind::Received { data, .. } => bytes += data.len() as u64,
                EventKind::Messages { batch, .. } => {
                    for m in batch.iter() {
                        if m.piece != Piece::Message || m.bytes.len() != LINE {
                            failure = Some(format!(
                                "a {:?} of {} bytes instead of a 100-byte line",
                                m.piece,
                                m.bytes.len()
                            ));
                        }
                        messages += 1;
                        bytes += m.bytes.len() as u64;
                    }
                }
                EventKind::Stopped { reason } => {
                    failure = Some(format!("server stopped: {reason}"));
                }
                EventKind::Disconnected { reason, .. } if bytes < total => {
                    failure = Some(format!("connection ended early: {reason}"));
                }
                _ => {}
            }
            if bytes >= total || failure.is_some() {
                Flow::Done
            } else {
                Flow::More
            }
        },
        || Flow::More,
    );
    let seconds = start.elapsed().as_secs_f64();
    sender
        .join()
        .map_err(|_| "raw sender panicked".to_owned())??;
    if let Some(f) = failure {
        return Err(f);
    }
    if !finished {
        return Err(format!("timed out after {bytes} of {total} bytes"));
    }
    let exact = server.counters().bytes_in;
    if bytes != total || exact != total || (framed && messages != lines) {
        return Err(format!(
            "sent {lines} lines ({total} bytes); the owner got {bytes} bytes in {messages} messages, the counter says {exact}"
        ));
    }
    crate::stop_cleanly(&server)?;
    Ok(seconds)
}

/// Runs item 8 and emits its row.
pub fn run(mode: Mode) -> Result<(), String> {
    let total: u64 = if mode.full { 1 << 30 } else { 32 << 20 };
    let lines = total / LINE as u64;
    let reps = if mode.full { 5 } else { 1 };
    let mut plain_rates = Vec::new();
    let mut framed_rates = Vec::new();
    let mut pair_ratios = Vec::new();
    for _ in 0..reps {
        let plain = gbit_per_s(lines * LINE as u64, receive(lines, false)?);
        let framed = gbit_per_s(lines * LINE as u64, receive(lines, true)?);
        plain_rates.push(plain);
        framed_rates.push(framed);
        pair_ratios.push(framed / plain);
    }
    let plain = median(&mut plain_rates);
    let framed = median(&mut framed_rates);
    let ratio = framed / plain;
    let label = if mode.full {
        "1 GiB".to_owned()
    } else {
        format!("{} MiB", total >> 20)
    };
    eprintln!("  lf framing: unframed {plain:.1} Gbit/s, framed {framed:.1} Gbit/s ({ratio:.2}×)");
    Row {
        item: 8,
        what: format!(
            "LF framing of {label} of 100-byte lines ({lines} messages), continuous consumer (median of {reps})"
        ),
        baseline: Some(format!("{plain:.1} Gbit/s unframed engine receive")),
        engine: format!(
            "{framed:.1} Gbit/s ({:.1} M messages/s)",
            framed * 1e9 / 8.0 / LINE as f64 / 1e6
        ),
        ratio: Some(format!("{ratio:.2}×{}", spread(&pair_ratios))),
        target: "≥ 0.8× the unframed receive".to_owned(),
        met: Some(ratio >= 0.8),
    }
    .emit();
    Ok(())
}
