//! Everyday tools in a headless window, against real loopback sockets: reply rules, periodic
//! send, encodings, and settings that survive a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly; that is its job

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::gui_support::{
    TIMEOUT, click, harness, harness_allowing_missing_glyphs, open_tab, set_field, shows,
    step_until, type_and_enter, wait_for_text,
};
use crate::gui_support::{tcp_server, udp_client};
use socketlab::engine::{self, EventKind, UdpServerConfig, noop_waker};
use socketlab::gui::roles::UdpServer;
use socketlab::gui::{AppState, SocketLabApp};

/// An engine UDP server on a free loopback port, ready.
fn udp_server() -> (engine::UdpSession, SocketAddr) {
    let server = engine::udp::start_server(UdpServerConfig::default(), noop_waker());
    let ready = server.wait_for(
        TIMEOUT,
        |e| {
            matches!(
                e.kind,
                EventKind::Ready { .. } | EventKind::Listening { .. }
            )
        },
        |_| {},
    );
    assert!(ready.is_some(), "the UDP server did not bind");
    let addr = server.local_addr().unwrap();
    (server, addr)
}

/// Reads `len` bytes (the engine answers without the window drawing a frame).
fn read_exact(stream: &mut TcpStream, len: usize) -> Vec<u8> {
    let mut buf = vec![0; len];
    stream.read_exact(&mut buf).unwrap();
    buf
}

#[test]
fn tcp_server_replies_by_rules_and_takes_new_rules_while_running() {
    let mut h = harness();
    open_tab(&mut h, "TCP server");
    set_field(&mut h, "Port", "0");
    click(&mut h, "Reply rules");
    click(&mut h, "Add rule");
    set_field(&mut h, "Match 1", "PING");
    assert!(
        shows(&h, "Rule 1, the reply: the reply is empty"),
        "an unfinished rule says what is missing"
    );
    set_field(&mut h, "reply 1", "PONG");
    click(&mut h, "Listen");
    step_until(&mut h, "the server listens", |h| {
        tcp_server(h).role.listening.is_some()
    });
    let addr = tcp_server(&h).role.listening.unwrap();

    let mut client = TcpStream::connect(addr).unwrap();
    client.set_read_timeout(Some(TIMEOUT)).unwrap();
    client.write_all(b"PING").unwrap();
    assert_eq!(read_exact(&mut client, 4), b"PONG");

    // A changed reply reaches the running server (the command and the data travel different
    // paths, so probe a bounded number of times).
    set_field(&mut h, "reply 1", "PONG2");
    let deadline = Instant::now() + TIMEOUT;
    loop {
        h.step();
        client.write_all(b"PING").unwrap();
        let mut buf = [0; 5];
        client.read_exact(&mut buf[..4]).unwrap();
        if &buf[..4] == b"PONG" {
            client
                .set_read_timeout(Some(Duration::from_millis(100)))
                .unwrap();
            let got_fifth = client.read_exact(&mut buf[4..]).is_ok();
            client.set_read_timeout(Some(TIMEOUT)).unwrap();
            if got_fifth && buf[4] == b'2' {
                break;
            }
        }
        assert!(Instant::now() < deadline, "the new reply never came");
    }
    wait_for_text(&mut h, "Reply rules (1 on)");
}

#[test]
fn udp_client_repeats_a_message_exactly_count_times() {
    const COUNT: u64 = 5;
    let (server, addr) = udp_server();

    let mut h = harness();
    open_tab(&mut h, "UDP client");
    set_field(&mut h, "Port", &addr.port().to_string());
    // The first Send opens the socket; repeating needs it open.
    type_and_enter(&mut h, "Message", "open");
    step_until(&mut h, "the socket is ready", |h| {
        udp_client(h).is_running()
    });
    set_field(&mut h, "Message", "tick");
    set_field(&mut h, "Repeat every (ms)", "2");
    set_field(&mut h, "Times", &COUNT.to_string());
    click(&mut h, "Start repeating");
    wait_for_text(&mut h, &format!("Repeat finished: {COUNT} of {COUNT} sent"));

    // Count at the receiving end: "open" once, then exactly COUNT ticks.
    let mut ticks = 0;
    let mut opens = 0;
    let deadline = Instant::now() + TIMEOUT;
    while ticks < COUNT && Instant::now() < deadline {
        if let Some(EventKind::Datagrams(batch)) = server
            .recv_timeout(Duration::from_millis(100))
            .map(|e| e.kind)
        {
            for d in batch.iter() {
                match d.data {
                    b"tick" => ticks += 1,
                    b"open" => opens += 1,
                    other => panic!("unexpected datagram {other:?}"),
                }
            }
        }
    }
    assert_eq!((opens, ticks), (1, COUNT));
    assert_eq!(server.counters().datagrams_in, COUNT + 1);
}

#[test]
fn message_encodings_send_the_right_bytes_and_refuse_what_they_cannot_write() {
    let (server, addr) = udp_server();

    let mut h = harness_allowing_missing_glyphs();
    open_tab(&mut h, "UDP client");
    set_field(&mut h, "Port", &addr.port().to_string());
    for (encoding, text, bytes) in [
        ("GBK", "你好", vec![0xc4, 0xe3, 0xba, 0xc3]),
        (
            "Shift_JIS",
            "こんにちは",
            vec![0x82, 0xb1, 0x82, 0xf1, 0x82, 0xc9, 0x82, 0xbf, 0x82, 0xcd],
        ),
        ("UTF-16LE", "hé", vec![b'h', 0, 0xe9, 0]),
    ] {
        click(&mut h, "Encoding");
        click(&mut h, encoding);
        type_and_enter(&mut h, "Message", text);
        let got = server
            .wait_for(
                TIMEOUT,
                |e| matches!(e.kind, EventKind::Datagrams(_)),
                |_| {},
            )
            .map(|e| match e.kind {
                EventKind::Datagrams(batch) => batch.iter().map(|d| d.data.to_vec()).collect(),
                _ => Vec::new(),
            })
            .unwrap_or_default();
        assert_eq!(got, vec![bytes], "{encoding}");
    }

    click(&mut h, "Encoding");
    click(&mut h, "Latin-1 / Windows-1252");
    set_field(&mut h, "Message", "ok 你");
    assert!(
        shows(&h, "'你' at position 4 cannot be written in Latin-1"),
        "the unmappable character is named with its position"
    );
    assert!(crate::gui_support::is_disabled(&h, "Send"));
}

#[test]
fn rules_periodic_and_encoding_survive_a_restart() {
    let mut h = harness();
    open_tab(&mut h, "UDP server");
    click(&mut h, "Reply rules");
    click(&mut h, "Add rule");
    set_field(&mut h, "Match 1", "hello");
    set_field(&mut h, "reply 1", "hi");
    set_field(&mut h, "Repeat every (ms)", "250");
    click(&mut h, "Encoding");
    click(&mut h, "Big5");
    let saved = serde_json::to_string(&h.state().state()).unwrap();

    let restored: AppState = serde_json::from_str(&saved).unwrap();
    let app = SocketLabApp::new(restored);
    let s = &app.sessions_of::<UdpServer>().next().unwrap().settings;
    assert_eq!(s.auto_reply.rules.len(), 1);
    assert_eq!(s.auto_reply.rules[0].pattern, "hello");
    assert_eq!(s.auto_reply.rules[0].reply, "hi");
    assert!(s.auto_reply.use_rules);
    assert_eq!(s.common.periodic.interval_ms, "250");
    assert_eq!(
        s.common.editor.encoding,
        socketlab::engine::encoding::TextEncoding::Big5
    );
}

#[test]
fn a_saved_message_sends_with_one_click_and_survives_a_restart() {
    let (server, addr) = udp_server();
    let mut h = harness();
    open_tab(&mut h, "UDP client");
    set_field(&mut h, "Port", &addr.port().to_string());
    click(&mut h, "Saved messages (0)");
    set_field(&mut h, "Message", "status?\\r\\n");
    click(&mut h, "Escapes");
    assert!(
        crate::gui_support::is_disabled(&h, "Save message"),
        "needs a name"
    );
    set_field(&mut h, "Name", "status");
    click(&mut h, "Save message");
    assert!(shows(&h, "Saved messages (1)"));
    set_field(&mut h, "Message", "");

    // One click sends it (and opens the socket, as Send does).
    click(&mut h, "status");
    let got = server
        .wait_for(
            TIMEOUT,
            |e| matches!(e.kind, EventKind::Datagrams(_)),
            |_| {},
        )
        .map(|e| match e.kind {
            EventKind::Datagrams(batch) => batch.iter().map(|d| d.data.to_vec()).collect(),
            _ => Vec::new(),
        })
        .unwrap_or_default();
    assert_eq!(got, vec![b"status?\r\n".to_vec()]);

    let saved = serde_json::to_string(&h.state().state()).unwrap();
    let restored: AppState = serde_json::from_str(&saved).unwrap();
    let mut h = crate::gui_support::harness_with(restored);
    h.step();
    open_tab(&mut h, "UDP client");
    crate::gui_support::open_tools(&mut h);
    assert!(shows(&h, "Saved messages (1)"), "the list came back");
    let list = &udp_client(&h).settings.common.saved.list;
    assert_eq!(list[0].bytes().ok(), Some(b"status?\r\n".to_vec()));
}

#[test]
fn the_log_filters_and_exports_what_it_shows() {
    let (server, addr) = udp_server();
    let mut h = harness();
    open_tab(&mut h, "UDP client");
    set_field(&mut h, "Port", &addr.port().to_string());
    type_and_enter(&mut h, "Message", "apple");
    type_and_enter(&mut h, "Message", "banana");
    crate::gui_support::wait_for_row(&mut h, &["▶ out", "banana"]);
    set_field(&mut h, "Find", "BAN");
    wait_for_text(&mut h, "1 of ");
    assert!(!shows(&h, "apple"), "the filter hides the other row");

    let dir = std::env::temp_dir().join(format!("socketlab-gui-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("log.jsonl");
    let _ = std::fs::remove_file(&file);
    click(&mut h, "Export the log");
    click(&mut h, "JSON lines");
    set_field(&mut h, "Export to file", &file.to_string_lossy());
    click(&mut h, "Export shown rows");
    wait_for_text(&mut h, "Wrote 1 rows");
    let text = std::fs::read_to_string(&file).unwrap();
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["text"], "banana");
    assert_eq!(rows[0]["direction"], "out");
    assert_eq!(rows[0]["peer"], addr.to_string());

    // The file exists now: the first press asks, the second replaces.
    click(&mut h, "Export shown rows");
    wait_for_text(&mut h, "already exists");
    click(&mut h, "Export shown rows");
    wait_for_text(&mut h, "Wrote 1 rows");
    let _ = std::fs::remove_dir_all(&dir);

    // The throughput section shows the session's exact totals ("apple" + "banana").
    click(&mut h, "Throughput");
    wait_for_text(&mut h, "Total: 0 bytes in, 11 bytes out");
    drop(server);
}

#[test]
fn a_tcp_server_captures_ten_megabytes_byte_for_byte() {
    const SIZE: usize = 10 * 1024 * 1024;
    let dir = std::env::temp_dir().join(format!("socketlab-gui-capture-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let pattern = dir.join("dump.bin");

    // Random bytes include valid UTF-8 of scripts the bundled fonts lack: tofu is expected.
    let mut h = harness_allowing_missing_glyphs();
    open_tab(&mut h, "TCP server");
    set_field(&mut h, "Port", "0");
    click(&mut h, "Capture to file");
    set_field(&mut h, "Capture file", &pattern.to_string_lossy());
    click(&mut h, "Listen");
    step_until(&mut h, "the server listens", |h| {
        tcp_server(h).role.listening.is_some()
    });
    let addr = tcp_server(&h).role.listening.unwrap();

    // Not a repeating pattern, so a lost or reordered block would show.
    let data: Vec<u8> = (0..SIZE as u64)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let to_send = data.clone();
    let sender = std::thread::spawn(move || {
        let mut client = TcpStream::connect(addr).unwrap();
        client.write_all(&to_send).unwrap();
        client.shutdown(std::net::Shutdown::Write).unwrap();
        // Wait for the server's close, so the capture is complete.
        let mut rest = Vec::new();
        let _ = client.read_to_end(&mut rest);
    });
    step_until(&mut h, "all bytes arrive and the client is gone", |h| {
        let tab = &tcp_server(h);
        tab.activity.counters.bytes_in == SIZE as u64 && tab.role.clients.is_empty()
    });
    sender.join().unwrap();
    wait_for_text(&mut h, "disconnected");
    let captured = std::fs::read(dir.join("dump-1.bin")).unwrap();
    assert_eq!(captured.len(), SIZE);
    assert!(captured == data, "the capture equals what was sent");

    // Listening again would replace dump-1.bin: refused until Replace is ticked.
    click(&mut h, "Stop");
    step_until(&mut h, "the server stops", |h| !tcp_server(h).is_running());
    assert!(shows(&h, "already exists"));
    assert!(crate::gui_support::is_disabled(&h, "Listen"));
    click(&mut h, "Replace existing files");
    assert!(!crate::gui_support::is_disabled(&h, "Listen"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_log_decodes_received_text_in_the_chosen_encoding() {
    let mut h = harness_allowing_missing_glyphs();
    open_tab(&mut h, "UDP server");
    set_field(&mut h, "Port", "0");
    click(&mut h, "Bind");
    step_until(&mut h, "the server binds", |h| {
        crate::gui_support::udp_server(h).role.bound.is_some()
    });
    let addr = crate::gui_support::udp_server(&h).role.bound.unwrap();
    let client = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    // "你好" in GBK, then a newline.
    client
        .send_to(&[0xc4, 0xe3, 0xba, 0xc3, b'\n'], addr)
        .unwrap();
    crate::gui_support::wait_for_row(&mut h, &["◀ in", "5 B"]);
    assert!(
        !shows(&h, "你好"),
        "not UTF-8: not shown as these characters"
    );
    click(&mut h, "Decode as");
    click(&mut h, "GBK");
    // The newline shows as a small LF mark.
    crate::gui_support::wait_for_row(&mut h, &["◀ in", "你好 LF"]);
}
