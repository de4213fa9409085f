//! The device-testing tools in the window, on real loopback sockets: framing per TCP session,
//! the Template mode with a checksum and the preview of the next send, reply rules with the newer
//! conditions, the Script panel, the traffic generator and the Sequence check.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly; that is its job

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use socketlab::gui::SocketLabApp;
use socketlab::gui::roles::TcpClient;
use socketlab::gui::widgets::script_panel::Mark;

use crate::gui_support::{
    TIMEOUT, click, harness, harness_allowing_missing_glyphs, is_disabled, open_tab, reveal,
    set_field, step_until, tcp_client, tcp_server, udp_client, udp_server, wait_for_row,
};

fn read_exact(stream: &mut TcpStream, len: usize) -> Vec<u8> {
    let mut buf = vec![0; len];
    stream.read_exact(&mut buf).unwrap();
    buf
}

/// Replaces a field's text, then lets the window settle (a click right after a changed field
/// can miss in the headless harness until its layout has settled).
fn type_into(h: &mut Harness<'_, SocketLabApp>, label: &str, text: &str) {
    set_field(h, label, text);
    for _ in 0..4 {
        h.step();
    }
}

/// Clicks like [`click`], after resting the pointer on the widget for two frames: a click that
/// arrives in the frame the pointer comes from another widget (whose tooltip may still be
/// shown) can miss in the headless harness.
fn press(h: &mut Harness<'_, SocketLabApp>, label: &str) {
    reveal(h, label);
    h.get_by_label(label).hover();
    h.step();
    h.step();
    click(h, label);
}

/// Steps until some widget's text (label or value) contains `text`.
fn wait_visible(h: &mut Harness<'_, SocketLabApp>, text: &str) {
    step_until(h, text, |h| visible(h, text));
}

/// True when some widget's text (label or value) contains `text`.
fn visible(h: &Harness<'_, SocketLabApp>, text: &str) -> bool {
    count_texts(h, text) > 0
}

/// How many widgets' texts contain `text`.
fn count_texts(h: &Harness<'_, SocketLabApp>, text: &str) -> usize {
    h.query_all_by(|n| {
        n.label()
            .or_else(|| n.value())
            .is_some_and(|v| v.contains(text))
    })
    .count()
}

/// Hides the socket calls beside the log: with them shown, a pointer click on the right part of
/// the composer does not reach its widgets in the headless harness (reported for the session
/// frame).
fn hide_calls(h: &mut Harness<'_, SocketLabApp>) {
    if tcp_client_or_any_calls_shown(h) {
        press(h, "Calls");
    }
}

fn tcp_client_or_any_calls_shown(h: &Harness<'_, SocketLabApp>) -> bool {
    h.query_by_label("Explain calls").is_some()
}

/// Connects the TCP client tab to a listener of the test's; returns the accepted stream.
fn connect_client(h: &mut Harness<'_, SocketLabApp>) -> TcpStream {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    open_tab(h, "TCP client");
    hide_calls(h);
    type_into(h, "Port", &port.to_string());
    press(h, "Connect");
    let (peer, _) = listener.accept().unwrap();
    peer.set_read_timeout(Some(TIMEOUT)).unwrap();
    step_until(h, "the client is connected", |h| {
        tcp_client(h).role.peer.is_some()
    });
    peer
}

#[test]
fn tcp_server_framing_lists_messages_with_their_reads_waiting_and_oversize_once() {
    let mut h = harness();
    open_tab(&mut h, "TCP server");
    type_into(&mut h, "Port", "0");
    press(&mut h, "Framing: none");
    press(&mut h, "Cut into messages");
    press(&mut h, "lines ending in LF");
    wait_visible(&mut h, "Framing: lf");
    // A bad value is said next to the field (and in the bar), and nothing can start.
    type_into(&mut h, "Largest message", "0");
    assert!(visible(
        &h,
        "Largest message must be a whole number from 1 to 16777216."
    ));
    assert!(is_disabled(&h, "Listen"));
    type_into(&mut h, "Largest message", "8");
    press(&mut h, "Listen");
    step_until(&mut h, "the server listens", |h| {
        tcp_server(h).role.listening.is_some()
    });
    let addr = tcp_server(&h).role.listening.unwrap();
    let mut client = TcpStream::connect(addr).unwrap();
    client.set_nodelay(true).unwrap();

    client.write_all(b"hel").unwrap();
    wait_visible(
        &mut h,
        "Waiting: 3 bytes of an unfinished message (1 read so far)",
    );
    client.write_all(b"lo\n").unwrap();
    wait_for_row(&mut h, &["◀ in", "(1 message from 2 reads)", "hello"]);
    assert!(
        !visible(&h, "Waiting:"),
        "nothing waits once the message is whole"
    );

    // Longer than 8 bytes without a line end: reported once, its bytes shown as discarded,
    // then the framer finds the next line.
    client.write_all(b"0123456789abcdef\nok\n").unwrap();
    wait_for_row(&mut h, &["(1 message from 1 read)", "ok"]);
    assert_eq!(
        count_texts(&h, "more than the largest message of 8 bytes"),
        1,
        "the oversize report is shown once"
    );
    assert!(visible(&h, "(discarded: larger than the largest message)"));
    assert!(
        visible(&h, "01234567"),
        "the offending bytes are in the log"
    );
}

#[test]
fn tcp_client_length_prefix_framing_gathers_a_message_split_across_reads() {
    let mut h = harness();
    open_tab(&mut h, "TCP client");
    press(&mut h, "Framing: none");
    press(&mut h, "Cut into messages");
    press(&mut h, "length prefix");
    wait_visible(&mut h, "Framing: len:2be");
    let mut peer = connect_client(&mut h);
    peer.set_nodelay(true).unwrap();
    peer.write_all(&[0x00, 0x05, b'a', b'b']).unwrap();
    wait_visible(&mut h, "Waiting: 4 bytes of an unfinished message");
    peer.write_all(b"cde").unwrap();
    wait_for_row(&mut h, &["7 B (1 message from 2 reads)", "abcde"]);
}

#[test]
fn template_mode_with_a_checksum_previews_and_sends_exactly_those_bytes() {
    let mut h = harness();
    let mut peer = connect_client(&mut h);
    press(&mut h, "Template");
    type_into(&mut h, "Message", "n={seq}\\n");
    press(&mut h, "Append checksum");
    press(&mut h, "xor8");
    // n=1\n and its XOR-8: 6e ^ 3d ^ 31 ^ 0a = 68.
    wait_visible(&mut h, "Next send, 5 bytes: 6e 3d 31 0a 68");
    press(&mut h, "Send");
    assert_eq!(read_exact(&mut peer, 5), [0x6e, 0x3d, 0x31, 0x0a, 0x68]);

    // The preview follows the session's own counter.
    type_into(&mut h, "Message", "n={seq}\\n");
    wait_visible(&mut h, "Next send, 5 bytes: 6e 3d 32 0a 6b");

    // Saved messages keep the template and its checksum.
    press(&mut h, "Saved messages (0)");
    type_into(&mut h, "Name", "counter");
    press(&mut h, "Save message");
    press(&mut h, "counter");
    assert_eq!(read_exact(&mut peer, 5), [0x6e, 0x3d, 0x32, 0x0a, 0x6b]);

    // A repeat fills the template in afresh at each send.
    type_into(&mut h, "Repeat every (ms)", "5");
    type_into(&mut h, "Times", "3");
    press(&mut h, "Start repeating");
    wait_visible(&mut h, "Repeat finished: 3 of 3 sent");
    let got = read_exact(&mut peer, 15);
    let texts: Vec<&[u8]> = got.chunks(5).map(|c| &c[..4]).collect();
    assert_eq!(texts, [&b"n=3\n"[..], b"n=4\n", b"n=5\n"]);

    // The Modbus request of issue 14 in hex with CRC-16/MODBUS, low byte first.
    press(&mut h, "Hex");
    type_into(&mut h, "Message", "01 03 00 00 00 0A");
    press(&mut h, "Append checksum");
    press(&mut h, "crc16-modbus");
    wait_visible(&mut h, "Next send, 8 bytes: 01 03 00 00 00 0a c5 cd");
    press(&mut h, "Send");
    assert_eq!(
        read_exact(&mut peer, 8),
        [0x01, 0x03, 0x00, 0x00, 0x00, 0x0a, 0xc5, 0xcd]
    );
    let s = &tcp_client(&h).settings.common.saved.list[0];
    assert!(s.template && s.checksum.is_some());
}

#[test]
fn a_brace_typed_in_text_mode_stays_a_brace() {
    let mut h = harness();
    let mut peer = connect_client(&mut h);
    type_into(&mut h, "Message", "{seq}");
    press(&mut h, "Send");
    assert_eq!(read_exact(&mut peer, 5), b"{seq}");
    press(&mut h, "Template");
    type_into(&mut h, "Message", "a {nope} b");
    assert!(visible(&h, "{nope} at position 3 is not a variable"));
    assert!(is_disabled(&h, "Send"));
}

/// A TCP server tab listening with echo on and the rules as the test set them in the window.
#[test]
fn reply_rules_use_regex_groups_hex_patterns_lengths_and_silence_echo() {
    let mut h = harness();
    open_tab(&mut h, "TCP server");
    hide_calls(&mut h);
    type_into(&mut h, "Port", "0");
    press(&mut h, "Echo");
    press(&mut h, "Reply rules");
    // Rule 1: a regular expression, answered with a template that uses its group.
    press(&mut h, "Add rule");
    press(&mut h, "1. When the data");
    press(&mut h, "matches regex");
    type_into(&mut h, "Match 1", "^GET (");
    assert!(
        visible(&h, "The regular expression has a problem at position 6"),
        "a bad regex is said with its position"
    );
    type_into(&mut h, "Match 1", r"^GET (\w+)");
    press(&mut h, "reply 1 is a template");
    type_into(&mut h, "reply 1", "got {1}\\n");
    // Rule 2: a hex pattern with wildcards and a length, both required; the reply with a CRC.
    press(&mut h, "Add rule");
    press(&mut h, "2. When the data");
    press(&mut h, "fits hex pattern");
    type_into(&mut h, "Match 2", "01 03 ?? zz");
    assert!(visible(
        &h,
        "'zz' at position 10 in the hex pattern is not a byte"
    ));
    type_into(&mut h, "Match 2", "01 03 ?? *");
    press(&mut h, "+ condition (2)");
    press(&mut h, "2.2");
    press(&mut h, "has length");
    type_into(&mut h, "Condition 2 of rule 2", "4..6");
    press(&mut h, "reply 2 is a template");
    type_into(&mut h, "reply 2", "\\x01\\x83\\x02");
    press(&mut h, "checksum 2");
    press(&mut h, "crc16-modbus");
    // Rule 3: one-byte messages get no answer, not even the echo.
    press(&mut h, "Add rule");
    press(&mut h, "3. When the data");
    press(&mut h, "has length");
    type_into(&mut h, "Match 3", "1");
    press(&mut h, "do not reply (3)");
    wait_visible(&mut h, "Reply rules (3 on)");
    assert!(visible(
        &h,
        "the rules answer first, echo answers what no rule matched"
    ));

    press(&mut h, "Listen");
    step_until(&mut h, "the server listens", |h| {
        tcp_server(h).role.listening.is_some()
    });
    let addr = tcp_server(&h).role.listening.unwrap();
    let mut client = TcpStream::connect(addr).unwrap();
    client.set_read_timeout(Some(TIMEOUT)).unwrap();
    client.set_nodelay(true).unwrap();

    client.write_all(b"GET index").unwrap();
    assert_eq!(read_exact(&mut client, 10), b"got index\n");
    client.write_all(&[0x01, 0x03, 0x00, 0x05]).unwrap();
    let mut expected = vec![0x01, 0x83, 0x02];
    socketlab::engine::Checksum::Crc16Modbus.append(&mut expected);
    assert_eq!(read_exact(&mut client, 5), expected);
    // Silenced, then echoed: the echo of "hello" is the next thing to arrive.
    client.write_all(b"x").unwrap();
    std::thread::sleep(Duration::from_millis(50));
    client.write_all(b"hello").unwrap();
    assert_eq!(read_exact(&mut client, 5), b"hello");
}

/// A peer that answers the script's `PING` with `reply`, then waits for the script to close.
fn script_peer(reply: &'static [u8]) -> (std::thread::JoinHandle<()>, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let thread = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(TIMEOUT)).unwrap();
        let mut buf = [0; 5];
        s.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"PING\n");
        s.write_all(reply).unwrap();
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
    });
    (thread, port)
}

fn write_script(name: &str, body: &str) -> String {
    let dir = std::env::temp_dir().join(format!("socketlab-gui-script-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path.to_string_lossy().into_owned()
}

const PING_SCRIPT: &str = r#"name = "ping"
timeout_ms = 3000

[connect]
tcp = "127.0.0.1:1"

[[steps]]
send = "PING\n"

[[steps]]
expect.contains = "PONG"
"#;

fn script_marks(h: &Harness<'_, SocketLabApp>) -> Vec<Mark> {
    tcp_client(h).script.marks().to_vec()
}

#[test]
fn script_panel_checks_the_file_runs_steps_and_marks_the_failing_one() {
    let mut h = harness();
    open_tab(&mut h, "TCP client");
    hide_calls(&mut h);
    press(&mut h, "Script");
    let bad = write_script("bad.toml", "name = \"x\"\n[connect]\ntcp = 5\n");
    type_into(&mut h, "Script file", &bad);
    press(&mut h, "Open script");
    assert!(
        visible(&h, "line 3, column"),
        "a bad script names line and column"
    );

    let good = write_script("ping.toml", PING_SCRIPT);
    type_into(&mut h, "Script file", &good);
    press(&mut h, "Open script");
    step_until(&mut h, "the steps are listed", |h| {
        tcp_client(h).script.script().is_some()
    });
    wait_visible(&mut h, "line 7: send");
    type_into(&mut h, "Target", "no-port");
    assert!(visible(&h, "is not HOST:PORT"));
    assert!(is_disabled(&h, "Run script"));

    // Passes against a peer that answers PONG; each step is ticked.
    let (peer, port) = script_peer(b"PONG\n");
    type_into(&mut h, "Target", &format!("127.0.0.1:{port}"));
    press(&mut h, "Run script");
    wait_visible(&mut h, "Script passed: 2 steps carried out");
    assert!(
        script_marks(&h)
            .iter()
            .all(|m| matches!(m, Mark::Passed { .. }))
    );
    peer.join().unwrap();

    // Fails against one that answers NO: the expect is red with what arrived instead.
    let (peer, port) = script_peer(b"NO\n");
    type_into(&mut h, "Target", &format!("127.0.0.1:{port}"));
    press(&mut h, "Run script");
    wait_visible(&mut h, "Script failed at the step on line 10");
    assert!(visible(&h, "Arrived instead: \"NO"));
    let marks = script_marks(&h);
    assert!(matches!(marks[0], Mark::Passed { .. }));
    assert!(matches!(marks[1], Mark::Failed(_)));
    peer.join().unwrap();

    // Step by step: the first press connects and sends, the second expects.
    let (peer, port) = script_peer(b"PONG\n");
    type_into(&mut h, "Target", &format!("127.0.0.1:{port}"));
    press(&mut h, "Step");
    step_until(&mut h, "the first step passed and the next waits", |h| {
        let m = script_marks(h);
        matches!(m[0], Mark::Passed { .. }) && m[1] == Mark::Next
    });
    press(&mut h, "Step");
    wait_visible(&mut h, "Script passed");
    assert!(visible(&h, "Script: talking to 127.0.0.1:"));
    peer.join().unwrap();
}

#[test]
fn script_stop_ends_a_run_that_waits() {
    let mut h = harness();
    open_tab(&mut h, "TCP client");
    press(&mut h, "Script");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let path = write_script("silent.toml", &PING_SCRIPT.replace("3000", "60000"));
    type_into(&mut h, "Script file", &path);
    press(&mut h, "Open script");
    type_into(&mut h, "Target", &format!("127.0.0.1:{port}"));
    press(&mut h, "Run script");
    let (_silent, _) = listener.accept().unwrap();
    step_until(&mut h, "the expect is under way", |h| {
        script_marks(h).get(1) == Some(&Mark::Running)
    });
    press(&mut h, "Stop script");
    wait_visible(&mut h, "Script stopped after");
    assert!(!tcp_client(&h).script.is_running());
}

#[test]
fn udp_generator_shows_progress_and_the_server_counts_every_datagram() {
    // The sequence header's bytes are binary: the log may draw them as any character.
    let mut h = harness_allowing_missing_glyphs();
    open_tab(&mut h, "UDP server");
    type_into(&mut h, "Port", "0");
    press(&mut h, "Sequence check");
    press(&mut h, "Check sequence numbers");
    press(&mut h, "Bind");
    step_until(&mut h, "the server is bound", |h| {
        udp_server(h).role.bound.is_some()
    });
    let port = udp_server(&h).role.bound.unwrap().port();

    open_tab(&mut h, "UDP client");
    type_into(&mut h, "Port", &port.to_string());
    press(&mut h, "Traffic generator");
    type_into(&mut h, "Size (bytes)", "10");
    assert!(
        visible(&h, "Size (bytes) must be a whole number from 32"),
        "sequence numbers need room for their header"
    );
    assert!(is_disabled(&h, "Start generator"));
    type_into(&mut h, "Size (bytes)", "64");
    type_into(&mut h, "Per second", "2000");
    type_into(&mut h, "Messages", "500");
    press(&mut h, "Start generator");
    wait_visible(&mut h, "Generator finished: 500 messages, 32,000 bytes");
    assert!(visible(&h, "500 of 500 sent"));
    assert!(visible(&h, "Rate achieved:"));
    let sent = udp_client(&h).generator.progress().unwrap().sent;
    assert_eq!(sent, 500);

    open_tab(&mut h, "UDP server");
    step_until(&mut h, "the server's check saw the run", |h| {
        udp_server(h).role.sequence.as_ref().is_some_and(|c| {
            c.summary()
                .flows
                .first()
                .is_some_and(|f| f.received + f.lost == 500)
        })
    });
    let summary = udp_server(&h).role.sequence.as_ref().unwrap().summary();
    let flow = &summary.flows[0];
    assert_eq!(flow.received + flow.lost, flow.expected);
    assert_eq!((flow.duplicated, flow.announced), (0, Some(500)));
    wait_visible(&mut h, "From 127.0.0.1:");
    assert!(visible(&h, "(announced by the sender)"));
    assert!(visible(&h, "p50 "), "delay percentiles on loopback");
}

#[test]
fn tcp_generator_against_the_tcp_server_loses_nothing_and_stop_works() {
    let mut h = harness_allowing_missing_glyphs();
    open_tab(&mut h, "TCP server");
    type_into(&mut h, "Port", "0");
    press(&mut h, "Sequence check");
    press(&mut h, "Check sequence numbers");
    press(&mut h, "Listen");
    step_until(&mut h, "the server listens", |h| {
        tcp_server(h).role.listening.is_some()
    });
    let port = tcp_server(&h).role.listening.unwrap().port();

    open_tab(&mut h, "TCP client");
    type_into(&mut h, "Port", &port.to_string());
    press(&mut h, "Traffic generator");
    press(&mut h, "as fast as possible");
    type_into(&mut h, "Messages", "2000");
    press(&mut h, "Start generator");
    wait_visible(&mut h, "Generator finished: 2,000 messages, 128,000 bytes");

    open_tab(&mut h, "TCP server");
    step_until(&mut h, "the server received every message", |h| {
        tcp_server(h).role.sequence.as_ref().is_some_and(|c| {
            c.summary()
                .flows
                .first()
                .is_some_and(|f| f.received == 2000)
        })
    });
    let summary = tcp_server(&h).role.sequence.as_ref().unwrap().summary();
    assert_eq!(
        (summary.flows[0].lost, summary.flows[0].out_of_order),
        (0, 0)
    );

    // An open-ended run stops at once when asked.
    open_tab(&mut h, "TCP client");
    type_into(&mut h, "Messages", "");
    press(&mut h, "Start generator");
    step_until(&mut h, "the generator runs", |h| {
        tcp_client(h)
            .generator
            .progress()
            .is_some_and(|p| p.sent > 0)
    });
    press(&mut h, "Stop generator");
    wait_visible(&mut h, "Generator stopped:");
    assert!(
        !h.state()
            .sessions_of::<TcpClient>()
            .next()
            .unwrap()
            .generator
            .is_running()
    );
}

#[test]
fn settings_of_the_tools_survive_a_restart_and_old_rules_still_load() {
    // A rule as the window saved it before conditions could be combined.
    let old = r#"{"when":"StartsWith","pattern":"02","pattern_mode":"Hex","reply":"06","reply_mode":"Hex"}"#;
    let rule: socketlab::gui::widgets::auto_reply::RuleSettings =
        serde_json::from_str(old).unwrap();
    assert_eq!(
        rule.when,
        socketlab::gui::widgets::auto_reply::When::StartsWith
    );
    assert!(rule.more.is_empty() && !rule.no_reply && !rule.reply_template);

    let mut h = harness();
    open_tab(&mut h, "TCP client");
    press(&mut h, "Template");
    press(&mut h, "Framing: none");
    press(&mut h, "Cut into messages");
    press(&mut h, "idle gap");
    type_into(&mut h, "Gap (ms)", "20");
    press(&mut h, "Script");
    type_into(&mut h, "Script file", "/tmp/x.toml");
    let saved = serde_json::to_string(&h.state().state()).unwrap();
    let restored: socketlab::gui::AppState = serde_json::from_str(&saved).unwrap();
    let app = SocketLabApp::new(restored);
    let s = &app.sessions_of::<TcpClient>().next().unwrap().settings;
    assert!(s.common.editor.template);
    assert_eq!(s.framing.config().unwrap().framing.to_string(), "gap:20");
    assert_eq!(s.common.script.path, "/tmp/x.toml");
}
