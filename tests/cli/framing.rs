//! Framing, checksums, templates and reply rules on the command line: the real `socketlab`
//! binary against plain `std::net` peers on loopback. Every wait is bounded; a child that
//! outlives its test is killed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly; that is its job

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, unbounded};
use serde_json::Value;

const TIMEOUT: Duration = Duration::from_secs(30);

fn socketlab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_socketlab"))
}

/// A server child whose standard error is read line by line; killed when dropped.
struct Server {
    child: Option<Child>,
    stderr: Receiver<String>,
    addr: SocketAddr,
}

impl Server {
    fn start(args: &[&str]) -> Self {
        let mut child = socketlab()
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let err = child.stderr.take().unwrap();
        let (tx, rx) = unbounded();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let first = rx
            .recv_timeout(TIMEOUT)
            .expect("a first line on standard error");
        let addr = first
            .strip_prefix("listening on ")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("not a listening line: {first}"));
        Server {
            child: Some(child),
            stderr: rx,
            addr,
        }
    }

    /// Waits for the child to exit by itself; returns its exit code, stdout and stderr.
    fn finish(mut self) -> (Option<i32>, String, String) {
        let mut child = self.child.take().unwrap();
        let deadline = Instant::now() + TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("the server did not exit in time");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut out = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        let err: Vec<String> = self.stderr.try_iter().collect();
        (status.code(), out, err.join("\n"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs a client subcommand to its end (bounded: it is killed after the timeout).
fn run(args: &[&str]) -> Output {
    let mut child = socketlab()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + TIMEOUT;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("socketlab {args:?} did not exit in time");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream
}

#[test]
fn a_length_prefixed_stream_is_printed_as_messages_with_their_reads() {
    let server = Server::start(&[
        "tcp-listen",
        "0",
        "--once",
        "--output",
        "json",
        "--framing",
        "len:2be",
    ]);
    let mut client = connect(server.addr);
    client
        .write_all(b"\x00\x03abc\x00\x02de\x00\x05hal")
        .unwrap();
    client.shutdown(std::net::Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    let _ = client.read_to_end(&mut rest);
    let (code, out, err) = server.finish();
    assert_eq!(code, Some(0), "{err}");
    let events: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let messages: Vec<(String, String)> = events
        .iter()
        .filter(|e| e["event"] == "message")
        .map(|e| {
            (
                e["piece"].as_str().unwrap().to_owned(),
                e["hex"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        messages,
        vec![
            ("message".to_owned(), "00 03 61 62 63".to_owned()),
            ("message".to_owned(), "00 02 64 65".to_owned()),
            ("unfinished".to_owned(), "00 05 68 61 6c".to_owned()),
        ]
    );
    let body: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "message")
        .map(|e| e["body_hex"].as_str().unwrap())
        .collect();
    assert_eq!(body[0], "61 62 63", "the body leaves the header out");
    let counters = events.iter().find(|e| e["event"] == "counters").unwrap();
    assert_eq!(counters["bytes_in"], 14, "every byte is counted");
}

#[test]
fn rules_match_messages_and_reply_with_captured_groups_and_a_sequence() {
    let server = Server::start(&[
        "tcp-listen",
        "0",
        "--once",
        "--framing",
        "crlf",
        "--match",
        r"regex=^READ (\d+)$",
        "--reply",
        r"VALUE {1} #{seq}\r\n",
        "--template",
    ]);
    let mut client = connect(server.addr);
    client
        .write_all(b"READ 7\r\nREAD 42\r\nWRITE 1\r\n")
        .unwrap();
    let mut buf = vec![0; 25];
    client.read_exact(&mut buf).unwrap();
    assert_eq!(buf, b"VALUE 7 #1\r\nVALUE 42 #2\r\n");
    client.shutdown(std::net::Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    let _ = client.read_to_end(&mut rest);
    assert!(
        rest.is_empty(),
        "WRITE matched no rule and got no reply: {rest:?}"
    );
    let (code, out, err) = server.finish();
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("(1 message from 1 read): READ 42␍␊"), "{out}");
    assert!(err.contains("3 messages"), "{err}");
}

#[test]
fn no_reply_silences_echo_for_the_messages_it_matches() {
    let server = Server::start(&[
        "tcp-listen",
        "0",
        "--once",
        "--framing",
        "lf",
        "--echo",
        "--match",
        "starts-with=#",
        "--no-reply",
    ]);
    let mut client = connect(server.addr);
    client.write_all(b"# a comment\nkeep\n").unwrap();
    let mut buf = vec![0; 5];
    client.read_exact(&mut buf).unwrap();
    assert_eq!(buf, b"keep\n");
    drop(client);
    let (code, _, err) = server.finish();
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn a_modbus_request_goes_out_with_its_crc() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let reader = std::thread::spawn(move || {
        let (mut peer, _) = listener.accept().unwrap();
        peer.set_read_timeout(Some(TIMEOUT)).unwrap();
        let mut got = Vec::new();
        let _ = peer.read_to_end(&mut got);
        got
    });
    let out = run(&[
        "tcp-connect",
        "127.0.0.1",
        &port,
        "--hex",
        "01 03 00 00 00 0A",
        "--append-checksum",
        "crc16-modbus",
        "--shutdown",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        reader.join().unwrap(),
        [0x01, 0x03, 0x00, 0x00, 0x00, 0x0a, 0xc5, 0xcd]
    );
}

#[test]
fn template_datagrams_count_up_and_plain_text_keeps_its_braces() {
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(TIMEOUT)).unwrap();
    let port = peer.local_addr().unwrap().port().to_string();
    let out = run(&[
        "udp-send",
        "127.0.0.1",
        &port,
        "--send",
        "n={seq} {{ok}",
        "--send",
        "n={seq}",
        "--template",
        "--wait",
        "0",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut buf = [0; 64];
    let n = peer.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"n=1 {ok}");
    let n = peer.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"n=2");
    let out = run(&[
        "udp-send",
        "127.0.0.1",
        &port,
        "--send",
        "n={seq}",
        "--wait",
        "0",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let n = peer.recv(&mut buf).unwrap();
    assert_eq!(
        &buf[..n],
        b"n={seq}",
        "without --template a brace is a brace"
    );
}

#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one table of bad inputs reads best in one place"
)]
fn bad_framing_rules_templates_and_checksums_are_refused_with_a_sentence() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["tcp-listen", "0", "--framing", "len:3"],
            "1, 2 or 4 bytes",
        ),
        (
            &["tcp-listen", "0", "--framing", "gap:0"],
            "idle gap must be 1 ms",
        ),
        (
            &["tcp-listen", "0", "--framing", "bytes:zz"],
            "not a hex digit",
        ),
        (
            &["tcp-listen", "0", "--framing", "lines"],
            "is not a framing",
        ),
        (
            &[
                "tcp-listen",
                "0",
                "--framing",
                "fixed:10",
                "--max-message",
                "4",
            ],
            "fixed message size",
        ),
        (
            &["tcp-listen", "0", "--match", "regex=ab(c", "--reply", "x"],
            "position 3",
        ),
        (
            &["tcp-listen", "0", "--match", "hex=01 zz", "--reply", "x"],
            "'zz' at position 4",
        ),
        (
            &["tcp-listen", "0", "--match", "length=9-2", "--reply", "x"],
            "9..2 is empty",
        ),
        (
            &["tcp-listen", "0", "--match", "size=2", "--reply", "x"],
            "not a kind of condition",
        ),
        (
            &["tcp-listen", "0", "--match", "contains=a"],
            "needs --reply",
        ),
        (
            &[
                "tcp-listen",
                "0",
                "--match",
                "contains=a",
                "--reply",
                "{2}",
                "--template",
            ],
            "captured groups",
        ),
        (
            &[
                "tcp-listen",
                "0",
                "--match",
                "regex=(a)",
                "--reply",
                "{2}",
                "--template",
            ],
            "no such group",
        ),
        (
            &["udp-listen", "0", "--framing", "lf"],
            "every datagram already is one message",
        ),
        (
            &[
                "udp-send",
                "127.0.0.1",
                "9",
                "--send",
                "{nope}",
                "--template",
            ],
            "{nope} at position 1 is not a variable",
        ),
        (
            &[
                "udp-send",
                "127.0.0.1",
                "9",
                "--send",
                "x",
                "--append-checksum",
                "md5",
            ],
            "crc16-modbus",
        ),
    ];
    for (args, fragment) in cases {
        let out = run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(fragment),
            "{args:?}: wanted {fragment:?} in {err}"
        );
    }
}
