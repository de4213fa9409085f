//! TLS against OpenSSL (`s_server`, `s_client`), in both directions, TLS 1.2 and 1.3, and every
//! failure kind, with certificates made by rcgen for each test. All on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly; that is its job

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use socketlab::engine::{
    self, CloseReason, Event, EventKind, ServerIdentity, StopReason, TcpClient, TcpClientCommand,
    TcpClientConfig, TcpServerCommand, TcpServerConfig, TlsClientSettings, TlsFailureKind,
    TlsServerSettings, TlsStep, Verification, noop_waker,
};

use crate::common::{TIMEOUT, bound_addr, bytes, collect_until, wait};
use crate::tls_support::{
    Ca, EXPIRED, NOT_YET_VALID, VALID, have_openssl, openssl_fingerprint, s_client, s_server,
    scratch, self_signed,
};

fn step(event: &Event) -> Option<&TlsStep> {
    match &event.kind {
        EventKind::Tls(tls) => Some(&tls.step),
        _ => None,
    }
}

fn is_established(event: &Event) -> bool {
    matches!(step(event), Some(TlsStep::Established { .. }))
}

fn is_stopped(event: &Event) -> bool {
    matches!(event.kind, EventKind::Stopped { .. })
}

fn tls_client(port: u16, settings: TlsClientSettings) -> TcpClient {
    let config = TcpClientConfig {
        tls: Some(settings),
        ..TcpClientConfig::new("127.0.0.1", port)
    };
    engine::tcp_client::start(config, noop_waker())
}

fn trusting(ca: &std::path::Path) -> TlsClientSettings {
    TlsClientSettings {
        ca_file: Some(ca.to_path_buf()),
        ..TlsClientSettings::default()
    }
}

/// Waits until the client has received `text` over its connection.
fn receive_text(client: &TcpClient, text: &str) {
    let mut got = Vec::new();
    wait(client, text, |e| {
        if let EventKind::Received { data, .. } = &e.kind {
            got.extend_from_slice(data);
        }
        String::from_utf8_lossy(&got).contains(text)
    });
}

/// The TLS failure a client session ended with.
fn failure_of(events: &[Event]) -> (TlsFailureKind, String) {
    for event in events {
        if let EventKind::Stopped {
            reason: StopReason::ConnectionEnded(CloseReason::Failed(e)) | StopReason::Failed(e),
        } = &event.kind
            && let engine::EngineError::Tls(failure) = e
        {
            return (failure.kind.clone(), e.plain_sentence());
        }
    }
    panic!("the session did not end with a TLS failure: {events:#?}");
}

#[test]
fn client_talks_to_openssl_s_server_over_tls_1_2_and_1_3() {
    if !have_openssl("client_talks_to_openssl_s_server_over_tls_1_2_and_1_3") {
        return;
    }
    for (flag, version) in [("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")] {
        let dir = scratch(&format!("client{flag}"));
        let ca = Ca::new(&dir, "Test CA");
        let leaf = ca.issue(&dir, "server", &["localhost", "127.0.0.1"], VALID);
        let (mut server, addr) = s_server(&leaf.cert, &leaf.key, &[flag]);
        let client = tls_client(addr.port(), trusting(&ca.cert));

        let events = collect_until(&client, "TLS established", is_established);
        let steps: Vec<&TlsStep> = events.iter().filter_map(step).collect();
        assert!(
            matches!(steps[0], TlsStep::HandshakeStarted { .. }),
            "{steps:#?}"
        );
        assert!(
            steps.iter().any(|s| matches!(s, TlsStep::Negotiated { version: v, cipher_suite, .. } if v == version && !cipher_suite.is_empty())),
            "{steps:#?}"
        );
        let chain = steps
            .iter()
            .find_map(|s| match s {
                TlsStep::PeerCertificates {
                    chain,
                    verification: Verification::Verified,
                } => Some(chain),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no verified chain: {steps:#?}"));
        assert_eq!(chain[0].names, ["localhost", "127.0.0.1"]);
        assert!(chain[0].issuer.contains("Test CA"), "{:?}", chain[0]);
        assert_eq!(chain[0].sha256.len(), 95);
        let Some(TlsStep::Established {
            version: v,
            verification,
            ..
        }) = steps.last()
        else {
            unreachable!()
        };
        assert_eq!(
            (v.as_str(), *verification),
            (version, Verification::Verified)
        );

        client
            .send(TcpClientCommand::Send(bytes(b"hello from socketlab\n")))
            .unwrap();
        // The client counts a send once the call has returned, which can be after openssl has
        // the bytes and has answered: wait for its report before reading the counters.
        wait(&client, "the send reported", |e| {
            matches!(e.kind, EventKind::Sent { .. })
        });
        server.expect("hello from socketlab");
        server.type_line("hello from openssl");
        receive_text(&client, "hello from openssl\n");

        let counters = client.counters();
        assert!(counters.tls);
        assert_eq!(counters.bytes_out, 21);
        assert_eq!(counters.bytes_in, 19);
        // The records carry the handshake and per-record overhead besides the data.
        assert!(
            counters.wire_bytes_out > counters.bytes_out + 100,
            "{counters:?}"
        );
        assert!(
            counters.wire_bytes_in > counters.bytes_in + 500,
            "{counters:?}"
        );

        client.send(TcpClientCommand::Close).unwrap();
        let end = collect_until(&client, "stopped", is_stopped);
        assert!(
            end.iter()
                .any(|e| matches!(step(e), Some(TlsStep::CloseNotifySent))),
            "{end:#?}"
        );
    }
}

#[test]
fn server_talks_to_openssl_s_client_over_tls_1_2_and_1_3() {
    if !have_openssl("server_talks_to_openssl_s_client_over_tls_1_2_and_1_3") {
        return;
    }
    for (flag, version) in [("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")] {
        let dir = scratch(&format!("server{flag}"));
        let ca = Ca::new(&dir, "Server CA");
        let leaf = ca.issue(&dir, "server", &["localhost"], VALID);
        let server = engine::tcp_server::start(
            TcpServerConfig {
                tls: Some(Box::new(TlsServerSettings {
                    identity: ServerIdentity::Files {
                        cert: leaf.cert.clone(),
                        key: leaf.key.clone(),
                    },
                    ..TlsServerSettings::self_signed()
                })),
                close_when_client_finishes: false,
                ..TcpServerConfig::default()
            },
            noop_waker(),
        );
        let addr = bound_addr(&server);
        let ca_path = ca.cert.display().to_string();
        let mut client = s_client(
            addr,
            &[
                "-CAfile",
                &ca_path,
                "-servername",
                "localhost",
                "-verify_return_error",
                flag,
            ],
        );
        client.expect("Verify return code: 0 (ok)");
        let events = collect_until(&server, "TLS established", is_established);
        let (conn, established) = events
            .iter()
            .find_map(|e| match &e.kind {
                EventKind::Tls(t) => match &t.step {
                    TlsStep::Established { .. } => Some((t.conn, t.step.clone())),
                    _ => None,
                },
                _ => None,
            })
            .unwrap();
        let TlsStep::Established {
            version: v,
            server_name,
            verification,
            ..
        } = established
        else {
            unreachable!()
        };
        assert_eq!(v, version);
        assert_eq!(server_name.as_deref(), Some("localhost"));
        assert_eq!(verification, Verification::NotAsked);

        client.type_line("ping from openssl");
        let mut got = Vec::new();
        wait(&server, "ping", |e| {
            if let EventKind::Received { data, .. } = &e.kind {
                got.extend_from_slice(data);
            }
            String::from_utf8_lossy(&got).contains("ping from openssl")
        });
        server
            .send(TcpServerCommand::SendTo(
                conn.unwrap(),
                bytes(b"pong from socketlab\n"),
            ))
            .unwrap();
        client.expect("pong from socketlab");
    }
}

#[test]
fn a_generated_certificate_is_trusted_by_openssl_and_its_fingerprint_matches() {
    if !have_openssl("a_generated_certificate_is_trusted_by_openssl_and_its_fingerprint_matches") {
        return;
    }
    let dir = scratch("generated");
    let server = engine::tcp_server::start(
        TcpServerConfig {
            tls: Some(Box::new(TlsServerSettings::self_signed())),
            ..TcpServerConfig::default()
        },
        noop_waker(),
    );
    let addr = bound_addr(&server);
    let certificate = wait(&server, "server certificate", |e| {
        matches!(step(e), Some(TlsStep::ServerCertificate { .. }))
    });
    let Some(TlsStep::ServerCertificate {
        cert,
        generated_pem: Some(pem),
        ..
    }) = step(&certificate)
    else {
        panic!("{certificate:?}")
    };
    assert_eq!(cert.names, ["localhost", "127.0.0.1", "::1"]);
    let pem_path = dir.join("generated.pem");
    std::fs::write(&pem_path, pem).unwrap();
    assert_eq!(openssl_fingerprint(&pem_path), cert.sha256);

    let pem_arg = pem_path.display().to_string();
    let mut client = s_client(
        addr,
        &[
            "-CAfile",
            &pem_arg,
            "-servername",
            "localhost",
            "-verify_return_error",
        ],
    );
    client.expect("Verify return code: 0 (ok)");
    collect_until(&server, "TLS established", is_established);
}

/// Connects a verifying client to an `s_server` that presents `leaf`, trusting `ca`; returns the
/// failure and its sentence.
fn handshake_failure(
    leaf: &crate::tls_support::Leaf,
    settings: TlsClientSettings,
) -> (TlsFailureKind, String, Vec<Event>) {
    let (_server, addr) = s_server(&leaf.cert, &leaf.key, &[]);
    let client = tls_client(addr.port(), settings);
    let events = collect_until(&client, "stopped", is_stopped);
    let (kind, sentence) = failure_of(&events);
    (kind, sentence, events)
}

fn rejected_chain_shown(events: &[Event]) -> bool {
    events.iter().any(|e| {
        matches!(
            step(e),
            Some(TlsStep::PeerCertificates {
                verification: Verification::Rejected,
                ..
            })
        )
    })
}

#[test]
fn certificate_failures_each_get_their_own_sentence() {
    if !have_openssl("certificate_failures_each_get_their_own_sentence") {
        return;
    }
    let dir = scratch("failures");
    let ca = Ca::new(&dir, "Trusted CA");

    let expired = ca.issue(&dir, "expired", &["127.0.0.1"], EXPIRED);
    let (kind, sentence, events) = handshake_failure(&expired, trusting(&ca.cert));
    assert!(matches!(kind, TlsFailureKind::Expired { .. }), "{kind:?}");
    assert!(sentence.contains("expired on 2021-01-01"), "{sentence}");
    assert!(rejected_chain_shown(&events));

    let early = ca.issue(&dir, "early", &["127.0.0.1"], NOT_YET_VALID);
    let (kind, sentence, _) = handshake_failure(&early, trusting(&ca.cert));
    assert!(
        matches!(kind, TlsFailureKind::NotYetValid { .. }),
        "{kind:?}"
    );
    assert!(
        sentence.contains("not valid until 2090-01-01"),
        "{sentence}"
    );

    let other_name = ca.issue(&dir, "other", &["other.example"], VALID);
    let (kind, sentence, _) = handshake_failure(&other_name, trusting(&ca.cert));
    assert_eq!(
        kind,
        TlsFailureKind::NameMismatch {
            expected: "127.0.0.1".to_owned(),
            presented: vec!["other.example".to_owned()],
        }
    );
    assert!(
        sentence.contains("is for other.example, not for 127.0.0.1"),
        "{sentence}"
    );

    let stranger = Ca::new(&dir, "Stranger CA");
    let foreign = stranger.issue(&dir, "foreign", &["127.0.0.1"], VALID);
    let (kind, sentence, _) = handshake_failure(&foreign, trusting(&ca.cert));
    assert!(
        matches!(&kind, TlsFailureKind::UnknownIssuer { issuer, .. } if issuer.contains("Stranger CA")),
        "{kind:?}"
    );
    assert!(sentence.contains("does not trust"), "{sentence}");

    let own = self_signed(&dir, "own", &["127.0.0.1"]);
    let (kind, sentence, _) = handshake_failure(&own, trusting(&ca.cert));
    assert!(
        matches!(&kind, TlsFailureKind::SelfSigned { sha256, .. } if sha256.len() == 95),
        "{kind:?}"
    );
    assert!(sentence.contains("self-signed"), "{sentence}");
}

#[test]
fn accept_any_certificate_connects_to_a_self_signed_server_and_says_not_verified() {
    if !have_openssl(
        "accept_any_certificate_connects_to_a_self_signed_server_and_says_not_verified",
    ) {
        return;
    }
    let dir = scratch("insecure");
    let own = self_signed(&dir, "own", &["device.local"]);
    let (mut server, addr) = s_server(&own.cert, &own.key, &[]);
    let client = tls_client(
        addr.port(),
        TlsClientSettings {
            accept_any_certificate: true,
            ..TlsClientSettings::default()
        },
    );
    let events = collect_until(&client, "TLS established", is_established);
    let verifications: Vec<Verification> = events
        .iter()
        .filter_map(|e| match step(e) {
            Some(
                TlsStep::PeerCertificates { verification, .. }
                | TlsStep::Established { verification, .. },
            ) => Some(*verification),
            _ => None,
        })
        .collect();
    assert_eq!(
        verifications,
        [Verification::NotVerified, Verification::NotVerified]
    );
    client
        .send(TcpClientCommand::Send(bytes(b"unverified but encrypted\n")))
        .unwrap();
    server.expect("unverified but encrypted");
}

/// A plain TCP server on a thread: answers every connection with `answer` (or nothing).
fn plain_server(answer: &'static [u8]) -> (SocketAddr, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let _ = stream.set_read_timeout(Some(TIMEOUT));
            let mut hello = [0; 512];
            let _ = stream.read(&mut hello);
            let _ = stream.write_all(answer);
            // Stay until the client gives up.
            let _ = stream.read(&mut hello);
        }
    });
    (addr, handle)
}

#[test]
fn a_plain_server_is_named_as_not_speaking_tls_within_the_timeout() {
    let (addr, handle) = plain_server(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    let started = Instant::now();
    let client = tls_client(
        addr.port(),
        TlsClientSettings {
            handshake_timeout: Duration::from_secs(8),
            ..TlsClientSettings::default()
        },
    );
    let events = collect_until(&client, "stopped", is_stopped);
    let (kind, sentence) = failure_of(&events);
    assert!(
        matches!(&kind, TlsFailureKind::NotTls { first_bytes, echoed: false } if first_bytes.starts_with(b"HTTP/1.1 400")),
        "{kind:?}"
    );
    assert!(sentence.contains("does not speak TLS"), "{sentence}");
    assert!(sentence.contains("HTTP/1.1 400 Bad Request"), "{sentence}");
    // It is recognised from the answer, not by waiting for the handshake timeout.
    assert!(started.elapsed() < Duration::from_secs(8));
    drop(client);
    handle.join().unwrap();
}

#[test]
fn a_silent_server_ends_in_a_handshake_timeout() {
    // Connections complete in the kernel; nobody ever accepts or answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = tls_client(
        silent.local_addr().unwrap().port(),
        TlsClientSettings {
            handshake_timeout: Duration::from_millis(500),
            ..TlsClientSettings::default()
        },
    );
    let events = collect_until(&client, "stopped", is_stopped);
    let (kind, sentence) = failure_of(&events);
    assert_eq!(kind, TlsFailureKind::HandshakeTimeout { timeout_ms: 500 });
    assert!(
        sentence.contains("did not finish within 0.5 s"),
        "{sentence}"
    );
}

#[test]
fn stop_during_a_handshake_does_not_wait_for_its_timeout() {
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = tls_client(
        silent.local_addr().unwrap().port(),
        TlsClientSettings {
            handshake_timeout: Duration::from_mins(1),
            ..TlsClientSettings::default()
        },
    );
    wait(&client, "handshake started", |e| {
        matches!(step(e), Some(TlsStep::HandshakeStarted { .. }))
    });
    let started = Instant::now();
    client.stop();
    let events = collect_until(&client, "stopped", is_stopped);
    assert!(
        matches!(
            events.last().map(|e| &e.kind),
            Some(EventKind::Stopped {
                reason: StopReason::Requested
            })
        ),
        "{events:#?}"
    );
    // Far below the 60 s handshake timeout: the stop cut the handshake short.
    assert!(started.elapsed() < TIMEOUT);
}

#[test]
fn an_echo_server_is_recognised_by_our_own_hello_coming_back() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let echo = std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let _ = stream.set_read_timeout(Some(TIMEOUT));
            let mut buf = [0; 4096];
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 || stream.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    });
    let client = tls_client(addr.port(), TlsClientSettings::default());
    let events = collect_until(&client, "stopped", is_stopped);
    let (kind, sentence) = failure_of(&events);
    assert!(
        matches!(kind, TlsFailureKind::NotTls { echoed: true, .. }),
        "{kind:?}"
    );
    assert!(sentence.contains("echo server"), "{sentence}");
    drop(client);
    echo.join().unwrap();
}

#[test]
fn a_peer_that_vanishes_without_close_notify_is_reported_as_truncation() {
    if !have_openssl("a_peer_that_vanishes_without_close_notify_is_reported_as_truncation") {
        return;
    }
    let dir = scratch("truncation");
    let ca = Ca::new(&dir, "CA");
    let leaf = ca.issue(&dir, "server", &["127.0.0.1"], VALID);

    // Killed: the TCP connection ends, the TLS stream does not.
    let (mut server, addr) = s_server(&leaf.cert, &leaf.key, &[]);
    let client = tls_client(addr.port(), trusting(&ca.cert));
    collect_until(&client, "TLS established", is_established);
    // Once s_server has read everything (our Finished included), a kill ends the connection
    // with FIN; with unread bytes the system would send a reset instead.
    client
        .send(TcpClientCommand::Send(bytes(b"last words\n")))
        .unwrap();
    server.expect("last words");
    server.kill();
    let cut = collect_until(&client, "peer finished", |e| {
        matches!(e.kind, EventKind::PeerFinished { .. })
    });
    let truncated = cut.iter().find_map(|e| match &e.kind {
        EventKind::Error(engine::EngineError::Tls(f)) => Some(f.clone()),
        _ => None,
    });
    let truncated = truncated.unwrap_or_else(|| panic!("no truncation reported: {cut:#?}"));
    assert_eq!(truncated.kind, TlsFailureKind::Truncated);
    assert!(
        truncated
            .plain_sentence()
            .contains("without a TLS close_notify"),
        "{}",
        truncated.plain_sentence()
    );
}

#[test]
fn a_server_that_requires_client_certificates_checks_them() {
    if !have_openssl("a_server_that_requires_client_certificates_checks_them") {
        return;
    }
    let dir = scratch("client-certs");
    let clients = Ca::new(&dir, "Client CA");
    let alice = clients.issue(&dir, "alice", &["alice.example"], VALID);
    let server = engine::tcp_server::start(
        TcpServerConfig {
            tls: Some(Box::new(TlsServerSettings {
                client_ca: Some(clients.cert.clone()),
                ..TlsServerSettings::self_signed()
            })),
            ..TcpServerConfig::default()
        },
        noop_waker(),
    );
    let addr = bound_addr(&server);

    // Without a certificate the handshake fails on the server, with its reason.
    let mut anonymous = s_client(addr, &["-servername", "localhost"]);
    anonymous.close_stdin();
    let refused = collect_until(&server, "client refused", |e| {
        matches!(e.kind, EventKind::Disconnected { .. })
    });
    let reason = refused.iter().find_map(|e| match &e.kind {
        EventKind::Disconnected {
            reason: CloseReason::Failed(engine::EngineError::Tls(f)),
            ..
        } => Some(f.kind.clone()),
        _ => None,
    });
    assert_eq!(
        reason,
        Some(TlsFailureKind::NoClientCertificate),
        "{refused:#?}"
    );
    drop(anonymous);

    // With one signed by the client CA it is verified and shown.
    let cert = alice.cert.display().to_string();
    let key = alice.key.display().to_string();
    let _alice = s_client(
        addr,
        &["-servername", "localhost", "-cert", &cert, "-key", &key],
    );
    let events = collect_until(&server, "TLS established", is_established);
    let chain = events
        .iter()
        .find_map(|e| match step(e) {
            Some(TlsStep::PeerCertificates {
                chain,
                verification: Verification::Verified,
            }) => Some(chain.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no verified client certificate: {events:#?}"));
    assert!(chain[0].subject.contains("alice.example"), "{chain:?}");
}

#[test]
fn unusable_files_are_refused_with_the_file_named() {
    let dir = scratch("files");
    let missing = dir.join("missing.pem");
    let not_pem = dir.join("not.pem");
    std::fs::write(&not_pem, "just some text\n").unwrap();
    for (settings, says) in [
        (
            trusting(&missing),
            "missing.pem cannot be used: it does not exist",
        ),
        (trusting(&not_pem), "holds no certificate"),
        (trusting(&dir), "it is a folder"),
    ] {
        let error = settings.check("127.0.0.1").unwrap_err();
        assert_eq!(error.class(), engine::ErrorClass::InvalidInput);
        assert!(
            error.plain_sentence().contains(says),
            "{}",
            error.plain_sentence()
        );
    }
    let leaf = self_signed(&dir, "leaf", &["localhost"]);
    let other = self_signed(&dir, "other", &["localhost"]);
    for (identity, says) in [
        (
            ServerIdentity::Files {
                cert: leaf.cert.clone(),
                key: missing.clone(),
            },
            "The private key file",
        ),
        (
            ServerIdentity::Files {
                cert: not_pem.clone(),
                key: leaf.key.clone(),
            },
            "The certificate file",
        ),
        (
            ServerIdentity::Files {
                cert: leaf.cert.clone(),
                key: other.key.clone(),
            },
            "cannot be used with the certificate",
        ),
    ] {
        let settings = TlsServerSettings {
            identity,
            ..TlsServerSettings::self_signed()
        };
        let error = settings.check().unwrap_err();
        assert_eq!(error.class(), engine::ErrorClass::InvalidInput);
        assert!(
            error.plain_sentence().contains(says),
            "{}",
            error.plain_sentence()
        );
    }
    let bad_name = TlsClientSettings {
        server_name: Some("not a name".to_owned()),
        ..TlsClientSettings::default()
    };
    assert!(bad_name.check("127.0.0.1").is_err());
}
