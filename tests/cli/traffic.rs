//! The traffic generator on the command line: `udp-send --rate --count --size --sequence` into
//! `udp-listen --sequence` (directly and through a lossy relay), and the same over TCP.

use crate::child::Running;
#[cfg(unix)]
use crate::child::number_after;

#[cfg(unix)]
fn sequence_report(mut listener: Running, wait_for: &str) -> String {
    if wait_for == "end" {
        listener.stdout_line_with("3 bytes: end");
    } else {
        listener.line_with(wait_for);
    }
    listener.interrupt();
    let done = listener.finish();
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    done.stderr
        .lines()
        .find(|l| l.starts_with("sequence check, "))
        .unwrap_or_else(|| panic!("no report:\n{}", done.stderr))
        .to_owned()
}

#[cfg(unix)]
#[test]
fn udp_generator_into_a_sequence_check_accounts_for_every_datagram() {
    let mut listener = Running::start(&["udp-listen", "0", "--sequence"]);
    let addr = listener.listening().to_string();
    let (host, port) = addr.rsplit_once(':').unwrap();
    let sender = Running::start(&[
        "udp-send",
        host,
        port,
        "--rate",
        "5000",
        "--count",
        "500",
        "--size",
        "100",
        "--sequence",
    ]);
    let sent = sender.finish();
    assert_eq!(sent.code, Some(0), "{}", sent.stderr);
    assert!(
        sent.stderr.contains("generated 500 messages (50000 bytes)"),
        "{}",
        sent.stderr
    );
    // A datagram without a header, sent after the run, shows the listener has read everything
    // sent before it (loopback queues a datagram by the time its send returns).
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .send_to(b"end", &addr)
        .unwrap();
    let report = sequence_report(listener, "end");
    assert!(
        report.contains("expected 500 (the sender's count)"),
        "{report}"
    );
    assert_eq!(
        number_after(&report, "received") + number_after(&report, "lost"),
        500,
        "{report}"
    );
    assert!(report.contains("duplicated 0, out of order 0"), "{report}");
}

#[cfg(unix)]
#[test]
fn through_a_20_percent_loss_relay_the_check_counts_what_the_relay_dropped() {
    let mut listener = Running::start(&["udp-listen", "0", "--sequence"]);
    let target = listener.listening().to_string();
    let mut relay = Running::start(&[
        "relay", "--listen", "0", "--to", &target, "--udp", "--loss", "20", "--seed", "3",
        "--count", "1000",
    ]);
    let via = relay.listening().to_string();
    relay.line_with("relaying UDP");
    let (host, port) = via.rsplit_once(':').unwrap();
    let sender = Running::start(&[
        "udp-send",
        host,
        port,
        "--rate",
        "5000",
        "--count",
        "1000",
        "--sequence",
    ]);
    assert_eq!(sender.finish().code, Some(0));
    let relayed = relay.finish();
    assert_eq!(relayed.code, Some(0), "{}", relayed.stderr);
    let to_target = relayed
        .stderr
        .lines()
        .find(|l| l.starts_with("to the target:"))
        .unwrap()
        .to_owned();
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .send_to(b"end", &target)
        .unwrap();
    let report = sequence_report(listener, "end");
    assert!(report.contains("expected 1000"), "{report}");
    assert_eq!(
        number_after(&report, "received"),
        number_after(&to_target, "forwarded"),
        "{report}\n{to_target}"
    );
    assert_eq!(
        number_after(&report, "lost"),
        number_after(&to_target, "dropped"),
        "{report}\n{to_target}"
    );
}

#[cfg(unix)]
#[test]
fn tcp_generator_in_bytes_per_second_arrives_whole_and_in_order() {
    let mut listener = Running::start(&["tcp-listen", "0", "--sequence", "--output", "none"]);
    let addr = listener.listening().to_string();
    let (host, port) = addr.rsplit_once(':').unwrap();
    let sender = Running::start(&[
        "tcp-connect",
        host,
        port,
        "--rate",
        "4MB/s",
        "--count",
        "1000",
        "--size",
        "1000",
        "--sequence",
    ]);
    let sent = sender.finish();
    assert_eq!(sent.code, Some(0), "{}", sent.stderr);
    let report = sequence_report(listener, "disconnected");
    assert!(
        report.contains("expected 1000 (the sender's count), received 1000, lost 0, duplicated 0, out of order 0"),
        "{report}"
    );
}

#[test]
fn generator_options_are_checked_before_anything_is_sent() {
    for (args, part) in [
        (
            &["udp-send", "127.0.0.1", "9", "--sequence", "--size", "8"][..],
            "32-byte sequence header",
        ),
        (
            &["udp-send", "127.0.0.1", "9", "--rate", "lots"][..],
            "not a rate",
        ),
        (
            &["udp-send", "127.0.0.1", "9", "--count", "5", "--send", "hi"][..],
            "leave out --send",
        ),
        (
            &["tcp-connect", "127.0.0.1", "9", "--rate", "0"][..],
            "above 0",
        ),
    ] {
        let done = Running::start(args).finish();
        assert_eq!(done.code, Some(2), "{args:?}: {}", done.stderr);
        assert!(done.stderr.contains(part), "{args:?}: {}", done.stderr);
    }
}
