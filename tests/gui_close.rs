//! Closing the window in the middle of a 1 GiB transfer: the window's state is dropped (as eframe
//! does when the window closes) within a second, and every engine thread is joined.
//!
//! Alone in its own test binary so the thread count of the process is this test's own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/gui.rs"]
mod gui_support;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use gui_support::{TIMEOUT, harness, listen_tcp_server, step_until, tcp_server};

const GIB: u64 = 1 << 30;

fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, Iterator::count)
}

#[test]
fn closing_the_window_during_a_1_gib_transfer_returns_within_a_second() {
    let threads_before = thread_count();
    let mut h = harness();
    let addr = listen_tcp_server(&mut h);

    let sender = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_write_timeout(Some(TIMEOUT)).unwrap();
        let chunk = vec![0x5a_u8; 1 << 20];
        let mut sent = 0_u64;
        while sent < GIB {
            match stream.write(&chunk) {
                Ok(n) => sent += n as u64,
                // The window went away and took the connection with it.
                Err(_) => break,
            }
        }
        sent
    });
    step_until(&mut h, "16 MiB of the transfer arrived", |h| {
        tcp_server(&h).activity.counters.bytes_in >= 16 << 20
    });

    let closing = Instant::now();
    drop(h);
    let took = closing.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "closing the window took {took:?}"
    );

    let sent = sender.join().unwrap();
    assert!(
        sent < GIB,
        "the transfer was cut off by the close, not finished"
    );
    // Engine threads are joined before the drop returns; only the sender (now joined) remains.
    assert!(
        thread_count() <= threads_before,
        "threads before {threads_before}, after {}",
        thread_count()
    );
}
