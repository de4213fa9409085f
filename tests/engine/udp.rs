//! UDP client and server sessions on loopback: datagrams, senders, replies, limits.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly; that is its job

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};

use crate::common::{TIMEOUT, bound_addr, bytes, wait};
use socketlab::engine::{
    self, ErrorClass, EventKind, UdpClientConfig, UdpCommand, UdpServerConfig, noop_waker,
    udp::{MAX_PAYLOAD_V4, MAX_PAYLOAD_V6},
};

fn server_on(ip: IpAddr, echo: bool) -> engine::UdpSession {
    engine::udp::start_server(
        UdpServerConfig {
            bind: ip,
            echo,
            ..UdpServerConfig::default()
        },
        noop_waker(),
    )
}

/// Waits for the next batch of datagrams and returns (sender, payload) pairs.
fn next_datagrams(session: &engine::UdpSession) -> Vec<(SocketAddr, Vec<u8>)> {
    match wait(session, "datagrams", |e| {
        matches!(e.kind, EventKind::Datagrams(_))
    })
    .kind
    {
        EventKind::Datagrams(batch) => batch.iter().map(|d| (d.peer, d.data.to_vec())).collect(),
        _ => unreachable!(),
    }
}

/// Waits for the next `Error` event and returns its error.
fn next_error(session: &engine::UdpSession, what: &str) -> engine::EngineError {
    let event = wait(session, what, |e| matches!(e.kind, EventKind::Error(_)));
    let EventKind::Error(error) = event.kind else {
        unreachable!()
    };
    error
}

fn client_server_round_trip(ip: IpAddr) {
    let server = server_on(ip, true);
    let server_addr = bound_addr(&server);
    assert_eq!(server_addr.ip(), ip);
    let client = engine::udp::start_client(
        UdpClientConfig::new(ip.to_string(), server_addr.port()),
        noop_waker(),
    );
    let client_local = bound_addr(&client);
    assert_ne!(client_local.port(), 0, "the client got an ephemeral port");

    client
        .send(UdpCommand::Send(bytes(b"one datagram")))
        .unwrap();
    let got = next_datagrams(&server);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1, b"one datagram");
    assert_eq!(
        got[0].0.port(),
        client_local.port(),
        "recvfrom names the sender"
    );

    let echoed = next_datagrams(&client);
    assert_eq!(echoed, vec![(server_addr, b"one datagram".to_vec())]);
    let c = server.counters();
    assert_eq!((c.datagrams_in, c.bytes_in), (1, 12));
    assert_eq!((c.datagrams_out, c.bytes_out), (1, 12));
}

#[test]
fn round_trip_over_ipv4() {
    client_server_round_trip(IpAddr::V4(Ipv4Addr::LOCALHOST));
}

#[test]
fn round_trip_over_ipv6() {
    client_server_round_trip(IpAddr::V6(Ipv6Addr::LOCALHOST));
}

#[test]
fn server_tells_two_senders_apart_and_replies_to_the_right_one() {
    let server = server_on(IpAddr::V4(Ipv4Addr::LOCALHOST), false);
    let addr = bound_addr(&server);
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    for s in [&a, &b] {
        s.set_read_timeout(Some(TIMEOUT)).unwrap();
    }
    a.send_to(b"from a", addr).unwrap();
    let first = next_datagrams(&server);
    assert_eq!(first, vec![(a.local_addr().unwrap(), b"from a".to_vec())]);
    b.send_to(b"from b", addr).unwrap();
    let second = next_datagrams(&server);
    assert_eq!(second, vec![(b.local_addr().unwrap(), b"from b".to_vec())]);

    server
        .send(UdpCommand::ReplyToLast(bytes(b"to b")))
        .unwrap();
    server
        .send(UdpCommand::SendTo(a.local_addr().unwrap(), bytes(b"to a")))
        .unwrap();
    let mut buf = [0; 16];
    let (n, from) = b.recv_from(&mut buf).unwrap();
    assert_eq!((&buf[..n], from), (&b"to b"[..], addr));
    let (n, from) = a.recv_from(&mut buf).unwrap();
    assert_eq!((&buf[..n], from), (&b"to a"[..], addr));
}

#[test]
fn oversized_payload_is_refused_with_the_limit_named() {
    let server = server_on(IpAddr::V4(Ipv4Addr::LOCALHOST), false);
    let addr = bound_addr(&server);
    let client =
        engine::udp::start_client(UdpClientConfig::new("127.0.0.1", addr.port()), noop_waker());
    bound_addr(&client);

    client
        .send(UdpCommand::Send(bytes(&vec![7; MAX_PAYLOAD_V4])))
        .unwrap();
    let got = next_datagrams(&server);
    assert_eq!(
        got[0].1.len(),
        65_507,
        "the largest IPv4 datagram goes through"
    );

    client
        .send(UdpCommand::Send(bytes(&vec![7; MAX_PAYLOAD_V4 + 1])))
        .unwrap();
    let error = next_error(&client, "refusal");
    assert_eq!(error.class(), ErrorClass::InvalidInput);
    let text = error.to_string();
    assert!(text.contains("65508") && text.contains("65507"), "{text}");
    assert!(
        error.plain_sentence().contains("65507 bytes"),
        "{}",
        error.plain_sentence()
    );
    assert_eq!(
        client.counters().datagrams_out,
        1,
        "the refused datagram was never sent"
    );
    assert_eq!(MAX_PAYLOAD_V6, 65_527);
}

#[test]
fn connected_udp_socket_reports_refused() {
    // A port nobody listens on: the ICMP "port unreachable" comes back as "connection refused".
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = engine::udp::start_client(
        UdpClientConfig {
            connect: true,
            ..UdpClientConfig::new("127.0.0.1", port)
        },
        noop_waker(),
    );
    let ready = wait(&client, "ready", |e| {
        matches!(e.kind, EventKind::Ready { .. })
    });
    assert!(matches!(ready.kind, EventKind::Ready { peer: Some(_), .. }));
    client.send(UdpCommand::Send(bytes(b"anyone?"))).unwrap();
    let error = next_error(&client, "refused");
    assert_eq!(error.class(), ErrorClass::Refused);
    assert!(
        error
            .plain_sentence()
            .contains(&format!("127.0.0.1:{port}"))
    );
}

#[test]
fn burst_is_counted_exactly() {
    const COUNT: u64 = 5_000;
    let server = server_on(IpAddr::V4(Ipv4Addr::LOCALHOST), false);
    let addr = bound_addr(&server);
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..COUNT {
        sender.send_to(&i.to_be_bytes(), addr).unwrap();
    }
    // Every datagram is either shown (in an event) or counted as not shown; with a 4 MiB receive
    // buffer on loopback the kernel drops none of these.
    let mut shown = 0_u64;
    let mut last = None;
    let deadline = std::time::Instant::now() + TIMEOUT;
    while server.counters().datagrams_in < COUNT && std::time::Instant::now() < deadline {
        if let Some(e) = server.recv_timeout(std::time::Duration::from_millis(100))
            && let EventKind::Datagrams(batch) = e.kind
        {
            shown += batch.len() as u64;
            for d in batch.iter() {
                let value = u64::from_be_bytes(d.data.try_into().unwrap());
                assert!(last.is_none_or(|l| value > l), "datagrams stay in order");
                last = Some(value);
            }
        }
    }
    while let Some(e) = server.recv_timeout(std::time::Duration::from_millis(50)) {
        if let EventKind::Datagrams(batch) = e.kind {
            shown += batch.len() as u64;
        }
    }
    let c = server.counters();
    assert_eq!(c.datagrams_in, COUNT);
    assert_eq!(shown + c.not_shown_datagrams, COUNT);
    assert_eq!(c.bytes_in, COUNT * 8);
}

#[test]
fn datagrams_not_shown_are_reported_even_when_no_more_arrive() {
    const COUNT: u64 = 2_000;
    // A tiny event queue and an owner that does not drain: most of the burst cannot be shown.
    let server = engine::udp::start_server(
        UdpServerConfig {
            queues: engine::QueueSizes {
                events: 8,
                commands: 16,
                ..engine::QueueSizes::default()
            },
            ..UdpServerConfig::default()
        },
        noop_waker(),
    );
    let addr = bound_addr(&server);
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..COUNT {
        sender.send_to(&i.to_be_bytes(), addr).unwrap();
    }
    let deadline = std::time::Instant::now() + TIMEOUT;
    while server.counters().datagrams_in < COUNT && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(server.counters().datagrams_in, COUNT);
    // Nothing more arrives, yet the view must learn about every datagram it did not get.
    let mut shown = 0_u64;
    let mut reported_not_shown = 0_u64;
    while shown + reported_not_shown < COUNT && std::time::Instant::now() < deadline {
        if let Some(e) = server.recv_timeout(std::time::Duration::from_millis(100)) {
            match e.kind {
                EventKind::Datagrams(batch) => shown += batch.len() as u64,
                EventKind::NotShown { datagrams, .. } => reported_not_shown += datagrams,
                _ => {}
            }
        }
    }
    let c = server.counters();
    assert!(
        c.not_shown_datagrams > 0,
        "the tiny queue must have overflowed"
    );
    assert_eq!(
        reported_not_shown, c.not_shown_datagrams,
        "every datagram that was not shown is reported to the view"
    );
    assert_eq!(shown + reported_not_shown, COUNT);
}
