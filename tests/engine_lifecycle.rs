//! Starting and stopping sessions: every thread is joined, stops are prompt, timeouts are typed.
//! One test per file area that counts threads, so no other test runs beside it in this process.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly; that is its job

#[path = "support/common.rs"]
mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{TIMEOUT, bound_addr, bytes, thread_count, unanswering_listener, wait};
use socketlab::engine::{
    self, EventKind, StopReason, TcpClientCommand, TcpClientConfig, TcpServerConfig,
    UdpClientConfig, UdpCommand, UdpServerConfig, noop_waker,
};

/// Bounds on how long a stop may take. The design target is well under 100 ms; the test only
/// guards against a stop that waits for a timeout (seconds), so a loaded machine cannot fail it.
const STOP_BOUND: Duration = Duration::from_secs(2);

fn timed_drop<T>(name: &str, session: T) {
    let started = Instant::now();
    drop(session);
    let took = started.elapsed();
    assert!(took < STOP_BOUND, "{name} took {took:?} to stop");
}

#[test]
fn sessions_stop_promptly_and_join_every_thread() {
    let before = thread_count();

    // A TCP server with an echoing client, a UDP pair, and traffic through both.
    let server = engine::tcp_server::start(
        TcpServerConfig {
            echo: true,
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
    client.send(TcpClientCommand::Send(bytes(b"ping"))).unwrap();
    wait(&client, "echo", |e| {
        matches!(e.kind, EventKind::Received { .. })
    });
    let mut plain = TcpStream::connect(addr).unwrap();
    plain.write_all(b"x").unwrap();
    let mut one = [0; 1];
    plain.set_read_timeout(Some(TIMEOUT)).unwrap();
    plain.read_exact(&mut one).unwrap();

    let udp_server = engine::udp::start_server(UdpServerConfig::default(), noop_waker());
    let udp_addr = bound_addr(&udp_server);
    let udp_client = engine::udp::start_client(
        UdpClientConfig::new("127.0.0.1", udp_addr.port()),
        noop_waker(),
    );
    bound_addr(&udp_client);
    udp_client.send(UdpCommand::Send(bytes(b"hi"))).unwrap();
    wait(&udp_server, "datagram", |e| {
        matches!(e.kind, EventKind::Datagrams(_))
    });

    // A connected UDP client, whose reader the kernel shields from wake-up datagrams.
    let connected_udp = engine::udp::start_client(
        UdpClientConfig {
            connect: true,
            ..UdpClientConfig::new("127.0.0.1", udp_addr.port())
        },
        noop_waker(),
    );
    bound_addr(&connected_udp);

    if let (Some(before), Some(during)) = (before, thread_count()) {
        assert!(during > before, "sessions run on threads of their own");
    }

    // Stop through the handle: the server reports every client closed, then Stopped, last.
    server.stop();
    let mut closed = 0;
    let end = wait(&server, "server stopped", |e| {
        if matches!(e.kind, EventKind::Disconnected { .. }) {
            closed += 1;
        }
        matches!(e.kind, EventKind::Stopped { .. })
    });
    assert!(matches!(
        end.kind,
        EventKind::Stopped {
            reason: StopReason::Requested
        }
    ));
    assert_eq!(closed, 2, "both clients were closed before Stopped");
    assert!(
        server.recv_timeout(Duration::from_millis(50)).is_none(),
        "Stopped is the last event"
    );

    timed_drop("tcp server", server);
    timed_drop("tcp client", client);
    timed_drop("udp server", udp_server);
    timed_drop("udp client", udp_client);
    timed_drop("connected udp client", connected_udp);
    drop(plain);

    // A client stuck in connect() to a host that does not answer stops at once, too.
    let (_listener, silent, _fillers) = unanswering_listener();
    let stuck = engine::tcp_client::start(
        TcpClientConfig {
            connect_timeout: Duration::from_mins(1),
            ..TcpClientConfig::new("127.0.0.1", silent.port())
        },
        noop_waker(),
    );
    wait(
        &stuck,
        "connect started",
        |e| matches!(&e.kind, EventKind::Call(c) if c.op == engine::Op::SetSockOpt),
    );
    std::thread::sleep(Duration::from_millis(50)); // let it enter connect(); not a synchronisation
    timed_drop("a client inside connect()", stuck);

    if let (Some(before), Some(after)) = (before, thread_count()) {
        assert_eq!(after, before, "every session thread was joined");
    }
}
