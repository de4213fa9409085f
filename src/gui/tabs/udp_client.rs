//! The UDP client tab: send datagrams to a host and port and list the replies with their sender.
//!
//! UDP has no connection, so Send opens the socket by itself when none is open; "Open socket"
//! does it explicitly (to hear datagrams before sending anything).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use egui::Ui;
use serde::{Deserialize, Serialize};

use crate::engine::services::{PortUse, Protocol};
use crate::engine::{
    Event, EventKind, Payload, QueueSizes, Session, StopReason, UdpClientConfig, UdpCommand,
    UdpSession, Waker, udp,
};
use crate::gui::activity::{Activity, default_log_budget_mib, failure, queue_budget, stop_text};
use crate::gui::text as t;
use crate::gui::widgets::fields::{
    address_row, host_field, optional_size_field, parse_optional_size, show_errors, take_submit,
};
use crate::gui::widgets::file_send::{FileSendAction, FileSendSettings, file_send_ui};
use crate::gui::widgets::log_view::log_view_filtered;
use crate::gui::widgets::payload_editor::{EditorSettings, payload_editor};
use crate::gui::widgets::periodic::{PeriodicAction, PeriodicSettings, periodic_ui, repeat_on};
use crate::gui::widgets::saved_messages::{SavedMessages, saved_messages_ui};
use crate::gui::widgets::throughput::throughput_ui;
use crate::gui::widgets::{Tone, error_banner, side_by_side, status_line};

/// What the tab remembers between runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UdpClientSettings {
    /// Where to send.
    pub host: String,
    /// Port, as typed.
    pub port: String,
    /// Call `connect()` first.
    pub connect_first: bool,
    /// `SO_BROADCAST`.
    pub broadcast: bool,
    /// `SO_RCVBUF`, as typed (empty: the engine's default of 4 MiB).
    pub recv_buffer: String,
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

impl Default for UdpClientSettings {
    fn default() -> Self {
        UdpClientSettings {
            host: "127.0.0.1".to_owned(),
            port: "9000".to_owned(),
            connect_first: false,
            broadcast: false,
            recv_buffer: String::new(),
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
    /// Resolving and binding.
    Opening,
    /// Bound (and connected when asked); sends and receives.
    Ready {
        /// Our address.
        local: SocketAddr,
        /// The peer fixed by `connect()`.
        peer: Option<SocketAddr>,
    },
    /// Close asked for.
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
    /// Open the socket.
    Open(UdpClientConfig),
    /// Send a datagram, opening the socket first with this configuration if none is open.
    Send(Option<UdpClientConfig>, Payload),
    /// Close the socket.
    Close,
    /// Start or stop a periodic send.
    Repeat(PeriodicAction),
    /// Send a file to the target in datagrams of this size, pausing this long after each.
    SendFile(PathBuf, usize, Duration),
    /// Cancel the file being sent.
    CancelFile,
}

/// The UDP client tab's view model.
pub struct UdpClientTab {
    /// Persisted settings.
    pub settings: UdpClientSettings,
    /// Socket state.
    pub phase: Phase,
    /// Log, transcript, counters, error.
    pub activity: Activity,
    session: Option<UdpSession>,
}

impl UdpClientTab {
    /// A tab with these settings, idle.
    pub fn new(settings: UdpClientSettings) -> Self {
        let mut tab = UdpClientTab {
            settings,
            phase: Phase::Idle,
            activity: Activity::for_role(crate::engine::explain::Role::UdpClient),
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
    pub fn apply(&mut self, event: &Event) {
        self.activity.record(event);
        match &event.kind {
            EventKind::Ready { local, peer } => {
                self.settings.editor.focus_requested = true;
                self.phase = Phase::Ready {
                    local: *local,
                    peer: *peer,
                };
                self.activity
                    .log
                    .push_note(event.at, *peer, &t::note_ready(local));
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

    /// Carries out an action.
    pub fn perform(&mut self, action: Action, waker: &Waker) {
        match action {
            Action::Open(config) => self.open(config, waker),
            Action::Send(config, data) => {
                if let (None, Some(config)) = (&self.session, config) {
                    self.open(config, waker);
                }
                // Commands queue while the socket opens, and run once it is ready.
                if let Some(session) = &self.session
                    && let Err(e) = session.send(UdpCommand::Send(data))
                {
                    self.activity.command_failed(&e);
                }
            }
            Action::Close => {
                if let Some(session) = &self.session {
                    session.stop();
                    self.phase = Phase::Closing;
                }
            }
            Action::SendFile(path, datagram_size, gap) => {
                if let Some(session) = &self.session
                    && let Err(e) = session.send(UdpCommand::SendFile {
                        path,
                        datagram_size,
                        to: None,
                        gap,
                    })
                {
                    self.activity.command_failed(&e);
                }
            }
            Action::CancelFile => {
                if let Some(session) = &self.session {
                    session.cancel_file_sends();
                }
            }
            Action::Repeat(repeat) => {
                if let Some(session) = &mut self.session {
                    let result = repeat_on(session, repeat, UdpCommand::Send);
                    if let Err(e) = result {
                        self.activity.command_failed(&e);
                    }
                }
            }
        }
    }

    fn open(&mut self, config: UdpClientConfig, waker: &Waker) {
        self.session = None;
        self.activity.starting();
        self.phase = Phase::Opening;
        let queues = QueueSizes::udp_with_budget(queue_budget(&self.activity.log));
        let config = UdpClientConfig { queues, ..config };
        self.session = Some(udp::start_client(config, Arc::clone(waker)));
    }

    fn state_text(&self) -> (String, Tone, Option<SocketAddr>, Option<SocketAddr>) {
        match &self.phase {
            Phase::Idle => (t::STATE_IDLE.to_owned(), Tone::Idle, None, None),
            Phase::Opening => (t::STATE_OPENING.to_owned(), Tone::Busy, None, None),
            Phase::Ready { local, peer } => {
                let state = if peer.is_some() {
                    t::STATE_CONNECTED
                } else {
                    t::STATE_READY
                };
                (state.to_owned(), Tone::Good, Some(*local), *peer)
            }
            Phase::Closing => (t::STATE_CLOSING.to_owned(), Tone::Busy, None, None),
            Phase::Closed { failed: true, .. } => {
                (t::STATE_FAILED.to_owned(), Tone::Bad, None, None)
            }
            Phase::Closed { reason, .. } => (t::closed_because(reason), Tone::Idle, None, None),
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
            Protocol::Udp,
            PortUse::Connect,
        );
        let rcv = egui::CollapsingHeader::new(t::OPTIONS)
            .id_salt("udp-client-options")
            .show(ui, |ui| {
                ui.add_enabled_ui(!running, |ui| {
                    ui.horizontal_wrapped(|ui| {
                        ui.checkbox(&mut s.connect_first, t::UDP_CONNECT)
                            .on_hover_text(t::UDP_CONNECT_HINT);
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

        let config = match (&host, &port, &rcv) {
            (Ok(host), Ok(port), Ok(rcv)) => {
                let mut config = UdpClientConfig::new(host.clone(), *port);
                config.connect = s.connect_first;
                config.broadcast = s.broadcast;
                if rcv.is_some() {
                    config.recv_buffer = *rcv;
                }
                Some(config)
            }
            _ => None,
        };

        // Enter in an address or port field does what the main button does.
        let submitted = take_submit(ui);
        ui.horizontal(|ui| {
            if (ui
                .add_enabled(!running && config.is_some(), egui::Button::new(t::OPEN_UDP))
                .on_hover_text(t::OPEN_UDP_CLIENT_HINT)
                .clicked()
                || (submitted && !running))
                && let Some(config) = config.clone()
            {
                action = Some(Action::Open(config));
            }
            if ui
                .add_enabled(
                    running && self.phase != Phase::Closing,
                    egui::Button::new(t::CLOSE),
                )
                .clicked()
            {
                action = Some(Action::Close);
            }
        });
        let (state, tone, local, peer) = self.state_text();
        status_line(ui, &state, tone, local, peer);
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

        let ready = matches!(self.phase, Phase::Ready { .. } | Phase::Opening);
        // Where a datagram goes, when known before sending (an IP literal, or the connected
        // peer): then a message too big for one datagram is refused here, before it is sent.
        let target = match (&self.phase, &config) {
            (
                Phase::Ready {
                    peer: Some(peer), ..
                },
                _,
            ) => Some(*peer),
            (phase, Some(c)) => c
                .host
                .parse::<std::net::IpAddr>()
                .ok()
                .map(|ip| SocketAddr::new(ip, c.port))
                .or_else(|| match phase {
                    // A name: the open socket was made for the family it resolved to, and only
                    // the family decides the limit.
                    Phase::Ready { local, .. } => Some(SocketAddr::new(local.ip(), c.port)),
                    _ => None,
                }),
            _ => None,
        };
        let too_big = match (target, self.settings.editor.bytes()) {
            (Some(to), Ok(bytes)) => udp::check_datagram_size(to, bytes.len())
                .err()
                .map(|e| e.plain_sentence()),
            _ => None,
        };
        let blocked = if ready || (!running && config.is_some()) {
            None
        } else {
            Some(t::SEND_NEEDS_SOCKET)
        };
        // The editor's size decides only what sends the editor's bytes, not a saved message.
        let editor_blocked = blocked.or(too_big.as_deref());
        if let Some(bytes) = payload_editor(ui, &mut self.settings.editor, editor_blocked) {
            let open_with = if running { None } else { config.clone() };
            action = Some(Action::Send(open_with, Payload::from(bytes)));
        }
        if let Some(bytes) = saved_messages_ui(
            ui,
            "udp-client",
            &mut self.settings.saved,
            &mut self.settings.editor,
            blocked,
        ) {
            action = Some(Action::Send(
                if running { None } else { config.clone() },
                Payload::from(bytes),
            ));
        }
        // Repeating needs the socket open (one Send opens it).
        let repeat_blocked = (!ready).then_some(t::SEND_NEEDS_SOCKET);
        let status = self.session.as_ref().and_then(Session::periodic);
        if let Some(repeat) = periodic_ui(
            ui,
            &mut self.settings.periodic,
            &self.settings.editor,
            status,
            repeat_blocked.or(too_big.as_deref()),
        ) {
            action = Some(Action::Repeat(repeat));
        }
        // The socket's own family is the target's: it decides the datagram size limit.
        let family = match self.phase {
            Phase::Ready { local, .. } => Some(local),
            _ => None,
        };
        if let Some(file) = file_send_ui(
            ui,
            "udp-client-file",
            &mut self.settings.file,
            &mut self.activity.files,
            repeat_blocked,
            Some(family),
        ) {
            action = Some(match file {
                FileSendAction::Send { path, udp } => {
                    let (size, gap) = udp.unwrap_or((1472, Duration::ZERO));
                    Action::SendFile(path, size, gap)
                }
                FileSendAction::Cancel => Action::CancelFile,
            });
        }
        ui.separator();

        let empty = if running {
            t::LOG_EMPTY_RUNNING
        } else {
            t::UDP_CLIENT_EMPTY
        };
        throughput_ui(
            ui,
            "udp-client",
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
                    "udp-client-log",
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
                    .ui(ui, "udp-client-transcript-rows", false);
            },
        );
        action
    }
}
