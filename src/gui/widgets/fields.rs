//! Labelled input fields that validate as you type: host, bind address, port, numbers.
//!
//! Each field draws its label, its text box and what the text means (`= port 80`) or a short mark;
//! it returns the parsed value or the sentence to show next to it. Parsing reuses the engine's
//! codecs ([`parse_port`], [`normalize_host`]) so the window and the command line agree.

use std::net::IpAddr;

use egui::{Response, TextEdit, Ui};

use crate::engine::lookup::{normalize_host, parse_bind_address};
use crate::engine::services::{PortUse, Protocol, parse_port};
use crate::gui::text as t;

/// Width kept after a bind address for who can reach it (or the invalid mark).
const BADGE_WIDTH: f32 = 150.0;

/// Width kept after a port field for what the port means (`= port 80 (http)`).
const PORT_MEANING_WIDTH: f32 = 96.0;

/// A label and a single-line text box tied to it (screen readers and tests find the box by it).
pub fn labelled_edit(
    ui: &mut Ui,
    label: &str,
    hint: &str,
    value: &mut String,
    width: f32,
    placeholder: &str,
) -> Response {
    let label = ui.label(label).on_hover_text(hint);
    let mut edit = TextEdit::singleline(value).desired_width(width);
    if !placeholder.is_empty() {
        edit = edit.hint_text(placeholder.to_owned());
    }
    let response = ui.add(edit).labelled_by(label.id).on_hover_text(hint);
    if response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
        ui.data_mut(|d| d.insert_temp(submit_id(), true));
    }
    response
}

fn submit_id() -> egui::Id {
    egui::Id::unique("socketlab-field-submitted")
}

/// True (once) if Enter was pressed in a field since the last call: the tab then does what its
/// main button does (Connect, Listen, Bind, Open socket).
pub fn take_submit(ui: &Ui) -> bool {
    ui.data_mut(|d| d.remove_temp::<bool>(submit_id()))
        .unwrap_or(false)
}

/// Shows the sentences of invalid fields, one per line, in the error colour.
pub fn show_errors<'a>(ui: &mut Ui, errors: impl IntoIterator<Item = &'a Option<String>>) {
    for error in errors.into_iter().flatten() {
        error_line(ui, error);
    }
}

/// One sentence in the error colour.
pub fn error_line(ui: &mut Ui, text: &str) {
    let color = ui.visuals().error_fg_color;
    ui.add(egui::Label::new(egui::RichText::new(text).color(color)).wrap());
}

/// The "!" after an invalid field, in a slot of its own width either way, so that a field turning
/// invalid moves nothing after it.
fn mark_invalid(ui: &mut Ui, invalid: bool) {
    let width = ui.text_style_height(&egui::TextStyle::Body) * 0.6;
    fixed_slot(ui, width, |ui| {
        if invalid {
            let color = ui.visuals().error_fg_color;
            ui.colored_label(color, "!")
                .on_hover_text(t::INVALID_MARK_HINT);
        }
    });
}

/// `add` in a slot `width` wide whatever it draws (cut with an ellipsis if longer).
fn fixed_slot(ui: &mut Ui, width: f32, add: impl FnOnce(&mut Ui)) {
    let height = ui.spacing().interact_size.y;
    ui.allocate_ui_with_layout(
        egui::vec2(width, height),
        egui::Layout::left_to_right(egui::Align::Center),
        |ui| {
            ui.set_min_size(egui::vec2(width, height));
            ui.set_max_width(width);
            add(ui);
        },
    );
}

/// A host to connect or send to: a name or an IP literal (brackets allowed). Returns the text to
/// hand to the engine, or the sentence explaining what is wrong.
pub fn host_field(ui: &mut Ui, value: &mut String, enabled: bool) -> Result<String, String> {
    wrap_unit(ui, "host", enabled, |ui| {
        labelled_edit(ui, t::HOST, t::HOST_HINT, value, 160.0, "127.0.0.1");
        let result = normalize_host(value)
            .map(ToOwned::to_owned)
            .map_err(|e| e.plain_sentence());
        mark_invalid(ui, result.is_err());
        result
    })
}

/// A local address to bind: an IP literal of this machine.
pub fn bind_field(ui: &mut Ui, value: &mut String, enabled: bool) -> Result<IpAddr, String> {
    wrap_unit(ui, "bind", enabled, |ui| {
        labelled_edit(ui, t::BIND_ADDRESS, t::BIND_HINT, value, 130.0, "127.0.0.1")
    });
    let result = parse_bind_address(value);
    // The badge or the invalid mark, in one slot: a typo moves no button after the field.
    wrap_unit(ui, "bind-badge", enabled, |ui| {
        fixed_slot(ui, BADGE_WIDTH, |ui| match &result {
            Ok(ip) => exposure_badge(ui, *ip),
            Err(_) => mark_invalid(ui, true),
        });
    });
    result
}

/// Says who can reach a socket bound to `ip`: a loud badge for anything but loopback, because
/// listening on all interfaces exposes the server to every network this computer is on.
pub fn exposure_badge(ui: &mut Ui, ip: IpAddr) {
    let Some(hint) = crate::engine::explain::exposure(ip) else {
        ui.weak(t::ONLY_THIS_COMPUTER)
            .on_hover_text(t::ONLY_THIS_COMPUTER_HINT);
        return;
    };
    let badge = egui::RichText::new(t::REACHABLE_FROM_OTHERS)
        .strong()
        .color(ui.visuals().warn_fg_color);
    egui::Frame::new()
        .stroke(egui::Stroke::new(1.0, ui.visuals().warn_fg_color))
        .corner_radius(4.0)
        .inner_margin(egui::Margin::symmetric(4, 1))
        .show(ui, |ui| ui.label(badge))
        .response
        .on_hover_text(hint);
}

/// The row every tab starts with: an address field (drawn by `address`) and a port field, locked
/// while a session runs, with each field's error shown under the row.
pub fn address_row<A>(
    ui: &mut Ui,
    locked: bool,
    address: impl FnOnce(&mut Ui) -> Result<A, String>,
    port: &mut String,
    proto: Protocol,
    usage: PortUse,
) -> (Result<A, String>, Result<u16, String>) {
    let (address, port) = ui
        .add_enabled_ui(!locked, |ui| {
            ui.horizontal(|ui| {
                let address = address(ui);
                ui.add_space(12.0);
                let port = port_field(ui, port, proto, usage);
                (address, port)
            })
            .inner
        })
        .inner;
    show_errors(
        ui,
        &[
            address.as_ref().err().cloned(),
            port.as_ref().err().cloned(),
        ],
    );
    (address, port)
}

/// A port: a number or a service name; shows what it resolves to.
pub fn port_field(
    ui: &mut Ui,
    value: &mut String,
    proto: Protocol,
    usage: PortUse,
) -> Result<u16, String> {
    let hint = match usage {
        PortUse::Bind => t::PORT_BIND_HINT,
        PortUse::Connect => t::PORT_CONNECT_HINT,
    };
    labelled_edit(ui, t::PORT, hint, value, 70.0, "");
    let parsed = parse_port(value, proto, usage);
    // What the port means, or the invalid mark, in a slot of one width: typing a service name
    // or a bad number moves no button after the field.
    fixed_slot(ui, PORT_MEANING_WIDTH, |ui| match &parsed {
        Ok(spec) => {
            let meaning = t::port_resolves_to(spec.port, spec.service.as_deref(), spec.from_name);
            if !meaning.is_empty() {
                let text = egui::RichText::new(&meaning).color(ui.visuals().weak_text_color());
                ui.add(egui::Label::new(text).truncate())
                    .on_hover_text(meaning);
            }
        }
        Err(_) => mark_invalid(ui, true),
    });
    parsed.map(|spec| spec.port).map_err(|e| e.to_string())
}

/// Parses a whole number in `min..=max` typed into the field labelled `label`.
pub fn parse_number(text: &str, label: &str, min: u64, max: u64) -> Result<u64, String> {
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| t::not_a_number(label, min, max))
}

/// Largest buffer size the option fields accept.
const MAX_BUFFER: u64 = 1 << 30;

/// Parses a buffer size that may be empty ("the system's choice").
pub fn parse_optional_size(text: &str, label: &str) -> Result<Option<usize>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    parse_number(text, label, 1, MAX_BUFFER).map(|n| Some(n as usize))
}

/// A whole number in `min..=max`.
pub fn number_field(
    ui: &mut Ui,
    label: &str,
    hint: &str,
    value: &mut String,
    min: u64,
    max: u64,
) -> Result<u64, String> {
    labelled_edit(ui, label, hint, value, 70.0, "");
    let result = parse_number(value, label, min, max);
    mark_invalid(ui, result.is_err());
    result
}

/// A buffer size that may be left empty for "the system's choice".
pub fn optional_size_field(
    ui: &mut Ui,
    label: &str,
    hint: &str,
    value: &mut String,
) -> Result<Option<usize>, String> {
    labelled_edit(ui, label, hint, value, 110.0, t::SYSTEM_DEFAULT);
    let result = parse_optional_size(value, label);
    mark_invalid(ui, result.is_err());
    result
}

/// The first error among several results, for deciding whether an action button is enabled.
pub fn err_of<T>(result: &Result<T, String>) -> Option<String> {
    result.as_ref().err().cloned()
}

/// The address field of a session's bar: where to connect or send, or what to bind.
pub enum AddressField<'a> {
    /// A host to connect or send to ([`host_field`]).
    Host(&'a mut String),
    /// A local address to bind ([`bind_field`]).
    Bind(&'a mut String),
}

/// The address and port fields side by side, locked while a session runs. Their sentences are
/// not drawn here: the session shows every invalid field's sentence in one reserved line, so
/// nothing below moves when one appears. In a narrow tile each field (with its mark or badge)
/// moves to the next row whole.
pub fn address_fields(
    ui: &mut Ui,
    locked: bool,
    address: AddressField<'_>,
    port: &mut String,
    proto: Protocol,
    usage: PortUse,
) {
    match address {
        AddressField::Host(host) => drop(host_field(ui, host, !locked)),
        AddressField::Bind(bind) => drop(bind_field(ui, bind, !locked)),
    }
    wrap_unit(ui, "port", !locked, |ui| {
        drop(port_field(ui, port, proto, usage));
    });
}

/// Adds `add` (one row of widgets that belong together, such as a label and its field) to a
/// wrapping row as one piece, disabled unless `enabled`: when what is left of the row is
/// narrower than the piece was in the frame before, the piece starts the next row instead of
/// running past the tile's edge (egui wraps single widgets, not groups).
pub fn wrap_unit<R>(ui: &mut Ui, salt: &str, enabled: bool, add: impl FnOnce(&mut Ui) -> R) -> R {
    let id = ui.scope_id().with(("wrap-unit", salt));
    let last_width: Option<f32> = ui.data(|d| d.get_temp(id));
    // What is left of this row (`available_width` is the whole row's in a wrapping layout).
    let left = ui.available_size_before_wrap().x;
    let at_row_start = left >= ui.max_rect().width() - 1.0;
    if let Some(width) = last_width
        && !at_row_start
        && left < width
    {
        ui.end_row();
    }
    let piece = ui.horizontal(|ui| {
        if !enabled {
            ui.disable();
        }
        add(ui)
    });
    let width = piece.response.rect.width();
    ui.data_mut(|d| d.insert_temp(id, width));
    piece.inner
}

/// The host as [`host_field`] parses it, without drawing.
pub fn parse_host(text: &str) -> Result<String, String> {
    normalize_host(text)
        .map(ToOwned::to_owned)
        .map_err(|e| e.plain_sentence())
}

/// The port as [`port_field`] parses it, without drawing.
pub fn parse_port_text(text: &str, proto: Protocol, usage: PortUse) -> Result<u16, String> {
    parse_port(text, proto, usage)
        .map(|spec| spec.port)
        .map_err(|e| e.to_string())
}
