//! TCP client and server sessions against each other and against plain std peers, on loopback.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly; that is its job

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use crate::common::{
    TIMEOUT, bound_addr, bytes, collect_until, connected, receive_bytes, unanswering_listener, wait,
};
use socketlab::engine::{
    self, CloseReason, ErrorClass, EventKind, StopReason, TcpClientCommand, TcpClientConfig,
    TcpServer, TcpServerCommand, TcpServerConfig, noop_waker,
};

fn server_on(ip: IpAddr, echo: bool) -> engine::TcpServer {
    engine::tcp_server::start(
        TcpServerConfig {
            bind: ip,
            echo,
            ..TcpServerConfig::default()
        },
        noop_waker(),
    )
}

fn echo_round_trip(ip: IpAddr) {
    let server = server_on(ip, true);
    let server_addr = bound_addr(&server);
    assert_eq!(server_addr.ip(), ip);
    assert_ne!(server_addr.port(), 0, "the real port is reported");

    let client = engine::tcp_client::start(
        TcpClientConfig::new(ip.to_string(), server_addr.port()),
        noop_waker(),
    );
    let (_, client_local, client_peer) = connected(&client);
    assert_eq!(client_peer, server_addr);
    assert_eq!(client_local.ip(), ip);
    assert_ne!(client_local.port(), 0, "the client got an ephemeral port");

    let (_, server_local, server_peer) = connected(&server);
    assert_eq!(server_local, server_addr);
    assert_eq!(
        server_peer, client_local,
        "server sees the client's exact address"
    );

    client
        .send(TcpClientCommand::Send(bytes(b"hello")))
        .unwrap();
    assert_eq!(receive_bytes(&client, 5), b"hello");
    // The server counts a send once the call has returned, which can be just after the bytes
    // reached the client: wait for its report.
    wait(&server, "echo sent", |e| {
        matches!(e.kind, EventKind::Sent { echo: true, .. })
    });
    let counters = server.counters();
    assert_eq!(counters.bytes_in, 5);
    assert_eq!(counters.bytes_out, 5);
    assert_eq!(counters.connections_accepted, 1);
    let clients = server.clients();
    assert_eq!(clients.len(), 1);
    assert_eq!(clients[0].peer, client_local);
    assert_eq!(clients[0].bytes_in, 5);

    client.send(TcpClientCommand::Close).unwrap();
    let end = wait(&client, "client stopped", |e| {
        matches!(e.kind, EventKind::Stopped { .. })
    });
    assert!(matches!(
        end.kind,
        EventKind::Stopped {
            reason: StopReason::ConnectionEnded(CloseReason::YouClosed)
        }
    ));
    wait(&server, "server sees the client go", |e| {
        matches!(e.kind, EventKind::Disconnected { .. })
    });
    assert_eq!(server.counters().clients_active, 0);
}

#[test]
fn echo_over_ipv4_with_exact_addresses() {
    echo_round_trip(IpAddr::V4(Ipv4Addr::LOCALHOST));
}

#[test]
fn echo_over_ipv6_with_exact_addresses() {
    echo_round_trip(IpAddr::V6(Ipv6Addr::LOCALHOST));
}

#[test]
fn transcript_shows_server_steps_in_order() {
    let server = server_on(IpAddr::V4(Ipv4Addr::LOCALHOST), false);
    let events = collect_until(&server, "listening", |e| {
        matches!(e.kind, EventKind::Listening { .. })
    });
    let ops: Vec<&str> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Call(c) => Some(c.op.name()),
            _ => None,
        })
        .collect();
    assert_eq!(
        ops,
        ["socket", "setsockopt", "bind", "listen", "getsockname"]
    );
}

#[test]
fn half_close_server_still_replies() {
    let server = engine::tcp_server::start(
        TcpServerConfig {
            close_when_client_finishes: false,
            ..TcpServerConfig::default()
        },
        noop_waker(),
    );
    let addr = bound_addr(&server);
    let client =
        engine::tcp_client::start(TcpClientConfig::new("127.0.0.1", addr.port()), noop_waker());
    wait(&client, "connected", |e| {
        matches!(e.kind, EventKind::Connected { .. })
    });
    client
        .send(TcpClientCommand::Send(bytes(b"question")))
        .unwrap();
    client.send(TcpClientCommand::ShutdownWrite).unwrap();
    wait(&client, "write shut down", |e| {
        matches!(e.kind, EventKind::WriteShutdown { .. })
    });

    let (id, _, _) = connected(&server);
    assert_eq!(receive_bytes(&server, 8), b"question");
    wait(&server, "end of stream", |e| {
        matches!(e.kind, EventKind::PeerFinished { .. })
    });
    server
        .send(TcpServerCommand::SendTo(id, bytes(b"answer")))
        .unwrap();
    server.send(TcpServerCommand::Disconnect(id)).unwrap();

    assert_eq!(receive_bytes(&client, 6), b"answer");
    wait(&client, "peer finished", |e| {
        matches!(e.kind, EventKind::PeerFinished { .. })
    });
    let end = wait(&client, "closed", |e| {
        matches!(e.kind, EventKind::Stopped { .. })
    });
    assert!(
        matches!(
            end.kind,
            EventKind::Stopped {
                reason: StopReason::ConnectionEnded(CloseReason::PeerClosed)
            }
        ),
        "{:?}",
        end.kind
    );
}

#[test]
fn connection_refused_is_a_typed_error() {
    // Bind a port, then free it: nothing listens there any more.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = engine::tcp_client::start(TcpClientConfig::new("127.0.0.1", port), noop_waker());
    let end = wait(&client, "stopped", |e| {
        matches!(e.kind, EventKind::Stopped { .. })
    });
    let EventKind::Stopped {
        reason: StopReason::Failed(error),
    } = end.kind
    else {
        panic!("expected a failure, got {:?}", end.kind);
    };
    assert_eq!(error.class(), ErrorClass::Refused);
    assert_eq!(error.op(), Some(engine::Op::Connect));
    let sentence = error.plain_sentence();
    assert!(
        sentence.contains(&format!("127.0.0.1:{port}")),
        "{sentence}"
    );
    assert!(sentence.contains("nothing is listening"), "{sentence}");
}

#[test]
fn bind_to_a_port_in_use_is_a_typed_error() {
    let holder = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let server = engine::tcp_server::start(
        TcpServerConfig {
            port,
            ..TcpServerConfig::default()
        },
        noop_waker(),
    );
    let end = wait(&server, "stopped", |e| {
        matches!(e.kind, EventKind::Stopped { .. })
    });
    let EventKind::Stopped {
        reason: StopReason::Failed(error),
    } = end.kind
    else {
        panic!("expected a failure, got {:?}", end.kind);
    };
    assert_eq!(error.class(), ErrorClass::AddrInUse);
    assert_eq!(error.op(), Some(engine::Op::Bind));
    assert!(error.to_string().contains(&port.to_string()));
}

#[test]
fn peer_reset_in_mid_stream_is_reported() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client =
        engine::tcp_client::start(TcpClientConfig::new("127.0.0.1", addr.port()), noop_waker());
    let (peer, _) = listener.accept().unwrap();
    wait(&client, "connected", |e| {
        matches!(e.kind, EventKind::Connected { .. })
    });
    let mut peer_socket = socket2::Socket::from(peer);
    peer_socket.write_all(b"partial").unwrap();
    peer_socket.set_linger(Some(Duration::ZERO)).unwrap();
    drop(peer_socket); // RST
    let end = wait(&client, "stopped", |e| {
        matches!(e.kind, EventKind::Stopped { .. })
    });
    match end.kind {
        EventKind::Stopped {
            reason: StopReason::ConnectionEnded(CloseReason::Failed(e)),
        } => assert_eq!(e.class(), ErrorClass::Reset),
        other => panic!("expected a reset, got {other:?}"),
    }
}

#[test]
fn abort_sends_a_reset() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client =
        engine::tcp_client::start(TcpClientConfig::new("127.0.0.1", addr.port()), noop_waker());
    let (mut peer, _) = listener.accept().unwrap();
    wait(&client, "connected", |e| {
        matches!(e.kind, EventKind::Connected { .. })
    });
    client.send(TcpClientCommand::Abort).unwrap();
    let end = wait(&client, "stopped", |e| {
        matches!(e.kind, EventKind::Stopped { .. })
    });
    assert!(matches!(
        end.kind,
        EventKind::Stopped {
            reason: StopReason::ConnectionEnded(CloseReason::YouAborted)
        }
    ));
    peer.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut buf = [0; 16];
    let err = peer
        .read(&mut buf)
        .expect_err("a reset, not a clean end of stream");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
}

#[test]
fn many_clients_are_echoed_and_counted_exactly() {
    const CLIENTS: usize = 200;
    let server = server_on(IpAddr::V4(Ipv4Addr::LOCALHOST), true);
    let addr: SocketAddr = bound_addr(&server);
    let handles: Vec<_> = (0..CLIENTS)
        .map(|i| {
            std::thread::spawn(move || {
                let mut s = TcpStream::connect_timeout(&addr, TIMEOUT).unwrap();
                s.set_read_timeout(Some(TIMEOUT)).unwrap();
                let msg = format!("client {i:04} says hello");
                s.write_all(msg.as_bytes()).unwrap();
                let mut back = vec![0; msg.len()];
                s.read_exact(&mut back).unwrap();
                assert_eq!(back, msg.as_bytes());
                msg.len()
            })
        })
        .collect();
    // Keep draining the server while the clients run: a full event queue makes the server's
    // readers wait (that is TCP back-pressure, not loss).
    let mut gone = 0;
    wait(&server, "all disconnected", |e| {
        if matches!(e.kind, EventKind::Disconnected { .. }) {
            gone += 1;
        }
        gone == CLIENTS
    });
    let total: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    let c = server.counters();
    assert_eq!(c.connections_accepted, CLIENTS as u64);
    assert_eq!(c.bytes_in, total as u64);
    assert_eq!(c.bytes_out, total as u64);
    assert_eq!(c.clients_active, 0);
}

/// A server limited to `max_clients`, with one client connected and accepted.
fn server_with_one_client(max_clients: usize) -> (TcpServer, SocketAddr, TcpStream) {
    let server = engine::tcp_server::start(
        TcpServerConfig {
            max_clients,
            ..TcpServerConfig::default()
        },
        noop_waker(),
    );
    let addr = bound_addr(&server);
    let first = TcpStream::connect(addr).unwrap();
    wait(&server, "first accepted", |e| {
        matches!(e.kind, EventKind::Connected { .. })
    });
    (server, addr, first)
}

#[test]
fn client_over_the_limit_is_rejected() {
    let (server, addr, _first) = server_with_one_client(1);
    let mut second = TcpStream::connect(addr).unwrap();
    wait(&server, "second rejected", |e| {
        matches!(e.kind, EventKind::Rejected { limit: 1, .. })
    });
    second.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut buf = [0; 4];
    assert_eq!(
        second.read(&mut buf).unwrap_or(0),
        0,
        "the rejected client is closed"
    );
    assert_eq!(server.counters().connections_rejected, 1);
}

/// Connects new clients until one is `accepted` (or rejected, when `accepted` is false), at most
/// five times: a limit changed by a command reaches the accepting thread a moment later, so a
/// connection made at once may still meet the old one. The streams go into `kept`.
fn connect_until(server: &TcpServer, addr: SocketAddr, accepted: bool, kept: &mut Vec<TcpStream>) {
    for _ in 0..5 {
        kept.push(TcpStream::connect(addr).unwrap());
        let events = collect_until(server, "a client accepted or rejected", |e| {
            matches!(
                e.kind,
                EventKind::Connected { .. } | EventKind::Rejected { .. }
            )
        });
        let was_accepted = matches!(
            events.last().map(|e| &e.kind),
            Some(EventKind::Connected { .. })
        );
        if was_accepted == accepted {
            return;
        }
    }
    panic!(
        "no client was {}",
        if accepted { "accepted" } else { "rejected" }
    );
}

#[test]
fn client_limit_changes_while_listening() {
    let (server, addr, _first) = server_with_one_client(1);
    let mut kept = Vec::new();
    server.send(TcpServerCommand::SetMaxClients(2)).unwrap();
    connect_until(&server, addr, true, &mut kept);
    assert_eq!(
        server.clients().len(),
        2,
        "the raised limit lets a second in"
    );

    server.send(TcpServerCommand::SetMaxClients(1)).unwrap();
    let rejected_before = server.counters().connections_rejected;
    connect_until(&server, addr, false, &mut kept);
    assert_eq!(
        server.clients().len(),
        2,
        "clients already connected stay above a lowered limit"
    );
    assert!(server.counters().connections_rejected > rejected_before);
}

#[test]
fn dual_stack_listener_takes_ipv4_and_ipv6() {
    let server = server_on(IpAddr::V6(Ipv6Addr::UNSPECIFIED), true);
    let addr = bound_addr(&server);
    for host in ["127.0.0.1", "::1"] {
        let target: SocketAddr = SocketAddr::new(host.parse().unwrap(), addr.port());
        let mut s = TcpStream::connect_timeout(&target, TIMEOUT).unwrap();
        s.set_read_timeout(Some(TIMEOUT)).unwrap();
        s.write_all(b"ping").unwrap();
        let mut back = [0; 4];
        s.read_exact(&mut back).unwrap();
        assert_eq!(&back, b"ping");
    }
}

#[test]
fn client_tries_every_resolved_address() {
    // "localhost" may resolve to several addresses; the one that listens must win.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let client = engine::tcp_client::start(TcpClientConfig::new("localhost", port), noop_waker());
    let events = collect_until(&client, "connected", |e| {
        matches!(
            e.kind,
            EventKind::Connected { .. } | EventKind::Stopped { .. }
        )
    });
    assert!(matches!(
        events.last().map(|e| &e.kind),
        Some(EventKind::Connected { .. })
    ));
    assert!(
        events
            .iter()
            .any(|e| matches!(&e.kind, EventKind::Call(c) if c.op == engine::Op::GetAddrInfo))
    );
}

#[test]
fn large_transfer_arrives_intact_and_counted() {
    let server = server_on(IpAddr::V4(Ipv4Addr::LOCALHOST), false);
    let addr = bound_addr(&server);
    let data: Vec<u8> = (0..8 * 1024 * 1024_u32).map(|i| (i % 251) as u8).collect();
    let expected = data.clone();
    let sender = std::thread::spawn(move || {
        let mut s = TcpStream::connect_timeout(&addr, TIMEOUT).unwrap();
        s.write_all(&data).unwrap();
    });
    assert_eq!(receive_bytes(&server, expected.len()), expected);
    sender.join().unwrap();
    assert_eq!(server.counters().bytes_in, expected.len() as u64);
}

#[test]
fn connect_timeout_is_a_typed_error() {
    let (_listener, silent, _fillers) = unanswering_listener();
    let client = engine::tcp_client::start(
        TcpClientConfig {
            connect_timeout: Duration::from_millis(300),
            ..TcpClientConfig::new("127.0.0.1", silent.port())
        },
        noop_waker(),
    );
    let end = wait(&client, "stopped", |e| {
        matches!(e.kind, EventKind::Stopped { .. })
    });
    let EventKind::Stopped {
        reason: StopReason::Failed(error),
    } = end.kind
    else {
        panic!("expected a failure, got {:?}", end.kind);
    };
    assert_eq!(error.class(), ErrorClass::TimedOut);
    assert!(error.to_string().contains(&silent.to_string()), "{error}");
}

#[test]
fn stop_is_not_held_up_by_a_peer_that_does_not_read() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client =
        engine::tcp_client::start(TcpClientConfig::new("127.0.0.1", addr.port()), noop_waker());
    let (_silent_peer, _) = listener.accept().unwrap();
    connected(&client);
    // Far more than the socket buffers hold: the writer ends up blocked in send().
    let megabyte = bytes(&vec![0x55; 1024 * 1024]);
    for _ in 0..64 {
        client
            .send(TcpClientCommand::Send(megabyte.clone()))
            .unwrap();
    }
    client.stop();
    let end = wait(&client, "stopped", |e| {
        matches!(e.kind, EventKind::Stopped { .. })
    });
    assert!(matches!(
        end.kind,
        EventKind::Stopped {
            reason: StopReason::Requested
        }
    ));
    assert!(client.counters().bytes_out < 64 * 1024 * 1024);
}

#[test]
fn send_larger_than_the_send_buffer_arrives_whole_and_in_order() {
    // The first payload is far larger than the socket's send buffer, so a send that does not
    // wait writes only part of it and the writer thread finishes it; the second payload must
    // still arrive after all of the first.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let big: Vec<u8> = (0..16 * 1024 * 1024_u32).map(|i| (i % 253) as u8).collect();
    let small = b"and then this".to_vec();
    let mut expected = big.clone();
    expected.extend_from_slice(&small);
    let reader = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(TIMEOUT)).unwrap();
        let mut got = Vec::new();
        let mut buf = vec![0; 64 * 1024];
        while got.len() < 16 * 1024 * 1024 + 13 {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0, "connection ended after {} bytes", got.len());
            got.extend_from_slice(&buf[..n]);
        }
        got
    });
    let client =
        engine::tcp_client::start(TcpClientConfig::new("127.0.0.1", addr.port()), noop_waker());
    connected(&client);
    client.send(TcpClientCommand::Send(bytes(&big))).unwrap();
    client.send(TcpClientCommand::Send(bytes(&small))).unwrap();
    let mut sent = Vec::new();
    while sent.len() < 2 {
        if let EventKind::Sent { data, echo, .. } = wait(&client, "sent", |e| {
            matches!(e.kind, EventKind::Sent { .. })
        })
        .kind
        {
            assert!(!echo);
            sent.push(data.len());
        }
    }
    assert_eq!(
        sent,
        vec![big.len(), small.len()],
        "one Sent per payload, in order"
    );
    assert_eq!(reader.join().unwrap(), expected);
    assert_eq!(client.counters().bytes_out, expected.len() as u64);
}

#[test]
fn received_data_the_owner_has_not_taken_is_bounded_in_bytes_and_nothing_is_lost() {
    // 256 KiB of received data may be out of the readers' hands; the peer sends 16 MiB.
    const BUDGET: usize = 256 * 1024;
    const TOTAL: usize = 16 * 1024 * 1024;
    let server = engine::tcp_server::start(
        TcpServerConfig {
            queues: engine::QueueSizes {
                received_bytes: BUDGET,
                ..engine::QueueSizes::tcp()
            },
            ..TcpServerConfig::default()
        },
        noop_waker(),
    );
    let addr = bound_addr(&server);
    let data: Vec<u8> = (0..TOTAL).map(|i| (i % 241) as u8).collect();
    let expected = data.clone();
    let sender = std::thread::spawn(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(&data).unwrap();
    });
    // The owner takes nothing for a while. However long that is, the reader may have counted
    // at most the budget plus the one read (≤ 64 KiB) that waits for room.
    std::thread::sleep(Duration::from_millis(300));
    let held = server.counters().bytes_in;
    assert!(
        held <= (BUDGET + 64 * 1024) as u64,
        "{held} bytes read while the owner took nothing"
    );
    // Once the owner drains, everything arrives, in order.
    assert_eq!(receive_bytes(&server, TOTAL), expected);
    sender.join().unwrap();
    assert_eq!(server.counters().bytes_in, TOTAL as u64);
}
