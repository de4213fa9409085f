//! Capture to file: servers write every received byte, in order, from their reader threads, and
//! never replace an existing file unless told to.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly; that is its job

use std::io::Write;
use std::net::{TcpStream, UdpSocket};
use std::path::PathBuf;

use crate::common::{TIMEOUT, bound_addr, wait};
use socketlab::engine::{
    self, CaptureConfig, EngineError, ErrorClass, EventKind, StopReason, TcpServerConfig,
    UdpServerConfig, noop_waker,
};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("socketlab-capture-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn tcp_server_writes_one_file_per_client() {
    let dir = scratch("tcp");
    let server = engine::tcp_server::start(
        TcpServerConfig {
            capture: Some(CaptureConfig::new(dir.join("in.bin"))),
            ..TcpServerConfig::default()
        },
        noop_waker(),
    );
    let addr = bound_addr(&server);
    for (n, text) in [(1, &b"first client"[..]), (2, b"second")] {
        let mut client = TcpStream::connect(addr).unwrap();
        client.set_write_timeout(Some(TIMEOUT)).unwrap();
        client.write_all(text).unwrap();
        drop(client);
        wait(
            &server,
            "disconnected",
            |e| matches!(e.kind, EventKind::Disconnected { conn, .. } if conn == n),
        );
        // The reader flushed before the connection was reported closed.
        assert_eq!(
            std::fs::read(dir.join(format!("in-{n}.bin"))).unwrap(),
            text
        );
    }
    assert!(!dir.join("in.bin").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn udp_server_writes_every_datagram_in_order() {
    let dir = scratch("udp");
    let path = dir.join("datagrams.bin");
    let server = engine::udp::start_server(
        UdpServerConfig {
            capture: Some(CaptureConfig::new(&path)),
            ..UdpServerConfig::default()
        },
        noop_waker(),
    );
    let addr = bound_addr(&server);
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut expected = Vec::new();
    for i in 0..20_u8 {
        let datagram = [i; 3];
        client.send_to(&datagram, addr).unwrap();
        expected.extend_from_slice(&datagram);
    }
    let mut got = 0;
    wait(&server, "20 datagrams", |e| {
        if let EventKind::Datagrams(batch) = &e.kind {
            got += batch.len();
        }
        got == 20
    });
    assert_eq!(std::fs::read(&path).unwrap(), expected);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_existing_file_is_refused_unless_overwriting() {
    let dir = scratch("exists");
    let path = dir.join("taken.bin");
    std::fs::write(&path, b"precious").unwrap();
    let refused = engine::udp::start_server(
        UdpServerConfig {
            capture: Some(CaptureConfig::new(&path)),
            ..UdpServerConfig::default()
        },
        noop_waker(),
    );
    let stopped = wait(&refused, "stopped", |e| {
        matches!(e.kind, EventKind::Stopped { .. })
    });
    let EventKind::Stopped {
        reason: StopReason::Failed(error),
    } = stopped.kind
    else {
        panic!("expected a failure, got {:?}", stopped.kind);
    };
    assert!(matches!(error, EngineError::Capture { exists: true, .. }));
    assert_eq!(error.class(), ErrorClass::InvalidInput);
    assert!(error.plain_sentence().contains("already exists"));
    assert_eq!(std::fs::read(&path).unwrap(), b"precious");

    // The TCP server's check covers its numbered files before it listens.
    std::fs::write(dir.join("taken-4.bin"), b"also precious").unwrap();
    let tcp = engine::tcp_server::start(
        TcpServerConfig {
            capture: Some(CaptureConfig::new(&path)),
            ..TcpServerConfig::default()
        },
        noop_waker(),
    );
    let stopped = wait(&tcp, "stopped", |e| {
        matches!(
            e.kind,
            EventKind::Stopped { .. } | EventKind::Listening { .. }
        )
    });
    assert!(
        matches!(
            stopped.kind,
            EventKind::Stopped {
                reason: StopReason::Failed(EngineError::Capture { exists: true, .. })
            }
        ),
        "{:?}",
        stopped.kind
    );

    let mut overwrite = CaptureConfig::new(&path);
    overwrite.overwrite = true;
    let allowed = engine::udp::start_server(
        UdpServerConfig {
            capture: Some(overwrite),
            ..UdpServerConfig::default()
        },
        noop_waker(),
    );
    bound_addr(&allowed);
    assert_eq!(std::fs::read(&path).unwrap(), b"", "replaced when allowed");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A capture that cannot be written ends the connection with the reason, instead of receiving
/// bytes that then exist nowhere.
#[cfg(target_os = "linux")]
#[test]
fn a_failing_capture_write_ends_the_session_with_the_reason() {
    let mut full = CaptureConfig::new("/dev/full");
    full.overwrite = true;
    let server = engine::udp::start_server(
        UdpServerConfig {
            capture: Some(full),
            ..UdpServerConfig::default()
        },
        noop_waker(),
    );
    let addr = bound_addr(&server);
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .send_to(b"no room", addr)
        .unwrap();
    let stopped = wait(&server, "stopped", |e| {
        matches!(e.kind, EventKind::Stopped { .. })
    });
    assert!(
        matches!(
            &stopped.kind,
            EventKind::Stopped {
                reason: StopReason::Failed(EngineError::Capture { exists: false, .. })
            }
        ),
        "{:?}",
        stopped.kind
    );
    // Counted as received all the same: counters stay exact.
    assert_eq!(server.counters().datagrams_in, 1);
}

/// A client whose capture file cannot be created is turned away rather than received uncaptured.
#[test]
fn a_client_whose_file_cannot_be_created_is_closed_with_the_reason() {
    let dir = scratch("vanished");
    let server = engine::tcp_server::start(
        TcpServerConfig {
            capture: Some(CaptureConfig::new(dir.join("in.bin"))),
            ..TcpServerConfig::default()
        },
        noop_waker(),
    );
    let addr = bound_addr(&server);
    std::fs::remove_dir_all(&dir).unwrap();
    let mut client = TcpStream::connect(addr).unwrap();
    client.set_read_timeout(Some(TIMEOUT)).unwrap();
    let error = wait(&server, "capture error", |e| {
        matches!(e.kind, EventKind::Error(EngineError::Capture { .. }))
    });
    let EventKind::Error(error) = error.kind else {
        unreachable!()
    };
    assert!(error.plain_sentence().contains("in-1.bin"), "{error}");
    // The connection was closed at once: the client reads end of stream (or a reset).
    let mut buf = [0; 8];
    match std::io::Read::read(&mut client, &mut buf) {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("the connection is still open: {other:?}"),
    }
    assert_eq!(server.counters().connections_accepted, 0);
}
