//! Send a file: the engine streams it (TCP in chunks through the connection's writer, UDP split
//! into datagrams of a chosen size), reports throttled progress and one final event, counts every
//! byte exactly, cancels promptly, and names the path and the address when something fails.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly; that is its job

use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::{TIMEOUT, bound_addr, collect_until, connected, wait};
use socketlab::engine::file_send::{PROGRESS_INTERVAL, UDP_FILE_LIMIT};
use socketlab::engine::{
    self, CaptureConfig, EngineError, Event, EventKind, FileSendEvent, FileStage, Session,
    TcpClientCommand, TcpClientConfig, TcpServerCommand, TcpServerConfig, UdpClientConfig,
    UdpCommand, UdpServerConfig, noop_waker,
};

/// 10 MiB and a bit: the last UDP datagram and the last TCP chunk are short.
const TEN_MB: usize = 10 * 1024 * 1024 + 123;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("socketlab-file-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Bytes that differ from position to position (a repeating pattern would hide reordering).
fn pattern(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

fn file_event(e: &Event) -> Option<&FileSendEvent> {
    match &e.kind {
        EventKind::FileSend(f) => Some(f),
        _ => None,
    }
}

/// Collects events until a file send's final event; returns them and that event.
fn until_file_end<C: Send + 'static>(session: &Session<C>) -> (Vec<Event>, FileSendEvent) {
    let events = collect_until(session, "the file send's end", |e| {
        file_event(e).is_some_and(FileSendEvent::is_final)
    });
    let last = file_event(events.last().unwrap()).unwrap().clone();
    (events, last)
}

/// Progress is throttled: successive reports are at least one interval apart, and `sent` grows.
fn assert_progress_throttled(events: &[Event]) {
    let progress: Vec<(&Event, u64)> = events
        .iter()
        .filter_map(|e| match file_event(e) {
            Some(f) if f.stage == FileStage::Progress => Some((e, f.sent)),
            _ => None,
        })
        .collect();
    for pair in progress.windows(2) {
        let gap = pair[1].0.at.duration_since(pair[0].0.at).unwrap();
        assert!(
            gap + Duration::from_millis(5) >= PROGRESS_INTERVAL,
            "{gap:?}"
        );
        assert!(pair[1].1 >= pair[0].1);
    }
}

#[test]
fn tcp_client_sends_10_mb_that_the_servers_capture_holds_byte_for_byte() {
    let dir = scratch("tcp");
    let source = dir.join("source.bin");
    let data = pattern(TEN_MB);
    std::fs::write(&source, &data).unwrap();
    let server = engine::tcp_server::start(
        TcpServerConfig {
            capture: Some(CaptureConfig::new(dir.join("in.bin"))),
            ..TcpServerConfig::default()
        },
        noop_waker(),
    );
    let addr = bound_addr(&server);
    let client =
        engine::tcp_client::start(TcpClientConfig::new("127.0.0.1", addr.port()), noop_waker());
    connected(&client);
    client
        .send(TcpClientCommand::SendFile(source.clone()))
        .unwrap();
    // A message queued behind the file goes out after it, in order.
    client
        .send(TcpClientCommand::Send(crate::common::bytes(b"END")))
        .unwrap();
    let (events, last) = until_file_end(&client);
    assert_eq!(last.stage, FileStage::Finished);
    assert_eq!((last.sent, last.total), (TEN_MB as u64, TEN_MB as u64));
    assert_eq!(last.path, source);
    assert_eq!(last.to, addr);
    assert_eq!(
        last.preview.as_deref().unwrap(),
        &data[..socketlab::engine::file_send::PREVIEW_BYTES]
    );
    assert_progress_throttled(&events);
    // No `Sent` event per chunk: the file is one summary, the bytes are in the counters.
    assert!(
        !events
            .iter()
            .any(|e| matches!(&e.kind, EventKind::Sent { .. }))
    );
    wait(
        &client,
        "END sent",
        |e| matches!(&e.kind, EventKind::Sent { data, .. } if &data[..] == b"END"),
    );
    let counters = client.counters();
    assert_eq!(counters.bytes_out, TEN_MB as u64 + 3);
    assert_eq!(counters.writes, TEN_MB.div_ceil(64 * 1024) as u64 + 1);

    client.send(TcpClientCommand::Close).unwrap();
    wait(&server, "the client's end", |e| {
        matches!(e.kind, EventKind::Disconnected { .. })
    });
    let mut expected = data;
    expected.extend_from_slice(b"END");
    let captured = std::fs::read(dir.join("in-1.bin")).unwrap();
    assert_eq!(captured.len(), expected.len());
    assert!(captured == expected, "the capture differs from the file");
    assert_eq!(server.counters().bytes_in, expected.len() as u64);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn udp_file_is_split_into_datagrams_of_the_chosen_size() {
    let dir = scratch("udp");
    let source = dir.join("source.bin");
    let data = pattern(TEN_MB);
    std::fs::write(&source, &data).unwrap();
    let server = engine::udp::start_server(
        UdpServerConfig {
            capture: Some(CaptureConfig::new(dir.join("in.bin"))),
            ..UdpServerConfig::default()
        },
        noop_waker(),
    );
    let addr = bound_addr(&server);
    let client =
        engine::udp::start_client(UdpClientConfig::new("127.0.0.1", addr.port()), noop_waker());
    bound_addr(&client);
    let size = 8000;
    let expected_count = TEN_MB.div_ceil(size);
    client
        .send(UdpCommand::SendFile {
            path: source.clone(),
            datagram_size: size,
            to: None,
            // UDP has no flow control: a short pause keeps the receiver's buffer from overflowing
            // on a busy machine, so the count below can be exact.
            gap: Duration::from_micros(50),
        })
        .unwrap();

    // Every datagram as the server saw it, in order.
    let mut sizes = Vec::new();
    let deadline = Instant::now() + TIMEOUT * 3;
    while sizes.len() < expected_count {
        let left = deadline
            .checked_duration_since(Instant::now())
            .unwrap_or_else(|| panic!("{} of {expected_count} datagrams", sizes.len()));
        match server.recv_timeout(left).map(|e| e.kind) {
            Some(EventKind::Datagrams(batch)) => sizes.extend(batch.iter().map(|d| d.data.len())),
            Some(EventKind::NotShown { datagrams, .. }) => {
                panic!("{datagrams} datagrams not shown: the test drains too slowly")
            }
            Some(_) => {}
            None => panic!("{} of {expected_count} datagrams", sizes.len()),
        }
    }
    assert_eq!(sizes.len(), expected_count);
    assert!(sizes[..expected_count - 1].iter().all(|&n| n == size));
    assert_eq!(sizes[expected_count - 1], TEN_MB % size);

    let (events, last) = until_file_end(&client);
    assert_eq!(last.stage, FileStage::Finished);
    assert_eq!(last.pieces, expected_count as u64);
    assert_progress_throttled(&events);
    let counters = client.counters();
    assert_eq!(
        (counters.datagrams_out, counters.bytes_out),
        (expected_count as u64, TEN_MB as u64)
    );
    assert_eq!(server.counters().datagrams_in, expected_count as u64);
    drop(server); // flushes and closes the capture
    let captured = std::fs::read(dir.join("in.bin")).unwrap();
    assert!(captured == data, "the capture differs from the file");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cancel_stops_a_send_to_a_peer_that_does_not_read_and_the_session_goes_on() {
    let dir = scratch("cancel");
    let source = dir.join("big.bin");
    // Sparse: 256 MiB that take no disk, far more than the socket buffers hold.
    let file = std::fs::File::create(&source).unwrap();
    file.set_len(256 * 1024 * 1024).unwrap();
    drop(file);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client =
        engine::tcp_client::start(TcpClientConfig::new("127.0.0.1", addr.port()), noop_waker());
    let (mut peer, _) = listener.accept().unwrap();
    connected(&client);
    client
        .send(TcpClientCommand::SendFile(source.clone()))
        .unwrap();
    // The peer reads nothing: the send fills the buffers and then waits, still reporting.
    wait(&client, "progress", |e| {
        file_event(e).is_some_and(|f| f.stage == FileStage::Progress && f.sent > 0)
    });
    client.cancel_file_sends();
    let (_, last) = until_file_end(&client);
    assert_eq!(last.stage, FileStage::Cancelled);
    assert!(last.sent > 0 && last.sent < last.total, "{last:?}");
    assert_eq!(client.counters().bytes_out, last.sent);

    // The connection is still usable: what follows the cancelled part arrives after it.
    client
        .send(TcpClientCommand::Send(crate::common::bytes(b"after")))
        .unwrap();
    peer.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut got = vec![0; usize::try_from(last.sent).unwrap() + 5];
    peer.read_exact(&mut got).unwrap();
    assert_eq!(&got[got.len() - 5..], b"after");
    assert!(got[..got.len() - 5].iter().all(|&b| b == 0));
    wait(
        &client,
        "after sent",
        |e| matches!(&e.kind, EventKind::Sent { data, .. } if &data[..] == b"after"),
    );
    assert_eq!(client.counters().bytes_out, last.sent + 5);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_peer_that_vanishes_mid_file_is_a_failure_naming_the_path_and_address() {
    let dir = scratch("vanish");
    let source = dir.join("big.bin");
    let file = std::fs::File::create(&source).unwrap();
    file.set_len(256 * 1024 * 1024).unwrap();
    drop(file);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client =
        engine::tcp_client::start(TcpClientConfig::new("127.0.0.1", addr.port()), noop_waker());
    let (peer, _) = listener.accept().unwrap();
    connected(&client);
    client
        .send(TcpClientCommand::SendFile(source.clone()))
        .unwrap();
    wait(&client, "started", |e| {
        file_event(e).is_some_and(|f| f.stage == FileStage::Started)
    });
    // Closing with unread data sends a reset.
    drop(peer);
    let (_, last) = until_file_end(&client);
    let FileStage::Failed(error) = &last.stage else {
        panic!("{last:?}");
    };
    let text = error.to_string();
    assert!(text.contains(&source.display().to_string()), "{text}");
    assert!(text.contains(&addr.to_string()), "{text}");
    assert!(text.contains("send"), "{text}");
    assert!(
        error.plain_sentence().contains("went away"),
        "{}",
        error.plain_sentence()
    );
    assert_eq!(client.counters().bytes_out, last.sent);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The error a file send reports, whether it is refused at once or fails when read.
fn file_failure<C: Send + 'static>(session: &Session<C>) -> EngineError {
    let event = wait(session, "a file error", |e| {
        matches!(&e.kind, EventKind::Error(_))
            || file_event(e).is_some_and(|f| matches!(f.stage, FileStage::Failed(_)))
    });
    match event.kind {
        EventKind::Error(e) => e,
        EventKind::FileSend(f) => match f.stage {
            FileStage::Failed(e) => e,
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

fn assert_names(error: &EngineError, path: &Path, sentence_part: &str) {
    let text = error.to_string();
    assert!(text.contains(&path.display().to_string()), "{text}");
    let sentence = error.plain_sentence();
    assert!(sentence.contains(&path.display().to_string()), "{sentence}");
    assert!(sentence.contains(sentence_part), "{sentence}");
}

#[test]
fn missing_folder_and_unreadable_files_are_refused_with_the_path() {
    let dir = scratch("bad");
    let server = engine::tcp_server::start(TcpServerConfig::default(), noop_waker());
    let addr = bound_addr(&server);
    let client =
        engine::tcp_client::start(TcpClientConfig::new("127.0.0.1", addr.port()), noop_waker());
    let (id, _, _) = connected(&server);
    connected(&client);

    let missing = dir.join("no-such-file.bin");
    client
        .send(TcpClientCommand::SendFile(missing.clone()))
        .unwrap();
    let error = file_failure(&client);
    assert_names(&error, &missing, "does not exist");

    client
        .send(TcpClientCommand::SendFile(dir.clone()))
        .unwrap();
    assert_names(&file_failure(&client), &dir, "folder");

    // The server side refuses the same way, naming the client it was meant for.
    server
        .send(TcpServerCommand::SendFileTo(id, missing.clone()))
        .unwrap();
    let error = file_failure(&server);
    assert_names(&error, &missing, "does not exist");

    // Unreadable: permissions stop a normal user; root (as in CI) reads anything, so there a
    // file that fails for root too stands in: /proc/self/mem cannot be read at offset 0 (EIO).
    let locked = dir.join("locked.bin");
    std::fs::write(&locked, b"secret").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    }
    let unreadable = if std::fs::File::open(&locked).is_err() {
        locked
    } else if cfg!(target_os = "linux") {
        PathBuf::from("/proc/self/mem")
    } else {
        eprintln!("running as an administrator and not on Linux: no unreadable file to try");
        return;
    };
    client
        .send(TcpClientCommand::SendFile(unreadable.clone()))
        .unwrap();
    let error = file_failure(&client);
    assert_names(&error, &unreadable, "");
    // The connection survived every refusal.
    client
        .send(TcpClientCommand::Send(crate::common::bytes(b"still here")))
        .unwrap();
    crate::common::receive_bytes(&server, 10);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn udp_refuses_impossible_datagram_sizes_and_oversized_files() {
    let dir = scratch("udp-bad");
    let small = dir.join("small.bin");
    std::fs::write(&small, b"abc").unwrap();
    let server = engine::udp::start_server(UdpServerConfig::default(), noop_waker());
    let addr: SocketAddr = bound_addr(&server);
    let send = |path: &Path, datagram_size, to| {
        server
            .send(UdpCommand::SendFile {
                path: path.to_path_buf(),
                datagram_size,
                to,
                gap: Duration::ZERO,
            })
            .unwrap();
    };
    for size in [0, 65_508] {
        send(&small, size, Some(addr));
        let error = file_failure(&server);
        assert!(
            matches!(error, EngineError::DatagramSize { limit: 65_507, .. }),
            "{error:?}"
        );
        assert!(
            error.plain_sentence().contains("1 to 65507"),
            "{}",
            error.plain_sentence()
        );
    }
    // A server has no target of its own.
    send(&small, 100, None);
    assert!(matches!(file_failure(&server), EngineError::NotNow { .. }));

    let huge = dir.join("huge.bin");
    let file = std::fs::File::create(&huge).unwrap();
    file.set_len(UDP_FILE_LIMIT + 1).unwrap();
    drop(file);
    send(&huge, 1000, Some(addr));
    let error = file_failure(&server);
    assert!(
        matches!(error, EngineError::UdpFileTooLarge { .. }),
        "{error:?}"
    );
    assert!(error.plain_sentence().contains("TCP"));
    assert_eq!(server.counters().datagrams_out, 0);

    // A valid send to itself still works afterwards: three 1-byte datagrams.
    send(&small, 1, Some(addr));
    let (_, last) = until_file_end(&server);
    assert_eq!(
        (last.stage, last.pieces, last.sent),
        (FileStage::Finished, 3, 3)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tcp_server_sends_a_file_to_every_client_and_to_one() {
    let dir = scratch("server");
    let source = dir.join("greeting.bin");
    let data = pattern(200_000);
    std::fs::write(&source, &data).unwrap();
    let server = engine::tcp_server::start(TcpServerConfig::default(), noop_waker());
    let addr = bound_addr(&server);
    let mut first = std::net::TcpStream::connect(addr).unwrap();
    let (id_first, _, _) = connected(&server);
    let mut second = std::net::TcpStream::connect(addr).unwrap();
    connected(&server);
    for stream in [&first, &second] {
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    }
    server
        .send(TcpServerCommand::SendFileToAll(source.clone()))
        .unwrap();
    for stream in [&mut first, &mut second] {
        let mut got = vec![0; data.len()];
        stream.read_exact(&mut got).unwrap();
        assert!(got == data);
    }
    // Each client's send is reported on its own, to its own address.
    let mut finished = Vec::new();
    while finished.len() < 2 {
        let (_, last) = until_file_end(&server);
        assert_eq!(last.stage, FileStage::Finished);
        finished.push(last.conn.unwrap());
    }
    finished.sort_unstable();
    assert_eq!(finished, [id_first, id_first + 1]);

    server
        .send(TcpServerCommand::SendFileTo(id_first, source.clone()))
        .unwrap();
    let mut got = vec![0; data.len()];
    first.read_exact(&mut got).unwrap();
    assert!(got == data);
    let (_, last) = until_file_end(&server);
    assert_eq!(last.conn, Some(id_first));
    assert_eq!(server.counters().bytes_out, 3 * data.len() as u64);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn abort_during_a_stalled_file_ends_it_as_our_doing_not_the_peers() {
    let dir = scratch("abort");
    let source = dir.join("big.bin");
    let file = std::fs::File::create(&source).unwrap();
    file.set_len(256 * 1024 * 1024).unwrap();
    drop(file);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client =
        engine::tcp_client::start(TcpClientConfig::new("127.0.0.1", addr.port()), noop_waker());
    let (_peer, _) = listener.accept().unwrap(); // never reads
    connected(&client);
    client.send(TcpClientCommand::SendFile(source)).unwrap();
    wait(&client, "progress", |e| {
        file_event(e).is_some_and(|f| f.stage == FileStage::Progress && f.sent > 0)
    });
    client.send(TcpClientCommand::Abort).unwrap();
    let (_, last) = until_file_end(&client);
    let FileStage::Failed(error) = &last.stage else {
        panic!("{last:?}");
    };
    let sentence = error.plain_sentence();
    assert!(
        sentence.contains("was closed while the file was being sent"),
        "{sentence}"
    );
    assert!(!sentence.contains("went away"), "{sentence}");
    assert_eq!(client.counters().bytes_out, last.sent);
    wait(&client, "the session's end", |e| {
        matches!(e.kind, EventKind::Stopped { .. })
    });
    let _ = std::fs::remove_dir_all(&dir);
}
