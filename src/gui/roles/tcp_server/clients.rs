//! The TCP server's client table: who is connected, who Send goes to, per-client buttons.

use egui::{RichText, Ui};

use super::{Action, MAX_CLIENTS_CEILING, Target, TcpServer};
use crate::engine::ClientSnapshot;
use crate::gui::clock::clock;
use crate::gui::text as t;
use crate::gui::widgets::fields::number_field;
use crate::gui::widgets::guidance;

/// Height of the client table before it scrolls: about four clients, so the log keeps most of
/// the height however many connect.
const TABLE_HEIGHT: f32 = 96.0;

/// Below this width (a server tile beside a client on a laptop) the table drops the "connected
/// since" column and puts each client's three buttons in one menu, so every row fits its tile.
const FULL_TABLE_WIDTH: f32 = 820.0;

/// In a session shorter than this (a 1280 × 800 screen at 175% leaves about 400 points), the
/// table starts closed: its title still counts the clients, and the line says who Send goes to.
const TALL_ENOUGH_FOR_TABLE: f32 = 520.0;

/// The client count and limit, the Send-to choice and the client table (closed at first in a
/// short session).
pub fn clients_ui(
    server: &mut TcpServer,
    ui: &mut Ui,
    max_clients: &mut String,
    running: bool,
    tile_height: f32,
) -> Option<Action> {
    let mut action = None;
    let mut open = server
        .table_open
        .unwrap_or(tile_height >= TALL_ENOUGH_FOR_TABLE);
    ui.horizontal_wrapped(|ui| {
        let title = format!("{} ({})", t::CLIENTS, server.clients.len());
        if ui
            .toggle_value(&mut open, RichText::new(title).strong())
            .on_hover_text(t::CLIENT_TABLE_HINT)
            .changed()
        {
            server.table_open = Some(open);
        }
        ui.separator();
        // The client limit stays in view and can change while listening, so a flood of
        // connections can be capped without restarting the server.
        let before = max_clients.clone();
        let parsed = number_field(
            ui,
            t::MAX_CLIENTS,
            t::MAX_CLIENTS_HINT,
            max_clients,
            1,
            MAX_CLIENTS_CEILING,
        );
        if running
            && *max_clients != before
            && let Ok(limit) = parsed
        {
            action = Some(Action::SetMaxClients(
                usize::try_from(limit).unwrap_or(usize::MAX),
            ));
        }
        ui.separator();
        ui.label(t::SEND_TO);
        ui.selectable_value(&mut server.target, Target::All, t::SEND_TO_ALL)
            .on_hover_text(t::SELECT_CLIENT_HINT);
        if let Target::Client(id) = server.target
            && let Some(c) = server.clients.iter().find(|c| c.id == id)
        {
            let name = t::client_name(id, &c.peer);
            ui.selectable_value(&mut server.target, Target::Client(id), name);
        }
    });
    if server.clients.is_empty() {
        if server.listening.is_some() {
            guidance(ui, t::TCP_SERVER_NO_CLIENTS);
        }
        return action;
    }
    if !open {
        return action;
    }
    let full = ui.available_width() >= FULL_TABLE_WIDTH;
    egui::ScrollArea::vertical()
        .id_salt("clients")
        .max_height(TABLE_HEIGHT)
        .auto_shrink([false, true])
        .show(ui, |ui| {
            egui::Grid::new("client-grid")
                .striped(true)
                .num_columns(if full { 7 } else { 6 })
                .show(ui, |ui| {
                    for h in [
                        t::COL_CLIENT,
                        t::COL_ADDRESS,
                        t::COL_SINCE,
                        t::COL_IN,
                        t::COL_OUT,
                        t::COL_STATE,
                    ] {
                        if full || h != t::COL_SINCE {
                            ui.strong(h);
                        }
                    }
                    ui.end_row();
                    for c in &server.clients {
                        if let Some(a) = client_row(ui, &mut server.target, c, full) {
                            action = Some(a);
                        }
                        ui.end_row();
                    }
                });
        });
    action
}

fn client_row(ui: &mut Ui, target: &mut Target, c: &ClientSnapshot, full: bool) -> Option<Action> {
    ui.selectable_value(target, Target::Client(c.id), t::client_label(c.id))
        .on_hover_text(t::PICK_CLIENT_HINT);
    ui.monospace(c.peer.to_string());
    if full {
        ui.label(clock(c.since));
    }
    ui.label(c.bytes_in.to_string());
    ui.label(c.bytes_out.to_string());
    let state = match (c.peer_finished, c.write_shut) {
        (true, _) => t::CLIENT_PEER_FINISHED,
        (false, true) => t::CLIENT_WRITE_SHUT,
        (false, false) => t::CLIENT_OPEN,
    };
    ui.label(state);
    if full {
        ui.horizontal(|ui| client_buttons(ui, c, true)).inner
    } else {
        let since = t::connected_since(&clock(c.since));
        ui.menu_button(t::CLIENT_ACTIONS, |ui| {
            ui.weak(since);
            let action = client_buttons(ui, c, false);
            if action.is_some() {
                ui.close();
            }
            action
        })
        .inner
        .flatten()
    }
}

/// Shut down sending, Disconnect and Abort for one client (small buttons in the table's row,
/// ordinary ones in its menu).
fn client_buttons(ui: &mut Ui, c: &ClientSnapshot, small: bool) -> Option<Action> {
    let button = |text: &str| {
        let b = egui::Button::new(text);
        if small { b.small() } else { b }
    };
    let mut action = None;
    if ui
        .add_enabled(!c.write_shut, button(t::SHUTDOWN_WRITE))
        .on_hover_text(t::SHUTDOWN_WRITE_HINT)
        .clicked()
    {
        action = Some(Action::ShutdownWrite(c.id));
    }
    if ui
        .add(button(t::DISCONNECT))
        .on_hover_text(t::CLOSE_HINT)
        .clicked()
    {
        action = Some(Action::Disconnect(c.id));
    }
    if ui
        .add(button(t::ABORT))
        .on_hover_text(t::ABORT_HINT)
        .clicked()
    {
        action = Some(Action::Abort(c.id));
    }
    action
}
