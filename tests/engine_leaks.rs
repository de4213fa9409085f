//! Load and leaks: thousands of connect/disconnect cycles leave no descriptor or thread behind,
//! and a large transfer arrives byte-exact. One test in this file, so nothing else runs beside it
//! while it counts the process's descriptors and threads.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly; that is its job

#[path = "support/common.rs"]
mod common;

use std::hash::Hasher;
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{TIMEOUT, bound_addr, thread_count};
use socketlab::engine::{self, EventKind, TcpServerConfig, noop_waker};

fn fd_count() -> Option<usize> {
    std::fs::read_dir("/proc/self/fd").ok().map(Iterator::count)
}

#[test]
fn ten_thousand_cycles_leak_nothing_and_bulk_data_is_exact() {
    const CYCLES: usize = 10_000;
    const SIZE: usize = 1024 * 1024 * 1024;
    let server = engine::tcp_server::start(TcpServerConfig::default(), noop_waker());
    let addr = bound_addr(&server);
    // Warm up once so lazily created process-wide resources are not counted as leaks.
    drop(TcpStream::connect(addr).unwrap());
    let mut gone = 0;
    while gone < 1 {
        match server.recv_timeout(TIMEOUT).map(|e| e.kind) {
            Some(EventKind::Disconnected { .. }) => gone += 1,
            Some(_) => {}
            None => panic!("warm-up connection never closed"),
        }
    }
    let fds_before = fd_count();
    let threads_before = thread_count();

    let clients = std::thread::spawn(move || {
        for _ in 0..CYCLES {
            let s = TcpStream::connect_timeout(&addr, TIMEOUT).unwrap();
            drop(s);
        }
    });
    let deadline = Instant::now() + Duration::from_mins(2);
    let mut closed = 0;
    while closed < CYCLES {
        let left = deadline
            .checked_duration_since(Instant::now())
            .unwrap_or_else(|| panic!("only {closed} of {CYCLES} connections closed in time"));
        match server.recv_timeout(left).map(|e| e.kind) {
            // Past the client limit (1,000 at once) a connection is accepted and closed at once.
            Some(EventKind::Disconnected { .. } | EventKind::Rejected { .. }) => closed += 1,
            Some(EventKind::Stopped { reason }) => panic!("server stopped: {reason}"),
            Some(_) => {}
            None => panic!("only {closed} of {CYCLES} connections closed in time"),
        }
    }
    clients.join().unwrap();
    let c = server.counters();
    assert_eq!(
        c.connections_accepted + c.connections_rejected,
        CYCLES as u64 + 1
    );
    assert_eq!(c.clients_active, 0);
    assert_eq!(fd_count(), fds_before, "descriptors leaked");
    assert_eq!(thread_count(), threads_before, "threads leaked");

    // 1 GiB through the server, checked by hash in the order it arrived.
    let pattern: Vec<u8> = (0..1024 * 1024_u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let sender = std::thread::spawn(move || {
        let mut s = TcpStream::connect_timeout(&addr, TIMEOUT).unwrap();
        let mut h = std::hash::DefaultHasher::new();
        for _ in 0..SIZE / pattern.len() {
            s.write_all(&pattern).unwrap();
            h.write(&pattern);
        }
        h.finish()
    });
    let mut hasher = std::hash::DefaultHasher::new();
    let mut received = 0;
    let deadline = Instant::now() + Duration::from_mins(5);
    while received < SIZE {
        let left = deadline
            .checked_duration_since(Instant::now())
            .unwrap_or_else(|| panic!("only {received} of {SIZE} bytes in time"));
        match server.recv_timeout(left).map(|e| e.kind) {
            Some(EventKind::Received { data, .. }) => {
                received += data.len();
                hasher.write(&data);
            }
            Some(_) => {}
            None => panic!("only {received} of {SIZE} bytes in time"),
        }
    }
    assert_eq!(received, SIZE);
    assert_eq!(
        hasher.finish(),
        sender.join().unwrap(),
        "bytes arrived exactly, in order"
    );
}
