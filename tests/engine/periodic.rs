//! Periodic send runs in the engine: the receiving end gets exactly the asked-for count, no sooner
//! than the schedule allows.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly; that is its job

use std::time::{Duration, Instant};

use crate::common::{TIMEOUT, bound_addr, bytes, connected, receive_bytes};
use socketlab::engine::{
    self, EventKind, TcpClientCommand, TcpClientConfig, TcpServerConfig, UdpClientConfig,
    UdpCommand, UdpServerConfig, noop_waker,
};

#[test]
fn udp_periodic_send_delivers_exactly_count_datagrams() {
    const COUNT: u64 = 25;
    const INTERVAL: Duration = Duration::from_millis(2);
    let server = engine::udp::start_server(UdpServerConfig::default(), noop_waker());
    let addr = bound_addr(&server);
    let mut client =
        engine::udp::start_client(UdpClientConfig::new("127.0.0.1", addr.port()), noop_waker());
    bound_addr(&client);
    let started = Instant::now();
    client
        .start_periodic(UdpCommand::Send(bytes(b"tick")), INTERVAL, Some(COUNT))
        .unwrap();

    let mut received = 0;
    let mut last_arrival = started;
    let deadline = Instant::now() + TIMEOUT;
    while received < COUNT && Instant::now() < deadline {
        if let Some(e) = server.recv_timeout(Duration::from_millis(100))
            && let EventKind::Datagrams(batch) = e.kind
        {
            received += batch.len() as u64;
            last_arrival = Instant::now();
        }
    }
    assert_eq!(received, COUNT);
    // Loose: the last tick is due (COUNT - 1) intervals after the start, never earlier.
    assert!(last_arrival - started >= INTERVAL * (COUNT as u32 - 1));
    // The timer has finished its count and says so (it records a send just after queueing it, so
    // give it a bounded moment); no extra datagram follows.
    let deadline = Instant::now() + TIMEOUT;
    while client.periodic().unwrap().running && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    let status = client.periodic().unwrap();
    assert!(!status.running);
    assert_eq!(status.sent, COUNT);
    assert!(server.recv_timeout(Duration::from_millis(50)).is_none());
    assert_eq!(server.counters().datagrams_in, COUNT);
}

#[test]
fn tcp_periodic_send_stops_when_asked() {
    let server = engine::tcp_server::start(TcpServerConfig::default(), noop_waker());
    let addr = bound_addr(&server);
    let mut client =
        engine::tcp_client::start(TcpClientConfig::new("127.0.0.1", addr.port()), noop_waker());
    connected(&client);
    client
        .start_periodic(
            TcpClientCommand::Send(bytes(b"0123456789")),
            Duration::from_millis(1),
            None,
        )
        .unwrap();
    // At least 100: one read may hold two messages, so the count can pass 100 by one message.
    assert!(receive_bytes(&server, 100).len() >= 100);
    client.stop_periodic();
    let status = client.periodic();
    assert!(status.is_none());
    // Everything queued before the stop arrives whole: a multiple of the message size.
    let sent = client.counters().bytes_out;
    assert_eq!(sent % 10, 0);
    let err = client.start_periodic(TcpClientCommand::Send(bytes(b"x")), Duration::ZERO, None);
    assert!(err.is_err(), "an interval under 1 ms is refused");
}
