//! Server auto-reply on loopback: rules run in the engine's readers (TCP and UDP), the first
//! matching rule answers, data that matches nothing gets no answer, and the rules can change
//! while the server runs.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly; that is its job

use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::time::Duration;

use crate::common::{TIMEOUT, bound_addr, connected, wait};
use socketlab::engine::autoreply::{AutoReply, MatchKind, Rule};
use socketlab::engine::{
    self, EventKind, TcpServerCommand, TcpServerConfig, UdpCommand, UdpServerConfig, noop_waker,
};

fn rules() -> AutoReply {
    let rule = |when, pattern: &[u8], reply: &[u8]| Rule {
        when,
        pattern: pattern.to_vec(),
        reply: reply.to_vec(),
    };
    AutoReply::Rules(vec![
        rule(MatchKind::Equals, b"PING", b"PONG"),
        rule(MatchKind::StartsWith, b"GET ", b"HTTP/1.0 200 OK\r\n\r\n"),
        rule(MatchKind::Contains, b"\x02", b"\x06"),
    ])
}

/// Waits until the server has received exactly `data` in one read.
fn server_received<C: Send + 'static>(server: &engine::Session<C>, data: &[u8]) {
    wait(server, "the server's read", |e| match &e.kind {
        EventKind::Received { data: got, .. } => &got[..] == data,
        EventKind::Datagrams(batch) => batch.iter().any(|d| d.data == data),
        _ => false,
    });
}

fn read_exact(stream: &mut TcpStream, len: usize) -> Vec<u8> {
    let mut buf = vec![0; len];
    stream.read_exact(&mut buf).unwrap();
    buf
}

#[test]
fn tcp_rules_answer_the_first_match_and_nothing_else() {
    let server = engine::tcp_server::start(
        TcpServerConfig {
            auto_reply: rules(),
            ..TcpServerConfig::default()
        },
        noop_waker(),
    );
    let addr = bound_addr(&server);
    let mut client = TcpStream::connect(addr).unwrap();
    client.set_read_timeout(Some(TIMEOUT)).unwrap();
    connected(&server);

    // No rule matches: no reply. The next reply read proves it (it would come first otherwise).
    client.write_all(b"PING\n").unwrap();
    server_received(&server, b"PING\n");
    client.write_all(b"PING").unwrap();
    assert_eq!(read_exact(&mut client, 4), b"PONG");
    client.write_all(b"GET /index.html").unwrap();
    assert_eq!(read_exact(&mut client, 19), b"HTTP/1.0 200 OK\r\n\r\n");
    client.write_all(b"ab\x02cd").unwrap();
    assert_eq!(read_exact(&mut client, 1), b"\x06");

    // The reply is reported as sent by the engine, after what it answers.
    let sent = wait(
        &server,
        "the reply's Sent event",
        |e| matches!(&e.kind, EventKind::Sent { data, echo: true, .. } if &data[..] == b"\x06"),
    );
    assert!(matches!(sent.kind, EventKind::Sent { .. }));
    assert_eq!(server.counters().bytes_out, 4 + 19 + 1);
}

#[test]
fn tcp_auto_reply_changes_while_running() {
    let server = engine::tcp_server::start(TcpServerConfig::default(), noop_waker());
    let addr = bound_addr(&server);
    let mut client = TcpStream::connect(addr).unwrap();
    client
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    connected(&server);
    server
        .send(TcpServerCommand::SetAutoReply(AutoReply::Echo))
        .unwrap();
    // A change is a command the server's thread applies a moment later: wait until it says the
    // setting is in force; from then on every receive is answered by it.
    in_force(&server, &AutoReply::Echo);
    client.set_read_timeout(Some(TIMEOUT)).unwrap();
    client.write_all(b"e").unwrap();
    assert_eq!(read_exact(&mut client, 1), b"e", "echo is on");

    server
        .send(TcpServerCommand::SetAutoReply(rules()))
        .unwrap();
    in_force(&server, &rules());
    client.write_all(b"PING").unwrap();
    assert_eq!(
        read_exact(&mut client, 4),
        b"PONG",
        "the rules replaced echo"
    );
}

/// Waits for the server's report that `auto` is in force.
fn in_force<C: Send + 'static>(server: &engine::Session<C>, auto: &AutoReply) {
    wait(
        server,
        "the auto-reply change",
        |e| matches!(&e.kind, EventKind::AutoReplyChanged(now) if now == auto),
    );
}

#[test]
fn udp_rules_answer_each_datagram() {
    let server = engine::udp::start_server(
        UdpServerConfig {
            auto_reply: rules(),
            ..UdpServerConfig::default()
        },
        noop_waker(),
    );
    let addr = bound_addr(&server);
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut buf = [0; 256];

    client.send_to(b"nothing matches", addr).unwrap();
    server_received(&server, b"nothing matches");
    client.send_to(b"PING", addr).unwrap();
    let (n, from) = client.recv_from(&mut buf).unwrap();
    assert_eq!((&buf[..n], from), (&b"PONG"[..], addr));
    client.send_to(b"GET /", addr).unwrap();
    let n = client.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"HTTP/1.0 200 OK\r\n\r\n");

    // A rule's reply is shown as a datagram sent to the asker.
    let to_client = client.local_addr().unwrap();
    wait(
        &server,
        "the reply's DatagramSent",
        |e| matches!(&e.kind, EventKind::DatagramSent { to, data } if *to == to_client && &data[..] == b"PONG"),
    );
    // The reader counts a reply before it reports it; the last report means both are counted.
    wait(
        &server,
        "the second reply's DatagramSent",
        |e| matches!(&e.kind, EventKind::DatagramSent { data, .. } if data.starts_with(b"HTTP/1.0")),
    );
    let counters = server.counters();
    assert_eq!((counters.datagrams_in, counters.datagrams_out), (3, 2));

    // Off: nothing comes back; echo: the datagram itself does. Each change is in force once the
    // server says so (it is a command its thread applies a moment later: on a loaded machine,
    // milliseconds, in which dozens of round trips fit).
    server
        .send(UdpCommand::SetAutoReply(AutoReply::Off))
        .unwrap();
    in_force(&server, &AutoReply::Off);
    client.send_to(b"PING", addr).unwrap();
    server_received(&server, b"PING");
    client.send_to(b"GET /", addr).unwrap();
    server_received(&server, b"GET /");
    server.send(UdpCommand::SetEcho(true)).unwrap();
    in_force(&server, &AutoReply::Echo);
    client.send_to(b"PING", addr).unwrap();
    // Nothing answered the two datagrams sent while it was off: the first reply is the echo.
    let n = client.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"PING");
    // The reader counts an echo before it hands over the batch that holds the datagram.
    wait(
        &server,
        "the echoed batch",
        |e| matches!(&e.kind, EventKind::Datagrams(batch) if batch.echoed),
    );
    let counters = server.counters();
    assert_eq!((counters.datagrams_in, counters.datagrams_out), (6, 3));
}
