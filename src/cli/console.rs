//! Turns engine events into output: received data on standard output in the chosen form, status
//! lines, the transcript and error sentences on standard error, and the exit code they add up to.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, ErrorKind, Stdout, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::{CommonArgs, EXIT_NETWORK, Failure, OutputMode};
use crate::engine::payload::{hex_dump, to_hex, to_visible_text};
use crate::engine::{
    CloseReason, CounterSnapshot, EngineError, Event, EventKind, FileStage, SharedOutput,
    StopReason,
};

/// How the engine names standard output when the readers write it themselves (`--output raw`).
const STDOUT_NAME: &str = "standard output";

/// Which role the console speaks for: it changes the wording and what counts as a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// `tcp-connect`.
    TcpClient,
    /// `tcp-listen`.
    TcpServer,
    /// `udp-send`.
    UdpClient,
    /// `udp-listen`.
    UdpServer,
}

impl Role {
    fn is_server(self) -> bool {
        matches!(self, Role::TcpServer | Role::UdpServer)
    }
}

/// The output side of one subcommand run.
pub(crate) struct Console {
    mode: OutputMode,
    explain: bool,
    role: Role,
    out: BufWriter<Stdout>,
    /// Transcript lines held back until a server's `listening on` line, which scripts read as
    /// the first line of standard error.
    held: Option<Vec<String>>,
    /// The first failure's exit code (its sentence is printed when it happens).
    exit_code: Option<u8>,
    /// The last failure sentence printed, so a burst of the same error (one ICMP answer per
    /// datagram) is said once.
    last_failure: Option<String>,
    /// Standard output was closed by the reader (`| head`): stop quietly.
    stdout_closed: bool,
    /// The socket got as far as listening, being ready or connected; before that there are no
    /// counters worth printing, only the error that stopped it.
    started: bool,
    /// The first failed write of the engine's readers to standard output, when they write it
    /// themselves (see [`Console::raw_output`]).
    raw_output_failure: Option<Arc<Mutex<Option<std::io::Error>>>>,
}

impl Console {
    pub(crate) fn new(common: &CommonArgs, role: Role) -> Self {
        Console {
            mode: common.output,
            explain: common.explain,
            role,
            out: BufWriter::with_capacity(64 * 1024, std::io::stdout()),
            held: role.is_server().then(Vec::new),
            exit_code: None,
            last_failure: None,
            stdout_closed: false,
            started: false,
            raw_output_failure: None,
        }
    }

    /// Standard output for the engine's readers to write received bytes to themselves, as they
    /// arrive (`--output raw`): unbuffered and straight to the file descriptor, so a bulk transfer
    /// costs one `write` per read and no copy, and nothing waits for this thread. `None` where
    /// standard output cannot be shared that way; the events then carry the data as usual.
    pub(crate) fn raw_output(&mut self) -> Option<SharedOutput> {
        let file = stdout_file()?;
        let failure = Arc::new(Mutex::new(None));
        self.raw_output_failure = Some(Arc::clone(&failure));
        Some(SharedOutput::new(
            STDOUT_NAME,
            WatchedStdout {
                file,
                first_failure: failure,
            },
        ))
    }

    /// A failed write of the readers to standard output: handled as this console's own would be
    /// (a reader that went away ends the run quietly), instead of as a client's error.
    fn raw_output_failed(&mut self, kind: &EventKind) -> bool {
        let (EventKind::Error(error)
        | EventKind::Disconnected {
            reason: CloseReason::Failed(error),
            ..
        }) = kind
        else {
            return false;
        };
        if !matches!(error, EngineError::Capture { path, .. } if path == STDOUT_NAME) {
            return false;
        }
        let Some(slot) = &self.raw_output_failure else {
            return false;
        };
        let failure = slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|e| std::io::Error::new(e.kind(), e.to_string()));
        if let Some(e) = failure
            && !self.stdout_closed
        {
            self.stdout_failed(&e);
        }
        true
    }

    /// Prints one event in every form it takes.
    pub(crate) fn event(&mut self, event: &Event) {
        if self.raw_output_failed(&event.kind) {
            return;
        }
        if self.explain
            && let Some(line) = event.kind.transcript_line()
        {
            // The same plain-language explanation the window shows beside each call.
            let line = match crate::engine::explain::explain_event(&event.kind) {
                Some(why) => format!("{line}    — {why}"),
                None => line,
            };
            self.transcript(&line);
        }
        self.started |= matches!(
            event.kind,
            EventKind::Listening { .. } | EventKind::Ready { .. } | EventKind::Connected { .. }
        );
        self.status(&event.kind);
        match self.mode {
            OutputMode::Json => {
                for value in event_json(event) {
                    self.stdout_line(&value.to_string());
                }
            }
            OutputMode::None => {}
            mode => self.data(event, mode),
        }
    }

    /// Prints the counters at the end: a JSON object on standard output in JSON mode, otherwise a
    /// sentence on standard error (standard output keeps only the received data).
    pub(crate) fn finish(&mut self, counters: &CounterSnapshot) {
        self.release_held();
        match self.mode {
            OutputMode::Text | OutputMode::Hex | OutputMode::Raw | OutputMode::None => {
                if self.started {
                    eprintln!("{}", self.summary(counters));
                }
            }
            OutputMode::Json => {
                let value = json!({
                    "event": "counters",
                    "bytes_in": counters.bytes_in,
                    "bytes_out": counters.bytes_out,
                    "reads": counters.reads,
                    "writes": counters.writes,
                    "datagrams_in": counters.datagrams_in,
                    "datagrams_out": counters.datagrams_out,
                    "not_shown_datagrams": counters.not_shown_datagrams,
                    "not_shown_bytes": counters.not_shown_bytes,
                    "connections_accepted": counters.connections_accepted,
                    "connections_rejected": counters.connections_rejected,
                });
                self.stdout_line(&value.to_string());
            }
        }
        self.flush();
    }

    /// Writes out what standard output has buffered.
    pub(crate) fn flush(&mut self) {
        if !self.stdout_closed
            && let Err(e) = self.out.flush()
        {
            self.stdout_failed(&e);
        }
    }

    /// True once standard output has been closed by whoever reads it.
    pub(crate) fn stdout_closed(&self) -> bool {
        self.stdout_closed
    }

    /// Prints a failure's sentence now and remembers its exit code (the first one wins).
    pub(crate) fn fail(&mut self, failure: &Failure) {
        self.release_held();
        if self.last_failure.as_ref() != Some(&failure.sentence) {
            eprintln!("{}", failure.sentence);
            self.last_failure = Some(failure.sentence.clone());
        }
        self.exit_code.get_or_insert(failure.code);
    }

    /// The run's result: the first failure, already printed.
    pub(crate) fn result(&self) -> Result<(), Failure> {
        match self.exit_code {
            None => Ok(()),
            Some(code) => Err(Failure {
                code,
                sentence: String::new(),
            }),
        }
    }

    fn transcript(&mut self, line: &str) {
        let line = format!("  {line}");
        match &mut self.held {
            Some(held) => held.push(line),
            None => eprintln!("{line}"),
        }
    }

    fn release_held(&mut self) {
        for line in self.held.take().unwrap_or_default() {
            eprintln!("{line}");
        }
    }

    fn engine_failure(&mut self, error: &EngineError) {
        self.fail(&Failure::engine(error));
    }

    /// Status lines on standard error, and the failures that decide the exit code.
    fn status(&mut self, kind: &EventKind) {
        let server = self.role.is_server();
        match kind {
            EventKind::Listening { local } => {
                listening_line(*local);
                self.release_held();
            }
            EventKind::Ready { local, peer } => {
                if server {
                    listening_line(*local);
                    self.release_held();
                } else if let Some(peer) = peer {
                    eprintln!("ready: connected to {peer} from {local}");
                } else {
                    eprintln!("ready: sending from {local}");
                }
            }
            EventKind::Connected { conn, local, peer } => {
                if server {
                    eprintln!("client {conn} connected from {peer}");
                } else {
                    eprintln!("connected to {peer} from {local}");
                }
            }
            EventKind::Rejected { peer, limit } => eprintln!(
                "turned away a client from {peer}: {limit} clients are already connected (--max-clients)"
            ),
            EventKind::PeerFinished { peer, .. } => {
                eprintln!("{peer} finished sending (end of stream)");
            }
            EventKind::WriteShutdown { peer, .. } => {
                eprintln!("shut down sending to {peer} (half-close); still receiving");
            }
            EventKind::Disconnected { conn, peer, reason } => {
                let who = if server {
                    format!("client {conn} ({peer})")
                } else {
                    peer.to_string()
                };
                match reason {
                    CloseReason::Failed(e) => {
                        eprintln!("{who} disconnected:");
                        // A client's failure decides its exit code; a server's clients come and go.
                        if server {
                            eprintln!("{}", e.plain_sentence());
                        } else {
                            self.engine_failure(e);
                        }
                    }
                    // The command-line server closes a client only once it has finished
                    // sending (see `run::TcpListen`), so "you closed" would mislead here.
                    CloseReason::YouClosed if server => eprintln!(
                        "{who} disconnected: the client finished sending, so the server closed the connection"
                    ),
                    other => eprintln!("{who} disconnected: {other}"),
                }
            }
            EventKind::NotShown { datagrams, bytes } => eprintln!(
                "{} ({}) arrived faster than they could be printed: they are counted (and captured), but not shown",
                plural(*datagrams, "datagram"),
                plural(*bytes, "byte")
            ),
            EventKind::Error(e) => {
                if server {
                    eprintln!("{}", e.plain_sentence());
                } else {
                    self.engine_failure(e);
                }
            }
            EventKind::Stopped { reason } => match reason {
                StopReason::Failed(e) => self.engine_failure(e),
                // A client's connection end was reported by `Disconnected` just before.
                StopReason::Requested | StopReason::ConnectionEnded(_) => self.release_held(),
            },
            EventKind::FileSend(file) => {
                if let FileStage::Failed(e) = &file.stage {
                    // A client's file that did not all go out is the run's failure.
                    if server {
                        eprintln!("{}", e.plain_sentence());
                    } else {
                        self.engine_failure(e);
                    }
                } else if file.is_final() {
                    eprintln!(
                        "file {}: {:?}, {} of {} bytes sent to {}",
                        file.path.display(),
                        file.stage,
                        file.sent,
                        file.total,
                        file.to
                    );
                }
            }
            EventKind::Call(_)
            | EventKind::Received { .. }
            | EventKind::Sent { .. }
            | EventKind::Datagrams(_)
            | EventKind::DatagramSent { .. }
            | EventKind::AutoReplyChanged(_) => {}
        }
    }

    /// Received data on standard output, in text, hex or raw form.
    fn data(&mut self, event: &Event, mode: OutputMode) {
        match &event.kind {
            EventKind::Received { peer, data, .. } => self.received(event.at, *peer, data, mode),
            EventKind::Datagrams(batch) => {
                for d in batch.iter() {
                    self.received(d.at, d.peer, d.data, mode);
                }
            }
            _ => {}
        }
    }

    fn received(&mut self, at: SystemTime, peer: SocketAddr, data: &[u8], mode: OutputMode) {
        let head = format!(
            "{} from {peer} {}",
            clock(at),
            plural(data.len() as u64, "byte")
        );
        match mode {
            OutputMode::Text => {
                let line = format!("{head}: {}", to_visible_text(data, usize::MAX));
                self.stdout_line(&line);
            }
            OutputMode::Hex => {
                let dump = hex_dump(data);
                self.stdout_line(&format!("{head}:\n{}", dump.trim_end_matches('\n')));
            }
            OutputMode::Raw => self.stdout_bytes(data),
            OutputMode::Json | OutputMode::None => {}
        }
    }

    fn stdout_line(&mut self, line: &str) {
        self.stdout_bytes(line.as_bytes());
        self.stdout_bytes(b"\n");
    }

    fn stdout_bytes(&mut self, bytes: &[u8]) {
        if self.stdout_closed {
            return;
        }
        if let Err(e) = self.out.write_all(bytes) {
            self.stdout_failed(&e);
        }
    }

    fn stdout_failed(&mut self, e: &std::io::Error) {
        self.stdout_closed = true;
        if e.kind() != ErrorKind::BrokenPipe {
            self.fail(&Failure {
                code: EXIT_NETWORK,
                sentence: format!(
                    "Could not write to standard output ({e}); stopping, because received data could not be shown."
                ),
            });
        }
    }

    fn summary(&self, c: &CounterSnapshot) -> String {
        let mut s = match self.role {
            Role::TcpClient | Role::TcpServer => format!(
                "received {} in {}; sent {} in {}",
                plural(c.bytes_in, "byte"),
                plural(c.reads, "read"),
                plural(c.bytes_out, "byte"),
                plural(c.writes, "write")
            ),
            Role::UdpClient | Role::UdpServer => format!(
                "received {} ({}); sent {} ({})",
                plural(c.datagrams_in, "datagram"),
                plural(c.bytes_in, "byte"),
                plural(c.datagrams_out, "datagram"),
                plural(c.bytes_out, "byte")
            ),
        };
        if self.role == Role::TcpServer {
            let _ = write!(
                s,
                "; {} accepted, {} turned away",
                plural(c.connections_accepted, "client"),
                c.connections_rejected
            );
        }
        if c.not_shown_datagrams > 0 {
            let _ = write!(
                s,
                "; {} ({}) not shown",
                plural(c.not_shown_datagrams, "datagram"),
                plural(c.not_shown_bytes, "byte")
            );
        }
        s
    }
}

/// Standard output as a file of its own (a duplicate of its descriptor), written without the
/// line buffering of [`std::io::Stdout`].
fn stdout_file() -> Option<File> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd as _;
        std::io::stdout()
            .as_fd()
            .try_clone_to_owned()
            .ok()
            .map(File::from)
    }
    #[cfg(windows)]
    {
        use std::os::windows::io::AsHandle as _;
        std::io::stdout()
            .as_handle()
            .try_clone_to_owned()
            .ok()
            .map(File::from)
    }
    #[cfg(not(any(unix, windows)))]
    {
        None
    }
}

/// Standard output that remembers its first failed write, so the console can tell a reader
/// that went away (`| head`) from a client's error.
struct WatchedStdout {
    file: File,
    first_failure: Arc<Mutex<Option<std::io::Error>>>,
}

impl WatchedStdout {
    fn record(&self, e: &std::io::Error) {
        self.first_failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert_with(|| std::io::Error::new(e.kind(), e.to_string()));
    }
}

impl Write for WatchedStdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file.write(buf).inspect_err(|e| self.record(e))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush().inspect_err(|e| self.record(e))
    }
}

/// `1 byte`, `2 bytes`.
fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Seconds since the epoch, split into (days, second of the day, microsecond).
fn utc_parts(t: SystemTime) -> (i64, u64, u32) {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    (
        (secs / 86_400).cast_signed(),
        secs % 86_400,
        since.subsec_micros(),
    )
}

/// Wall-clock time of day in UTC with milliseconds: `12:01:02.345`.
pub(crate) fn clock(t: SystemTime) -> String {
    let (_, s, micros) = utc_parts(t);
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        s / 3600,
        s / 60 % 60,
        s % 60,
        micros / 1000
    )
}

/// Full UTC timestamp with microseconds: `2026-11-26T12:01:02.345678Z`.
pub(crate) fn timestamp(t: SystemTime) -> String {
    let (days, s, micros) = utc_parts(t);
    // Days to civil date (H. Hinnant's algorithm), so no calendar crate is needed.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

fn data_fields(value: &mut Value, data: &[u8]) {
    value["len"] = json!(data.len());
    value["hex"] = json!(to_hex(data));
    value["text"] = json!(to_visible_text(data, usize::MAX));
}

fn error_fields(value: &mut Value, error: &EngineError) {
    value["error"] = json!(error.to_string());
    value["sentence"] = json!(error.plain_sentence());
    value["class"] = json!(format!("{:?}", error.class()));
}

/// The JSON objects for one event: one per event, except one per datagram for a batch.
pub(crate) fn event_json(event: &Event) -> Vec<Value> {
    let time = timestamp(event.at);
    let mut v = match &event.kind {
        EventKind::Call(call) => {
            let mut v = json!({
                "event": "call",
                "op": call.op.name(),
                "args": call.args,
                "line": call.to_string(),
            });
            if let Some(conn) = call.conn {
                v["conn"] = json!(conn);
            }
            match &call.outcome {
                Ok(result) => {
                    v["ok"] = json!(true);
                    v["result"] = json!(result);
                }
                Err(error) => {
                    v["ok"] = json!(false);
                    v["error"] = json!(error);
                }
            }
            v
        }
        EventKind::Listening { local } => json!({"event": "listening", "local": local.to_string()}),
        EventKind::Ready { local, peer } => json!({
            "event": "ready",
            "local": local.to_string(),
            "peer": peer.map(|p| p.to_string()),
        }),
        EventKind::Connected { conn, local, peer } => json!({
            "event": "connected", "conn": conn,
            "local": local.to_string(), "peer": peer.to_string(),
        }),
        EventKind::Rejected { peer, limit } => {
            json!({"event": "rejected", "peer": peer.to_string(), "limit": limit})
        }
        EventKind::Received { conn, peer, data } => {
            let mut v = json!({"event": "received", "conn": conn, "peer": peer.to_string()});
            data_fields(&mut v, data);
            v
        }
        EventKind::Sent {
            conn,
            peer,
            data,
            echo,
        } => {
            let mut v =
                json!({"event": "sent", "conn": conn, "peer": peer.to_string(), "echo": echo});
            data_fields(&mut v, data);
            v
        }
        EventKind::PeerFinished { conn, peer } => {
            json!({"event": "peer_finished", "conn": conn, "peer": peer.to_string()})
        }
        EventKind::WriteShutdown { conn, peer } => {
            json!({"event": "write_shutdown", "conn": conn, "peer": peer.to_string()})
        }
        EventKind::Disconnected { conn, peer, reason } => {
            let mut v = json!({
                "event": "disconnected", "conn": conn,
                "peer": peer.to_string(), "reason": reason.to_string(),
            });
            if let CloseReason::Failed(e) = reason {
                error_fields(&mut v, e);
            }
            v
        }
        EventKind::Datagrams(batch) => {
            return batch
                .iter()
                .map(|d| {
                    let mut v = json!({
                        "event": "datagram",
                        "time": timestamp(d.at),
                        "peer": d.peer.to_string(),
                        "echoed": batch.echoed,
                    });
                    data_fields(&mut v, d.data);
                    v
                })
                .collect();
        }
        EventKind::DatagramSent { to, data } => {
            let mut v = json!({"event": "datagram_sent", "to": to.to_string()});
            data_fields(&mut v, data);
            v
        }
        EventKind::NotShown { datagrams, bytes } => {
            json!({"event": "not_shown", "datagrams": datagrams, "bytes": bytes})
        }
        EventKind::AutoReplyChanged(auto) => {
            json!({"event": "auto_reply", "setting": format!("{auto:?}")})
        }
        EventKind::FileSend(file) => {
            let mut v = json!({
                "event": "file_send",
                "path": file.path.display().to_string(),
                "to": file.to.to_string(),
                "sent": file.sent,
                "total": file.total,
                "pieces": file.pieces,
                "stage": match &file.stage {
                    FileStage::Started => "started",
                    FileStage::Progress => "progress",
                    FileStage::Finished => "finished",
                    FileStage::Cancelled => "cancelled",
                    FileStage::Failed(_) => "failed",
                },
            });
            if let FileStage::Failed(e) = &file.stage {
                error_fields(&mut v, e);
            }
            v
        }
        EventKind::Error(e) => {
            let mut v = json!({"event": "error"});
            error_fields(&mut v, e);
            v
        }
        EventKind::Stopped { reason } => {
            let mut v = json!({"event": "stopped", "reason": reason.to_string()});
            if let StopReason::Failed(e) | StopReason::ConnectionEnded(CloseReason::Failed(e)) =
                reason
            {
                error_fields(&mut v, e);
            }
            v
        }
    };
    v["time"] = json!(time);
    vec![v]
}

/// The line scripts wait for, then who else can reach the socket when that is not only this
/// computer.
fn listening_line(local: std::net::SocketAddr) {
    eprintln!("listening on {local}");
    if let Some(note) = crate::engine::explain::exposure(local.ip()) {
        eprintln!("note: reachable from other machines: {note}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_utc_calendar_dates() {
        let t = UNIX_EPOCH + Duration::from_micros(1_709_210_096_123_456);
        assert_eq!(timestamp(t), "2024-02-29T12:34:56.123456Z");
        assert_eq!(clock(t), "12:34:56.123");
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
    }

    #[test]
    fn plurals() {
        assert_eq!(plural(1, "byte"), "1 byte");
        assert_eq!(plural(0, "byte"), "0 bytes");
    }
}
