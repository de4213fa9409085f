//! TLS in the TCP tabs of a headless window, on loopback with certificates made for the test:
//! a TLS server with a generated certificate and a client that accepts any (the red badge, the
//! transcript's warning, the certificate card with the server's fingerprint, the handshake in the
//! sequence diagram); a client that verifies against a CA file (the green badge); a plain server
//! answered with TLS; and the sentences for bad TLS fields.

use std::io::{Read, Write};
use std::net::TcpListener;

use egui_kittest::kittest::Queryable as _;

use crate::gui_support::{
    click, harness, harness_allowing_missing_glyphs, is_disabled, open_tab, open_tools, set_field,
    shows, step_until, tcp_client, tcp_server, type_and_enter, wait_for_row, wait_for_text,
};
use crate::tls_support::{Ca, VALID, scratch};
use socketlab::gui::widgets::sequence::ArrowKind;

/// Opens the drawer's TLS section unless it is open already (it opens by itself when TLS was
/// on before the drawer was first shown).
fn open_tls_section(h: &mut egui_kittest::Harness<'_, socketlab::gui::SocketLabApp>, probe: &str) {
    open_tools(h);
    if h.query_by_label(probe).is_none() {
        click(h, "TLS certificates");
    }
}

fn tls_labels(h: &egui_kittest::Harness<'_, socketlab::gui::SocketLabApp>) -> Vec<String> {
    let tab = tcp_client(h);
    let Some(sequence) = tab.activity.sequence.as_ref() else {
        return Vec::new();
    };
    let Some(conn) = sequence.newest() else {
        return Vec::new();
    };
    sequence
        .arrows(conn)
        .filter(|a| a.kind == ArrowKind::Tls)
        .map(|a| a.label.clone())
        .collect()
}

#[test]
fn a_self_signed_server_and_a_client_that_accepts_any_certificate() {
    let mut h = harness();
    open_tab(&mut h, "TCP server");
    set_field(&mut h, "Port", "0");
    click(&mut h, "TLS");
    click(&mut h, "Listen");
    step_until(&mut h, "the server listens", |h| {
        tcp_server(h).role.tls.own.is_some()
    });
    let addr = tcp_server(&h).role.listening.expect("listening");
    let fingerprint = tcp_server(&h)
        .role
        .tls
        .own
        .as_ref()
        .map(|(c, _)| c.sha256.clone())
        .expect("the generated certificate");
    open_tls_section(&mut h, "Copy fingerprint");
    wait_for_text(&mut h, &fingerprint);
    wait_for_text(&mut h, "(self-signed: nobody else vouches for it)");

    open_tab(&mut h, "TCP client");
    set_field(&mut h, "Port", &addr.port().to_string());
    click(&mut h, "TLS");
    open_tls_section(&mut h, "Accept any certificate");
    click(&mut h, "Accept any certificate");
    wait_for_text(&mut h, "The server will NOT be verified");
    click(&mut h, "Connect");
    wait_for_row(&mut h, &["TLS established: TLSv1.3", "NOT VERIFIED"]);
    wait_for_text(&mut h, "not verified");
    wait_for_text(
        &mut h,
        "accepting ANY certificate: the server will NOT be verified",
    );
    // The card shows the certificate the server made, by the same fingerprint.
    wait_for_text(&mut h, &fingerprint);
    assert!(
        shows(&h, "CN=") || shows(&h, "localhost"),
        "the card names the subject"
    );

    wait_for_text(&mut h, "on the wire (TLS records): received");
    type_and_enter(&mut h, "Message", "hello over tls");
    open_tab(&mut h, "TCP server");
    wait_for_row(&mut h, &["◀ in", "hello over tls"]);
    wait_for_row(&mut h, &["Client 1:", "TLS established"]);

    open_tab(&mut h, "TCP client");
    let labels = tls_labels(&h);
    assert!(
        labels.iter().any(|l| l.starts_with("TLS ClientHello")),
        "{labels:?}"
    );
    assert!(
        labels
            .iter()
            .any(|l| l.starts_with("TLS ServerHello: TLSv1.3")),
        "{labels:?}"
    );
    assert!(
        labels.iter().any(|l| l.contains("(NOT VERIFIED)")),
        "{labels:?}"
    );
    assert!(
        labels.iter().any(|l| l.starts_with("TLS Finished")),
        "{labels:?}"
    );
    click(&mut h, "Close");
    step_until(&mut h, "the client closes", |h| !tcp_client(h).is_running());
    assert!(
        tls_labels(&h).iter().any(|l| l == "TLS close_notify"),
        "{:?}",
        tls_labels(&h)
    );
}

#[test]
fn a_client_that_verifies_against_a_ca_file_gets_the_green_badge() {
    let dir = scratch("gui-verified");
    let ca = Ca::new(&dir, "Socket Lab GUI Test CA");
    let leaf = ca.issue(&dir, "server", &["localhost"], VALID);
    let mut h = harness();
    open_tab(&mut h, "TCP server");
    set_field(&mut h, "Port", "0");
    click(&mut h, "TLS");
    open_tls_section(&mut h, "Certificate and key files");
    click(&mut h, "Certificate and key files");
    set_field(&mut h, "Certificate file", &leaf.cert.display().to_string());
    set_field(&mut h, "Key file", &leaf.key.display().to_string());
    click(&mut h, "Listen");
    step_until(&mut h, "the server listens", |h| {
        tcp_server(h).role.tls.own.is_some()
    });
    let port = tcp_server(&h).role.listening.expect("listening").port();

    open_tab(&mut h, "TCP client");
    set_field(&mut h, "Host", "localhost");
    set_field(&mut h, "Port", &port.to_string());
    click(&mut h, "TLS");
    open_tls_section(&mut h, "CA file");
    set_field(&mut h, "CA file", &ca.cert.display().to_string());
    click(&mut h, "Connect");
    wait_for_row(&mut h, &["TLS established", "the certificate is verified"]);
    wait_for_text(&mut h, "verified (TLSv1.3)");
    assert!(
        !shows(&h, "not verified"),
        "no red badge for a verified server"
    );
    wait_for_text(&mut h, "CN=Socket Lab GUI Test CA");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_plain_server_answered_with_tls_gets_its_sentence() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut hello = [0_u8; 512];
            let _ = stream.read(&mut hello);
            let _ = stream.write_all(b"HTTP/1.0 400 Bad Request\r\n\r\n");
        }
    });
    // The sentence quotes the server's bytes with control pictures (␍ ␊), which the test
    // harness's fonts lack; the window finds them in the system's fonts.
    let mut h = harness_allowing_missing_glyphs();
    open_tab(&mut h, "TCP client");
    set_field(&mut h, "Port", &port.to_string());
    click(&mut h, "TLS");
    click(&mut h, "Connect");
    wait_for_text(
        &mut h,
        "does not speak TLS: instead of a TLS handshake it sent",
    );
    let _ = server.join();
}

#[test]
fn bad_tls_fields_get_a_sentence_and_block_the_start() {
    let mut h = harness();
    open_tab(&mut h, "TCP client");
    click(&mut h, "TLS");
    open_tls_section(&mut h, "CA file");
    set_field(&mut h, "CA file", "/nonexistent/ca.pem");
    wait_for_text(&mut h, "CA file: there is no file /nonexistent/ca.pem");
    assert!(is_disabled(&h, "Connect"));
    set_field(&mut h, "CA file", "");
    set_field(&mut h, "Server name (SNI)", "bad name!");
    wait_for_text(&mut h, "cannot be a TLS server name");
    set_field(&mut h, "Server name (SNI)", "");
    assert!(!is_disabled(&h, "Connect"));

    open_tab(&mut h, "TCP server");
    click(&mut h, "TLS");
    open_tls_section(&mut h, "Certificate and key files");
    click(&mut h, "Certificate and key files");
    wait_for_text(&mut h, "give the certificate file and the key file");
    assert!(is_disabled(&h, "Listen"));
    set_field(&mut h, "Certificate file", "/nonexistent/server.pem");
    wait_for_text(
        &mut h,
        "Certificate file: there is no file /nonexistent/server.pem",
    );
}
