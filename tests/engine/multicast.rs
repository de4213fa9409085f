//! Multicast and broadcast, each test in a private network namespace of its own (see
//! tests/support/netns.rs): joins over IPv4 and IPv6, two members of one group, leaving, a
//! source-specific join, a join on the wrong interface and what the session says about it, and
//! broadcast to the namespace's subnet through a veth pair.
//!
//! Nothing is waited for with a sleep: a datagram that must not arrive is followed by a unicast
//! "marker" from the same sending socket, and the receiver's view up to the marker is checked.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use crossbeam_channel::bounded;

use crate::common::{TIMEOUT, bound_addr, bytes, collect_until, wait};
use crate::netns::{LO_MULTICAST, in_netns, two_netns};
use socketlab::engine::multicast::{
    Cause, DestinationKind, GroupJoin, MulticastEvent, SendOptions,
};
use socketlab::engine::{
    self, EngineError, Event, EventKind, UdpClientConfig, UdpCommand, UdpServerConfig, UdpSession,
    noop_waker,
};

const GROUP_V4: &str = "239.1.2.3";
const GROUP_V6: &str = "ff15::1234";

fn join(text: &str) -> GroupJoin {
    GroupJoin::parse(text).unwrap()
}

/// A server on the wildcard address of `group`'s family, in `groups`; waits until it is bound
/// and every group is joined.
fn member(port: u16, groups: &[GroupJoin], silence: Duration) -> (UdpSession, SocketAddr) {
    let v4 = groups.first().is_none_or(|g| g.group.is_ipv4());
    let session = engine::udp::start_server(
        UdpServerConfig {
            bind: if v4 {
                IpAddr::V4(Ipv4Addr::UNSPECIFIED)
            } else {
                IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED)
            },
            port,
            reuse_address: true,
            groups: groups.to_vec(),
            silence_after: silence,
            ..UdpServerConfig::default()
        },
        noop_waker(),
    );
    let local = bound_addr(&session);
    for _ in groups {
        joined(&session);
    }
    (session, local)
}

fn joined(session: &UdpSession) -> MulticastEvent {
    let event = wait(session, "joined", |e| {
        matches!(&e.kind, EventKind::Multicast(m) if matches!(**m, MulticastEvent::Joined(_)))
            || matches!(e.kind, EventKind::Stopped { .. })
    });
    match event.kind {
        EventKind::Multicast(m) => *m,
        other => panic!("the join failed: {other:?}"),
    }
}

/// A client sending to `to`, out through `interface`.
fn sender(to: SocketAddr, options: SendOptions) -> UdpSession {
    let mut config = UdpClientConfig::new(to.ip().to_string(), to.port());
    config.multicast = options;
    let client = engine::udp::start_client(config, noop_waker());
    bound_addr(&client);
    client
}

fn through(interface: &str) -> SendOptions {
    SendOptions {
        interface: Some(interface.to_owned()),
        ..SendOptions::default()
    }
}

/// Every datagram (payload, destination kind, destination address) the session shows until one
/// whose payload is `until`, that one included.
fn received_until(
    session: &UdpSession,
    until: &[u8],
) -> Vec<(Vec<u8>, Option<DestinationKind>, Option<IpAddr>)> {
    let events = collect_until(
        session,
        "the marker datagram",
        |e| matches!(&e.kind, EventKind::Datagrams(b) if b.iter().any(|d| d.data == until)),
    );
    datagrams(&events)
}

fn datagrams(events: &[Event]) -> Vec<(Vec<u8>, Option<DestinationKind>, Option<IpAddr>)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Datagrams(b) => Some(
                b.iter()
                    .map(|d| (d.data.to_vec(), d.to.map(|t| t.kind), d.to.map(|t| t.addr)))
                    .collect::<Vec<_>>(),
            ),
            _ => None,
        })
        .flatten()
        .collect()
}

fn payloads(got: &[(Vec<u8>, Option<DestinationKind>, Option<IpAddr>)]) -> Vec<&[u8]> {
    got.iter().map(|(p, _, _)| p.as_slice()).collect()
}

/// The transcript lines (socket calls) among `events`.
fn calls(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Call(c) => Some(c.to_string()),
            _ => None,
        })
        .collect()
}

#[test]
fn ipv4_join_on_loopback_receives_the_group_and_says_so() {
    in_netns("ipv4_join", LO_MULTICAST, || {
        let session = engine::udp::start_server(
            UdpServerConfig {
                bind: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                groups: vec![join("239.1.2.3@lo")],
                ..UdpServerConfig::default()
            },
            noop_waker(),
        );
        let events = collect_until(&session, "the join", |e| {
            matches!(e.kind, EventKind::Multicast(_) | EventKind::Stopped { .. })
        });
        let transcript = calls(&events).join("\n");
        assert!(
            transcript.contains("setsockopt(IP_ADD_MEMBERSHIP, 239.1.2.3 on lo (index 1)) → ok"),
            "{transcript}"
        );
        assert!(
            transcript.contains("setsockopt(IP_MULTICAST_ALL, 0) → ok"),
            "{transcript}"
        );
        assert!(
            transcript.contains("setsockopt(IP_PKTINFO, 1) → ok"),
            "{transcript}"
        );
        let local = events
            .iter()
            .find_map(|e| match e.kind {
                EventKind::Ready { local, .. } => Some(local),
                _ => None,
            })
            .expect("ready before the join is announced");
        let Some(EventKind::Multicast(m)) = events.last().map(|e| &e.kind) else {
            panic!("no join: {events:?}");
        };
        let MulticastEvent::Joined(g) = &**m else {
            panic!("not a join: {m:?}");
        };
        assert_eq!(g.interface.as_ref().map(|i| i.name.as_str()), Some("lo"));

        let group: SocketAddr = (GROUP_V4.parse::<IpAddr>().unwrap(), local.port()).into();
        let client = sender(group, through("lo"));
        client
            .send(UdpCommand::Send(bytes(b"to the group")))
            .unwrap();
        let marker: SocketAddr = (Ipv4Addr::LOCALHOST, local.port()).into();
        client
            .send(UdpCommand::SendTo(marker, bytes(b"marker")))
            .unwrap();
        let got = received_until(&session, b"marker");
        assert_eq!(
            got,
            vec![
                (
                    b"to the group".to_vec(),
                    Some(DestinationKind::Group),
                    Some(group.ip())
                ),
                (
                    b"marker".to_vec(),
                    Some(DestinationKind::ThisHost),
                    Some(IpAddr::V4(Ipv4Addr::LOCALHOST))
                ),
            ]
        );
        let c = session.counters();
        assert_eq!((c.datagrams_in, c.bytes_in), (2, 18));
    });
}

#[test]
fn ipv6_join_on_a_veth_link_receives_the_group() {
    let setup: &[&str] = &[
        "link set lo up",
        "link add va type veth peer name vb",
        "addr add 2001:db8::1/64 dev va nodad",
        "addr add 2001:db8::2/64 dev vb nodad",
        "link set va up",
        "link set vb up",
    ];
    in_netns("ipv6_join", setup, || {
        let (session, local) = member(0, &[join(&format!("{GROUP_V6}@va"))], TIMEOUT);
        let group: SocketAddr = (GROUP_V6.parse::<IpAddr>().unwrap(), local.port()).into();
        let client = sender(group, through("va"));
        client.send(UdpCommand::Send(bytes(b"six"))).unwrap();
        let marker: SocketAddr = ("::1".parse::<IpAddr>().unwrap(), local.port()).into();
        client
            .send(UdpCommand::SendTo(marker, bytes(b"marker")))
            .unwrap();
        let got = received_until(&session, b"marker");
        assert_eq!(
            got[0],
            (
                b"six".to_vec(),
                Some(DestinationKind::Group),
                Some(group.ip())
            ),
            "{got:?}"
        );
        assert_eq!(got.len(), 2, "{got:?}");
    });
}

#[test]
fn two_members_of_one_group_both_receive_and_one_that_left_does_not() {
    in_netns("two_members_and_leave", LO_MULTICAST, || {
        let groups = [join("239.1.2.3@lo")];
        let (first, local) = member(0, &groups, TIMEOUT);
        // The second member binds the group address itself: it shares the port, but a unicast
        // datagram to 127.0.0.1 reaches only the first, which makes it a marker for the first.
        let second = engine::udp::start_server(
            UdpServerConfig {
                bind: GROUP_V4.parse().unwrap(),
                port: local.port(),
                reuse_address: true,
                groups: groups.to_vec(),
                ..UdpServerConfig::default()
            },
            noop_waker(),
        );
        bound_addr(&second);
        joined(&second);
        let group: SocketAddr = (GROUP_V4.parse::<IpAddr>().unwrap(), local.port()).into();
        let marker: SocketAddr = (Ipv4Addr::LOCALHOST, local.port()).into();
        let client = sender(group, through("lo"));
        for n in 1..=3 {
            client
                .send(UdpCommand::Send(bytes(format!("datagram {n}").as_bytes())))
                .unwrap();
        }
        client
            .send(UdpCommand::SendTo(marker, bytes(b"marker")))
            .unwrap();
        let want = |n: u8| {
            (
                format!("datagram {n}").into_bytes(),
                Some(DestinationKind::Group),
                Some(group.ip()),
            )
        };
        let got = received_until(&first, b"marker");
        assert_eq!(got[..3], [want(1), want(2), want(3)], "{got:?}");
        let got = received_until(&second, b"datagram 3");
        assert_eq!(got, [want(1), want(2), want(3)]);

        // The first member leaves; the second stays.
        first.send(UdpCommand::Leave(groups[0].clone())).unwrap();
        let events = collect_until(
            &first,
            "the leave",
            |e| matches!(&e.kind, EventKind::Multicast(m) if matches!(**m, MulticastEvent::Left(_))),
        );
        assert!(
            calls(&events)
                .iter()
                .any(|c| c == "setsockopt(IP_DROP_MEMBERSHIP, 239.1.2.3 on lo (index 1)) → ok"),
            "{events:?}"
        );
        client
            .send(UdpCommand::Send(bytes(b"after the leave")))
            .unwrap();
        client
            .send(UdpCommand::SendTo(marker, bytes(b"marker 2")))
            .unwrap();
        // The member that stayed proves the datagram went out and was delivered.
        let got = received_until(&second, b"after the leave");
        assert_eq!(got.len(), 1, "{got:?}");
        let got = received_until(&first, b"marker 2");
        assert_eq!(
            payloads(&got),
            vec![b"marker 2".as_slice()],
            "a socket that left still got the group's datagram"
        );
        assert_eq!(first.counters().datagrams_in, 5);
        assert_eq!(second.counters().datagrams_in, 4);
    });
}

#[test]
fn a_source_specific_join_hears_only_its_source() {
    in_netns("source_specific", LO_MULTICAST, || {
        let groups = [join("232.1.1.1@lo").with_source("127.0.0.2").unwrap()];
        let (session, local) = member(0, &groups, TIMEOUT);
        let group: SocketAddr = ("232.1.1.1".parse::<IpAddr>().unwrap(), local.port()).into();
        let marker: SocketAddr = (Ipv4Addr::LOCALHOST, local.port()).into();
        let mut config = UdpClientConfig::new("232.1.1.1", local.port());
        config.local = Some("127.0.0.2:0".parse().unwrap());
        config.multicast.ttl = Some(1);
        let from_source = engine::udp::start_client(config, noop_waker());
        bound_addr(&from_source);
        let other = sender(group, through("lo"));
        other
            .send(UdpCommand::Send(bytes(b"from another sender")))
            .unwrap();
        other
            .send(UdpCommand::SendTo(marker, bytes(b"marker 1")))
            .unwrap();
        let got = received_until(&session, b"marker 1");
        assert_eq!(payloads(&got), vec![b"marker 1".as_slice()], "{got:?}");
        from_source
            .send(UdpCommand::Send(bytes(b"from the source")))
            .unwrap();
        let got = received_until(&session, b"from the source");
        assert_eq!(got[0].1, Some(DestinationKind::Group));
    });
}

#[test]
fn a_join_on_the_wrong_interface_hears_nothing_and_says_why() {
    let setup: &[&str] = &[
        "link set lo up",
        "link set lo multicast on",
        "route add 224.0.0.0/4 dev lo",
        "link add va type veth peer name vb",
        "addr add 198.51.100.1/24 brd + dev va",
        "link set va up",
        "link set vb up",
    ];
    in_netns("wrong_interface", setup, || {
        let (session, local) = member(0, &[join("239.1.2.3@va")], Duration::from_millis(300));
        let group: SocketAddr = (GROUP_V4.parse::<IpAddr>().unwrap(), local.port()).into();
        let marker: SocketAddr = (Ipv4Addr::LOCALHOST, local.port()).into();
        // Sent the way a program on this machine sends by default: the route, through lo.
        let client = sender(group, SendOptions::default());
        client
            .send(UdpCommand::Send(bytes(b"to the group")))
            .unwrap();
        client
            .send(UdpCommand::SendTo(marker, bytes(b"marker")))
            .unwrap();
        let got = received_until(&session, b"marker");
        assert_eq!(payloads(&got), vec![b"marker".as_slice()], "{got:?}");
        let event = wait(
            &session,
            "the silence explanation",
            |e| matches!(&e.kind, EventKind::Multicast(m) if matches!(**m, MulticastEvent::Silence { .. })),
        );
        let EventKind::Multicast(m) = event.kind else {
            unreachable!()
        };
        let MulticastEvent::Silence { waited, causes } = *m else {
            unreachable!()
        };
        assert!(waited >= Duration::from_millis(300));
        assert_eq!(
            causes.first(),
            Some(&Cause::RouteElsewhere {
                group: group.ip(),
                joined_on: "va".to_owned(),
                route_via: "lo".to_owned(),
            }),
            "{causes:#?}"
        );
        let first = causes[0].sentence();
        assert!(first.starts_with("Wrong interface:"), "{first}");
        assert!(first.contains("leave through lo"), "{first}");
        assert!(causes.iter().any(|c| matches!(c, Cause::Ttl) && !c.found()));
        assert!(causes.iter().any(|c| matches!(c, Cause::Firewall { .. })));
        // Said once per silence, not again and again.
        assert!(
            session.recv_timeout(Duration::from_millis(700)).is_none(),
            "a second explanation came for the same silence"
        );
    });
}

#[test]
fn joins_that_cannot_be_done_are_refused_with_a_sentence() {
    in_netns("bad_joins", &["link set lo up"], || {
        // No route for the groups and no interface named: the system cannot choose one.
        let session = engine::udp::start_server(
            UdpServerConfig {
                bind: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                groups: vec![join("239.1.2.3")],
                ..UdpServerConfig::default()
            },
            noop_waker(),
        );
        let event = wait(&session, "the failed start", |e| {
            matches!(e.kind, EventKind::Stopped { .. })
        });
        let EventKind::Stopped {
            reason: engine::StopReason::Failed(e),
        } = event.kind
        else {
            panic!("the session did not fail: {:?}", event.kind);
        };
        let sentence = e.plain_sentence();
        assert!(sentence.contains("no route for the group"), "{sentence}");

        let (session, _) = member(0, &[], TIMEOUT);
        session
            .send(UdpCommand::Join(join("239.1.2.3@nosuch0")))
            .unwrap();
        let e = next_error(&session);
        assert!(matches!(e, EngineError::BadInterface { .. }), "{e:?}");
        assert!(
            e.plain_sentence()
                .contains("no interface called \"nosuch0\""),
            "{e:?}"
        );
        session.send(UdpCommand::Join(join("ff15::1@lo"))).unwrap();
        let e = next_error(&session);
        assert!(
            e.plain_sentence().contains("can join only IPv4 groups"),
            "{e:?}"
        );
        session
            .send(UdpCommand::Leave(join("239.9.9.9@lo")))
            .unwrap();
        let e = next_error(&session);
        assert!(
            e.plain_sentence()
                .contains("not one of the session's groups"),
            "{e:?}"
        );
    });
}

fn next_error(session: &UdpSession) -> EngineError {
    let event = wait(session, "an error", |e| {
        matches!(e.kind, EventKind::Error(_))
    });
    let EventKind::Error(e) = event.kind else {
        unreachable!()
    };
    e
}

#[test]
fn broadcast_reaches_the_other_namespace_and_is_marked_broadcast() {
    let (port_tx, port_rx) = bounded::<u16>(1);
    let (done_tx, done_rx) = bounded::<()>(1);
    let ran = two_netns(
        "broadcast",
        (
            "va",
            &[
                "link set lo up",
                "addr add 198.51.100.1/24 brd + dev va",
                "link set va up",
            ],
        ),
        (
            "vb",
            &[
                "link set lo up",
                "addr add 198.51.100.2/24 brd + dev vb",
                "link set vb up",
            ],
        ),
        move || {
            // The sender's side.
            let port = port_rx.recv_timeout(TIMEOUT).expect("the receiver's port");
            let subnet: SocketAddr = ("198.51.100.255".parse::<IpAddr>().unwrap(), port).into();
            // Without SO_BROADCAST the system refuses, and the sentence says what to turn on.
            let refused = sender(subnet, SendOptions::default());
            refused.send(UdpCommand::Send(bytes(b"refused"))).unwrap();
            let e = next_error(&refused);
            assert!(e.plain_sentence().contains("turn on Broadcast"), "{e:?}");

            let mut config = UdpClientConfig::new("198.51.100.255", port);
            config.broadcast = true;
            let subnet_sender = engine::udp::start_client(config, noop_waker());
            bound_addr(&subnet_sender);
            subnet_sender
                .send(UdpCommand::Send(bytes(b"to the subnet")))
                .unwrap();
            // 255.255.255.255 leaves through the interface whose address the socket is bound to.
            let mut config = UdpClientConfig::new("255.255.255.255", port);
            config.broadcast = true;
            config.multicast = through("va");
            let limited = engine::udp::start_client(config, noop_waker());
            let from = bound_addr(&limited);
            assert_eq!(from.ip(), "198.51.100.1".parse::<IpAddr>().unwrap());
            limited
                .send(UdpCommand::Send(bytes(b"to everyone")))
                .unwrap();
            let direct: SocketAddr = ("198.51.100.2".parse::<IpAddr>().unwrap(), port).into();
            limited
                .send(UdpCommand::SendTo(direct, bytes(b"marker")))
                .unwrap();
            done_rx
                .recv_timeout(TIMEOUT)
                .expect("the receiver finished");
        },
        move || {
            let session = engine::udp::start_server(
                UdpServerConfig {
                    bind: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                    ..UdpServerConfig::default()
                },
                noop_waker(),
            );
            let local = bound_addr(&session);
            port_tx.send(local.port()).unwrap();
            let got = received_until(&session, b"marker");
            let _ = done_tx.send(());
            got
        },
    );
    let Some(((), got)) = ran else { return };
    assert_eq!(
        got,
        vec![
            (
                b"to the subnet".to_vec(),
                Some(DestinationKind::Broadcast),
                Some("198.51.100.255".parse().unwrap())
            ),
            (
                b"to everyone".to_vec(),
                Some(DestinationKind::Broadcast),
                Some(IpAddr::V4(Ipv4Addr::BROADCAST))
            ),
            (
                b"marker".to_vec(),
                Some(DestinationKind::ThisHost),
                Some("198.51.100.2".parse().unwrap())
            ),
        ]
    );
}

#[test]
fn a_sender_sets_ttl_interface_and_loopback_as_asked() {
    let setup: &[&str] = &[
        "link set lo up",
        "link add va type veth peer name vb",
        "addr add 198.51.100.1/24 brd + dev va",
        "link set va up",
        "link set vb up",
    ];
    in_netns("sender_options", setup, || {
        let (session, local) = member(0, &[join("239.1.2.3@va")], TIMEOUT);
        let send_with_loop = |on: bool| {
            let mut config = UdpClientConfig::new(GROUP_V4, local.port());
            config.multicast = SendOptions {
                ttl: Some(4),
                interface: Some("va".to_owned()),
                loopback: Some(on),
            };
            let client = engine::udp::start_client(config, noop_waker());
            let events = collect_until(&client, "ready", |e| {
                matches!(e.kind, EventKind::Ready { .. } | EventKind::Stopped { .. })
            });
            (client, calls(&events).join("\n"))
        };
        let (off, transcript) = send_with_loop(false);
        for line in [
            "setsockopt(IP_MULTICAST_TTL, 4) → ok",
            "setsockopt(IP_MULTICAST_LOOP, 0) → ok",
            "setsockopt(IP_MULTICAST_IF, 198.51.100.1 (va)) → ok",
        ] {
            assert!(transcript.contains(line), "{line} missing:\n{transcript}");
        }
        let marker: SocketAddr = (Ipv4Addr::LOCALHOST, local.port()).into();
        // Loopback off: this machine's own member gets no copy of what leaves through va.
        off.send(UdpCommand::Send(bytes(b"not looped"))).unwrap();
        off.send(UdpCommand::SendTo(marker, bytes(b"marker")))
            .unwrap();
        let got = received_until(&session, b"marker");
        assert_eq!(payloads(&got), vec![b"marker".as_slice()], "{got:?}");
        // Both went out: the count lands after each send returns, so wait for both reports.
        let mut sent = 0;
        collect_until(&off, "two datagrams sent", |e| {
            sent += usize::from(matches!(e.kind, EventKind::DatagramSent { .. }));
            sent == 2
        });
        assert_eq!(off.counters().datagrams_out, 2);
        // Loopback on: it does.
        let (on, _) = send_with_loop(true);
        on.send(UdpCommand::Send(bytes(b"looped"))).unwrap();
        let got = received_until(&session, b"looped");
        assert_eq!(got[0].1, Some(DestinationKind::Group), "{got:?}");
    });
}
