//! `tcp-connect --tls` and `tcp-listen --tls` as a user runs them, against OpenSSL's
//! `s_server` and `s_client`, with certificates made by rcgen for each test.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly; that is its job

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use crate::subcommands::{Running, run};
use crate::tls_support::{
    Ca, EXPIRED, VALID, have_openssl, openssl_fingerprint, s_client, s_server, scratch, self_signed,
};

/// Reads standard error until a line contains `text`; returns that line.
fn stderr_until(running: &mut Running, text: &str) -> String {
    for _ in 0..200 {
        let line = running.stderr_line();
        if line.contains(text) {
            return line;
        }
    }
    panic!("no stderr line with {text:?}");
}

#[test]
fn tcp_connect_tls_talks_to_openssl_and_reports_the_handshake() {
    if !have_openssl("tcp_connect_tls_talks_to_openssl_and_reports_the_handshake") {
        return;
    }
    let dir = scratch("connect");
    let ca = Ca::new(&dir, "CLI Test CA");
    let leaf = ca.issue(&dir, "server", &["localhost", "127.0.0.1"], VALID);
    let (mut server, addr) = s_server(&leaf.cert, &leaf.key, &["-tls1_3"]);
    let port = addr.port().to_string();
    let ca_path = ca.cert.display().to_string();
    let mut client = Running::start(&[
        "tcp-connect",
        "127.0.0.1",
        &port,
        "--tls",
        "--ca",
        &ca_path,
        "--alpn",
        "h2,http/1.1",
        "--send",
        "hello over TLS\n",
        "--wait",
        "3",
    ]);
    let established = stderr_until(&mut client, "TLS established");
    assert!(established.contains("TLSv1.3"), "{established}");
    assert!(established.contains("verified"), "{established}");
    server.expect("hello over TLS");
    server.type_line("answer from openssl");
    let done = client.finish();
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert!(
        done.stdout_text().contains("answer from openssl"),
        "{}",
        done.stdout_text()
    );
    for part in [
        "TLS handshake begins: server name not sent (an IP address), ALPN offered: h2, http/1.1",
        "TLS: TLSv1.3, cipher suite TLS13_",
        "subject:  CN=localhost",
        "issuer:   CN=CLI Test CA",
        "names:    localhost, 127.0.0.1",
        "SHA-256:  ",
        "TLS: the certificate is verified",
        "ALPN: none agreed",
        "TLS close_notify sent",
        "on the wire (TLS records): received",
    ] {
        assert!(
            done.stderr.contains(part),
            "{part:?} missing from:\n{}",
            done.stderr
        );
    }
}

#[test]
fn tcp_connect_tls_refuses_a_self_signed_server_unless_insecure() {
    if !have_openssl("tcp_connect_tls_refuses_a_self_signed_server_unless_insecure") {
        return;
    }
    let dir = scratch("self-signed");
    let own = self_signed(&dir, "device", &["127.0.0.1"]);
    let unrelated = Ca::new(&dir, "Unrelated CA");
    let ca_path = unrelated.cert.display().to_string();

    let (_server, addr) = s_server(&own.cert, &own.key, &["-tls1_2"]);
    let port = addr.port().to_string();
    let done = run(&["tcp-connect", "127.0.0.1", &port, "--tls", "--ca", &ca_path]);
    assert_eq!(done.code, Some(1), "{}", done.stderr);
    assert!(
        done.stderr.contains("presented a self-signed certificate"),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr.contains("TLS: the certificate is rejected"),
        "{}",
        done.stderr
    );

    let (mut server, addr) = s_server(&own.cert, &own.key, &["-tls1_2"]);
    let port = addr.port().to_string();
    let done = run(&[
        "tcp-connect",
        "127.0.0.1",
        &port,
        "--tls",
        "--insecure",
        "--send",
        "anyway\n",
        "--wait",
        "1",
    ]);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert!(done.stderr.contains("NOT VERIFIED"), "{}", done.stderr);
    assert!(
        done.stderr.contains("TLS established (TLSv1.2)"),
        "{}",
        done.stderr
    );
    server.expect("anyway");
}

#[test]
fn tcp_connect_tls_to_an_expired_certificate_exits_1() {
    if !have_openssl("tcp_connect_tls_to_an_expired_certificate_exits_1") {
        return;
    }
    let dir = scratch("expired");
    let ca = Ca::new(&dir, "CA");
    let old = ca.issue(&dir, "old", &["127.0.0.1"], EXPIRED);
    let (_server, addr) = s_server(&old.cert, &old.key, &[]);
    let port = addr.port().to_string();
    let ca_path = ca.cert.display().to_string();
    let done = run(&["tcp-connect", "127.0.0.1", &port, "--tls", "--ca", &ca_path]);
    assert_eq!(done.code, Some(1), "{}", done.stderr);
    assert!(
        done.stderr.contains("expired on 2021-01-01"),
        "{}",
        done.stderr
    );
}

#[test]
fn tcp_connect_tls_to_a_plain_server_says_it_does_not_speak_tls() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let plain = std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let mut hello = [0; 512];
            let _ = stream.read(&mut hello);
            let _ = stream.write_all(b"220 mail.example ESMTP ready\r\n");
            let _ = stream.read(&mut hello);
        }
    });
    let done = run(&["tcp-connect", "127.0.0.1", &port, "--tls", "--timeout", "8"]);
    assert_eq!(done.code, Some(1), "{}", done.stderr);
    assert!(
        done.stderr.contains(
            "does not speak TLS: instead of a TLS handshake it sent \"220 mail.example ESMTP ready"
        ),
        "{}",
        done.stderr
    );
    plain.join().unwrap();
}

#[test]
fn tls_file_problems_are_bad_input_naming_the_file() {
    let dir = scratch("bad-files");
    let missing = dir.join("nowhere.pem").display().to_string();
    let text = dir.join("text.pem");
    std::fs::write(&text, "not a certificate\n").unwrap();
    let text = text.display().to_string();
    for (args, says) in [
        (
            vec!["tcp-connect", "127.0.0.1", "1", "--tls", "--ca", &missing],
            "The CA file",
        ),
        (
            vec!["tcp-connect", "127.0.0.1", "1", "--tls", "--ca", &text],
            "holds no certificate",
        ),
        (
            vec![
                "tcp-listen",
                "0",
                "--tls",
                "--cert",
                &missing,
                "--key",
                &missing,
            ],
            "The certificate file",
        ),
        (
            vec![
                "tcp-listen",
                "0",
                "--tls",
                "--self-signed",
                "--client-ca",
                &text,
            ],
            "The client CA file",
        ),
        (vec!["tcp-listen", "0", "--tls"], "--self-signed"),
        (
            vec![
                "tcp-connect",
                "127.0.0.1",
                "1",
                "--tls",
                "--sni",
                "not a name",
            ],
            "cannot be a TLS server name",
        ),
        (
            vec!["tcp-connect", "127.0.0.1", "1", "--tls", "--alpn", "h2,,x"],
            "--alpn",
        ),
    ] {
        let done = run(&args);
        assert_eq!(done.code, Some(2), "{args:?}: {}", done.stderr);
        assert!(
            done.stderr.contains(says),
            "{args:?}: {says:?} not in {}",
            done.stderr
        );
        assert!(!done.stderr.contains("panicked"), "{}", done.stderr);
    }
    // A path is named in the sentence.
    let done = run(&["tcp-connect", "127.0.0.1", "1", "--tls", "--ca", &missing]);
    assert!(done.stderr.contains(&missing), "{}", done.stderr);
    assert!(done.stderr.contains("it does not exist"), "{}", done.stderr);
}

#[test]
fn tcp_listen_self_signed_prints_the_fingerprint_openssl_sees() {
    if !have_openssl("tcp_listen_self_signed_prints_the_fingerprint_openssl_sees") {
        return;
    }
    let dir = scratch("listen");
    let saved = dir.join("server.pem");
    let saved_arg = saved.display().to_string();
    let mut server = Running::start(&[
        "tcp-listen",
        "0",
        "--tls",
        "--self-signed",
        "--save-cert",
        &saved_arg,
        "--once",
    ]);
    let addr = server.listening();
    let fingerprint = stderr_until(&mut server, "SHA-256:")
        .split_once("SHA-256:")
        .map(|(_, fp)| fp.trim().to_owned())
        .unwrap();
    stderr_until(&mut server, "saved the certificate");
    assert_eq!(openssl_fingerprint(&saved), fingerprint);

    let mut client = s_client(
        addr,
        &[
            "-CAfile",
            &saved_arg,
            "-servername",
            "localhost",
            "-verify_return_error",
            "-tls1_2",
        ],
    );
    client.expect("Verify return code: 0 (ok)");
    stderr_until(&mut server, "TLS established (TLSv1.2)");
    client.type_line("from s_client");
    client.close_stdin();
    let done = server.finish();
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert!(
        done.stdout_text().contains("from s_client"),
        "{}",
        done.stdout_text()
    );
}

#[test]
fn tcp_listen_tls_raw_output_writes_exactly_the_decrypted_bytes() {
    if !have_openssl("tcp_listen_tls_raw_output_writes_exactly_the_decrypted_bytes") {
        return;
    }
    let dir = scratch("listen-raw");
    let saved = dir.join("server.pem");
    let saved_arg = saved.display().to_string();
    // Raw output over TLS takes the readers' own path to standard output (issue 18): the
    // decrypted bytes, nothing of the records around them.
    let mut server = Running::start(&[
        "tcp-listen",
        "0",
        "--tls",
        "--self-signed",
        "--save-cert",
        &saved_arg,
        "--once",
        "--output",
        "raw",
    ]);
    let addr = server.listening();
    stderr_until(&mut server, "saved the certificate");
    let mut client = s_client(addr, &["-CAfile", &saved_arg, "-servername", "localhost"]);
    client.expect("Verify return code: 0 (ok)");
    stderr_until(&mut server, "TLS established");
    client.type_line("first line");
    client.type_line("second line");
    client.close_stdin();
    let done = server.finish();
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert_eq!(
        done.stdout_text(),
        "first line\nsecond line\n",
        "{}",
        done.stderr
    );
    assert!(
        done.stderr.contains("received 23 bytes"),
        "the counters hold every decrypted byte: {}",
        done.stderr
    );
}
