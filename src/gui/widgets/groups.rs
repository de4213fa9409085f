//! The multicast parts of the UDP sessions: the server's groups list with Join / Leave, the
//! interface field with a menu of this machine's interfaces (shared with the client's outgoing
//! interface), and the silence explanation the server's log and status note show.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use egui::{Response, RichText, TextEdit, Ui};
use serde::{Deserialize, Serialize};

use crate::engine::multicast::{
    self, Cause, DEFAULT_SILENCE, GroupJoin, JoinedGroup, MulticastEvent, NetInterface,
};
use crate::gui::text as t;

/// One group of the server's list, as typed (kept in the workspace).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupSetting {
    /// The group address.
    pub group: String,
    /// The interface's name or address; empty lets the system choose.
    pub interface: String,
    /// The one sender to hear; empty hears every sender.
    pub source: String,
}

impl GroupSetting {
    /// The join these fields make, or the sentence for what is wrong (no interface check: the
    /// list of interfaces is the engine's to read when it joins).
    pub fn join(&self) -> Result<GroupJoin, String> {
        let mut join = GroupJoin::parse(self.group.trim())?;
        let interface = self.interface.trim();
        if !interface.is_empty() {
            join.interface = Some(interface.to_owned());
        }
        let source = self.source.trim();
        if source.is_empty() {
            Ok(join)
        } else {
            join.with_source(source)
        }
    }
}

/// Checks the saved groups against the bind address: each is a group, of the socket's family.
pub fn check_groups(groups: &[GroupSetting], bind: IpAddr) -> Result<Vec<GroupJoin>, String> {
    let mut joins = Vec::new();
    for g in groups {
        let join = g.join()?;
        if join.group.is_ipv4() != bind.is_ipv4() {
            return Err(format!(
                "The group {} is {}, but the socket binds {bind}: bind to {} to join it.",
                join.group,
                if join.group.is_ipv4() { "IPv4" } else { "IPv6" },
                if join.group.is_ipv4() {
                    "0.0.0.0"
                } else {
                    "::"
                }
            ));
        }
        joins.push(join);
    }
    Ok(joins)
}

/// Parses the silence field (seconds); empty is the default.
pub fn parse_silence(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(DEFAULT_SILENCE);
    }
    text.parse::<f64>()
        .ok()
        .filter(|s| (0.1..=3600.0).contains(s))
        .map(Duration::from_secs_f64)
        .ok_or_else(|| t::SILENCE_BAD.to_owned())
}

/// The server's run-time view of its groups.
#[derive(Debug, Default)]
pub struct GroupsView {
    /// The group being typed.
    pub draft: GroupSetting,
    /// What is wrong with the draft after the last Join, if anything.
    pub draft_error: Option<String>,
    /// The groups the socket is a member of now.
    pub joined: Vec<JoinedGroup>,
    /// The last silence the session reported, until something arrives from the groups.
    pub silence: Option<(Duration, Vec<Cause>)>,
    /// This machine's interfaces, read when the menu is first opened (or asked again).
    pub interfaces: Option<Result<Vec<NetInterface>, String>>,
}

impl GroupsView {
    /// Folds a multicast event; returns the log notes it makes.
    pub fn observe(&mut self, event: &MulticastEvent) -> Vec<String> {
        match event {
            MulticastEvent::Joined(g) => {
                self.joined.retain(|j| j.join != g.join);
                self.joined.push(g.clone());
                vec![t::note_joined(&g.join.to_string(), &g.interface_text())]
            }
            MulticastEvent::Left(g) => {
                self.joined.retain(|j| j.join != g.join);
                vec![t::note_left(&g.join.to_string(), &g.interface_text())]
            }
            MulticastEvent::Silence { waited, causes } => {
                self.silence = Some((*waited, causes.clone()));
                let mut notes = vec![t::silence_log(*waited)];
                notes.extend(
                    causes
                        .iter()
                        .map(|c| t::cause_line(c.found(), &c.sentence())),
                );
                notes
            }
        }
    }

    /// The session ended: no memberships are left.
    pub fn stopped(&mut self) {
        self.joined.clear();
        self.silence = None;
    }

    fn is_joined(&self, join: &GroupJoin) -> bool {
        self.joined.iter().any(|j| j.join == *join)
    }
}

/// What the groups section asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupRequest {
    /// Join this group now.
    Join(GroupJoin),
    /// Leave this group now.
    Leave(GroupJoin),
}

/// A text field with a label that is not a submit field (Enter does not bind the socket).
fn plain_edit(
    ui: &mut Ui,
    label: &str,
    hint: &str,
    value: &mut String,
    width: f32,
    placeholder: &str,
) -> Response {
    let label = ui.label(label).on_hover_text(hint);
    ui.add(
        TextEdit::singleline(value)
            .desired_width(width)
            .hint_text(placeholder.to_owned()),
    )
    .labelled_by(label.id)
    .on_hover_text(hint)
}

/// An interface field: typed, or picked from a menu of this machine's interfaces with their
/// addresses. `cache` holds the list once read.
pub fn interface_field(
    ui: &mut Ui,
    hint: &str,
    value: &mut String,
    cache: &mut Option<Result<Vec<NetInterface>, String>>,
) -> Response {
    let edit = plain_edit(ui, t::INTERFACE, hint, value, 110.0, t::INTERFACE_ANY);
    ui.menu_button(t::INTERFACE_PICK, |ui| {
        let list = cache.get_or_insert_with(read_interfaces);
        match list {
            Ok(list) => {
                if ui.button(t::INTERFACE_SYSTEM).clicked() {
                    value.clear();
                    ui.close();
                }
                for interface in list.iter() {
                    if ui.button(interface.label()).clicked() {
                        value.clone_from(&interface.name);
                        ui.close();
                    }
                }
            }
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, e.as_str());
            }
        }
        ui.separator();
        if ui.button(t::INTERFACE_REFRESH).clicked() {
            *cache = Some(read_interfaces());
        }
    })
    .response
    .on_hover_text(t::INTERFACE_PICK_HINT);
    edit
}

fn read_interfaces() -> Result<Vec<NetInterface>, String> {
    multicast::interfaces()
        .map_err(|e| format!("The list of this machine's interfaces could not be read ({e})."))
}

/// Checks a typed interface against the list (read when needed): the sentence when it is not one
/// of this machine's.
pub fn check_interface(
    name: &str,
    cache: &mut Option<Result<Vec<NetInterface>, String>>,
) -> Result<(), String> {
    if name.trim().is_empty() {
        return Ok(());
    }
    // A typed name is checked against a fresh list: an interface may have come up meanwhile.
    *cache = Some(read_interfaces());
    match cache {
        Some(Ok(list)) => multicast::find_interface(list, name).map(|_| ()),
        _ => Ok(()),
    }
}

/// The groups section of the UDP server's drawer: the fields for a new group with Join, the
/// explanation delay, then each group with its state and Join / Leave / Remove.
pub fn groups_ui(
    ui: &mut Ui,
    groups: &mut Vec<GroupSetting>,
    silence: &mut String,
    view: &mut GroupsView,
    running: bool,
) -> Option<GroupRequest> {
    let mut asked = None;
    egui::CollapsingHeader::new(t::GROUPS)
        .id_salt("groups")
        .default_open(true)
        .show(ui, |ui| {
            ui.label(RichText::new(t::GROUPS_HINT).small().weak());
            ui.horizontal_wrapped(|ui| {
                plain_edit(
                    ui,
                    t::GROUP,
                    t::GROUP_HINT,
                    &mut view.draft.group,
                    120.0,
                    "239.1.2.3",
                );
            });
            ui.horizontal_wrapped(|ui| {
                interface_field(
                    ui,
                    t::JOIN_INTERFACE_HINT,
                    &mut view.draft.interface,
                    &mut view.interfaces,
                );
            });
            ui.horizontal_wrapped(|ui| {
                plain_edit(
                    ui,
                    t::SOURCE,
                    t::SOURCE_HINT,
                    &mut view.draft.source,
                    120.0,
                    t::SOURCE_ANY,
                );
                if ui.button(t::JOIN).on_hover_text(t::JOIN_HINT).clicked() {
                    asked = add_draft(groups, view, running);
                }
            });
            // Reserved: the sentence appears without moving the list below.
            let error = view.draft_error.clone().unwrap_or_default();
            ui.add(
                egui::Label::new(RichText::new(error).color(ui.visuals().error_fg_color)).wrap(),
            );
            ui.horizontal(|ui| {
                plain_edit(ui, t::SILENCE, t::SILENCE_HINT, silence, 40.0, "10");
                ui.label(t::SECONDS);
            });
            if let Err(e) = parse_silence(silence) {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            ui.separator();
            if let Some(request) = group_rows(ui, groups, view, running) {
                asked = Some(request);
            }
        });
    asked
}

/// Each group of the list with its state and its Join / Leave / Remove buttons.
fn group_rows(
    ui: &mut Ui,
    groups: &mut Vec<GroupSetting>,
    view: &GroupsView,
    running: bool,
) -> Option<GroupRequest> {
    let mut asked = None;
    if groups.is_empty() {
        ui.weak(t::NO_GROUPS);
    }
    let mut remove = None;
    for (i, g) in groups.iter().enumerate() {
        let join = g.join();
        let name = join
            .as_ref()
            .map_or_else(|_| g.group.clone(), ToString::to_string);
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(&name).monospace());
            let state = match &join {
                Ok(j) if view.is_joined(j) => t::GROUP_JOINED,
                Ok(_) if running => t::GROUP_NOT_JOINED,
                Ok(_) => t::GROUP_AT_BIND,
                Err(_) => "",
            };
            ui.weak(state);
            if let Ok(j) = &join {
                if running && view.is_joined(j) {
                    if named_button(ui, t::LEAVE, &t::leave_group(&name)).clicked() {
                        asked = Some(GroupRequest::Leave(j.clone()));
                    }
                } else if running && named_button(ui, t::JOIN, &t::join_group(&name)).clicked() {
                    asked = Some(GroupRequest::Join(j.clone()));
                }
            }
            if named_button(ui, t::REMOVE_GROUP, &t::remove_group(&name)).clicked() {
                remove = Some(i);
                if let Ok(j) = &join
                    && running
                    && view.is_joined(j)
                {
                    asked = Some(GroupRequest::Leave(j.clone()));
                }
            }
        });
        if let Err(e) = &join {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
    }
    if let Some(i) = remove {
        groups.remove(i);
    }
    asked
}

/// A button whose accessible name says which row it acts on ("Leave 239.1.2.3 on lo"), so that
/// a screen reader (and a test) can tell one row's button from the next.
fn named_button(ui: &mut Ui, text: &str, name: &str) -> Response {
    let response = ui.button(text).on_hover_text(name);
    let name = name.to_owned();
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &name));
    response
}

/// Adds the typed group to the list (and asks to join it now when the socket is open).
fn add_draft(
    groups: &mut Vec<GroupSetting>,
    view: &mut GroupsView,
    running: bool,
) -> Option<GroupRequest> {
    let draft = view.draft.clone();
    let checked = draft
        .join()
        .and_then(|j| check_interface(&draft.interface, &mut view.interfaces).map(|()| j));
    match checked {
        Err(e) => {
            view.draft_error = Some(e);
            None
        }
        Ok(join) => {
            let known = groups.iter().any(|g| g.join().as_ref() == Ok(&join));
            if known && (!running || view.is_joined(&join)) {
                view.draft_error = Some(t::GROUP_TWICE.to_owned());
                return None;
            }
            view.draft_error = None;
            if !known {
                groups.push(draft);
            }
            view.draft.group.clear();
            view.draft.source.clear();
            running.then_some(GroupRequest::Join(join))
        }
    }
}

/// The kind of target a client sends to, for its badge.
pub fn target_kind(target: Option<SocketAddr>) -> Option<multicast::DestinationKind> {
    let ip = target?.ip();
    if ip.is_multicast() {
        Some(multicast::DestinationKind::Group)
    } else if matches!(ip, IpAddr::V4(v4) if v4.is_broadcast() || is_subnet_broadcast(v4)) {
        Some(multicast::DestinationKind::Broadcast)
    } else {
        None
    }
}

/// True when `v4` is the broadcast address of one of this machine's subnets.
fn is_subnet_broadcast(v4: std::net::Ipv4Addr) -> bool {
    multicast::interfaces().is_ok_and(|list| {
        list.iter()
            .flat_map(|i| i.addrs.iter())
            .any(|a| match a.ip {
                IpAddr::V4(ip) if a.prefix < 31 => {
                    u32::from(ip) | (u32::MAX >> a.prefix) == u32::from(v4) && ip != v4
                }
                _ => false,
            })
    })
}
