//! The command line's bad-input table: every case the hardening issue lists (ports, hosts, hex,
//! escapes, sizes, files), each with the exit code and the fragment of the one sentence it must
//! print on standard error. Bad input is exit code 2; a name that only turns out not to exist
//! once the resolver has been asked is a runtime failure, exit code 1 (see README, "Exit codes").
//! No case may panic or print anything on standard output.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly; that is its job

use std::io::Read;
use std::net::UdpSocket;
#[cfg(unix)]
use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[cfg(unix)]
#[cfg(unix)]
use crate::normal_user::NormalUser;

/// Longest one bad-input run may take (a debug build on a busy 2-core machine).
const RUN_TIMEOUT: Duration = Duration::from_secs(30);

/// The empty-send sentence, shared with the window.
const EMPTY_TCP: &str = "The message is empty, and over TCP sending nothing does nothing";

/// Placeholders in [`CASES`], filled in per run: `{DIR}` a scratch folder holding the files below,
/// `{LONG}` a 300-character host name, `{X65528}` that many `x`, `{UDP4}`/`{UDP6}` the port of
/// a UDP socket on `127.0.0.1` / `::1` that takes whatever arrives.
///
/// Each row: the arguments, the exit code, a fragment of the sentence on standard error.
#[rustfmt::skip]
const CASES: &[(&[&str], i32, &str)] = &[
    // ---- ports ----
    (&["tcp-connect", "127.0.0.1", ""], 2, "Enter a port: a number from 1 to 65535"),
    (&["tcp-connect", "127.0.0.1", "0"], 2, "Port 0 means \"let the system choose\""),
    (&["udp-send", "127.0.0.1", "0"], 2, "Port 0 means \"let the system choose\""),
    (&["tcp-connect", "127.0.0.1", "65536"], 2, "65536 is not a port: ports go from 0 to 65535."),
    (&["tcp-connect", "127.0.0.1", "9", "--tls", "--framing", "lf"], 2, "--framing lf does not work with --tls yet"),
    (&["tcp-listen", "0", "--tls", "--self-signed", "--framing", "crlf"], 2, "--framing crlf does not work with --tls yet"),
    (&["tcp-connect", "127.0.0.1", "-1"], 2, "-1 is not a port: ports go from 0 to 65535."),
    (&["tcp-connect", "127.0.0.1", "80a"], 2, "\"80a\" is not a number, and no tcp service has that name."),
    (&["udp-send", "127.0.0.1", "no-such-service"], 2, "\"no-such-service\" is not a number, and no udp service has that name."),
    (&["tcp-listen", ""], 2, "Enter a port"),
    (&["tcp-listen", "65536"], 2, "65536 is not a port"),
    (&["tcp-listen", "-1"], 2, "-1 is not a port"),
    (&["udp-listen", "80a"], 2, "\"80a\" is not a number, and no udp service has that name."),
    (&["lookup", "localhost", "65536"], 2, "65536 is not a port"),
    // ---- hosts ----
    (&["tcp-connect", "", "80"], 2, "could not be turned into an address (no host given)"),
    (&["udp-send", " ", "80"], 2, "(no host given)"),
    (&["tcp-connect", "999.1.1.1", "80"], 2, "an IPv4 address is four numbers from 0 to 255"),
    (&["udp-send", "1.2.3.256", "80", "--send", "x"], 2, "an IPv4 address is four numbers from 0 to 255"),
    (&["tcp-connect", "[::1", "80"], 2, "the '[' has no matching ']'"),
    (&["tcp-connect", "::1]", "80"], 2, "the ']' has no matching '['"),
    (&["tcp-connect", "{LONG}", "80"], 2, "a host name has at most 253 characters"),
    (&["tcp-listen", "0", "--bind", "999.1.1.1"], 2, "\"999.1.1.1\" is not an IP address to listen on: use 127.0.0.1"),
    // Only the resolver can say a name does not exist: a runtime failure, exit 1.
    (&["tcp-connect", "no-such-host.invalid", "80"], 1, "The name \"no-such-host.invalid\" could not be turned into an address (the resolver answered:"),
    (&["udp-send", "no-such-host.invalid", "9", "--send", "x"], 1, "The name \"no-such-host.invalid\" could not be turned into an address"),
    (&["lookup", "no-such-host.invalid"], 1, "The name \"no-such-host.invalid\" could not be turned into an address (the resolver answered:"),
    // ---- hex ----
    (&["tcp-connect", "127.0.0.1", "9", "--hex", "abc"], 2, "In --hex \"abc\": The hex digit at position 3 has no partner: each byte takes two digits."),
    (&["tcp-connect", "127.0.0.1", "9", "--hex", "0xZZ"], 2, "'Z' at position 3 is not a hex digit"),
    (&["udp-send", "127.0.0.1", "9", "--hex", "41 é"], 2, "'é' at position 4 is not a hex digit"),
    // ---- escapes ----
    (&["tcp-connect", "127.0.0.1", "9", "--escapes", "--send", "\\x"], 2, "The escape at position 1 needs two hex digits after \\x"),
    (&["tcp-connect", "127.0.0.1", "9", "--escapes", "--send", "a\\xG1"], 2, "The escape at position 2 needs two hex digits after \\x"),
    (&["udp-send", "127.0.0.1", "9", "--escapes", "--send", "ab\\"], 2, "The \\ at position 3 ends the message without saying what it stands for"),
    (&["tcp-listen", "0", "--escapes", "--reply", "\\q"], 2, "Unknown escape at position 1"),
    // ---- sizes: one datagram's limit per family, files no datagram can carry, empty sends ----
    (&["udp-send", "127.0.0.1", "{UDP4}", "--file", "{DIR}/65508.bin", "--wait", "0"], 2, "That message is 65508 bytes, but one UDP datagram over IPv4 can carry at most 65507 bytes."),
    (&["udp-send", "::1", "{UDP6}", "--send", "{X65528}", "--wait", "0"], 2, "That message is 65528 bytes, but one UDP datagram over IPv6 can carry at most 65527 bytes."),
    (&["udp-send", "::1", "{UDP6}", "--file", "{DIR}/65528.bin"], 2, "The file {DIR}/65528.bin is 65528 bytes, but one UDP datagram can carry at most 65507 bytes over IPv4 and 65527 over IPv6."),
    (&["udp-send", "127.0.0.1", "{UDP4}", "--file", "{DIR}/1g.bin"], 2, "The file {DIR}/1g.bin is 1073741824 bytes, but one UDP datagram can carry at most 65507 bytes over IPv4 and 65527 over IPv6."),
    (&["udp-send", "127.0.0.1", "{UDP4}", "--file", "/dev/zero", "--wait", "0"], 2, "The file /dev/zero holds more than 65527 bytes, but one UDP datagram can carry at most"),
    (&["tcp-connect", "127.0.0.1", "9", "--send", ""], 2, EMPTY_TCP),
    (&["tcp-connect", "127.0.0.1", "9", "--send", "a", "--hex", ""], 2, EMPTY_TCP),
    (&["tcp-listen", "0", "--send", ""], 2, EMPTY_TCP),
    (&["tcp-listen", "0", "--reply", ""], 2, "--reply: The message is empty, and over TCP sending nothing does nothing"),
    // ---- files ----
    (&["tcp-connect", "127.0.0.1", "9", "--file", "{DIR}/missing.bin"], 2, "Cannot read the file {DIR}/missing.bin: it does not exist."),
    (&["udp-send", "127.0.0.1", "9", "--file", "{DIR}"], 2, "Cannot read the file {DIR}: it is a folder."),
    // A file that fails to read for every user, root included (the kernel refuses reading
    // another process's memory at address 0).
    (&["udp-send", "127.0.0.1", "{UDP4}", "--file", "/proc/self/mem", "--wait", "0"], 2, "Could not read /proc/self/mem: input/output error."),
    (&["tcp-listen", "0", "--capture", "{DIR}"], 2, "Could not write the capture file {DIR} (it is a folder: add a file name to it"),
    (&["udp-listen", "0", "--capture", "{DIR}/no/such/folder/dump.bin"], 2, "(the folder {DIR}/no/such/folder does not exist)"),
];

/// What one run left behind.
struct Finished {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
}

/// Runs `command` to its end (killed after [`RUN_TIMEOUT`]), standard input empty.
fn run(mut command: Command) -> Finished {
    let mut child: Child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the socketlab binary starts");
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let stdout = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = out.read_to_end(&mut bytes);
        bytes
    });
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = err.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + RUN_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Finished {
        code: status.and_then(|s| s.code()),
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

fn socketlab(args: &[String]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_socketlab"));
    command.args(args);
    command
}

/// A fresh folder with the files the table names.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("socketlab-bad-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

fn check(args: &[String], code: i32, fragment: &str, done: &Finished) {
    assert_eq!(
        done.code,
        Some(code),
        "{args:?}: expected exit {code}, stderr: {}",
        done.stderr
    );
    assert!(
        done.stderr.contains(fragment),
        "{args:?}: expected {fragment:?} on stderr, got {:?}",
        done.stderr
    );
    assert!(
        !done.stderr.contains("panicked"),
        "{args:?}: {}",
        done.stderr
    );
    assert!(
        !done.stderr.contains("os error"),
        "{args:?}: a programmer's error code leaked: {}",
        done.stderr
    );
    assert!(
        done.stdout.is_empty(),
        "{args:?} printed on stdout: {:?}",
        String::from_utf8_lossy(&done.stdout)
    );
}

#[test]
fn cli_bad_input_table_exit_code_and_sentence() {
    let dir = scratch("table");
    std::fs::write(dir.join("65508.bin"), vec![b'x'; 65_508]).expect("file");
    std::fs::write(dir.join("65528.bin"), vec![b'x'; 65_528]).expect("file");
    // 1 GiB that takes no disk space (sparse): it must be refused without being read.
    std::fs::File::create(dir.join("1g.bin"))
        .and_then(|f| f.set_len(1 << 30))
        .expect("sparse file");
    // Datagrams that are refused never arrive; these sockets only give the sends a real target.
    let udp4 = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let udp6 = UdpSocket::bind("[::1]:0").expect("bind ::1");
    let dir_text = dir.to_str().expect("utf-8 path").to_owned();
    let fill = |text: &str| {
        text.replace("{DIR}", &dir_text)
            .replace("{LONG}", &"a".repeat(300))
            .replace("{X65528}", &"x".repeat(65_528))
            .replace(
                "{UDP4}",
                &udp4.local_addr().expect("addr").port().to_string(),
            )
            .replace(
                "{UDP6}",
                &udp6.local_addr().expect("addr").port().to_string(),
            )
    };
    let mut failures = Vec::new();
    for (args, code, fragment) in CASES {
        let args: Vec<String> = args.iter().map(|a| fill(a)).collect();
        let done = run(socketlab(&args));
        if let Err(panic) = std::panic::catch_unwind(|| check(&args, *code, &fill(fragment), &done))
        {
            failures.push(
                panic
                    .downcast_ref::<String>()
                    .cloned()
                    .unwrap_or_else(|| format!("{args:?}")),
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

/// An unreadable file (mode 000). Root reads everything, so as root the CLI runs as `nobody`
/// (see `normal_user`).
#[cfg(unix)]
#[test]
fn cli_unreadable_file_is_refused_with_permission_denied() {
    let dir = scratch("unreadable");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod dir");
    let secret = dir.join("secret.bin");
    std::fs::write(&secret, b"not for you").expect("file");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    let path = secret.to_str().expect("utf-8 path").to_owned();
    let args: Vec<String> = ["tcp-connect", "127.0.0.1", "9", "--file", &path]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let user = NormalUser::new();
    let command = user.command(&args);
    let done = run(command);
    let _ = std::fs::remove_dir_all(&dir);
    check(
        &args,
        2,
        &format!(
            "Cannot read the file {path}: this user is not allowed to open it (permission denied)."
        ),
        &done,
    );
}

/// Over UDP an empty message is a real, zero-length datagram: it is sent, not refused.
#[test]
fn cli_empty_udp_send_is_a_zero_length_datagram() {
    let peer = UdpSocket::bind("127.0.0.1:0").expect("bind");
    peer.set_read_timeout(Some(RUN_TIMEOUT)).expect("timeout");
    let port = peer.local_addr().expect("addr").port().to_string();
    let args: Vec<String> = ["udp-send", "127.0.0.1", &port, "--send", "", "--wait", "0"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let done = run(socketlab(&args));
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert!(
        done.stderr.contains("sent 1 datagram (0 bytes)"),
        "{}",
        done.stderr
    );
    let mut buf = [0_u8; 16];
    let (n, _) = peer
        .recv_from(&mut buf)
        .expect("the empty datagram arrives");
    assert_eq!(n, 0);
}
