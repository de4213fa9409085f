//! The teaching features in a headless window: the Lookup tab against the system's real
//! resolver, and the demos on real loopback sockets.

use std::collections::BTreeSet;
use std::net::{IpAddr, ToSocketAddrs};

use egui_kittest::kittest::{NodeT as _, Queryable as _};

use crate::gui_support::{
    click, harness, is_disabled, open_tab, set_field, shows, step_until, wait_for_text,
};
use crate::gui_support::{tcp_client, tcp_server};

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

    // Reverse: what the window shows is what getnameinfo answers (the services file may lack
    // port 80 on a minimal system, so the service part is not assumed).
    set_field(&mut h, "IP address", "127.0.0.1");
    set_field(&mut h, "Port to name", "80");
    click(&mut h, "Reverse lookup");
    step_until(&mut h, "the reverse lookup answers", |h| {
        h.state().lookup.reverse.is_some()
    });
    h.step();
    assert!(shows(&h, "getnameinfo(127.0.0.1:80)"));
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 80));
    let direct = socketlab::engine::lookup::name_info(addr).map_err(|e| e.plain_sentence());
    let shown = h.state().lookup.reverse.clone();
    assert_eq!(shown, Some((addr, direct)));
    assert!(shows(&h, "127.0.0.1 is called") || shows(&h, "knows no name for 127.0.0.1"));
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
        crate::gui_support::tcp_server(h)
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
        tcp_server(h).role.listening.is_some()
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
    let port = tcp_server(&h).role.listening.map_or(0, |a| a.port());
    let _client = std::net::TcpStream::connect(("127.0.0.1", port));
    step_until(&mut h, "accept is ticked", |h| {
        states(h).last() == Some(&StepState::Done)
    });
    // Let the layout settle (the new client's row moves the transcript down) before clicking.
    step_until(&mut h, "the client is listed", |h| {
        tcp_server(h).role.clients.len() == 1
    });
    for _ in 0..3 {
        h.step();
    }
    // Explanations can be switched off.
    click(&mut h, "Explain calls");
    assert!(!tcp_server(&h).activity.transcript.explain);
    h.step();
    assert!(!shows(&h, "start accepting connections"));
}

use socketlab::gui::demos::{DemoId, Fact};

/// Starts a demo from the Demos menu and steps until it ends; returns its facts.
fn play(h: &mut egui_kittest::Harness<'_, socketlab::gui::SocketLabApp>, id: DemoId) -> Vec<Fact> {
    click(h, "Demos");
    click(h, id.title());
    assert!(
        h.state().is_visible(socketlab::gui::Pane::Learn),
        "the demo is shown"
    );
    step_until(h, "the demo ends", |h| {
        h.state()
            .learn
            .demo
            .as_ref()
            .is_some_and(|d| d.finished.is_some())
    });
    h.step();
    let demo = h.state().learn.demo.as_ref();
    let finished = demo.and_then(|d| d.finished.clone());
    assert_eq!(finished, Some(Ok(())), "the demo ran to its end");
    assert!(shows(h, id.caption()), "the caption says what to watch");
    demo.map(|d| d.facts.clone()).unwrap_or_default()
}

#[test]
fn stream_demo_shows_three_sends_and_three_datagrams() {
    let mut h = harness();
    let facts = play(&mut h, DemoId::Stream);
    let Some(Fact::StreamReads {
        sends,
        reads,
        sent_bytes,
        read_bytes,
    }) = facts.first().cloned()
    else {
        panic!("no stream fact: {facts:?}");
    };
    assert_eq!(sends, 3);
    assert!((1..=3).contains(&reads), "{reads} reads");
    assert_eq!(read_bytes, sent_bytes, "every byte arrived");
    assert_eq!(
        facts.get(1),
        Some(&Fact::DatagramReads {
            sends: 3,
            receives: 3
        })
    );
    assert!(shows(&h, "3 datagrams sent, 3 received"));
    assert!(
        shows(&h, "send(4 bytes) → 4"),
        "the client's sends are listed"
    );
    assert!(shows(&h, "send(6 bytes) → 6"));
}

#[test]
fn half_close_demo_replies_after_end_of_stream() {
    let mut h = harness();
    let facts = play(&mut h, DemoId::HalfClose);
    assert_eq!(
        facts,
        [Fact::HalfClose {
            server_saw_end: true,
            reply_bytes: 7
        }]
    );
    assert!(shows(&h, "recv returned 0"));
}

#[test]
fn port_demo_shows_two_different_local_ports() {
    let mut h = harness();
    let facts = play(&mut h, DemoId::OwnPort);
    let [Fact::LocalPorts(ports)] = facts.as_slice() else {
        panic!("no port fact: {facts:?}");
    };
    assert_eq!(ports.len(), 2);
    assert_ne!(ports[0], ports[1], "each connection has its own local port");
    assert!(shows(
        &h,
        &format!("Local ports {} and {}", ports[0], ports[1])
    ));
}

#[test]
fn nothing_listening_demo_explains_refusals_and_silence() {
    let mut h = harness();
    let facts = play(&mut h, DemoId::NothingListening);
    assert_eq!(
        facts,
        [Fact::NothingListening {
            tcp_refused: true,
            udp_silent: true,
            udp_connected_refused: true
        }]
    );
    assert!(shows(
        &h,
        "Connection refused: nothing is listening on 127.0.0.1:"
    ));
}

#[test]
fn datagram_size_demo_sends_the_largest_and_refuses_one_more() {
    let mut h = harness();
    let facts = play(&mut h, DemoId::DatagramSize);
    assert_eq!(
        facts,
        [Fact::DatagramLimit {
            largest_received: Some(65_507),
            one_more_refused: true
        }]
    );
    assert!(
        shows(&h, "That message is 65508 bytes"),
        "the refusal is explained"
    );
}

#[test]
fn one_name_demo_lists_what_the_resolver_answers() {
    let mut h = harness();
    let facts = play(&mut h, DemoId::OneName);
    let [Fact::Addresses(rows)] = facts.as_slice() else {
        panic!("no address fact: {facts:?}");
    };
    let shown: BTreeSet<IpAddr> = rows.iter().copied().collect();
    let expected: BTreeSet<IpAddr> = ("localhost", 0)
        .to_socket_addrs()
        .map(|addrs| addrs.map(|a| a.ip()).collect())
        .unwrap_or_default();
    assert_eq!(shown, expected, "exactly what the system's resolver says");
}

#[test]
fn guide_links_start_their_demo_and_view_menu_zooms() {
    let mut h = harness();
    open_tab(&mut h, "Learn");
    assert!(shows(&h, "Choose UDP when"));
    click(&mut h, "demo: How big can a datagram be?");
    step_until(&mut h, "the linked demo ends", |h| {
        h.state()
            .learn
            .demo
            .as_ref()
            .is_some_and(|d| d.id == DemoId::DatagramSize && d.finished.is_some())
    });
    click(&mut h, "View");
    click(&mut h, "Large text (presentation)");
    h.step();
    assert_eq!(h.state().view.zoom_percent, 175);
    assert!((h.ctx.zoom_factor() - 1.75).abs() < 0.01);
}

#[test]
fn sequence_diagram_draws_the_real_connection() {
    use socketlab::gui::widgets::sequence::ArrowKind;
    let mut h = harness();
    open_tab(&mut h, "TCP server");
    set_field(&mut h, "Port", "0");
    click(&mut h, "Listen");
    step_until(&mut h, "the server listens", |h| {
        tcp_server(h).role.listening.is_some()
    });
    click(&mut h, "Open a client to this server");
    click(&mut h, "Sequence diagram");
    assert!(shows(&h, "No connection yet"));
    click(&mut h, "Connect");
    step_until(&mut h, "the client connects", |h| {
        tcp_client(h).role.local.is_some()
    });
    crate::gui_support::type_and_enter(&mut h, "Message", "hello");
    click(&mut h, "Shut down sending");
    // The server closes when the client finishes (its default): the client sees FIN back.
    step_until(&mut h, "the close is drawn", |h| {
        let log = tcp_client(h).activity.sequence.as_ref();
        let arrows: Vec<(bool, ArrowKind, String)> = log
            .and_then(|l| {
                l.newest().map(|c| {
                    l.arrows(c)
                        .map(|a| (a.from_client, a.kind, a.label.clone()))
                        .collect()
                })
            })
            .unwrap_or_default();
        arrows.iter().filter(|a| a.1 == ArrowKind::Fin).count() >= 2
    });
    let log = tcp_client(&h).activity.sequence.as_ref();
    let arrows: Vec<(bool, ArrowKind, String)> = log
        .and_then(|l| {
            l.newest().map(|c| {
                l.arrows(c)
                    .map(|a| (a.from_client, a.kind, a.label.clone()))
                    .collect()
            })
        })
        .unwrap_or_default();
    assert_eq!(arrows[0].1, ArrowKind::Handshake);
    assert_eq!(
        arrows[1],
        (true, ArrowKind::Data, "send 5 B".to_owned()),
        "the send, with its size"
    );
    // Both FINs are drawn, each from its side (their order comes from two threads' clocks).
    let fins: BTreeSet<(bool, String)> = arrows[2..4]
        .iter()
        .filter(|a| a.1 == ArrowKind::Fin)
        .map(|a| (a.0, a.2.clone()))
        .collect();
    assert_eq!(
        fins,
        [
            (true, "FIN (shutdown: no more sending)".to_owned()),
            (false, "FIN (recv returned 0)".to_owned())
        ]
        .into()
    );
}

#[test]
fn tcp_data_as_chunks_or_lines_with_the_unfinished_line_waiting() {
    use std::io::Write as _;
    let mut h = harness();
    open_tab(&mut h, "TCP server");
    set_field(&mut h, "Port", "0");
    click(&mut h, "Listen");
    step_until(&mut h, "the server listens", |h| {
        tcp_server(h).role.listening.is_some()
    });
    let port = tcp_server(&h).role.listening.map_or(0, |a| a.port());
    let mut client = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect to the tab");
    client.write_all(b"hello\nwor").expect("write");
    let state = |h: &egui_kittest::Harness<'_, socketlab::gui::SocketLabApp>| {
        let lines = tcp_server(h).activity.lines.as_ref();
        let complete: Vec<Vec<u8>> = lines
            .map(|l| l.lines().map(|line| line.bytes.clone()).collect())
            .unwrap_or_default();
        let waiting: Vec<u8> = lines
            .and_then(|l| l.waiting().next().map(|(_, b)| b.to_vec()))
            .unwrap_or_default();
        (complete, waiting)
    };
    step_until(&mut h, "one line and a waiting one", |h| {
        state(h) == (vec![b"hello\n".to_vec()], b"wor".to_vec())
    });
    click(&mut h, "Lines (readline)");
    assert!(shows(&h, "still waiting for the end of the line"));
    assert!(shows(&h, "hello<LF>"));
    client.write_all(b"ld\n").expect("write");
    step_until(&mut h, "the second line", |h| {
        state(h) == (vec![b"hello\n".to_vec(), b"world\n".to_vec()], Vec::new())
    });
    wait_for_text(&mut h, "world<LF>");
    assert!(!shows(&h, "still waiting for the end of the line"));
    click(&mut h, "Chunks (each recv)");
    assert!(
        shows(&h, "hello LF wor") || shows(&h, "hello"),
        "back to the recv chunks"
    );
}

/// 200% zoom on a 1280×800 screen leaves 640×400 points: the new views must fit across.
const WIDTH: f32 = 640.0;

#[test]
fn new_views_fit_across_at_200_percent_on_1280_by_800() {
    let mut h = crate::gui_support::harness_of_size(WIDTH, 400.0);
    h.step();
    let fits = |h: &egui_kittest::Harness<'_, socketlab::gui::SocketLabApp>, label: &str| {
        let rect = h.get_by_label(label).rect();
        assert!(
            rect.right() <= WIDTH && rect.left() >= 0.0,
            "{label} is cut off at {WIDTH} points: {rect:?}"
        );
    };
    for tab in ["Lookup", "Learn"] {
        fits(&h, tab);
    }
    open_tab(&mut h, "Lookup");
    for label in [
        "Look up",
        "Name or address",
        "Service",
        "Reverse lookup",
        "Port to name",
    ] {
        fits(&h, label);
    }
    let facts = play(&mut h, DemoId::OwnPort);
    assert_eq!(facts.len(), 1);
    for label in ["Play again", "Explain calls", "One name, several addresses"] {
        fits(&h, label);
    }
}

#[test]
fn socket_call_explanations_wrap_in_full_beside_the_log() {
    use std::io::Write as _;
    let listener = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    // Just wide enough for the socket calls beside the log, as on a small laptop.
    let mut h = crate::gui_support::harness_of_size(1000.0, 800.0);
    set_field(&mut h, "Port", &port.to_string());
    click(&mut h, "Connect");
    let (mut peer, _) = listener.accept().unwrap();
    peer.write_all(b"hi").unwrap();
    let why = "↳ recv returned what had arrived — a stream has no message boundaries, so this \
               may be part of a message, or several";
    let find = |h: &egui_kittest::Harness<'_, socketlab::gui::SocketLabApp>| {
        h.query_all_by(|n| n.value().as_deref() == Some(why) || n.label().as_deref() == Some(why))
            .next()
            .map(|n| n.rect())
    };
    step_until(&mut h, "the recv explanation", |h| find(h).is_some());
    h.step();
    let rect = find(&h).unwrap();
    let font = egui::TextStyle::Monospace.resolve(&h.ctx.global_style());
    let (row, char_width) = h
        .ctx
        .fonts_mut(|f| (f.row_height(&font), f.glyph_width(&font, 'x')));
    // The widest drawn line holds at most this many characters; the whole text needs at least
    // this many rows of them.
    let columns = (rect.width() / char_width).round();
    let needed = (why.chars().count() as f32 / columns).ceil();
    assert!(
        needed >= 3.0,
        "the panel is narrow enough to need three rows ({columns} columns)"
    );
    assert!(
        rect.height() >= needed * row - 0.5,
        "the explanation is drawn in full: {} rows needed, {:.1} drawn",
        needed,
        rect.height() / row
    );
}

#[cfg(target_os = "linux")]
#[test]
fn who_waits_demo_shows_time_wait_on_the_side_that_closed_first() {
    use socketlab::engine::tcp_state::TcpState;
    let mut h = harness();
    let facts = play(&mut h, DemoId::WhoWaits);
    let [Fact::CloseStates { closer, other }] = facts.as_slice() else {
        panic!("no close-state fact: {facts:?}");
    };
    assert_eq!(
        closer.as_slice(),
        [
            TcpState::Established,
            TcpState::FinWait2,
            TcpState::TimeWait
        ],
        "the client's side, from the kernel's table"
    );
    assert_eq!(
        other.as_slice(),
        [TcpState::Established, TcpState::CloseWait],
        "the server's side"
    );
    assert!(shows(&h, "TIME-WAIT"));
    assert!(shows(&h, "no longer in the system's table"));
}

#[test]
fn lossy_demo_loses_datagrams_and_delivers_every_line() {
    let mut h = harness();
    let facts = play(&mut h, DemoId::LossyUdp);
    let [
        Fact::LossyVsReliable {
            sent,
            udp_received,
            udp_missing,
            tcp_received,
            tcp_in_order,
        },
    ] = facts.as_slice()
    else {
        panic!("no loss fact: {facts:?}");
    };
    assert_eq!(*sent, 100);
    // Seed 7 at 20%: some are lost, most arrive, and every number is either seen or missing.
    assert!((60..=95).contains(udp_received), "{udp_received} arrived");
    assert_eq!(*udp_received as usize + udp_missing.len(), 100);
    assert_eq!((*tcp_received, *tcp_in_order), (100, true));
    assert!(shows(&h, "UDP: 100 sent"));
    assert!(shows(&h, "TCP: 100 sent, 100 arrived, in order."));
}
