//! The window's bad-input table: every case the hardening issue lists, typed into the real field
//! (found by its label) of the real tab, with the sentence that must appear next to it and what
//! the tab's button must do. After each case the field still holds what was typed (nothing typed
//! is lost), a log row written before is still there (nothing logged is lost), and putting the old
//! value back removes the sentence (so the sentence belongs to that input).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly; that is its job

use std::io::Write as _;
use std::net::{TcpListener, TcpStream, UdpSocket};

use crate::gui_support::{
    click, field_value, harness_allowing_missing_glyphs, is_disabled, open_tab, set_field,
    step_until, wait_for_row,
};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use socketlab::engine::encoding::{TextEncoding, encode_input};
use socketlab::engine::payload::{InputMode, LineEnding};
use socketlab::gui::SocketLabApp;

/// What the tab's button does once the bad input is in the field.
#[derive(Debug, Clone, Copy)]
enum Then {
    /// The button is disabled while the sentence shows next to the field.
    Disabled(&'static str),
    /// Only the worker can tell (a name that does not resolve, a file that cannot be read): the
    /// button is pressed and the sentence then shows (in the status, the log or under the field).
    Press(&'static str),
    /// Legal input: the button stays enabled, and the fragment says what the input means.
    Accepted(&'static str),
}

/// When the case runs: `Idle` before the tab's session starts; `Live` once it runs (TCP client
/// connected to a listener, UDP client after sending "keep me", UDP server bound).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Idle,
    Live,
}

/// One row of [`CASES`].
type Case = (
    &'static str,
    Stage,
    &'static [&'static str],
    &'static str,
    &'static str,
    &'static str,
    Then,
);

/// Placeholders filled per run: `{DIR}` a scratch folder, `{LONG}` a 300-character host name,
/// `{X65508}` / `{X65528}` that many `x`, `{V6TARGET}` a UDP socket's address on `::1`.
///
/// Clicks run before typing; a click starting with `+` opens a section and is skipped when the
/// field is already on screen.
///
/// Each row: tab, stage, clicks, field label, input, sentence fragment, what the button does.
#[rustfmt::skip]
const CASES: &[Case] = &[
    // ---- ports: a client needs a real port ----
    ("TCP client", Stage::Idle, &[], "Port", "", "Enter a port: a number from 1 to 65535", Then::Disabled("Connect")),
    ("TCP client", Stage::Idle, &[], "Port", "0", "Port 0 means \"let the system choose\"", Then::Disabled("Connect")),
    ("TCP client", Stage::Idle, &[], "Port", "65536", "65536 is not a port: ports go from 0 to 65535.", Then::Disabled("Connect")),
    ("TCP client", Stage::Idle, &[], "Port", "-1", "-1 is not a port: ports go from 0 to 65535.", Then::Disabled("Connect")),
    ("TCP client", Stage::Idle, &[], "Port", "80a", "\"80a\" is not a number, and no tcp service has that name.", Then::Disabled("Connect")),
    ("TCP client", Stage::Idle, &[], "Port", "no-such-service", "\"no-such-service\" is not a number, and no tcp service has that name.", Then::Disabled("Connect")),
    // ---- hosts ----
    ("TCP client", Stage::Idle, &[], "Host", "", "(no host given)", Then::Disabled("Connect")),
    ("TCP client", Stage::Idle, &[], "Host", "999.1.1.1", "an IPv4 address is four numbers from 0 to 255", Then::Disabled("Connect")),
    ("TCP client", Stage::Idle, &[], "Host", "[::1", "the '[' has no matching ']'", Then::Disabled("Connect")),
    ("TCP client", Stage::Idle, &[], "Host", "::1]", "the ']' has no matching '['", Then::Disabled("Connect")),
    ("TCP client", Stage::Idle, &[], "Host", "{LONG}", "a host name has at most 253 characters", Then::Disabled("Connect")),
    // Only the resolver can tell: the error arrives from the worker, in plain words.
    ("TCP client", Stage::Idle, &[], "Host", "no-such-host.invalid", "The name \"no-such-host.invalid\" could not be turned into an address (the resolver answered:", Then::Press("Connect")),
    // ---- sizes: an empty TCP send would do nothing at all ----
    ("TCP client", Stage::Live, &[], "Message", "", "The message is empty, and over TCP sending nothing does nothing", Then::Disabled("Send")),
    // ---- a server may listen on port 0 (the system picks) ----
    ("TCP server", Stage::Idle, &[], "Port", "0", "(the system chooses)", Then::Accepted("Listen")),
    ("TCP server", Stage::Idle, &[], "Port", "65536", "65536 is not a port", Then::Disabled("Listen")),
    ("TCP server", Stage::Idle, &[], "Port", "-1", "-1 is not a port", Then::Disabled("Listen")),
    ("TCP server", Stage::Idle, &[], "Port", "", "Enter a port", Then::Disabled("Listen")),
    ("TCP server", Stage::Idle, &[], "Bind address", "999.1.1.1", "\"999.1.1.1\" is not an IP address to listen on: use 127.0.0.1", Then::Disabled("Listen")),
    ("TCP server", Stage::Idle, &[], "Bind address", "[::1", "\"[::1\" is not an IP address to listen on", Then::Disabled("Listen")),
    // ---- files: the capture file ----
    ("TCP server", Stage::Idle, &["+Capture to file"], "Capture file", "{DIR}", "Could not write the capture file {DIR} (it is a folder: add a file name to it", Then::Disabled("Listen")),
    ("TCP server", Stage::Idle, &["+Capture to file"], "Capture file", "{DIR}/no/such/folder/dump.bin", "(the folder {DIR}/no/such/folder does not exist)", Then::Disabled("Listen")),
    // ---- the UDP client: ports ----
    ("UDP client", Stage::Idle, &[], "Port", "0", "Port 0 means", Then::Disabled("Open socket")),
    ("UDP client", Stage::Idle, &[], "Port", "65536", "65536 is not a port", Then::Disabled("Send")),
    ("UDP client", Stage::Idle, &[], "Port", "80a", "no udp service has that name", Then::Disabled("Send")),
    ("UDP client", Stage::Idle, &[], "Host", "999.1.1.1", "an IPv4 address is four numbers from 0 to 255", Then::Disabled("Send")),
    // ---- hex ----
    ("UDP client", Stage::Live, &["Hex"], "Message", "abc", "The hex digit at position 3 has no partner: each byte takes two digits.", Then::Disabled("Send")),
    ("UDP client", Stage::Live, &["Hex"], "Message", "0xZZ", "'Z' at position 3 is not a hex digit (use 0-9 and a-f).", Then::Disabled("Send")),
    ("UDP client", Stage::Live, &["Hex"], "Message", "41 é", "'é' at position 4 is not a hex digit", Then::Disabled("Send")),
    // ---- escapes ----
    ("UDP client", Stage::Live, &["Escapes"], "Message", "\\x", "The escape at position 1 needs two hex digits after \\x (for example \\x41).", Then::Disabled("Send")),
    ("UDP client", Stage::Live, &["Escapes"], "Message", "a\\xG1", "The escape at position 2 needs two hex digits after \\x", Then::Disabled("Send")),
    ("UDP client", Stage::Live, &["Escapes"], "Message", "ab\\", "The \\ at position 3 ends the message without saying what it stands for: write \\\\ for a backslash.", Then::Disabled("Send")),
    // ---- sizes: one datagram's limit; an empty datagram is real and may be sent ----
    ("UDP client", Stage::Live, &["Text"], "Message", "{X65508}", "That message is 65508 bytes, but one UDP datagram over IPv4 can carry at most 65507 bytes.", Then::Disabled("Send")),
    ("UDP client", Stage::Live, &["Text"], "Message", "", "0 bytes", Then::Accepted("Send")),
    // ---- files: saved messages and the log export ----
    ("UDP client", Stage::Live, &["+Saved messages (0)"], "JSON file", "{DIR}/missing.json", "Could not read {DIR}/missing.json: it does not exist.", Then::Press("Import")),
    ("UDP client", Stage::Live, &["+Saved messages (0)"], "JSON file", "{DIR}", "Could not read {DIR}: it is a folder, not a file.", Then::Press("Import")),
    // Unreadable even for root (the tests run as root in CI): the kernel refuses reading this
    // process's memory at address 0.
    ("UDP client", Stage::Live, &["+Saved messages (0)"], "JSON file", "/proc/self/mem", "Could not read /proc/self/mem: input/output error.", Then::Press("Import")),
    ("UDP client", Stage::Live, &["+Saved messages (0)"], "JSON file", "{DIR}", "{DIR} is a folder: add the name of a file in it.", Then::Press("Export")),
    ("UDP client", Stage::Live, &["+Export the log"], "Export to file", "{DIR}", "{DIR} is a folder: add the name of a file in it.", Then::Press("Export shown rows")),
    // ---- encodings: characters the chosen encoding cannot write ----
    ("UDP client", Stage::Live, &["Text", "Encoding", "Latin-1 / Windows-1252"], "Message", "ok 你", "'你' at position 4 cannot be written in Latin-1 / Windows-1252", Then::Disabled("Send")),
    ("UDP client", Stage::Live, &["Text", "Encoding", "GBK"], "Message", "hi 😀", "'😀' at position 4 cannot be written in GBK", Then::Disabled("Send")),
    ("UDP client", Stage::Live, &["Text", "Encoding", "Shift_JIS"], "Message", "¥100", "'¥' at position 1 cannot be written in Shift_JIS", Then::Disabled("Send")),
    ("UDP client", Stage::Live, &["Escapes", "Encoding", "Big5"], "Message", "\\nก", "'ก' at position 3 cannot be written in Big5", Then::Disabled("Send")),
    // ---- the UDP server: ports, and the limit of a datagram to an IPv6 peer ----
    ("UDP server", Stage::Idle, &[], "Port", "65536", "65536 is not a port", Then::Disabled("Bind")),
    ("UDP server", Stage::Idle, &[], "Port", "-1", "-1 is not a port", Then::Disabled("Bind")),
    ("UDP server", Stage::Live, &[], "Message", "{X65528}", "That message is 65528 bytes, but one UDP datagram over IPv6 can carry at most 65527 bytes.", Then::Disabled("Send")),
];

fn has_label(h: &Harness<'_, SocketLabApp>, label: &str) -> bool {
    h.query_by_label(label).is_some()
}

/// The first widget whose label or text contains `fragment`.
fn sentence_rect(h: &Harness<'_, SocketLabApp>, fragment: &str) -> Option<egui::Rect> {
    h.query_all_by(|node| {
        node.label()
            .or_else(|| node.value())
            .is_some_and(|l| l.contains(fragment))
    })
    .next()
    .map(|node| node.rect())
}

/// Peers the live stages talk to, kept for the whole test.
struct Peers {
    tcp: TcpListener,
    /// The TCP client tab's connection, as the listener accepted it.
    accepted: Option<TcpStream>,
    udp4: UdpSocket,
    udp6: UdpSocket,
}

/// Starts `tab`'s session so the live cases have something running.
fn go_live(h: &mut Harness<'_, SocketLabApp>, tab: &str, peers: &mut Peers) {
    match tab {
        "TCP client" => {
            let port = peers.tcp.local_addr().expect("addr").port();
            set_field(h, "Port", &port.to_string());
            click(h, "Connect");
            step_until(h, "the client connects", |h| {
                h.state().tcp_client.local.is_some()
            });
            // The connection waits in the listener's queue: accept returns at once.
            let (mut stream, _) = peers.tcp.accept().expect("accept");
            stream.write_all(b"keep me").expect("write");
            peers.accepted = Some(stream);
            wait_for_row(h, &["◀ in", "keep me"]);
        }
        "UDP client" => {
            let port = peers.udp4.local_addr().expect("addr").port();
            set_field(h, "Port", &port.to_string());
            set_field(h, "Message", "keep me");
            click(h, "Send");
            wait_for_row(h, &["▶ out", "keep me"]);
        }
        "UDP server" => {
            set_field(h, "Port", "0");
            click(h, "Bind");
            step_until(h, "the server binds", |h| {
                h.state().udp_server.bound_to().is_some()
            });
            let target = format!("[::1]:{}", peers.udp6.local_addr().expect("addr").port());
            set_field(h, "Reply to", &target);
        }
        other => panic!("no live stage for {other}"),
    }
}

/// What must still be there after each case of `tab` once it is live.
fn kept_row(tab: &str) -> Option<&'static [&'static str]> {
    match tab {
        "TCP client" => Some(&["◀ in", "keep me"]),
        "UDP client" => Some(&["▶ out", "keep me"]),
        _ => None,
    }
}

/// Everything the window remembers, as it would be saved (transient notes left out).
fn remembered(h: &Harness<'_, SocketLabApp>) -> String {
    serde_json::to_string(&h.state().settings()).expect("settings serialize")
}

fn row_shows(h: &Harness<'_, SocketLabApp>, parts: &[&str]) -> bool {
    h.query_all_by(|node| {
        node.label()
            .or_else(|| node.value())
            .is_some_and(|l| parts.iter().all(|p| l.contains(p)))
    })
    .next()
    .is_some()
}

#[test]
fn gui_bad_input_table_sentence_next_to_the_field_and_nothing_lost() {
    let dir = std::env::temp_dir().join(format!("socketlab-gui-bad-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    let dir_text = dir.to_str().expect("utf-8 path").to_owned();
    let mut peers = Peers {
        tcp: TcpListener::bind("127.0.0.1:0").expect("bind"),
        accepted: None,
        udp4: UdpSocket::bind("127.0.0.1:0").expect("bind"),
        udp6: UdpSocket::bind("[::1]:0").expect("bind ::1"),
    };
    let fill = |text: &str| {
        text.replace("{DIR}", &dir_text)
            .replace("{LONG}", &"a".repeat(300))
            .replace("{X65508}", &"x".repeat(65_508))
            .replace("{X65528}", &"x".repeat(65_528))
    };

    let mut h = harness_allowing_missing_glyphs();
    let mut tab = "";
    let mut stage = Stage::Idle;
    let mut ran = 0;
    for &(case_tab, case_stage, clicks, field, input, fragment, then) in CASES {
        if case_tab != tab {
            open_tab(&mut h, case_tab);
            tab = case_tab;
            stage = Stage::Idle;
        }
        if case_stage == Stage::Live && stage == Stage::Idle {
            go_live(&mut h, tab, &mut peers);
            stage = Stage::Live;
        }
        for &target in clicks {
            match target.strip_prefix('+') {
                Some(section) if !has_label(&h, field) => click(&mut h, section),
                Some(_) => {}
                None => click(&mut h, target),
            }
        }
        let (input, fragment) = (fill(input), fill(fragment));
        let case = format!("{tab} / {field} = {input:.60?}");
        let before = field_value(&h, field);
        let remembered_before = remembered(&h);
        set_field(&mut h, field, &input);

        match then {
            Then::Disabled(button) => {
                let shown = sentence_rect(&h, &fragment)
                    .unwrap_or_else(|| panic!("{case}: no sentence containing {fragment:?}"));
                let at = h.get_by_label(field).rect();
                // "Next to the field": on the field's row or a few rows under it.
                assert!(
                    shown.top() >= at.top() - 30.0 && shown.top() <= at.bottom() + 160.0,
                    "{case}: the sentence at {shown:?} is far from the field at {at:?}"
                );
                assert!(is_disabled(&h, button), "{case}: {button} must be disabled");
            }
            Then::Press(button) => {
                assert!(!is_disabled(&h, button), "{case}: {button} can be pressed");
                click(&mut h, button);
                step_until(&mut h, &format!("{case}: {fragment}"), |h| {
                    sentence_rect(h, &fragment).is_some()
                });
            }
            Then::Accepted(button) => {
                assert!(
                    sentence_rect(&h, &fragment).is_some(),
                    "{case}: expected {fragment:?}"
                );
                assert!(!is_disabled(&h, button), "{case}: {button} stays enabled");
            }
        }
        assert_eq!(
            field_value(&h, field),
            input,
            "{case}: what was typed is still in the field"
        );
        if stage == Stage::Live
            && let Some(row) = kept_row(tab)
        {
            assert!(
                row_shows(&h, row),
                "{case}: the earlier log row is still shown"
            );
        }
        // The old value back: a sentence that was about this input goes away.
        set_field(&mut h, field, &before);
        if matches!(then, Then::Disabled(_)) && before != input {
            assert!(
                sentence_rect(&h, &fragment).is_none(),
                "{case}: the sentence stays after the input was corrected"
            );
        }
        // Nothing else the user typed or chose was touched by the bad input.
        assert_eq!(
            remembered(&h),
            remembered_before,
            "{case}: the tab's other fields and choices are as they were"
        );
        ran += 1;
    }
    assert_eq!(ran, CASES.len());
    drop(peers);
    let _ = std::fs::remove_dir_all(&dir);
}

/// What the table does not show: the encodings that *can* write a character are not refused
/// (`encoding_rs` writes € in Windows-1252 as 0x80), and over UDP an empty message is a real,
/// zero-length datagram that arrives.
#[test]
fn gui_empty_udp_send_is_a_zero_length_datagram_and_euro_fits_windows_1252() {
    assert_eq!(
        encode_input(
            "€",
            InputMode::Text,
            LineEnding::None,
            TextEncoding::Windows1252
        )
        .ok(),
        Some(vec![0x80])
    );
    let peer = UdpSocket::bind("127.0.0.1:0").expect("bind");
    peer.set_read_timeout(Some(crate::gui_support::TIMEOUT))
        .expect("timeout");
    let mut h = harness_allowing_missing_glyphs();
    open_tab(&mut h, "UDP client");
    set_field(
        &mut h,
        "Port",
        &peer.local_addr().expect("addr").port().to_string(),
    );
    set_field(&mut h, "Message", "");
    assert!(!is_disabled(&h, "Send"));
    click(&mut h, "Send");
    wait_for_row(&mut h, &["▶ out", "0 B"]);
    let mut buf = [0_u8; 8];
    let (n, _) = peer
        .recv_from(&mut buf)
        .expect("the empty datagram arrives");
    assert_eq!(n, 0);
}

/// A host given by name: once the socket is open its family is known, and a message too big for
/// one datagram of that family is refused before sending (65,528 bytes is too big for either).
#[test]
fn gui_oversize_datagram_to_a_name_is_refused_once_the_socket_is_open() {
    let peer = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let mut h = harness_allowing_missing_glyphs();
    open_tab(&mut h, "UDP client");
    set_field(&mut h, "Host", "localhost");
    set_field(
        &mut h,
        "Port",
        &peer.local_addr().expect("addr").port().to_string(),
    );
    set_field(&mut h, "Message", "hi");
    click(&mut h, "Send");
    wait_for_row(&mut h, &["▶ out", "hi"]);
    let big = "x".repeat(65_528);
    set_field(&mut h, "Message", &big);
    assert!(
        sentence_rect(
            &h,
            "That message is 65528 bytes, but one UDP datagram over IPv"
        )
        .is_some(),
        "the size is refused next to the editor"
    );
    assert!(is_disabled(&h, "Send"));
    assert_eq!(field_value(&h, "Message"), big, "what was typed stays");
}
