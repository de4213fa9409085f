//! Each tab against a peer that is not Socket Lab: plain `std::net` sockets on loopback.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream, UdpSocket};
use std::time::Duration;

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable as _;

use crate::gui_support::{
    TIMEOUT, click, harness, open_tab, set_field, shows, step_until, type_and_enter, wait_for_row,
    wait_for_text,
};

/// Reads until `want` bytes arrived or the stream ends; bounded by the read timeout.
fn read_some(stream: &mut TcpStream, want: usize) -> Vec<u8> {
    stream
        .set_read_timeout(Some(TIMEOUT))
        .unwrap_or_else(|e| panic!("set_read_timeout: {e}"));
    let mut got = Vec::new();
    let mut buf = [0_u8; 1024];
    while got.len() < want {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => panic!("read failed after {got:?}: {e}"),
        }
    }
    got
}

#[test]
fn tcp_client_tab_against_a_plain_listener() {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let peer = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let got = read_some(&mut stream, 5);
        stream.write_all(b"PONG\x00\xff").unwrap();
        // End our side: the tab must show that the peer finished sending.
        stream.shutdown(Shutdown::Write).unwrap();
        // Wait for the tab to close (bounded by the read timeout).
        let _ = read_some(&mut stream, 1);
        got
    });

    let mut h = harness();
    set_field(&mut h, "Port", &port.to_string());
    click(&mut h, "Connect");
    wait_for_text(&mut h, "connected");
    type_and_enter(&mut h, "Message", "ping!");
    // NUL by name, invalid UTF-8 as \xff.
    wait_for_row(&mut h, &["◀ in", "6 B", "PONG NUL\\xff"]);
    // Clicking the row shows every kept byte as a hex dump.
    h.get_by(|n| n.value().is_some_and(|v| v.contains("PONG NUL")) && n.role() == Role::Label)
        .click();
    h.step();
    h.step();
    assert!(
        shows(&h, "00000000  50 4f 4e 47 00 ff"),
        "hex dump of the entry"
    );
    wait_for_text(&mut h, "Peer finished sending");
    click(&mut h, "Close");
    step_until(&mut h, "the tab closes", |h| {
        !h.state().tcp_client.is_running()
    });
    assert_eq!(peer.join().unwrap(), b"ping!");
    assert!(shows(&h, "closed"));
}

#[test]
fn tcp_client_abort_resets_the_peer() {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let peer = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(TIMEOUT))
            .unwrap_or_else(|e| panic!("set_read_timeout: {e}"));
        let mut buf = [0_u8; 16];
        stream.read(&mut buf).map_err(|e| e.kind())
    });
    let mut h = harness();
    set_field(&mut h, "Port", &port.to_string());
    // Enter in the port field connects, like the Connect button.
    h.get_by_label("Port").focus();
    h.step();
    h.key_press(egui::Key::Enter);
    h.step();
    h.step();
    wait_for_text(&mut h, "connected");
    click(&mut h, "Abort");
    step_until(&mut h, "the tab closes", |h| {
        !h.state().tcp_client.is_running()
    });
    assert_eq!(peer.join().unwrap(), Err(ErrorKind::ConnectionReset));
    assert!(shows(&h, "you aborted the connection"));
}

#[test]
fn tcp_server_tab_against_a_plain_client() {
    let mut h = harness();
    open_tab(&mut h, "TCP server");
    set_field(&mut h, "Port", "0");
    click(&mut h, "Listen");
    step_until(&mut h, "listening", |h| {
        h.state().tcp_server.listening_on().is_some()
    });
    let server = h.state().tcp_server.listening_on().unwrap();

    let mut a = TcpStream::connect(server).unwrap();
    let mut b = TcpStream::connect(server).unwrap();
    a.write_all(b"from a").unwrap();
    let a_addr = a.local_addr().unwrap().to_string();
    wait_for_row(&mut h, &["◀ in", &a_addr, "from a"]);
    step_until(&mut h, "two clients in the table", |h| {
        h.state().tcp_server.clients.len() == 2
    });

    // Pick client 1 in the table and send to it alone.
    click(&mut h, "client 1");
    type_and_enter(&mut h, "Message", "just you");
    assert_eq!(read_some(&mut a, 8), b"just you");

    // Then everyone.
    click(&mut h, "All clients");
    type_and_enter(&mut h, "Message", "!");
    assert_eq!(read_some(&mut a, 1), b"!");
    assert_eq!(read_some(&mut b, 1), b"!");

    // Disconnect the first client: it sees the end of the stream.
    h.get_all_by_label("Disconnect").next().unwrap().click();
    h.step();
    h.step();
    assert_eq!(read_some(&mut a, 1), b"");
    step_until(&mut h, "one client left", |h| {
        h.state().tcp_server.clients.len() == 1
    });
    wait_for_text(&mut h, "client 1 (");
}

#[test]
fn udp_server_tab_against_a_plain_socket() {
    let mut h = harness();
    open_tab(&mut h, "UDP server");
    set_field(&mut h, "Port", "0");
    click(&mut h, "Bind");
    step_until(&mut h, "bound", |h| {
        h.state().udp_server.bound_to().is_some()
    });
    let server = h.state().udp_server.bound_to().unwrap();

    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    socket.set_read_timeout(Some(TIMEOUT)).unwrap();
    socket.send_to(b"dgram\r\n", server).unwrap();
    let me = socket.local_addr().unwrap().to_string();
    wait_for_row(&mut h, &["◀ in", &me, "7 B", "dgram CR LF"]);

    type_and_enter(&mut h, "Message", "reply");
    let mut buf = [0_u8; 64];
    let (n, from) = socket.recv_from(&mut buf).unwrap();
    assert_eq!((&buf[..n], from), (&b"reply"[..], server));
}

#[test]
fn udp_client_tab_against_a_plain_socket() {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let port = socket.local_addr().unwrap().port();

    let mut h = harness();
    open_tab(&mut h, "UDP client");
    set_field(&mut h, "Port", &port.to_string());
    click(&mut h, "Hex");
    type_and_enter(&mut h, "Message", "01 02 ff");
    let mut buf = [0_u8; 64];
    let (n, client) = socket.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], [1, 2, 0xff]);
    socket.send_to(b"answer", client).unwrap();
    let me = socket.local_addr().unwrap().to_string();
    wait_for_row(&mut h, &["◀ in", &me, "answer"]);
}
