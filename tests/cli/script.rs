//! `socketlab run FILE`: scripted exchanges against real peers on loopback — the shipped
//! examples against Python (a Modbus-style responder, `python3 -m http.server`), and pass,
//! wrong reply, timeout, listen and UDP runs against `std::net` peers; bad scripts exit 2 with
//! the file, line and column.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::child::Running;

const IO_TIMEOUT: Duration = Duration::from_secs(20);

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("resources/scripts")
        .join(name)
        .display()
        .to_string()
}

/// A script file of the test's own, in a scratch folder that is emptied first.
fn script_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("socketlab-script-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn have_python() -> bool {
    let ok = Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    // CI installs python3 (.ci/run): there a missing peer is a failure, not a skip.
    assert!(
        ok || std::env::var_os("CI").is_none(),
        "python3 is not installed, and CI must run the scripted-exchange examples against it"
    );
    if !ok {
        eprintln!("skipped: python3 is not installed");
    }
    ok
}

/// A peer that answers each line `ping N` with `pong N`, and anything else with `nope`.
fn line_peer() -> (SocketAddr, std::thread::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        let mut writer = stream.try_clone().unwrap();
        let mut all = Vec::new();
        for line in BufReader::new(stream).split(b'\n').take(1000) {
            let Ok(line) = line else { break };
            all.extend_from_slice(&line);
            all.push(b'\n');
            let reply = match line.strip_prefix(b"ping ") {
                Some(n) => [b"pong ".as_slice(), n, b"\n"].concat(),
                None => b"nope\n".to_vec(),
            };
            if writer.write_all(&reply).is_err() {
                break;
            }
        }
        all
    });
    (addr, handle)
}

#[test]
fn a_ping_pong_script_with_repeat_set_and_template_passes() {
    let (addr, peer) = line_peer();
    let file = script_file(
        "ping.toml",
        &format!(
            r#"name = "ping pong"
framing = "lf"
timeout_ms = 5000

[connect]
tcp = "{addr}"

[[steps]]
repeat = 3
[[steps.steps]]
send = "ping {{seq}}\n"
format = "template"
[[steps.steps]]
expect.regex = '^pong (\d+)$'

[[steps]]
set = "last"
group = 1

[[steps]]
send = "ping again-{{last}}\n"
format = "template"

[[steps]]
expect.equals = "pong again-3"
"#
        ),
    );
    let run = Running::start(&["run", file.to_str().unwrap()]).finish();
    assert_eq!(
        run.code,
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
    assert!(run.stdout.contains("passed: 10 steps"), "{}", run.stdout);
    assert!(run.stdout.contains("(pass 3 of 3)"), "{}", run.stdout);
    assert!(run.stdout.contains("last = \"3\""), "{}", run.stdout);
    let seen = String::from_utf8(peer.join().unwrap()).unwrap();
    assert_eq!(seen, "ping 1\nping 2\nping 3\nping again-3\n");
}

#[test]
fn a_wrong_reply_fails_the_step_with_its_line_and_what_arrived() {
    let (addr, _peer) = line_peer();
    let file = script_file(
        "wrong.toml",
        &format!(
            "framing = \"lf\"\n[connect]\ntcp = \"{addr}\"\n\n[[steps]]\nsend = \"hello\\n\"\n\n[[steps]]\nexpect.equals = \"pong 1\"\n\n[[steps]]\nsend = \"never sent\\n\"\n"
        ),
    );
    let run = Running::start(&["run", file.to_str().unwrap()]).finish();
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(":8: step 2 failed: expected exactly \"pong 1\"; arrived instead a message of 4 bytes: \"nope\""),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("FAIL  step 2 (line 8)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("not run: the steps on lines 11"),
        "{}",
        run.stdout
    );
}

#[test]
fn silence_fails_the_expect_when_its_timeout_ends() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // Accepts and reads, never answers.
    let peer = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink);
    });
    let file = script_file(
        "silent.toml",
        &format!(
            "[connect]\ntcp = \"{addr}\"\n\n[[steps]]\nsend = \"anyone?\"\n\n[[steps]]\nexpect.contains = \"yes\"\ntimeout_ms = 300\n"
        ),
    );
    let run = Running::start(&["run", "--json", file.to_str().unwrap()]).finish();
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    let objects: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(objects.len(), 3, "{}", run.stdout);
    assert_eq!(objects[0]["result"], "passed");
    assert_eq!(objects[0]["kind"], "send");
    assert_eq!(objects[1]["result"], "failed");
    assert_eq!(objects[1]["line"], 7);
    assert_eq!(
        objects[1]["failure"],
        "expected data containing \"yes\" within 300 ms; nothing arrived."
    );
    assert_eq!(objects[2]["result"], "failed");
    assert_eq!(objects[2]["steps_carried_out"], 2);
    drop(run);
    peer.join().unwrap();
}

#[test]
fn a_listening_script_answers_its_first_client() {
    let file = script_file(
        "listen.toml",
        "[listen]\ntcp = \"127.0.0.1:0\"\nwait_ms = 20000\n\n[[steps]]\nexpect.equals = \"HELLO\"\n\n[[steps]]\nsend = \"WORLD\"\n\n[[steps]]\nexpect.end = true\n",
    );
    let mut run = Running::start(&["run", file.to_str().unwrap()]);
    let line = run.line_with("listening on ");
    let addr: SocketAddr = line["listening on ".len()..].parse().unwrap();
    let mut client = TcpStream::connect(addr).unwrap();
    client.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    client.write_all(b"HELLO").unwrap();
    let mut answer = [0_u8; 5];
    client.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"WORLD");
    client.shutdown(std::net::Shutdown::Write).unwrap();
    let run = run.finish();
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("the peer finished sending"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_udp_script_talks_to_an_echo_peer() {
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = peer.local_addr().unwrap();
    peer.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let echo = std::thread::spawn(move || {
        let mut buf = [0_u8; 2048];
        for _ in 0..2 {
            let Ok((n, from)) = peer.recv_from(&mut buf) else {
                break;
            };
            peer.send_to(&buf[..n], from).unwrap();
        }
    });
    let file = script_file(
        "udp.toml",
        &format!(
            "[connect]\nudp = \"{addr}\"\n\n[[steps]]\nsend = \"A1 B2\"\nformat = \"hex\"\nchecksum = \"xor8\"\n\n[[steps]]\nexpect.hex = \"A1 B2 13\"\n\n[[steps]]\nsend = \"two\"\n\n[[steps]]\nexpect.starts_with = \"tw\"\n"
        ),
    );
    let run = Running::start(&["run", file.to_str().unwrap()]).finish();
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("sent 3 bytes: a1 b2 13"),
        "{}",
        run.stdout
    );
    echo.join().unwrap();
}

#[test]
fn bad_scripts_exit_2_with_file_line_and_column() {
    let cases = [
        (
            "[connect]\ntcp = \"127.0.0.1:1\"\n\n[[steps]]\nsend = \"zz\"\nformat = \"hex\"\n",
            ":5:8: ",
        ),
        (
            "[connect]\ntcp = \"127.0.0.1:1\"\n\n[[steps]]\nexpect.regex = \"(\"\n",
            ":5:",
        ),
        (
            "[connect]\ntcp = \"127.0.0.1:1\"\n\n[[steps]]\nrepeat = 2\n",
            ":4:1: a repeat needs",
        ),
        (
            "[connect]\ntcp = \"nowhere\"\n\n[[steps]]\nwait = 1\n",
            ":2:7: \"nowhere\" is not HOST:PORT",
        ),
        (
            "[connect]\ntcp = \"127.0.0.1:1\"\n[[steps]]\nsend = \"a\"\nexpect.equals = \"b\"\n",
            "both send and expect",
        ),
        ("this is not toml", ":1:"),
    ];
    for (n, (text, wanted)) in cases.iter().enumerate() {
        let file = script_file(&format!("bad{n}.toml"), text);
        let run = Running::start(&["run", file.to_str().unwrap()]).finish();
        assert_eq!(run.code, Some(2), "case {n}: {}", run.stderr);
        assert!(
            run.stderr.contains(&format!("bad{n}.toml")) && run.stderr.contains(wanted),
            "case {n}: wanted {wanted:?} in:\n{}",
            run.stderr
        );
    }
    let run = Running::start(&["run", "/nonexistent/script.toml"]).finish();
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr
            .contains("cannot read the script /nonexistent/script.toml"),
        "{}",
        run.stderr
    );
}

/// The Modbus example against a Python responder that checks the request's CRC and answers
/// with ten registers and its own CRC.
#[test]
fn the_modbus_example_runs_against_a_python_responder() {
    if !have_python() {
        return;
    }
    let responder = r"
import socket, struct, sys
def crc16(data):
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return struct.pack('<H', crc)
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
s.settimeout(20)
c, _ = s.accept(); c.settimeout(20)
req = b''
while len(req) < 8:
    part = c.recv(8 - len(req))
    if not part: sys.exit(1)
    req += part
assert req[6:] == crc16(req[:6]), req.hex()
body = bytes([1, 3, 20]) + bytes(range(20))
c.sendall(body + crc16(body))
print('answered', req.hex(), flush=True)
c.recv(1)
";
    let mut python = Command::new("python3")
        .args(["-c", responder])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(python.stdout.take().unwrap());
    let mut port = String::new();
    out.read_line(&mut port).unwrap();
    let target = format!("127.0.0.1:{}", port.trim());
    let run = Running::start(&[
        "run",
        &example("modbus-read-registers.toml"),
        "--target",
        &target,
    ])
    .finish();
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("sent 8 bytes: 01 03 00 00 00 0a c5 cd"),
        "{}",
        run.stdout
    );
    let mut answered = String::new();
    out.read_line(&mut answered).unwrap();
    assert_eq!(answered.trim(), "answered 01030000000ac5cd");
    let _ = python.wait();
}

/// The HTTP example against Python's own web server.
#[test]
fn the_http_example_gets_a_page_from_python_http_server() {
    if !have_python() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("socketlab-http-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "<p>hello from python</p>\n").unwrap();
    let mut server = Command::new("python3")
        .args(["-u", "-m", "http.server", "--bind", "127.0.0.1", "0"])
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(server.stdout.take().unwrap());
    let mut banner = String::new();
    out.read_line(&mut banner).unwrap();
    // "Serving HTTP on 127.0.0.1 port 43567 (http://127.0.0.1:43567/) ..."
    let port = banner
        .split_whitespace()
        .skip_while(|w| *w != "port")
        .nth(1)
        .unwrap_or_else(|| panic!("no port in {banner:?}"))
        .to_string();
    let run = Running::start(&[
        "run",
        &example("http-get.toml"),
        "--target",
        &format!("127.0.0.1:{port}"),
    ])
    .finish();
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("status = \"200\""), "{}", run.stdout);
    assert!(run.stdout.contains("hello from python"), "{}", run.stdout);
}
