//! Item 9: the traffic generator's send rate of 64-byte datagrams, against a raw `send_to` loop
//! in the same run. Nobody reads the receiving socket: what does not fit its buffer is dropped
//! by the kernel, which does not slow the sender, so both sides measure sending alone.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use socketlab::engine::generator::{self, GeneratorEvent, Rate, TrafficPlan, UdpGeneratorConfig};
use socketlab::engine::{EventKind, noop_waker};

use crate::Mode;
use crate::report::{Row, median, spread};

/// Datagrams per second of a raw loop: the same unconnected `send_to`, retried on `ENOBUFS`
/// exactly as the generator does (the datagram was not sent).
fn raw(to: SocketAddr, count: u64) -> Result<f64, String> {
    let socket =
        UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| format!("raw: bind: {e}"))?;
    let payload = [0x61_u8; 64];
    let start = Instant::now();
    let mut sent = 0;
    while sent < count {
        match socket.send_to(&payload, to) {
            Ok(_) => sent += 1,
            Err(e) if e.raw_os_error() == Some(105) => std::thread::yield_now(),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("raw: send_to {to}: {e}")),
        }
    }
    Ok(count as f64 / start.elapsed().as_secs_f64())
}

/// Datagrams per second of a generator session with `count` and no rate limit, timed by the
/// generator itself from its first datagram to its last; checks that it sent exactly `count`.
fn engine(to: SocketAddr, count: u64, sequence: bool) -> Result<f64, String> {
    let session = generator::start_udp(
        UdpGeneratorConfig {
            host: to.ip().to_string(),
            port: to.port(),
            local: None,
            connect: false,
            plan: TrafficPlan {
                size: 64,
                rate: Rate::Max,
                count: Some(count),
                duration: None,
                sequence,
            },
        },
        noop_waker(),
    );
    let end = session
        .wait_for(
            Duration::from_mins(2),
            |e| {
                matches!(&e.kind, EventKind::Generator(g) if matches!(**g, GeneratorEvent::Finished { .. }))
                    || matches!(e.kind, EventKind::Stopped { .. })
            },
            |_| {},
        )
        .ok_or("the generator did not finish within 120 s")?;
    let EventKind::Generator(g) = end.kind else {
        return Err(format!("the generator stopped early: {:?}", end.kind));
    };
    let GeneratorEvent::Finished { progress, end } = *g else {
        return Err("unexpected event".to_owned());
    };
    let counted = session.counters().datagrams_out;
    if progress.sent != count || counted != count {
        return Err(format!(
            "asked for {count} datagrams, the run reported {} and the counters {counted} ({end:?})",
            progress.sent
        ));
    }
    Ok(count as f64 / progress.elapsed.as_secs_f64())
}

/// Runs item 9 and emits its rows.
pub fn run(mode: Mode) -> Result<(), String> {
    let count: u64 = if mode.full { 1_000_000 } else { 20_000 };
    let reps = if mode.full { 5 } else { 1 };
    let sink = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| format!("bind: {e}"))?;
    let to = sink.local_addr().map_err(|e| e.to_string())?;
    for sequence in [false, true] {
        let (mut raw_rates, mut engine_rates, mut pairs) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..reps {
            let r = raw(to, count)?;
            let e = engine(to, count, sequence)?;
            raw_rates.push(r);
            engine_rates.push(e);
            pairs.push(e / r);
        }
        let raw_rate = median(&mut raw_rates);
        let engine_rate = median(&mut engine_rates);
        let ratio = engine_rate / raw_rate;
        let what = if sequence {
            "with the sequence header (number and send time in each)"
        } else {
            "filler only"
        };
        eprintln!(
            "  generator 64 B, {what}: raw {:.0} kpps, engine {:.0} kpps ({ratio:.2}×)",
            raw_rate / 1e3,
            engine_rate / 1e3
        );
        Row {
            item: 9,
            what: format!(
                "Generator send rate, {count} × 64 B datagrams as fast as possible, {what} (median of {reps})"
            ),
            baseline: Some(format!("{:.0} kdatagrams/s raw send_to", raw_rate / 1e3)),
            engine: format!("{:.0} kdatagrams/s, every one counted", engine_rate / 1e3),
            ratio: Some(format!("{ratio:.2}×{}", spread(&pairs))),
            target: "≥ 0.9×".to_owned(),
            met: mode.full.then_some(ratio >= 0.9),
        }
        .emit();
    }
    drop(sink);
    Ok(())
}
