//! The UDP server: bind a port, list every datagram with its sender, reply, echo.

use std::net::SocketAddr;
use std::time::Duration;

use egui::Ui;
use serde::{Deserialize, Serialize};

use super::{problems, server_buttons, server_request};
use crate::engine::autoreply::AutoReply;
use crate::engine::generator::SequenceCheck;
use crate::engine::log_store::LogStore;
use crate::engine::lookup::parse_bind_address;
use crate::engine::multicast::DestinationKind;
use crate::engine::services::{PortUse, Protocol};
use crate::engine::{
    CounterSnapshot, Event, EventKind, Payload, QueueSizes, Session, UdpCommand, UdpServerConfig,
    Waker, udp,
};
use crate::gui::activity::{Activity, queue_budget};
use crate::gui::session::{
    CommonSettings, Composed, Ctx, Phase, Request, Role, SendRules, SessionKind,
};
use crate::gui::text as t;
use crate::gui::widgets::auto_reply::{AutoReplySettings, auto_reply_ui};
use crate::gui::widgets::capture::{CaptureSettings, capture_ui};
use crate::gui::widgets::fields::{
    AddressField, address_fields, labelled_edit, optional_size_field, parse_optional_size,
    parse_port_text,
};
use crate::gui::widgets::generator::sequence_check_ui;
use crate::gui::widgets::groups::{
    GroupRequest, GroupSetting, GroupsView, check_groups, groups_ui, parse_silence,
};
use crate::gui::widgets::payload_editor::Outgoing;
use crate::gui::widgets::{badge, good_color};
use crate::gui::workspace::SessionSettings;

/// What a UDP server session remembers.
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
    /// *Sequence check* of a traffic generator's messages.
    pub sequence_check: bool,
    /// Multicast groups, joined when the socket is bound (and by Join while it is).
    pub groups: Vec<GroupSetting>,
    /// Seconds of silence from the groups before the log says why, as typed.
    pub silence: String,
    /// Editor, saved messages, repeat, file, log settings.
    #[serde(flatten)]
    pub common: CommonSettings,
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
            sequence_check: false,
            groups: Vec::new(),
            silence: String::new(),
            common: CommonSettings::default(),
        }
    }
}

/// A UDP server's own requests.
#[derive(Debug, Clone)]
pub enum Action {
    /// Replace echo or the reply rules while running.
    SetAutoReply(AutoReply),
    /// Join or leave a multicast group while running.
    Group(GroupRequest),
}

/// A UDP server's view state.
#[derive(Debug)]
pub struct UdpServer {
    /// The bound address, while bound.
    pub bound: Option<SocketAddr>,
    /// Where Send goes, as typed or as set from the newest sender.
    pub reply_to: String,
    /// Keep `reply_to` on the newest sender.
    pub follow_sender: bool,
    /// The running session's sequence check, when it has one.
    pub sequence: Option<SequenceCheck>,
    /// The groups being typed and joined, and what the session said about them.
    pub groups: GroupsView,
}

impl Default for UdpServer {
    fn default() -> Self {
        UdpServer {
            bound: None,
            reply_to: String::new(),
            follow_sender: true,
            sequence: None,
            groups: GroupsView::default(),
        }
    }
}

impl UdpServer {
    /// The reply target: `None` when empty, else an address with a port or the sentence saying
    /// it is not one.
    pub fn reply_target(&self) -> Option<Result<SocketAddr, String>> {
        let text = self.reply_to.trim();
        if text.is_empty() {
            return None;
        }
        Some(
            text.parse::<SocketAddr>()
                .map_err(|_| t::REPLY_TO_BAD.to_owned()),
        )
    }
}

/// Checks every field; the configuration, or each invalid field's sentence.
pub fn validate(s: &UdpServerSettings) -> Result<UdpServerConfig, Vec<String>> {
    let bind = parse_bind_address(&s.bind);
    let port = parse_port_text(&s.port, Protocol::Udp, PortUse::Bind);
    let rcv = parse_optional_size(&s.recv_buffer, t::RCVBUF);
    let auto_reply = s.auto_reply.effective(s.echo);
    let capture = s.capture.config(false).map_err(|p| p.sentence);
    let groups = match &bind {
        Ok(ip) => check_groups(&s.groups, *ip),
        Err(_) => Ok(Vec::new()),
    };
    let silence = parse_silence(&s.silence);
    match (bind, port, rcv, auto_reply, capture, groups, silence) {
        (Ok(bind), Ok(port), Ok(rcv), Ok(auto_reply), Ok(capture), Ok(groups), Ok(silence)) => {
            let mut config = UdpServerConfig {
                bind,
                port,
                reuse_address: s.reuse_address,
                v6_only: s.v6_only,
                broadcast: s.broadcast,
                // Echo is folded into `auto_reply` (the rules answer first, echo the rest); the
                // engine's own flag would win over the rules.
                echo: false,
                auto_reply,
                capture,
                groups,
                silence_after: silence,
                ..UdpServerConfig::default()
            };
            if rcv.is_some() {
                config.recv_buffer = rcv;
            }
            Ok(config)
        }
        (bind, port, rcv, auto, capture, groups, silence) => Err(problems(&[
            bind.err(),
            port.err(),
            rcv.err(),
            auto.err(),
            capture.err(),
            groups.err(),
            silence.err(),
        ])),
    }
}

/// The command that sends `message` to `to`.
fn send_to(to: SocketAddr, message: Outgoing) -> UdpCommand {
    match message {
        Outgoing::Bytes(data) => UdpCommand::SendTo(to, data),
        Outgoing::Template(template) => UdpCommand::SendTemplateTo(to, template),
    }
}

impl Role for UdpServer {
    type Settings = UdpServerSettings;
    type Command = UdpCommand;
    type Config = UdpServerConfig;
    type Action = Action;

    const KIND: SessionKind = SessionKind::UdpServer;
    const EXPLAIN: crate::engine::explain::Role = crate::engine::explain::Role::UdpServer;
    const STARTING: &'static str = t::STATE_OPENING;
    const DATAGRAMS: bool = true;
    const EMPTY_LOG: &'static str = t::UDP_SERVER_EMPTY;

    settings_glue!(UdpServerSettings, UdpServer);

    fn address(s: &UdpServerSettings) -> String {
        t::host_port(&s.bind, &s.port)
    }

    fn start(config: UdpServerConfig, log: &LogStore, waker: &Waker) -> Session<UdpCommand> {
        let queues = QueueSizes::udp_with_budget(queue_budget(log));
        udp::start_server(
            UdpServerConfig { queues, ..config },
            std::sync::Arc::clone(waker),
        )
    }

    fn starting(&mut self, s: &mut UdpServerSettings) {
        // Replacing existing capture files is asked for each time.
        s.capture.overwrite = false;
        self.bound = None;
        self.groups.stopped();
        self.sequence = None;
    }

    fn prepare(&mut self, s: &UdpServerSettings, config: &mut UdpServerConfig) {
        if s.sequence_check {
            let check = SequenceCheck::new();
            config.sequence_check = Some(check.clone());
            self.sequence = Some(check);
        }
    }

    fn apply(
        &mut self,
        event: &Event,
        phase: &mut Phase,
        a: &mut Activity,
        _: &mut Self::Settings,
    ) {
        match &event.kind {
            EventKind::Ready { local, .. } => {
                *phase = Phase::Running;
                self.bound = Some(*local);
                a.log.push_note(event.at, None, &t::note_ready(local));
            }
            EventKind::Datagrams(batch) => {
                if self.follow_sender
                    && let Some(peer) = batch.last_peer()
                {
                    self.reply_to = peer.to_string();
                }
                // Something came from a group: the silence is over.
                if batch
                    .iter()
                    .any(|d| d.to.is_none_or(|to| to.kind == DestinationKind::Group))
                {
                    self.groups.silence = None;
                }
            }
            EventKind::Multicast(m) => {
                for note in self.groups.observe(m) {
                    a.log.push_note(event.at, None, &note);
                }
            }
            EventKind::Stopped { .. } => {
                self.bound = None;
                self.groups.stopped();
            }
            _ => {}
        }
    }

    fn running_words(&self) -> &'static str {
        t::STATE_BOUND
    }

    fn served(&self) -> Option<SocketAddr> {
        self.bound
    }

    fn bar_ui(
        &mut self,
        ui: &mut Ui,
        s: &mut UdpServerSettings,
        phase: &Phase,
        running: bool,
        config: Option<&UdpServerConfig>,
    ) -> Option<Request<Self>> {
        address_fields(
            ui,
            running,
            AddressField::Bind(&mut s.bind),
            &mut s.port,
            Protocol::Udp,
            PortUse::Bind,
        );
        let state = (running, *phase == Phase::Stopping, config.is_some());
        let asked = server_buttons(ui, t::BIND_UDP, t::ECHO_UDP_HINT, state, &mut s.echo);
        server_request::<Self, _>(asked, (&s.auto_reply, s.echo), config, Action::SetAutoReply)
    }

    fn options_ui(
        &mut self,
        ui: &mut Ui,
        s: &mut UdpServerSettings,
        running: bool,
    ) -> Option<Action> {
        ui.add_enabled_ui(!running, |ui| {
            ui.horizontal_wrapped(|ui| {
                ui.checkbox(&mut s.reuse_address, t::REUSEADDR)
                    .on_hover_text(t::REUSEADDR_UDP_HINT);
                ui.checkbox(&mut s.v6_only, t::V6ONLY)
                    .on_hover_text(t::V6ONLY_HINT);
                ui.checkbox(&mut s.broadcast, t::BROADCAST)
                    .on_hover_text(t::BROADCAST_HINT);
                let _ = optional_size_field(ui, t::RCVBUF, t::RCVBUF_HINT, &mut s.recv_buffer);
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
        let group = groups_ui(ui, &mut s.groups, &mut s.silence, &mut self.groups, running);
        let _ = capture_ui(ui, &mut s.capture, false, running);
        let check = self.sequence.as_ref();
        sequence_check_ui(ui, &mut s.sequence_check, running, || {
            check.map(SequenceCheck::summary)
        });
        // A rule being typed may not compile yet: the server keeps its last good rules meanwhile.
        let changed = auto_reply_ui(ui, "rules", &mut s.auto_reply, s.echo);
        // Everything is drawn every frame; a group's Join / Leave is the frame's request first.
        if let Some(request) = group {
            return Some(Action::Group(request));
        }
        match s.auto_reply.effective(s.echo) {
            Ok(auto) if changed && running => Some(Action::SetAutoReply(auto)),
            _ => None,
        }
    }

    fn notes_ui(&self, ui: &mut Ui, _phase: &Phase, c: &CounterSnapshot) {
        let joined = self.groups.joined.len();
        if joined > 0 {
            let names: Vec<String> = self
                .groups
                .joined
                .iter()
                .map(|g| g.join.to_string())
                .collect();
            let hint = format!("{}\n{}", t::IN_GROUPS_HINT, names.join("\n"));
            badge(ui, &t::in_groups(joined), good_color(ui.visuals()), &hint);
        }
        if let Some((waited, causes)) = &self.groups.silence {
            let all: Vec<String> = causes
                .iter()
                .map(|c| t::cause_line(c.found(), &c.sentence()))
                .collect();
            ui.add(
                egui::Label::new(
                    egui::RichText::new(t::silence_note(*waited)).color(ui.visuals().warn_fg_color),
                )
                .truncate(),
            )
            .on_hover_text(all.join("\n\n"));
        }
        if c.not_shown_datagrams > 0 {
            let note = t::not_listed(c.not_shown_datagrams, c.not_shown_bytes);
            ui.colored_label(ui.visuals().warn_fg_color, note);
        }
    }

    fn target_ui(
        &mut self,
        ui: &mut Ui,
        _: &mut UdpServerSettings,
        _: bool,
        _: f32,
    ) -> Option<Action> {
        ui.horizontal(|ui| {
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
            // Beside the field, so that nothing below moves when it appears.
            if let Some(Err(e)) = self.reply_target() {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
        });
        None
    }

    fn send_rules(&self, s: &UdpServerSettings, _phase: &Phase, _running: bool) -> SendRules {
        let reply_to = self.reply_target();
        // A message too big for one datagram to the target is refused before it is sent.
        let too_big = match (&reply_to, s.common.editor.bytes()) {
            (Some(Ok(to)), Ok(bytes)) => udp::check_datagram_size(*to, bytes.len())
                .err()
                .map(|e| e.plain_sentence()),
            _ => None,
        };
        let blocked = match (&reply_to, self.bound) {
            (_, None) => Some(t::SEND_NEEDS_BIND),
            (None, _) => Some(t::SEND_NEEDS_TARGET),
            (Some(Err(_)), _) => Some(t::REPLY_TO_BAD),
            (Some(Ok(_)), Some(_)) => None,
        }
        .map(ToOwned::to_owned);
        // The editor's size decides only what sends the editor's bytes (not a saved message or
        // a file, which is split into datagrams of its own size).
        let editor = blocked.clone().or(too_big);
        SendRules {
            blocked: blocked.clone(),
            editor: editor.clone(),
            repeat: editor,
            file: blocked,
            file_target: Some(reply_to.and_then(Result::ok)),
        }
    }

    fn compose(
        &mut self,
        composed: Composed,
        _: Option<UdpServerConfig>,
        ctx: &mut Ctx<'_, UdpCommand>,
    ) {
        let to = self.reply_target().and_then(Result::ok);
        match (composed, to) {
            (Composed::Send(message), Some(to)) => ctx.command(send_to(to, message)),
            (Composed::Repeat(repeat), Some(to)) => {
                ctx.repeat(repeat, |message| send_to(to, message));
            }
            // Stopping needs no address (and a start without one is not offered).
            (Composed::Repeat(repeat), None) => ctx.repeat(repeat, |message| match message {
                Outgoing::Bytes(data) => UdpCommand::ReplyToLast(data),
                Outgoing::Template(t) => UdpCommand::ReplyToLast(Payload::from(
                    crate::gui::widgets::payload_editor::fresh_preview(&t),
                )),
            }),
            (Composed::SendFile { path, udp }, Some(to)) => {
                let (datagram_size, gap) = udp.unwrap_or((1472, Duration::ZERO));
                ctx.command(UdpCommand::SendFile {
                    path,
                    datagram_size,
                    to: Some(to),
                    gap,
                });
            }
            _ => {}
        }
    }

    fn perform(
        &mut self,
        action: Action,
        _: &mut UdpServerSettings,
        ctx: &mut Ctx<'_, UdpCommand>,
    ) {
        match action {
            Action::SetAutoReply(auto) => ctx.command(UdpCommand::SetAutoReply(auto)),
            Action::Group(GroupRequest::Join(join)) => ctx.command(UdpCommand::Join(join)),
            Action::Group(GroupRequest::Leave(join)) => ctx.command(UdpCommand::Leave(join)),
        }
    }
}
