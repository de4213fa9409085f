//! Floods and long lines in a headless window, against real loopback peers: 10 MB without a
//! newline, and a million one-byte datagrams. The window keeps drawing frames (each test is
//! bounded by a generous overall deadline; there are no timing assertions), the counters are
//! exact, the log stays within its budget and says what it hid, and the full data stays in the
//! capture file and the hex dump.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly; that is its job

use std::io::{Read as _, Write as _};
use std::net::{TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use crate::gui_support::{click, harness, open_tab, set_field, texts, wait_for_row};
use crate::gui_support::{tcp_server, udp_server};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use socketlab::gui::SocketLabApp;

/// Longest either test may run (debug build, 2 busy cores): far above what it needs.
const DEADLINE: Duration = Duration::from_mins(2);

/// Steps frames until `done`, panicking with `what` after [`DEADLINE`] from `started`.
fn step_until(
    h: &mut Harness<'_, SocketLabApp>,
    started: Instant,
    what: &str,
    mut done: impl FnMut(&Harness<'_, SocketLabApp>) -> bool,
) {
    loop {
        h.step();
        if done(h) {
            return;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "timed out waiting for: {what}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
#[allow(
    clippy::too_many_lines,
    reason = "a measurement (or a test) is one script from setup to check; split, it would read worse"
)]
fn gui_ten_megabytes_without_a_newline_are_shortened_in_the_log_and_whole_in_capture_and_hex_dump()
{
    const SIZE: usize = 10 * 1024 * 1024;
    let started = Instant::now();
    let dir = std::env::temp_dir().join(format!("socketlab-gui-flood-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    let pattern = dir.join("long.bin");

    let mut h = harness();
    open_tab(&mut h, "TCP server");
    set_field(&mut h, "Port", "0");
    click(&mut h, "Capture to file");
    set_field(&mut h, "Capture file", &pattern.to_string_lossy());
    click(&mut h, "Listen");
    step_until(&mut h, started, "the server listens", |h| {
        tcp_server(h).role.listening.is_some()
    });
    let addr = tcp_server(&h).role.listening.expect("listening");

    // Printable text, one long line: no newline anywhere, and no period shorter than the reads.
    let data: Vec<u8> = (0..SIZE as u64)
        .map(|i| b'a' + ((i.wrapping_mul(2_654_435_761) >> 13) % 26) as u8)
        .collect();
    let to_send = data.clone();
    let sender = std::thread::spawn(move || {
        let mut client = TcpStream::connect(addr).expect("connect");
        client.write_all(&to_send).expect("write");
        client
            .shutdown(std::net::Shutdown::Write)
            .expect("shutdown");
        let mut rest = Vec::new();
        let _ = client.read_to_end(&mut rest);
    });
    step_until(
        &mut h,
        started,
        "10 MiB arrive and the client is gone",
        |h| {
            let tab = &tcp_server(h);
            tab.activity.counters.bytes_in == SIZE as u64 && tab.role.clients.is_empty()
        },
    );
    sender.join().expect("sender");

    // Exact counters, and the capture is byte for byte what was sent.
    let tab = &tcp_server(&h);
    assert_eq!(tab.activity.counters.bytes_in, 10_485_760);
    assert_eq!(tab.activity.log.totals().bytes_in, 10_485_760);
    let captured = std::fs::read(dir.join("long-1.bin")).expect("capture file");
    assert_eq!(captured.len(), SIZE);
    assert!(captured == data, "the capture equals what was sent");

    // The log shows shortened rows that say what they left out; no widget holds a long text.
    wait_for_row(
        &mut h,
        &["◀ in", "bytes not shown: click the row to see them all"],
    );
    let longest = texts(&h).iter().map(|t| t.chars().count()).max();
    assert!(
        longest.is_some_and(|n| n < 2_000),
        "every shown text is short: the longest has {longest:?} characters"
    );

    // Let the window settle first: the frame after the last data still moves the rows (the log
    // sticks to the bottom, the bar's reserved line updates), and an accesskit click names the
    // widget by the id it had when it was queried.
    for _ in 0..5 {
        h.step();
    }
    // A row opens its whole read as a hex dump; only the dump lines on screen are laid out.
    h.query_all_by(|n| {
        n.value()
            .or_else(|| n.label())
            .is_some_and(|l| l.contains("◀ in") && l.contains("bytes not shown"))
    })
    .next()
    .expect("a shortened row")
    // A wide row's centre lies past the window's edge: click it as a screen reader would.
    .click_accesskit();
    h.step();
    h.step();
    let entry = tcp_server(&h)
        .activity
        .selected
        .clone()
        .expect("a row is picked");
    assert_eq!(
        entry.preview.len(),
        entry.len,
        "the dump has every byte of the read"
    );
    assert!(entry.len > 400, "the picked row was a long one");
    let dump_lines = texts(&h)
        .iter()
        .filter(|t| {
            t.len() > 10
                && t.as_bytes()[8..10] == *b"  "
                && t[..8].bytes().all(|b| b.is_ascii_hexdigit())
        })
        .count();
    let longest = texts(&h).iter().map(|t| t.chars().count()).max();
    assert!(
        longest.is_some_and(|n| n < 2_000),
        "the dump is not one long text: the longest has {longest:?} characters"
    );
    assert!(
        (5..200).contains(&dump_lines),
        "the dump lays out only the lines on screen, not {} of them: {dump_lines}",
        entry.len / 16
    );
    assert!(
        texts(&h).iter().any(|t| t.starts_with("00000000  ")),
        "the dump starts at offset 0"
    );

    // The lines view cuts the endless line at its limit and says so.
    click(&mut h, "Lines (readline)");
    wait_for_row(&mut h, &["no newline yet: cut at 64 KiB"]);
    // A frame after all that completes (the harness would hang or panic otherwise).
    h.run_steps(3);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The kernel's count of UDP datagrams dropped for a full receive buffer (all sockets).
fn kernel_udp_drops() -> Option<u64> {
    let snmp = std::fs::read_to_string("/proc/net/snmp").ok()?;
    let mut udp = snmp.lines().filter(|l| l.starts_with("Udp:"));
    let names: Vec<&str> = udp.next()?.split_whitespace().collect();
    let values: Vec<&str> = udp.next()?.split_whitespace().collect();
    let at = names.iter().position(|n| *n == "RcvbufErrors")?;
    values.get(at)?.parse().ok()
}

#[test]
fn gui_a_million_one_byte_datagrams_are_counted_exactly_and_the_log_stays_in_budget() {
    const SENT: u64 = 1_000_000;
    /// Datagrams the sender may be ahead of the engine's reader: far fewer than a 4 MiB receive
    /// buffer holds, so the kernel drops none (each would be one read the engine never sees).
    const AHEAD: u64 = 2_000;
    let started = Instant::now();
    let drops_before = kernel_udp_drops();

    let mut h = harness();
    // A budget a million entries cannot fit (as a user may set it), so the log must hide some.
    crate::gui_support::first_mut::<socketlab::gui::roles::UdpServer>(&mut h)
        .activity
        .log
        .set_max_bytes(32 << 20);
    open_tab(&mut h, "UDP server");
    set_field(&mut h, "Port", "0");
    click(&mut h, "Bind");
    step_until(&mut h, started, "the server binds", |h| {
        udp_server(h).role.bound.is_some()
    });
    let to = udp_server(&h).role.bound.expect("bound");
    let sender = UdpSocket::bind("127.0.0.1:0").expect("bind");

    let mut sent = 0_u64;
    while sent < SENT {
        let seen = udp_server(&h).activity.counters.datagrams_in;
        let room = (seen + AHEAD).saturating_sub(sent).min(SENT - sent);
        for i in 0..room {
            sender
                .send_to(&[b'0' + ((sent + i) % 10) as u8], to)
                .expect("send");
        }
        sent += room;
        h.step();
        if room == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(
            started.elapsed() < DEADLINE,
            "timed out after sending {sent} datagrams"
        );
    }
    step_until(&mut h, started, "every datagram is read and drained", |h| {
        let a = &udp_server(h).activity;
        a.counters.datagrams_in >= SENT && a.log.totals().pieces_in >= SENT
    });
    let drops = kernel_udp_drops()
        .zip(drops_before)
        .map(|(after, before)| after - before);

    let a = &udp_server(&h).activity;
    // Received + not shown = sent: every one is counted, whether the log listed it or not.
    assert_eq!(
        a.counters.datagrams_in, SENT,
        "kernel drops during the test: {drops:?}"
    );
    assert_eq!(a.counters.bytes_in, SENT);
    assert_eq!(a.log.totals().pieces_in, SENT);
    assert_eq!(a.log.totals().bytes_in, SENT);
    // The log kept within its budget and says how many entries it hid.
    let (kept, hidden) = (a.log.len(), a.log.hidden());
    assert!(
        a.log.footprint() <= a.log.max_bytes(),
        "the log keeps within its memory budget: {} of {} bytes",
        a.log.footprint(),
        a.log.max_bytes()
    );
    assert!(hidden > 0, "a million entries do not fit a 32 MiB budget");
    // A datagram the window was too busy to list is counted as "not listed" (and said so).
    let not_listed = a.counters.not_shown_datagrams;
    assert!(
        hidden + not_listed >= SENT - kept as u64,
        "{hidden} hidden + {not_listed} not listed + {kept} kept cover the {SENT} datagrams"
    );
    let says = format!("{hidden} older entries hidden");
    step_until(&mut h, started, &says, |h| {
        h.query_all_by_label_contains(&says).next().is_some()
    });
    assert!(a_row_shows(&h, "◀ in"), "the newest datagrams are listed");
}

fn a_row_shows(h: &Harness<'_, SocketLabApp>, part: &str) -> bool {
    texts(h).iter().any(|t| t.contains(part))
}
