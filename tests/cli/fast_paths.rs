//! The command line's bulk paths (issue 18): `tcp-listen --output raw` has the engine's readers
//! write standard output themselves, and `tcp-connect` hands a regular `--file` or a standard
//! input redirected from a file to the engine as one file send. Byte for byte, and a reader of
//! the output that goes away still ends the run quietly.

use std::fs::File;
use std::io::Read as _;

use super::{LINE_TIMEOUT, RUN_TIMEOUT, Running, port_of, run, scratch, socketlab, test_bytes};
use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::process::Stdio;
use std::time::Instant;

#[test]
fn raw_output_carries_every_byte_of_a_bulk_transfer_in_order() {
    let mut server = Running::start(&["tcp-listen", "0", "--once", "--output", "raw"]);
    let addr = server.listening();
    let data = test_bytes(12 * 1024 * 1024);
    let mut client = TcpStream::connect(addr).expect("connect");
    client
        .set_write_timeout(Some(LINE_TIMEOUT))
        .expect("timeout");
    client.write_all(&data).expect("send");
    drop(client);
    let server = server.finish();
    assert_eq!(server.code, Some(0), "stderr: {}", server.stderr);
    assert_eq!(
        server.stdout.len(),
        data.len(),
        "every byte on standard output"
    );
    assert!(
        server.stdout == data,
        "standard output holds the bytes in order"
    );
    assert!(
        server
            .stderr
            .contains(&format!("received {} bytes", data.len())),
        "exact counters: {}",
        server.stderr
    );
}

#[test]
fn raw_output_whose_reader_goes_away_ends_the_run_quietly() {
    let mut child = socketlab()
        .args(["tcp-listen", "0", "--output", "raw"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the socketlab binary starts");
    let mut stderr = std::io::BufReader::new(child.stderr.take().expect("stderr is piped"));
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stderr, &mut first).expect("first line");
    let addr: std::net::SocketAddr = first
        .trim()
        .strip_prefix("listening on ")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("not a listening line: {first:?}"));
    let sender = std::thread::spawn(move || {
        let mut client = TcpStream::connect(addr).expect("connect");
        client
            .set_write_timeout(Some(LINE_TIMEOUT))
            .expect("timeout");
        let block = vec![b'x'; 64 * 1024];
        // Ends when the server closes the connection (it stopped because nobody reads).
        for _ in 0..4096 {
            if client.write_all(&block).is_err() {
                return;
            }
        }
    });
    // Like `| head -c 1000`: read a little, then close the pipe.
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut some = vec![0_u8; 1000];
    stdout.read_exact(&mut some).expect("some output");
    drop(stdout);
    let deadline = Instant::now() + RUN_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait works") {
            break status;
        }
        assert!(Instant::now() < deadline, "the server did not stop");
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let mut rest = String::new();
    stderr
        .read_to_string(&mut rest)
        .expect("the rest of stderr");
    sender.join().expect("sender thread");
    assert_eq!(
        status.code(),
        Some(0),
        "a closed output is no failure: {rest}"
    );
    assert!(
        !rest.contains("Could not write"),
        "no error sentence for a reader that went away: {rest}"
    );
    assert!(
        rest.contains("received "),
        "the counters are printed: {rest}"
    );
}

/// A plain peer that reads to the end of the stream and hands back what it got.
fn collecting_peer() -> (std::net::SocketAddr, std::thread::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let peer = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        stream
            .set_read_timeout(Some(LINE_TIMEOUT))
            .expect("timeout");
        let mut got = Vec::new();
        stream.read_to_end(&mut got).expect("read to the end");
        got
    });
    (addr, peer)
}

#[test]
fn standard_input_redirected_from_a_file_goes_out_as_one_file_send() {
    let dir = scratch("stdin-file");
    let path = dir.join("upload.bin");
    let data = test_bytes(20 * 1024 * 1024);
    std::fs::write(&path, &data).expect("source file");
    let (addr, peer) = collecting_peer();
    let client = Running::spawn(
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
        Stdio::from(File::open(&path).expect("open the source")),
    )
    .finish();
    let got = peer.join().expect("peer thread");
    assert_eq!(client.code, Some(0), "stderr: {}", client.stderr);
    assert_eq!(got.len(), data.len(), "every byte arrived");
    assert!(got == data, "in order");
    assert!(
        client.stderr.contains("file /dev/stdin: Finished"),
        "sent by the engine as a file: {}",
        client.stderr
    );
    assert!(
        client
            .stderr
            .contains(&format!("sent {} bytes", data.len())),
        "exact counters: {}",
        client.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_file_between_texts_is_sent_in_command_line_order() {
    let dir = scratch("file-order");
    let path = dir.join("middle.bin");
    let middle = test_bytes(3 * 1024 * 1024);
    std::fs::write(&path, &middle).expect("source file");
    let (addr, peer) = collecting_peer();
    let client = run(&[
        "tcp-connect",
        "127.0.0.1",
        &port_of(addr),
        "--send",
        "head|",
        "--file",
        path.to_str().expect("utf-8 path"),
        "--send",
        "|tail",
        "--shutdown",
        "--output",
        "none",
    ]);
    let got = peer.join().expect("peer thread");
    assert_eq!(client.code, Some(0), "stderr: {}", client.stderr);
    let mut expected = b"head|".to_vec();
    expected.extend_from_slice(&middle);
    expected.extend_from_slice(b"|tail");
    assert_eq!(got.len(), expected.len());
    assert!(got == expected, "texts and the file in the order given");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn framed_raw_output_writes_each_message_once() {
    // Framing keeps its events (the messages are what it is for): raw output then comes from the
    // console, never also from the readers' own path.
    let mut server = Running::start(&[
        "tcp-listen",
        "0",
        "--once",
        "--framing",
        "lf",
        "--output",
        "raw",
    ]);
    let addr = server.listening();
    let mut client = TcpStream::connect(addr).expect("connect");
    client.write_all(b"one\ntwo\nthree").expect("send");
    drop(client);
    let done = server.finish();
    assert_eq!(done.code, Some(0), "stderr: {}", done.stderr);
    assert_eq!(
        String::from_utf8_lossy(&done.stdout),
        "one\ntwo\nthree",
        "each message once, the unfinished one too: {}",
        done.stderr
    );
}
