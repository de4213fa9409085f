//! The traffic generator against real loopback receivers: exact accounting (sent = received +
//! lost), pacing by deadlines, Stop at once at any rate (design target 100 ms), and the TCP stream check.

use std::net::{SocketAddr, TcpListener, UdpSocket};

use crossbeam_channel::{at, never, select};
use std::time::{Duration, Instant};

use socketlab::engine::generator::{
    self, Generator, GeneratorEnd, GeneratorEvent, Rate, SequenceCheck, StreamSequenceCheck,
    TcpGeneratorConfig, TrafficPlan, UdpGeneratorConfig,
};
use socketlab::engine::{
    self, EventKind, StopReason, TcpOptions, TcpServerConfig, UdpServerConfig, noop_waker,
};

use crate::common::{TIMEOUT, bound_addr, wait};

fn udp_generator(to: SocketAddr, plan: TrafficPlan) -> Generator {
    generator::start_udp(
        UdpGeneratorConfig {
            host: to.ip().to_string(),
            port: to.port(),
            local: None,
            connect: false,
            plan,
        },
        noop_waker(),
    )
}

/// Waits for the generator's `Finished` event and returns how it ended.
fn finished(generator: &Generator) -> (generator::GeneratorProgress, GeneratorEnd) {
    match wait(generator, "the generator's end", |e| {
        matches!(&e.kind, EventKind::Generator(g) if matches!(**g, GeneratorEvent::Finished { .. }))
    })
    .kind
    {
        EventKind::Generator(g) => match *g {
            GeneratorEvent::Finished { progress, end } => (progress, end),
            _ => unreachable!(),
        },
        _ => unreachable!(),
    }
}

#[test]
fn udp_sent_equals_received_plus_lost_exactly() {
    let check = SequenceCheck::new();
    let server = engine::udp::start_server(
        UdpServerConfig {
            sequence_check: Some(check.clone()),
            ..UdpServerConfig::default()
        },
        noop_waker(),
    );
    let addr = bound_addr(&server);
    let count = 10_000;
    let started = Instant::now();
    let generator = udp_generator(
        addr,
        TrafficPlan {
            size: 64,
            rate: Rate::MessagesPerSecond(20_000.0),
            count: Some(count),
            sequence: true,
            ..TrafficPlan::default()
        },
    );
    // Drain the server while the generator runs; when it has finished, a datagram without a
    // header from another socket marks the end: on loopback a datagram is queued (or dropped)
    // by the time its send returns, so the server has taken everything sent before the marker
    // once the marker shows up among its events.
    let marker = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut result = None;
    let deadline = Instant::now() + TIMEOUT;
    // Its events end with the run (the channel closes after `Stopped`).
    let mut generator_events = generator.events().clone();
    loop {
        select! {
            recv(server.events()) -> e => {
                if let EventKind::Datagrams(batch) = e.unwrap().kind
                    && batch.iter().any(|d| d.data == b"end")
                {
                    break;
                }
            },
            recv(generator_events) -> e => match e.map(|e| e.kind) {
                Ok(EventKind::Generator(g)) => {
                    if let GeneratorEvent::Finished { progress, end } = *g {
                        result = Some((progress, end));
                        marker.send_to(b"end", addr).unwrap();
                    }
                }
                Ok(_) => {}
                Err(_) => generator_events = never(),
            },
            recv(at(deadline)) -> _ => panic!("the run did not end in time"),
        }
    }
    let (progress, end) = result.expect("the generator finished before the marker");
    assert_eq!(end, GeneratorEnd::Completed);
    assert_eq!(progress.sent, count);
    assert_eq!(generator.counters().datagrams_out, count);
    assert_eq!(generator.counters().bytes_out, count * 64);
    // Deadline pacing never runs ahead: message n leaves no earlier than n / rate.
    assert!(
        started.elapsed() >= Duration::from_secs_f64((count - 1) as f64 / 20_000.0),
        "10,000 datagrams at 20,000/s took {:?}",
        started.elapsed()
    );
    let summary = check.summary();
    assert_eq!(summary.flows.len(), 1, "{summary:?}");
    let flow = &summary.flows[0];
    assert_eq!(flow.announced, Some(count));
    assert_eq!(flow.received + flow.lost, count, "{flow:?}");
    assert_eq!(flow.duplicated, 0);
    assert_eq!(
        server.counters().datagrams_in,
        flow.received + 1,
        "every datagram the server took was checked (plus the marker)"
    );
    let delay = flow.delay.expect("a loopback sender gets one-way delays");
    assert_eq!(delay.samples, flow.received);
    assert!(delay.min <= delay.p50 && delay.p50 <= delay.p99 && delay.p99 <= delay.max);
}

#[test]
fn a_duration_ends_the_run_and_bytes_per_second_set_the_pace() {
    let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
    let generator = udp_generator(
        receiver.local_addr().unwrap(),
        TrafficPlan {
            size: 100,
            rate: Rate::BytesPerSecond(10_000.0),
            duration: Some(Duration::from_millis(300)),
            ..TrafficPlan::default()
        },
    );
    let (progress, end) = finished(&generator);
    assert_eq!(end, GeneratorEnd::Completed);
    // 100 datagrams/s for 0.3 s: the first at once, then one every 10 ms, none ahead of time.
    assert!(
        progress.sent >= 1 && progress.sent <= 31,
        "sent {}",
        progress.sent
    );
    assert!(progress.elapsed >= Duration::from_millis(300));
    assert_eq!(progress.bytes, progress.sent * 100);
}

/// How long a Stop may take here. The design target is 100 ms (the worker waits for its next
/// deadline on the stop channel itself, and a blocked write is shut down under it); the bound
/// is looser only so that a loaded machine cannot fail the test, and still far below the
/// minute that a worker sleeping through its interval would take.
const STOP_BOUND: Duration = Duration::from_secs(1);

/// Stop must end a run at once, whatever the rate and wherever the worker waits.
fn assert_stops_at_once(generator: &Generator, what: &str) {
    let asked = Instant::now();
    generator.stop();
    let end = wait(generator, "Stopped", |e| {
        matches!(e.kind, EventKind::Stopped { .. })
    });
    let took = asked.elapsed();
    assert!(
        matches!(
            end.kind,
            EventKind::Stopped {
                reason: StopReason::Requested
            }
        ),
        "{what}: {:?}",
        end.kind
    );
    eprintln!("{what}: Stop took {took:?}");
    assert!(took < STOP_BOUND, "{what}: Stop took {took:?}");
}

#[test]
fn stop_ends_a_run_at_once_at_any_rate() {
    let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
    receiver
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let to = receiver.local_addr().unwrap();
    let mut buf = [0_u8; 2048];
    for rate in [Rate::MessagesPerSecond(1.0 / 60.0), Rate::Max] {
        let generator = udp_generator(
            to,
            TrafficPlan {
                rate,
                ..TrafficPlan::default()
            },
        );
        // The first datagram has gone: the worker is now waiting for the next deadline (a whole
        // minute away) or sending flat out.
        receiver.recv_from(&mut buf).unwrap();
        assert_stops_at_once(&generator, &format!("{rate:?}"));
    }
    // TCP into a peer that never reads: one 32 MiB write cannot complete, so the worker is
    // blocked in it (the socket buffers hold a few MiB at most).
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let generator = generator::start_tcp(
        TcpGeneratorConfig {
            host: addr.ip().to_string(),
            port: addr.port(),
            local: None,
            connect_timeout: Duration::from_secs(5),
            options: TcpOptions::default(),
            plan: TrafficPlan {
                size: 32 * 1024 * 1024,
                ..TrafficPlan::default()
            },
        },
        noop_waker(),
    );
    let (_held, _) = listener.accept().unwrap();
    wait(
        &generator,
        "the run to start",
        |e| matches!(&e.kind, EventKind::Generator(g) if matches!(**g, GeneratorEvent::Started { .. })),
    );
    assert_stops_at_once(&generator, "TCP blocked in a write");
    assert_eq!(generator.counters().writes, 0, "the write never completed");
}

#[test]
fn tcp_stream_check_finds_every_message_in_order() {
    let server = engine::tcp_server::start(TcpServerConfig::default(), noop_waker());
    let addr = bound_addr(&server);
    let count = 2_000;
    let generator = generator::start_tcp(
        TcpGeneratorConfig {
            host: addr.ip().to_string(),
            port: addr.port(),
            local: None,
            connect_timeout: Duration::from_secs(5),
            options: TcpOptions::default(),
            plan: TrafficPlan {
                size: 1_000,
                rate: Rate::BytesPerSecond(20_000_000.0),
                count: Some(count),
                sequence: true,
                ..TrafficPlan::default()
            },
        },
        noop_waker(),
    );
    let mut check = StreamSequenceCheck::new();
    let mut bytes = 0_u64;
    let mut reads = 0_u64;
    wait(&server, "the generator's connection to end", |e| {
        match &e.kind {
            EventKind::Received { conn, peer, data } => {
                bytes += data.len() as u64;
                reads += 1;
                check.observe(*conn, *peer, data, e.at);
                false
            }
            // The generator half-closes after its last message; the server closes then.
            EventKind::PeerFinished { conn, .. } => {
                server
                    .send(engine::TcpServerCommand::Disconnect(*conn))
                    .unwrap();
                false
            }
            EventKind::Disconnected { .. } => true,
            _ => false,
        }
    });
    let (progress, end) = finished(&generator);
    assert_eq!(end, GeneratorEnd::Completed);
    assert_eq!(progress.sent, count);
    assert_eq!(bytes, count * 1_000);
    let summary = check.summary();
    let flow = &summary.flows[0];
    assert_eq!(
        (flow.received, flow.lost, flow.duplicated, flow.out_of_order),
        (count, 0, 0, 0),
        "{flow:?} over {reads} reads"
    );
    assert_eq!(check.skipped_bytes(), 0);
    assert!(flow.delay.is_some());
}

#[test]
fn a_plan_that_cannot_work_is_refused_before_any_socket() {
    let generator = udp_generator(
        "127.0.0.1:9".parse().unwrap(),
        TrafficPlan {
            size: 16,
            sequence: true,
            ..TrafficPlan::default()
        },
    );
    let end = wait(&generator, "Stopped", |e| {
        matches!(e.kind, EventKind::Stopped { .. })
    });
    match end.kind {
        EventKind::Stopped {
            reason: StopReason::Failed(e),
        } => assert!(e.to_string().contains("32-byte sequence header"), "{e}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}
