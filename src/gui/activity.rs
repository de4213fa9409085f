//! What every tab keeps about its session at run time: the data log, the transcript, the exact
//! counters, the last error; and the bounded draining of a session's events.

use std::time::Instant;

use crate::engine::log_store::{Direction, LogStore};
use crate::engine::{
    CloseReason, CounterSnapshot, EngineError, Event, EventKind, FileSendEvent, FileStage, Session,
    StopReason,
};
use crate::gui::session::FrameBudget;
use crate::gui::text as t;
use crate::gui::widgets::lines::LineAssembler;
use crate::gui::widgets::sequence::SequenceLog;
use crate::gui::widgets::transcript::Transcript;

/// Events taken from one session per call of [`drain_bounded`]'s inner loop, so that one busy
/// session cannot take the whole frame's budget before the time is checked again.
const DRAIN_CHUNK: usize = 256;

const MIB: usize = 1024 * 1024;

pub use crate::gui::memory::{default_log_budget_mib, queue_budget};

/// Takes a session's waiting events within what is left of the frame's `budget` (shared by every
/// session). Returns them and whether more wait.
pub fn drain_bounded<C: Send + 'static>(
    session: &Session<C>,
    budget: &mut FrameBudget,
) -> (Vec<Event>, bool) {
    let mut events = Vec::new();
    loop {
        let allowed = budget.allowance().min(DRAIN_CHUNK);
        if allowed == 0 {
            return (events, !session.events().is_empty());
        }
        let before = events.len();
        let more = session.drain(allowed, |e| events.push(e));
        budget.spend(events.len() - before);
        if !more {
            return (events, false);
        }
    }
}

/// One frame's share of a session's events, taken by [`Activity::poll_session`].
pub struct Polled {
    /// The events, oldest first.
    pub events: Vec<Event>,
    /// More are waiting: ask for another frame.
    pub more: bool,
    /// The session sent `Stopped`, its last event: its threads are ending, so dropping the handle
    /// now is a short join.
    pub ended: bool,
}

/// What closing a session would lose: the log rows that no export of the whole log has
/// written to a file yet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unsaved {
    /// Rows (data and notes).
    pub rows: usize,
    /// Bytes received in those rows.
    pub bytes_in: u64,
    /// Bytes sent in those rows (echoes and replies included).
    pub bytes_out: u64,
}

/// A tab's run-time record of its session(s).
#[derive(Debug, Default)]
pub struct Activity {
    /// What was sent and received.
    pub log: LogStore,
    /// The socket calls.
    pub transcript: Transcript,
    /// The session's exact counters, as last read (kept after it ends).
    pub counters: CounterSnapshot,
    /// The newest error, in plain language, until the next start.
    pub error: Option<String>,
    /// The log entry picked for a closer look (a copy: the log may drop it meanwhile).
    pub selected: Option<crate::engine::log_store::LogEntry>,
    /// The log's search, filter and export.
    pub filter: crate::gui::widgets::log_filter::LogFilter,
    /// Bytes per second over the last minute.
    pub throughput: crate::gui::widgets::throughput::Throughput,
    /// TCP tabs: each connection's sequence diagram.
    pub sequence: Option<SequenceLog>,
    /// TCP tabs: received bytes as lines, for the "chunks or lines" switch.
    pub lines: Option<LineAssembler>,
    /// Files going out, for the progress bar.
    pub files: crate::gui::widgets::file_send::FileSends,
    /// With framing on: per connection, the bytes of an unfinished message waiting for the
    /// rest, and how many reads they came from.
    pub waiting: std::collections::BTreeMap<crate::engine::ConnId, (usize, u32)>,
}

impl Activity {
    /// The rows since the last export of the whole log (all of them when there was none).
    pub fn unsaved(&self) -> Unsaved {
        let mark = self.filter.exported_mark.unwrap_or(0);
        let mut unsaved = Unsaved::default();
        for entry in self.log.since(mark) {
            unsaved.rows += 1;
            match entry.direction {
                Direction::In => unsaved.bytes_in += entry.len as u64,
                Direction::Out | Direction::Echo => unsaved.bytes_out += entry.len as u64,
                Direction::Note => {}
            }
        }
        unsaved
    }

    /// The log's memory budget in whole MiB, as the tab's settings remember it.
    pub fn log_budget_mib(&self) -> usize {
        self.log.max_bytes() / MIB
    }

    /// Sets the log's memory budget from the remembered MiB (4 MiB at the least, as the field
    /// above the log allows).
    pub fn set_log_budget_mib(&mut self, mib: usize) {
        self.log.set_max_bytes(mib.max(4).saturating_mul(MIB));
    }

    /// Takes a bounded share of the session's waiting events and reads its counters (and the
    /// throughput sample) alongside, the same way for every tab.
    pub fn poll_session<C: Send + 'static>(
        &mut self,
        session: &Session<C>,
        budget: &mut FrameBudget,
    ) -> Polled {
        let (events, more) = drain_bounded(session, budget);
        self.counters = session.counters();
        self.throughput.record(Instant::now(), self.counters);
        let ended = events
            .iter()
            .any(|e| matches!(e.kind, EventKind::Stopped { .. }));
        Polled {
            events,
            more,
            ended,
        }
    }

    /// An empty record whose transcript ticks `role`'s steps.
    pub fn for_role(role: crate::engine::explain::Role) -> Self {
        use crate::engine::explain::Role;
        let sequence = match role {
            Role::TcpClient => Some(SequenceLog::new(true)),
            Role::TcpServer => Some(SequenceLog::new(false)),
            Role::UdpClient | Role::UdpServer => None,
        };
        let lines = sequence.is_some().then(LineAssembler::default);
        Activity {
            transcript: Transcript::for_role(role),
            sequence,
            lines,
            ..Activity::default()
        }
    }

    /// Forgets the previous session's error (a new one is starting); log and transcript stay, so
    /// one can compare attempts.
    pub fn starting(&mut self) {
        self.error = None;
        self.waiting.clear();
        self.counters = CounterSnapshot::default();
        self.transcript.new_session();
    }

    /// Folds the parts of an event that every role shares: transcript, data rows, errors.
    pub fn record(&mut self, event: &Event) {
        self.transcript.record(event);
        if let Some(sequence) = &mut self.sequence {
            sequence.observe(event);
        }
        if let Some(lines) = &mut self.lines {
            lines.observe(event);
        }
        let at = event.at;
        match &event.kind {
            EventKind::Received { conn, peer, data } => {
                self.log
                    .push_data(at, Direction::In, Some(*peer), Some(*conn), data);
            }
            EventKind::Sent {
                conn,
                peer,
                data,
                echo,
            } => {
                let direction = if *echo {
                    Direction::Echo
                } else {
                    Direction::Out
                };
                self.log
                    .push_data(at, direction, Some(*peer), Some(*conn), data);
            }
            EventKind::Messages { conn, peer, batch } => self.messages(at, *conn, *peer, batch),
            EventKind::Disconnected { conn, .. } => {
                self.waiting.remove(conn);
            }
            EventKind::Datagrams(batch) => {
                for d in batch.iter() {
                    self.log
                        .push_datagram_in(d.at, d.peer, d.data, d.to.map(|to| to.kind));
                    if batch.echoed {
                        self.log
                            .push_data(d.at, Direction::Echo, Some(d.peer), None, d.data);
                    }
                }
            }
            EventKind::DatagramSent { to, data } => {
                self.log
                    .push_data(at, Direction::Out, Some(*to), None, data);
            }
            EventKind::FileSend(file) => {
                self.files.observe(event);
                if file.is_final() {
                    self.file_send_ended(at, file);
                }
            }
            EventKind::NotShown { datagrams, bytes } => {
                self.log.count_unseen_in(
                    *datagrams,
                    *bytes,
                    &t::note_not_shown(*datagrams, *bytes),
                );
            }
            EventKind::PeerFinished { peer, .. } => {
                self.log.push_note(at, Some(*peer), t::NOTE_PEER_FINISHED);
            }
            EventKind::WriteShutdown { peer, .. } => {
                self.log.push_note(at, Some(*peer), t::NOTE_WRITE_SHUT);
            }
            EventKind::Error(e) => {
                let sentence = e.plain_sentence();
                self.log.push_note(at, None, &sentence);
                self.error = Some(sentence);
            }
            EventKind::Stopped { reason } => {
                self.files.observe(event);
                if let Some(e) = failure(reason) {
                    self.error = Some(e.plain_sentence());
                }
                self.log
                    .push_note(at, None, &t::note_stopped(&stop_text(reason)));
            }
            _ => {}
        }
    }

    /// Logs a framed read's pieces: each message as one row that says how many reads it took,
    /// an oversize episode once as a note, then its discarded bytes; and what is still waiting.
    fn messages(
        &mut self,
        at: std::time::SystemTime,
        conn: crate::engine::ConnId,
        peer: std::net::SocketAddr,
        batch: &crate::engine::MessageBatch,
    ) {
        use crate::engine::log_store::Framed;
        for m in batch.iter() {
            if let Some(o) = m.overflow {
                let note = crate::gui::text_tools::note_oversize(o.declared, o.max, o.stopped);
                self.log.push_note(at, Some(peer), &note);
            }
            let framed = Framed {
                piece: m.piece,
                reads: m.reads,
            };
            self.log
                .push_framed(at, Some(peer), Some(conn), m.bytes, framed);
        }
        if batch.waiting() > 0 {
            self.waiting
                .insert(conn, (batch.waiting(), batch.waiting_reads()));
        } else {
            self.waiting.remove(&conn);
        }
    }

    /// The note on unfinished messages waiting for their rest, if any wait.
    pub fn waiting_note(&self) -> Option<String> {
        let (bytes, reads) = self
            .waiting
            .values()
            .fold((0, 0), |(b, r), (wb, wr)| (b + wb, r + wr));
        (bytes > 0).then(|| crate::gui::text_tools::waiting_note(bytes, reads, self.waiting.len()))
    }

    /// Logs a finished, cancelled or failed file send: a note with the outcome and the exact
    /// totals, then one row that stands for every byte sent (it keeps the first 4 KiB).
    fn file_send_ended(&mut self, at: std::time::SystemTime, file: &FileSendEvent) {
        let outcome = match &file.stage {
            FileStage::Failed(e) => {
                self.error = Some(e.plain_sentence());
                t::FILE_FAILED
            }
            FileStage::Cancelled => t::FILE_CANCELLED,
            _ => t::FILE_FINISHED,
        };
        let note = t::note_file_send(
            &file.path.display().to_string(),
            outcome,
            file.sent,
            file.total,
            file.pieces,
            file.conn.is_none(),
        );
        self.log.push_note(at, Some(file.to), &note);
        if file.sent > 0 {
            self.log.push_summary(
                at,
                Some(file.to),
                file.conn,
                file.sent,
                file.pieces,
                file.preview.as_deref().unwrap_or_default(),
            );
        }
        if let FileStage::Failed(e) = &file.stage {
            self.log.push_note(at, Some(file.to), &e.plain_sentence());
        }
    }

    /// Reports a command the session could not take (queue full, session ended).
    pub fn command_failed(&mut self, error: &EngineError) {
        let sentence = error.plain_sentence();
        self.log
            .push_note(std::time::SystemTime::now(), None, &sentence);
        self.error = Some(sentence);
    }
}

/// The engine error behind a stop, if it ended by failing.
pub fn failure(reason: &StopReason) -> Option<&EngineError> {
    match reason {
        StopReason::Failed(e) | StopReason::ConnectionEnded(CloseReason::Failed(e)) => Some(e),
        _ => None,
    }
}

/// Why a connection ended, in plain words.
pub fn close_text(reason: &CloseReason) -> String {
    match reason {
        CloseReason::Failed(e) => e.plain_sentence(),
        other => other.to_string(),
    }
}

/// Why a session ended, in plain words.
pub fn stop_text(reason: &StopReason) -> String {
    match reason {
        StopReason::Requested => t::REASON_STOPPED.to_owned(),
        StopReason::ConnectionEnded(r) => close_text(r),
        StopReason::Failed(e) => e.plain_sentence(),
    }
}

/// TCP: the switch between the log (chunks, one row per `recv`) and the lines view, then the one
/// chosen. With the log, the switch leads the log's own header row (`draw_log` gets it as
/// `lead`, which says whether it drew anything), so the two take one row. A cleared log clears
/// the lines too.
pub fn chunks_or_lines(
    ui: &mut egui::Ui,
    lines: &mut Option<LineAssembler>,
    id: &str,
    server: bool,
    draw_log: impl FnOnce(&mut egui::Ui, &mut dyn FnMut(&mut egui::Ui) -> bool) -> bool,
) {
    if let Some(lines) = lines.as_mut().filter(|l| l.show_lines) {
        ui.horizontal_wrapped(|ui| lines.switch_ui(ui, true));
        lines.ui(ui, id, server);
        return;
    }
    let mut lead = |ui: &mut egui::Ui| match lines.as_mut() {
        Some(lines) => {
            lines.switch_ui(ui, false);
            true
        }
        None => false,
    };
    let log_empty = draw_log(ui, &mut lead);
    if log_empty && let Some(lines) = lines {
        lines.clear();
    }
}
