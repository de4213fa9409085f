//! The TCP client: connect to a host and port, send and receive, half-close, close, abort.

use std::net::SocketAddr;
use std::time::Duration;

use egui::Ui;
use serde::{Deserialize, Serialize};

use super::problems;
use crate::engine::log_store::LogStore;
use crate::engine::lookup::normalize_host;
use crate::engine::services::{PortUse, Protocol};
use crate::engine::{
    CounterSnapshot, Event, EventKind, QueueSizes, Session, TcpClientCommand, TcpClientConfig,
    TcpOptions, Waker, tcp_client,
};
use crate::gui::activity::{Activity, close_text, queue_budget};
use crate::gui::session::{
    CommonSettings, Composed, Ctx, Phase, Request, Role, SendRules, SessionKind,
};
use crate::gui::text as t;
use crate::gui::widgets::fields::{
    AddressField, address_fields, number_field, optional_size_field, parse_host, parse_number,
    parse_optional_size, parse_port_text, take_submit,
};
use crate::gui::widgets::framing::{FramingSettings, framing_ui};
use crate::gui::widgets::generator::GeneratorTarget;
use crate::gui::widgets::payload_editor::{Outgoing, stream_editor_blocked};
use crate::gui::widgets::tls::{
    ClientTlsSettings, TlsView, client_badge, client_tls_ui, tls_problems, tls_switch, wire_note,
};
use crate::gui::workspace::SessionSettings;

/// What a TCP client session remembers.
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
    /// How received data is cut into messages.
    pub framing: FramingSettings,
    /// TLS: the switch, what to trust, server name, ALPN.
    pub tls: ClientTlsSettings,
    /// Editor, saved messages, repeat, file, log settings.
    #[serde(flatten)]
    pub common: CommonSettings,
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
            framing: FramingSettings::default(),
            tls: ClientTlsSettings::default(),
            common: CommonSettings::default(),
        }
    }
}

/// A TCP client's own buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Half-close.
    ShutdownWrite,
    /// Reset.
    Abort,
}

/// A TCP client's view state.
#[derive(Debug, Default)]
pub struct TcpClient {
    /// Our address once connected.
    pub local: Option<SocketAddr>,
    /// The server's address once connected.
    pub peer: Option<SocketAddr>,
    /// The peer sent FIN.
    pub peer_finished: bool,
    /// We sent FIN.
    pub write_shut: bool,
    /// The connection's TLS: the server's certificate, how it was checked.
    pub tls: TlsView,
    /// The TLS settings the session was started with (for its badge).
    pub tls_settings: ClientTlsSettings,
}

impl TcpClient {
    fn tls_badge(&self, ui: &mut Ui) {
        client_badge(ui, &self.tls_settings, &self.tls);
    }
}

/// Checks every field; the configuration, or each invalid field's sentence.
pub fn validate(s: &TcpClientSettings) -> Result<TcpClientConfig, Vec<String>> {
    let host = parse_host(&s.host);
    let port = parse_port_text(&s.port, Protocol::Tcp, PortUse::Connect);
    let rcv = parse_optional_size(&s.recv_buffer, t::RCVBUF);
    let snd = parse_optional_size(&s.send_buffer, t::SNDBUF);
    let timeout = parse_number(&s.timeout_secs, t::CONNECT_TIMEOUT, 1, 600);
    let framing = s.framing.config();
    let tls = s.tls.engine();
    let framing_on = framing.as_ref().is_ok_and(|f| f.framing.is_on());
    let tls_problems = tls_problems(&tls, framing_on);
    if !tls_problems.is_empty() {
        let mut all = problems(&[
            host.err(),
            port.err(),
            rcv.err(),
            snd.err(),
            timeout.err(),
            framing.err(),
        ]);
        all.extend(tls_problems);
        return Err(all);
    }
    let tls = tls.ok().flatten();
    match (host, port, rcv, snd, timeout, framing) {
        (Ok(host), Ok(port), Ok(rcv), Ok(snd), Ok(timeout), Ok(framing)) => {
            let mut config = TcpClientConfig::new(host, port);
            config.connect_timeout = Duration::from_secs(timeout);
            config.framing = framing;
            config.tls = tls.map(|mut tls| {
                // The connect timeout bounds the handshake too, as on the command line.
                tls.handshake_timeout = config.connect_timeout;
                tls
            });
            config.options = TcpOptions {
                nodelay: s.nodelay,
                keepalive: s.keepalive,
                recv_buffer: rcv,
                send_buffer: snd,
            };
            Ok(config)
        }
        (host, port, rcv, snd, timeout, framing) => Err(problems(&[
            host.err(),
            port.err(),
            rcv.err(),
            snd.err(),
            timeout.err(),
            framing.err(),
        ])),
    }
}

/// The command that sends `message`.
fn command(message: Outgoing) -> TcpClientCommand {
    match message {
        Outgoing::Bytes(data) => TcpClientCommand::Send(data),
        Outgoing::Template(template) => TcpClientCommand::SendTemplate(template),
    }
}

impl Role for TcpClient {
    type Settings = TcpClientSettings;
    type Command = TcpClientCommand;
    type Config = TcpClientConfig;
    type Action = Action;

    const KIND: SessionKind = SessionKind::TcpClient;
    const EXPLAIN: crate::engine::explain::Role = crate::engine::explain::Role::TcpClient;
    const STARTING: &'static str = t::STATE_CONNECTING;
    const DATAGRAMS: bool = false;
    const EMPTY_LOG: &'static str = t::TCP_CLIENT_EMPTY;
    const REQUESTED_STOP_IS_IDLE: bool = false;

    settings_glue!(TcpClientSettings, TcpClient);

    fn address(s: &TcpClientSettings) -> String {
        t::host_port(normalize_host(&s.host).unwrap_or(&s.host), &s.port)
    }

    fn start(config: TcpClientConfig, log: &LogStore, waker: &Waker) -> Session<TcpClientCommand> {
        let queues = QueueSizes::tcp_with_budget(queue_budget(log));
        tcp_client::start(
            TcpClientConfig { queues, ..config },
            std::sync::Arc::clone(waker),
        )
    }

    fn generator_target(config: &TcpClientConfig) -> Option<GeneratorTarget> {
        Some(GeneratorTarget::Tcp {
            host: config.host.clone(),
            port: config.port,
            options: config.options,
            timeout: config.connect_timeout,
        })
    }

    fn starting(&mut self, settings: &mut TcpClientSettings) {
        *self = TcpClient::default();
        // The badge speaks for the session started with these settings.
        self.tls_settings = settings.tls.clone();
    }

    fn apply(
        &mut self,
        event: &Event,
        phase: &mut Phase,
        a: &mut Activity,
        s: &mut Self::Settings,
    ) {
        match &event.kind {
            EventKind::Connected { local, peer, .. } => {
                *phase = Phase::Running;
                s.common.editor.focus_requested = true;
                self.local = Some(*local);
                self.peer = Some(*peer);
                a.log
                    .push_note(event.at, Some(*peer), &t::note_connected(local, peer));
            }
            EventKind::Tls(tls) => {
                if let Some(note) = self.tls.observe(tls) {
                    a.log.push_note(event.at, tls.peer, &note);
                }
            }
            EventKind::PeerFinished { .. } => self.peer_finished = true,
            EventKind::WriteShutdown { .. } => self.write_shut = true,
            EventKind::Disconnected { reason, .. } => {
                let note = t::note_disconnected(&close_text(reason));
                a.log.push_note(event.at, self.peer, &note);
            }
            _ => {}
        }
    }

    fn running_words(&self) -> &'static str {
        t::STATE_CONNECTED
    }

    fn addresses(&self) -> (Option<SocketAddr>, Option<SocketAddr>) {
        (self.local, self.peer)
    }

    fn bar_ui(
        &mut self,
        ui: &mut Ui,
        s: &mut TcpClientSettings,
        phase: &Phase,
        running: bool,
        config: Option<&TcpClientConfig>,
    ) -> Option<Request<Self>> {
        address_fields(
            ui,
            running,
            AddressField::Host(&mut s.host),
            &mut s.port,
            Protocol::Tcp,
            PortUse::Connect,
        );
        tls_switch(ui, &mut s.tls.on, t::TLS_CLIENT_HINT, running);
        let connected = *phase == Phase::Running;
        let mut asked = None;
        // Enter in an address or port field does what the main button does.
        let submitted = take_submit(ui);
        let label = if *phase == Phase::Starting {
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
            asked = Some(Request::Start(config.clone()));
        }
        let buttons = [
            (
                connected && !self.write_shut,
                t::SHUTDOWN_WRITE,
                t::SHUTDOWN_WRITE_HINT,
            ),
            (
                running && *phase != Phase::Stopping,
                t::CLOSE,
                t::CLOSE_HINT,
            ),
            (connected, t::ABORT, t::ABORT_HINT),
        ];
        for (n, (enabled, label, hint)) in buttons.into_iter().enumerate() {
            if ui
                .add_enabled(enabled, egui::Button::new(label))
                .on_hover_text(hint)
                .clicked()
            {
                asked = Some(match n {
                    0 => Request::Role(Action::ShutdownWrite),
                    1 => Request::Stop,
                    _ => Request::Role(Action::Abort),
                });
            }
        }
        asked
    }

    fn options_ui(
        &mut self,
        ui: &mut Ui,
        s: &mut TcpClientSettings,
        running: bool,
    ) -> Option<Action> {
        ui.add_enabled_ui(!running, |ui| {
            ui.horizontal_wrapped(|ui| {
                ui.checkbox(&mut s.nodelay, t::NODELAY)
                    .on_hover_text(t::NODELAY_HINT);
                ui.checkbox(&mut s.keepalive, t::KEEPALIVE)
                    .on_hover_text(t::KEEPALIVE_HINT);
            });
            ui.horizontal_wrapped(|ui| {
                let _ = optional_size_field(ui, t::RCVBUF, t::RCVBUF_HINT, &mut s.recv_buffer);
                let _ = optional_size_field(ui, t::SNDBUF, t::SNDBUF_HINT, &mut s.send_buffer);
                let _ = number_field(
                    ui,
                    t::CONNECT_TIMEOUT,
                    t::CONNECT_TIMEOUT_HINT,
                    &mut s.timeout_secs,
                    1,
                    600,
                );
            });
        });
        None
    }

    fn extra_tools_ui(
        &mut self,
        ui: &mut Ui,
        s: &mut TcpClientSettings,
        running: bool,
    ) -> Option<Action> {
        framing_ui(ui, "framing", &mut s.framing, running);
        client_tls_ui(ui, &mut s.tls, &self.tls, running);
        None
    }

    fn notes_ui(&self, ui: &mut Ui, phase: &Phase, counters: &CounterSnapshot) {
        self.tls_badge(ui);
        wire_note(ui, counters);
        // Half-closed states matter only while the connection lasts; afterwards the log keeps them.
        let connected = *phase == Phase::Running;
        if connected && self.peer_finished {
            ui.colored_label(ui.visuals().warn_fg_color, t::PEER_FINISHED);
        }
        if connected && self.write_shut {
            ui.label(t::WRITE_SHUT);
        }
    }

    fn send_rules(&self, s: &TcpClientSettings, phase: &Phase, _running: bool) -> SendRules {
        let blocked = if *phase != Phase::Running {
            Some(t::SEND_NEEDS_CONNECTION)
        } else if self.write_shut {
            Some(t::SEND_AFTER_SHUTDOWN)
        } else {
            None
        };
        let editor = stream_editor_blocked(blocked, &s.common.editor);
        SendRules {
            blocked: blocked.map(ToOwned::to_owned),
            editor: editor.map(ToOwned::to_owned),
            repeat: editor.map(ToOwned::to_owned),
            file: blocked.map(ToOwned::to_owned),
            file_target: None,
        }
    }

    fn compose(
        &mut self,
        composed: Composed,
        _: Option<TcpClientConfig>,
        ctx: &mut Ctx<'_, TcpClientCommand>,
    ) {
        match composed {
            Composed::Send(message) => ctx.command(command(message)),
            Composed::Repeat(repeat) => ctx.repeat(repeat, command),
            Composed::SendFile { path, .. } => ctx.command(TcpClientCommand::SendFile(path)),
            Composed::CancelFile => {}
        }
    }

    fn perform(
        &mut self,
        action: Action,
        _: &mut TcpClientSettings,
        ctx: &mut Ctx<'_, TcpClientCommand>,
    ) {
        match action {
            Action::ShutdownWrite => ctx.command(TcpClientCommand::ShutdownWrite),
            Action::Abort => {
                ctx.command(TcpClientCommand::Abort);
                *ctx.phase = Phase::Stopping;
            }
        }
    }

    fn stop(&mut self, ctx: &mut Ctx<'_, TcpClientCommand>) {
        // Connecting is cancelled by stopping the session; a connection closes gracefully.
        if *ctx.phase == Phase::Starting {
            ctx.stop();
        } else {
            ctx.command(TcpClientCommand::Close);
        }
        *ctx.phase = Phase::Stopping;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{CloseReason, StopReason};
    use crate::gui::session::SessionTab;

    #[test]
    fn half_close_then_end_is_folded_into_the_view() {
        let mut tab = SessionTab::<TcpClient>::new(1, None, TcpClientSettings::default());
        let local: SocketAddr = ([127, 0, 0, 1], 40_000).into();
        let peer: SocketAddr = ([127, 0, 0, 1], 9_000).into();
        tab.apply(&Event::now(EventKind::Connected {
            conn: 1,
            local,
            peer,
        }));
        assert_eq!(tab.phase, Phase::Running);
        assert_eq!((tab.role.local, tab.role.peer), (Some(local), Some(peer)));
        tab.apply(&Event::now(EventKind::PeerFinished { conn: 1, peer }));
        assert!(tab.role.peer_finished);
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

    #[test]
    fn an_invalid_field_names_itself_and_blocks_the_start() {
        let settings = TcpClientSettings {
            timeout_secs: "0".to_owned(),
            ..TcpClientSettings::default()
        };
        let problems = validate(&settings).err().unwrap_or_default();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(validate(&TcpClientSettings::default()).is_ok());
    }
}
