//! Many sessions at once: several clients on one server, the side-by-side preset, new, rename,
//! duplicate and close, all on real loopback sockets.

use std::net::{Ipv4Addr, TcpListener};

use egui_kittest::kittest::Queryable as _;
use socketlab::engine::log_store::Direction;
use socketlab::gui::roles::{TcpClient, TcpServer};
use socketlab::gui::session::SessionKind;
use socketlab::gui::{Pane, SocketLabApp};

use crate::gui_support::{
    click, field_value, harness, open_tab, set_field, shows, step_until, tcp_server,
    type_and_enter, wait_for_text,
};

/// The texts of what a session's log received.
fn received(app: &SocketLabApp, id: u64) -> Vec<String> {
    app.session_as::<TcpClient>(id)
        .map(|c| {
            (0..c.activity.log.len())
                .filter_map(|i| c.activity.log.get(i))
                .filter(|e| e.direction == Direction::In)
                .map(|e| String::from_utf8_lossy(&e.preview).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn three_clients_on_one_server_each_see_only_their_own_echo() {
    let mut h = harness();
    open_tab(&mut h, "TCP server");
    set_field(&mut h, "Port", "0");
    click(&mut h, "Echo");
    click(&mut h, "Listen");
    step_until(&mut h, "the server listens", |h| {
        tcp_server(h).role.listening.is_some()
    });
    let port = tcp_server(&h)
        .role
        .listening
        .map(|a| a.port().to_string())
        .unwrap_or_default();

    let first = h.state().sessions_of::<TcpClient>().next().map(|c| c.id);
    let mut clients: Vec<u64> = first.into_iter().collect();
    clients.push(h.state_mut().new_session(SessionKind::TcpClient));
    clients.push(h.state_mut().new_session(SessionKind::TcpClient));
    for (n, id) in clients.iter().enumerate() {
        h.state_mut().focus(Pane::Session(*id));
        h.step();
        set_field(&mut h, "Port", &port);
        click(&mut h, "Connect");
        step_until(&mut h, "the client connects", |h| {
            h.state()
                .session_as::<TcpClient>(*id)
                .is_some_and(|c| c.role.local.is_some())
        });
        type_and_enter(&mut h, "Message", &format!("from client {n}"));
    }
    step_until(&mut h, "three clients, each with its echo", |h| {
        tcp_server(h).role.clients.len() == 3
            && clients
                .iter()
                .all(|id| !received(h.state(), *id).is_empty())
    });
    for (n, id) in clients.iter().enumerate() {
        let got = received(h.state(), *id).concat();
        assert_eq!(
            got,
            format!("from client {n}"),
            "client {n} sees only its echo"
        );
    }
    open_tab(&mut h, "TCP server");
    wait_for_text(&mut h, "(3)");
    // Each client's title names where it is connected; they are three tabs.
    let titles = h
        .query_all_by(|n| {
            n.label()
                .is_some_and(|l| l.contains(&format!("TCP client → 127.0.0.1:{port}")))
        })
        .count();
    assert!(titles >= 3, "{titles} client tabs");
}

#[test]
fn the_side_by_side_preset_shows_both_and_one_exchange_needs_three_actions() {
    // A port free a moment ago, so the preset's server and client agree on it.
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map_or(0, |a| a.port());
    let mut h = harness();
    let server = h
        .state()
        .sessions_of::<TcpServer>()
        .next()
        .map_or(0, |s| s.id);
    if let Some(s) = h.state_mut().session_as_mut::<TcpServer>(server) {
        s.settings.port = port.to_string();
    }
    click(&mut h, "Layout");
    click(&mut h, "Server and client side by side");
    let client = h
        .state()
        .sessions_of::<TcpClient>()
        .find(|c| c.settings.port == port.to_string())
        .map(|c| c.id)
        .expect("a client aimed at the server");
    assert!(
        h.state().is_visible(Pane::Session(server)),
        "server tile shown"
    );
    assert!(
        h.state().is_visible(Pane::Session(client)),
        "client tile shown"
    );
    let ports: Vec<_> = h.query_all_by_label("Port").collect();
    assert_eq!(ports.len(), 2, "two sessions drawn side by side");

    click(&mut h, "Listen");
    step_until(&mut h, "the server listens", |h| {
        tcp_server(h).role.listening.is_some()
    });
    click(&mut h, "Connect");
    step_until(&mut h, "the client connects", |h| {
        h.state()
            .session_as::<TcpClient>(client)
            .is_some_and(|c| c.role.local.is_some())
    });
    // Once connected the cursor waits in the client's message field: typing and Enter send.
    h.step();
    h.step();
    h.event(egui::Event::Text("hi".to_owned()));
    h.step();
    h.key_press(egui::Key::Enter);
    step_until(&mut h, "the server receives hi", |h| {
        tcp_server(h).activity.counters.bytes_in == 2
    });
}

#[test]
fn sessions_are_created_renamed_duplicated_and_closed() {
    let mut h = harness();
    let before = h.state().sessions.len();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::T);
    h.step();
    h.step();
    assert_eq!(
        h.state().sessions.len(),
        before + 1,
        "Ctrl+T opened a session"
    );
    let id = h
        .state()
        .active_session()
        .map_or(0, socketlab::gui::session::Tab::id);
    set_field(&mut h, "Port", "7777");
    assert!(
        shows(&h, "TCP client → 127.0.0.1:7777"),
        "the title follows the address"
    );

    h.state_mut().rename(id, "the device");
    h.step();
    assert!(shows(&h, "the device"));
    let copy = h.state_mut().duplicate(id).unwrap_or(0);
    h.step();
    assert!(shows(&h, "the device (copy)"));
    assert_eq!(field_value(&h, "Port"), "7777", "the copy has the settings");

    // An empty log closes at once; one with rows asks once, with what will be lost.
    click(&mut h, "Close session the device (copy)");
    assert!(h.state().session(copy).is_none());
    if let Some(s) = h.state_mut().session_as_mut::<TcpClient>(id) {
        s.activity
            .log
            .push_note(std::time::SystemTime::now(), None, "a note");
    }
    h.step();
    click(&mut h, "Close session the device");
    assert!(
        shows(&h, "Its log holds 1 row"),
        "the dialog says what is lost"
    );
    assert!(h.state().session(id).is_some(), "nothing closed yet");
    click(&mut h, "Close session");
    assert!(
        h.state().session(id).is_none(),
        "closed after the one question"
    );
}

#[test]
fn closing_says_what_no_export_saved_and_an_exported_log_closes_at_once() {
    let mut h = harness();
    let id = h
        .state()
        .sessions_of::<TcpClient>()
        .next()
        .map_or(0, |c| c.id);
    h.state_mut().focus(Pane::Session(id));
    let peer = "127.0.0.1:9000".parse().ok();
    if let Some(s) = h.state_mut().session_as_mut::<TcpClient>(id) {
        let now = std::time::SystemTime::now();
        s.activity
            .log
            .push_data(now, Direction::In, peer, None, b"hello");
        s.activity
            .log
            .push_data(now, Direction::Out, peer, None, b"hi");
    }
    h.step();
    let title = h
        .state()
        .session(id)
        .map(socketlab::gui::session::Tab::title)
        .unwrap_or_default();
    click(&mut h, &format!("Close session {title}"));
    assert!(
        shows(&h, "Its log holds 2 rows (5 bytes received, 2 bytes sent)"),
        "the dialog counts rows and bytes"
    );
    assert!(
        !shows(&h, "closing it stops it"),
        "a session that is not running is not said to stop"
    );
    click(&mut h, "Cancel");
    assert!(h.state().session(id).is_some(), "Cancel keeps the session");

    let dir = std::env::temp_dir().join(format!("socketlab-gui-close-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("log.txt");
    let _ = std::fs::remove_file(&file);
    click(&mut h, "Export the log");
    set_field(&mut h, "Export to file", &file.to_string_lossy());
    click(&mut h, "Export shown rows");
    wait_for_text(&mut h, "Wrote 2 rows");

    // One more row after the export: only that one is at stake.
    if let Some(s) = h.state_mut().session_as_mut::<TcpClient>(id) {
        s.activity.log.push_data(
            std::time::SystemTime::now(),
            Direction::In,
            peer,
            None,
            b"late",
        );
    }
    h.step();
    click(&mut h, &format!("Close session {title}"));
    assert!(
        shows(&h, "Its log holds 1 row (4 bytes received, 0 bytes sent)"),
        "only the row after the export is counted"
    );
    click(&mut h, "Cancel");
    click(&mut h, "Export shown rows");
    click(&mut h, "Export shown rows");
    wait_for_text(&mut h, "Wrote 3 rows");
    click(&mut h, &format!("Close session {title}"));
    assert!(
        h.state().session(id).is_none(),
        "a log saved whole closes without asking"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
