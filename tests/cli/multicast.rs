//! `udp-listen --join` and `udp-send --ttl / --interface / --multicast-loop / --broadcast` as a
//! user runs them. Runs that send go inside a private network namespace of their own (see
//! tests/support/netns.rs); the bad-input checks only read the list of interfaces and send
//! nothing.

use std::process::Command;

use crate::child::Running;
use crate::netns::{LO_MULTICAST, in_netns, two_netns};

/// Runs `socketlab ARGS` to its end; (exit code, standard output, standard error).
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_socketlab"))
        .args(args)
        .output()
        .expect("socketlab runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn bad_input(args: &[&str], sentence: &str) {
    let (code, _, stderr) = run(args);
    assert_eq!(
        code,
        Some(2),
        "{args:?} should be bad input; stderr:\n{stderr}"
    );
    assert!(
        stderr.contains(sentence),
        "{args:?}: no {sentence:?} in:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn bad_groups_interfaces_and_sources_are_bad_input() {
    bad_input(
        &["udp-listen", "0", "--join", "10.1.2.3"],
        "10.1.2.3 is not a multicast group address: IPv4 groups are 224.0.0.0 to 239.255.255.255",
    );
    bad_input(
        &["udp-listen", "0", "--join", "fe80::1"],
        "IPv6 groups start with ff",
    );
    bad_input(
        &["udp-listen", "0", "--join", "banana"],
        "\"banana\" is not a group address",
    );
    bad_input(
        &["udp-listen", "0", "--join", "239.1.2.3@no-such-if0"],
        "This machine has no interface called \"no-such-if0\". Its interfaces are: ",
    );
    bad_input(
        &[
            "udp-listen",
            "0",
            "--join",
            "239.1.2.3",
            "--join",
            "ff15::1",
        ],
        "are of different families (IPv4 and IPv6)",
    );
    bad_input(
        &["udp-listen", "0", "--bind", "::1", "--join", "239.1.2.3"],
        "--bind ::1 is an IPv6 address, but --join 239.1.2.3 is an IPv4 group",
    );
    bad_input(
        &["udp-listen", "0", "--join", "232.1.1.1", "--source", "::1"],
        "are of different families",
    );
    bad_input(
        &[
            "udp-listen",
            "0",
            "--join",
            "ff15::1",
            "--source",
            "2001:db8::9",
        ],
        "source-specific join of an IPv6 group (MLDv2) is not available",
    );
    bad_input(
        &["udp-send", "127.0.0.1", "9", "--multicast-loop", "off"],
        "--multicast-loop applies to datagrams sent to a group, and 127.0.0.1 is not one",
    );
    bad_input(
        &["udp-send", "239.1.2.3", "9", "--interface", "no-such-if0"],
        "--interface no-such-if0: This machine has no interface called \"no-such-if0\"",
    );
    bad_input(&["udp-send", "239.1.2.3", "9", "--ttl", "0"], "--ttl");
    bad_input(&["udp-send", "239.1.2.3", "9", "--ttl", "300"], "--ttl");
}

#[test]
fn a_listener_in_a_group_prints_what_the_sender_sends_to_it() {
    in_netns("cli_join", LO_MULTICAST, || {
        let mut listener = Running::start(&[
            "udp-listen",
            "0",
            "--join",
            "239.1.2.3@lo",
            "--count",
            "2",
            "--output",
            "json",
        ]);
        let local = listener.listening();
        assert_eq!(
            local.ip().to_string(),
            "0.0.0.0",
            "--join binds the wildcard"
        );
        let joined = listener.line_with("joined group");
        assert_eq!(joined, "joined group 239.1.2.3 on lo (index 1)");
        let port = local.port().to_string();
        let (code, _, stderr) = run(&[
            "udp-send",
            "239.1.2.3",
            &port,
            "--interface",
            "lo",
            "--ttl",
            "2",
            "--send",
            "hello",
            "--wait",
            "0",
            "--explain",
        ]);
        assert_eq!(code, Some(0), "{stderr}");
        assert!(
            stderr.contains("setsockopt(IP_MULTICAST_TTL, 2) → ok"),
            "{stderr}"
        );
        assert!(
            stderr.contains("setsockopt(IP_MULTICAST_IF, 127.0.0.1 (lo)) → ok"),
            "{stderr}"
        );
        let (code, _, stderr) = run(&[
            "udp-send",
            "127.0.0.1",
            &port,
            "--send",
            "direct",
            "--wait",
            "0",
        ]);
        assert_eq!(code, Some(0), "{stderr}");
        let done = listener.finish();
        assert_eq!(done.code, Some(0), "{}", done.stderr);
        let lines: Vec<serde_json::Value> = done
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
            .filter(|v: &serde_json::Value| v["event"] == "datagram")
            .collect();
        assert_eq!(lines.len(), 2, "{}", done.stdout);
        assert_eq!(lines[0]["text"], "hello");
        assert_eq!(lines[0]["to"], "239.1.2.3");
        assert_eq!(lines[0]["to_kind"], "group");
        assert_eq!(lines[1]["text"], "direct");
        assert_eq!(lines[1]["to_kind"], "this host");
    });
}

#[test]
fn a_silent_group_is_explained_on_standard_error() {
    let setup: &[&str] = &[
        "link set lo up",
        "link set lo multicast on",
        "route add 224.0.0.0/4 dev lo",
        "link add va type veth peer name vb",
        "addr add 198.51.100.1/24 brd + dev va",
        "link set va up",
        "link set vb up",
    ];
    in_netns("cli_silence", setup, || {
        let mut listener = Running::start(&[
            "udp-listen",
            "0",
            "--join",
            "239.1.2.3@va",
            "--silence",
            "0.3",
        ]);
        let port = listener.listening().port().to_string();
        let (code, _, stderr) = run(&[
            "udp-send",
            "239.1.2.3",
            &port,
            "--send",
            "lost",
            "--wait",
            "0",
        ]);
        assert_eq!(code, Some(0), "{stderr}");
        listener.line_with("nothing has arrived from the groups for");
        let wrong = listener.line_with("Wrong interface");
        assert!(
            wrong.starts_with("  - found: Wrong interface: datagrams to 239.1.2.3 sent from this machine leave through lo"),
            "{wrong}"
        );
        listener.line_with("possible: A sender on another network");
        listener.interrupt();
        let done = listener.finish();
        assert_eq!(done.code, Some(0), "{}", done.stderr);
        assert!(
            done.stderr.contains("received 0 datagrams"),
            "{}",
            done.stderr
        );
        assert!(done.stdout.is_empty(), "nothing arrived: {}", done.stdout);
    });
}

#[test]
fn broadcast_to_the_namespace_subnet_is_printed_as_broadcast() {
    let (port_tx, port_rx) = crossbeam_channel::bounded::<String>(1);
    let ran = two_netns(
        "cli_broadcast",
        (
            "va",
            &[
                "link set lo up",
                "addr add 198.51.100.1/24 brd + dev va",
                "link set va up",
            ],
        ),
        (
            "vb",
            &[
                "link set lo up",
                "addr add 198.51.100.2/24 brd + dev vb",
                "link set vb up",
            ],
        ),
        move || {
            let port = port_rx
                .recv_timeout(std::time::Duration::from_secs(20))
                .expect("port");
            let (code, _, stderr) = run(&[
                "udp-send",
                "198.51.100.255",
                &port,
                "--send",
                "x",
                "--wait",
                "0",
            ]);
            assert_eq!(
                code,
                Some(1),
                "without --broadcast the system refuses:\n{stderr}"
            );
            assert!(stderr.contains("turn on Broadcast"), "{stderr}");
            let (code, _, stderr) = run(&[
                "udp-send",
                "198.51.100.255",
                &port,
                "--broadcast",
                "--send",
                "to all",
                "--wait",
                "0",
            ]);
            assert_eq!(code, Some(0), "{stderr}");
        },
        move || {
            let mut listener =
                Running::start(&["udp-listen", "0", "--bind", "0.0.0.0", "--count", "1"]);
            let port = listener.listening().port().to_string();
            port_tx.send(port).expect("port sent");
            listener.finish()
        },
    );
    let Some(((), done)) = ran else { return };
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert!(
        done.stdout.contains("from 198.51.100.1:")
            && done
                .stdout
                .contains(" to broadcast 198.51.100.255 6 bytes: to all"),
        "{}",
        done.stdout
    );
}
