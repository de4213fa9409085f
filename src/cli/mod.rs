//! The command line: `socketlab <subcommand>` drives the same engine as the window, headless, so
//! it can be scripted, used over SSH and tested end to end. With no subcommand the window opens.
//!
//! Standard output carries what was received (in the chosen `--output` form); standard error
//! carries status lines, the socket-call transcript (`--explain`) and error sentences. Exit codes:
//! 0 success, 1 network failure, 2 bad usage or bad input.

mod console;
mod data;
mod lookup;
mod multicast;
mod relay;
mod run;
mod script;
mod traffic;

pub use relay::RelayArgs;
pub use traffic::TrafficArgs;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use std::sync::Arc;

use crate::engine::autoreply::{
    AutoReply, ByteRegex, Combine, Condition, HexPattern, ReplyAction, ReplyRule,
};
use crate::engine::checksum::Checksum;
use crate::engine::framing::{DEFAULT_MAX_MESSAGE, Framing, FramingConfig, Oversize};
use crate::engine::lookup::{normalize_host, parse_bind_address};
use crate::engine::payload::{self, InputMode, LineEnding};
use crate::engine::services::{PortUse, Protocol, parse_port};
use crate::engine::template::Template;
use crate::engine::{EngineError, ErrorClass, Payload};

/// Socket Lab: click through real TCP and UDP sockets and see what they do.
///
/// Without a subcommand the window opens; with one, the same engine runs on the command line.
#[derive(Debug, Parser)]
#[command(
    name = "socketlab",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// What to do; without one, the window opens.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// A workspace file (.socketlab) to open in the window.
    #[arg(value_name = "WORKSPACE")]
    pub workspace: Option<PathBuf>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Connect to a TCP server, send data, print what comes back.
    #[command(name = "tcp-connect")]
    TcpConnect(TcpConnectArgs),
    /// Listen for TCP connections and print what clients send.
    #[command(name = "tcp-listen")]
    TcpListen(TcpListenArgs),
    /// Send UDP datagrams to a host and print any answers.
    #[command(name = "udp-send")]
    UdpSend(UdpSendArgs),
    /// Bind a UDP port and print the datagrams that arrive.
    #[command(name = "udp-listen")]
    UdpListen(UdpListenArgs),
    /// Look up names, addresses and service names (getaddrinfo / getnameinfo).
    Lookup(LookupArgs),
    /// Forward between a listening address and a target, with delay, jitter, loss,
    /// duplication, reordering and a bandwidth limit: a network that misbehaves on purpose.
    Relay(RelayArgs),
    /// Carry out a scripted exchange from a TOML file (connect or listen, then send, expect,
    /// wait, repeat, set): exit 0 when every step passed, 1 when one failed, 2 for a bad script.
    Run(script::RunArgs),
}

/// How received data is printed on standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputMode {
    /// One line per receive: time (UTC), peer, byte count, data with control bytes made visible.
    Text,
    /// A hex dump of each receive.
    Hex,
    /// Exactly the bytes received and nothing else, like nc.
    Raw,
    /// One JSON object per line for every event, socket calls included.
    Json,
    /// Nothing on standard output (status lines and counters still go to standard error).
    None,
}

/// The line ending added to each `--send` and `--reply` text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EndingArg {
    /// Nothing.
    None,
    /// `\n`.
    Lf,
    /// `\r\n`.
    Crlf,
}

impl EndingArg {
    fn ending(self) -> LineEnding {
        match self {
            EndingArg::None => LineEnding::None,
            EndingArg::Lf => LineEnding::Lf,
            EndingArg::Crlf => LineEnding::CrLf,
        }
    }
}

/// What a framer does with a message larger than `--max-message`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OversizeArg {
    /// Report it once with its bytes, skip them, and go on with the next valid message.
    Resync,
    /// Report it with the rest of the data and close the connection.
    Stop,
}

/// Options every network subcommand has.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// How to print received data.
    #[arg(long, value_enum, default_value_t = OutputMode::Text)]
    pub output: OutputMode,
    /// Print every socket call (the transcript) on standard error as it happens.
    #[arg(long)]
    pub explain: bool,
    /// How received TCP data is cut into messages: none (each read as it came), lf, crlf,
    /// bytes:HEX (any delimiter, e.g. bytes:03), len:N[be|le][+hdr] (an N-byte length prefix,
    /// 1, 2 or 4; +hdr when it counts itself), fixed:N, or gap:MS (a message ends after MS
    /// milliseconds of silence). UDP keeps each datagram as one message.
    #[arg(long, value_name = "FRAMING", default_value = "none", value_parser = str::parse::<Framing>)]
    pub framing: Framing,
    /// The largest message the framing accepts, in bytes (the body, for a length prefix).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_MESSAGE)]
    pub max_message: usize,
    /// What to do with a larger message.
    #[arg(long, value_enum, default_value_t = OversizeArg::Resync, value_name = "WHAT")]
    pub on_oversize: OversizeArg,
}

impl CommonArgs {
    /// The framing asked for, checked (bad limits are bad input).
    fn framing(&self) -> Result<FramingConfig, Failure> {
        let config = FramingConfig {
            framing: self.framing.clone(),
            max_message: self.max_message,
            on_oversize: match self.on_oversize {
                OversizeArg::Resync => Oversize::Resync,
                OversizeArg::Stop => Oversize::Stop,
            },
        };
        config
            .check()
            .map_err(|e| Failure::usage(format!("--framing {}: {e}", self.framing)))?;
        Ok(config)
    }

    /// UDP keeps message boundaries itself: a framing there would be a promise not kept.
    /// Framing is not applied to TLS connections yet (the TLS reader hands over records
    /// unframed): refused rather than silently ignored.
    fn refuse_framing_with_tls(&self, tls: bool) -> Result<(), Failure> {
        if tls && self.framing.is_on() {
            return Err(Failure::usage(format!(
                "--framing {} does not work with --tls yet: a TLS connection is shown read by read. Leave out one of the two.",
                self.framing
            )));
        }
        Ok(())
    }

    fn refuse_framing_for_udp(&self) -> Result<(), Failure> {
        if self.framing.is_on() {
            return Err(Failure::usage(format!(
                "--framing {} applies to TCP: over UDP every datagram already is one message, exactly as it was sent.",
                self.framing
            )));
        }
        Ok(())
    }
}

/// How texts typed on the command line become bytes.
#[derive(Debug, Args)]
pub struct TextArgs {
    /// Added to each `--send` (and `--reply`) text.
    #[arg(long, value_enum, default_value_t = EndingArg::None, value_name = "ENDING")]
    pub line_ending: EndingArg,
    /// Read `\n \r \t \0 \xNN \\` in `--send` and `--reply` texts as the bytes they stand for.
    #[arg(long)]
    pub escapes: bool,
    /// Read `--send` and `--reply` texts as templates: escapes as with --escapes, and `{seq}`
    /// (1, 2, 3 … per session), `{time}` (ISO 8601, UTC), `{unix_ms}`, `{rand:N}` (N random
    /// bytes as hex), `{{` for a literal brace, and in a --match regex reply the groups `{1}`,
    /// `{name}`.
    #[arg(long)]
    pub template: bool,
    /// Append this checksum to each --send, --hex and --reply message: crc16-modbus (low byte
    /// first), crc16-ccitt, crc16-xmodem, crc32, xor8 or sum8. Streamed files and standard
    /// input are sent as they are.
    #[arg(long, value_name = "CHECKSUM", value_parser = Checksum::from_name)]
    pub append_checksum: Option<Checksum>,
}

/// A message to send as the command line gave it: fixed bytes, or a template filled in when it
/// goes out.
#[derive(Debug, Clone)]
pub(crate) enum Outgoing {
    /// The same bytes every time.
    Bytes(Payload),
    /// Filled in at each send (`{seq}` …).
    Template(Arc<Template>),
}

impl TextArgs {
    /// One typed text as it will be sent: a template with `--template`, bytes otherwise; the
    /// checksum appended either way. `what` names the option in error sentences.
    fn message(&self, text: &str, what: &str, groups: bool) -> Result<Outgoing, Failure> {
        if self.template {
            let template = Template::parse_reply(text, groups)
                .map_err(|e| Failure::usage(format!("In {what} \"{text}\": {e}")))?
                .with_suffix(self.line_ending.ending().bytes())
                .with_checksum(self.append_checksum);
            return Ok(Outgoing::Template(Arc::new(template)));
        }
        let mut bytes = self.encode(text)?;
        if let Some(checksum) = self.append_checksum {
            checksum.append(&mut bytes);
        }
        Ok(Outgoing::Bytes(Payload::from(bytes)))
    }

    /// Encodes one typed text with the shared payload codec.
    fn encode(&self, text: &str) -> Result<Vec<u8>, Failure> {
        let mode = if self.escapes {
            InputMode::Escapes
        } else {
            InputMode::Text
        };
        payload::encode(text, mode, self.line_ending.ending())
            .map_err(|e| Failure::usage(e.to_string()))
    }
}

/// What to send, in the order given on the command line.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// Text to send; repeat it to send several messages in order. `-` streams standard input until
    /// it ends (TCP: as it comes; UDP: one datagram per line). A TCP server sends to every client
    /// connected at the time, starting when the first one connects.
    #[arg(long = "send", value_name = "TEXT")]
    pub send: Vec<String>,
    /// Bytes to send, as hex digits (`48 65 6c 6c 6f`, `0x48 0x65`); repeatable.
    #[arg(long, value_name = "HEX")]
    pub hex: Vec<String>,
    /// A file to send (TCP: streamed; UDP: one datagram); repeatable.
    #[arg(long, value_name = "PATH")]
    pub file: Vec<PathBuf>,
}

/// `tcp-connect HOST PORT`.
#[derive(Debug, Args)]
pub struct TcpConnectArgs {
    /// Host name or IP address (`127.0.0.1`, `::1`, `[::1]`, `localhost`).
    pub host: String,
    /// Port number or service name (`80`, `http`).
    #[arg(allow_negative_numbers = true)]
    pub port: String,
    /// What to send.
    #[command(flatten)]
    pub data: DataArgs,
    /// How texts become bytes.
    #[command(flatten)]
    pub text: TextArgs,
    /// After sending, shut down writing (half-close: the peer sees end of stream) and keep reading
    /// until the peer closes.
    #[arg(long)]
    pub shutdown: bool,
    /// Local address and port to bind before connecting (`127.0.0.1:40000`, `[::1]:0`); by
    /// default the system picks.
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_local)]
    pub local: Option<SocketAddr>,
    /// How long connecting may take, in seconds.
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub timeout: Option<Duration>,
    /// How long to keep receiving after the last send, in seconds (default: until the peer
    /// closes).
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub wait: Option<Duration>,
    /// Traffic generator: a rate in bytes per second, a count of writes, a size, sequence numbers.
    #[command(flatten)]
    pub traffic: TrafficArgs,
    /// TLS options.
    #[command(flatten)]
    pub tls: ClientTlsArgs,
    /// Output options.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `tcp-connect --tls ...`.
#[derive(Debug, Args)]
pub struct ClientTlsArgs {
    /// Speak TLS: the server's certificate is checked against the system's root certificates
    /// (or `--ca`) and must name the host (or `--sni`). `--timeout` also bounds the handshake.
    #[arg(long)]
    pub tls: bool,
    /// Trust the certificates in this PEM file instead of the system's root certificates.
    #[arg(long, value_name = "FILE", requires = "tls")]
    pub ca: Option<PathBuf>,
    /// The server name to send (SNI) and to find in the certificate; by default the host.
    #[arg(long, value_name = "NAME", requires = "tls")]
    pub sni: Option<String>,
    /// Application protocols to offer (ALPN), comma-separated, preferred first: `h2,http/1.1`.
    #[arg(long, value_name = "LIST", requires = "tls", value_delimiter = ',')]
    pub alpn: Vec<String>,
    /// Accept any certificate without checking it. The run says NOT VERIFIED: anyone could be
    /// at the other end.
    #[arg(long, requires = "tls", conflicts_with = "ca")]
    pub insecure: bool,
}

/// `tcp-listen --tls ...`.
#[derive(Debug, Args)]
pub struct ServerTlsArgs {
    /// Speak TLS with every client; needs `--cert` and `--key`, or `--self-signed`.
    #[arg(long)]
    pub tls: bool,
    /// The server's certificate chain (PEM), its own certificate first.
    #[arg(long, value_name = "FILE", requires_all = ["tls", "key"])]
    pub cert: Option<PathBuf>,
    /// The private key of `--cert` (PEM).
    #[arg(long, value_name = "FILE", requires_all = ["tls", "cert"])]
    pub key: Option<PathBuf>,
    /// Generate a certificate for `localhost`, `127.0.0.1` and `::1` now; its SHA-256 fingerprint
    /// is printed so clients can check it.
    #[arg(long, requires = "tls", conflicts_with_all = ["cert", "key"])]
    pub self_signed: bool,
    /// Also write the generated certificate to this file (PEM), for clients to trust it
    /// (`--ca FILE`, `curl --cacert FILE`). An existing file is not replaced.
    #[arg(long, value_name = "FILE", requires = "self_signed")]
    pub save_cert: Option<PathBuf>,
    /// Require every client to present a certificate signed by a CA in this PEM file.
    #[arg(long, value_name = "FILE", requires = "tls")]
    pub client_ca: Option<PathBuf>,
    /// Application protocols to accept (ALPN), comma-separated, preferred first.
    #[arg(long, value_name = "LIST", requires = "tls", value_delimiter = ',')]
    pub alpn: Vec<String>,
}

/// Options of both servers.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Port number or service name; 0 lets the system choose (the real port is printed).
    #[arg(allow_negative_numbers = true)]
    pub port: String,
    /// Local address to listen on: 127.0.0.1 hears only this machine, 0.0.0.0 or :: every
    /// interface.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    pub bind: String,
    /// Send everything received straight back to its sender.
    #[arg(long)]
    pub echo: bool,
    /// Answer every receive (every message, with --framing) with this text; with --match, only
    /// the messages that match.
    #[arg(long, value_name = "TEXT")]
    pub reply: Option<String>,
    /// A condition of the reply rule, KIND=VALUE: equals, contains, starts-with, ends-with (text
    /// read as --send texts are), regex (over bytes), hex (01 03 ?? ?? 00 0A; ?? any byte, a
    /// final * allows more) or length (N or MIN-MAX). Repeat it for more conditions; all must
    /// hold unless --match-any.
    #[arg(long = "match", value_name = "KIND=VALUE")]
    pub matches: Vec<String>,
    /// One condition of --match is enough.
    #[arg(long, requires = "matches")]
    pub match_any: bool,
    /// Send nothing to a message that matches (with --echo: echo everything else).
    #[arg(long, requires = "matches", conflicts_with = "reply")]
    pub no_reply: bool,
    /// Write every received byte to this file (TCP: one file per client, `dump.bin` →
    /// `dump-1.bin`, `dump-2.bin`, ...).
    #[arg(long, value_name = "FILE")]
    pub capture: Option<PathBuf>,
    /// Allow `--capture` to replace files that already exist.
    #[arg(long, requires = "capture")]
    pub overwrite: bool,
    /// Sequence check: count received, lost, duplicated and out-of-order messages of a
    /// `--sequence` generator, with one-way delays, and print the report at the end.
    #[arg(long)]
    pub sequence: bool,
    /// How the reply text becomes bytes.
    #[command(flatten)]
    pub text: TextArgs,
    /// Output options.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `tcp-listen PORT`.
#[derive(Debug, Args)]
pub struct TcpListenArgs {
    /// Options of both servers.
    #[command(flatten)]
    pub server: ServerArgs,
    /// What to send to the connected clients.
    #[command(flatten)]
    pub data: DataArgs,
    /// Exit when the first client has disconnected.
    #[arg(long)]
    pub once: bool,
    /// Most clients connected at once; one more is accepted and closed at once.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_clients: u32,
    /// TLS options.
    #[command(flatten)]
    pub tls: ServerTlsArgs,
}

/// `udp-send HOST PORT`.
#[derive(Debug, Args)]
pub struct UdpSendArgs {
    /// Host name or IP address.
    pub host: String,
    /// Port number or service name (`53`, `domain`).
    #[arg(allow_negative_numbers = true)]
    pub port: String,
    /// What to send: each `--send`, `--hex` and `--file` is one datagram.
    #[command(flatten)]
    pub data: DataArgs,
    /// How texts become bytes.
    #[command(flatten)]
    pub text: TextArgs,
    /// Call `connect()` first: only the target's answers are received, and "port unreachable"
    /// shows up as "connection refused".
    #[arg(long)]
    pub connect: bool,
    /// Local address and port to send from (`0.0.0.0:5000`): some devices answer only to a fixed
    /// port. By default the system picks.
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_local)]
    pub local: Option<SocketAddr>,
    /// Allow sending to a broadcast address (`SO_BROADCAST`): 255.255.255.255, or a subnet's
    /// broadcast address such as 192.168.1.255.
    #[arg(long)]
    pub broadcast: bool,
    /// TTL (IPv4) or hop limit (IPv6) of the datagrams: for a group target the multicast TTL
    /// (1 by default, which keeps them on the local network), otherwise the unicast one.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=255))]
    pub ttl: Option<u32>,
    /// The interface the datagrams leave through, by name or address (`eth0`, `lo`,
    /// `192.168.1.20`): for a group target `IP_MULTICAST_IF`; otherwise the socket is bound to
    /// the interface's address.
    #[arg(long, value_name = "IFACE", conflicts_with = "local")]
    pub interface: Option<String>,
    /// Whether this machine's own members of the group get a copy (`IP_MULTICAST_LOOP`; on by
    /// default). Only for a group target.
    #[arg(long, value_enum, value_name = "on|off")]
    pub multicast_loop: Option<OnOff>,
    /// How long to keep receiving after the last send, in seconds.
    #[arg(long, value_name = "SECS", value_parser = parse_seconds, default_value = "1")]
    pub wait: Duration,
    /// Traffic generator: a rate, a count or duration, a size, sequence numbers.
    #[command(flatten)]
    pub traffic: TrafficArgs,
    /// Output options.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `on` or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    /// On.
    On,
    /// Off.
    Off,
}

/// `udp-listen PORT`.
#[derive(Debug, Args)]
pub struct UdpListenArgs {
    /// Options of both servers.
    #[command(flatten)]
    pub server: ServerArgs,
    /// Join a multicast group, GROUP[@IFACE]: an IPv4 group (224.0.0.0 to 239.255.255.255) or an
    /// IPv6 group (`ff00::/8`), on the interface named (by name or address; without it the system
    /// chooses by its route for the group). Repeat it for more groups. With --join the socket is
    /// bound to 0.0.0.0 (or ::) unless --bind says otherwise, and `SO_REUSEADDR` is set so other
    /// programs can listen to the same group and port.
    #[arg(long = "join", value_name = "GROUP[@IFACE]")]
    pub join: Vec<String>,
    /// Hear only this sender in the --join before it (a source-specific join, `IGMPv3`; IPv4
    /// groups). Repeat it for more senders of the same group.
    #[arg(long = "source", value_name = "ADDR", requires = "join")]
    pub source: Vec<String>,
    /// With --join: after this many seconds without a datagram from the groups, say why they
    /// may not be arriving.
    #[arg(long, value_name = "SECS", value_parser = parse_seconds, default_value = "10", requires = "join")]
    pub silence: Duration,
    /// Exit after this many datagrams.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
}

/// `lookup NAME [SERVICE]`.
#[derive(Debug, Args)]
pub struct LookupArgs {
    /// A host name or an IP address (with `--reverse`: an IP address).
    pub name: String,
    /// A service name or port number (`http`, `443`).
    #[arg(allow_negative_numbers = true)]
    pub service: Option<String>,
    /// Reverse lookup: the name of an address, and of the port (getnameinfo).
    #[arg(long)]
    pub reverse: bool,
    /// Print one JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Why a subcommand did not succeed: the exit code and the one sentence to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    /// 1 for a network failure, 2 for bad usage or input.
    pub code: u8,
    /// One plain sentence.
    pub sentence: String,
}

/// Exit code for bad usage or bad input.
pub(crate) const EXIT_USAGE: u8 = 2;
/// Exit code for network failures.
pub(crate) const EXIT_NETWORK: u8 = 1;

impl Failure {
    /// Bad usage or bad input (exit 2).
    pub(crate) fn usage(sentence: impl Into<String>) -> Self {
        Failure {
            code: EXIT_USAGE,
            sentence: sentence.into(),
        }
    }

    /// A network failure (exit 1).
    pub(crate) fn network(sentence: impl Into<String>) -> Self {
        Failure {
            code: EXIT_NETWORK,
            sentence: sentence.into(),
        }
    }

    /// An engine error: bad input is a usage error, everything else a network failure.
    pub(crate) fn engine(error: &EngineError) -> Self {
        Failure {
            code: if error.class() == ErrorClass::InvalidInput {
                EXIT_USAGE
            } else {
                EXIT_NETWORK
            },
            sentence: error.plain_sentence(),
        }
    }
}

/// Parses a number of seconds (`2`, `0.5`).
fn parse_seconds(text: &str) -> Result<Duration, String> {
    let bad = || format!("\"{text}\" is not a number of seconds (for example 2 or 0.5)");
    let secs: f64 = text.trim().parse().map_err(|_| bad())?;
    Duration::try_from_secs_f64(secs).map_err(|_| bad())
}

/// Parses `--local`: an address and port of this machine.
fn parse_local(text: &str) -> Result<SocketAddr, String> {
    text.trim().parse().map_err(|_| {
        format!(
            "\"{text}\" is not a local address and port: write it as 127.0.0.1:5000, 0.0.0.0:5000 or [::1]:5000"
        )
    })
}

/// Parses a port field, in the same words as the window.
fn port(text: &str, proto: Protocol, usage: PortUse) -> Result<u16, Failure> {
    parse_port(text, proto, usage)
        .map(|spec| spec.port)
        .map_err(|e| Failure::usage(e.to_string()))
}

/// Checks a host field before any network activity, so an empty host is bad input (exit 2).
fn host(text: &str) -> Result<String, Failure> {
    normalize_host(text)
        .map(ToOwned::to_owned)
        .map_err(|e| Failure::usage(e.plain_sentence()))
}

/// Parses `--bind`: an IP address of this machine (brackets allowed for IPv6).
fn bind_address(text: &str) -> Result<IpAddr, Failure> {
    parse_bind_address(text).map_err(Failure::usage)
}

/// The reply text of a server, encoded once, for the command line's own reply to each receive
/// (`--reply` alone, without framing, templates or conditions).
fn reply(server: &ServerArgs) -> Result<Option<Payload>, Failure> {
    if engine_rule_needed(server) {
        return Ok(None);
    }
    server
        .reply
        .as_deref()
        .map(|text| match server.text.message(text, "--reply", false)? {
            Outgoing::Bytes(bytes) => Ok(bytes),
            Outgoing::Template(_) => Err(Failure::usage("--reply: a template needs a rule")),
        })
        .transpose()
}

/// True when the reply is the engine's rule (it sees messages, fills templates in and answers
/// from the receiving thread) rather than the command line's reply to each receive.
fn engine_rule_needed(server: &ServerArgs) -> bool {
    !server.matches.is_empty() || server.text.template || server.common.framing.is_on()
}

/// The server's auto-reply: echo, the engine rule built from --match / --reply / --no-reply, or
/// nothing (the plain `--reply` is answered by the command line itself).
fn auto_reply(server: &ServerArgs) -> Result<AutoReply, Failure> {
    let plain = if server.echo {
        AutoReply::Echo
    } else {
        AutoReply::Off
    };
    if !engine_rule_needed(server) {
        return Ok(plain);
    }
    let mut conditions = server
        .matches
        .iter()
        .map(|m| condition(m, &server.text))
        .collect::<Result<Vec<_>, _>>()?;
    let has_regex = conditions.iter().any(|c| matches!(c, Condition::Regex(_)));
    let action = if server.no_reply {
        ReplyAction::NoReply
    } else if let Some(text) = &server.reply {
        ReplyAction::Reply(match server.text.message(text, "--reply", has_regex)? {
            Outgoing::Template(t) => Arc::unwrap_or_clone(t),
            Outgoing::Bytes(bytes) => Template::literal(&bytes),
        })
    } else if conditions.is_empty() {
        return Ok(plain);
    } else {
        return Err(Failure::usage(
            "--match needs --reply TEXT (what to answer) or --no-reply (answer nothing).",
        ));
    };
    if conditions.is_empty() {
        // A reply to every message.
        conditions.push(Condition::Length {
            min: 0,
            max: usize::MAX,
        });
    }
    let combine = if server.match_any {
        Combine::Any
    } else {
        Combine::All
    };
    let rule = ReplyRule::new(conditions, combine, action)
        .map_err(|e| Failure::usage(format!("--match: {e}")))?;
    Ok(AutoReply::ReplyRules {
        rules: vec![rule],
        otherwise_echo: server.echo,
    })
}

/// Parses one `--match KIND=VALUE`.
fn condition(text: &str, texts: &TextArgs) -> Result<Condition, Failure> {
    let bad = |why: String| Failure::usage(format!("--match \"{text}\": {why}"));
    let Some((kind, value)) = text.split_once('=') else {
        return Err(bad(
            "write it as KIND=VALUE, e.g. starts-with=GET or regex=^PING (kinds: equals, contains, starts-with, ends-with, regex, hex, length)".to_owned(),
        ));
    };
    let bytes = || {
        let mode = if texts.escapes || texts.template {
            InputMode::Escapes
        } else {
            InputMode::Text
        };
        payload::encode(value, mode, LineEnding::None).map_err(|e| bad(e.to_string()))
    };
    Ok(match kind.trim().to_ascii_lowercase().as_str() {
        "equals" => Condition::Equals(bytes()?),
        "contains" => Condition::Contains(bytes()?),
        "starts-with" => Condition::StartsWith(bytes()?),
        "ends-with" => Condition::EndsWith(bytes()?),
        "regex" => Condition::Regex(ByteRegex::new(value).map_err(|e| bad(e.to_string()))?),
        "hex" => Condition::HexPattern(HexPattern::parse(value).map_err(|e| bad(e.to_string()))?),
        "length" => {
            let number = |n: &str| {
                n.trim().parse::<usize>().map_err(|_| {
                    bad(format!(
                        "\"{n}\" is not a number of bytes (write length=8 or length=4-16)"
                    ))
                })
            };
            let (min, max) = if let Some((a, b)) = value.split_once('-') {
                (number(a)?, number(b)?)
            } else {
                let n = number(value)?;
                (n, n)
            };
            Condition::length(min, max).map_err(|e| bad(e.to_string()))?
        }
        other => {
            return Err(bad(format!(
                "\"{other}\" is not a kind of condition: use equals, contains, starts-with, ends-with, regex, hex or length"
            )));
        }
    })
}

/// Checks an ALPN list: each protocol name is 1 to 255 bytes.
fn alpn(list: &[String]) -> Result<Vec<String>, Failure> {
    list.iter()
        .map(|p| {
            let p = p.trim();
            if p.is_empty() || p.len() > 255 {
                Err(Failure::usage(format!(
                    "--alpn: \"{p}\" is not a protocol name: give names of 1 to 255 characters separated by commas, for example h2,http/1.1"
                )))
            } else {
                Ok(p.to_owned())
            }
        })
        .collect()
}

/// Runs the program: parses arguments, opens the window or runs a subcommand.
pub fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let Some(command) = cli.command else {
        return match crate::gui::run(cli.workspace) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("Socket Lab could not open its window: {e}");
                ExitCode::from(EXIT_NETWORK)
            }
        };
    };
    let sub_matches = matches.subcommand().map(|(_, m)| m);
    let result = match command {
        Command::TcpConnect(args) if args.traffic.active() => traffic::tcp_send(&args),
        Command::TcpConnect(args) => run::tcp_connect(&args, sub_matches),
        Command::TcpListen(args) => run::tcp_listen(&args, sub_matches),
        Command::UdpSend(args) if args.traffic.active() => traffic::udp_send(&args),
        Command::UdpSend(args) => run::udp_send(&args, sub_matches),
        Command::UdpListen(args) => run::udp_listen(&args, sub_matches),
        Command::Lookup(args) => lookup::run(&args),
        Command::Relay(args) => relay::run(&args),
        Command::Run(args) => script::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if !failure.sentence.is_empty() {
                eprintln!("{}", failure.sentence);
            }
            ExitCode::from(failure.code)
        }
    }
}
