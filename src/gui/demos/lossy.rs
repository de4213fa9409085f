//! "UDP can lose, TCP cannot": 100 numbered datagrams through a relay that drops 20% of them
//! (a fixed seed, so the same ones every time), then the same 100 numbers over TCP through the
//! same kind of relay — which cannot drop bytes of a stream — all arriving, in order.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::{Fact, STEP_TIMEOUT, Script, Side, connected, listening, loopback, payload};
use crate::engine::relay::{self, Impairments, RelayConfig, RelayEvent, Transport};
use crate::engine::{
    EventKind, QueueSizes, TcpClientCommand, TcpClientConfig, TcpServerConfig, UdpClientConfig,
    UdpCommand, UdpServerConfig, noop_waker, tcp_client, tcp_server, udp,
};
use crate::gui::text_teach as tt;

/// Messages sent each way.
const MESSAGES: u32 = 100;
/// The relay's loss, in percent.
const LOSS_PERCENT: f64 = 20.0;
/// The seed of the relay's decisions: the same datagrams are lost at every play.
const SEED: u64 = 7;
/// The TCP relay's delay: the stream arrives whole, a little later.
const TCP_DELAY: Duration = Duration::from_millis(30);

/// Waits (quietly: the relay's own calls are not the lesson) until the relay forwards.
fn relay_listening(relay: &relay::Relay) -> Result<std::net::SocketAddr, String> {
    let mut listen = None;
    relay.session().wait_for(
        STEP_TIMEOUT,
        |e| {
            if let EventKind::Relay(r) = &e.kind
                && let RelayEvent::Forwarding { listen: at, .. } = r.as_ref()
            {
                listen = Some(*at);
            }
            listen.is_some()
        },
        |_| {},
    );
    listen.ok_or_else(|| tt::demo_timed_out(tt::DEMO_WAIT_RELAY))
}

pub(super) fn lossy(script: &Script) -> Result<(), String> {
    let (udp_received, missing) = udp_half(script)?;
    script.note(tt::lossy_udp_line(MESSAGES, udp_received, &missing));
    let (tcp_received, in_order) = tcp_half(script)?;
    script.note(tt::lossy_tcp_line(MESSAGES, tcp_received, in_order));
    script.fact(Fact::LossyVsReliable {
        sent: MESSAGES,
        udp_received,
        udp_missing: missing,
        tcp_received,
        tcp_in_order: in_order,
    });
    script.result(tt::lossy_result(MESSAGES, udp_received, tcp_received));
    Ok(())
}

/// Returns how many datagrams arrived and which numbers did not.
fn udp_half(script: &Script) -> Result<(u32, Vec<u32>), String> {
    let server = udp::start_server(
        UdpServerConfig {
            bind: loopback(),
            port: 0,
            ..UdpServerConfig::default()
        },
        noop_waker(),
    );
    let server_addr = script.wait(Side::Server, &server, tt::DEMO_WAIT_BIND, |k| match k {
        EventKind::Ready { local, .. } => Some(*local),
        _ => None,
    })?;
    let relay = relay::start(
        RelayConfig {
            impairments: Impairments {
                loss_percent: LOSS_PERCENT,
                ..Impairments::default()
            },
            seed: SEED,
            ..RelayConfig::new(Transport::Udp, "127.0.0.1", server_addr.port())
        },
        noop_waker(),
    );
    let relay_addr = relay_listening(&relay)?;
    script.note(tt::lossy_relay_line(relay_addr, server_addr, LOSS_PERCENT));
    let client = udp::start_client(
        UdpClientConfig {
            queues: QueueSizes {
                commands: MESSAGES as usize + 1,
                ..QueueSizes::default()
            },
            ..UdpClientConfig::new("127.0.0.1", relay_addr.port())
        },
        noop_waker(),
    );
    script.wait(Side::Client, &client, tt::DEMO_WAIT_BIND, |k| {
        matches!(k, EventKind::Ready { .. }).then_some(())
    })?;
    for n in 1..=MESSAGES {
        client
            .send(UdpCommand::Send(payload(&n.to_string())))
            .map_err(|e| e.plain_sentence())?;
    }
    script.note(tt::lossy_sent_line(MESSAGES));
    // Every datagram has its fate once the relay has dealt with all of them.
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        let c = relay.counters().to_target;
        if c.received >= u64::from(MESSAGES) && c.forwarded + c.dropped() >= c.received {
            break;
        }
        if Instant::now() >= deadline {
            return Err(tt::demo_timed_out(tt::DEMO_WAIT_RELAY));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let forwarded = relay.counters().to_target.forwarded;
    let mut seen: BTreeSet<u32> = BTreeSet::new();
    let deadline = Instant::now() + STEP_TIMEOUT;
    while (seen.len() as u64) < forwarded && Instant::now() < deadline {
        let Some(event) = server.recv_timeout(deadline.saturating_duration_since(Instant::now()))
        else {
            break;
        };
        if let EventKind::Datagrams(batch) = &event.kind {
            for d in batch.iter() {
                if let Some(n) = std::str::from_utf8(d.data)
                    .ok()
                    .and_then(|t| t.parse().ok())
                {
                    seen.insert(n);
                }
            }
        }
    }
    let missing = (1..=MESSAGES).filter(|n| !seen.contains(n)).collect();
    Ok((seen.len() as u32, missing))
}

/// Returns how many lines arrived and whether they came in order.
fn tcp_half(script: &Script) -> Result<(u32, bool), String> {
    let server = tcp_server::start(
        TcpServerConfig {
            bind: loopback(),
            port: 0,
            ..TcpServerConfig::default()
        },
        noop_waker(),
    );
    let server_addr = script.wait(Side::Server, &server, tt::DEMO_WAIT_LISTEN, listening)?;
    let relay = relay::start(
        RelayConfig {
            impairments: Impairments {
                loss_percent: LOSS_PERCENT,
                delay: TCP_DELAY,
                ..Impairments::default()
            },
            seed: SEED,
            ..RelayConfig::new(Transport::Tcp, "127.0.0.1", server_addr.port())
        },
        noop_waker(),
    );
    let relay_addr = relay_listening(&relay)?;
    script.note(tt::LOSSY_TCP_RELAY);
    let client = tcp_client::start(
        TcpClientConfig::new("127.0.0.1", relay_addr.port()),
        noop_waker(),
    );
    script.wait(Side::Client, &client, tt::DEMO_WAIT_CONNECT, connected)?;
    let text = (1..=MESSAGES).fold(String::new(), |mut text, n| {
        text.push_str(&n.to_string());
        text.push('\n');
        text
    });
    client
        .send(TcpClientCommand::Send(payload(&text)))
        .map_err(|e| e.plain_sentence())?;
    let mut stream = Vec::new();
    let deadline = Instant::now() + STEP_TIMEOUT;
    while stream.len() < text.len() && Instant::now() < deadline {
        let Some(event) = server.recv_timeout(deadline.saturating_duration_since(Instant::now()))
        else {
            break;
        };
        if let EventKind::Received { data, .. } = &event.kind {
            stream.extend_from_slice(data);
        }
    }
    let numbers: Vec<u32> = String::from_utf8_lossy(&stream)
        .lines()
        .filter_map(|l| l.parse().ok())
        .collect();
    let in_order = numbers.iter().copied().eq(1..=numbers.len() as u32);
    Ok((numbers.len() as u32, in_order))
}
