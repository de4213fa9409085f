//! The relay between real loopback peers: exact accounting at 20% loss for 10,000 datagrams,
//! the same seed giving the same drops, replies back to each client, duplication, reordering,
//! a bounded delay queue, and a TCP stream delivered whole and in order under delay and throttle.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use socket2::{Domain, Socket, Type};
use socketlab::engine::noop_waker;
use socketlab::engine::relay::{self, Impairments, Relay, RelayConfig, RelayEvent, Transport};
use socketlab::engine::{EventKind, StopReason};

use crate::common::{TIMEOUT, bound_addr, wait};

/// A UDP socket with a receive buffer large enough for a whole test's datagrams.
fn udp_socket() -> UdpSocket {
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, None).unwrap();
    socket.set_recv_buffer_size(8 * 1024 * 1024).unwrap();
    socket
        .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    let socket: UdpSocket = socket.into();
    socket
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    socket
}

fn udp_relay(target: SocketAddr, impairments: Impairments, seed: u64) -> (Relay, SocketAddr) {
    let mut config = RelayConfig::new(Transport::Udp, target.ip().to_string(), target.port());
    config.impairments = impairments;
    config.seed = seed;
    let relay = relay::start(config, noop_waker());
    let addr = bound_addr(relay.session());
    (relay, addr)
}

/// Waits (bounded) until `done` holds for the relay's counters. The counters have no event of
/// their own; they are read every few milliseconds only while a test waits for them.
fn until(relay: &Relay, what: &str, mut done: impl FnMut(&relay::RelayCounters) -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let c = relay.counters();
        if done(&c) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {c:?}"
        );
        thread::sleep(Duration::from_millis(2));
    }
}

/// Sends datagrams numbered `0..count` through `relay_addr`, a few hundred at a time, each batch
/// only once the relay has taken the one before (so no buffer on the way overflows), and
/// returns the numbers the target received.
fn send_numbered(
    relay: &Relay,
    relay_addr: SocketAddr,
    target: &UdpSocket,
    count: u32,
) -> BTreeSet<u32> {
    let client = udp_socket();
    for start in (0..count).step_by(500) {
        for n in start..(start + 500).min(count) {
            client.send_to(&n.to_be_bytes(), relay_addr).unwrap();
        }
        let sent = u64::from((start + 500).min(count));
        until(relay, "the relay to take the batch", |c| {
            c.to_target.received == sent && c.to_target.in_flight == 0
        });
    }
    let forwarded = relay.counters().to_target.forwarded;
    let mut got = BTreeSet::new();
    let mut buf = [0_u8; 64];
    let mut arrivals = 0_u64;
    while arrivals < forwarded {
        let n = target
            .recv(&mut buf)
            .expect("every forwarded datagram arrives");
        assert_eq!(n, 4);
        got.insert(u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]));
        arrivals += 1;
    }
    got
}

fn stop(relay: &Relay) {
    relay.session().stop();
    let end = wait(relay.session(), "Stopped", |e| {
        matches!(e.kind, EventKind::Stopped { .. })
    });
    assert!(
        matches!(
            end.kind,
            EventKind::Stopped {
                reason: StopReason::Requested
            }
        ),
        "{:?}",
        end.kind
    );
}

#[test]
fn udp_accounting_is_exact_at_20_percent_loss_and_the_seed_repeats_the_drops() {
    let loss = Impairments {
        loss_percent: 20.0,
        ..Impairments::default()
    };
    let run = |seed| {
        let target = udp_socket();
        let (relay, addr) = udp_relay(target.local_addr().unwrap(), loss, seed);
        let got = send_numbered(&relay, addr, &target, 10_000);
        let c = relay.counters().to_target;
        assert_eq!(c.received, 10_000);
        assert_eq!(c.received, c.forwarded + c.dropped(), "{c:?}");
        assert_eq!(c.dropped(), c.dropped_loss, "{c:?}");
        assert_eq!(
            got.len() as u64,
            c.forwarded,
            "the target got exactly what was forwarded"
        );
        // Binomial(10,000, 0.2): mean 2,000, standard deviation 40; five of them either way.
        assert!((1_800..=2_200).contains(&c.dropped_loss), "{c:?}");
        stop(&relay);
        got
    };
    let first = run(42);
    let again = run(42);
    assert_eq!(first, again, "the same seed drops the same datagrams");
    let other = run(43);
    assert_ne!(first, other, "another seed drops others");
}

#[test]
fn udp_replies_come_back_to_each_client() {
    let target = udp_socket();
    let target_addr = target.local_addr().unwrap();
    let echo: JoinHandle<()> = thread::spawn(move || {
        let mut buf = [0_u8; 1500];
        for _ in 0..2 {
            let (n, from) = target.recv_from(&mut buf).unwrap();
            target.send_to(&buf[..n], from).unwrap();
        }
    });
    let (relay, addr) = udp_relay(target_addr, Impairments::default(), 1);
    let mut buf = [0_u8; 64];
    for text in [&b"first client"[..], b"second client"] {
        let client = udp_socket();
        client.send_to(text, addr).unwrap();
        let (n, from) = client.recv_from(&mut buf).unwrap();
        assert_eq!(
            (&buf[..n], from),
            (text, addr),
            "the reply came back through the relay"
        );
    }
    echo.join().unwrap();
    // A datagram can arrive before the relay's thread has counted its send.
    until(&relay, "both replies counted", |c| {
        (c.clients, c.to_target.forwarded, c.to_client.forwarded) == (2, 2, 2)
    });
    let starts = std::iter::from_fn(|| relay.session().recv_timeout(Duration::from_millis(100)))
        .filter(|e| matches!(&e.kind, EventKind::Relay(r) if matches!(**r, RelayEvent::ClientStarted { .. })))
        .count();
    assert_eq!(
        starts, 2,
        "each client got its own socket towards the target"
    );
    stop(&relay);
}

#[test]
fn udp_duplication_and_reordering_are_exact() {
    let target = udp_socket();
    let (relay, addr) = udp_relay(
        target.local_addr().unwrap(),
        Impairments {
            reorder_percent: 100.0,
            ..Impairments::default()
        },
        5,
    );
    let client = udp_socket();
    for n in 0..10_u8 {
        client.send_to(&[n], addr).unwrap();
    }
    let mut order = Vec::new();
    let mut buf = [0_u8; 8];
    for _ in 0..10 {
        target.recv(&mut buf).unwrap();
        order.push(buf[0]);
    }
    // Every datagram held for the next one, which then goes first: neighbours swap.
    assert_eq!(order, [1, 0, 3, 2, 5, 4, 7, 6, 9, 8]);
    until(&relay, "ten forwarded, five of them reordered", |c| {
        (c.to_target.forwarded, c.to_target.reordered) == (10, 5)
    });
    stop(&relay);

    let (relay, addr) = udp_relay(
        target.local_addr().unwrap(),
        Impairments {
            duplicate_percent: 100.0,
            delay: Duration::from_millis(20),
            ..Impairments::default()
        },
        5,
    );
    for n in 0..10_u8 {
        client.send_to(&[n], addr).unwrap();
    }
    let mut got = Vec::new();
    for _ in 0..20 {
        target.recv(&mut buf).unwrap();
        got.push(buf[0]);
    }
    let expected: Vec<u8> = (0..10).flat_map(|n| [n, n]).collect();
    assert_eq!(
        got, expected,
        "each datagram twice, in order, after the delay"
    );
    until(&relay, "twenty forwarded", |c| c.to_target.forwarded == 20);
    let c = relay.counters().to_target;
    assert_eq!(
        (c.received, c.duplicated, c.forwarded, c.reordered),
        (10, 10, 20, 0)
    );
    stop(&relay);
}

#[test]
fn the_delay_queue_is_bounded_and_stop_discards_what_it_holds_counted() {
    let target = udp_socket();
    let mut config = RelayConfig::new(
        Transport::Udp,
        "127.0.0.1",
        target.local_addr().unwrap().port(),
    );
    config.impairments.delay = Duration::from_secs(30);
    config.queue_limit = 5;
    let relay = relay::start(config, noop_waker());
    let addr = bound_addr(relay.session());
    let client = udp_socket();
    for n in 0..10_u8 {
        client.send_to(&[n], addr).unwrap();
    }
    until(&relay, "ten datagrams taken", |c| {
        c.to_target.received == 10
    });
    let c = relay.counters().to_target;
    assert_eq!(
        (c.in_flight, c.dropped_queue_full, c.forwarded),
        (5, 5, 0),
        "{c:?}"
    );
    let asked = Instant::now();
    stop(&relay);
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "a 30 s delay does not hold up Stop: {:?}",
        asked.elapsed()
    );
    let c = relay.counters().to_target;
    assert_eq!((c.in_flight, c.discarded_at_stop), (0, 5), "{c:?}");
    assert_eq!(
        c.received + c.duplicated,
        c.forwarded + c.dropped() + c.in_flight
    );
}

#[test]
fn tcp_delivers_every_byte_in_order_under_delay_and_throttle() {
    let target = TcpListener::bind("127.0.0.1:0").unwrap();
    let target_addr = target.local_addr().unwrap();
    // The target echoes everything back, then closes when the client has finished.
    let echo = thread::spawn(move || {
        let (mut stream, _) = target.accept().unwrap();
        let mut buf = vec![0_u8; 8192];
        loop {
            let n = stream.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            stream.write_all(&buf[..n]).unwrap();
        }
    });
    let mut config = RelayConfig::new(Transport::Tcp, "127.0.0.1", target_addr.port());
    config.impairments = Impairments {
        delay: Duration::from_millis(20),
        jitter: Duration::from_millis(15),
        loss_percent: 30.0,
        rate_bytes_per_s: Some(1_000_000),
        ..Impairments::default()
    };
    config.seed = 9;
    let relay = relay::start(config, noop_waker());
    let addr = bound_addr(relay.session());
    let data: Vec<u8> = (0..300_000_u32).map(|i| (i * 7 % 251) as u8).collect();
    let started = Instant::now();
    let mut client = TcpStream::connect(addr).unwrap();
    client.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut writer = client.try_clone().unwrap();
    let to_send = data.clone();
    let sender = thread::spawn(move || {
        writer.write_all(&to_send).unwrap();
        writer.shutdown(std::net::Shutdown::Write).unwrap();
    });
    let mut back = Vec::new();
    client.read_to_end(&mut back).unwrap();
    sender.join().unwrap();
    echo.join().unwrap();
    assert!(
        back == data,
        "every byte came back, in order ({} of {})",
        back.len(),
        data.len()
    );
    // 300 kB each way at 1 MB/s cannot take less than about 0.3 s (less the first slice).
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    let ended = wait(
        relay.session(),
        "the client to end",
        |e| matches!(&e.kind, EventKind::Relay(r) if matches!(**r, RelayEvent::ClientEnded { .. })),
    );
    let EventKind::Relay(r) = ended.kind else {
        unreachable!()
    };
    let RelayEvent::ClientEnded {
        to_target,
        to_client,
        ..
    } = *r
    else {
        unreachable!()
    };
    assert_eq!((to_target, to_client), (300_000, 300_000));
    let c = relay.counters();
    assert_eq!(c.to_target.received_bytes, 300_000);
    assert_eq!(c.to_target.forwarded_bytes, 300_000);
    assert_eq!(c.to_client.forwarded_bytes, 300_000);
    assert_eq!((c.to_target.in_flight_bytes, c.to_target.dropped()), (0, 0));
    stop(&relay);
}

#[test]
fn tcp_says_that_loss_does_not_apply_to_a_stream() {
    let target = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut config = RelayConfig::new(
        Transport::Tcp,
        "127.0.0.1",
        target.local_addr().unwrap().port(),
    );
    config.impairments.loss_percent = 20.0;
    let relay = relay::start(config, noop_waker());
    wait(
        relay.session(),
        "the note that loss does not apply",
        |e| matches!(&e.kind, EventKind::Relay(r) if matches!(**r, RelayEvent::StreamKnobsIgnored { .. })),
    );
    // Stop with a client connected and idle: every thread ends at once.
    let addr = relay.session().local_addr().unwrap();
    let _client = TcpStream::connect(addr).unwrap();
    let (_accepted, _) = target.accept().unwrap();
    wait(
        relay.session(),
        "the client to start",
        |e| matches!(&e.kind, EventKind::Relay(r) if matches!(**r, RelayEvent::ClientStarted { .. })),
    );
    let asked = Instant::now();
    stop(&relay);
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "{:?}",
        asked.elapsed()
    );
}
