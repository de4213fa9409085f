//! The traffic generator on the command line: `udp-send … --rate R --count N --size B
//! --sequence` and `tcp-connect … --rate BYTES/s …` run a generator session instead of sending
//! `--send` texts; `udp-listen --sequence` and `tcp-listen --sequence` print the sequence check's
//! report at the end.

use std::fmt::Write as _;
use std::time::Duration;

use clap::Args;
use crossbeam_channel::select;
use serde_json::{Value, json};

use super::console::{Console, Role};
use super::run::interrupts;
use super::{
    CommonArgs, Failure, OutputMode, TcpConnectArgs, UdpSendArgs, host, parse_seconds, port,
};
use crate::engine::generator::{
    self, FlowReport, GeneratorEnd, GeneratorEvent, GeneratorProgress, Rate, SequenceSummary,
    TcpGeneratorConfig, TrafficPlan, UdpGeneratorConfig,
};
use crate::engine::services::{PortUse, Protocol};
use crate::engine::{self, EventKind, Session};

/// The generator's options (`udp-send`, `tcp-connect`). Any of them turns the generator on.
#[derive(Debug, Args)]
pub struct TrafficArgs {
    /// Generate traffic at this rate: a number of datagrams per second (`1000`), or bytes per
    /// second with a unit (`64kB/s`, `10MB/s`, `100Mbit/s`; k, M, G are powers of 1000). TCP
    /// counts bytes either way. `max` (the default) sends as fast as the socket takes them.
    #[arg(long, value_name = "RATE")]
    pub rate: Option<String>,
    /// Generate this many messages (datagrams, or TCP writes of `--size` bytes), then stop.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// Generate for this many seconds, then stop (with `--count`, whichever ends first).
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub duration: Option<Duration>,
    /// Bytes per generated message (default 64 for UDP, 1024 for TCP).
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..))]
    pub size: Option<u64>,
    /// Start each generated message with a 32-byte header: sequence number, send time, run id
    /// (see README, "Traffic generator"), for a receiver's `--sequence` check.
    #[arg(long)]
    pub sequence: bool,
}

impl TrafficArgs {
    /// True when any generator option was given.
    pub fn active(&self) -> bool {
        self.rate.is_some()
            || self.count.is_some()
            || self.duration.is_some()
            || self.size.is_some()
            || self.sequence
    }

    fn plan(&self, default_size: u64, plain_number: Unit) -> Result<TrafficPlan, Failure> {
        let size = self.size.unwrap_or(default_size);
        let rate = match &self.rate {
            None => Rate::Max,
            Some(text) => parse_rate(text, plain_number)
                .map_err(|e| Failure::usage(format!("--rate: {e}")))?,
        };
        let plan = TrafficPlan {
            size: usize::try_from(size).unwrap_or(usize::MAX),
            rate,
            count: self.count,
            duration: self.duration,
            sequence: self.sequence,
        };
        plan.check()
            .map_err(|e| Failure::usage(format!("--size/--rate: {}", e.plain_sentence())))?;
        Ok(plan)
    }
}

/// What a bare number given to `--rate` counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    /// Datagrams (messages) per second.
    Messages,
    /// Bytes per second.
    Bytes,
}

/// Parses `1000`, `1000/s`, `2.5k`, `64kB/s`, `10MB/s`, `100Mbit/s`, `max`.
pub(crate) fn parse_rate(text: &str, plain_number: Unit) -> Result<Rate, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("max") {
        return Ok(Rate::Max);
    }
    let bad = || {
        format!(
            "\"{text}\" is not a rate: write a number per second (1000), bytes per second (64kB/s, 10MB/s), bits per second (100Mbit/s), or max"
        )
    };
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, rest) = t.split_at(split);
    let mut value: f64 = number.parse().map_err(|_| bad())?;
    let mut rest = rest.trim();
    if let Some(prefix) = rest.chars().next() {
        let factor = match prefix {
            'k' | 'K' => Some(1e3),
            'M' => Some(1e6),
            'G' => Some(1e9),
            _ => None,
        };
        if let Some(f) = factor {
            value *= f;
            rest = &rest[1..];
        }
    }
    let rest = rest.strip_suffix("/s").unwrap_or(rest);
    let rate = match rest {
        "" => match plain_number {
            Unit::Messages => Rate::MessagesPerSecond(value),
            Unit::Bytes => Rate::BytesPerSecond(value),
        },
        "B" => Rate::BytesPerSecond(value),
        "bit" | "b" => Rate::BytesPerSecond(value / 8.0),
        _ => return Err(bad()),
    };
    match rate {
        Rate::MessagesPerSecond(v) | Rate::BytesPerSecond(v) if !(v.is_finite() && v > 0.0) => {
            Err(format!("\"{text}\" is not a rate above 0"))
        }
        r => Ok(r),
    }
}

/// The rate in words: "1000 datagrams/s", "8000000 bytes/s", "as fast as possible".
fn rate_words(rate: Rate, unit: &str) -> String {
    match rate {
        Rate::Max => "as fast as possible".to_owned(),
        Rate::MessagesPerSecond(n) => format!("{n} {unit}s/s"),
        Rate::BytesPerSecond(b) => format!("{b} bytes/s"),
    }
}

fn plan_words(plan: &TrafficPlan, unit: &str) -> String {
    let how_many = match (plan.count, plan.duration) {
        (Some(n), Some(d)) => format!("{n} {unit}s (at most {:.3} s)", d.as_secs_f64()),
        (Some(n), None) => format!("{n} {unit}s"),
        (None, Some(d)) => format!("{unit}s for {:.3} s", d.as_secs_f64()),
        (None, None) => format!("{unit}s until interrupted"),
    };
    format!(
        "{how_many} of {} bytes, {}{}",
        plan.size,
        rate_words(plan.rate, unit),
        if plan.sequence {
            ", with sequence numbers"
        } else {
            ""
        }
    )
}

/// `udp-send HOST PORT --rate … --count … --size … --sequence`.
pub(crate) fn udp_send(args: &UdpSendArgs) -> Result<(), Failure> {
    refuse_data(
        !args.data.send.is_empty() || !args.data.hex.is_empty() || !args.data.file.is_empty(),
    )?;
    let config = UdpGeneratorConfig {
        host: host(&args.host)?,
        port: port(&args.port, Protocol::Udp, PortUse::Connect)?,
        local: args.local,
        connect: args.connect,
        plan: args.traffic.plan(64, Unit::Messages)?,
    };
    eprintln!(
        "generating {} to {}:{}",
        plan_words(&config.plan, "datagram"),
        config.host,
        config.port
    );
    let mut console = Console::new(&args.common, Role::UdpClient);
    let session = generator::start_udp(config, engine::noop_waker());
    drive(&session, &mut console)
}

/// `tcp-connect HOST PORT --rate … --count … --size … --sequence`.
pub(crate) fn tcp_send(args: &TcpConnectArgs) -> Result<(), Failure> {
    refuse_data(
        !args.data.send.is_empty() || !args.data.hex.is_empty() || !args.data.file.is_empty(),
    )?;
    let mut config = TcpGeneratorConfig {
        host: host(&args.host)?,
        port: port(&args.port, Protocol::Tcp, PortUse::Connect)?,
        local: args.local,
        connect_timeout: Duration::from_secs(5),
        options: engine::TcpOptions::default(),
        plan: args.traffic.plan(1024, Unit::Bytes)?,
    };
    if let Some(timeout) = args.timeout {
        if timeout.is_zero() {
            return Err(Failure::usage(
                "--timeout must be more than 0 seconds (for example 0.5).",
            ));
        }
        config.connect_timeout = timeout;
    }
    eprintln!(
        "generating {} to {}:{}",
        plan_words(&config.plan, "message"),
        config.host,
        config.port
    );
    let mut console = Console::new(&args.common, Role::TcpClient);
    let session = generator::start_tcp(config, engine::noop_waker());
    drive(&session, &mut console)
}

fn refuse_data(given: bool) -> Result<(), Failure> {
    if given {
        return Err(Failure::usage(
            "--rate, --count, --duration, --size and --sequence generate their own messages; leave out --send, --hex and --file, or the generator options.",
        ));
    }
    Ok(())
}

/// Runs a generator to its end; Ctrl-C stops it at once.
fn drive<C: Send + 'static>(session: &Session<C>, console: &mut Console) -> Result<(), Failure> {
    let interrupts = interrupts();
    loop {
        select! {
            recv(session.events()) -> event => {
                let Ok(event) = event else { break };
                console.event(&event);
                if matches!(event.kind, EventKind::Stopped { .. }) {
                    break;
                }
            },
            recv(interrupts) -> _ => session.stop(),
        }
        if console.stdout_closed() {
            session.stop();
        }
        if session.events().is_empty() {
            console.flush();
        }
    }
    console.finish(&session.counters());
    console.result()
}

/// The status line of a generator event on standard error (progress is not printed in text).
pub(crate) fn generator_status(event: &GeneratorEvent) {
    match event {
        GeneratorEvent::Started { to, run } => match run {
            Some(run) => eprintln!("sending to {to}, run id {run:08x}"),
            None => eprintln!("sending to {to}"),
        },
        GeneratorEvent::Progress(_) => {}
        GeneratorEvent::Finished { progress, end } => {
            let why = match end {
                GeneratorEnd::Completed => "done",
                GeneratorEnd::Stopped => "stopped",
                GeneratorEnd::Failed(_) => "failed",
            };
            eprintln!("{} ({why})", progress_words(progress));
        }
    }
}

fn progress_words(p: &GeneratorProgress) -> String {
    format!(
        "generated {} messages ({} bytes) in {:.3} s: {:.0} messages/s, {}",
        p.sent,
        p.bytes,
        p.elapsed.as_secs_f64(),
        p.messages_per_second(),
        bits_words(p.bits_per_second())
    )
}

fn bits_words(bits: f64) -> String {
    if bits >= 1e9 {
        format!("{:.2} Gbit/s", bits / 1e9)
    } else if bits >= 1e6 {
        format!("{:.2} Mbit/s", bits / 1e6)
    } else {
        format!("{:.1} kbit/s", bits / 1e3)
    }
}

fn progress_json(p: &GeneratorProgress) -> Value {
    json!({
        "sent": p.sent,
        "bytes": p.bytes,
        "elapsed_s": p.elapsed.as_secs_f64(),
        "messages_per_s": p.messages_per_second(),
        "bits_per_s": p.bits_per_second(),
        "fraction_done": p.fraction_done(),
    })
}

/// The JSON object of a generator event.
pub(crate) fn generator_json(event: &GeneratorEvent) -> Value {
    match event {
        GeneratorEvent::Started { to, run } => {
            json!({"event": "generator_started", "to": to.to_string(), "run": run})
        }
        GeneratorEvent::Progress(p) => {
            let mut v = progress_json(p);
            v["event"] = json!("generator_progress");
            v
        }
        GeneratorEvent::Finished { progress, end } => {
            let mut v = progress_json(progress);
            v["event"] = json!("generator_finished");
            v["end"] = json!(match end {
                GeneratorEnd::Completed => "completed",
                GeneratorEnd::Stopped => "stopped",
                GeneratorEnd::Failed(_) => "failed",
            });
            if let GeneratorEnd::Failed(e) = end {
                v["error"] = json!(e.plain_sentence());
            }
            v
        }
    }
}

fn micros(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us >= 1_000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.0} µs")
    }
}

fn flow_line(f: &FlowReport) -> String {
    let expected = match f.announced {
        Some(n) => format!("expected {n} (the sender's count)"),
        None => format!(
            "expected {} (up to the highest sequence number seen)",
            f.expected
        ),
    };
    let mut line = format!(
        "sequence check, {} run {:08x}: {expected}, received {}, lost {}, duplicated {}, out of order {}",
        f.peer, f.run, f.received, f.lost, f.duplicated, f.out_of_order
    );
    if f.too_late_to_check > 0 {
        let _ = write!(
            line,
            " ({} too late to tell from duplicates)",
            f.too_late_to_check
        );
    }
    match &f.delay {
        Some(d) => {
            let _ = write!(
                line,
                "\n  one-way delay (both ends on this machine): min {}, median {}, 90% {}, 99% {}, max {} over {} messages",
            micros(d.min),
            micros(d.p50),
            micros(d.p90),
            micros(d.p99),
            micros(d.max),
            d.samples
            );
        }
        None => line.push_str(
            "\n  one-way delay not measured: the sender is not on this machine, so its clock may differ",
        ),
    }
    line
}

/// Prints a sequence check's report at the end of `udp-listen --sequence` or `tcp-listen
/// --sequence`: sentences on standard error, or one JSON object per sender on standard output.
pub(crate) fn print_sequence_report(
    summary: &SequenceSummary,
    common: &CommonArgs,
    skipped_bytes: u64,
) {
    if common.output == OutputMode::Json {
        for f in &summary.flows {
            let delay = f.delay.map(|d| {
                json!({
                    "samples": d.samples,
                    "min_us": d.min.as_secs_f64() * 1e6,
                    "p50_us": d.p50.as_secs_f64() * 1e6,
                    "p90_us": d.p90.as_secs_f64() * 1e6,
                    "p99_us": d.p99.as_secs_f64() * 1e6,
                    "max_us": d.max.as_secs_f64() * 1e6,
                })
            });
            println!(
                "{}",
                json!({
                    "event": "sequence_report",
                    "peer": f.peer.to_string(),
                    "run": f.run,
                    "announced": f.announced,
                    "expected": f.expected,
                    "received": f.received,
                    "lost": f.lost,
                    "duplicated": f.duplicated,
                    "out_of_order": f.out_of_order,
                    "too_late_to_check": f.too_late_to_check,
                    "delay": delay,
                })
            );
        }
        println!(
            "{}",
            json!({"event": "sequence_totals", "without_header": summary.without_header, "untracked": summary.untracked, "skipped_bytes": skipped_bytes})
        );
        return;
    }
    if summary.flows.is_empty() {
        eprintln!("sequence check: no sequence-numbered messages arrived");
    }
    for f in &summary.flows {
        eprintln!("{}", flow_line(f));
    }
    if summary.without_header > 0 {
        eprintln!(
            "sequence check: {} messages had no sequence header (counted above, not checked)",
            summary.without_header
        );
    }
    if summary.untracked > 0 {
        eprintln!(
            "sequence check: {} messages came from senders beyond the first {} and were not checked",
            summary.untracked,
            generator::MAX_FLOWS
        );
    }
    if skipped_bytes > 0 {
        eprintln!(
            "sequence check: {skipped_bytes} bytes of the streams were not part of a sequence-numbered message"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_in_every_unit() {
        assert_eq!(
            parse_rate("1000", Unit::Messages),
            Ok(Rate::MessagesPerSecond(1000.0))
        );
        assert_eq!(
            parse_rate("2.5k/s", Unit::Messages),
            Ok(Rate::MessagesPerSecond(2500.0))
        );
        assert_eq!(
            parse_rate("64kB/s", Unit::Messages),
            Ok(Rate::BytesPerSecond(64_000.0))
        );
        assert_eq!(
            parse_rate("8Mbit/s", Unit::Bytes),
            Ok(Rate::BytesPerSecond(1e6))
        );
        assert_eq!(
            parse_rate("1000", Unit::Bytes),
            Ok(Rate::BytesPerSecond(1000.0))
        );
        assert_eq!(parse_rate("max", Unit::Bytes), Ok(Rate::Max));
        assert!(parse_rate("0", Unit::Bytes).is_err());
        assert!(parse_rate("fast", Unit::Bytes).is_err());
        assert!(parse_rate("10 parsecs", Unit::Bytes).is_err());
    }
}
