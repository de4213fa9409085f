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
    wrap: Wrapping,
}

impl Default for Transcript {
    fn default() -> Self {
        Transcript {
            lines: VecDeque::new(),
            hidden: 0,
            checklist: None,
            // Newcomers are who the explanations are for; those who know can switch them off.
            explain: true,
            wrap: Wrapping::default(),
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
            self.wrap.pop_front();
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
        self.wrap = Wrapping::default();
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
        let font = egui::TextStyle::Monospace.resolve(ui.style());
        let (line_height, char_width) =
            ui.fonts_mut(|f| (f.row_height(&font), f.glyph_width(&font, 'x')));
        let gap = ui.spacing().item_spacing.y;
        let error = ui.visuals().error_fg_color;
        let text_color = ui.visuals().text_color();
        let weak = ui.visuals().weak_text_color();
        ScrollArea::vertical()
            .id_salt(id)
            .auto_shrink(false)
            .stick_to_bottom(true)
            .show_viewport(ui, |ui, viewport| {
                let width = ui.available_width();
                let columns = (width / char_width.max(1.0)).floor().max(8.0) as usize;
                self.wrap.update(&self.lines, columns, self.explain, server);
                let top = |i: usize| self.wrap.top(i, line_height, gap);
                let count = self.lines.len();
                ui.set_height((top(count) - gap).max(0.0));
                let first = self.wrap.first_below(viewport.min.y, line_height, gap);
                let origin = ui.max_rect().min;
                for i in first..count {
                    let y = top(i);
                    if y > viewport.max.y {
                        break;
                    }
                    let Some(line) = self.lines.get(i) else { break };
                    let (call, why) = entry_texts(line, server, self.explain);
                    let color = if line.failed { error } else { text_color };
                    let rect = egui::Rect::from_min_size(
                        origin + egui::vec2(0.0, y),
                        egui::vec2(width, top(i + 1) - y - gap),
                    );
                    let mut rows = ui.new_child(egui::UiBuilder::new().max_rect(rect));
                    rows.spacing_mut().item_spacing.y = 0.0;
                    wrapped(&mut rows, &call, color, columns, &font);
                    if let Some(why) = why {
                        wrapped(&mut rows, &why, weak, columns, &font);
                    }
                }
            });
    }
}

/// The call line and (when explanations are on) the explanation of one transcript entry.
fn entry_texts(line: &TranscriptLine, server: bool, explain: bool) -> (String, Option<String>) {
    let prefix = match (server, line.conn) {
        (true, Some(c)) => format!("#{c} "),
        _ => String::new(),
    };
    let call = format!("{}  {prefix}{}", clock(line.at), line.text);
    let why = line
        .explanation
        .as_deref()
        .filter(|why| explain && !why.is_empty())
        .map(tt::explained);
    (call, why)
}

/// Where each entry starts when every one is wrapped to `columns` characters: the panel's lines
/// all wrap in full (nothing is cut off), yet only the entries on screen are laid out. The font
/// is monospace, so a line's wrapped height is known from its characters alone.
#[derive(Debug, Default)]
struct Wrapping {
    /// What the counts below were made for: columns, explanations shown, server numbering.
    key: Option<(usize, bool, bool)>,
    /// Text rows of each kept entry, oldest first (may lag behind the entries until drawn).
    rows: VecDeque<u32>,
    /// `starts[i]`: text rows above entry `i`; one more than there are entries.
    starts: Vec<u32>,
}

impl Wrapping {
    /// Brings the counts up to date with `lines` wrapped to `columns`.
    fn update(
        &mut self,
        lines: &VecDeque<TranscriptLine>,
        columns: usize,
        explain: bool,
        server: bool,
    ) {
        let key = Some((columns, explain, server));
        if self.key != key || self.rows.len() > lines.len() {
            self.key = key;
            self.rows.clear();
        }
        let known = self.rows.len();
        if known == lines.len() && self.starts.len() == known + 1 {
            return;
        }
        for line in lines.iter().skip(known) {
            let (call, why) = entry_texts(line, server, explain);
            let count =
                wrap_lines(&call, columns).len() + why.map_or(0, |w| wrap_lines(&w, columns).len());
            self.rows
                .push_back(u32::try_from(count).unwrap_or(u32::MAX));
        }
        self.starts.clear();
        self.starts.reserve(self.rows.len() + 1);
        let mut total = 0_u32;
        self.starts.push(0);
        for n in &self.rows {
            total = total.saturating_add(*n);
            self.starts.push(total);
        }
    }

    /// A line was dropped from the front of the transcript.
    fn pop_front(&mut self) {
        if self.rows.pop_front().is_some() {
            // The prefix sums shift; `update` rebuilds them.
            self.starts.clear();
        }
    }

    /// The top of entry `i` in the scroll area.
    fn top(&self, i: usize, line_height: f32, gap: f32) -> f32 {
        let rows = self
            .starts
            .get(i)
            .or(self.starts.last())
            .copied()
            .unwrap_or(0);
        rows as f32 * line_height + i as f32 * gap
    }

    /// The first entry whose bottom is below `y`.
    fn first_below(&self, y: f32, line_height: f32, gap: f32) -> usize {
        let count = self.starts.len().saturating_sub(1);
        let (mut lo, mut hi) = (0, count);
        while lo < hi {
            let mid = usize::midpoint(lo, hi);
            if self.top(mid + 1, line_height, gap) <= y {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }
}

/// `text` broken into lines of at most `columns` characters, at spaces where it can be (a word
/// longer than a line is cut).
fn wrap_lines(text: &str, columns: usize) -> Vec<String> {
    let columns = columns.max(1);
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut used = 0;
    for word in text.split(' ') {
        let mut word_chars: Vec<char> = word.chars().collect();
        let gap = usize::from(used > 0);
        if used + gap + word_chars.len() <= columns {
            if gap == 1 {
                current.push(' ');
            }
            current.extend(&word_chars);
            used += gap + word_chars.len();
            continue;
        }
        if used > 0 {
            lines.push(std::mem::take(&mut current));
        }
        while word_chars.len() > columns {
            let rest = word_chars.split_off(columns);
            lines.push(word_chars.into_iter().collect());
            word_chars = rest;
        }
        current.extend(&word_chars);
        used = word_chars.len();
    }
    if used > 0 || lines.is_empty() {
        lines.push(current);
    }
    lines
}

/// `text` wrapped to `columns` in full. Painted from its wrapped lines; to assistive technology
/// (and the tests) it is the one unbroken text.
fn wrapped(ui: &mut Ui, text: &str, color: egui::Color32, columns: usize, font: &egui::FontId) {
    let job = egui::text::LayoutJob::simple(
        wrap_lines(text, columns).join("\n"),
        font.clone(),
        color,
        f32::INFINITY,
    );
    let galley = ui.fonts_mut(|f| f.layout_job(job));
    let (rect, response) = ui.allocate_exact_size(galley.size(), egui::Sense::hover());
    response.widget_info(|| {
        egui::WidgetInfo::labeled(egui::accesskit::Role::Label, ui.is_enabled(), text)
    });
    if ui.is_rect_visible(rect) {
        ui.painter().galley(rect.min, galley, color);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_break_at_spaces_and_a_long_word_is_cut() {
        assert_eq!(wrap_lines("abc def gh", 7), ["abc def", "gh"]);
        assert_eq!(wrap_lines("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap_lines("a abcdefgh", 4), ["a", "abcd", "efgh"]);
        assert_eq!(wrap_lines("", 4), [""]);
        assert_eq!(
            wrap_lines("→ ↳ —", 3),
            ["→ ↳", "—"],
            "characters, not bytes"
        );
        let text = "recv returned what had arrived — a stream has no message boundaries";
        let lines = wrap_lines(text, 20);
        assert!(lines.iter().all(|l| l.chars().count() <= 20), "{lines:?}");
        assert_eq!(lines.join(" "), text, "nothing is lost");
    }

    fn line(text: &str, why: &str) -> TranscriptLine {
        TranscriptLine {
            at: SystemTime::UNIX_EPOCH,
            conn: None,
            text: text.to_owned(),
            failed: false,
            explanation: Some(why.to_owned()),
        }
    }

    #[test]
    fn entries_start_below_the_wrapped_rows_of_the_ones_before() {
        let mut lines = VecDeque::new();
        lines.push_back(line("short", ""));
        lines.push_back(line(
            "a call",
            "an explanation that needs three rows at twenty",
        ));
        let mut wrap = Wrapping::default();
        wrap.update(&lines, 20, true, false);
        // "HH:MM:SS.mmm  short" fits one row; the second call one row, its explanation three.
        assert_eq!(wrap.starts, [0, 1, 5]);
        assert!((wrap.top(1, 10.0, 2.0) - 12.0).abs() < 1e-6);
        assert_eq!(wrap.first_below(0.0, 10.0, 2.0), 0);
        assert_eq!(wrap.first_below(12.5, 10.0, 2.0), 1);
        // The first line leaves at the cap: the counts follow.
        lines.pop_front();
        wrap.pop_front();
        wrap.update(&lines, 20, true, false);
        assert_eq!(wrap.starts, [0, 4]);
        // Explanations off: only the calls.
        wrap.update(&lines, 20, false, false);
        assert_eq!(wrap.starts, [0, 1]);
    }
}
