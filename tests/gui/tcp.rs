//! The TCP tabs in a headless window, against real loopback sockets.

use std::net::{Ipv4Addr, TcpListener};

use egui_kittest::kittest::Queryable as _;

use crate::gui_support::{
    click, field_value, harness, is_disabled, open_tab, set_field, shows, step_until,
    type_and_enter, wait_for_row, wait_for_text,
};
use socketlab::gui::TabId;

#[test]
fn server_and_client_tabs_talk_and_stop_returns_to_idle() {
    let mut h = harness();

    open_tab(&mut h, "TCP server");
    assert!(
        shows(&h, "Press Listen to open the port"),
        "empty state guides"
    );
    set_field(&mut h, "Port", "0");
    click(&mut h, "Listen");
    step_until(&mut h, "the server listens", |h| {
        h.state().tcp_server.listening_on().is_some()
    });
    let listening = h.state().tcp_server.listening_on().map(|a| a.port());
    assert_ne!(listening, Some(0), "the real port is shown, not 0");
    wait_for_text(&mut h, "listening");

    // The server hands its real address to the client tab.
    click(&mut h, "Use in client tab");
    assert_eq!(h.state().tab, TabId::TcpClient);
    let port = listening.map(|p| p.to_string()).unwrap_or_default();
    assert_eq!(field_value(&h, "Port"), port);
    assert_eq!(field_value(&h, "Host"), "127.0.0.1");

    click(&mut h, "Connect");
    step_until(&mut h, "the client connects", |h| {
        h.state().tcp_client.local.is_some()
    });
    wait_for_text(&mut h, "connected");
    let client_addr = h.state().tcp_client.local.map(|a| a.to_string());
    let client_addr = client_addr.unwrap_or_default();
    assert!(
        shows(&h, &format!("local {client_addr}")),
        "status shows the local address"
    );
    h.step();
    assert!(
        h.get_by_label("Message").is_focused(),
        "once connected, the cursor waits in the message editor"
    );

    // With CRLF the row shows the line ending by name (the fonts lack control pictures, and a
    // missing glyph fails the harness).
    click(&mut h, "CRLF");
    type_and_enter(&mut h, "Message", "hello");
    wait_for_row(&mut h, &["▶ out", "7 B", "hello CR LF"]);

    open_tab(&mut h, "TCP server");
    // The log row: direction, the client's address, the size and the text.
    wait_for_row(&mut h, &["◀ in", &client_addr, "7 B", "hello CR LF"]);
    // The client table lists it: a cell holds exactly its address.
    step_until(&mut h, "the client in the table", |h| {
        h.query_all_by_value(&client_addr).next().is_some()
    });
    assert!(shows(&h, "accept()"), "the transcript lists accept()");

    // Reply to everyone; the client sees it.
    type_and_enter(&mut h, "Message", "world");
    open_tab(&mut h, "TCP client");
    wait_for_row(&mut h, &["◀ in", "world"]);

    // Half-close: the server closes when the client finishes (its default), so the client sees
    // the peer finish.
    click(&mut h, "Shut down sending");
    wait_for_row(&mut h, &["peer finished sending (FIN received)"]);
    // Both directions are finished, so the connection is over, with the reason.
    wait_for_text(&mut h, "closed — the peer closed the connection");
    assert!(
        shows(&h, "shutdown("),
        "the transcript shows the shutdown call"
    );

    open_tab(&mut h, "TCP server");
    click(&mut h, "Stop");
    step_until(&mut h, "the server stops", |h| {
        !h.state().tcp_server.is_running()
    });
    wait_for_text(&mut h, "idle");
    assert!(!is_disabled(&h, "Listen"), "Listen is available again");
}

#[test]
fn refused_connection_is_explained_in_plain_language() {
    // A port that was free a moment ago: nothing listens there.
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map_or(1, |a| a.port());
    let mut h = harness();
    set_field(&mut h, "Port", &port.to_string());
    click(&mut h, "Connect");
    let expected = format!("nothing is listening on 127.0.0.1:{port}");
    wait_for_text(&mut h, &expected);
    assert!(
        shows(&h, "closed"),
        "the status says closed with the reason"
    );
    assert!(
        shows(&h, "connect(127.0.0.1:"),
        "the transcript shows the failed call"
    );
    assert!(!is_disabled(&h, "Connect"), "one can try again");
}

#[test]
fn invalid_port_is_marked_and_keeps_connect_and_send_disabled() {
    let mut h = harness();
    set_field(&mut h, "Port", "99999");
    assert!(
        shows(&h, "99999 is not a port"),
        "the sentence is next to the field"
    );
    assert!(is_disabled(&h, "Connect"));
    assert!(is_disabled(&h, "Send"));

    set_field(&mut h, "Port", "nosuchservice");
    assert!(shows(&h, "no tcp service has that name"));
    assert!(is_disabled(&h, "Connect"));

    set_field(&mut h, "Port", "http");
    assert!(shows(&h, "= port 80"), "a service name shows its port");
    assert!(!is_disabled(&h, "Connect"));

    set_field(&mut h, "Port", "0");
    assert!(
        is_disabled(&h, "Connect"),
        "a client cannot connect to port 0"
    );
}

#[test]
fn bad_hex_is_an_inline_error() {
    let mut h = harness();
    click(&mut h, "Hex");
    set_field(&mut h, "Message", "48 6z");
    assert!(shows(&h, "'z' at position 5 is not a hex digit"));
    set_field(&mut h, "Message", "48 65");
    assert!(!shows(&h, "is not a hex digit"));
}
