//! The transcript: every socket call of a tab's session, in order, bounded like the log.

use std::collections::VecDeque;
use std::time::SystemTime;

use egui::{Label, RichText, ScrollArea, Ui};

use crate::engine::{ConnId, Event, EventKind};
use crate::gui::text as t;

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
}

/// The bounded list of calls.
#[derive(Debug, Default)]
pub struct Transcript {
    lines: VecDeque<TranscriptLine>,
    hidden: u64,
}

impl Transcript {
    /// Adds the event's line if it stands for a socket call.
    pub fn record(&mut self, event: &Event) {
        let Some(text) = event.kind.transcript_line() else {
            return;
        };
        let (conn, failed) = match &event.kind {
            EventKind::Call(call) => (call.conn, call.outcome.is_err()),
            EventKind::Received { conn, .. }
            | EventKind::Sent { conn, .. }
            | EventKind::PeerFinished { conn, .. } => (Some(*conn), false),
            _ => (None, false),
        };
        self.lines.push_back(TranscriptLine {
            at: event.at,
            conn,
            text,
            failed,
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
        });
        if self.hidden > 0 {
            ui.colored_label(ui.visuals().warn_fg_color, t::hidden_entries(self.hidden));
        }
        if self.lines.is_empty() {
            ui.add(Label::new(RichText::new(t::TRANSCRIPT_EMPTY).italics()).wrap());
            return;
        }
        let row_height = ui.text_style_height(&egui::TextStyle::Monospace);
        let error = ui.visuals().error_fg_color;
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
                }
            });
    }
}
