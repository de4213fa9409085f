//! The teaching features in a headless window: the Lookup tab against the system's real
//! resolver, and the demos on real loopback sockets.

mod gui_support;

use std::collections::BTreeSet;
use std::net::{IpAddr, ToSocketAddrs};

use egui_kittest::kittest::{NodeT as _, Queryable as _};

use gui_support::{
    click, harness, is_disabled, open_tab, set_field, shows, step_until, wait_for_text,
};

/// Every IP address the Lookup tab's tables show, read from the window's cells (labels, not
/// the text fields, which hold the reverse lookup's address).
fn shown_addresses(
    h: &egui_kittest::Harness<'_, socketlab::gui::SocketLabApp>,
) -> BTreeSet<IpAddr> {
    h.query_all_by(|node| {
        node.role() == egui::accesskit::Role::Label
            && node
                .value()
                .or_else(|| node.label())
                .is_some_and(|v| v.parse::<IpAddr>().is_ok())
    })
    .filter_map(|node| {
        let node = node.accesskit_node();
        node.value().or_else(|| node.label())
    })
    .filter_map(|v| v.parse::<IpAddr>().ok())
    .collect()
}

fn look_up(h: &mut egui_kittest::Harness<'_, socketlab::gui::SocketLabApp>, name: &str) {
    set_field(h, "Name or address", name);
    click(h, "Look up");
    step_until(h, "the lookup answers", |h| {
        h.state()
            .lookup
            .forward
            .as_ref()
            .is_some_and(|(n, _)| n == name)
    });
    h.step();
}

#[test]
fn lookup_shows_what_the_system_resolver_answers() {
    let mut h = harness();
    open_tab(&mut h, "Lookup");

    look_up(&mut h, "localhost");
    let expected: BTreeSet<IpAddr> = ("localhost", 0)
        .to_socket_addrs()
        .map(|addrs| addrs.map(|a| a.ip()).collect())
        .unwrap_or_default();
    assert!(!expected.is_empty(), "the system resolves localhost");
    assert_eq!(
        shown_addresses(&h),
        expected,
        "exactly the resolver's addresses"
    );
    assert!(shows(&h, "getaddrinfo(\"localhost\""), "the call is shown");
    assert!(shows(&h, "SOCK_STREAM"), "one row per socket type");

    look_up(&mut h, "::1");
    let only_v6: BTreeSet<IpAddr> = ["::1".parse().unwrap_or(IpAddr::from([0u8; 16]))].into();
    assert_eq!(shown_addresses(&h), only_v6);
    assert!(shows(&h, "AF_INET6"));
}

#[test]
fn lookup_translates_services_and_explains_unknown_names() {
    let mut h = harness();
    open_tab(&mut h, "Lookup");
    set_field(&mut h, "Service name or port", "http");
    wait_for_text(&mut h, "tcp: http = port 80");

    set_field(&mut h, "Service name or port", "no-such-service");
    wait_for_text(
        &mut h,
        "\"no-such-service\" is not a number, and no tcp service has that name.",
    );

    // The forward lookup refuses an unknown service before asking the resolver.
    set_field(&mut h, "Service", "no-such-service");
    assert!(shows(&h, "no tcp service has that name"));
    assert!(is_disabled(&h, "Look up"));

    // With a known service every row carries its port.
    set_field(&mut h, "Service", "http");
    look_up(&mut h, "127.0.0.1");
    assert!(
        shows(&h, "127.0.0.1:80"),
        "the address carries the service's port"
    );
}

#[test]
fn server_steps_tick_from_real_calls_and_calls_are_explained() {
    use socketlab::engine::explain::StepState;
    let mut h = harness();
    open_tab(&mut h, "TCP server");
    let states = |h: &egui_kittest::Harness<'_, socketlab::gui::SocketLabApp>| -> Vec<StepState> {
        h.state()
            .tcp_server
            .activity
            .transcript
            .checklist()
            .map(|l| l.items().map(|(_, s)| s).collect())
            .unwrap_or_default()
    };
    assert!(states(&h).iter().all(|s| *s == StepState::Pending));
    set_field(&mut h, "Port", "0");
    click(&mut h, "Listen");
    step_until(&mut h, "the server listens", |h| {
        h.state().tcp_server.listening_on().is_some()
    });
    h.step();
    // create socket, set options, bind, listen happened; accept waits for a client.
    assert_eq!(
        states(&h),
        [
            StepState::Done,
            StepState::Done,
            StepState::Done,
            StepState::Done,
            StepState::Pending
        ]
    );
    assert!(
        shows(&h, "start accepting connections"),
        "listen() is explained"
    );
    let port = h.state().tcp_server.listening_on().map_or(0, |a| a.port());
    let _client = std::net::TcpStream::connect(("127.0.0.1", port));
    step_until(&mut h, "accept is ticked", |h| {
        states(h).last() == Some(&StepState::Done)
    });
    // Explanations can be switched off.
    click(&mut h, "Explain calls");
    assert!(!shows(&h, "start accepting connections"));
}
