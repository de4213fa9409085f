//! Pieces every tab uses: validated fields, the message editor, the data log, the transcript and
//! the status line.

pub mod auto_reply;
pub mod capture;
pub mod checklist;
pub mod fields;
pub mod file_send;
pub mod framing;
pub mod generator;
pub mod groups;
pub mod lines;
pub mod log_filter;
pub mod log_view;
pub mod payload_editor;
pub mod periodic;
pub mod saved_messages;
pub mod script_panel;
pub mod sequence;
pub mod throughput;
pub mod tls;
pub mod transcript;

use std::net::SocketAddr;

use egui::{Color32, RichText, Ui};

use crate::gui::text as t;

/// How a state should look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Nothing running.
    Idle,
    /// Waiting for something (connecting, closing).
    Busy,
    /// Up and running.
    Good,
    /// Ended by an error.
    Bad,
}

/// The status line: state (with the reason it ended), local and peer address.
pub fn status_line(
    ui: &mut Ui,
    state: &str,
    tone: Tone,
    local: Option<SocketAddr>,
    peer: Option<SocketAddr>,
) {
    status_line_with(ui, state, tone, local, peer, |_| {});
}

/// The status line with more on the same line (a server's address and its buttons).
pub fn status_line_with(
    ui: &mut Ui,
    state: &str,
    tone: Tone,
    local: Option<SocketAddr>,
    peer: Option<SocketAddr>,
    extra: impl FnOnce(&mut Ui),
) {
    let color = match tone {
        Tone::Idle => ui.visuals().weak_text_color(),
        Tone::Busy => ui.visuals().warn_fg_color,
        Tone::Good => good_color(ui.visuals()),
        Tone::Bad => ui.visuals().error_fg_color,
    };
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(format!("{}:", t::STATUS)).strong());
        ui.label(RichText::new(state).color(color).strong());
        if let Some(local) = local {
            ui.separator();
            ui.label(format!("{} {local}", t::LOCAL));
        }
        if let Some(peer) = peer {
            ui.separator();
            ui.label(format!("{} {peer}", t::PEER));
        }
        extra(ui);
    });
}

/// The colour of "up and running": a green readable on the theme's background (at least 4.5:1).
pub fn good_color(visuals: &egui::Visuals) -> Color32 {
    if visuals.dark_mode {
        Color32::from_rgb(80, 200, 110)
    } else {
        Color32::from_rgb(20, 120, 50)
    }
}

/// The address a server is bound to, with Copy (who can reach it is said beside the bind field;
/// "Open a client to this server" ends the row of buttons).
pub fn server_address_ui(ui: &mut Ui, addr: SocketAddr) {
    // Read on from the state: "listening on 127.0.0.1:9000".
    ui.label(t::ADDRESS);
    ui.label(RichText::new(addr.to_string()).monospace().strong());
    if ui.button(t::COPY).on_hover_text(t::COPY_HINT).clicked() {
        ui.ctx().copy_text(addr.to_string());
    }
}

/// A sentence in the error colour, wrapped, for an error the engine reported.
pub fn error_banner(ui: &mut Ui, text: &str) {
    fields::error_line(ui, text);
}

/// Guidance for a newcomer, in italics.
pub fn guidance(ui: &mut Ui, text: &str) {
    ui.add(egui::Label::new(RichText::new(text).italics()).wrap());
}

/// The data log on the left and the transcript on the right, filling the rest of the tab. The
/// transcript gets about two fifths, within limits that keep both readable.
pub fn side_by_side(ui: &mut Ui, left: impl FnOnce(&mut Ui), right: impl FnOnce(&mut Ui)) {
    let size = ui.available_size();
    let gap = ui.spacing().item_spacing.x * 2.0;
    let right_width = (size.x * 0.42).clamp(220.0, 640.0).min(size.x * 0.6);
    let left_width = (size.x - right_width - gap).max(0.0);
    ui.horizontal_top(|ui| {
        ui.allocate_ui(egui::vec2(left_width, size.y), |ui| {
            ui.set_min_size(egui::vec2(left_width, size.y));
            ui.vertical(left);
        });
        ui.separator();
        ui.allocate_ui(egui::vec2(right_width, size.y), |ui| {
            ui.set_min_size(egui::vec2(right_width, size.y));
            ui.vertical(right);
        });
    });
}

/// A framed badge in `color` with its explanation on hover ("in 2 groups", "not verified").
pub fn badge(ui: &mut Ui, text: &str, color: Color32, hint: &str) -> egui::Response {
    egui::Frame::new()
        .stroke(egui::Stroke::new(1.0, color))
        .corner_radius(4.0)
        .inner_margin(egui::Margin::symmetric(4, 1))
        .show(ui, |ui| ui.label(RichText::new(text).strong().color(color)))
        .response
        .on_hover_text(hint)
}
