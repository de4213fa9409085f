//! The transcript: every socket call of a tab's session, in order, bounded like the log.

use std::collections::VecDeque;
use std::time::SystemTime;

use egui::{Label, RichText, ScrollArea, Ui};

use crate::engine::explain::{Checklist, Role, explain_event};
use crate::engine::{ConnId, Event, EventKind};
use crate::gui::text as t;
use crate::gui::text_teach as tt;

use super::checklist::checklist_row;

use crate::gui::clock::clock;

/// Lines kept; older ones are counted as hidden.
const TRANSCRIPT_CAP: usize = 20_000;

/// One call.
#[derive(Debug, Clone)]
pub struct TranscriptLine {
    /// When it was made.
    pub at: SystemTime,
    /// The server connection it belongs to.
    pub conn: Option<ConnId>,
    /// The call and its result.
    pub text: String,
    /// True when the call failed.
    pub failed: bool,
    /// What the call does, in plain words.
    pub explanation: Option<String>,
}

/// The bounded list of calls, with the role's step checklist.
#[derive(Debug)]
pub struct Transcript {
    lines: VecDeque<TranscriptLine>,
    hidden: u64,
    /// The steps of this tab's role, ticked from the same events.
    checklist: Option<Checklist>,
    /// Show each call's explanation under it.
    pub explain: bool,
}

impl Default for Transcript {
    fn default() -> Self {
        Transcript {
            lines: VecDeque::new(),
            hidden: 0,
            checklist: None,
            // Newcomers are who the explanations are for; those who know can switch them off.
            explain: true,
        }
    }
}

impl Transcript {
    /// A transcript that also ticks `role`'s steps.
    pub fn for_role(role: Role) -> Self {
        Transcript {
            checklist: Some(Checklist::new(role)),
            ..Transcript::default()
        }
    }

    /// The step checklist, if the transcript has a role.
    pub fn checklist(&self) -> Option<&Checklist> {
        self.checklist.as_ref()
    }

    /// A new session starts: its steps start over (the lines stay, to compare attempts).
    pub fn new_session(&mut self) {
        if let Some(list) = &mut self.checklist {
            list.reset();
        }
    }

    /// Adds the event's line if it stands for a socket call.
    pub fn record(&mut self, event: &Event) {
        if let Some(list) = &mut self.checklist {
            list.observe(&event.kind);
        }
        let Some(text) = event.kind.transcript_line() else {
            return;
        };
        let (conn, failed) = match &event.kind {
            EventKind::Call(call) => (call.conn, call.outcome.is_err()),
            EventKind::Received { conn, .. }
            | EventKind::Sent { conn, .. }
            | EventKind::PeerFinished { conn, .. } => (Some(*conn), false),
            EventKind::FileSend(file) => (
                file.conn,
                matches!(file.stage, crate::engine::FileStage::Failed(_)),
            ),
            _ => (None, false),
        };
        self.lines.push_back(TranscriptLine {
            at: event.at,
            conn,
            text,
            failed,
            explanation: explain_event(&event.kind),
        });
        if self.lines.len() > TRANSCRIPT_CAP {
            self.lines.pop_front();
            self.hidden += 1;
        }
    }

    /// How many lines are kept.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The kept lines, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &TranscriptLine> {
        self.lines.iter()
    }

    /// Empties it.
    pub fn clear(&mut self) {
        self.lines.clear();
        self.hidden = 0;
    }

    /// Draws it; `server` adds the client number before per-connection calls.
    pub fn ui(&mut self, ui: &mut Ui, id: &str, server: bool) {
        ui.horizontal(|ui| {
            ui.strong(t::TRANSCRIPT);
            if ui
                .add_enabled(!self.is_empty(), egui::Button::new(t::CLEAR))
                .on_hover_text(t::TRANSCRIPT)
                .clicked()
            {
                self.clear();
            }
            ui.checkbox(&mut self.explain, tt::EXPLAIN)
                .on_hover_text(tt::EXPLAIN_HINT);
        });
        if let Some(list) = &self.checklist {
            checklist_row(ui, list);
        }
        if self.hidden > 0 {
            ui.colored_label(ui.visuals().warn_fg_color, t::hidden_entries(self.hidden));
        }
        if self.lines.is_empty() {
            ui.add(Label::new(RichText::new(t::TRANSCRIPT_EMPTY).italics()).wrap());
            return;
        }
        let line_height = ui.text_style_height(&egui::TextStyle::Monospace);
        // Each call wraps onto at most two lines (its explanation onto two more), the rest ends
        // in an ellipsis with the whole text on hover: one height for every row keeps
        // `show_rows`, which lays out only the rows on screen.
        let lines_per_row = if self.explain { 4.0 } else { 2.0 };
        let row_height = line_height * lines_per_row + ui.spacing().item_spacing.y;
        let error = ui.visuals().error_fg_color;
        let text_color = ui.visuals().text_color();
        let weak = ui.visuals().weak_text_color();
        let explain = self.explain;
        ScrollArea::vertical()
            .id_salt(id)
            .auto_shrink(false)
            .stick_to_bottom(true)
            .show_rows(ui, row_height, self.lines.len(), |ui, rows| {
                let width = ui.available_width();
                for line in rows.filter_map(|i| self.lines.get(i)) {
                    let prefix = match (server, line.conn) {
                        (true, Some(c)) => format!("#{c} "),
                        _ => String::new(),
                    };
                    let call = format!("{}  {prefix}{}", clock(line.at), line.text);
                    let color = if line.failed { error } else { text_color };
                    let why =
                        explain.then(|| tt::explained(line.explanation.as_deref().unwrap_or("")));
                    ui.allocate_ui(egui::vec2(width, row_height), |ui| {
                        ui.set_min_height(row_height);
                        ui.spacing_mut().item_spacing.y = 0.0;
                        wrapped_two_lines(ui, call, color, width);
                        if let Some(why) = why {
                            wrapped_two_lines(ui, why, weak, width);
                        }
                    });
                }
            });
    }
}

/// `text` wrapped to `width` on at most two lines, ending in an ellipsis if longer (the whole
/// text is the tooltip then).
fn wrapped_two_lines(ui: &mut Ui, text: String, color: egui::Color32, width: f32) {
    let font = egui::TextStyle::Monospace.resolve(ui.style());
    let mut job = egui::text::LayoutJob::simple(text.clone(), font, color, width);
    job.wrap.max_rows = 2;
    job.wrap.overflow_character = Some('…');
    let galley = ui.ctx().fonts_mut(|f| f.layout_job(job));
    let cut = galley.elided;
    let label = ui.add(Label::new(galley));
    if cut {
        label.on_hover_text(text);
    }
}
