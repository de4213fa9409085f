//! A worker thread that panics is reported as an error event; the session (and the program) live
//! on. The panic is provoked through the waker, which is the owner's code running on a worker thread.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly; that is its job

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::common::{TIMEOUT, bound_addr, wait};
use socketlab::engine::{
    self, EngineError, EventKind, StopReason, TcpServerConfig, Waker, noop_waker,
};

/// A waker that panics once, on the first call from a thread whose name starts with `prefix`.
fn panicking_waker(prefix: &'static str) -> Waker {
    let fired = Arc::new(AtomicBool::new(false));
    Arc::new(move || {
        let on_target = std::thread::current()
            .name()
            .is_some_and(|n| n.starts_with(prefix));
        let first_time = on_target && !fired.swap(true, Ordering::SeqCst);
        assert!(!first_time, "boom (deliberate test panic)");
    })
}

fn echo_once(addr: std::net::SocketAddr) -> Vec<u8> {
    let mut s = TcpStream::connect_timeout(&addr, TIMEOUT).unwrap();
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    s.write_all(b"ping").unwrap();
    let mut back = [0; 4];
    s.read_exact(&mut back).unwrap();
    back.to_vec()
}

#[test]
fn a_panicking_connection_thread_is_reported_and_the_server_goes_on() {
    let server = engine::tcp_server::start(
        TcpServerConfig {
            echo: true,
            ..TcpServerConfig::default()
        },
        panicking_waker("tcp-server-conn"),
    );
    let addr = bound_addr(&server);
    let mut first = TcpStream::connect_timeout(&addr, TIMEOUT).unwrap();
    // The waker is called once per batch of events (draining re-arms it), so keep the reader
    // busy until it calls the waker: a bounded number of small writes.
    let mut failure = None;
    for _ in 0..50 {
        first.write_all(b"x").unwrap();
        let found = server.wait_for(
            std::time::Duration::from_millis(200),
            |e| matches!(e.kind, EventKind::Error(EngineError::WorkerFailed { .. })),
            |_| {},
        );
        if let Some(EventKind::Error(error)) = found.map(|e| e.kind) {
            failure = Some(error);
            break;
        }
    }
    let Some(EngineError::WorkerFailed { thread, message }) = failure else {
        panic!("the reader's panic was never reported");
    };
    assert!(thread.starts_with("tcp-server-conn"), "{thread}");
    assert!(message.contains("boom"), "{message}");
    wait(&server, "the broken connection is closed", |e| {
        matches!(e.kind, EventKind::Disconnected { .. })
    });
    // The server itself is fine: a new client is served.
    let echo = std::thread::spawn(move || echo_once(addr));
    wait(&server, "second client echoed", |e| {
        matches!(e.kind, EventKind::Sent { echo: true, .. })
    });
    assert_eq!(echo.join().unwrap(), b"ping");
}

#[test]
fn a_panicking_supervisor_stops_the_session_with_the_reason() {
    let server = engine::tcp_server::start(
        TcpServerConfig::default(),
        panicking_waker("tcp-server 127"),
    );
    let end = wait(&server, "stopped", |e| {
        matches!(e.kind, EventKind::Stopped { .. })
    });
    let EventKind::Stopped {
        reason: StopReason::Failed(EngineError::WorkerFailed { message, .. }),
    } = end.kind
    else {
        panic!("expected a worker failure, got {:?}", end.kind);
    };
    assert!(message.contains("boom"));
    drop(server);
    // The program goes on: a fresh session works.
    let again = engine::tcp_server::start(TcpServerConfig::default(), noop_waker());
    bound_addr(&again);
}
