//! Safe defaults in the window: who can reach a server, the client limit, the log's memory budget.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpStream;

use socketlab::engine::QueueSizes;
use socketlab::engine::log_store::DEFAULT_MAX_BYTES;
use socketlab::gui::SocketLabApp;
use socketlab::gui::activity::queue_budget;

const MIB: usize = 1024 * 1024;

use crate::gui_support::{
    click, field_value, harness, open_tab, set_field, shows, step_until, wait_for_text,
};

const BADGE: &str = "Reachable from other machines";

#[test]
fn servers_bind_loopback_by_default_and_badge_every_other_address() {
    let mut h = harness();
    for tab in ["TCP server", "UDP server"] {
        open_tab(&mut h, tab);
        assert_eq!(field_value(&h, "Bind address"), "127.0.0.1", "{tab}");
        assert!(shows(&h, "only this computer"), "{tab}: loopback is said");
        assert!(!shows(&h, BADGE), "{tab}: no badge on loopback");
        // Typing only: nothing here listens on anything but loopback.
        for exposed in ["0.0.0.0", "::", "192.0.2.7"] {
            set_field(&mut h, "Bind address", exposed);
            assert!(shows(&h, BADGE), "{tab}: {exposed} carries the badge");
        }
        for local in ["::1", "127.0.0.1"] {
            set_field(&mut h, "Bind address", local);
            assert!(!shows(&h, BADGE), "{tab}: {local} has no badge");
        }
    }
}

#[test]
fn client_limit_is_visible_and_changes_while_listening() {
    let mut h = harness();
    open_tab(&mut h, "TCP server");
    set_field(&mut h, "Port", "0");
    set_field(&mut h, "Client limit", "1");
    click(&mut h, "Listen");
    step_until(&mut h, "the server listens", |h| {
        h.state().tcp_server.listening_on().is_some()
    });
    let addr = h.state().tcp_server.listening_on().unwrap();
    let _first = TcpStream::connect(addr).unwrap();
    step_until(&mut h, "one client", |h| {
        h.state().tcp_server.clients.len() == 1
    });
    let _second = TcpStream::connect(addr).unwrap();
    wait_for_text(&mut h, "1 turned away by the limit");
    assert_eq!(h.state().tcp_server.clients.len(), 1);

    // Raised while listening: the next client gets in without a restart.
    set_field(&mut h, "Client limit", "3");
    // The new limit reaches the accepting thread through the session's command queue, so a
    // connection made at once may still meet the old limit: try a bounded number of times.
    let mut later_clients = Vec::new();
    for _ in 0..5 {
        later_clients.push(TcpStream::connect(addr).unwrap());
        let turned_away = h.state().tcp_server.activity.counters.connections_rejected;
        step_until(&mut h, "the client is taken in or turned away", |h| {
            h.state().tcp_server.clients.len() == 2
                || h.state().tcp_server.activity.counters.connections_rejected > turned_away
        });
        if h.state().tcp_server.clients.len() == 2 {
            break;
        }
    }
    assert_eq!(h.state().tcp_server.clients.len(), 2);
    assert!(h.state().tcp_server.is_running());

    // A limit that is not a number is said next to the field, and the server goes on.
    set_field(&mut h, "Client limit", "lots");
    wait_for_text(
        &mut h,
        "Client limit must be a whole number from 1 to 100000.",
    );
    assert!(h.state().tcp_server.is_running());
    assert_eq!(h.state().tcp_server.clients.len(), 2, "nobody was dropped");
}

#[test]
fn log_memory_and_its_budget_are_shown_and_set_the_queue() {
    let mut h = harness();
    open_tab(&mut h, "TCP client");
    wait_for_text(&mut h, "Log memory 0.0 MiB of");
    let log = &h.state().tcp_client.activity.log;
    assert_eq!(log.max_bytes(), DEFAULT_MAX_BYTES);
    wait_for_text(
        &mut h,
        &format!("+ queue up to {} MiB", DEFAULT_MAX_BYTES / 4 / MIB),
    );

    // A smaller budget (as the field above the log sets it) shrinks the queue with it.
    h.state_mut()
        .tcp_client
        .activity
        .log
        .set_max_bytes(40 * MIB);
    wait_for_text(&mut h, "+ queue up to 10 MiB");
    // The budget is remembered between runs like the other settings.
    let remembered = h.state().settings();
    assert_eq!(remembered.tcp_client.log_budget_mib, 40);
    let restarted = SocketLabApp::new(remembered);
    assert_eq!(restarted.tcp_client.activity.log.max_bytes(), 40 * MIB);
    assert_eq!(queue_budget(&h.state().tcp_client.activity.log), 10 * MIB);
    assert_eq!(
        QueueSizes::tcp_with_budget(10 * MIB).received_bytes,
        10 * MIB,
        "a TCP session's received data in flight is the queue budget"
    );
    assert_eq!(
        QueueSizes::udp_with_budget(10 * MIB).events,
        80,
        "a UDP session queues at most 128 KiB per event"
    );
}
