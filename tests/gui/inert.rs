//! Received data can never trigger anything: an escape sequence, a URL and bidi overrides sent by
//! a real peer are shown as inert text in every view of them (log rows as text and in another
//! encoding, the lines view, the hex dump), no hyperlink widget appears, and clicking the rows
//! opens nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly; that is its job

use std::io::Write as _;
use std::net::{TcpStream, UdpSocket};

use crate::gui_support::{
    click, harness_allowing_missing_glyphs, open_tab, set_field, step_until, texts, wait_for_row,
};
use egui::OutputCommand;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use socketlab::gui::SocketLabApp;

/// What a hostile or confused peer sends: clear-screen and colour escapes, a link, a right-to-left
/// override that would reverse what follows, and an OSC 8 terminal hyperlink.
const HOSTILE: &[u8] = b"\x1b[2J\x1b[31mred https://example.invalid/x \xe2\x80\xaeevil\xe2\x80\xac \x1b]8;;https://example.invalid\x07link\x1b]8;;\x07\n";

/// Nothing on screen can act: no control or bidi character in any text, no link widget, and no
/// URL was asked to be opened.
fn assert_inert(h: &Harness<'_, SocketLabApp>, view: &str) {
    for text in texts(h) {
        assert!(
            !text.chars().any(|c| c.is_control()
                || matches!(c as u32, 0x200b..=0x200f | 0x202a..=0x202e | 0x2066..=0x2069)),
            "{view}: a control or bidi character reached the screen in {text:?}"
        );
    }
    assert!(
        h.query_all_by(|n| n.role() == Role::Link).next().is_none(),
        "{view}: received text became a link widget"
    );
    assert!(
        !h.output()
            .platform_output
            .commands
            .iter()
            .any(|c| matches!(c, OutputCommand::OpenUrl(_))),
        "{view}: something asked to open a URL"
    );
}

/// Clicks the first row containing `part` (as a screen reader would: a wide row's centre may lie
/// past the window's edge).
fn click_row(h: &mut Harness<'_, SocketLabApp>, part: &str) {
    h.query_all_by(|n| {
        n.value()
            .or_else(|| n.label())
            .is_some_and(|l| l.contains(part))
    })
    .next()
    .expect("the row")
    .click_accesskit();
    h.step();
    h.step();
}

#[test]
fn gui_received_escapes_links_and_bidi_overrides_render_as_inert_text() {
    let mut h = harness_allowing_missing_glyphs();

    // TCP: the log row, the lines view and the hex dump.
    open_tab(&mut h, "TCP server");
    set_field(&mut h, "Port", "0");
    click(&mut h, "Listen");
    step_until(&mut h, "the server listens", |h| {
        h.state().tcp_server.listening_on().is_some()
    });
    let addr = h.state().tcp_server.listening_on().expect("listening");
    let mut client = TcpStream::connect(addr).expect("connect");
    client.write_all(HOSTILE).expect("send");
    // The escape shows by name, the URL as plain text, the override as a replacement mark.
    wait_for_row(
        &mut h,
        &[
            "◀ in",
            "ESC[2J",
            "ESC[31mred https://example.invalid/x",
            "?evil",
        ],
    );
    assert_inert(&h, "TCP log row");
    click_row(&mut h, "ESC[2J");
    assert!(
        texts(&h).iter().any(|t| t.contains("|.[2J.[31mred htt|")),
        "the hex dump shows the escape as a dot"
    );
    assert_inert(&h, "TCP hex dump (after clicking the row)");
    click(&mut h, "Lines (readline)");
    wait_for_row(&mut h, &["<ESC>[2J<ESC>[31mred https://example.invalid/x"]);
    assert_inert(&h, "TCP lines view");
    drop(client);

    // UDP, shown in another encoding: UTF-16LE turns byte pairs into characters, so the override
    // and an escape arrive as code units of their own.
    let sender = UdpSocket::bind("127.0.0.1:0").expect("bind");
    open_tab(&mut h, "UDP server");
    set_field(&mut h, "Port", "0");
    click(&mut h, "Bind");
    step_until(&mut h, "the server binds", |h| {
        h.state().udp_server.bound_to().is_some()
    });
    let to = h.state().udp_server.bound_to().expect("bound");
    sender.send_to(HOSTILE, to).expect("send");
    let utf16: Vec<u8> = "\u{1b}[2J\u{202e}evil https://example.invalid"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    sender.send_to(&utf16, to).expect("send");
    wait_for_row(&mut h, &["◀ in", "ESC[2J", "https://example.invalid"]);
    assert_inert(&h, "UDP log rows");
    click(&mut h, "Decode as");
    click(&mut h, "UTF-16LE");
    wait_for_row(&mut h, &["◀ in", "ESC[2J", "?evil https://example.invalid"]);
    assert_inert(&h, "UDP log rows decoded as UTF-16LE");
    click_row(&mut h, "?evil https://example.invalid");
    assert_inert(&h, "UDP row clicked");
}
