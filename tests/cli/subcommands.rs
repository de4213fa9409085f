//! End-to-end tests of the command line: the built `socketlab` binary against real peers on
//! loopback (its own subcommands, and plain `std::net` sockets written here). Every wait is
//! bounded; every child process is killed if a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly; that is its job

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, ToSocketAddrs, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, unbounded};
use serde_json::Value;

/// Longest a whole subcommand run may take in a test (the 50 MB transfer included, in a debug
/// build on a busy 2-core machine).
const RUN_TIMEOUT: Duration = Duration::from_mins(2);
/// Longest wait for one line of output.
const LINE_TIMEOUT: Duration = Duration::from_secs(20);

/// A running `socketlab` child. Standard output and error are read on threads (so a full pipe
/// never blocks the child); dropping it kills the child, so a failing test leaves nothing behind.
pub(crate) struct Running {
    child: Child,
    stderr_lines: Receiver<String>,
    stderr_seen: Vec<String>,
    stdout: Option<JoinHandle<Vec<u8>>>,
    stderr_thread: Option<JoinHandle<()>>,
}

/// What a finished run left behind.
pub(crate) struct Finished {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: String,
}

impl Finished {
    pub(crate) fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

fn socketlab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_socketlab"))
}

impl Running {
    pub(crate) fn spawn(args: &[&str], stdin: Stdio) -> Self {
        let mut child = socketlab()
            .args(args)
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the socketlab binary starts");
        let mut out = child.stdout.take().expect("stdout is piped");
        let stdout = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = out.read_to_end(&mut bytes);
            bytes
        });
        let err = child.stderr.take().expect("stderr is piped");
        let (tx, rx) = unbounded();
        let stderr_thread = std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            stderr_lines: rx,
            stderr_seen: Vec::new(),
            stdout: Some(stdout),
            stderr_thread: Some(stderr_thread),
        }
    }

    pub(crate) fn start(args: &[&str]) -> Self {
        Self::spawn(args, Stdio::null())
    }

    /// The next line of standard error.
    pub(crate) fn stderr_line(&mut self) -> String {
        match self.stderr_lines.recv_timeout(LINE_TIMEOUT) {
            Ok(line) => {
                self.stderr_seen.push(line.clone());
                line
            }
            Err(e) => panic!(
                "no line on standard error in time ({e}); so far:\n{}",
                self.stderr_seen.join("\n")
            ),
        }
    }

    /// A server's first line of standard error, `listening on ADDR:PORT`, as an address.
    pub(crate) fn listening(&mut self) -> SocketAddr {
        let line = self.stderr_line();
        line.strip_prefix("listening on ")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("first stderr line is not `listening on ADDR`: {line:?}"))
    }

    /// Waits for the child to exit on its own and collects its output.
    pub(crate) fn finish(mut self) -> Finished {
        let deadline = Instant::now() + RUN_TIMEOUT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait works") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "socketlab did not exit in time; stderr so far:\n{}",
                self.stderr_seen.join("\n")
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        let stdout = self
            .stdout
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        if let Some(h) = self.stderr_thread.take() {
            let _ = h.join();
        }
        let mut stderr = std::mem::take(&mut self.stderr_seen);
        stderr.extend(self.stderr_lines.try_iter());
        Finished {
            code: status.code(),
            stdout,
            stderr: stderr.join("\n"),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs a subcommand that ends by itself and returns what it left.
pub(crate) fn run(args: &[&str]) -> Finished {
    Running::start(args).finish()
}

/// A fresh, empty folder for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("socketlab-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// Deterministic bytes that are not a repeating pattern (xorshift), so a lost, doubled or
/// reordered chunk cannot compare equal.
fn test_bytes(len: usize) -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

fn port_of(addr: SocketAddr) -> String {
    addr.port().to_string()
}

/// A TCP port nothing listens on, kept reserved: the socket is bound but never listens, so a
/// connection attempt is refused and the system gives the port to nobody else meanwhile.
fn closed_tcp_port() -> (socket2::Socket, SocketAddr) {
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    socket
        .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .expect("bind");
    let addr = socket.local_addr().expect("addr").as_socket().expect("ip");
    (socket, addr)
}

/// A UDP port that answers "port unreachable", kept reserved: its socket is connected to another
/// address, so the system delivers it nothing from anyone else.
fn closed_udp_port() -> (UdpSocket, SocketAddr) {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let elsewhere = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket
        .connect(elsewhere.local_addr().expect("addr"))
        .expect("connect");
    let addr = socket.local_addr().expect("addr");
    (socket, addr)
}

/// A bad-input run: exit code 2, one sentence on standard error, no panic.
fn assert_bad_input(args: &[&str], sentence_part: &str) {
    let done = run(args);
    assert_eq!(done.code, Some(2), "{args:?}: stderr {}", done.stderr);
    assert!(
        done.stderr.contains(sentence_part),
        "{args:?}: expected {sentence_part:?} in {:?}",
        done.stderr
    );
    assert!(!done.stderr.contains("panicked"), "{}", done.stderr);
    assert!(done.stdout.is_empty(), "{args:?} printed to stdout");
}

#[test]
fn tcp_listen_and_tcp_connect_talk_to_each_other() {
    let mut server = Running::start(&[
        "tcp-listen",
        "0",
        "--once",
        "--reply",
        "pong\\n",
        "--escapes",
    ]);
    let addr = server.listening();
    let client = run(&[
        "tcp-connect",
        "127.0.0.1",
        &port_of(addr),
        "--send",
        "ping",
        "--line-ending",
        "crlf",
        "--shutdown",
    ]);
    assert_eq!(client.code, Some(0), "client stderr: {}", client.stderr);
    let client_out = client.stdout_text();
    assert!(
        client_out.contains(&format!("from {addr} 5 bytes: pong␊")),
        "client stdout: {client_out:?}"
    );
    assert!(
        client
            .stderr
            .contains("received 5 bytes in 1 read; sent 6 bytes in 1 write")
    );

    let server = server.finish();
    assert_eq!(server.code, Some(0), "server stderr: {}", server.stderr);
    assert!(
        server.stdout_text().contains("6 bytes: ping␍␊"),
        "server stdout: {:?}",
        server.stdout_text()
    );
    assert!(server.stderr.contains("client 1 connected from 127.0.0.1:"));
    assert!(server.stderr.contains("1 client accepted"));
}

#[test]
fn half_close_sends_everything_then_reads_the_answer_to_the_end() {
    // A plain peer that answers only after the client's end of stream: the answer can only arrive
    // if the client half-closed after its last byte and kept reading.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let peer = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        stream
            .set_read_timeout(Some(LINE_TIMEOUT))
            .expect("timeout");
        let mut got = Vec::new();
        stream.read_to_end(&mut got).expect("read to end of stream");
        let answer = format!("got {} bytes: {}", got.len(), String::from_utf8_lossy(&got));
        stream.write_all(answer.as_bytes()).expect("answer");
        got
    });
    let client = run(&[
        "tcp-connect",
        "127.0.0.1",
        &port_of(addr),
        "--send",
        "hello ",
        "--hex",
        "77 6f 72 6c 64",
        "--send",
        "!",
        "--shutdown",
        "--output",
        "raw",
    ]);
    let got = peer.join().expect("peer thread");
    assert_eq!(got, b"hello world!", "sent in command-line order");
    assert_eq!(client.code, Some(0), "stderr: {}", client.stderr);
    // Raw output: exactly the bytes received, nothing else.
    assert_eq!(client.stdout, b"got 12 bytes: hello world!");
    // The peer answered only after its end of stream, and the answer still arrived: the client
    // half-closed after its last byte and kept reading. (The two status lines come from different
    // engine threads, so their order on standard error is not asserted.)
    assert!(client.stderr.contains("(half-close); still receiving"));
    assert!(client.stderr.contains("finished sending (end of stream)"));
}

#[test]
fn fifty_megabytes_from_stdin_arrive_in_the_capture_byte_for_byte() {
    let dir = scratch("stream");
    let capture = dir.join("upload.bin");
    let data = test_bytes(50 * 1024 * 1024);
    let mut server = Running::start(&[
        "tcp-listen",
        "0",
        "--once",
        "--output",
        "none",
        "--capture",
        capture.to_str().expect("utf-8 path"),
    ]);
    let addr = server.listening();
    let mut client = Running::spawn(
        &[
            "tcp-connect",
            "127.0.0.1",
            &port_of(addr),
            "--send",
            "-",
            "--shutdown",
            "--output",
            "none",
        ],
        Stdio::piped(),
    );
    let mut stdin = client.child.stdin.take().expect("stdin is piped");
    let source = data.clone();
    let writer = std::thread::spawn(move || stdin.write_all(&source).is_ok());
    let client = client.finish();
    assert!(writer.join().expect("writer thread"), "stdin fully written");
    assert_eq!(client.code, Some(0), "client stderr: {}", client.stderr);
    assert!(
        client
            .stderr
            .contains(&format!("sent {} bytes", data.len())),
        "client counters: {}",
        client.stderr
    );
    let server = server.finish();
    assert_eq!(server.code, Some(0), "server stderr: {}", server.stderr);
    let written = std::fs::read(dir.join("upload-1.bin")).expect("client 1's capture file");
    assert_eq!(written.len(), data.len());
    assert!(written == data, "capture differs from what was sent");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn udp_listen_replies_counts_and_captures() {
    let dir = scratch("udp");
    let capture = dir.join("datagrams.bin");
    let mut server = Running::start(&[
        "udp-listen",
        "0",
        "--count",
        "2",
        "--reply",
        "ok",
        "--capture",
        capture.to_str().expect("utf-8 path"),
    ]);
    let addr = server.listening();
    let client = run(&[
        "udp-send",
        "127.0.0.1",
        &port_of(addr),
        "--send",
        "one",
        "--send",
        "two",
        "--connect",
        "--wait",
        "5",
        "--output",
        "json",
    ]);
    let server = server.finish();
    assert_eq!(server.code, Some(0), "server stderr: {}", server.stderr);
    assert!(server.stdout_text().contains("3 bytes: one"));
    assert!(server.stdout_text().contains("3 bytes: two"));
    assert!(
        server
            .stderr
            .contains("received 2 datagrams (6 bytes); sent 2 datagrams (4 bytes)")
    );
    assert_eq!(std::fs::read(&capture).expect("capture"), b"onetwo");

    assert_eq!(client.code, Some(0), "client stderr: {}", client.stderr);
    let events: Vec<Value> = client
        .stdout_text()
        .lines()
        .map(|l| serde_json::from_str(l).expect("every stdout line is JSON"))
        .collect();
    let answers: Vec<&Value> = events.iter().filter(|e| e["event"] == "datagram").collect();
    assert_eq!(answers.len(), 2, "two replies: {events:?}");
    assert!(
        answers
            .iter()
            .all(|e| e["text"] == "ok" && e["hex"] == "6f 6b")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tcp_listen_echoes_everything_back() {
    let mut server = Running::start(&["tcp-listen", "0", "--once", "--echo", "--output", "raw"]);
    let addr = server.listening();
    let client = run(&[
        "tcp-connect",
        "127.0.0.1",
        &port_of(addr),
        "--send",
        "echo ",
        "--hex",
        "00 ff",
        "--shutdown",
        "--output",
        "raw",
    ]);
    assert_eq!(client.code, Some(0), "{}", client.stderr);
    assert_eq!(client.stdout, b"echo \x00\xff");
    let server = server.finish();
    assert_eq!(server.code, Some(0), "{}", server.stderr);
    assert_eq!(server.stdout, b"echo \x00\xff");
    assert!(
        server.stderr.contains("received 7 bytes"),
        "{}",
        server.stderr
    );
    assert!(server.stderr.contains("sent 7 bytes"), "{}", server.stderr);
}

#[test]
fn tcp_listen_sends_its_data_to_the_connected_client() {
    let mut server = Running::spawn(
        &[
            "tcp-listen",
            "0",
            "--once",
            "--send",
            "hello",
            "--line-ending",
            "lf",
            "--send",
            "-",
        ],
        Stdio::piped(),
    );
    let mut stdin = server.child.stdin.take().expect("stdin is piped");
    stdin.write_all(b"from stdin").expect("stdin");
    drop(stdin);
    let addr = server.listening();
    let mut client = std::net::TcpStream::connect(addr).expect("connect");
    client
        .set_read_timeout(Some(LINE_TIMEOUT))
        .expect("timeout");
    let mut got = [0; 16];
    client
        .read_exact(&mut got)
        .expect("everything the server sends");
    assert_eq!(&got, b"hello\nfrom stdin");
    drop(client);
    let server = server.finish();
    assert_eq!(server.code, Some(0), "{}", server.stderr);
    assert!(server.stderr.contains("sent 16 bytes"), "{}", server.stderr);
}

#[test]
fn tcp_listen_streams_stdin_to_its_client_with_flow_control() {
    // Far more than the in-flight bound (4 MiB), so sending must wait for delivery many times.
    let data = test_bytes(12 * 1024 * 1024);
    let mut server = Running::spawn(
        &[
            "tcp-listen",
            "0",
            "--once",
            "--send",
            "-",
            "--output",
            "none",
        ],
        Stdio::piped(),
    );
    let mut stdin = server.child.stdin.take().expect("stdin is piped");
    let source = data.clone();
    let writer = std::thread::spawn(move || stdin.write_all(&source).is_ok());
    let addr = server.listening();
    let mut client = std::net::TcpStream::connect(addr).expect("connect");
    client
        .set_read_timeout(Some(LINE_TIMEOUT))
        .expect("timeout");
    let mut got = vec![0; data.len()];
    client
        .read_exact(&mut got)
        .expect("everything the server sends");
    assert!(got == data, "the stream arrived changed");
    drop(client);
    assert!(writer.join().expect("writer"), "stdin fully written");
    let server = server.finish();
    assert_eq!(server.code, Some(0), "{}", server.stderr);
    assert!(
        server
            .stderr
            .contains(&format!("sent {} bytes", data.len())),
        "{}",
        server.stderr
    );
}

#[test]
fn ipv6_loopback_with_brackets() {
    let mut server = Running::start(&["tcp-listen", "0", "--bind", "::1", "--once", "--echo"]);
    let addr = server.listening();
    assert!(addr.is_ipv6(), "{addr}");
    let client = run(&[
        "tcp-connect",
        "[::1]",
        &port_of(addr),
        "--send",
        "six",
        "--shutdown",
        "--output",
        "raw",
    ]);
    assert_eq!(client.code, Some(0), "{}", client.stderr);
    assert_eq!(client.stdout, b"six");
    assert_eq!(server.finish().code, Some(0));
}

#[test]
fn udp_send_streams_stdin_as_one_datagram_per_line() {
    let mut server = Running::start(&["udp-listen", "0", "--count", "3", "--output", "json"]);
    let addr = server.listening();
    let mut client = Running::spawn(
        &[
            "udp-send",
            "127.0.0.1",
            &port_of(addr),
            "--send",
            "-",
            "--wait",
            "0",
        ],
        Stdio::piped(),
    );
    let mut stdin = client.child.stdin.take().expect("stdin is piped");
    stdin.write_all(b"a\nbb\nccc").expect("stdin");
    drop(stdin);
    let client = client.finish();
    assert_eq!(client.code, Some(0), "{}", client.stderr);
    assert!(
        client.stderr.contains("sent 3 datagrams (8 bytes)"),
        "{}",
        client.stderr
    );
    let server = server.finish();
    assert_eq!(server.code, Some(0), "{}", server.stderr);
    let texts: Vec<String> = server
        .stdout_text()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON"))
        .filter(|e| e["event"] == "datagram")
        .map(|e| e["text"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(texts, ["a\u{240a}", "bb\u{240a}", "ccc"]);
}

#[test]
fn json_output_reports_every_event_including_socket_calls() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let peer = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        stream.write_all(b"hi\r\n").expect("write");
        // Closing ends the client's run: by default it reads until the peer closes.
    });
    let client = run(&[
        "tcp-connect",
        "127.0.0.1",
        &port_of(addr),
        "--output",
        "json",
    ]);
    peer.join().expect("peer");
    assert_eq!(client.code, Some(0), "stderr: {}", client.stderr);
    let events: Vec<Value> = client
        .stdout_text()
        .lines()
        .map(|l| serde_json::from_str(l).expect("every stdout line is JSON"))
        .collect();
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "call" && e["op"] == "connect" && e["ok"] == true),
        "{kinds:?}"
    );
    let received = events
        .iter()
        .find(|e| e["event"] == "received")
        .expect("a received event");
    assert_eq!(received["hex"], "68 69 0d 0a");
    assert_eq!(received["text"], "hi␍␊");
    assert_eq!(received["peer"], addr.to_string());
    assert!(received["time"].as_str().is_some_and(|t| t.ends_with('Z')));
    let stopped = kinds.iter().position(|k| *k == "stopped").expect("stopped");
    assert_eq!(kinds.get(stopped + 1), Some(&"counters"));
    assert_eq!(events.last().map(|e| e["bytes_in"].clone()), Some(4.into()));
}

#[test]
fn text_and_hex_output_make_control_bytes_visible() {
    for (mode, expected) in [
        ("text", "4 bytes: a\u{241b}[\u{2400}"),
        ("hex", "00000000  61 1b 5b 00"),
    ] {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let peer = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("accept");
            stream.write_all(b"a\x1b[\x00").expect("write");
        });
        let client = run(&["tcp-connect", "127.0.0.1", &port_of(addr), "--output", mode]);
        peer.join().expect("peer");
        assert_eq!(client.code, Some(0), "stderr: {}", client.stderr);
        assert!(
            client.stdout_text().contains(expected),
            "{mode}: {:?}",
            client.stdout_text()
        );
        assert!(!client.stdout.contains(&0x1b), "{mode}: no raw escape byte");
    }
}

#[test]
fn explain_prints_the_transcript_after_the_listening_line() {
    let mut server = Running::start(&["tcp-listen", "0", "--once", "--explain"]);
    let addr = server.listening();
    let next = server.stderr_line();
    assert!(
        next.starts_with("  socket(AF_INET, SOCK_STREAM) → new socket    — create a TCP socket"),
        "the call and its plain-language explanation: {next}"
    );
    let client = run(&["tcp-connect", "127.0.0.1", &port_of(addr), "--wait", "0"]);
    assert_eq!(client.code, Some(0), "{}", client.stderr);
    let server = server.finish();
    assert!(
        server.stderr.contains("  accept() → 127.0.0.1:"),
        "{}",
        server.stderr
    );
    assert!(server.stderr.contains("  close() → ok"));
}

#[test]
fn exit_code_1_for_network_failures() {
    // Refused: a port held by a socket that is bound but not listening, so that no other test
    // running in parallel can be given it.
    let (_holder, closed) = closed_tcp_port();
    let refused = run(&["tcp-connect", "127.0.0.1", &port_of(closed), "--send", "x"]);
    assert_eq!(refused.code, Some(1), "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("Connection refused: nothing is listening on")
    );

    // Timeout: a listener whose accept queue is full drops the handshake.
    let (_listener, silent, _fillers) = crate::common::unanswering_listener();
    let timeout = run(&[
        "tcp-connect",
        "127.0.0.1",
        &port_of(silent),
        "--timeout",
        "0.3",
    ]);
    assert_eq!(timeout.code, Some(1), "{}", timeout.stderr);
    assert!(
        timeout.stderr.contains("Nobody answered at"),
        "{}",
        timeout.stderr
    );

    // Address in use.
    let holder = TcpListener::bind("127.0.0.1:0").expect("bind");
    let held = holder.local_addr().expect("addr");
    let in_use = run(&["tcp-listen", &port_of(held)]);
    assert_eq!(in_use.code, Some(1), "{}", in_use.stderr);
    assert!(in_use.stderr.contains("Address already in use"));

    // Reset: a peer that aborts the connection.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let peer = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut buf = [0; 16];
        let _ = stream.read(&mut buf);
        // SO_LINGER 0: closing sends a reset instead of an orderly end of stream.
        socket2::SockRef::from(&stream)
            .set_linger(Some(Duration::ZERO))
            .expect("linger");
    });
    let reset = run(&["tcp-connect", "127.0.0.1", &port_of(addr), "--send", "x"]);
    peer.join().expect("peer");
    assert_eq!(reset.code, Some(1), "{}", reset.stderr);
    assert!(reset.stderr.contains("reset"), "{}", reset.stderr);

    // UDP with connect(): "port unreachable" comes back as refused.
    let (_holder, closed) = closed_udp_port();
    let udp = run(&[
        "udp-send",
        "127.0.0.1",
        &port_of(closed),
        "--connect",
        "--send",
        "a",
        "--send",
        "b",
        "--wait",
        "2",
    ]);
    assert_eq!(udp.code, Some(1), "{}", udp.stderr);
    assert!(udp.stderr.contains("Refused"), "{}", udp.stderr);
}

#[test]
fn exit_code_0_for_a_udp_send_that_went_out() {
    let peer = UdpSocket::bind("127.0.0.1:0").expect("bind");
    peer.set_read_timeout(Some(LINE_TIMEOUT)).expect("timeout");
    let addr = peer.local_addr().expect("addr");
    let done = run(&[
        "udp-send",
        "127.0.0.1",
        &port_of(addr),
        "--send",
        "ping",
        "--wait",
        "0",
    ]);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let mut buf = [0; 64];
    let (n, _) = peer.recv_from(&mut buf).expect("datagram");
    assert_eq!(&buf[..n], b"ping");

    // --local fixes the port the datagram comes from.
    let (holder, local) = closed_udp_port();
    drop(holder);
    let from = run(&[
        "udp-send",
        "127.0.0.1",
        &port_of(addr),
        "--send",
        "again",
        "--local",
        &local.to_string(),
        "--wait",
        "0",
    ]);
    // The port was free a moment ago; a test running in parallel may have been given it since,
    // and then binding must fail with that reason.
    if from.code == Some(0) {
        let (n, sender) = peer.recv_from(&mut buf).expect("datagram");
        assert_eq!(&buf[..n], b"again");
        assert_eq!(sender, local);
    } else {
        assert_eq!(from.code, Some(1));
        assert!(
            from.stderr.contains("Address already in use"),
            "{}",
            from.stderr
        );
    }
}

#[test]
fn exit_code_2_and_a_sentence_for_bad_input() {
    assert_bad_input(
        &["tcp-connect", "127.0.0.1", "70000"],
        "70000 is not a port: ports go from 0 to 65535.",
    );
    assert_bad_input(&["udp-send", "127.0.0.1", "70000"], "70000 is not a port");
    assert_bad_input(&["tcp-listen", "70000"], "70000 is not a port");
    assert_bad_input(&["tcp-connect", "", "80"], "no host given");
    assert_bad_input(&["udp-send", "", "80"], "no host given");
    assert_bad_input(
        &["tcp-connect", "127.0.0.1", "80", "--hex", "zz"],
        "'z' at position 1 is not a hex digit",
    );
    assert_bad_input(&["tcp-connect", "127.0.0.1", "0"], "Port 0 means");
    assert_bad_input(
        &["tcp-connect", "127.0.0.1", "no-such-service-here"],
        "is not a number, and no tcp service has that name",
    );
    assert_bad_input(
        &[
            "tcp-connect",
            "127.0.0.1",
            "80",
            "--send",
            "\\q",
            "--escapes",
        ],
        "Unknown escape at position 1",
    );
    assert_bad_input(
        &["tcp-connect", "127.0.0.1", "80", "--file", "/no/such/file"],
        "Cannot read the file /no/such/file",
    );
    assert_bad_input(
        &["tcp-listen", "0", "--bind", "nowhere"],
        "is not an IP address",
    );
    assert_bad_input(
        &["udp-send", "127.0.0.1", "9", "--local", "here"],
        "is not a local address and port",
    );
    assert_bad_input(&["lookup", ""], "no host given");
    assert_bad_input(&["lookup", "localhost", "70000"], "70000 is not a port");
    assert_bad_input(
        &["lookup", "localhost", "--reverse"],
        "--reverse needs an IP address",
    );
    // Too big for any datagram: refused before the file is read.
    let dir = scratch("too-big");
    let big = dir.join("big.bin");
    std::fs::write(&big, vec![b'x'; 70_000]).expect("big file");
    let receiver = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let to = receiver.local_addr().expect("addr");
    assert_bad_input(
        &[
            "udp-send",
            "127.0.0.1",
            &port_of(to),
            "--file",
            big.to_str().expect("utf-8 path"),
        ],
        "is 70000 bytes, but one UDP datagram can carry at most 65507 bytes over IPv4 and 65527 over IPv6.",
    );
    let _ = std::fs::remove_dir_all(&dir);
    // Option errors come from the argument parser, with the same exit code.
    let bad_option = run(&["tcp-connect", "127.0.0.1", "80", "--timeout", "soon"]);
    assert_eq!(bad_option.code, Some(2));
    assert!(bad_option.stderr.contains("is not a number of seconds"));
}

#[test]
fn capture_never_overwrites_an_existing_file_silently() {
    let dir = scratch("overwrite");
    let capture = dir.join("dump.bin");
    std::fs::write(dir.join("dump-1.bin"), b"keep me").expect("existing file");
    let path = capture.to_str().expect("utf-8 path");
    assert_bad_input(&["tcp-listen", "0", "--capture", path], "already exists");
    std::fs::write(&capture, b"keep me too").expect("existing file");
    assert_bad_input(&["udp-listen", "0", "--capture", path], "already exists");
    assert_eq!(
        std::fs::read(dir.join("dump-1.bin")).ok(),
        Some(b"keep me".to_vec())
    );

    // With --overwrite the old content is replaced by what arrives.
    let mut server = Running::start(&[
        "tcp-listen",
        "0",
        "--once",
        "--capture",
        path,
        "--overwrite",
    ]);
    let addr = server.listening();
    let client = run(&[
        "tcp-connect",
        "127.0.0.1",
        &port_of(addr),
        "--send",
        "new",
        "--shutdown",
    ]);
    assert_eq!(client.code, Some(0), "{}", client.stderr);
    assert_eq!(server.finish().code, Some(0));
    assert_eq!(
        std::fs::read(dir.join("dump-1.bin")).ok(),
        Some(b"new".to_vec())
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn lookup_shows_what_the_resolver_returns() {
    let done = run(&["lookup", "localhost", "http"]);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let out = done.stdout_text();
    let expected: Vec<SocketAddr> = ("localhost", 80)
        .to_socket_addrs()
        .expect("the system resolves localhost")
        .collect();
    assert!(!expected.is_empty());
    for addr in &expected {
        assert!(
            out.contains(&addr.to_string()),
            "{addr} missing from:\n{out}"
        );
    }
    assert!(out.contains("port 80/tcp"), "{out}");
    // Every TCP address the tool shows is one the resolver gave. (Whether http also has a UDP
    // entry depends on the system's services file, so only the stream rows are counted.)
    let shown = out
        .lines()
        .filter(|l| l.trim_start().starts_with("AF_INET") && l.contains("SOCK_STREAM"))
        .count();
    assert_eq!(shown, expected.len(), "{out}");

    let reverse = run(&["lookup", "127.0.0.1", "80", "--reverse", "--json"]);
    assert_eq!(reverse.code, Some(0), "{}", reverse.stderr);
    let v: Value = serde_json::from_str(reverse.stdout_text().trim()).expect("json");
    assert_eq!(v["address"], "127.0.0.1:80");
    assert!(v["host"].as_str().is_some_and(|h| !h.is_empty()));
    assert_eq!(v["tcp_service"], "http");

    let literal = run(&["lookup", "::1", "443", "--json"]);
    assert_eq!(literal.code, Some(0), "{}", literal.stderr);
    assert!(literal.stdout_text().contains("\"address\":\"[::1]:443\""));
}

#[cfg(unix)]
#[test]
fn interrupt_stops_cleanly_and_prints_the_counters() {
    let mut server = Running::start(&["udp-listen", "0", "--explain"]);
    let addr = server.listening();
    let sender = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sender.send_to(b"abc", addr).expect("send");
    // The transcript's recvfrom line shows the server has taken the datagram, so the counters
    // printed at the end must include it.
    let mut taken = false;
    for _ in 0..50 {
        let line = server.stderr_line();
        // recvmsg where the system tells each datagram's destination (IP_PKTINFO), else recvfrom.
        if line.contains("recvmsg() → 3 bytes") || line.contains("recvfrom() → 3 bytes") {
            taken = true;
            break;
        }
    }
    assert!(taken, "the datagram was received");
    let pid = i32::try_from(server.child.id()).expect("pid fits");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGINT,
    )
    .expect("SIGINT sent");
    let done = server.finish();
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert!(
        done.stderr.contains("received 1 datagram (3 bytes)"),
        "{}",
        done.stderr
    );
    assert!(done.stdout_text().contains("3 bytes: abc"));
}

#[test]
fn version_and_help_work_without_a_display() {
    for args in [&["--version"][..], &["--help"], &["tcp-listen", "--help"]] {
        let out = socketlab()
            .args(args)
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .output()
            .expect("runs");
        assert!(out.status.success(), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("socketlab") || text.contains("Usage"),
            "{text}"
        );
    }
}

#[path = "fast_paths.rs"]
mod fast_paths;
