//! The skeleton every session is drawn in, log first: a compact connection bar at the top (the
//! role's fields and buttons, one reserved line for invalid fields, the status with counters,
//! one reserved line for notes and errors, the role's target area), the composer docked under
//! the log, the transcript as a resizable side panel, the tools in a drawer beside the log. What
//! appears or disappears (a sentence, a note) has its space reserved, so no button moves.

use egui::{Color32, RichText, Ui};

use super::{AppRequest, Composed, Request, Role, SendRules, SessionTab};
use crate::engine::{Session, Waker};
use crate::gui::activity::chunks_or_lines;
use crate::gui::text as t;
use crate::gui::widgets::file_send::{FileSendAction, file_send_ui};
use crate::gui::widgets::log_view::log_view_filtered;
use crate::gui::widgets::payload_editor::{payload_editor, session_preview};
use crate::gui::widgets::periodic::periodic_ui;
use crate::gui::widgets::saved_messages::saved_messages_ui;
use crate::gui::widgets::sequence::sequence_section;
use crate::gui::widgets::throughput::throughput_ui;
use crate::gui::widgets::{server_address_ui, status_line_with};

/// Draws a session and carries out what was clicked; returns what it asks of the window.
pub fn session_ui<R: Role>(
    tab: &mut SessionTab<R>,
    ui: &mut Ui,
    waker: &Waker,
) -> Option<AppRequest> {
    // The budget is changed on the log itself; the settings remember it.
    R::common_mut(&mut tab.settings).log_budget_mib = tab.activity.log_budget_mib();
    let mut asked: Option<Request<R>> = None;
    let mut app = None;
    ui.push_id(("session", tab.id), |ui| {
        // Beside a log narrower than this the socket calls would leave no room for the data, so
        // a narrow tile (two sessions side by side on a laptop) starts without them.
        let calls = tab
            .calls_shown
            .unwrap_or(ui.available_width() >= WIDE_ENOUGH_FOR_CALLS);
        tab.calls_visible = calls;
        let tile_height = ui.available_height();
        egui::Panel::top("bar").show(ui, |ui| {
            let (request, open_client) = bar(tab, ui, tile_height);
            asked = request.or(asked.take());
            app = open_client.and_then(|addr| tab.role.app_request(addr));
        });
        let rules = tab
            .role
            .send_rules(&tab.settings, &tab.phase, tab.is_running());
        egui::Panel::bottom("composer").show(ui, |ui| {
            let preview = session_preview(tab.session.as_ref());
            let editor = &mut R::common_mut(&mut tab.settings).editor;
            if let Some(message) = payload_editor(ui, editor, rules.editor.as_deref(), &preview) {
                asked = Some(Request::Compose(Composed::Send(message)));
            }
        });
        if tab.tools_open {
            egui::Panel::right("tools")
                .resizable(true)
                .default_size(330.0)
                .size_range(220.0..=640.0)
                .show(ui, |ui| {
                    if let Some(request) = tools(tab, ui, &rules, waker) {
                        asked = Some(request);
                    }
                });
        }
        if calls {
            let transcript_width = (ui.available_width() * 0.36).clamp(200.0, 560.0);
            egui::Panel::right("transcript")
                .resizable(true)
                .default_size(transcript_width)
                .size_range(160.0..=900.0)
                .show(ui, |ui| {
                    let server = R::KIND == super::SessionKind::TcpServer;
                    tab.activity.transcript.ui(ui, "transcript-rows", server);
                });
        }
        // The panels above and below already keep the log off their edges; a full central
        // margin would cost a log row at 175%.
        let log_frame = egui::Frame::central_panel(ui.style())
            .inner_margin(egui::Margin::symmetric(8, LOG_MARGIN_Y));
        egui::CentralPanel::default()
            .frame(log_frame)
            .show(ui, |ui| log(tab, ui));
    });
    if let Some(request) = asked {
        tab.perform(request, waker);
    }
    app
}

/// The connection bar; returns the request and the server address whose client was asked for.
fn bar<R: Role>(
    tab: &mut SessionTab<R>,
    ui: &mut Ui,
    tile_height: f32,
) -> (Option<Request<R>>, Option<std::net::SocketAddr>) {
    let running = tab.is_running();
    let checked = R::validate(&tab.settings);
    let mut asked = None;
    let mut open_client = None;
    let server_kind = matches!(
        R::KIND,
        super::SessionKind::TcpServer | super::SessionKind::UdpServer
    );
    // The drawer and panel toggles end the row of buttons rather than the status line: at a
    // large zoom the status then keeps to one line, and the log keeps that line.
    let mut calls = tab.calls_visible;
    ui.horizontal_wrapped(|ui| {
        asked = tab.role.bar_ui(
            ui,
            &mut tab.settings,
            &tab.phase,
            running,
            checked.as_ref().ok(),
        );
        if let Some(served) = server_kind.then(|| tab.role.served()) {
            // There from the start, usable once listening: nothing moves when it becomes so.
            if ui
                .add_enabled(served.is_some(), egui::Button::new(t::USE_IN_CLIENT))
                .on_hover_text(t::USE_IN_CLIENT_HINT)
                .on_disabled_hover_text(t::USE_IN_CLIENT_WAITS)
                .clicked()
            {
                open_client = served;
            }
        }
        ui.separator();
        ui.toggle_value(&mut tab.tools_open, t::TOOLS)
            .on_hover_text(t::TOOLS_HINT);
        if ui
            .toggle_value(&mut calls, t::CALLS)
            .on_hover_text(t::CALLS_HINT)
            .changed()
        {
            tab.calls_shown = Some(calls);
        }
    });
    let problems = checked.err().unwrap_or_default();
    let (state, tone) = tab.state_text();
    let (local, peer) = tab.role.addresses();
    let served = tab.role.served();
    let counters = tab.activity.counters;
    status_line_with(ui, &state, tone, local, peer, |ui| {
        if let Some(addr) = served {
            server_address_ui(ui, addr);
        }
        ui.separator();
        let c = counters;
        let (reads, writes) = if R::DATAGRAMS {
            (c.datagrams_in, c.datagrams_out)
        } else {
            (c.reads, c.writes)
        };
        // Each direction stays whole: a narrow tile moves it to the next line rather than
        // breaking "in 2 writes" away from its bytes.
        let [inward, outward] = t::counters(c.bytes_in, reads, c.bytes_out, writes, R::DATAGRAMS);
        ui.add(egui::Label::new(inward).extend());
        ui.label("·");
        ui.add(egui::Label::new(outward).extend());
    });
    // One reserved line: what is wrong with a field first, else the notes and the last error.
    reserved_line(ui, |ui| {
        if let Some(first) = problems.first() {
            let all = problems.join("\n");
            let color = ui.visuals().error_fg_color;
            let text = if problems.len() > 1 {
                t::more_problems(first, problems.len() - 1)
            } else {
                first.clone()
            };
            ui.add(egui::Label::new(RichText::new(text).color(color)).truncate())
                .on_hover_text(all);
            return;
        }
        tab.role.notes_ui(ui, &tab.phase, &counters);
        if let Some(waiting) = tab.activity.waiting_note() {
            ui.weak(waiting)
                .on_hover_text(crate::gui::text_tools::WAITING_HINT);
        }
        if let Some(error) = &tab.activity.error {
            let color = ui.visuals().error_fg_color;
            ui.add(egui::Label::new(RichText::new(error).color(color)).truncate())
                .on_hover_text(error);
        }
    });
    if let Some(action) = tab
        .role
        .target_ui(ui, &mut tab.settings, running, tile_height)
    {
        asked = Some(Request::Role(action));
    }
    ui.add_space(2.0);
    (asked, open_client)
}

/// The log's margin above and below, points.
const LOG_MARGIN_Y: i8 = 3;

/// The tile width from which the socket calls are shown beside the log unless the user chose.
const WIDE_ENOUGH_FOR_CALLS: f32 = 900.0;

/// One line of fixed height (a sentence that appears or goes does not move what is below);
/// what does not fit is cut with an ellipsis and shown in full on hover.
fn reserved_line(ui: &mut Ui, add: impl FnOnce(&mut Ui)) {
    let height = ui.text_style_height(&egui::TextStyle::Body) + ui.spacing().item_spacing.y;
    let width = ui.available_width();
    let (rect, _) = ui.allocate_exact_size(egui::vec2(width, height), egui::Sense::hover());
    let mut line = ui.new_child(
        egui::UiBuilder::new()
            .max_rect(rect)
            .layout(egui::Layout::left_to_right(egui::Align::Center)),
    );
    line.set_clip_rect(rect.intersect(ui.clip_rect()));
    add(&mut line);
}

/// The drawer: socket options and the role's tools, saved messages, repeat, file, charts.
fn tools<R: Role>(
    tab: &mut SessionTab<R>,
    ui: &mut Ui,
    rules: &SendRules,
    waker: &Waker,
) -> Option<Request<R>> {
    let running = tab.is_running();
    let mut asked = None;
    egui::ScrollArea::vertical()
        .id_salt("tools-scroll")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            egui::CollapsingHeader::new(t::OPTIONS)
                .id_salt("options")
                .show(ui, |ui| {
                    if let Some(action) = tab.role.options_ui(ui, &mut tab.settings, running) {
                        asked = Some(Request::Role(action));
                    }
                });
            if let Some(action) = tab.role.extra_tools_ui(ui, &mut tab.settings, running) {
                asked = Some(Request::Role(action));
            }
            if let Some(composed) = composer_tools(tab, ui, rules) {
                asked = Some(Request::Compose(composed));
            }
            let target = R::validate(&tab.settings)
                .ok()
                .map(|c| R::generator_target(&c));
            if let Some(target) = match target {
                Some(Some(t)) => Some(Ok(t)),
                None if R::KIND.is_client() => {
                    Some(Err(crate::gui::text_tools::GEN_NEEDS_TARGET.to_owned()))
                }
                Some(None) | None => None,
            } {
                let settings = &mut R::common_mut(&mut tab.settings).generator;
                tab.generator.ui(ui, settings, target, waker);
            }
            let script = &mut R::common_mut(&mut tab.settings).script;
            tab.script.ui(ui, script, waker);
            throughput_ui(
                ui,
                "throughput",
                &tab.activity.throughput,
                tab.activity.counters,
                running,
            );
            // The selected client's connection (or the newest one) as a sequence diagram.
            let conn = tab.role.sequence_conn();
            sequence_section(ui, tab.activity.sequence.as_ref(), conn);
        });
    asked
}

/// Saved messages, repeat and file send.
fn composer_tools<R: Role>(
    tab: &mut SessionTab<R>,
    ui: &mut Ui,
    rules: &SendRules,
) -> Option<Composed> {
    let mut composed = None;
    let periodic_status = tab.session.as_ref().and_then(Session::periodic);
    let common = R::common_mut(&mut tab.settings);
    if let Some(message) = saved_messages_ui(
        ui,
        "saved",
        &mut common.saved,
        &mut common.editor,
        rules.blocked.as_deref(),
    ) {
        composed = Some(Composed::Send(message));
    }
    ui.separator();
    if let Some(repeat) = periodic_ui(
        ui,
        &mut common.periodic,
        &common.editor,
        periodic_status,
        rules.repeat.as_deref(),
    ) {
        composed = Some(Composed::Repeat(repeat));
    }
    ui.separator();
    if let Some(file) = file_send_ui(
        ui,
        "file",
        &mut common.file,
        &mut tab.activity.files,
        rules.file.as_deref(),
        rules.file_target,
    ) {
        composed = Some(match file {
            FileSendAction::Send { path, udp } => Composed::SendFile { path, udp },
            FileSendAction::Cancel => Composed::CancelFile,
        });
    }
    ui.separator();
    composed
}

/// The log (for TCP with the switch between chunks and lines).
fn log<R: Role>(tab: &mut SessionTab<R>, ui: &mut Ui) {
    let empty = if tab.is_running() {
        t::LOG_EMPTY_RUNNING
    } else {
        R::EMPTY_LOG
    };
    let server = R::KIND == super::SessionKind::TcpServer;
    let activity = &mut tab.activity;
    let hex = &mut R::common_mut(&mut tab.settings).hex;
    chunks_or_lines(ui, &mut activity.lines, "log-lines", server, |ui, lead| {
        log_view_filtered(
            ui,
            "log",
            &mut activity.log,
            &mut activity.selected,
            hex,
            empty,
            &mut activity.filter,
            lead,
        );
        activity.log.is_empty()
    });
}

/// The colour of a state dot.
pub fn dot_color(visuals: &egui::Visuals, dot: super::Dot) -> Color32 {
    match dot {
        super::Dot::Idle => visuals.weak_text_color(),
        super::Dot::Running => crate::gui::widgets::good_color(visuals),
        super::Dot::Error => visuals.error_fg_color,
    }
}
