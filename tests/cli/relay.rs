//! `socketlab relay` as a user runs it: the real binary between real loopback peers, its
//! counters at the end, the TCP note about loss, and bad input refused with exit 2.

#[cfg(unix)]
use std::io::{Read, Write};
use std::net::UdpSocket;
#[cfg(unix)]
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use crate::child::{Running, number_after};

#[test]
fn a_udp_relay_with_a_count_prints_counters_that_add_up() {
    let target = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = target.local_addr().unwrap().to_string();
    let mut relay = Running::start(&[
        "relay", "--listen", "0", "--to", &to, "--udp", "--loss", "50", "--seed", "7", "--count",
        "100",
    ]);
    let addr = relay.listening();
    assert!(relay.line_with("relaying UDP").contains("seed 7"));
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    for n in 0..100_u8 {
        client.send_to(&[n], addr).unwrap();
    }
    let done = relay.finish();
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let to_target = done
        .stderr
        .lines()
        .find(|l| l.starts_with("to the target:"))
        .unwrap_or_else(|| panic!("no counters:\n{}", done.stderr));
    assert_eq!(number_after(to_target, "received"), 100, "{to_target}");
    let forwarded = number_after(to_target, "forwarded");
    let dropped = number_after(to_target, "dropped");
    assert_eq!(forwarded + dropped, 100, "{to_target}");
    assert_eq!(number_after(to_target, "loss"), dropped, "{to_target}");
    // What the relay says it forwarded is what the target got.
    target
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = [0_u8; 16];
    let arrived = std::iter::from_fn(|| target.recv(&mut buf).ok()).count() as u64;
    assert_eq!(arrived, forwarded);
}

#[cfg(unix)]
#[test]
fn a_tcp_relay_forwards_both_ways_says_it_cannot_lose_and_ctrl_c_prints_the_counters() {
    let target = TcpListener::bind("127.0.0.1:0").unwrap();
    let to = target.local_addr().unwrap().to_string();
    let echo = std::thread::spawn(move || {
        let (mut stream, _) = target.accept().unwrap();
        let mut buf = [0_u8; 1024];
        loop {
            let n = stream.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            stream.write_all(&buf[..n]).unwrap();
        }
    });
    let mut relay = Running::start(&[
        "relay",
        "--listen",
        "127.0.0.1:0",
        "--to",
        &to,
        "--tcp",
        "--delay",
        "30",
        "--loss",
        "10",
        "--rate",
        "64kB/s",
    ]);
    let addr = relay.listening();
    relay.line_with("do not apply to TCP");
    let mut client = TcpStream::connect(addr).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    client.write_all(b"hello through the relay").unwrap();
    client.shutdown(std::net::Shutdown::Write).unwrap();
    let mut back = String::new();
    client.read_to_string(&mut back).unwrap();
    assert_eq!(back, "hello through the relay");
    echo.join().unwrap();
    relay.line_with("ended");
    relay.interrupt();
    let done = relay.finish();
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert!(
        done.stderr
            .contains("to the target: received 23 bytes in 1 reads, forwarded 23 bytes"),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr.contains("back to clients: received 23 bytes"),
        "{}",
        done.stderr
    );
}

#[test]
fn bad_relay_arguments_are_refused_with_exit_code_2() {
    for (args, part) in [
        (
            &[
                "relay",
                "--listen",
                "0",
                "--to",
                "127.0.0.1:9",
                "--udp",
                "--loss",
                "150",
            ][..],
            "percentage",
        ),
        (
            &["relay", "--listen", "0", "--to", "127.0.0.1", "--udp"][..],
            "needs a host and a port",
        ),
        (
            &["relay", "--listen", "0", "--to", "127.0.0.1:70000", "--tcp"][..],
            "70000",
        ),
        (
            &["relay", "--listen", "0", "--to", "127.0.0.1:9"][..],
            "--tcp",
        ),
        (
            &[
                "relay",
                "--listen",
                "0",
                "--to",
                "127.0.0.1:9",
                "--udp",
                "--rate",
                "fast",
            ][..],
            "not a rate",
        ),
        (
            &[
                "relay",
                "--listen",
                "0",
                "--to",
                "127.0.0.1:9",
                "--udp",
                "--delay",
                "-5",
            ][..],
            "delay",
        ),
    ] {
        let done = Running::start(args).finish();
        assert_eq!(done.code, Some(2), "{args:?}: {}", done.stderr);
        assert!(done.stderr.contains(part), "{args:?}: {}", done.stderr);
    }
}
