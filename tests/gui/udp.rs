//! The UDP tabs in a headless window, against real loopback sockets.

use crate::gui_support::{
    click, field_value, harness, is_disabled, open_tab, set_field, shows, step_until,
    type_and_enter, wait_for_row, wait_for_text,
};
use socketlab::gui::TabId;

#[test]
fn udp_server_and_client_tabs_exchange_datagrams() {
    let mut h = harness();

    open_tab(&mut h, "UDP server");
    assert!(
        shows(&h, "Press Bind to open the UDP port"),
        "empty state guides"
    );
    set_field(&mut h, "Port", "0");
    click(&mut h, "Bind");
    step_until(&mut h, "the server binds", |h| {
        h.state().udp_server.bound_to().is_some()
    });
    let server = h.state().udp_server.bound_to().map(|a| a.to_string());
    let server = server.unwrap_or_default();
    assert!(is_disabled(&h, "Send"), "nobody to reply to yet");

    click(&mut h, "Use in client tab");
    assert_eq!(h.state().tab, TabId::UdpClient);
    assert!(server.ends_with(&format!(":{}", field_value(&h, "Port"))));

    // Send opens the socket by itself: UDP needs no connection.
    type_and_enter(&mut h, "Message", "hello");
    step_until(&mut h, "the client socket is ready", |h| {
        h.state().udp_client.is_running()
    });
    wait_for_row(&mut h, &["▶ out", &server, "hello"]);
    wait_for_text(&mut h, "sendto(5 bytes");

    open_tab(&mut h, "UDP server");
    wait_for_row(&mut h, &["◀ in", "5 B", "hello"]);
    // The reply target defaults to the last sender: the client's address.
    let sender = field_value(&h, "Reply to");
    assert!(sender.starts_with("127.0.0.1:"), "reply target: {sender:?}");
    wait_for_row(&mut h, &["◀ in", &sender, "hello"]);

    type_and_enter(&mut h, "Message", "pong");
    wait_for_row(&mut h, &["▶ out", &sender, "pong"]);

    open_tab(&mut h, "UDP client");
    // The reply is listed with its sender's address.
    wait_for_row(&mut h, &["◀ in", &server, "pong"]);

    click(&mut h, "Close");
    step_until(&mut h, "the client closes", |h| {
        !h.state().udp_client.is_running()
    });
    open_tab(&mut h, "UDP server");
    click(&mut h, "Stop");
    step_until(&mut h, "the server stops", |h| {
        !h.state().udp_server.is_running()
    });
    wait_for_text(&mut h, "idle");
}

#[test]
fn udp_echo_sends_every_datagram_back() {
    let mut h = harness();
    open_tab(&mut h, "UDP server");
    set_field(&mut h, "Port", "0");
    click(&mut h, "Echo");
    click(&mut h, "Bind");
    step_until(&mut h, "the server binds", |h| {
        h.state().udp_server.bound_to().is_some()
    });
    click(&mut h, "Use in client tab");
    type_and_enter(&mut h, "Message", "again");
    wait_for_row(&mut h, &["◀ in", "again"]);
    open_tab(&mut h, "UDP server");
    wait_for_row(&mut h, &["▶ echo", "again"]);
}

#[test]
fn udp_client_invalid_port_shows_the_sentence_and_disables_send() {
    let mut h = harness();
    open_tab(&mut h, "UDP client");
    assert!(
        !is_disabled(&h, "Send"),
        "a valid target can be sent to at once"
    );
    set_field(&mut h, "Port", "70000");
    assert!(shows(&h, "70000 is not a port"));
    assert!(is_disabled(&h, "Send"));
    assert!(is_disabled(&h, "Open socket"));
    set_field(&mut h, "Port", "domain");
    assert!(shows(&h, "= port 53"));
    assert!(!is_disabled(&h, "Send"));
}

#[test]
fn connected_udp_client_reports_nobody_listening() {
    // A port that was free a moment ago.
    let port = std::net::UdpSocket::bind(("127.0.0.1", 0))
        .and_then(|s| s.local_addr())
        .map_or(1, |a| a.port());
    let mut h = harness();
    open_tab(&mut h, "UDP client");
    set_field(&mut h, "Port", &port.to_string());
    click(&mut h, "Socket options");
    click(&mut h, "connect() first");
    assert!(h.state().udp_client.settings.connect_first);
    type_and_enter(&mut h, "Message", "anyone?");
    wait_for_text(&mut h, &format!("nothing is listening on 127.0.0.1:{port}"));
    assert!(shows(&h, "connected"), "connect() fixed the peer");
}
