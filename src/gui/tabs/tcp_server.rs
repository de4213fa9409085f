//! The TCP server tab: listen, see clients connect, send to one or all, disconnect, echo.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use egui::Ui;
use serde::{Deserialize, Serialize};

use crate::engine::autoreply::AutoReply;
use crate::engine::services::{PortUse, Protocol};
use crate::engine::{
    ClientSnapshot, ConnId, Event, EventKind, Payload, QueueSizes, Session, StopReason, TcpOptions,
    TcpServer, TcpServerCommand, TcpServerConfig, Waker, tcp_server,
};
use crate::gui::activity::{
    Activity, chunks_or_lines, close_text, default_log_budget_mib, failure, queue_budget, stop_text,
};
use crate::gui::text as t;
use crate::gui::widgets::auto_reply::{
    AutoReplySettings, ServerControl, ServerState, server_controls,
};
use crate::gui::widgets::capture::{CaptureSettings, capture_ui};
use crate::gui::widgets::fields::{
    address_row, bind_field, number_field, optional_size_field, parse_number, parse_optional_size,
    show_errors,
};
use crate::gui::widgets::file_send::{FileSendAction, FileSendSettings, file_send_ui};
use crate::gui::widgets::log_view::{clock, log_view_filtered};
use crate::gui::widgets::payload_editor::{EditorSettings, payload_editor, stream_editor_blocked};
use crate::gui::widgets::periodic::{PeriodicAction, PeriodicSettings, periodic_ui, repeat_on};
use crate::gui::widgets::saved_messages::{SavedMessages, saved_messages_ui};
use crate::gui::widgets::throughput::throughput_ui;
use crate::gui::widgets::{
    Tone, error_banner, guidance, server_address_ui, side_by_side, status_line_with,
};

/// The highest client limit the field accepts; each client costs a thread and buffers.
const MAX_CLIENTS_CEILING: u64 = 100_000;

/// What the tab remembers between runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TcpServerSettings {
    /// Address to listen on.
    pub bind: String,
    /// Port, as typed.
    pub port: String,
    /// `SO_REUSEADDR`.
    pub reuse_address: bool,
    /// `IPV6_V6ONLY`.
    pub v6_only: bool,
    /// Listen backlog, as typed.
    pub backlog: String,
    /// Client limit, as typed.
    pub max_clients: String,
    /// Echo mode.
    pub echo: bool,
    /// Reply rules.
    pub auto_reply: AutoReplySettings,
    /// Capture to file.
    pub capture: CaptureSettings,
    /// Close a client once it finishes sending.
    pub close_when_client_finishes: bool,
    /// `TCP_NODELAY` for accepted connections.
    pub nodelay: bool,
    /// `SO_KEEPALIVE` for accepted connections.
    pub keepalive: bool,
    /// `SO_RCVBUF`, as typed.
    pub recv_buffer: String,
    /// `SO_SNDBUF`, as typed.
    pub send_buffer: String,
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

impl Default for TcpServerSettings {
    fn default() -> Self {
        let engine = TcpServerConfig::default();
        TcpServerSettings {
            bind: "127.0.0.1".to_owned(),
            port: "9000".to_owned(),
            reuse_address: engine.reuse_address,
            v6_only: engine.v6_only,
            backlog: "128".to_owned(),
            max_clients: engine.max_clients.to_string(),
            echo: false,
            auto_reply: AutoReplySettings::default(),
            capture: CaptureSettings::default(),
            close_when_client_finishes: engine.close_when_client_finishes,
            nodelay: engine.options.nodelay,
            keepalive: engine.options.keepalive,
            recv_buffer: String::new(),
            send_buffer: String::new(),
            editor: EditorSettings::default(),
            periodic: PeriodicSettings::default(),
            saved: SavedMessages::default(),
            hex: false,
            log_budget_mib: default_log_budget_mib(),
            file: FileSendSettings::default(),
        }
    }
}

/// Where the server is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Not listening.
    Idle,
    /// Opening the port.
    Starting,
    /// Listening on this address.
    Listening(SocketAddr),
    /// Stop asked for.
    Stopping,
    /// Over, with the reason.
    Closed {
        /// Why.
        reason: String,
        /// True when an error ended it.
        failed: bool,
    },
}

/// Who Send goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Every connected client.
    All,
    /// One client.
    Client(ConnId),
}

/// What the user asked for.
#[derive(Debug, Clone)]
pub enum Action {
    /// Start listening.
    Listen(TcpServerConfig),
    /// Stop listening and close every client.
    Stop,
    /// Turn echo on or off while running.
    SetEcho(bool),
    /// Change the client limit while running.
    SetMaxClients(usize),
    /// Replace echo or the reply rules while running.
    SetAutoReply(AutoReply),
    /// Send bytes.
    Send(Target, Payload),
    /// Half-close one client.
    ShutdownWrite(ConnId),
    /// Close one client.
    Disconnect(ConnId),
    /// Reset one client.
    Abort(ConnId),
    /// Put this address into the TCP client tab.
    UseInClient(SocketAddr),
    /// Start (to these clients) or stop a periodic send.
    Repeat(Target, PeriodicAction),
    /// Send a file to these clients.
    SendFile(Target, PathBuf),
    /// Cancel the files being sent.
    CancelFile,
}

/// The TCP server tab's view model.
pub struct TcpServerTab {
    /// Persisted settings.
    pub settings: TcpServerSettings,
    /// Server state.
    pub phase: Phase,
    /// The connected clients, as last read from the session.
    pub clients: Vec<ClientSnapshot>,
    /// Who Send goes to.
    pub target: Target,
    /// Log, transcript, counters, error.
    pub activity: Activity,
    session: Option<TcpServer>,
}

impl TcpServerTab {
    /// A tab with these settings, idle.
    pub fn new(settings: TcpServerSettings) -> Self {
        let mut tab = TcpServerTab {
            settings,
            phase: Phase::Idle,
            clients: Vec::new(),
            target: Target::All,
            activity: Activity::for_role(crate::engine::explain::Role::TcpServer),
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

    /// The address it listens on, while it does.
    pub fn listening_on(&self) -> Option<SocketAddr> {
        match self.phase {
            Phase::Listening(addr) => Some(addr),
            _ => None,
        }
    }

    /// Folds one engine event into the view.
    pub fn apply(&mut self, event: &Event) {
        self.activity.record(event);
        let log = &mut self.activity.log;
        match &event.kind {
            EventKind::Listening { local } => {
                self.phase = Phase::Listening(*local);
                log.push_note(event.at, None, &t::note_listening(local));
            }
            EventKind::Connected { conn, peer, .. } => {
                log.push_note(
                    event.at,
                    Some(*peer),
                    &t::note_client_connected(*conn, peer),
                );
            }
            EventKind::Rejected { peer, limit } => {
                log.push_note(event.at, Some(*peer), &t::note_rejected(peer, *limit));
            }
            EventKind::Disconnected { conn, peer, reason } => {
                log.push_note(
                    event.at,
                    Some(*peer),
                    &format!(
                        "{}: {}",
                        t::client_name(*conn, peer),
                        t::note_disconnected(&close_text(reason))
                    ),
                );
                if self.target == Target::Client(*conn) {
                    self.target = Target::All;
                }
                self.clients.retain(|c| c.id != *conn);
            }
            EventKind::Stopped { reason } => {
                self.clients.clear();
                self.target = Target::All;
                self.phase = match reason {
                    StopReason::Requested => Phase::Idle,
                    other => Phase::Closed {
                        reason: stop_text(other),
                        failed: failure(other).is_some(),
                    },
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
        if !polled.ended {
            self.clients = session.clients();
        }
        for event in &polled.events {
            self.apply(event);
        }
        if polled.ended {
            self.session = None;
        }
        polled.more
    }

    /// Carries out an action (all but `UseInClient`, which the window handles).
    pub fn perform(&mut self, action: Action, waker: &Waker) {
        match action {
            Action::Listen(config) => {
                // Replacing existing capture files is asked for each time.
                self.settings.capture.overwrite = false;
                self.session = None;
                self.activity.starting();
                self.clients.clear();
                self.target = Target::All;
                self.phase = Phase::Starting;
                let queues = QueueSizes::tcp_with_budget(queue_budget(&self.activity.log));
                let config = TcpServerConfig { queues, ..config };
                self.session = Some(tcp_server::start(config, Arc::clone(waker)));
            }
            Action::Stop => {
                if let Some(session) = &self.session {
                    session.stop();
                    self.phase = Phase::Stopping;
                }
            }
            Action::SetEcho(on) => self.command(TcpServerCommand::SetEcho(on)),
            Action::SetAutoReply(auto) => self.command(TcpServerCommand::SetAutoReply(auto)),
            Action::SetMaxClients(limit) => self.command(TcpServerCommand::SetMaxClients(limit)),
            Action::Send(Target::All, data) => self.command(TcpServerCommand::SendToAll(data)),
            Action::Send(Target::Client(id), data) => {
                self.command(TcpServerCommand::SendTo(id, data));
            }
            Action::ShutdownWrite(id) => self.command(TcpServerCommand::ShutdownWrite(id)),
            Action::Disconnect(id) => self.command(TcpServerCommand::Disconnect(id)),
            Action::Abort(id) => self.command(TcpServerCommand::Abort(id)),
            Action::Repeat(target, repeat) => {
                if let Some(session) = &mut self.session {
                    let result = repeat_on(session, repeat, |data| match target {
                        Target::All => TcpServerCommand::SendToAll(data),
                        Target::Client(id) => TcpServerCommand::SendTo(id, data),
                    });
                    if let Err(e) = result {
                        self.activity.command_failed(&e);
                    }
                }
            }
            Action::SendFile(Target::All, path) => {
                self.command(TcpServerCommand::SendFileToAll(path));
            }
            Action::SendFile(Target::Client(id), path) => {
                self.command(TcpServerCommand::SendFileTo(id, path));
            }
            Action::CancelFile => {
                if let Some(session) = &self.session {
                    session.cancel_file_sends();
                }
            }
            Action::UseInClient(_) => {}
        }
    }

    fn command(&mut self, command: TcpServerCommand) {
        if let Some(session) = &self.session
            && let Err(e) = session.send(command)
        {
            self.activity.command_failed(&e);
        }
    }

    fn state_text(&self) -> (String, Tone) {
        match &self.phase {
            Phase::Idle => (t::STATE_IDLE.to_owned(), Tone::Idle),
            Phase::Starting => (t::STATE_OPENING.to_owned(), Tone::Busy),
            Phase::Listening(_) => (t::STATE_LISTENING.to_owned(), Tone::Good),
            Phase::Stopping => (t::STATE_CLOSING.to_owned(), Tone::Busy),
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

        let (bind, port) = address_row(
            ui,
            running,
            |ui| bind_field(ui, &mut s.bind),
            &mut s.port,
            Protocol::Tcp,
            PortUse::Bind,
        );

        let options = egui::CollapsingHeader::new(t::OPTIONS)
            .id_salt("tcp-server-options")
            .show(ui, |ui| {
                ui.add_enabled_ui(!running, |ui| {
                    ui.horizontal_wrapped(|ui| {
                        ui.checkbox(&mut s.reuse_address, t::REUSEADDR)
                            .on_hover_text(t::REUSEADDR_TCP_HINT);
                        ui.checkbox(&mut s.v6_only, t::V6ONLY)
                            .on_hover_text(t::V6ONLY_HINT);
                        ui.checkbox(&mut s.nodelay, t::NODELAY)
                            .on_hover_text(t::NODELAY_HINT);
                        ui.checkbox(&mut s.keepalive, t::KEEPALIVE)
                            .on_hover_text(t::KEEPALIVE_HINT);
                        ui.checkbox(&mut s.close_when_client_finishes, t::CLOSE_WHEN_FINISHED)
                            .on_hover_text(t::CLOSE_WHEN_FINISHED_HINT);
                    });
                    ui.horizontal_wrapped(|ui| {
                        let backlog = number_field(
                            ui,
                            t::BACKLOG,
                            t::BACKLOG_HINT,
                            &mut s.backlog,
                            1,
                            65_535,
                        );
                        let rcv =
                            optional_size_field(ui, t::RCVBUF, t::RCVBUF_HINT, &mut s.recv_buffer);
                        let snd =
                            optional_size_field(ui, t::SNDBUF, t::SNDBUF_HINT, &mut s.send_buffer);
                        (backlog, rcv, snd)
                    })
                    .inner
                })
                .inner
            })
            .body_returned;
        let (backlog, rcv, snd) = options.unwrap_or_else(|| {
            (
                parse_number(&s.backlog, t::BACKLOG, 1, 65_535),
                parse_optional_size(&s.recv_buffer, t::RCVBUF),
                parse_optional_size(&s.send_buffer, t::SNDBUF),
            )
        });
        show_errors(
            ui,
            &[
                backlog.as_ref().err().cloned(),
                rcv.as_ref().err().cloned(),
                snd.as_ref().err().cloned(),
            ],
        );
        // The client limit stays in view (not folded into the options) and can change while
        // listening, so a flood of connections can be capped without restarting the server.
        let max = parse_number(&s.max_clients, t::MAX_CLIENTS, 1, MAX_CLIENTS_CEILING);
        let capture = capture_ui(ui, &mut s.capture, true, running);
        // Rules that do not compile keep Listen disabled; the rules section says why.
        let effective = s.auto_reply.effective(s.echo);
        let auto_reply = effective.clone().unwrap_or_default();
        let config = match (&bind, &port, &backlog, &max, &rcv, &snd) {
            (Ok(bind), Ok(port), Ok(backlog), Ok(max), Ok(rcv), Ok(snd)) => Some(TcpServerConfig {
                bind: *bind,
                port: *port,
                reuse_address: s.reuse_address,
                v6_only: s.v6_only,
                backlog: i32::try_from(*backlog).unwrap_or(i32::MAX),
                max_clients: usize::try_from(*max).unwrap_or(usize::MAX),
                echo: s.echo,
                auto_reply: auto_reply.clone(),
                capture: capture.clone().ok().flatten(),
                close_when_client_finishes: s.close_when_client_finishes,
                options: TcpOptions {
                    nodelay: s.nodelay,
                    keepalive: s.keepalive,
                    recv_buffer: *rcv,
                    send_buffer: *snd,
                },
                ..TcpServerConfig::default()
            }),
            _ => None,
        };

        let config = config.filter(|_| effective.is_ok() && capture.is_ok());

        let state = ServerState {
            start_label: t::LISTEN,
            echo_hint: t::ECHO_TCP_HINT,
            running,
            stopping: self.phase == Phase::Stopping,
        };
        match server_controls(
            ui,
            "tcp-server",
            &state,
            config,
            &mut self.settings.echo,
            &mut self.settings.auto_reply,
        ) {
            Some(ServerControl::Start(config)) => action = Some(Action::Listen(config)),
            Some(ServerControl::Stop) => action = Some(Action::Stop),
            Some(ServerControl::SetAutoReply(auto)) => action = Some(Action::SetAutoReply(auto)),
            None => {}
        }

        let (state, tone) = self.state_text();
        let address = self.listening_on();
        status_line_with(ui, &state, tone, None, None, |ui| {
            if let Some(addr) = address
                && server_address_ui(ui, addr)
            {
                action = Some(Action::UseInClient(addr));
            }
        });
        let c = self.activity.counters;
        ui.weak(t::counters(
            c.bytes_in,
            c.reads,
            c.bytes_out,
            c.writes,
            false,
        ));
        if let Some(error) = &self.activity.error {
            error_banner(ui, error);
        }
        ui.separator();

        if let Some(a) = self.clients_ui(ui) {
            action = Some(a);
        }
        ui.separator();

        let blocked = if self.listening_on().is_none() {
            Some(t::SEND_NEEDS_LISTENING)
        } else if self.clients.is_empty() {
            Some(t::SEND_NEEDS_CLIENT)
        } else {
            None
        };
        let editor_blocked = stream_editor_blocked(blocked, &self.settings.editor);
        if let Some(bytes) = payload_editor(ui, &mut self.settings.editor, editor_blocked) {
            action = Some(Action::Send(self.target, Payload::from(bytes)));
        }
        if let Some(bytes) = saved_messages_ui(
            ui,
            "tcp-server",
            &mut self.settings.saved,
            &mut self.settings.editor,
            blocked,
        ) {
            action = Some(Action::Send(self.target, Payload::from(bytes)));
        }
        let status = self.session.as_ref().and_then(Session::periodic);
        if let Some(repeat) = periodic_ui(
            ui,
            &mut self.settings.periodic,
            &self.settings.editor,
            status,
            editor_blocked,
        ) {
            action = Some(Action::Repeat(self.target, repeat));
        }
        if let Some(file) = file_send_ui(
            ui,
            "tcp-server-file",
            &mut self.settings.file,
            &mut self.activity.files,
            blocked,
            None,
        ) {
            action = Some(match file {
                FileSendAction::Send { path, .. } => Action::SendFile(self.target, path),
                FileSendAction::Cancel => Action::CancelFile,
            });
        }
        ui.separator();

        let empty = if running {
            t::LOG_EMPTY_RUNNING
        } else {
            t::TCP_SERVER_EMPTY
        };
        throughput_ui(
            ui,
            "tcp-server",
            &self.activity.throughput,
            self.activity.counters,
            running,
        );
        // The selected client's connection (or the newest one) as a sequence diagram.
        let conn = match self.target {
            Target::Client(id) => Some(id),
            Target::All => None,
        };
        crate::gui::widgets::sequence::sequence_section(ui, self.activity.sequence.as_ref(), conn);
        let activity = &mut self.activity;
        let hex = &mut self.settings.hex;
        side_by_side(
            ui,
            |ui| {
                chunks_or_lines(
                    ui,
                    &mut activity.lines,
                    "tcp-server-log-lines",
                    true,
                    |ui| {
                        log_view_filtered(
                            ui,
                            "tcp-server-log",
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
                    .ui(ui, "tcp-server-transcript-rows", true);
            },
        );
        action
    }

    fn clients_ui(&mut self, ui: &mut Ui) -> Option<Action> {
        let mut action = None;
        let running = self.is_running();
        let rejected = self.activity.counters.connections_rejected;
        let limit_error = ui
            .horizontal(|ui| {
                ui.strong(t::CLIENTS);
                ui.weak(format!("({})", self.clients.len()));
                ui.separator();
                let before = self.settings.max_clients.clone();
                let parsed = number_field(
                    ui,
                    t::MAX_CLIENTS,
                    t::MAX_CLIENTS_HINT,
                    &mut self.settings.max_clients,
                    1,
                    MAX_CLIENTS_CEILING,
                );
                if rejected > 0 {
                    ui.colored_label(ui.visuals().warn_fg_color, t::clients_turned_away(rejected));
                }
                if running
                    && self.settings.max_clients != before
                    && let Ok(limit) = parsed
                {
                    action = Some(Action::SetMaxClients(
                        usize::try_from(limit).unwrap_or(usize::MAX),
                    ));
                }
                parsed.err()
            })
            .inner;
        show_errors(ui, &[limit_error]);
        ui.horizontal(|ui| {
            ui.label(t::SEND_TO);
            ui.selectable_value(&mut self.target, Target::All, t::SEND_TO_ALL);
            if let Target::Client(id) = self.target
                && let Some(c) = self.clients.iter().find(|c| c.id == id)
            {
                ui.selectable_value(
                    &mut self.target,
                    Target::Client(id),
                    t::client_name(id, &c.peer),
                );
            } else {
                ui.weak(t::SELECT_CLIENT_HINT);
            }
        });
        if self.clients.is_empty() {
            if self.listening_on().is_some() {
                guidance(ui, t::TCP_SERVER_NO_CLIENTS);
            }
            return None;
        }
        egui::ScrollArea::vertical()
            .id_salt("tcp-server-clients")
            .max_height(140.0)
            .auto_shrink([false, true])
            .show(ui, |ui| {
                egui::Grid::new("tcp-server-client-grid")
                    .striped(true)
                    .num_columns(7)
                    .show(ui, |ui| {
                        for h in [
                            t::COL_CLIENT,
                            t::COL_ADDRESS,
                            t::COL_SINCE,
                            t::COL_IN,
                            t::COL_OUT,
                            t::COL_STATE,
                        ] {
                            ui.strong(h);
                        }
                        ui.end_row();
                        for c in &self.clients {
                            ui.selectable_value(
                                &mut self.target,
                                Target::Client(c.id),
                                t::client_label(c.id),
                            )
                            .on_hover_text(t::SELECT_CLIENT_HINT);
                            ui.monospace(c.peer.to_string());
                            ui.label(clock(c.since));
                            ui.label(c.bytes_in.to_string());
                            ui.label(c.bytes_out.to_string());
                            let state = match (c.peer_finished, c.write_shut) {
                                (true, _) => t::CLIENT_PEER_FINISHED,
                                (false, true) => t::CLIENT_WRITE_SHUT,
                                (false, false) => t::CLIENT_OPEN,
                            };
                            ui.label(state);
                            ui.horizontal(|ui| {
                                if ui
                                    .add_enabled(
                                        !c.write_shut,
                                        egui::Button::new(t::SHUTDOWN_WRITE).small(),
                                    )
                                    .on_hover_text(t::SHUTDOWN_WRITE_HINT)
                                    .clicked()
                                {
                                    action = Some(Action::ShutdownWrite(c.id));
                                }
                                if ui
                                    .small_button(t::DISCONNECT)
                                    .on_hover_text(t::CLOSE_HINT)
                                    .clicked()
                                {
                                    action = Some(Action::Disconnect(c.id));
                                }
                                if ui
                                    .small_button(t::ABORT)
                                    .on_hover_text(t::ABORT_HINT)
                                    .clicked()
                                {
                                    action = Some(Action::Abort(c.id));
                                }
                            });
                            ui.end_row();
                        }
                    });
            });
        action
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{CloseReason, EngineError, ErrorClass, Op};

    fn event(kind: EventKind) -> Event {
        Event::now(kind)
    }

    #[test]
    fn events_drive_the_view_without_a_window() {
        let mut tab = TcpServerTab::new(TcpServerSettings::default());
        let local: SocketAddr = "127.0.0.1:40000"
            .parse()
            .unwrap_or(([127, 0, 0, 1], 1).into());
        let peer: SocketAddr = "127.0.0.1:50000"
            .parse()
            .unwrap_or(([127, 0, 0, 1], 2).into());
        tab.apply(&event(EventKind::Listening { local }));
        assert_eq!(tab.listening_on(), Some(local));
        tab.apply(&event(EventKind::Connected {
            conn: 3,
            local,
            peer,
        }));
        tab.target = Target::Client(3);
        tab.apply(&event(EventKind::Disconnected {
            conn: 3,
            peer,
            reason: CloseReason::PeerClosed,
        }));
        assert_eq!(
            tab.target,
            Target::All,
            "a gone client is no longer the target"
        );

        let failure = EngineError::Io {
            op: Op::Accept,
            target: local.to_string(),
            class: ErrorClass::Other,
            os_code: None,
            message: "too many open files".to_owned(),
        };
        tab.apply(&event(EventKind::Stopped {
            reason: StopReason::Failed(failure.clone()),
        }));
        assert!(matches!(tab.phase, Phase::Closed { failed: true, .. }));
        assert_eq!(tab.activity.error, Some(failure.plain_sentence()));
        assert!(tab.listening_on().is_none());
    }
}
