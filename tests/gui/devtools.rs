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
    TIMEOUT, click, harness, is_disabled, open_tab, set_field, shows, step_until, tcp_client,
    tcp_server, udp_client, udp_server, wait_for_row, wait_for_text,
};

fn read_exact(stream: &mut TcpStream, len: usize) -> Vec<u8> {
    let mut buf = vec![0; len];
    stream.read_exact(&mut buf).unwrap();
    buf
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

/// Connects the TCP client tab to a listener of the test's; returns the accepted stream.
fn connect_client(h: &mut Harness<'_, SocketLabApp>) -> TcpStream {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    open_tab(h, "TCP client");
    set_field(h, "Port", &port.to_string());
    click(h, "Connect");
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
    set_field(&mut h, "Port", "0");
    click(&mut h, "Framing: none");
    click(&mut h, "Cut into messages");
    click(&mut h, "lines ending in LF");
    wait_for_text(&mut h, "Framing: lf");
    // A bad value is said next to the field (and in the bar), and nothing can start.
    set_field(&mut h, "Largest message", "0");
    assert!(shows(
        &h,
        "Largest message must be a whole number from 1 to 16777216."
    ));
    assert!(is_disabled(&h, "Listen"));
    set_field(&mut h, "Largest message", "8");
    click(&mut h, "Listen");
    step_until(&mut h, "the server listens", |h| {
        tcp_server(h).role.listening.is_some()
    });
    let addr = tcp_server(&h).role.listening.unwrap();
    let mut client = TcpStream::connect(addr).unwrap();
    client.set_nodelay(true).unwrap();

    client.write_all(b"hel").unwrap();
    wait_for_text(
        &mut h,
        "Waiting: 3 bytes of an unfinished message (1 read so far)",
    );
    client.write_all(b"lo\n").unwrap();
    wait_for_row(&mut h, &["◀ in", "(1 message from 2 reads)", "hello"]);
    assert!(
        !shows(&h, "Waiting:"),
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
    assert!(shows(&h, "(discarded: larger than the largest message)"));
    assert!(shows(&h, "01234567"), "the offending bytes are in the log");
}

#[test]
fn tcp_client_length_prefix_framing_gathers_a_message_split_across_reads() {
    let mut h = harness();
    open_tab(&mut h, "TCP client");
    click(&mut h, "Framing: none");
    click(&mut h, "Cut into messages");
    click(&mut h, "length prefix");
    wait_for_text(&mut h, "Framing: len:2be");
    let mut peer = connect_client(&mut h);
    peer.set_nodelay(true).unwrap();
    peer.write_all(&[0x00, 0x05, b'a', b'b']).unwrap();
    wait_for_text(&mut h, "Waiting: 4 bytes of an unfinished message");
    peer.write_all(b"cde").unwrap();
    wait_for_row(&mut h, &["7 bytes (1 message from 2 reads)", "abcde"]);
}

#[test]
fn template_mode_with_a_checksum_previews_and_sends_exactly_those_bytes() {
    let mut h = harness();
    let mut peer = connect_client(&mut h);
    click(&mut h, "Template");
    set_field(&mut h, "Message", "n={seq}\\n");
    click(&mut h, "Append checksum");
    click(&mut h, "xor8");
    // n=1\n and its XOR-8: 6e ^ 3d ^ 31 ^ 0a = 68.
    wait_for_text(&mut h, "Next send, 5 bytes: 6e 3d 31 0a 68");
    click(&mut h, "Send");
    assert_eq!(read_exact(&mut peer, 5), [0x6e, 0x3d, 0x31, 0x0a, 0x68]);

    // The preview follows the session's own counter.
    set_field(&mut h, "Message", "n={seq}\\n");
    wait_for_text(&mut h, "Next send, 5 bytes: 6e 3d 32 0a 6b");

    // Saved messages keep the template and its checksum.
    set_field(&mut h, "Name", "counter");
    click(&mut h, "Save message");
    click(&mut h, "counter");
    assert_eq!(read_exact(&mut peer, 5), [0x6e, 0x3d, 0x32, 0x0a, 0x6b]);

    // A repeat fills the template in afresh at each send.
    set_field(&mut h, "Repeat every (ms)", "5");
    set_field(&mut h, "Times", "3");
    click(&mut h, "Start repeating");
    wait_for_text(&mut h, "Repeat finished: 3 of 3 sent");
    let got = read_exact(&mut peer, 15);
    let texts: Vec<&[u8]> = got.chunks(5).map(|c| &c[..4]).collect();
    assert_eq!(texts, [&b"n=3\n"[..], b"n=4\n", b"n=5\n"]);

    // The Modbus request of issue 14 in hex with CRC-16/MODBUS, low byte first.
    click(&mut h, "Hex");
    set_field(&mut h, "Message", "01 03 00 00 00 0A");
    click(&mut h, "Append checksum");
    click(&mut h, "crc16-modbus");
    wait_for_text(&mut h, "Next send, 8 bytes: 01 03 00 00 00 0a c5 cd");
    click(&mut h, "Send");
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
    set_field(&mut h, "Message", "{seq}");
    click(&mut h, "Send");
    assert_eq!(read_exact(&mut peer, 5), b"{seq}");
    click(&mut h, "Template");
    set_field(&mut h, "Message", "a {nope} b");
    assert!(shows(&h, "{nope} at position 3 is not a variable"));
    assert!(is_disabled(&h, "Send"));
}

/// A TCP server tab listening with echo on and the rules as the test set them in the window.
#[test]
fn reply_rules_use_regex_groups_hex_patterns_lengths_and_silence_echo() {
    let mut h = harness();
    open_tab(&mut h, "TCP server");
    set_field(&mut h, "Port", "0");
    click(&mut h, "Echo");
    click(&mut h, "Reply rules");
    // Rule 1: a regular expression, answered with a template that uses its group.
    click(&mut h, "Add rule");
    click(&mut h, "1. When the data");
    click(&mut h, "matches regex");
    set_field(&mut h, "Match 1", "^GET (");
    assert!(
        shows(&h, "The regular expression has a problem at position 6"),
        "a bad regex is said with its position"
    );
    set_field(&mut h, "Match 1", r"^GET (\w+)");
    click(&mut h, "reply 1 is a template");
    set_field(&mut h, "reply 1", "got {1}\\n");
    // Rule 2: a hex pattern with wildcards and a length, both required; the reply with a CRC.
    click(&mut h, "Add rule");
    click(&mut h, "2. When the data");
    click(&mut h, "fits hex pattern");
    set_field(&mut h, "Match 2", "01 03 ?? zz");
    assert!(shows(
        &h,
        "'zz' at position 10 in the hex pattern is not a byte"
    ));
    set_field(&mut h, "Match 2", "01 03 ?? *");
    click(&mut h, "+ condition (2)");
    click(&mut h, "2.2");
    click(&mut h, "has length");
    set_field(&mut h, "Condition 2 of rule 2", "4..6");
    click(&mut h, "reply 2 is a template");
    set_field(&mut h, "reply 2", "\\x01\\x83\\x02");
    click(&mut h, "checksum 2");
    click(&mut h, "crc16-modbus");
    // Rule 3: one-byte messages get no answer, not even the echo.
    click(&mut h, "Add rule");
    click(&mut h, "3. When the data");
    click(&mut h, "has length");
    set_field(&mut h, "Match 3", "1");
    click(&mut h, "do not reply (3)");
    wait_for_text(&mut h, "Reply rules (3 on)");
    assert!(shows(&h, "the rules answer first, echo answers what no rule matched"));

    click(&mut h, "Listen");
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
    click(&mut h, "Script");
    let bad = write_script("bad.toml", "name = \"x\"\n[connect]\ntcp = 5\n");
    set_field(&mut h, "Script file", &bad);
    click(&mut h, "Open script");
    assert!(shows(&h, "line 3, column"), "a bad script names line and column");

    let good = write_script("ping.toml", PING_SCRIPT);
    set_field(&mut h, "Script file", &good);
    click(&mut h, "Open script");
    wait_for_text(&mut h, "line 8: send");
    set_field(&mut h, "Target", "no-port");
    assert!(shows(&h, "is not HOST:PORT"));
    assert!(is_disabled(&h, "Run script"));

    // Passes against a peer that answers PONG; each step is ticked.
    let (peer, port) = script_peer(b"PONG\n");
    set_field(&mut h, "Target", &format!("127.0.0.1:{port}"));
    click(&mut h, "Run script");
    wait_for_text(&mut h, "Script passed: 2 steps carried out");
    assert!(
        script_marks(&h)
            .iter()
            .all(|m| matches!(m, Mark::Passed { .. }))
    );
    peer.join().unwrap();

    // Fails against one that answers NO: the expect is red with what arrived instead.
    let (peer, port) = script_peer(b"NO\n");
    set_field(&mut h, "Target", &format!("127.0.0.1:{port}"));
    click(&mut h, "Run script");
    wait_for_text(&mut h, "Script failed at the step on line 11");
    assert!(shows(&h, "Arrived instead: \"NO"));
    let marks = script_marks(&h);
    assert!(matches!(marks[0], Mark::Passed { .. }));
    assert!(matches!(marks[1], Mark::Failed(_)));
    peer.join().unwrap();

    // Step by step: the first press connects and sends, the second expects.
    let (peer, port) = script_peer(b"PONG\n");
    set_field(&mut h, "Target", &format!("127.0.0.1:{port}"));
    click(&mut h, "Step");
    step_until(&mut h, "the first step passed and the next waits", |h| {
        let m = script_marks(h);
        matches!(m[0], Mark::Passed { .. }) && m[1] == Mark::Next
    });
    click(&mut h, "Step");
    wait_for_text(&mut h, "Script passed");
    assert!(shows(&h, "Script: talking to 127.0.0.1:"));
    peer.join().unwrap();
}

#[test]
fn script_stop_ends_a_run_that_waits() {
    let mut h = harness();
    open_tab(&mut h, "TCP client");
    click(&mut h, "Script");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let path = write_script("silent.toml", &PING_SCRIPT.replace("3000", "60000"));
    set_field(&mut h, "Script file", &path);
    click(&mut h, "Open script");
    set_field(&mut h, "Target", &format!("127.0.0.1:{port}"));
    click(&mut h, "Run script");
    let (_silent, _) = listener.accept().unwrap();
    step_until(&mut h, "the expect is under way", |h| {
        script_marks(h).get(1) == Some(&Mark::Running)
    });
    click(&mut h, "Stop script");
    wait_for_text(&mut h, "Script stopped after");
    assert!(!tcp_client(&h).script.is_running());
}

#[test]
fn udp_generator_shows_progress_and_the_server_counts_every_datagram() {
    let mut h = harness();
    open_tab(&mut h, "UDP server");
    set_field(&mut h, "Port", "0");
    click(&mut h, "Sequence check");
    click(&mut h, "Check sequence numbers");
    click(&mut h, "Bind");
    step_until(&mut h, "the server is bound", |h| {
        udp_server(h).role.bound.is_some()
    });
    let port = udp_server(&h).role.bound.unwrap().port();

    open_tab(&mut h, "UDP client");
    set_field(&mut h, "Port", &port.to_string());
    click(&mut h, "Traffic generator");
    set_field(&mut h, "Size (bytes)", "10");
    assert!(
        shows(&h, "Size (bytes) must be a whole number from 32"),
        "sequence numbers need room for their header"
    );
    assert!(is_disabled(&h, "Start generator"));
    set_field(&mut h, "Size (bytes)", "64");
    set_field(&mut h, "Per second", "2000");
    set_field(&mut h, "Messages", "500");
    click(&mut h, "Start generator");
    wait_for_text(&mut h, "Generator finished: 500 messages, 32,000 bytes");
    assert!(shows(&h, "500 of 500 sent"));
    assert!(shows(&h, "Rate achieved:"));
    let sent = udp_client(&h).generator.progress().unwrap().sent;
    assert_eq!(sent, 500);

    open_tab(&mut h, "UDP server");
    step_until(&mut h, "the server's check saw the run", |h| {
        udp_server(h)
            .role
            .sequence
            .as_ref()
            .is_some_and(|c| c.summary().flows.first().is_some_and(|f| f.received + f.lost == 500))
    });
    let summary = udp_server(&h).role.sequence.as_ref().unwrap().summary();
    let flow = &summary.flows[0];
    assert_eq!(flow.received + flow.lost, flow.expected);
    assert_eq!((flow.duplicated, flow.announced), (0, Some(500)));
    wait_for_text(&mut h, "From 127.0.0.1:");
    assert!(shows(&h, "(announced by the sender)"));
    assert!(shows(&h, "p50 "), "delay percentiles on loopback");
}

#[test]
fn tcp_generator_against_the_tcp_server_loses_nothing_and_stop_works() {
    let mut h = harness();
    open_tab(&mut h, "TCP server");
    set_field(&mut h, "Port", "0");
    click(&mut h, "Sequence check");
    click(&mut h, "Check sequence numbers");
    click(&mut h, "Listen");
    step_until(&mut h, "the server listens", |h| {
        tcp_server(h).role.listening.is_some()
    });
    let port = tcp_server(&h).role.listening.unwrap().port();

    open_tab(&mut h, "TCP client");
    set_field(&mut h, "Port", &port.to_string());
    click(&mut h, "Traffic generator");
    click(&mut h, "as fast as possible");
    set_field(&mut h, "Messages", "2000");
    click(&mut h, "Start generator");
    wait_for_text(&mut h, "Generator finished: 2,000 messages, 128,000 bytes");

    open_tab(&mut h, "TCP server");
    step_until(&mut h, "the server received every message", |h| {
        tcp_server(h)
            .role
            .sequence
            .as_ref()
            .is_some_and(|c| c.summary().flows.first().is_some_and(|f| f.received == 2000))
    });
    let summary = tcp_server(&h).role.sequence.as_ref().unwrap().summary();
    assert_eq!((summary.flows[0].lost, summary.flows[0].out_of_order), (0, 0));

    // An open-ended run stops at once when asked.
    open_tab(&mut h, "TCP client");
    set_field(&mut h, "Messages", "");
    click(&mut h, "Start generator");
    step_until(&mut h, "the generator runs", |h| {
        tcp_client(h).generator.progress().is_some_and(|p| p.sent > 0)
    });
    click(&mut h, "Stop generator");
    wait_for_text(&mut h, "Generator stopped:");
    assert!(!h
        .state()
        .sessions_of::<TcpClient>()
        .next()
        .unwrap()
        .generator
        .is_running());
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
    click(&mut h, "Template");
    click(&mut h, "Framing: none");
    click(&mut h, "Cut into messages");
    click(&mut h, "idle gap");
    set_field(&mut h, "Gap (ms)", "20");
    click(&mut h, "Script");
    set_field(&mut h, "Script file", "/tmp/x.toml");
    let saved = serde_json::to_string(&h.state().state()).unwrap();
    let restored: socketlab::gui::AppState = serde_json::from_str(&saved).unwrap();
    let app = SocketLabApp::new(restored);
    let s = &app.sessions_of::<TcpClient>().next().unwrap().settings;
    assert!(s.common.editor.template);
    assert_eq!(s.framing.config().unwrap().framing.to_string(), "gap:20");
    assert_eq!(s.common.script.path, "/tmp/x.toml");
}
