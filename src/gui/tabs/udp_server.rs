//! The UDP server tab: bind a port, list every datagram with its sender, reply, echo.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use egui::Ui;
use serde::{Deserialize, Serialize};

use crate::engine::autoreply::AutoReply;
use crate::engine::services::{PortUse, Protocol};
use crate::engine::{
    Event, EventKind, Payload, QueueSizes, Session, StopReason, UdpCommand, UdpServerConfig,
    UdpSession, Waker, udp,
};
use crate::gui::activity::{Activity, default_log_budget_mib, failure, queue_budget, stop_text};
use crate::gui::text as t;
use crate::gui::widgets::auto_reply::{
    AutoReplySettings, ServerControl, ServerState, server_controls,
};
use crate::gui::widgets::capture::{CaptureSettings, capture_ui};
use crate::gui::widgets::fields::{
    address_row, bind_field, error_line, labelled_edit, optional_size_field, parse_optional_size,
    show_errors,
};
use crate::gui::widgets::file_send::{FileSendAction, FileSendSettings, file_send_ui};
use crate::gui::widgets::log_view::log_view_filtered;
use crate::gui::widgets::payload_editor::{EditorSettings, payload_editor};
use crate::gui::widgets::periodic::{PeriodicAction, PeriodicSettings, periodic_ui, repeat_on};
use crate::gui::widgets::saved_messages::{SavedMessages, saved_messages_ui};
use crate::gui::widgets::throughput::throughput_ui;
use crate::gui::widgets::{Tone, error_banner, server_address_ui, side_by_side, status_line_with};

/// What the tab remembers between runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UdpServerSettings {
    /// Address to bind.
    pub bind: String,
    /// Port, as typed.
    pub port: String,
    /// `SO_REUSEADDR`.
    pub reuse_address: bool,
    /// `IPV6_V6ONLY`.
    pub v6_only: bool,
    /// `SO_BROADCAST`.
    pub broadcast: bool,
    /// `SO_RCVBUF`, as typed (empty: the engine's default of 4 MiB).
    pub recv_buffer: String,
    /// Echo mode.
    pub echo: bool,
    /// Reply rules.
    pub auto_reply: AutoReplySettings,
    /// Capture to file.
    pub capture: CaptureSettings,
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

impl Default for UdpServerSettings {
    fn default() -> Self {
        UdpServerSettings {
            bind: "127.0.0.1".to_owned(),
            port: "9000".to_owned(),
            reuse_address: false,
            v6_only: false,
            broadcast: false,
            recv_buffer: String::new(),
            echo: false,
            auto_reply: AutoReplySettings::default(),
            capture: CaptureSettings::default(),
            editor: EditorSettings::default(),
            periodic: PeriodicSettings::default(),
            saved: SavedMessages::default(),
            hex: false,
            log_budget_mib: default_log_budget_mib(),
            file: FileSendSettings::default(),
        }
    }
}

/// Where the socket is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// No socket.
    Idle,
    /// Binding.
    Opening,
    /// Bound to this address.
    Ready(SocketAddr),
    /// Stop asked for.
    Closing,
    /// Over, with the reason.
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
    /// Bind and start receiving.
    Bind(UdpServerConfig),
    /// Close the socket.
    Stop,
    /// Turn echo on or off while running.
    SetEcho(bool),
    /// Replace echo or the reply rules while running.
    SetAutoReply(AutoReply),
    /// Send one datagram to this address.
    SendTo(SocketAddr, Payload),
    /// Put this address into the UDP client tab.
    UseInClient(SocketAddr),
    /// Start (to this address) or stop a periodic send.
    Repeat(Option<SocketAddr>, PeriodicAction),
    /// Send a file to this address in datagrams of this size, pausing this long after each.
    SendFile(SocketAddr, PathBuf, usize, Duration),
    /// Cancel the file being sent.
    CancelFile,
}

/// The UDP server tab's view model.
pub struct UdpServerTab {
    /// Persisted settings.
    pub settings: UdpServerSettings,
    /// Socket state.
    pub phase: Phase,
    /// Where Send goes, as typed or as set from the newest sender.
    pub reply_to: String,
    /// Keep `reply_to` on the newest sender.
    pub follow_sender: bool,
    /// Log, transcript, counters, error.
    pub activity: Activity,
    session: Option<UdpSession>,
}

impl UdpServerTab {
    /// A tab with these settings, idle.
    pub fn new(settings: UdpServerSettings) -> Self {
        let mut tab = UdpServerTab {
            settings,
            phase: Phase::Idle,
            reply_to: String::new(),
            follow_sender: true,
            activity: Activity::for_role(crate::engine::explain::Role::UdpServer),
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

    /// The bound address, while bound.
    pub fn bound_to(&self) -> Option<SocketAddr> {
        match self.phase {
            Phase::Ready(addr) => Some(addr),
            _ => None,
        }
    }

    /// Folds one engine event into the view.
    pub fn apply(&mut self, event: &Event) {
        self.activity.record(event);
        match &event.kind {
            EventKind::Ready { local, .. } => {
                self.phase = Phase::Ready(*local);
                self.activity
                    .log
                    .push_note(event.at, None, &t::note_ready(local));
            }
            EventKind::Datagrams(batch) => {
                if self.follow_sender
                    && let Some(peer) = batch.last_peer()
                {
                    self.reply_to = peer.to_string();
                }
            }
            EventKind::Stopped { reason } => {
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
            Action::Bind(config) => {
                // Replacing existing capture files is asked for each time.
                self.settings.capture.overwrite = false;
                self.session = None;
                self.activity.starting();
                self.phase = Phase::Opening;
                let queues = QueueSizes::udp_with_budget(queue_budget(&self.activity.log));
                let config = UdpServerConfig { queues, ..config };
                self.session = Some(udp::start_server(config, Arc::clone(waker)));
            }
            Action::Stop => {
                if let Some(session) = &self.session {
                    session.stop();
                    self.phase = Phase::Closing;
                }
            }
            Action::SetEcho(on) => self.command(UdpCommand::SetEcho(on)),
            Action::SetAutoReply(auto) => self.command(UdpCommand::SetAutoReply(auto)),
            Action::SendTo(to, data) => self.command(UdpCommand::SendTo(to, data)),
            Action::SendFile(to, path, datagram_size, gap) => self.command(UdpCommand::SendFile {
                path,
                datagram_size,
                to: Some(to),
                gap,
            }),
            Action::CancelFile => {
                if let Some(session) = &self.session {
                    session.cancel_file_sends();
                }
            }
            Action::Repeat(to, repeat) => {
                if let Some(session) = &mut self.session {
                    let result = match to {
                        Some(to) => repeat_on(session, repeat, |data| UdpCommand::SendTo(to, data)),
                        // Stopping needs no address.
                        None => repeat_on(session, repeat, UdpCommand::ReplyToLast),
                    };
                    if let Err(e) = result {
                        self.activity.command_failed(&e);
                    }
                }
            }
            Action::UseInClient(_) => {}
        }
    }

    fn command(&mut self, command: UdpCommand) {
        if let Some(session) = &self.session
            && let Err(e) = session.send(command)
        {
            self.activity.command_failed(&e);
        }
    }

    fn state_text(&self) -> (String, Tone) {
        match &self.phase {
            Phase::Idle => (t::STATE_IDLE.to_owned(), Tone::Idle),
            Phase::Opening => (t::STATE_OPENING.to_owned(), Tone::Busy),
            Phase::Ready(_) => (t::STATE_BOUND.to_owned(), Tone::Good),
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

        let (bind, port) = address_row(
            ui,
            running,
            |ui| bind_field(ui, &mut s.bind),
            &mut s.port,
            Protocol::Udp,
            PortUse::Bind,
        );
        let rcv = egui::CollapsingHeader::new(t::OPTIONS)
            .id_salt("udp-server-options")
            .show(ui, |ui| {
                ui.add_enabled_ui(!running, |ui| {
                    ui.horizontal_wrapped(|ui| {
                        ui.checkbox(&mut s.reuse_address, t::REUSEADDR)
                            .on_hover_text(t::REUSEADDR_UDP_HINT);
                        ui.checkbox(&mut s.v6_only, t::V6ONLY)
                            .on_hover_text(t::V6ONLY_HINT);
                        ui.checkbox(&mut s.broadcast, t::BROADCAST)
                            .on_hover_text(t::BROADCAST_HINT);
                        optional_size_field(ui, t::RCVBUF, t::RCVBUF_HINT, &mut s.recv_buffer)
                    })
                    .inner
                })
                .inner
            })
            .body_returned
            .unwrap_or_else(|| parse_optional_size(&s.recv_buffer, t::RCVBUF));
        show_errors(ui, &[rcv.as_ref().err().cloned()]);

        let capture = capture_ui(ui, &mut s.capture, false, running);
        // Rules that do not compile keep Listen disabled; the rules section says why.
        let effective = s.auto_reply.effective(s.echo);
        let auto_reply = effective.clone().unwrap_or_default();
        let config = match (&bind, &port, &rcv) {
            (Ok(bind), Ok(port), Ok(rcv)) => {
                let mut config = UdpServerConfig {
                    bind: *bind,
                    port: *port,
                    reuse_address: s.reuse_address,
                    v6_only: s.v6_only,
                    broadcast: s.broadcast,
                    echo: s.echo,
                    auto_reply: auto_reply.clone(),
                    capture: capture.clone().ok().flatten(),
                    ..UdpServerConfig::default()
                };
                if rcv.is_some() {
                    config.recv_buffer = *rcv;
                }
                Some(config)
            }
            _ => None,
        };

        let config = config.filter(|_| effective.is_ok() && capture.is_ok());

        let state = ServerState {
            start_label: t::BIND_UDP,
            echo_hint: t::ECHO_UDP_HINT,
            running,
            stopping: self.phase == Phase::Closing,
        };
        match server_controls(
            ui,
            "udp-server",
            &state,
            config,
            &mut self.settings.echo,
            &mut self.settings.auto_reply,
        ) {
            Some(ServerControl::Start(config)) => action = Some(Action::Bind(config)),
            Some(ServerControl::Stop) => action = Some(Action::Stop),
            Some(ServerControl::SetAutoReply(auto)) => action = Some(Action::SetAutoReply(auto)),
            None => {}
        }
        let (state, tone) = self.state_text();
        let address = self.bound_to();
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
            c.datagrams_in,
            c.bytes_out,
            c.datagrams_out,
            true,
        ));
        if c.not_shown_datagrams > 0 {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                t::not_listed(c.not_shown_datagrams, c.not_shown_bytes),
            );
        }
        if let Some(error) = &self.activity.error {
            error_banner(ui, error);
        }
        ui.separator();

        let reply_to = ui
            .horizontal(|ui| {
                let edit = labelled_edit(
                    ui,
                    t::REPLY_TO,
                    t::REPLY_TO_HINT,
                    &mut self.reply_to,
                    200.0,
                    t::REPLY_TO_NOBODY,
                );
                if edit.changed() {
                    // Typing an address means "send there", not "follow whoever sends next".
                    self.follow_sender = false;
                }
                ui.checkbox(&mut self.follow_sender, t::FOLLOW_SENDER)
                    .on_hover_text(t::FOLLOW_SENDER_HINT);
                parse_target(&self.reply_to)
            })
            .inner;
        // A message too big for one datagram to the target is refused before it is sent.
        let too_big = match (&reply_to, self.settings.editor.bytes()) {
            (Some(Ok(to)), Ok(bytes)) => udp::check_datagram_size(*to, bytes.len())
                .err()
                .map(|e| e.plain_sentence()),
            _ => None,
        };
        let blocked = match (&reply_to, self.bound_to()) {
            (_, None) => Some(t::SEND_NEEDS_BIND),
            (None, _) => Some(t::SEND_NEEDS_TARGET),
            (Some(Err(_)), _) => Some(t::REPLY_TO_BAD),
            (Some(Ok(_)), Some(_)) => None,
        };
        // The editor's size decides only what sends the editor's bytes (not a saved message or
        // a file, which is split into datagrams of its own size).
        let editor_blocked = blocked.or(too_big.as_deref());
        if let Some(Err(e)) = &reply_to {
            error_line(ui, e);
        }
        if let Some(bytes) = payload_editor(ui, &mut self.settings.editor, editor_blocked)
            && let Some(Ok(to)) = reply_to
        {
            action = Some(Action::SendTo(to, Payload::from(bytes)));
        }
        if let Some(bytes) = saved_messages_ui(
            ui,
            "udp-server",
            &mut self.settings.saved,
            &mut self.settings.editor,
            blocked,
        ) && let Some(Ok(to)) = reply_to.clone()
        {
            action = Some(Action::SendTo(to, Payload::from(bytes)));
        }
        let status = self.session.as_ref().and_then(Session::periodic);
        if let Some(repeat) = periodic_ui(
            ui,
            &mut self.settings.periodic,
            &self.settings.editor,
            status,
            editor_blocked,
        ) {
            let to = reply_to.clone().and_then(Result::ok);
            action = Some(Action::Repeat(to, repeat));
        }
        let to = reply_to.and_then(Result::ok);
        if let Some(file) = file_send_ui(
            ui,
            "udp-server-file",
            &mut self.settings.file,
            &mut self.activity.files,
            blocked,
            Some(to),
        ) {
            match (file, to) {
                (FileSendAction::Send { path, udp }, Some(to)) => {
                    let (size, gap) = udp.unwrap_or((1472, Duration::ZERO));
                    action = Some(Action::SendFile(to, path, size, gap));
                }
                (FileSendAction::Cancel, _) => action = Some(Action::CancelFile),
                (FileSendAction::Send { .. }, None) => {}
            }
        }
        ui.separator();

        let empty = if running {
            t::LOG_EMPTY_RUNNING
        } else {
            t::UDP_SERVER_EMPTY
        };
        throughput_ui(
            ui,
            "udp-server",
            &self.activity.throughput,
            self.activity.counters,
            running,
        );
        let activity = &mut self.activity;
        let hex = &mut self.settings.hex;
        side_by_side(
            ui,
            |ui| {
                log_view_filtered(
                    ui,
                    "udp-server-log",
                    &mut activity.log,
                    &mut activity.selected,
                    hex,
                    empty,
                    &mut activity.filter,
                );
            },
            |ui| {
                activity
                    .transcript
                    .ui(ui, "udp-server-transcript-rows", false);
            },
        );
        action
    }
}

/// Parses the reply target: `None` when empty, else an address with a port.
fn parse_target(text: &str) -> Option<Result<SocketAddr, String>> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    Some(
        text.parse::<SocketAddr>()
            .map_err(|_| t::REPLY_TO_BAD.to_owned()),
    )
}
