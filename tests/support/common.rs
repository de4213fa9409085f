//! Helpers shared by the integration tests: bounded waits on real loopback sessions.
#![allow(
    dead_code,
    clippy::missing_panics_doc,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use socket2::{Domain, Socket, Type};
use socketlab::engine::{ConnId, Event, EventKind, Payload, Session};

/// Longest any single wait in a test may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Waits for an event that `want` accepts; panics with `what` and the events seen on timeout.
pub fn wait<C: Send + 'static>(
    session: &Session<C>,
    what: &str,
    want: impl FnMut(&Event) -> bool,
) -> Event {
    let mut seen = Vec::new();
    session
        .wait_for(TIMEOUT, want, |e| seen.push(format!("{:?}", e.kind)))
        .unwrap_or_else(|| panic!("timed out waiting for {what}; saw:\n{}", seen.join("\n")))
}

/// Collects every event until `want` accepts one (included); panics on timeout.
pub fn collect_until<C: Send + 'static>(
    session: &Session<C>,
    what: &str,
    mut want: impl FnMut(&Event) -> bool,
) -> Vec<Event> {
    let deadline = Instant::now() + TIMEOUT;
    let mut events = Vec::new();
    loop {
        let left = deadline
            .checked_duration_since(Instant::now())
            .unwrap_or_else(|| panic!("timed out waiting for {what}; saw {events:#?}"));
        match session.recv_timeout(left) {
            Some(e) => {
                let done = want(&e);
                events.push(e);
                if done {
                    return events;
                }
            }
            None => panic!("timed out (or session ended) waiting for {what}; saw {events:#?}"),
        }
    }
}

/// Waits for a server's `Listening` or a UDP socket's `Ready` and returns its address.
pub fn bound_addr<C: Send + 'static>(session: &Session<C>) -> SocketAddr {
    match wait(session, "listening/ready", |e| {
        matches!(
            e.kind,
            EventKind::Listening { .. } | EventKind::Ready { .. } | EventKind::Stopped { .. }
        )
    })
    .kind
    {
        EventKind::Listening { local } | EventKind::Ready { local, .. } => local,
        other => panic!("session did not start: {other:?}"),
    }
}

/// Waits for `Connected` and returns (connection id, local address, peer address).
pub fn connected<C: Send + 'static>(session: &Session<C>) -> (ConnId, SocketAddr, SocketAddr) {
    let event = wait(session, "connected", |e| {
        matches!(
            e.kind,
            EventKind::Connected { .. } | EventKind::Stopped { .. }
        )
    });
    let EventKind::Connected { conn, local, peer } = event.kind else {
        panic!("did not connect: {:?}", event.kind);
    };
    (conn, local, peer)
}

/// Bytes as a shared payload.
pub fn bytes(data: &[u8]) -> Payload {
    Payload::from(data)
}

/// Collects the bytes of `Received` events until `len` bytes have arrived.
pub fn receive_bytes<C: Send + 'static>(session: &Session<C>, len: usize) -> Vec<u8> {
    let mut got = Vec::new();
    let deadline = Instant::now() + TIMEOUT;
    while got.len() < len {
        let left = deadline
            .checked_duration_since(Instant::now())
            .unwrap_or_else(|| panic!("timed out with {} of {len} bytes", got.len()));
        match session.recv_timeout(left).map(|e| e.kind) {
            Some(EventKind::Received { data, .. }) => got.extend_from_slice(&data),
            Some(EventKind::Stopped { reason }) => panic!("stopped early: {reason}"),
            Some(_) => {}
            None => panic!("timed out with {} of {len} bytes", got.len()),
        }
    }
    got
}

/// The number of threads of this process (Linux only).
pub fn thread_count() -> Option<usize> {
    std::fs::read_dir("/proc/self/task")
        .ok()
        .map(Iterator::count)
}

/// A listener whose accept queue is full, so the next SYN is dropped and `connect` hangs: the
/// loopback stand-in for a host that does not answer.
pub fn unanswering_listener() -> (Socket, SocketAddr, Vec<TcpStream>) {
    let listener = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    listener
        .bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())
        .unwrap();
    listener.listen(0).unwrap();
    let addr = listener.local_addr().unwrap().as_socket().unwrap();
    // Fill the queue; these connects complete in the kernel without accept.
    let fillers = (0..2)
        .filter_map(|_| TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok())
        .collect();
    (listener, addr, fillers)
}
