//! The UDP client: send datagrams to a host and port and list the replies with their sender.
//!
//! UDP has no connection, so Send opens the socket by itself when none is open; "Open socket"
//! does it explicitly (to hear datagrams before sending anything).

use std::net::SocketAddr;
use std::time::Duration;

use egui::Ui;
use serde::{Deserialize, Serialize};

use super::problems;
use crate::engine::log_store::LogStore;
use crate::engine::lookup::normalize_host;
use crate::engine::multicast::{DestinationKind, NetInterface, SendOptions};
use crate::engine::services::{PortUse, Protocol};
use crate::engine::{
    CounterSnapshot, Event, EventKind, QueueSizes, Session, UdpClientConfig, UdpCommand, Waker, udp,
};
use crate::gui::activity::{Activity, queue_budget};
use crate::gui::session::{
    CommonSettings, Composed, Ctx, Phase, Request, Role, SendRules, SessionKind,
};
use crate::gui::text as t;
use crate::gui::widgets::fields::{
    AddressField, address_fields, optional_size_field, parse_host, parse_optional_size,
    parse_port_text, take_submit,
};
use crate::gui::widgets::generator::GeneratorTarget;
use crate::gui::widgets::groups::{interface_field, target_kind};
use crate::gui::widgets::payload_editor::Outgoing;
use crate::gui::widgets::{badge, good_color};
use crate::gui::workspace::SessionSettings;

/// The TTL the badge names: the one the socket was opened with.
fn parse_ttl_shown(client: &UdpClient) -> Option<u32> {
    client.ttl_in_use
}

/// What a UDP client session remembers.
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
    /// TTL / hop limit, as typed (empty: the system's).
    pub ttl: String,
    /// The interface datagrams leave through (empty: the route decides).
    pub interface: String,
    /// `IP_MULTICAST_LOOP`: this machine's members of the group get a copy (the system's default).
    pub multicast_loop: bool,
    /// Editor, saved messages, repeat, file, log settings.
    #[serde(flatten)]
    pub common: CommonSettings,
}

impl Default for UdpClientSettings {
    fn default() -> Self {
        UdpClientSettings {
            host: "127.0.0.1".to_owned(),
            port: "9000".to_owned(),
            connect_first: false,
            broadcast: false,
            recv_buffer: String::new(),
            ttl: String::new(),
            interface: String::new(),
            multicast_loop: true,
            common: CommonSettings::default(),
        }
    }
}

/// A UDP client has no requests beyond the shared ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {}

/// A UDP client's view state.
#[derive(Debug, Default)]
pub struct UdpClient {
    /// Our address once bound.
    pub local: Option<SocketAddr>,
    /// The peer fixed by `connect()`.
    pub peer: Option<SocketAddr>,
    /// A group or broadcast target, for the badge (worked out when the socket is ready).
    pub target_kind: Option<DestinationKind>,
    /// The TTL the open socket was given (`None`: the system's).
    pub ttl_in_use: Option<u32>,
    /// This machine's interfaces, read when the interface menu is first opened.
    pub interfaces: Option<Result<Vec<NetInterface>, String>>,
}

/// Parses the TTL field: empty is the system's, else 1 to 255.
pub fn parse_ttl(text: &str) -> Result<Option<u32>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<u32>()
        .ok()
        .filter(|n| (1..=255).contains(n))
        .map(Some)
        .ok_or_else(|| t::TTL_BAD.to_owned())
}

/// Checks every field; the configuration, or each invalid field's sentence.
pub fn validate(s: &UdpClientSettings) -> Result<UdpClientConfig, Vec<String>> {
    let host = parse_host(&s.host);
    let port = parse_port_text(&s.port, Protocol::Udp, PortUse::Connect);
    let rcv = parse_optional_size(&s.recv_buffer, t::RCVBUF);
    let ttl = parse_ttl(&s.ttl);
    let literal = host
        .as_ref()
        .ok()
        .and_then(|h| h.parse::<std::net::IpAddr>().ok());
    // Loopback is a multicast option; for a name the engine says so once it has resolved it.
    let looping = match literal {
        Some(ip) if !s.multicast_loop && !ip.is_multicast() => {
            Err(t::MULTICAST_LOOP_NOT_GROUP.to_owned())
        }
        _ => Ok(()),
    };
    let broadcast = match literal {
        Some(std::net::IpAddr::V4(v4)) if v4.is_broadcast() && !s.broadcast => {
            Err(t::BROADCAST_NEEDS_OPTION.to_owned())
        }
        _ => Ok(()),
    };
    match (host, port, rcv, ttl, looping, broadcast) {
        (Ok(host), Ok(port), Ok(rcv), Ok(ttl), Ok(()), Ok(())) => {
            let mut config = UdpClientConfig::new(host, port);
            config.connect = s.connect_first;
            config.broadcast = s.broadcast;
            let interface = s.interface.trim();
            config.multicast = SendOptions {
                ttl,
                interface: (!interface.is_empty()).then(|| interface.to_owned()),
                loopback: (!s.multicast_loop).then_some(false),
            };
            if rcv.is_some() {
                config.recv_buffer = rcv;
            }
            Ok(config)
        }
        (host, port, rcv, ttl, looping, broadcast) => Err(problems(&[
            host.err(),
            port.err(),
            rcv.err(),
            ttl.err(),
            looping.err(),
            broadcast.err(),
        ])),
    }
}

impl UdpClient {
    /// Where a datagram goes, when known before sending (an IP literal, or the connected peer):
    /// then a message too big for one datagram is refused before it is sent.
    fn target(&self, phase: &Phase, config: Option<&UdpClientConfig>) -> Option<SocketAddr> {
        let ready = *phase == Phase::Running;
        if ready && let Some(peer) = self.peer {
            return Some(peer);
        }
        let c = config?;
        c.host
            .parse::<std::net::IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, c.port))
            // A name: the open socket was made for the family it resolved to, and only the
            // family decides the limit.
            .or_else(|| {
                self.local
                    .filter(|_| ready)
                    .map(|l| SocketAddr::new(l.ip(), c.port))
            })
    }
}

/// The command that sends `message` to the target.
fn command(message: Outgoing) -> UdpCommand {
    match message {
        Outgoing::Bytes(data) => UdpCommand::Send(data),
        Outgoing::Template(template) => UdpCommand::SendTemplate(template),
    }
}

impl Role for UdpClient {
    type Settings = UdpClientSettings;
    type Command = UdpCommand;
    type Config = UdpClientConfig;
    type Action = Action;

    const KIND: SessionKind = SessionKind::UdpClient;
    const EXPLAIN: crate::engine::explain::Role = crate::engine::explain::Role::UdpClient;
    const STARTING: &'static str = t::STATE_OPENING;
    const DATAGRAMS: bool = true;
    const EMPTY_LOG: &'static str = t::UDP_CLIENT_EMPTY;

    settings_glue!(UdpClientSettings, UdpClient);

    fn address(s: &UdpClientSettings) -> String {
        t::host_port(normalize_host(&s.host).unwrap_or(&s.host), &s.port)
    }

    fn start(config: UdpClientConfig, log: &LogStore, waker: &Waker) -> Session<UdpCommand> {
        let queues = QueueSizes::udp_with_budget(queue_budget(log));
        udp::start_client(
            UdpClientConfig { queues, ..config },
            std::sync::Arc::clone(waker),
        )
    }

    fn generator_target(config: &UdpClientConfig) -> Option<GeneratorTarget> {
        Some(GeneratorTarget::Udp {
            host: config.host.clone(),
            port: config.port,
        })
    }

    fn starting(&mut self, _: &mut UdpClientSettings) {
        let interfaces = self.interfaces.take();
        *self = UdpClient::default();
        self.interfaces = interfaces;
    }

    fn apply(
        &mut self,
        event: &Event,
        phase: &mut Phase,
        a: &mut Activity,
        s: &mut Self::Settings,
    ) {
        match &event.kind {
            EventKind::Ready { local, peer } => {
                s.common.editor.focus_requested = true;
                *phase = Phase::Running;
                self.local = Some(*local);
                self.peer = *peer;
                let typed = normalize_host(&s.host)
                    .ok()
                    .and_then(|h| h.parse::<std::net::IpAddr>().ok())
                    .map(|ip| SocketAddr::new(ip, 0));
                self.target_kind = target_kind(peer.or(typed));
                self.ttl_in_use = parse_ttl(&s.ttl).ok().flatten();
                a.log.push_note(event.at, *peer, &t::note_ready(local));
            }
            EventKind::Stopped { .. } => {
                let interfaces = self.interfaces.take();
                *self = UdpClient::default();
                self.interfaces = interfaces;
            }
            _ => {}
        }
    }

    fn running_words(&self) -> &'static str {
        if self.peer.is_some() {
            t::STATE_CONNECTED
        } else {
            t::STATE_READY
        }
    }

    fn addresses(&self) -> (Option<SocketAddr>, Option<SocketAddr>) {
        (self.local, self.peer)
    }

    fn bar_ui(
        &mut self,
        ui: &mut Ui,
        s: &mut UdpClientSettings,
        phase: &Phase,
        running: bool,
        config: Option<&UdpClientConfig>,
    ) -> Option<Request<Self>> {
        address_fields(
            ui,
            running,
            AddressField::Host(&mut s.host),
            &mut s.port,
            Protocol::Udp,
            PortUse::Connect,
        );
        let mut asked = None;
        // Enter in an address or port field does what the main button does.
        let submitted = take_submit(ui);
        if (ui
            .add_enabled(!running && config.is_some(), egui::Button::new(t::OPEN_UDP))
            .on_hover_text(t::OPEN_UDP_CLIENT_HINT)
            .clicked()
            || (submitted && !running))
            && let Some(config) = config
        {
            asked = Some(Request::Start(config.clone()));
        }
        if ui
            .add_enabled(
                running && *phase != Phase::Stopping,
                egui::Button::new(t::CLOSE),
            )
            .clicked()
        {
            asked = Some(Request::Stop);
        }
        asked
    }

    fn options_ui(
        &mut self,
        ui: &mut Ui,
        s: &mut UdpClientSettings,
        running: bool,
    ) -> Option<Action> {
        ui.add_enabled_ui(!running, |ui| {
            ui.horizontal_wrapped(|ui| {
                ui.checkbox(&mut s.connect_first, t::UDP_CONNECT)
                    .on_hover_text(t::UDP_CONNECT_HINT);
                ui.checkbox(&mut s.broadcast, t::BROADCAST)
                    .on_hover_text(t::BROADCAST_HINT);
                let _ = optional_size_field(ui, t::RCVBUF, t::RCVBUF_HINT, &mut s.recv_buffer);
            });
            ui.horizontal_wrapped(|ui| {
                let label = ui.label(t::TTL).on_hover_text(t::TTL_HINT);
                ui.add(
                    egui::TextEdit::singleline(&mut s.ttl)
                        .desired_width(40.0)
                        .hint_text("1"),
                )
                .labelled_by(label.id)
                .on_hover_text(t::TTL_HINT);
                ui.checkbox(&mut s.multicast_loop, t::MULTICAST_LOOP)
                    .on_hover_text(t::MULTICAST_LOOP_HINT);
            });
            ui.horizontal_wrapped(|ui| {
                interface_field(
                    ui,
                    t::SEND_INTERFACE_HINT,
                    &mut s.interface,
                    &mut self.interfaces,
                );
            });
        });
        None
    }

    fn notes_ui(&self, ui: &mut Ui, _phase: &Phase, c: &CounterSnapshot) {
        match self.target_kind {
            Some(DestinationKind::Group) => {
                let ttl = parse_ttl_shown(self);
                badge(
                    ui,
                    &t::to_group_badge(ttl),
                    good_color(ui.visuals()),
                    t::TO_GROUP_HINT,
                );
            }
            Some(DestinationKind::Broadcast) => {
                badge(
                    ui,
                    t::TO_BROADCAST_BADGE,
                    ui.visuals().warn_fg_color,
                    t::TO_BROADCAST_HINT,
                );
            }
            _ => {}
        }
        if c.not_shown_datagrams > 0 {
            let note = t::not_listed(c.not_shown_datagrams, c.not_shown_bytes);
            ui.colored_label(ui.visuals().warn_fg_color, note);
        }
    }

    fn send_rules(&self, s: &UdpClientSettings, phase: &Phase, running: bool) -> SendRules {
        let config = validate(s).ok();
        let ready = matches!(phase, Phase::Running | Phase::Starting);
        let too_big = match (self.target(phase, config.as_ref()), s.common.editor.bytes()) {
            (Some(to), Ok(bytes)) => udp::check_datagram_size(to, bytes.len())
                .err()
                .map(|e| e.plain_sentence()),
            _ => None,
        };
        // Send opens the socket itself; repeating and files need it open (one Send opens it).
        let blocked = (!(ready || (!running && config.is_some()))).then_some(t::SEND_NEEDS_SOCKET);
        let needs_open = (!ready).then(|| t::SEND_NEEDS_SOCKET.to_owned());
        // The socket's own family is the target's: it decides the datagram size limit.
        let family = self.local.filter(|_| *phase == Phase::Running);
        SendRules {
            blocked: blocked.map(ToOwned::to_owned),
            editor: blocked.map(ToOwned::to_owned).or(too_big.clone()),
            repeat: needs_open.clone().or(too_big),
            file: needs_open,
            file_target: Some(family),
        }
    }

    fn compose(
        &mut self,
        composed: Composed,
        config: Option<UdpClientConfig>,
        ctx: &mut Ctx<'_, UdpCommand>,
    ) {
        match composed {
            Composed::Send(data) => {
                if ctx.session.is_none()
                    && let Some(config) = config
                {
                    *self = UdpClient::default();
                    let session = Self::start(config, &ctx.activity.log, ctx.waker);
                    ctx.begin(session);
                }
                // Commands queue while the socket opens, and run once it is ready.
                ctx.command(command(data));
            }
            Composed::Repeat(repeat) => ctx.repeat(repeat, command),
            Composed::SendFile { path, udp } => {
                let (datagram_size, gap) = udp.unwrap_or((1472, Duration::ZERO));
                ctx.command(UdpCommand::SendFile {
                    path,
                    datagram_size,
                    to: None,
                    gap,
                });
            }
            Composed::CancelFile => {}
        }
    }

    fn perform(&mut self, action: Action, _: &mut UdpClientSettings, _: &mut Ctx<'_, UdpCommand>) {
        match action {}
    }
}
