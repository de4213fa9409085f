//! The TCP server: listen, see clients connect, send to one or all, disconnect, echo.

use std::net::SocketAddr;

use egui::Ui;
use serde::{Deserialize, Serialize};

use super::{problems, server_buttons, server_request};
use crate::engine::autoreply::AutoReply;
use crate::engine::generator::StreamSequenceCheck;
use crate::engine::log_store::LogStore;
use crate::engine::lookup::parse_bind_address;
use crate::engine::services::{PortUse, Protocol};
use crate::engine::{
    ClientSnapshot, ConnId, CounterSnapshot, Event, EventKind, QueueSizes, Session, TcpOptions,
    TcpServerCommand, TcpServerConfig, Waker, tcp_server,
};
use crate::gui::activity::{Activity, close_text, queue_budget};
use crate::gui::session::{
    CommonSettings, Composed, Ctx, Phase, Request, Role, SendRules, SessionKind,
};
use crate::gui::text as t;
use crate::gui::widgets::auto_reply::{AutoReplySettings, auto_reply_ui};
use crate::gui::widgets::capture::{CaptureSettings, capture_ui};
use crate::gui::widgets::fields::{
    AddressField, address_fields, number_field, optional_size_field, parse_number,
    parse_optional_size, parse_port_text,
};
use crate::gui::widgets::framing::{FramingSettings, framing_ui};
use crate::gui::widgets::generator::sequence_check_ui;
use crate::gui::widgets::payload_editor::{Outgoing, stream_editor_blocked};
use crate::gui::widgets::tls::{
    ServerTlsSettings, TlsView, server_badge, server_tls_ui, tls_problems, tls_switch, wire_note,
};
use crate::gui::workspace::SessionSettings;

mod clients;

/// The highest client limit the field accepts; each client costs a thread and buffers.
const MAX_CLIENTS_CEILING: u64 = 100_000;

/// What a TCP server session remembers.
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
    /// How received data is cut into messages.
    pub framing: FramingSettings,
    /// *Sequence check* of a traffic generator's messages.
    pub sequence_check: bool,
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
    /// TLS: the switch, the certificate, client certificates, ALPN.
    pub tls: ServerTlsSettings,
    /// Editor, saved messages, repeat, file, log settings.
    #[serde(flatten)]
    pub common: CommonSettings,
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
            framing: FramingSettings::default(),
            sequence_check: false,
            close_when_client_finishes: engine.close_when_client_finishes,
            nodelay: engine.options.nodelay,
            keepalive: engine.options.keepalive,
            recv_buffer: String::new(),
            send_buffer: String::new(),
            tls: ServerTlsSettings::default(),
            common: CommonSettings::default(),
        }
    }
}

/// Who Send goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Target {
    /// Every connected client.
    #[default]
    All,
    /// One client.
    Client(ConnId),
}

/// A TCP server's own requests.
#[derive(Debug, Clone)]
pub enum Action {
    /// Change the client limit while running.
    SetMaxClients(usize),
    /// Replace echo or the reply rules while running.
    SetAutoReply(AutoReply),
    /// Half-close one client.
    ShutdownWrite(ConnId),
    /// Close one client.
    Disconnect(ConnId),
    /// Reset one client.
    Abort(ConnId),
}

/// A TCP server's view state.
#[derive(Default)]
pub struct TcpServer {
    /// The sequence check, fed with every received byte, when it is on.
    pub sequence: Option<StreamSequenceCheck>,
    /// The address it listens on, while it does.
    pub listening: Option<SocketAddr>,
    /// The connected clients, as last read from the session.
    pub clients: Vec<ClientSnapshot>,
    /// Who Send goes to.
    pub target: Target,
    /// The client table is open (`None`: open if the tile is tall enough for it and the log).
    pub table_open: Option<bool>,
    /// The server's certificate and the newest client's TLS.
    pub tls: TlsView,
}

/// Checks every field; the configuration, or each invalid field's sentence.
pub fn validate(s: &TcpServerSettings) -> Result<TcpServerConfig, Vec<String>> {
    let bind = parse_bind_address(&s.bind);
    let port = parse_port_text(&s.port, Protocol::Tcp, PortUse::Bind);
    let backlog = parse_number(&s.backlog, t::BACKLOG, 1, 65_535);
    let max = parse_number(&s.max_clients, t::MAX_CLIENTS, 1, MAX_CLIENTS_CEILING);
    let rcv = parse_optional_size(&s.recv_buffer, t::RCVBUF);
    let snd = parse_optional_size(&s.send_buffer, t::SNDBUF);
    let auto_reply = s.auto_reply.effective(s.echo);
    let capture = s.capture.config(true).map_err(|p| p.sentence);
    let framing = s.framing.config();
    let tls = s.tls.engine();
    let framing_on = framing.as_ref().is_ok_and(|f| f.framing.is_on());
    let tls_problems = tls_problems(&tls, framing_on);
    if !tls_problems.is_empty() {
        let mut all = problems(&[
            bind.err(),
            port.err(),
            backlog.err(),
            max.err(),
            rcv.err(),
            snd.err(),
            auto_reply.err(),
            capture.err(),
            framing.err(),
        ]);
        all.extend(tls_problems);
        return Err(all);
    }
    let tls = tls.ok().flatten();
    let framing = s.framing.config();
    match (
        bind,
        port,
        backlog,
        max,
        rcv,
        snd,
        auto_reply,
        (capture, framing),
    ) {
        (
            Ok(bind),
            Ok(port),
            Ok(backlog),
            Ok(max),
            Ok(rcv),
            Ok(snd),
            Ok(auto),
            (Ok(capture), Ok(framing)),
        ) => Ok(TcpServerConfig {
            bind,
            port,
            reuse_address: s.reuse_address,
            v6_only: s.v6_only,
            backlog: i32::try_from(backlog).unwrap_or(i32::MAX),
            max_clients: usize::try_from(max).unwrap_or(usize::MAX),
            // Echo is folded into `auto_reply` (the rules answer first, echo the rest); the
            // engine's own flag would win over the rules.
            echo: false,
            auto_reply: auto,
            capture,
            framing,
            close_when_client_finishes: s.close_when_client_finishes,
            options: TcpOptions {
                nodelay: s.nodelay,
                keepalive: s.keepalive,
                recv_buffer: rcv,
                send_buffer: snd,
            },
            tls,
            ..TcpServerConfig::default()
        }),
        (bind, port, backlog, max, rcv, snd, auto, (capture, framing)) => Err(problems(&[
            bind.err(),
            port.err(),
            backlog.err(),
            max.err(),
            rcv.err(),
            snd.err(),
            auto.err(),
            capture.err(),
            framing.err(),
        ])),
    }
}

impl Role for TcpServer {
    type Settings = TcpServerSettings;
    type Command = TcpServerCommand;
    type Config = TcpServerConfig;
    type Action = Action;

    const KIND: SessionKind = SessionKind::TcpServer;
    const EXPLAIN: crate::engine::explain::Role = crate::engine::explain::Role::TcpServer;
    const STARTING: &'static str = t::STATE_OPENING;
    const DATAGRAMS: bool = false;
    const EMPTY_LOG: &'static str = t::TCP_SERVER_EMPTY;

    settings_glue!(TcpServerSettings, TcpServer);

    fn address(s: &TcpServerSettings) -> String {
        t::host_port(&s.bind, &s.port)
    }

    fn start(config: TcpServerConfig, log: &LogStore, waker: &Waker) -> Session<TcpServerCommand> {
        let queues = QueueSizes::tcp_with_budget(queue_budget(log));
        tcp_server::start(
            TcpServerConfig { queues, ..config },
            std::sync::Arc::clone(waker),
        )
    }

    fn starting(&mut self, s: &mut TcpServerSettings) {
        // Replacing existing capture files is asked for each time.
        s.capture.overwrite = false;
        *self = TcpServer::default();
        self.sequence = s.sequence_check.then(StreamSequenceCheck::new);
    }

    fn apply(
        &mut self,
        event: &Event,
        phase: &mut Phase,
        a: &mut Activity,
        _: &mut Self::Settings,
    ) {
        if let Some(check) = &mut self.sequence {
            // TCP's received events are never dropped (the reader waits), so the check sees
            // every byte in order.
            match &event.kind {
                EventKind::Received { conn, peer, data } => {
                    check.observe(*conn, *peer, data, event.at);
                }
                EventKind::Messages { conn, peer, batch } => {
                    if let Some(read) = batch.read() {
                        check.observe(*conn, *peer, read, event.at);
                    }
                }
                EventKind::Disconnected { conn, .. } => check.closed(*conn),
                _ => {}
            }
        }
        let log = &mut a.log;
        match &event.kind {
            EventKind::Listening { local } => {
                *phase = Phase::Running;
                self.listening = Some(*local);
                log.push_note(event.at, None, &t::note_listening(local));
            }
            EventKind::Connected { conn, peer, .. } => {
                let note = t::note_client_connected(*conn, peer);
                log.push_note(event.at, Some(*peer), &note);
            }
            EventKind::Tls(tls) => {
                if let Some(note) = self.tls.observe(tls) {
                    let note = match tls.conn {
                        Some(conn) => format!("{} {note}", t::client_prefix(conn)),
                        None => note,
                    };
                    log.push_note(event.at, tls.peer, &note);
                }
            }
            EventKind::Rejected { peer, limit } => {
                log.push_note(event.at, Some(*peer), &t::note_rejected(peer, *limit));
            }
            EventKind::Disconnected { conn, peer, reason } => {
                let note = format!(
                    "{}: {}",
                    t::client_name(*conn, peer),
                    t::note_disconnected(&close_text(reason))
                );
                log.push_note(event.at, Some(*peer), &note);
                if self.target == Target::Client(*conn) {
                    self.target = Target::All;
                }
                self.clients.retain(|c| c.id != *conn);
            }
            EventKind::Stopped { .. } => {
                self.clients.clear();
                self.target = Target::All;
                self.listening = None;
            }
            _ => {}
        }
    }

    fn observe_session(&mut self, session: &Session<TcpServerCommand>) {
        self.clients = session.clients();
    }

    fn running_words(&self) -> &'static str {
        t::STATE_LISTENING
    }

    fn served(&self) -> Option<SocketAddr> {
        self.listening
    }

    fn sequence_conn(&self) -> Option<ConnId> {
        match self.target {
            Target::Client(id) => Some(id),
            Target::All => None,
        }
    }

    fn bar_ui(
        &mut self,
        ui: &mut Ui,
        s: &mut TcpServerSettings,
        phase: &Phase,
        running: bool,
        config: Option<&TcpServerConfig>,
    ) -> Option<Request<Self>> {
        address_fields(
            ui,
            running,
            AddressField::Bind(&mut s.bind),
            &mut s.port,
            Protocol::Tcp,
            PortUse::Bind,
        );
        tls_switch(ui, &mut s.tls.on, t::TLS_SERVER_HINT, running);
        let state = (running, *phase == Phase::Stopping, config.is_some());
        let asked = server_buttons(ui, t::LISTEN, t::ECHO_TCP_HINT, state, &mut s.echo);
        server_request::<Self, _>(asked, (&s.auto_reply, s.echo), config, Action::SetAutoReply)
    }

    fn options_ui(
        &mut self,
        ui: &mut Ui,
        s: &mut TcpServerSettings,
        running: bool,
    ) -> Option<Action> {
        ui.add_enabled_ui(!running, |ui| {
            ui.horizontal_wrapped(|ui| {
                let boxes = [
                    (&mut s.reuse_address, t::REUSEADDR, t::REUSEADDR_TCP_HINT),
                    (&mut s.v6_only, t::V6ONLY, t::V6ONLY_HINT),
                    (&mut s.nodelay, t::NODELAY, t::NODELAY_HINT),
                    (&mut s.keepalive, t::KEEPALIVE, t::KEEPALIVE_HINT),
                    (
                        &mut s.close_when_client_finishes,
                        t::CLOSE_WHEN_FINISHED,
                        t::CLOSE_WHEN_FINISHED_HINT,
                    ),
                ];
                for (value, label, hint) in boxes {
                    ui.checkbox(value, label).on_hover_text(hint);
                }
            });
            ui.horizontal_wrapped(|ui| {
                let _ = number_field(ui, t::BACKLOG, t::BACKLOG_HINT, &mut s.backlog, 1, 65_535);
                let _ = optional_size_field(ui, t::RCVBUF, t::RCVBUF_HINT, &mut s.recv_buffer);
                let _ = optional_size_field(ui, t::SNDBUF, t::SNDBUF_HINT, &mut s.send_buffer);
            });
        });
        None
    }

    fn extra_tools_ui(
        &mut self,
        ui: &mut Ui,
        s: &mut Self::Settings,
        running: bool,
    ) -> Option<Action> {
        framing_ui(ui, "framing", &mut s.framing, running);
        server_tls_ui(ui, &mut s.tls, &self.tls, running);
        let _ = capture_ui(ui, &mut s.capture, true, running);
        let check = self.sequence.as_ref();
        sequence_check_ui(ui, &mut s.sequence_check, running, || {
            check.map(StreamSequenceCheck::summary)
        });
        // A rule being typed may not compile yet: the server keeps its last good rules meanwhile.
        let changed = auto_reply_ui(ui, "rules", &mut s.auto_reply, s.echo);
        match s.auto_reply.effective(s.echo) {
            Ok(auto) if changed && running => Some(Action::SetAutoReply(auto)),
            _ => None,
        }
    }

    fn notes_ui(&self, ui: &mut Ui, _phase: &Phase, counters: &CounterSnapshot) {
        server_badge(ui, &self.tls);
        wire_note(ui, counters);
        let rejected = counters.connections_rejected;
        if rejected > 0 {
            ui.colored_label(ui.visuals().warn_fg_color, t::clients_turned_away(rejected));
        }
    }

    fn target_ui(
        &mut self,
        ui: &mut Ui,
        s: &mut TcpServerSettings,
        running: bool,
        tile_height: f32,
    ) -> Option<Action> {
        clients::clients_ui(self, ui, &mut s.max_clients, running, tile_height)
    }

    fn send_rules(&self, s: &TcpServerSettings, _phase: &Phase, _running: bool) -> SendRules {
        let blocked = if self.listening.is_none() {
            Some(t::SEND_NEEDS_LISTENING)
        } else if self.clients.is_empty() {
            Some(t::SEND_NEEDS_CLIENT)
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
        _: Option<TcpServerConfig>,
        ctx: &mut Ctx<'_, TcpServerCommand>,
    ) {
        let target = self.target;
        let command = move |message: Outgoing| match (message, target) {
            (Outgoing::Bytes(data), Target::All) => TcpServerCommand::SendToAll(data),
            (Outgoing::Bytes(data), Target::Client(id)) => TcpServerCommand::SendTo(id, data),
            (Outgoing::Template(t), Target::All) => TcpServerCommand::SendTemplateToAll(t),
            (Outgoing::Template(t), Target::Client(id)) => TcpServerCommand::SendTemplateTo(id, t),
        };
        match (composed, target) {
            (Composed::Send(message), _) => ctx.command(command(message)),
            (Composed::Repeat(repeat), _) => ctx.repeat(repeat, command),
            (Composed::SendFile { path, .. }, Target::All) => {
                ctx.command(TcpServerCommand::SendFileToAll(path));
            }
            (Composed::SendFile { path, .. }, Target::Client(id)) => {
                ctx.command(TcpServerCommand::SendFileTo(id, path));
            }
            (Composed::CancelFile, _) => {}
        }
    }

    fn perform(
        &mut self,
        action: Action,
        _: &mut TcpServerSettings,
        ctx: &mut Ctx<'_, TcpServerCommand>,
    ) {
        ctx.command(match action {
            Action::SetAutoReply(auto) => TcpServerCommand::SetAutoReply(auto),
            Action::SetMaxClients(limit) => TcpServerCommand::SetMaxClients(limit),
            Action::ShutdownWrite(id) => TcpServerCommand::ShutdownWrite(id),
            Action::Disconnect(id) => TcpServerCommand::Disconnect(id),
            Action::Abort(id) => TcpServerCommand::Abort(id),
        });
    }
}
