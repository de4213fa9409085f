//! The multicast parts of the UDP tabs in a headless window: the server's groups list (Join on
//! an interface, [group] rows, Leave), the silence explanation, the client's TTL, interface and
//! loopback with its badge, and the sentences for bad groups and fields. Runs that send go
//! inside a private network namespace of their own (see tests/support/netns.rs).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use crate::gui_support::{
    click, harness, open_tab, open_tools, set_field, shows, step_until, type_and_enter, udp_client,
    udp_server, wait_for_row, wait_for_text,
};
use crate::netns::{LO_MULTICAST, in_netns};
use socketlab::engine::multicast::{GroupJoin, MulticastEvent, SendOptions};
use socketlab::engine::{self, EventKind, UdpClientConfig, UdpCommand, UdpServerConfig};

fn payload(text: &str) -> engine::Payload {
    Arc::from(text.as_bytes())
}

/// An engine client sending to `to` out through `interface`.
fn sender(to: SocketAddr, interface: &str) -> engine::UdpSession {
    let mut config = UdpClientConfig::new(to.ip().to_string(), to.port());
    config.multicast = SendOptions {
        interface: Some(interface.to_owned()),
        ..SendOptions::default()
    };
    let client = engine::udp::start_client(config, engine::noop_waker());
    client
        .wait_for(
            Duration::from_secs(10),
            |e| matches!(e.kind, EventKind::Ready { .. }),
            |_| {},
        )
        .expect("the sender is ready");
    client
}

#[test]
fn the_server_joins_a_group_on_an_interface_shows_group_rows_and_leaves() {
    in_netns("gui_join_leave", LO_MULTICAST, || {
        let mut h = harness();
        open_tab(&mut h, "UDP server");
        set_field(&mut h, "Bind address", "0.0.0.0");
        set_field(&mut h, "Port", "0");
        open_tools(&mut h);
        set_field(&mut h, "Group", "239.1.2.3");
        set_field(&mut h, "Interface", "lo");
        click(&mut h, "Join");
        wait_for_text(&mut h, "joined when bound");
        click(&mut h, "Bind");
        step_until(&mut h, "the group is joined", |h| {
            !udp_server(h).role.groups.joined.is_empty()
        });
        wait_for_text(&mut h, "in 1 group");
        wait_for_text(
            &mut h,
            "setsockopt(IP_ADD_MEMBERSHIP, 239.1.2.3 on lo (index 1))",
        );
        wait_for_row(&mut h, &["Joined group 239.1.2.3 on lo"]);
        let port = udp_server(&h).role.bound.expect("bound").port();

        let group: SocketAddr = ("239.1.2.3".parse::<IpAddr>().unwrap(), port).into();
        let marker: SocketAddr = (Ipv4Addr::LOCALHOST, port).into();
        let client = sender(group, "lo");
        client
            .send(UdpCommand::Send(payload("hello group")))
            .unwrap();
        wait_for_row(&mut h, &["◀ in", "[group] hello group"]);

        click(&mut h, "Leave 239.1.2.3 on lo");
        step_until(&mut h, "the group is left", |h| {
            udp_server(h).role.groups.joined.is_empty()
        });
        wait_for_row(&mut h, &["Left group 239.1.2.3 on lo"]);
        assert!(
            !shows(&h, "in 1 group"),
            "the badge goes with the membership"
        );
        client
            .send(UdpCommand::Send(payload("after the leave")))
            .unwrap();
        client
            .send(UdpCommand::SendTo(marker, payload("marker")))
            .unwrap();
        wait_for_row(&mut h, &["◀ in", "marker"]);
        assert!(
            !shows(&h, "after the leave"),
            "a datagram to a group the socket left was listed"
        );
        // Joined again from the list while bound.
        click(&mut h, "Join 239.1.2.3 on lo");
        step_until(&mut h, "joined again", |h| {
            udp_server(h).role.groups.joined.len() == 1
        });
        click(&mut h, "Stop");
        step_until(&mut h, "the server stops", |h| !udp_server(h).is_running());
    });
}

#[test]
fn a_silent_group_says_why_in_the_window() {
    let setup: &[&str] = &[
        "link set lo up",
        "link set lo multicast on",
        "route add 224.0.0.0/4 dev lo",
        "link add va type veth peer name vb",
        "addr add 198.51.100.1/24 brd + dev va",
        "link set va up",
        "link set vb up",
    ];
    in_netns("gui_silence", setup, || {
        let mut h = harness();
        open_tab(&mut h, "UDP server");
        set_field(&mut h, "Bind address", "0.0.0.0");
        set_field(&mut h, "Port", "0");
        open_tools(&mut h);
        set_field(&mut h, "Group", "239.1.2.3");
        set_field(&mut h, "Interface", "va");
        set_field(&mut h, "Explain after", "0.3");
        click(&mut h, "Join");
        click(&mut h, "Bind");
        step_until(&mut h, "the group is joined", |h| {
            !udp_server(h).role.groups.joined.is_empty()
        });
        wait_for_text(&mut h, "Nothing from the groups for");
        wait_for_row(
            &mut h,
            &[
                "Found: Wrong interface: datagrams to 239.1.2.3 sent from this machine leave through lo",
            ],
        );
        wait_for_row(&mut h, &["Possible: A firewall may drop the datagrams"]);
    });
}

#[test]
fn the_client_sends_to_a_group_with_its_ttl_interface_and_loopback() {
    in_netns("gui_client_options", LO_MULTICAST, || {
        let member = engine::udp::start_server(
            UdpServerConfig {
                bind: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                groups: vec![GroupJoin::parse("239.1.2.3@lo").unwrap()],
                ..UdpServerConfig::default()
            },
            engine::noop_waker(),
        );
        let joined = member.wait_for(
            Duration::from_secs(10),
            |e| matches!(&e.kind, EventKind::Multicast(m) if matches!(**m, MulticastEvent::Joined(_))),
            |_| {},
        );
        assert!(joined.is_some(), "the member joined");
        let port = member.local_addr().expect("bound").port();

        let mut h = harness();
        open_tab(&mut h, "UDP client");
        set_field(&mut h, "Host", "239.1.2.3");
        set_field(&mut h, "Port", &port.to_string());
        open_tools(&mut h);
        click(&mut h, "Socket options");
        set_field(&mut h, "TTL / hops", "3");
        set_field(&mut h, "Interface", "lo");
        type_and_enter(&mut h, "Message", "to the group");
        step_until(&mut h, "the socket is ready", |h| {
            udp_client(h).is_running()
        });
        wait_for_text(&mut h, "setsockopt(IP_MULTICAST_TTL, 3)");
        wait_for_text(&mut h, "setsockopt(IP_MULTICAST_IF, 127.0.0.1 (lo))");
        wait_for_text(&mut h, "to a group, TTL 3");
        let got = member.wait_for(
            Duration::from_secs(10),
            |e| matches!(&e.kind, EventKind::Datagrams(b) if b.iter().any(|d| d.data == b"to the group")),
            |_| {},
        );
        assert!(got.is_some(), "the member got the datagram");
    });
}

#[test]
fn bad_groups_interfaces_and_ttls_get_a_sentence() {
    let mut h = harness();
    open_tab(&mut h, "UDP server");
    open_tools(&mut h);
    set_field(&mut h, "Group", "10.1.2.3");
    click(&mut h, "Join");
    wait_for_text(&mut h, "10.1.2.3 is not a multicast group address");
    set_field(&mut h, "Group", "239.1.2.3");
    set_field(&mut h, "Interface", "no-such-if0");
    click(&mut h, "Join");
    wait_for_text(
        &mut h,
        "This machine has no interface called \"no-such-if0\"",
    );
    assert!(shows(&h, "No groups"), "nothing was added to the list");
    // An IPv6 group on an IPv4 socket is refused before Bind.
    set_field(&mut h, "Interface", "");
    set_field(&mut h, "Group", "ff15::1");
    click(&mut h, "Join");
    wait_for_text(
        &mut h,
        "The group ff15::1 is IPv6, but the socket binds 127.0.0.1",
    );

    open_tab(&mut h, "UDP client");
    open_tools(&mut h);
    click(&mut h, "Socket options");
    set_field(&mut h, "TTL / hops", "0");
    wait_for_text(&mut h, "TTL / hops: give a whole number from 1 to 255");
    set_field(&mut h, "TTL / hops", "");
    click(&mut h, "IP_MULTICAST_LOOP");
    wait_for_text(&mut h, "IP_MULTICAST_LOOP off applies to a group target");
}
