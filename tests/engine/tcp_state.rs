//! The kernel's TCP states of real loopback sockets (Linux): LISTEN with a waiting connection,
//! ESTABLISHED on both ends, then the closing dance — the side that closes first goes through
//! FIN-WAIT to TIME-WAIT, still listed after its socket is gone, while the other side sits in
//! CLOSE-WAIT until it closes too.
#![cfg(target_os = "linux")]

use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use socketlab::engine::tcp_state::{self, KernelSocket, TcpState, Watched};

use crate::common::TIMEOUT;

/// Looks until the socket shows `want` (the kernel moves on its own time); panics on timeout.
fn state_becomes(local: SocketAddr, remote: Option<SocketAddr>, want: TcpState) -> KernelSocket {
    let deadline = Instant::now() + TIMEOUT;
    let mut last = Vec::new();
    while Instant::now() < deadline {
        last = tcp_state::find(local, remote).unwrap();
        if let Some(s) = last.iter().find(|s| s.state == want) {
            return s.clone();
        }
        // The kernel's state machine has no event to wait on from here; look again shortly.
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("{local} → {remote:?} never showed {want}; last seen {last:?}");
}

#[test]
fn a_connection_is_listed_from_listen_to_time_wait() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server_addr = listener.local_addr().unwrap();
    state_becomes(server_addr, None, TcpState::Listen);

    let client = TcpStream::connect(server_addr).unwrap();
    let client_addr = client.local_addr().unwrap();
    // Not yet accepted: the listener counts it as waiting.
    let listening = state_becomes(server_addr, None, TcpState::Listen);
    assert!(listening.recv_queue >= 1, "{listening:?}");
    let (server_side, _) = listener.accept().unwrap();

    state_becomes(client_addr, Some(server_addr), TcpState::Established);
    state_becomes(server_addr, Some(client_addr), TcpState::Established);

    // The client closes first.
    client.shutdown(Shutdown::Both).unwrap();
    drop(client);
    state_becomes(server_addr, Some(client_addr), TcpState::CloseWait);
    state_becomes(client_addr, Some(server_addr), TcpState::FinWait2);
    drop(server_side);
    // Our client socket is gone; the system still keeps the pair in TIME-WAIT.
    let waiting = state_becomes(client_addr, Some(server_addr), TcpState::TimeWait);
    assert_eq!(waiting.state.name(), "TIME-WAIT");
    assert!(waiting.state.explanation().contains("closed first"));
}

#[test]
fn a_watch_reports_changes_and_wakes_its_owner() {
    let listener = TcpListener::bind("[::1]:0").unwrap();
    let server_addr = listener.local_addr().unwrap();
    let (tx, rx) = crossbeam_channel::unbounded();
    let watch = tcp_state::watch(
        vec![Watched {
            local: server_addr,
            remote: None,
        }],
        Duration::from_millis(50),
        std::sync::Arc::new(move || {
            let _ = tx.send(());
        }),
    )
    .unwrap();
    rx.recv_timeout(TIMEOUT)
        .expect("the first look wakes the owner");
    let seen = watch.seen();
    assert_eq!(seen.error, None);
    assert_eq!(
        seen.sockets[0].as_ref().map(|s| s.state),
        Some(TcpState::Listen),
        "{seen:?}"
    );
    drop(listener);
    let deadline = Instant::now() + TIMEOUT;
    while watch.seen().sockets[0].is_some() {
        assert!(
            Instant::now() < deadline,
            "the closed listener is still listed"
        );
        rx.recv_timeout(TIMEOUT).expect("a change wakes the owner");
    }
}
