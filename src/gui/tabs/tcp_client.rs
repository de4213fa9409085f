//! The TCP client tab: connect to a host and port, send and receive, half-close, close, abort.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use egui::Ui;
use serde::{Deserialize, Serialize};

use crate::engine::services::{PortUse, Protocol};
use crate::engine::{
    EventKind, Payload, QueueSizes, Session, TcpClient, TcpClientCommand, TcpClientConfig,
    TcpOptions, Waker, tcp_client,
};
use crate::gui::activity::{
    Activity, chunks_or_lines, default_log_budget_mib, failure, queue_budget, stop_text,
};
use crate::gui::text as t;
use crate::gui::widgets::fields::{
    address_row, host_field, number_field, optional_size_field, parse_number, parse_optional_size,
    show_errors, take_submit,
};
use crate::gui::widgets::file_send::{FileSendAction, FileSendSettings, file_send_ui};
use crate::gui::widgets::log_view::log_view_filtered;
use crate::gui::widgets::payload_editor::{EditorSettings, payload_editor, stream_editor_blocked};
use crate::gui::widgets::periodic::{PeriodicAction, PeriodicSettings, periodic_ui, repeat_on};
use crate::gui::widgets::saved_messages::{SavedMessages, saved_messages_ui};
use crate::gui::widgets::throughput::throughput_ui;
use crate::gui::widgets::{Tone, error_banner, side_by_side, status_line};

/// What the tab remembers between runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TcpClientSettings {
    /// Host to connect to.
    pub host: String,
    /// Port, as typed.
    pub port: String,
    /// `TCP_NODELAY`.
    pub nodelay: bool,
    /// `SO_KEEPALIVE`.
    pub keepalive: bool,
    /// `SO_RCVBUF`, as typed (empty: the system's choice).
    pub recv_buffer: String,
    /// `SO_SNDBUF`, as typed.
    pub send_buffer: String,
    /// Connect timeout in seconds, as typed.
    pub timeout_secs: String,
    /// The message editor.
    pub editor: EditorSettings,
    /// The periodic send under the editor.
    pub periodic: PeriodicSettings,
    /// Saved messages.
    pub saved: SavedMessages,
    /// Show the log as hex.
    pub hex: bool,
    /// The log's memory budget, MiB.
    pub log_budget_mib: usize,
    /// Send a file.
    pub file: FileSendSettings,
}

impl Default for TcpClientSettings {
    fn default() -> Self {
        TcpClientSettings {
            host: "127.0.0.1".to_owned(),
            port: "9000".to_owned(),
            nodelay: true,
            keepalive: false,
            recv_buffer: String::new(),
            send_buffer: String::new(),
            timeout_secs: "5".to_owned(),
            editor: EditorSettings::default(),
            periodic: PeriodicSettings::default(),
            saved: SavedMessages::default(),
            hex: false,
            log_budget_mib: default_log_budget_mib(),
            file: FileSendSettings::default(),
        }
    }
}

/// Where the connection is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Never connected.
    Idle,
    /// Resolving and connecting.
    Connecting,
    /// Connected.
    Connected,
    /// Close or abort asked for; waiting for the session to end.
    Closing,
    /// Over, with the reason; `failed` when it ended by an error.
    Closed {
        /// Why.
        reason: String,
        /// True when an error ended it.
        failed: bool,
    },
}

/// What the user asked for.
#[derive(Debug, Clone)]
pub enum Action {
    /// Start connecting with this configuration.
    Connect(TcpClientConfig),
    /// Send bytes.
    Send(Payload),
    /// Half-close.
    ShutdownWrite,
    /// Close gracefully (or cancel connecting).
    Close,
    /// Reset.
    Abort,
    /// Start or stop a periodic send.
    Repeat(PeriodicAction),
    /// Send a file.
    SendFile(PathBuf),
    /// Cancel the file being sent.
    CancelFile,
}

/// The TCP client tab's view model.
pub struct TcpClientTab {
    /// Persisted settings.
    pub settings: TcpClientSettings,
    /// Connection state.
    pub phase: Phase,
    /// Our address once connected.
    pub local: Option<SocketAddr>,
    /// The server's address once connected.
    pub peer: Option<SocketAddr>,
    /// The peer sent FIN.
    pub peer_finished: bool,
    /// We sent FIN.
    pub write_shut: bool,
    /// Log, transcript, counters, error.
    pub activity: Activity,
    session: Option<TcpClient>,
}

impl TcpClientTab {
    /// A tab with these settings, idle.
    pub fn new(settings: TcpClientSettings) -> Self {
        let mut tab = TcpClientTab {
            settings,
            phase: Phase::Idle,
            local: None,
            peer: None,
            peer_finished: false,
            write_shut: false,
            activity: Activity::for_role(crate::engine::explain::Role::TcpClient),
            session: None,
        };
        let budget = tab.settings.log_budget_mib;
        tab.activity.set_log_budget_mib(budget);
        tab
    }

    /// True while a session runs.
    pub fn is_running(&self) -> bool {
        self.session.is_some()
    }

    /// Folds one engine event into the view.
    pub fn apply(&mut self, event: &crate::engine::Event) {
        self.activity.record(event);
        match &event.kind {
            EventKind::Connected { local, peer, .. } => {
                self.phase = Phase::Connected;
                self.settings.editor.focus_requested = true;
                self.local = Some(*local);
                self.peer = Some(*peer);
                self.activity
                    .log
                    .push_note(event.at, Some(*peer), &t::note_connected(local, peer));
            }
            EventKind::PeerFinished { .. } => self.peer_finished = true,
            EventKind::WriteShutdown { .. } => self.write_shut = true,
            EventKind::Disconnected { reason, .. } => {
                self.activity.log.push_note(
                    event.at,
                    self.peer,
                    &t::note_disconnected(&crate::gui::activity::close_text(reason)),
                );
            }
            EventKind::Stopped { reason } => {
                self.phase = Phase::Closed {
                    reason: stop_text(reason),
                    failed: failure(reason).is_some(),
                };
            }
            _ => {}
        }
    }

    /// Takes a bounded amount of waiting events; true if more are waiting.
    pub fn poll(&mut self) -> bool {
        let Some(session) = &self.session else {
            return false;
        };
        let polled = self.activity.poll_session(session);
        for event in &polled.events {
            self.apply(event);
        }
        if polled.ended {
            self.session = None;
        }
        polled.more
    }

    /// Carries out an action.
    pub fn perform(&mut self, action: Action, waker: &Waker) {
        match action {
            Action::Connect(config) => {
                self.session = None;
                self.activity.starting();
                self.phase = Phase::Connecting;
                self.local = None;
                self.peer = None;
                self.peer_finished = false;
                self.write_shut = false;
                let queues = QueueSizes::tcp_with_budget(queue_budget(&self.activity.log));
                let config = TcpClientConfig { queues, ..config };
                self.session = Some(tcp_client::start(config, Arc::clone(waker)));
            }
            Action::Send(data) => self.command(TcpClientCommand::Send(data)),
            Action::ShutdownWrite => self.command(TcpClientCommand::ShutdownWrite),
            Action::Close => {
                if self.phase == Phase::Connecting {
                    if let Some(session) = &self.session {
                        session.stop();
                    }
                } else {
                    self.command(TcpClientCommand::Close);
                }
                self.phase = Phase::Closing;
            }
            Action::Abort => {
                self.command(TcpClientCommand::Abort);
                self.phase = Phase::Closing;
            }
            Action::SendFile(path) => self.command(TcpClientCommand::SendFile(path)),
            Action::CancelFile => {
                if let Some(session) = &self.session {
                    session.cancel_file_sends();
                }
            }
            Action::Repeat(repeat) => {
                if let Some(session) = &mut self.session {
                    let result = repeat_on(session, repeat, TcpClientCommand::Send);
                    if let Err(e) = result {
                        self.activity.command_failed(&e);
                    }
                }
            }
        }
    }

    fn command(&mut self, command: TcpClientCommand) {
        if let Some(session) = &self.session
            && let Err(e) = session.send(command)
        {
            self.activity.command_failed(&e);
        }
    }

    fn state_text(&self) -> (String, Tone) {
        match &self.phase {
            Phase::Idle => (t::STATE_IDLE.to_owned(), Tone::Idle),
            Phase::Connecting => (t::STATE_CONNECTING.to_owned(), Tone::Busy),
            Phase::Connected => (t::STATE_CONNECTED.to_owned(), Tone::Good),
            Phase::Closing => (t::STATE_CLOSING.to_owned(), Tone::Busy),
            Phase::Closed { failed: true, .. } => (t::STATE_FAILED.to_owned(), Tone::Bad),
            Phase::Closed { reason, .. } => (t::closed_because(reason), Tone::Idle),
        }
    }

    /// Draws the tab; returns what the user asked for.
    pub fn ui(&mut self, ui: &mut Ui) -> Option<Action> {
        // The budget is changed on the log itself (above it); the settings remember it.
        self.settings.log_budget_mib = self.activity.log_budget_mib();
        let mut action = None;
        let running = self.is_running();
        let s = &mut self.settings;

        let (host, port) = address_row(
            ui,
            running,
            |ui| host_field(ui, &mut s.host),
            &mut s.port,
            Protocol::Tcp,
            PortUse::Connect,
        );

        let options = egui::CollapsingHeader::new(t::OPTIONS)
            .id_salt("tcp-client-options")
            .show(ui, |ui| {
                ui.add_enabled_ui(!running, |ui| {
                    ui.horizontal_wrapped(|ui| {
                        ui.checkbox(&mut s.nodelay, t::NODELAY)
                            .on_hover_text(t::NODELAY_HINT);
                        ui.checkbox(&mut s.keepalive, t::KEEPALIVE)
                            .on_hover_text(t::KEEPALIVE_HINT);
                    });
                    ui.horizontal_wrapped(|ui| {
                        let rcv =
                            optional_size_field(ui, t::RCVBUF, t::RCVBUF_HINT, &mut s.recv_buffer);
                        let snd =
                            optional_size_field(ui, t::SNDBUF, t::SNDBUF_HINT, &mut s.send_buffer);
                        let timeout = number_field(
                            ui,
                            t::CONNECT_TIMEOUT,
                            t::CONNECT_TIMEOUT_HINT,
                            &mut s.timeout_secs,
                            1,
                            600,
                        );
                        (rcv, snd, timeout)
                    })
                    .inner
                })
                .inner
            })
            .body_returned;
        // A collapsed section still has to be valid: parse what it holds without drawing it.
        let (rcv, snd, timeout) = options.unwrap_or_else(|| {
            (
                parse_optional_size(&s.recv_buffer, t::RCVBUF),
                parse_optional_size(&s.send_buffer, t::SNDBUF),
                parse_number(&s.timeout_secs, t::CONNECT_TIMEOUT, 1, 600),
            )
        });
        show_errors(
            ui,
            &[
                rcv.as_ref().err().cloned(),
                snd.as_ref().err().cloned(),
                timeout.as_ref().err().cloned(),
            ],
        );

        let config = match (&host, &port, &rcv, &snd, &timeout) {
            (Ok(host), Ok(port), Ok(rcv), Ok(snd), Ok(timeout)) => {
                let mut config = TcpClientConfig::new(host.clone(), *port);
                config.connect_timeout = Duration::from_secs(*timeout);
                config.options = TcpOptions {
                    nodelay: s.nodelay,
                    keepalive: s.keepalive,
                    recv_buffer: *rcv,
                    send_buffer: *snd,
                };
                Some(config)
            }
            _ => None,
        };

        let connected = self.phase == Phase::Connected;
        // Enter in an address or port field does what the main button does.
        let submitted = take_submit(ui);
        ui.horizontal(|ui| {
            let connecting = self.phase == Phase::Connecting;
            let label = if connecting {
                t::CONNECTING
            } else {
                t::CONNECT
            };
            if (ui
                .add_enabled(!running && config.is_some(), egui::Button::new(label))
                .clicked()
                || (submitted && !running))
                && let Some(config) = config
            {
                action = Some(Action::Connect(config));
            }
            if ui
                .add_enabled(
                    connected && !self.write_shut,
                    egui::Button::new(t::SHUTDOWN_WRITE),
                )
                .on_hover_text(t::SHUTDOWN_WRITE_HINT)
                .clicked()
            {
                action = Some(Action::ShutdownWrite);
            }
            if ui
                .add_enabled(
                    running && self.phase != Phase::Closing,
                    egui::Button::new(t::CLOSE),
                )
                .on_hover_text(t::CLOSE_HINT)
                .clicked()
            {
                action = Some(Action::Close);
            }
            if ui
                .add_enabled(connected, egui::Button::new(t::ABORT))
                .on_hover_text(t::ABORT_HINT)
                .clicked()
            {
                action = Some(Action::Abort);
            }
        });

        let (state, tone) = self.state_text();
        status_line(ui, &state, tone, self.local, self.peer);
        let c = self.activity.counters;
        ui.weak(t::counters(
            c.bytes_in,
            c.reads,
            c.bytes_out,
            c.writes,
            false,
        ));
        // Half-closed states matter only while the connection lasts; afterwards the log keeps them.
        if connected && self.peer_finished {
            ui.colored_label(ui.visuals().warn_fg_color, t::PEER_FINISHED);
        }
        if connected && self.write_shut {
            ui.weak(t::WRITE_SHUT);
        }
        if let Some(error) = &self.activity.error {
            error_banner(ui, error);
        }
        ui.separator();

        let blocked = if !connected {
            Some(t::SEND_NEEDS_CONNECTION)
        } else if self.write_shut {
            Some(t::SEND_AFTER_SHUTDOWN)
        } else {
            None
        };
        let editor_blocked = stream_editor_blocked(blocked, &self.settings.editor);
        if let Some(bytes) = payload_editor(ui, &mut self.settings.editor, editor_blocked) {
            action = Some(Action::Send(Payload::from(bytes)));
        }
        if let Some(bytes) = saved_messages_ui(
            ui,
            "tcp-client",
            &mut self.settings.saved,
            &mut self.settings.editor,
            blocked,
        ) {
            action = Some(Action::Send(Payload::from(bytes)));
        }
        let status = self.session.as_ref().and_then(Session::periodic);
        if let Some(repeat) = periodic_ui(
            ui,
            &mut self.settings.periodic,
            &self.settings.editor,
            status,
            editor_blocked,
        ) {
            action = Some(Action::Repeat(repeat));
        }
        if let Some(file) = file_send_ui(
            ui,
            "tcp-client-file",
            &mut self.settings.file,
            &mut self.activity.files,
            blocked,
            None,
        ) {
            action = Some(match file {
                FileSendAction::Send { path, .. } => Action::SendFile(path),
                FileSendAction::Cancel => Action::CancelFile,
            });
        }
        ui.separator();

        let empty = if running {
            t::LOG_EMPTY_RUNNING
        } else {
            t::TCP_CLIENT_EMPTY
        };
        throughput_ui(
            ui,
            "tcp-client",
            &self.activity.throughput,
            self.activity.counters,
            running,
        );
        // The selected client's connection (or the newest one) as a sequence diagram.
        let conn = None;
        crate::gui::widgets::sequence::sequence_section(ui, self.activity.sequence.as_ref(), conn);
        let activity = &mut self.activity;
        let hex = &mut self.settings.hex;
        side_by_side(
            ui,
            |ui| {
                chunks_or_lines(
                    ui,
                    &mut activity.lines,
                    "tcp-client-log-lines",
                    false,
                    |ui| {
                        log_view_filtered(
                            ui,
                            "tcp-client-log",
                            &mut activity.log,
                            &mut activity.selected,
                            hex,
                            empty,
                            &mut activity.filter,
                        );
                        activity.log.is_empty()
                    },
                );
            },
            |ui| {
                activity
                    .transcript
                    .ui(ui, "tcp-client-transcript-rows", false);
            },
        );
        action
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{CloseReason, Event, StopReason};

    #[test]
    fn half_close_then_end_is_folded_into_the_view() {
        let mut tab = TcpClientTab::new(TcpClientSettings::default());
        let local: SocketAddr = ([127, 0, 0, 1], 40_000).into();
        let peer: SocketAddr = ([127, 0, 0, 1], 9_000).into();
        tab.apply(&Event::now(EventKind::Connected {
            conn: 1,
            local,
            peer,
        }));
        assert_eq!(tab.phase, Phase::Connected);
        assert_eq!((tab.local, tab.peer), (Some(local), Some(peer)));
        tab.apply(&Event::now(EventKind::PeerFinished { conn: 1, peer }));
        assert!(tab.peer_finished);
        tab.apply(&Event::now(EventKind::Stopped {
            reason: StopReason::ConnectionEnded(CloseReason::PeerClosed),
        }));
        assert_eq!(
            tab.phase,
            Phase::Closed {
                reason: CloseReason::PeerClosed.to_string(),
                failed: false
            }
        );
        // Notes for connected, peer finished and stopped are in the log.
        assert_eq!(tab.activity.log.len(), 3);
    }
}
