//! Item 6: a listening TCP server with a connected engine TCP client, and a UDP server with a
//! UDP client, all idle. Every engine thread should sleep in a blocking call: no CPU, no wake-ups.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use socketlab::engine::udp;
use socketlab::engine::{
    EventKind, Session, TcpClientConfig, TcpServerConfig, UdpClientConfig, UdpServerConfig, Waker,
    tcp_client, tcp_server,
};

use crate::report::Row;
use crate::{Mode, sys};

/// Above this share of one core, "idle" is not idle.
const IDLE_CPU_LIMIT: f64 = 0.001;

/// A waker that counts its calls, as a window would count the repaints it was asked for.
fn counting_waker(calls: &Arc<AtomicU64>) -> Waker {
    let calls = Arc::clone(calls);
    Arc::new(move || {
        calls.fetch_add(1, Ordering::Relaxed);
    })
}

/// Takes a session's events until `want` accepts one; error after 10 s or on `Stopped`.
fn settle<C: Send + 'static>(
    session: &Session<C>,
    what: &str,
    want: impl Fn(&EventKind) -> bool,
) -> Result<(), String> {
    let event = session
        .wait_for(
            Duration::from_secs(10),
            |e| want(&e.kind) || matches!(e.kind, EventKind::Stopped { .. }),
            |_| {},
        )
        .ok_or_else(|| format!("{what}: nothing within 10 s"))?;
    match event.kind {
        EventKind::Stopped { reason } => Err(format!("{what}: stopped: {reason}")),
        _ => Ok(()),
    }
}

/// Runs item 6 and emits its row.
pub fn run(mode: Mode) -> Result<(), String> {
    let idle = if mode.full {
        Duration::from_secs(10)
    } else {
        Duration::from_secs(1)
    };
    let wakes = Arc::new(AtomicU64::new(0));
    let tcp_server = tcp_server::start(TcpServerConfig::default(), counting_waker(&wakes));
    let tcp_addr = crate::wait_bound(&tcp_server)?;
    let tcp_client = tcp_client::start(
        TcpClientConfig::new(tcp_addr.ip().to_string(), tcp_addr.port()),
        counting_waker(&wakes),
    );
    settle(&tcp_client, "tcp client", |k| {
        matches!(k, EventKind::Connected { .. })
    })?;
    settle(&tcp_server, "tcp server", |k| {
        matches!(k, EventKind::Connected { .. })
    })?;
    let udp_server = udp::start_server(UdpServerConfig::default(), counting_waker(&wakes));
    let udp_addr = crate::wait_bound(&udp_server)?;
    let udp_client = udp::start_client(
        UdpClientConfig {
            connect: true,
            ..UdpClientConfig::new(udp_addr.ip().to_string(), udp_addr.port())
        },
        counting_waker(&wakes),
    );
    settle(&udp_client, "udp client", |k| {
        matches!(k, EventKind::Ready { .. })
    })?;
    // Take whatever setup events are left, which also re-arms every waker.
    thread::sleep(Duration::from_millis(100));
    tcp_server.drain(usize::MAX, drop);
    tcp_client.drain(usize::MAX, drop);
    udp_server.drain(usize::MAX, drop);
    udp_client.drain(usize::MAX, drop);

    let wakes_before = wakes.load(Ordering::Relaxed);
    let before = sys::threads();
    let usage_before = sys::usage();
    let start = Instant::now();
    thread::sleep(idle);
    let elapsed = start.elapsed();
    let after = sys::threads();
    let usage_after = sys::usage();
    let waker_calls = wakes.load(Ordering::Relaxed) - wakes_before;

    // The engine's threads only: this thread's own sleep and /proc reads are the benchmark's.
    let sys::Activity { cpu, wakeups, woke } = sys::others_between(&before, &after);
    let cpu_ticks = usage_after.cpu.saturating_sub(usage_before.cpu);
    let engine_threads = after.len().saturating_sub(1);
    let share = cpu.as_secs_f64() / elapsed.as_secs_f64();
    eprintln!(
        "  idle {:.1} s: {engine_threads} engine threads, CPU {:.6} s (schedstat; whole process \
         {:.2} s by clock ticks), {wakeups} thread wake-ups {woke:?}, {waker_calls} waker calls",
        elapsed.as_secs_f64(),
        cpu.as_secs_f64(),
        cpu_ticks.as_secs_f64(),
    );
    Row {
        item: 6,
        what: format!(
            "Idle {:.0} s: TCP server + connected TCP client, UDP server + UDP client \
             ({engine_threads} engine threads)",
            elapsed.as_secs_f64(),
        ),
        baseline: None,
        engine: format!(
            "{:.6} CPU s ({:.4} % of one core); {wakeups} engine-thread wake-ups; {waker_calls} \
             waker calls",
            cpu.as_secs_f64(),
            share * 100.0
        ),
        ratio: None,
        target: format!("≈ 0 % CPU (< {:.1} %)", IDLE_CPU_LIMIT * 100.0),
        met: Some(share < IDLE_CPU_LIMIT),
    }
    .emit();
    Ok(())
}
