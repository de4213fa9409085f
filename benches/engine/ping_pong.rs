//! Item 4: 64-byte round trips, one at a time, engine client ↔ engine echo server, over TCP and
//! UDP. Baseline: a raw client ↔ a raw echo server in the same run.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use socketlab::engine::udp;
use socketlab::engine::{
    EventKind, Payload, Session, TcpClientCommand, TcpClientConfig, TcpServerConfig,
    UdpClientConfig, UdpCommand, UdpServerConfig, tcp_client, tcp_server,
};

use crate::consumer::{Drain, Flow, consume, waker};
use crate::report::{Row, median, quantile, spread};
use crate::{Mode, sys};

/// Bytes per message.
const SIZE: usize = 64;
/// Longest one round trip may take before the run is declared broken.
const ROUND_TRIP_LIMIT: Duration = Duration::from_secs(5);

/// Round-trip times in nanoseconds, sorted.
type Samples = Vec<u64>;

/// Thread switches (every thread of the process: blocked and woken, or preempted) during the
/// measured round trips of the last run; each run stores its own.
static LAST_RUN_SWITCHES: AtomicU64 = AtomicU64::new(0);

/// Switches of every thread alive now. The threads of a run are all alive from its first
/// measured round trip to its last, so the difference over that span is the run's.
fn all_switches() -> u64 {
    sys::threads()
        .iter()
        .map(|t| t.voluntary_switches + t.involuntary_switches)
        .sum()
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn raw_tcp(warmup: usize, count: usize) -> Result<Samples, String> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let server = thread::spawn(move || -> Result<(), String> {
        let (mut s, _) = listener.accept().map_err(|e| e.to_string())?;
        s.set_nodelay(true).map_err(|e| e.to_string())?;
        let mut buf = [0_u8; SIZE];
        // Ends when the client closes (read_exact then fails with end of stream).
        while s.read_exact(&mut buf).is_ok() {
            s.write_all(&buf).map_err(|e| e.to_string())?;
        }
        Ok(())
    });
    let mut client = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    client.set_nodelay(true).map_err(|e| e.to_string())?;
    client
        .set_read_timeout(Some(ROUND_TRIP_LIMIT))
        .map_err(|e| e.to_string())?;
    let message = [0x61_u8; SIZE];
    let mut back = [0_u8; SIZE];
    let mut samples = Vec::with_capacity(count);
    let mut switches_at_start = 0;
    for i in 0..warmup + count {
        if i == warmup {
            switches_at_start = all_switches();
        }
        let t = Instant::now();
        client
            .write_all(&message)
            .map_err(|e| format!("raw tcp client: send: {e}"))?;
        client
            .read_exact(&mut back)
            .map_err(|e| format!("raw tcp client: recv: {e}"))?;
        if i >= warmup {
            samples.push(nanos(t.elapsed()));
        }
    }
    LAST_RUN_SWITCHES.store(all_switches() - switches_at_start, Ordering::Relaxed);
    drop(client);
    server
        .join()
        .map_err(|_| "raw tcp server panicked".to_owned())??;
    samples.sort_unstable();
    Ok(samples)
}

fn raw_udp(warmup: usize, count: usize) -> Result<Samples, String> {
    let server = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| e.to_string())?;
    let addr = server.local_addr().map_err(|e| e.to_string())?;
    server
        .set_read_timeout(Some(Duration::from_millis(50)))
        .map_err(|e| e.to_string())?;
    let stop = Arc::new(AtomicBool::new(false));
    let server_stop = Arc::clone(&stop);
    let server = thread::spawn(move || {
        let mut buf = [0_u8; 2048];
        while !server_stop.load(Ordering::Relaxed) {
            if let Ok((n, from)) = server.recv_from(&mut buf) {
                let _ = server.send_to(&buf[..n], from);
            }
        }
    });
    let client = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| e.to_string())?;
    client.connect(addr).map_err(|e| e.to_string())?;
    client
        .set_read_timeout(Some(ROUND_TRIP_LIMIT))
        .map_err(|e| e.to_string())?;
    let message = [0x61_u8; SIZE];
    let mut back = [0_u8; 2048];
    let mut samples = Vec::with_capacity(count);
    let mut result = Ok(());
    let mut switches_at_start = 0;
    for i in 0..warmup + count {
        if i == warmup {
            switches_at_start = all_switches();
        }
        let t = Instant::now();
        if let Err(e) = client.send(&message).and_then(|_| client.recv(&mut back)) {
            result = Err(format!("raw udp client: round trip {i}: {e}"));
            break;
        }
        if i >= warmup {
            samples.push(nanos(t.elapsed()));
        }
    }
    LAST_RUN_SWITCHES.store(all_switches() - switches_at_start, Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    server
        .join()
        .map_err(|_| "raw udp server panicked".to_owned())?;
    result?;
    samples.sort_unstable();
    Ok(samples)
}

/// Runs `client_side` while another thread drains `server` once per frame, as the window would.
fn with_server_drained<C: Send + 'static, T>(
    server: &Session<C>,
    wake: &crossbeam_channel::Receiver<()>,
    client_side: impl FnOnce() -> T,
) -> T {
    let done = AtomicBool::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            consume(
                server,
                wake,
                Drain::PerFrame,
                Instant::now() + Duration::from_mins(10),
                |_| Flow::More,
                || {
                    if done.load(Ordering::Acquire) {
                        Flow::Done
                    } else {
                        Flow::More
                    }
                },
            )
        });
        let result = client_side();
        done.store(true, Ordering::Release);
        result
    })
}

/// Sends `send()` and waits on `client` for `SIZE` bytes back, `warmup + count` times.
fn engine_round_trips<C: Send + 'static>(
    client: &Session<C>,
    warmup: usize,
    count: usize,
    send: impl Fn() -> C,
) -> Result<Samples, String> {
    let mut samples = Vec::with_capacity(count);
    let mut switches_at_start = 0;
    for i in 0..warmup + count {
        if i == warmup {
            switches_at_start = all_switches();
        }
        let t = Instant::now();
        client
            .send(send())
            .map_err(|e| format!("round trip {i}: {e}"))?;
        let mut got = 0;
        while got < SIZE {
            let event = client
                .recv_timeout(ROUND_TRIP_LIMIT)
                .ok_or_else(|| format!("round trip {i}: no answer within {ROUND_TRIP_LIMIT:?}"))?;
            match event.kind {
                EventKind::Received { data, .. } => got += data.len(),
                EventKind::Datagrams(batch) => got += batch.total_bytes(),
                EventKind::Stopped { reason } => {
                    return Err(format!("round trip {i}: client stopped: {reason}"));
                }
                EventKind::Error(e) => return Err(format!("round trip {i}: {e}")),
                _ => {}
            }
        }
        if i >= warmup {
            samples.push(nanos(t.elapsed()));
        }
    }
    LAST_RUN_SWITCHES.store(all_switches() - switches_at_start, Ordering::Relaxed);
    samples.sort_unstable();
    Ok(samples)
}

/// Waits for a client session's `Connected` or `Ready`.
fn wait_connected<C: Send + 'static>(client: &Session<C>) -> Result<(), String> {
    let event = client
        .wait_for(
            Duration::from_secs(10),
            |e| {
                matches!(
                    e.kind,
                    EventKind::Connected { .. }
                        | EventKind::Ready { .. }
                        | EventKind::Stopped { .. }
                )
            },
            |_| {},
        )
        .ok_or("the client did not connect within 10 s")?;
    match event.kind {
        EventKind::Stopped { reason } => Err(format!("the client stopped: {reason}")),
        _ => Ok(()),
    }
}

fn engine_tcp(warmup: usize, count: usize) -> Result<Samples, String> {
    let (server_waker, server_wake) = waker();
    let config = TcpServerConfig {
        echo: true,
        ..TcpServerConfig::default()
    };
    let server = tcp_server::start(config, server_waker);
    let addr: SocketAddr = crate::wait_bound(&server)?;
    with_server_drained(&server, &server_wake, || {
        let (client_waker, _) = waker();
        let client = tcp_client::start(
            TcpClientConfig::new(addr.ip().to_string(), addr.port()),
            client_waker,
        );
        wait_connected(&client)?;
        let message: Payload = Arc::from(&[0x61_u8; SIZE][..]);
        let samples = engine_round_trips(&client, warmup, count, || {
            TcpClientCommand::Send(Arc::clone(&message))
        })?;
        crate::stop_cleanly(&client)?;
        Ok(samples)
    })
    .and_then(|samples| {
        crate::stop_cleanly(&server)?;
        Ok(samples)
    })
}

fn engine_udp(warmup: usize, count: usize) -> Result<Samples, String> {
    let (server_waker, server_wake) = waker();
    let config = UdpServerConfig {
        echo: true,
        ..UdpServerConfig::default()
    };
    let server = udp::start_server(config, server_waker);
    let addr: SocketAddr = crate::wait_bound(&server)?;
    with_server_drained(&server, &server_wake, || {
        let (client_waker, _) = waker();
        let client = udp::start_client(
            UdpClientConfig {
                connect: true,
                ..UdpClientConfig::new(addr.ip().to_string(), addr.port())
            },
            client_waker,
        );
        wait_connected(&client)?;
        let message: Payload = Arc::from(&[0x61_u8; SIZE][..]);
        let samples = engine_round_trips(&client, warmup, count, || {
            UdpCommand::Send(Arc::clone(&message))
        })?;
        crate::stop_cleanly(&client)?;
        Ok(samples)
    })
    .and_then(|samples| {
        crate::stop_cleanly(&server)?;
        Ok(samples)
    })
}

/// A round-trip benchmark: (warm-up count, measured count) → sorted samples.
type Bench = fn(usize, usize) -> Result<Samples, String>;

fn micros(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

/// Runs item 4 and emits its rows.
pub fn run(mode: Mode) -> Result<(), String> {
    let count = if mode.full { 100_000 } else { 2_000 };
    let reps = if mode.full { 3 } else { 1 };
    let warmup = count / 20;
    let protocols: [(&str, Bench, Bench); 2] =
        [("TCP", raw_tcp, engine_tcp), ("UDP", raw_udp, engine_udp)];
    for (name, raw, engine) in protocols {
        // Per run: (p50, p99) in ns, raw and engine alternating so load changes hit both.
        let mut raw_runs = Vec::new();
        let mut engine_runs = Vec::new();
        let mut engine_max = 0;
        // Thread switches per measured round trip, raw and engine, per run.
        let mut raw_switches = Vec::new();
        let mut engine_switches = Vec::new();
        let per_round_trip = || LAST_RUN_SWITCHES.load(Ordering::Relaxed) as f64 / count as f64;
        for _ in 0..reps {
            let r = raw(warmup, count)?;
            raw_switches.push(per_round_trip());
            raw_runs.push((quantile(&r, 0.5), quantile(&r, 0.99)));
            let e = engine(warmup, count).map_err(|e| format!("engine {name}: {e}"))?;
            engine_switches.push(per_round_trip());
            engine_runs.push((quantile(&e, 0.5), quantile(&e, 0.99)));
            engine_max = engine_max.max(e.last().copied().unwrap_or(0));
        }
        let med = |runs: &[(u64, u64)], pick: fn(&(u64, u64)) -> u64| {
            let mut v: Vec<f64> = runs.iter().map(|r| pick(r) as f64).collect();
            median(&mut v)
        };
        let (r50, r99) = (med(&raw_runs, |r| r.0), med(&raw_runs, |r| r.1));
        let (e50, e99) = (med(&engine_runs, |r| r.0), med(&engine_runs, |r| r.1));
        let (raw_sw, engine_sw) = (median(&mut raw_switches), median(&mut engine_switches));
        let ratio50 = e50 / r50.max(1.0);
        let ratio99 = e99 / r99.max(1.0);
        let pairs = |pick: fn(&(u64, u64)) -> u64| {
            let ratios: Vec<f64> = raw_runs
                .iter()
                .zip(&engine_runs)
                .map(|(r, e)| pick(e) as f64 / pick(r).max(1) as f64)
                .collect();
            spread(&ratios)
        };
        eprintln!(
            "  {name} ping-pong: raw p50 {:.1} µs p99 {:.1} µs; engine p50 {:.1} µs p99 {:.1} µs \
             ({ratio50:.2}×{} / {ratio99:.2}×{}); engine max {:.0} µs; switches per round trip \
             raw {raw_sw:.1}, engine {engine_sw:.1}",
            r50 / 1e3,
            r99 / 1e3,
            e50 / 1e3,
            e99 / 1e3,
            pairs(|r| r.0),
            pairs(|r| r.1),
            micros(engine_max),
        );
        Row {
            item: 4,
            what: format!(
                "{name} ping-pong, {SIZE} B × {count}, engine client ↔ engine echo server \
                 (server drained per frame; median of {reps})"
            ),
            baseline: Some(format!(
                "p50 {:.1} µs, p99 {:.1} µs; {raw_sw:.1} thread switches per round trip",
                r50 / 1e3,
                r99 / 1e3
            )),
            engine: format!(
                "p50 {:.1} µs, p99 {:.1} µs, max {:.0} µs; {engine_sw:.1} thread switches per \
                 round trip",
                e50 / 1e3,
                e99 / 1e3,
                micros(engine_max)
            ),
            ratio: Some(format!(
                "p50 {ratio50:.2}×{}, p99 {ratio99:.2}×{}",
                pairs(|r| r.0),
                pairs(|r| r.1)
            )),
            target: "p50 and p99 ≤ 2× raw".to_owned(),
            met: Some(ratio50 <= 2.0 && ratio99 <= 2.0),
        }
        .emit();
    }
    Ok(())
}
