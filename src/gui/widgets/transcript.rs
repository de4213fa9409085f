//! The transcript: every socket call of a tab's session, in order, bounded like the log.

use std::collections::VecDeque;
use std::time::SystemTime;

use egui::{Label, RichText, ScrollArea, Ui};

use crate::engine::explain::{Checklist, Role, explain_event};
use crate::engine::{ConnId, Event, EventKind};
use crate::gui::text as t;
use crate::gui::text_teach as tt;

use super::checklist::checklist_row;

use super::log_view::clock;

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
        // With explanations each row is two lines high (call, then explanation), so every row
        // keeps one height and `show_rows` still lays out only the visible ones.
        let row_height = if self.explain {
            line_height * 2.0 + ui.spacing().item_spacing.y
        } else {
            line_height
        };
        let error = ui.visuals().error_fg_color;
        let weak = ui.visuals().weak_text_color();
        let explain = self.explain;
        ScrollArea::both()
            .id_salt(id)
            .auto_shrink(false)
            .stick_to_bottom(true)
            .show_rows(ui, row_height, self.lines.len(), |ui, rows| {
                for line in rows.filter_map(|i| self.lines.get(i)) {
                    let prefix = match (server, line.conn) {
                        (true, Some(c)) => format!("#{c} "),
                        _ => String::new(),
                    };
                    let mut text =
                        RichText::new(format!("{}  {prefix}{}", clock(line.at), line.text))
                            .monospace();
                    if line.failed {
                        text = text.color(error);
                    }
                    ui.add(Label::new(text).extend());
                    if explain {
                        let why = line.explanation.as_deref().unwrap_or("");
                        ui.add(
                            Label::new(
                                RichText::new(format!("      {}", tt::explained(why)))
                                    .monospace()
                                    .color(weak),
                            )
                            .extend(),
                        );
                    }
                }
            });
    }
}
