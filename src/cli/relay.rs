//! `socketlab relay`: a relay session that forwards between a listening address and a target,
//! delaying, throttling, dropping, duplicating and reordering as asked, and printing its exact
//! counters at the end (Ctrl-C, `--count` or `--duration`).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use clap::Args;
use crossbeam_channel::{never, select};
use serde_json::{Value, json};

use super::console::{Console, Role};
use super::run::interrupts;
use super::traffic::{Unit, parse_rate};
use super::{CommonArgs, Failure, OutputMode, bind_address, host, parse_seconds, port};
use crate::engine::generator::Rate;
use crate::engine::relay::{
    self, DirectionCounters, Impairments, RelayConfig, RelayCounters, RelayEvent, Transport,
};
use crate::engine::services::{PortUse, Protocol};
use crate::engine::{self, EventKind};

/// `relay --listen ADDR:PORT --to HOST:PORT (--tcp|--udp) …`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("transport").required(true).args(["tcp", "udp"])))]
pub struct RelayArgs {
    /// Where clients connect or send: `PORT` (on 127.0.0.1, this machine only), or `ADDR:PORT`
    /// (`0.0.0.0:9000`, `[::1]:9000`). Port 0 lets the system choose; the real one is printed.
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: String,
    /// Where to forward: `HOST:PORT` (`127.0.0.1:9000`, `localhost:http`, `[::1]:53`).
    #[arg(long, value_name = "HOST:PORT")]
    pub to: String,
    /// Forward TCP connections (the relay can delay and throttle a stream, not lose bytes).
    #[arg(long)]
    pub tcp: bool,
    /// Forward UDP datagrams (every knob acts on each datagram).
    #[arg(long)]
    pub udp: bool,
    /// Delay added to everything, in milliseconds.
    #[arg(
        long,
        value_name = "MS",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    pub delay: f64,
    /// Each delay varies by up to this many milliseconds either way.
    #[arg(
        long,
        value_name = "MS",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    pub jitter: f64,
    /// UDP: percentage of datagrams dropped (0 to 100).
    #[arg(
        long,
        value_name = "PCT",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    pub loss: f64,
    /// UDP: percentage of datagrams sent twice.
    #[arg(
        long,
        value_name = "PCT",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    pub duplicate: f64,
    /// UDP: percentage of datagrams held back until the next one has gone first.
    #[arg(
        long,
        value_name = "PCT",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    pub reorder: f64,
    /// Bandwidth limit per direction, in bytes per second (`100000`, `64kB/s`, `8Mbit/s`).
    #[arg(long, value_name = "BYTES_PER_S")]
    pub rate: Option<String>,
    /// Seed of the random decisions; the same seed and the same traffic give the same fates.
    /// Without it a seed is chosen and printed.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// UDP: stop once this many datagrams from clients have been forwarded or dropped. TCP: stop
    /// once this many connections have ended.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub duration: Option<Duration>,
    /// UDP: most datagrams held at once per direction (delayed or queued for the bandwidth
    /// limit); more are dropped and counted as "queue full".
    #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub queue: u64,
    /// Most clients at once.
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_clients: u64,
    /// Output options (`--output json` prints the events and the counters as JSON).
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Splits `HOST:PORT` (`[v6]:port` allowed) into its parts.
fn split_host_port(text: &str, what: &str) -> Result<(String, String), Failure> {
    let t = text.trim();
    let bad = || {
        Failure::usage(format!(
            "{what} \"{text}\" needs a host and a port, such as 127.0.0.1:9000, localhost:9000 or [::1]:9000."
        ))
    };
    let (h, p) = t.rsplit_once(':').ok_or_else(bad)?;
    if h.is_empty() || p.is_empty() {
        return Err(bad());
    }
    Ok((h.to_owned(), p.to_owned()))
}

fn millis(value: f64, name: &str) -> Result<Duration, Failure> {
    if !value.is_finite() || value < 0.0 {
        return Err(Failure::usage(format!(
            "{name} must be 0 or more milliseconds, not {value}."
        )));
    }
    Duration::try_from_secs_f64(value / 1000.0)
        .map_err(|_| Failure::usage(format!("{name} {value} ms is too long.")))
}

/// Reads the arguments into a relay configuration; every mistake is bad input (exit 2).
fn config(args: &RelayArgs) -> Result<RelayConfig, Failure> {
    let transport = if args.tcp {
        Transport::Tcp
    } else {
        Transport::Udp
    };
    let proto = if args.tcp {
        Protocol::Tcp
    } else {
        Protocol::Udp
    };
    let listen = match args.listen.trim().parse::<SocketAddr>() {
        Ok(addr) => addr,
        Err(_) if !args.listen.contains(':') => SocketAddr::new(
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            port(&args.listen, proto, PortUse::Bind)?,
        ),
        Err(_) => {
            let (h, p) = split_host_port(&args.listen, "--listen")?;
            SocketAddr::new(bind_address(&h)?, port(&p, proto, PortUse::Bind)?)
        }
    };
    let (to_host, to_port) = split_host_port(&args.to, "--to")?;
    let rate_bytes_per_s = match &args.rate {
        None => None,
        Some(text) => match parse_rate(text, Unit::Bytes) {
            Ok(Rate::BytesPerSecond(b)) => Some((b.round() as u64).max(1)),
            Ok(_) => None,
            Err(e) => return Err(Failure::usage(format!("--rate: {e}"))),
        },
    };
    let impairments = Impairments {
        delay: millis(args.delay, "--delay")?,
        jitter: millis(args.jitter, "--jitter")?,
        loss_percent: args.loss,
        duplicate_percent: args.duplicate,
        reorder_percent: args.reorder,
        rate_bytes_per_s,
    };
    impairments.check().map_err(|e| {
        Failure::usage(format!(
            "--loss/--duplicate/--reorder/--rate: {}",
            e.plain_sentence()
        ))
    })?;
    let mut config = RelayConfig::new(
        transport,
        host(&to_host)?,
        port(&to_port, proto, PortUse::Connect)?,
    );
    config.listen = listen;
    config.impairments = impairments;
    config.seed = args.seed.unwrap_or_else(|| fastrand::u64(..));
    config.queue_limit = usize::try_from(args.queue).unwrap_or(usize::MAX);
    config.max_clients = usize::try_from(args.max_clients).unwrap_or(usize::MAX);
    config.stop_after = args.count;
    Ok(config)
}

/// `relay`.
pub(crate) fn run(args: &RelayArgs) -> Result<(), Failure> {
    let config = config(args)?;
    let role = match config.transport {
        Transport::Tcp => Role::TcpServer,
        Transport::Udp => Role::UdpServer,
    };
    let transport = config.transport;
    let mut console = Console::new(&args.common, role);
    let relay = relay::start(config, engine::noop_waker());
    let session = relay.session();
    let interrupts = interrupts();
    let deadline = args.duration.map(|d| Instant::now() + d);
    loop {
        let timer = deadline.map_or_else(never, crossbeam_channel::at);
        select! {
            recv(session.events()) -> event => {
                let Ok(event) = event else { break };
                console.event(&event);
                if matches!(event.kind, EventKind::Stopped { .. }) {
                    break;
                }
            },
            recv(timer) -> _ => session.stop(),
            recv(interrupts) -> _ => session.stop(),
        }
        if console.stdout_closed() {
            session.stop();
        }
        if session.events().is_empty() {
            console.flush();
        }
    }
    print_counters(&relay.counters(), transport, &args.common);
    console.flush();
    console.result()
}

fn impairment_words(k: &Impairments, transport: Transport) -> String {
    let rate = k.rate_bytes_per_s.map_or_else(
        || "no bandwidth limit".to_owned(),
        |r| format!("at most {r} bytes/s each way"),
    );
    let delay = format!(
        "delay {} ms ± {} ms",
        k.delay.as_secs_f64() * 1e3,
        k.jitter.as_secs_f64() * 1e3
    );
    match transport {
        Transport::Udp => format!(
            "{delay}, loss {}%, duplication {}%, reordering {}%, {rate}",
            k.loss_percent, k.duplicate_percent, k.reorder_percent
        ),
        Transport::Tcp => format!("{delay}, {rate}"),
    }
}

/// The status line of a relay event on standard error.
pub(crate) fn relay_status(event: &RelayEvent) {
    match event {
        RelayEvent::Forwarding {
            listen,
            target,
            transport,
            impairments,
            seed,
        } => {
            let kind = match transport {
                Transport::Tcp => "TCP",
                Transport::Udp => "UDP",
            };
            eprintln!(
                "relaying {kind} from {listen} to {target}: {}; seed {seed} (--seed {seed} repeats this run)",
                impairment_words(impairments, *transport)
            );
        }
        RelayEvent::StreamKnobsIgnored { .. } => eprintln!(
            "note: --loss, --duplicate and --reorder do not apply to TCP. The kernel's TCP has already recovered any loss before the relay reads a byte, and a stream delivers every byte once and in order; this relay can only delay, throttle and stall it."
        ),
        RelayEvent::ClientStarted {
            id,
            client,
            upstream,
        } => eprintln!("client {id} {client}: forwarding from {upstream}"),
        RelayEvent::ClientRefused { client, limit } => {
            eprintln!(
                "{client} turned away: the relay already has {limit} clients (--max-clients)"
            );
        }
        RelayEvent::ClientEnded {
            id,
            client,
            to_target,
            to_client,
            reason,
        } => eprintln!(
            "client {id} {client} ended ({reason}): {to_target} bytes forwarded to the target, {to_client} bytes back"
        ),
        RelayEvent::ImpairmentsChanged(k) => {
            eprintln!("knobs now: {}", impairment_words(k, Transport::Udp));
        }
    }
}

/// The JSON object of a relay event.
pub(crate) fn relay_json(event: &RelayEvent) -> Value {
    match event {
        RelayEvent::Forwarding {
            listen,
            target,
            transport,
            impairments,
            seed,
        } => json!({
            "event": "relay_forwarding",
            "listen": listen.to_string(),
            "target": target.to_string(),
            "transport": format!("{transport:?}"),
            "delay_ms": impairments.delay.as_secs_f64() * 1e3,
            "jitter_ms": impairments.jitter.as_secs_f64() * 1e3,
            "loss_percent": impairments.loss_percent,
            "duplicate_percent": impairments.duplicate_percent,
            "reorder_percent": impairments.reorder_percent,
            "rate_bytes_per_s": impairments.rate_bytes_per_s,
            "seed": seed,
        }),
        RelayEvent::StreamKnobsIgnored { .. } => json!({"event": "relay_stream_knobs_ignored"}),
        RelayEvent::ClientStarted {
            id,
            client,
            upstream,
        } => {
            json!({"event": "relay_client", "id": id, "client": client.to_string(), "upstream": upstream.to_string()})
        }
        RelayEvent::ClientRefused { client, limit } => {
            json!({"event": "relay_client_refused", "client": client.to_string(), "limit": limit})
        }
        RelayEvent::ClientEnded {
            id,
            client,
            to_target,
            to_client,
            reason,
        } => json!({
            "event": "relay_client_ended", "id": id, "client": client.to_string(),
            "to_target": to_target, "to_client": to_client, "reason": reason.to_string(),
        }),
        RelayEvent::ImpairmentsChanged(_) => json!({"event": "relay_knobs_changed"}),
    }
}

fn direction_json(c: &DirectionCounters) -> Value {
    json!({
        "received": c.received,
        "received_bytes": c.received_bytes,
        "forwarded": c.forwarded,
        "forwarded_bytes": c.forwarded_bytes,
        "dropped": c.dropped(),
        "dropped_loss": c.dropped_loss,
        "dropped_queue_full": c.dropped_queue_full,
        "dropped_client_limit": c.dropped_client_limit,
        "send_failed": c.send_failed,
        "discarded_at_stop": c.discarded_at_stop,
        "discarded_at_stop_bytes": c.discarded_at_stop_bytes,
        "duplicated": c.duplicated,
        "reordered": c.reordered,
        "in_flight": c.in_flight,
        "in_flight_bytes": c.in_flight_bytes,
    })
}

fn direction_words(c: &DirectionCounters, transport: Transport) -> String {
    match transport {
        Transport::Udp => format!(
            "received {} datagrams ({} bytes), forwarded {} ({} bytes), dropped {} (loss {}, queue full {}, client limit {}, send failed {}, discarded at stop {}), duplicated {}, reordered {}, in flight {}",
            c.received,
            c.received_bytes,
            c.forwarded,
            c.forwarded_bytes,
            c.dropped(),
            c.dropped_loss,
            c.dropped_queue_full,
            c.dropped_client_limit,
            c.send_failed,
            c.discarded_at_stop,
            c.duplicated,
            c.reordered,
            c.in_flight
        ),
        Transport::Tcp => format!(
            "received {} bytes in {} reads, forwarded {} bytes in {} writes, {} bytes in flight, {} bytes discarded when the relay stopped or a side broke",
            c.received_bytes,
            c.received,
            c.forwarded_bytes,
            c.forwarded,
            c.in_flight_bytes,
            c.discarded_at_stop_bytes
        ),
    }
}

fn print_counters(c: &RelayCounters, transport: Transport, common: &CommonArgs) {
    if common.output == OutputMode::Json {
        println!(
            "{}",
            json!({
                "event": "relay_counters",
                "to_target": direction_json(&c.to_target),
                "to_client": direction_json(&c.to_client),
                "clients": c.clients,
                "clients_refused": c.clients_refused,
            })
        );
        return;
    }
    eprintln!(
        "to the target: {}",
        direction_words(&c.to_target, transport)
    );
    eprintln!(
        "back to clients: {}",
        direction_words(&c.to_client, transport)
    );
    let clients = if c.clients == 1 { "client" } else { "clients" };
    eprintln!("{} {clients}, {} turned away", c.clients, c.clients_refused);
}
