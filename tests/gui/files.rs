//! Send a file from the window, against real loopback sockets. The native file dialog cannot be
//! driven in a test, so the path is typed into the field it fills (the fallback a user has too).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly; that is its job

use std::io::Read;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::PathBuf;
use std::time::Duration;

use crate::gui_support::{
    TIMEOUT, click, harness, is_disabled, open_tab, set_field, shows, step_until, wait_for_row,
    wait_for_text,
};
use socketlab::gui::SocketLabApp;

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("socketlab-gui-file-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Connects the TCP client tab to `addr` and waits until it is connected.
fn connect(h: &mut egui_kittest::Harness<'_, SocketLabApp>, addr: SocketAddr) {
    open_tab(h, "TCP client");
    set_field(h, "Port", &addr.port().to_string());
    click(h, "Connect");
    step_until(h, "the client connects", |h| {
        h.state().tcp_client.local.is_some()
    });
}

#[test]
fn typed_path_sends_the_whole_file_and_logs_one_summary() {
    let dir = scratch("send");
    let path = dir.join("firmware.bin");
    let data: Vec<u8> = (0..300_000_u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &data).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut h = harness();
    connect(&mut h, addr);
    let (mut peer, _) = listener.accept().unwrap();
    peer.set_read_timeout(Some(TIMEOUT)).unwrap();

    assert!(is_disabled(&h, "Send file"), "no file named yet");
    set_field(&mut h, "File to send", &path.display().to_string());
    assert!(!is_disabled(&h, "Send file"));
    click(&mut h, "Send file");
    let mut got = vec![0; data.len()];
    peer.read_exact(&mut got).unwrap();
    assert!(got == data, "the peer got the file as it is on disk");

    wait_for_row(&mut h, &["firmware.bin", "sent completely", "300000 bytes"]);
    // The transcript sums the file's writes up in one line.
    wait_for_row(&mut h, &["send() × 5 → 300000 bytes of", "firmware.bin"]);
    let counters = h.state().tcp_client.activity.counters;
    assert_eq!(counters.bytes_out, data.len() as u64);
    // One row stands for the whole file (not one per 64 KiB write), and the totals are exact.
    let totals = h.state().tcp_client.activity.log.totals();
    assert_eq!((totals.bytes_out, totals.pieces_out), (300_000, 5));
    assert!(!h.state().tcp_client.activity.files.is_running());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_missing_file_is_explained_and_the_connection_stays() {
    let dir = scratch("missing");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut h = harness();
    connect(&mut h, addr);
    let (_peer, _) = listener.accept().unwrap();
    let missing = dir.join("nowhere.bin");
    set_field(&mut h, "File to send", &missing.display().to_string());
    click(&mut h, "Send file");
    wait_for_text(&mut h, "does not exist, so nothing was sent");
    assert!(h.state().tcp_client.is_running(), "the connection stays");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cancel_stops_a_file_the_peer_does_not_read() {
    let dir = scratch("cancel");
    let path = dir.join("big.bin");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(256 * 1024 * 1024).unwrap(); // sparse: no disk used
    drop(file);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut h = harness();
    connect(&mut h, addr);
    let (_peer, _) = listener.accept().unwrap(); // never reads
    set_field(&mut h, "File to send", &path.display().to_string());
    click(&mut h, "Send file");
    // The progress bar shows bytes of the total, with a Cancel next to it.
    wait_for_text(&mut h, "of 268435456 bytes ·");
    click(&mut h, "Cancel");
    wait_for_row(&mut h, &["big.bin", "cancelled"]);
    assert!(!h.state().tcp_client.activity.files.is_running());
    assert!(
        !shows(&h, "of 268435456 bytes ·"),
        "the progress bar is gone"
    );
    assert!(h.state().tcp_client.is_running(), "the connection stays");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn udp_datagram_size_is_checked_next_to_the_field_and_splits_the_file() {
    let dir = scratch("udp");
    let path = dir.join("frames.bin");
    let data: Vec<u8> = (0..2500_u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(&path, &data).unwrap();
    let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
    receiver.set_read_timeout(Some(TIMEOUT)).unwrap();
    let addr = receiver.local_addr().unwrap();

    let mut h = harness();
    open_tab(&mut h, "UDP client");
    set_field(&mut h, "Port", &addr.port().to_string());
    set_field(&mut h, "File to send", &path.display().to_string());
    assert!(is_disabled(&h, "Send file"), "the socket is not open yet");
    click(&mut h, "Open socket");
    step_until(&mut h, "the socket opens", |h| {
        matches!(
            h.state().udp_client.phase,
            socketlab::gui::tabs::udp_client::Phase::Ready { .. }
        )
    });
    // One over the IPv4 limit (IPv6 would take it): the sentence names this socket's limit.
    set_field(&mut h, "Datagram size (bytes)", "65508");
    assert!(shows(&h, "Choose a datagram size from 1 to 65507 bytes"));
    assert!(is_disabled(&h, "Send file"));
    set_field(&mut h, "Datagram size (bytes)", "0");
    assert!(is_disabled(&h, "Send file"));
    set_field(&mut h, "Datagram size (bytes)", "1000");
    assert!(!is_disabled(&h, "Send file"));
    click(&mut h, "Send file");

    let mut buf = [0; 2000];
    let mut sizes = Vec::new();
    let mut got = Vec::new();
    while got.len() < data.len() {
        let n = receiver.recv(&mut buf).unwrap();
        sizes.push(n);
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(sizes, [1000, 1000, 500]);
    assert!(got == data);
    wait_for_row(&mut h, &["frames.bin", "sent completely", "3 datagrams"]);
    let counters = h.state().udp_client.activity.counters;
    assert_eq!((counters.datagrams_out, counters.bytes_out), (3, 2500));
    // Bounded wait for nothing more: exactly three datagrams went out.
    receiver
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    assert!(receiver.recv(&mut buf).is_err());

    // A 1 GB file over UDP is refused with the reason, and not a datagram leaves (a sparse file:
    // no gigabyte is written to disk).
    let huge = dir.join("disk.img");
    std::fs::File::create(&huge)
        .and_then(|f| f.set_len(1_000_000_000))
        .unwrap();
    set_field(&mut h, "File to send", &huge.display().to_string());
    click(&mut h, "Send file");
    wait_for_row(
        &mut h,
        &[
            "disk.img is 1000000000 bytes",
            "at most 67108864 bytes (64 MiB)",
            "Send it over TCP instead",
        ],
    );
    assert!(receiver.recv(&mut buf).is_err(), "nothing of it was sent");
    let counters = h.state().udp_client.activity.counters;
    assert_eq!((counters.datagrams_out, counters.bytes_out), (3, 2500));
    let _ = std::fs::remove_dir_all(&dir);
}
