//! Step mode on real sockets: the worker waits before each key call until Next, so the peer
//! sees no connection before the presenter lets `connect` go; Stop ends a waiting session.

use std::net::TcpListener;
use std::time::Duration;

use socketlab::engine::{
    self, EventKind, Op, StopReason, TcpClientConfig, TcpServerConfig, UdpServerConfig, noop_waker,
};

use crate::common::{TIMEOUT, wait};

#[test]
fn the_peer_sees_no_connection_before_next_lets_connect_go() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let client = engine::tcp_client::start(
        TcpClientConfig {
            step_mode: true,
            ..TcpClientConfig::new("127.0.0.1", addr.port())
        },
        noop_waker(),
    );
    let mut announced = Vec::new();
    for _ in 0..10 {
        let event = wait(&client, "the next call", |e| {
            matches!(e.kind, EventKind::NextCall { .. })
        });
        let EventKind::NextCall { op, args } = event.kind else {
            unreachable!()
        };
        // Whatever the worker waits on, no connection has reached the listener yet.
        assert!(
            listener.accept().is_err(),
            "a connection arrived before Next for {op:?}"
        );
        announced.push(op);
        if op == Op::Connect {
            assert_eq!(args, addr.to_string());
            // Held: nothing for a while, then Next lets the handshake happen.
            std::thread::sleep(Duration::from_millis(100));
            assert!(listener.accept().is_err(), "connect went without Next");
            client.next_call();
            break;
        }
        client.next_call();
    }
    assert_eq!(announced, [Op::Socket, Op::Connect]);
    wait(&client, "connected", |e| {
        matches!(e.kind, EventKind::Connected { .. })
    });
    listener.set_nonblocking(false).unwrap();
    let (_accepted, peer) = listener.accept().unwrap();
    assert_eq!(Some(peer), client.local_addr());
}

#[test]
fn a_server_in_step_mode_announces_socket_bind_listen_accept_in_order() {
    let server = engine::tcp_server::start(
        TcpServerConfig {
            step_mode: true,
            ..TcpServerConfig::default()
        },
        noop_waker(),
    );
    let mut ops = Vec::new();
    while ops.len() < 4 {
        let event = wait(&server, "the next call", |e| {
            matches!(e.kind, EventKind::NextCall { .. })
        });
        if let EventKind::NextCall { op, .. } = event.kind {
            ops.push(op);
        }
        server.next_call();
    }
    assert_eq!(ops, [Op::Socket, Op::Bind, Op::Listen, Op::Accept]);
    // Turning step mode off lets the rest run freely.
    server.set_stepping(false);
    assert!(!server.is_stepping());
}

#[test]
fn stop_ends_a_session_that_waits_for_next() {
    let session = engine::udp::start_server(
        UdpServerConfig {
            step_mode: true,
            ..UdpServerConfig::default()
        },
        noop_waker(),
    );
    wait(&session, "the next call", |e| {
        matches!(e.kind, EventKind::NextCall { op: Op::Socket, .. })
    });
    session.stop();
    let stopped = session
        .wait_for(
            TIMEOUT,
            |e| matches!(e.kind, EventKind::Stopped { .. }),
            |_| {},
        )
        .expect("the waiting session stops");
    assert!(
        matches!(
            stopped.kind,
            EventKind::Stopped {
                reason: StopReason::Requested
            }
        ),
        "{stopped:?}"
    );
}
