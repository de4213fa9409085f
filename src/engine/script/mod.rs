//! Scripted exchanges: the same conversation with a device or service, written once and run
//! again and again. A script is a TOML file: a target (connect to `HOST:PORT` over TCP or UDP, or
//! listen and wait for the first client), then steps — `send`, `expect` (with a timeout), `wait`,
//! `repeat` (a counted block) and `set` (a variable from a group the last `expect` captured) —
//! and optionally a framing, so that `expect` compares whole messages.
//!
//! ```toml
//! name = "Modbus: read ten holding registers"
//! framing = "fixed:25"
//! timeout_ms = 2000
//!
//! [connect]
//! tcp = "127.0.0.1:5020"
//!
//! [[steps]]
//! send = "01 03 00 00 00 0A"
//! format = "hex"
//! checksum = "crc16-modbus"
//!
//! [[steps]]
//! expect.hex = "01 03 14 *"
//! ```
//!
//! [`parse`] checks the whole file before anything touches the network: every mistake comes
//! back as one sentence with its line and column. [`start`] runs a parsed script on a real
//! engine session ([`crate::engine::tcp_client`], [`crate::engine::udp`], …) in a worker thread
//! of its own and reports each step as it passes or fails.
//!
//! Without framing a TCP stream has no messages, so an `expect` reads until its pattern is found
//! and takes the bytes up to the end of the match; the bytes after it stay for the next `expect`.
//! With framing on (or over UDP, where every datagram is a message) each `expect` takes the next
//! whole message and compares it.

mod parse;
mod runner;

use std::net::SocketAddr;
use std::time::Duration;

use super::autoreply::{ByteRegex, HexPattern};
use super::checksum::Checksum;
use super::framing::FramingConfig;
use super::template::{GroupRef, Template};

pub use parse::{MAX_SCRIPT_BYTES, ScriptError, parse};
pub use runner::{
    Outcome, ScriptCommand, ScriptEvent, ScriptRun, StartMode, StepFailure, StepResult, start,
};

/// The most steps a file may hold (nested ones included).
pub const MAX_ENTRIES: usize = 1_000;
/// The most steps one run may carry out, counting every pass of every `repeat`: a script whose
/// counts multiply past this is refused before it starts.
pub const MAX_EXECUTED_STEPS: u64 = 1_000_000;
/// The largest `repeat` count.
pub const MAX_REPEAT: u64 = 100_000;
/// How deeply `repeat` blocks may nest.
pub const MAX_DEPTH: usize = 8;
/// The longest timeout or wait a step may ask for.
pub const MAX_STEP_TIME: Duration = Duration::from_mins(10);
/// How long an `expect` waits when neither it nor the script says.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a listening script waits for its first client when the file does not say.
pub const DEFAULT_LISTEN_WAIT: Duration = Duration::from_mins(5);
/// The most received bytes a run keeps that no `expect` has taken yet. More than this fails the
/// run (nothing is dropped silently).
pub const MAX_PENDING_BYTES: usize = 1024 * 1024;

/// TCP or UDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// A connection: a byte stream.
    Tcp,
    /// Datagrams.
    Udp,
}

impl Protocol {
    /// `TCP` or `UDP`, as sentences name it.
    pub fn label(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
        }
    }
}

/// Whom the script talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Connect to (TCP) or send to (UDP) this host and port.
    Connect {
        /// TCP or UDP.
        protocol: Protocol,
        /// Host name or address literal.
        host: String,
        /// Port.
        port: u16,
    },
    /// Listen here and talk to the first client (TCP) or the first sender (UDP).
    Listen {
        /// TCP or UDP.
        protocol: Protocol,
        /// Where to listen (port 0: the system picks one; the run reports it).
        address: SocketAddr,
        /// How long to wait for that first client or datagram.
        wait: Duration,
    },
}

impl Target {
    /// TCP or UDP.
    pub fn protocol(&self) -> Protocol {
        match self {
            Target::Connect { protocol, .. } | Target::Listen { protocol, .. } => *protocol,
        }
    }
}

/// A checked script, ready to run.
#[derive(Debug, Clone)]
pub struct Script {
    /// The `name` the file gives, if any.
    pub name: Option<String>,
    /// Whom it talks to.
    pub target: Target,
    /// How received TCP data is cut into messages for `expect`.
    pub framing: FramingConfig,
    /// The connect timeout, and the timeout of every `expect` that names none.
    pub timeout: Duration,
    /// The steps, with `repeat` blocks nested.
    pub steps: Vec<Step>,
    /// Every step of the file in file order, nested ones included: what a report lists.
    pub entries: Vec<Entry>,
}

impl Script {
    /// How many steps one run carries out, counting every pass of every `repeat` (a `repeat`
    /// itself counts once).
    pub fn executed_steps(&self) -> u64 {
        count_executed(&self.steps)
    }

    /// Points the script at another address (the command line's `--target`), keeping its
    /// protocol and everything else.
    pub fn retarget(&mut self, host: String, port: u16) {
        match &mut self.target {
            Target::Connect {
                host: h, port: p, ..
            } => {
                *h = host;
                *p = port;
            }
            Target::Listen { address, .. } => {
                if let Ok(ip) = host.trim_matches(['[', ']']).parse() {
                    *address = SocketAddr::new(ip, port);
                }
            }
        }
    }
}

fn count_executed(steps: &[Step]) -> u64 {
    steps
        .iter()
        .map(|s| match &s.action {
            Action::Repeat { count, steps } => count
                .saturating_mul(count_executed(steps))
                .saturating_add(1),
            _ => 1,
        })
        .fold(0, u64::saturating_add)
}

/// One step as the file has it: where it is and what it does, in a few words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its line in the file (from 1).
    pub line: usize,
    /// How many `repeat` blocks it is inside.
    pub depth: usize,
    /// `send`, `expect`, `wait`, `repeat` or `set`.
    pub kind: &'static str,
    /// What it does: "send 6 bytes + crc16-modbus", "expect hex 01 03 14 *", …
    pub summary: String,
}

/// A step of a script.
#[derive(Debug, Clone)]
pub struct Step {
    /// Its index in [`Script::entries`].
    pub entry: usize,
    /// What it does.
    pub action: Action,
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum Action {
    /// Send bytes.
    Send(SendBody),
    /// Wait for data that matches.
    Expect(Expect),
    /// Do nothing for this long (data arriving meanwhile is kept for the next `expect`).
    Wait(Duration),
    /// Carry out `steps` `count` times.
    Repeat {
        /// How many times.
        count: u64,
        /// The block.
        steps: Vec<Step>,
    },
    /// Keep a group the last `expect`'s regular expression captured, as the variable `name`
    /// that later template sends write `{name}`.
    Set {
        /// The variable.
        name: String,
        /// The group.
        group: GroupRef,
    },
}

/// What a `send` step sends.
#[derive(Debug, Clone)]
pub enum SendBody {
    /// Text, hex or a template without script variables: filled in at each send.
    Template(Template),
    /// A template that uses variables of `set` steps: they are put in at each send, then the
    /// result is read as a template.
    WithVariables {
        /// The template as written.
        source: String,
        /// The checksum to append.
        checksum: Option<Checksum>,
    },
}

/// An `expect` step.
#[derive(Debug, Clone)]
pub struct Expect {
    /// What must arrive.
    pub matcher: Matcher,
    /// How long to wait for it.
    pub timeout: Duration,
}

/// What an `expect` looks for.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// Exactly these bytes (a whole message, or the next bytes of the stream).
    Equals(Vec<u8>),
    /// These bytes somewhere.
    Contains(Vec<u8>),
    /// A message (or the stream's next bytes) beginning with these.
    StartsWith(Vec<u8>),
    /// A message ending with these (on a stream: these bytes, found).
    EndsWith(Vec<u8>),
    /// A regular expression over bytes; its groups can be kept by `set`.
    Regex(ByteRegex),
    /// Bytes with `??` wildcards, optionally open-ended with a final `*`.
    Hex(HexPattern),
    /// The peer finishes sending (TCP: its FIN arrives). What arrived before the end and no
    /// `expect` took is taken with it and reported ("read to the end").
    End,
}
