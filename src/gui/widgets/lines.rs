//! "Chunks or lines": received TCP data either as the chunks each `recv()` returned (the log), or
//! cut into lines the way a file-like reader (`readline`) hands them over, with the unfinished
//! last line shown as still waiting. Switching between the two on the same bytes shows that a
//! stream has no message boundaries: a line may take several reads, one read may hold several
//! lines.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::time::SystemTime;

use egui::{Label, RichText, ScrollArea, Ui};

use crate::engine::payload::to_visible_text;
use crate::engine::{ConnId, Event, EventKind};
use crate::gui::text_teach as tt;

use super::log_view::control_name;
use crate::gui::clock::clock;

/// Complete lines kept; older ones are counted as hidden.
const LINES_KEPT: usize = 10_000;
/// Bytes of complete lines kept: a peer sending long lines (or one endless line, handed over in
/// [`MAX_LINE`] pieces) would otherwise hold `LINES_KEPT` × 64 KiB = 640 MiB.
const LINES_MAX_BYTES: usize = 16 * 1024 * 1024;
/// Longest line kept whole: a peer that never sends a newline must not grow memory without end.
/// A longer line is handed over in pieces of this size, marked as cut (as `readline(limit)` does).
const MAX_LINE: usize = 64 * 1024;
/// Characters of a line laid out.
const SHOWN_CHARS: usize = 400;

/// One line as a reader would get it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// When its last byte arrived.
    pub at: SystemTime,
    /// The connection.
    pub conn: ConnId,
    /// Who sent it.
    pub peer: SocketAddr,
    /// Its bytes, newline included (unless cut).
    pub bytes: Vec<u8>,
    /// How many `recv()` calls it took.
    pub reads: u32,
    /// True when it was handed over at the 64 KiB line limit without a newline.
    pub cut: bool,
}

#[derive(Debug)]
struct Partial {
    peer: SocketAddr,
    bytes: Vec<u8>,
    reads: u32,
}

/// Received bytes reassembled into lines, per connection.
#[derive(Debug, Default)]
pub struct LineAssembler {
    lines: VecDeque<Line>,
    waiting: BTreeMap<ConnId, Partial>,
    kept_bytes: usize,
    hidden: u64,
    /// Show lines instead of chunks.
    pub show_lines: bool,
}

impl LineAssembler {
    /// Adds the bytes of a `Received` event.
    pub fn observe(&mut self, event: &Event) {
        let EventKind::Received { conn, peer, data } = &event.kind else {
            return;
        };
        let partial = self.waiting.entry(*conn).or_insert_with(|| Partial {
            peer: *peer,
            bytes: Vec::new(),
            reads: 0,
        });
        partial.reads += 1;
        let mut rest: &[u8] = data;
        let mut done = Vec::new();
        while !rest.is_empty() {
            let room = MAX_LINE - partial.bytes.len();
            let newline = rest.iter().take(room).position(|&b| b == b'\n');
            let (take, complete, cut) = match newline {
                Some(i) => (i + 1, true, false),
                None if rest.len() >= room => (room, true, true),
                None => (rest.len(), false, false),
            };
            partial.bytes.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if complete {
                done.push(Line {
                    at: event.at,
                    conn: *conn,
                    peer: partial.peer,
                    bytes: std::mem::take(&mut partial.bytes),
                    reads: partial.reads,
                    cut,
                });
                // The rest of this read starts the next line: that read counts for it too.
                partial.reads = u32::from(!rest.is_empty());
            }
        }
        if partial.bytes.is_empty() && partial.reads == 0 {
            self.waiting.remove(conn);
        }
        for line in done {
            self.kept_bytes += line.bytes.len();
            self.lines.push_back(line);
            while self.lines.len() > LINES_KEPT
                || (self.kept_bytes > LINES_MAX_BYTES && self.lines.len() > 1)
            {
                if let Some(old) = self.lines.pop_front() {
                    self.kept_bytes -= old.bytes.len();
                    self.hidden += 1;
                }
            }
        }
    }

    /// The complete lines kept, oldest first.
    pub fn lines(&self) -> impl Iterator<Item = &Line> {
        self.lines.iter()
    }

    /// Each connection's unfinished line (bytes that arrived without a newline yet).
    pub fn waiting(&self) -> impl Iterator<Item = (ConnId, &[u8])> {
        self.waiting
            .iter()
            .filter(|(_, p)| !p.bytes.is_empty())
            .map(|(c, p)| (*c, p.bytes.as_slice()))
    }

    /// Forgets everything (the log was cleared).
    pub fn clear(&mut self) {
        self.lines.clear();
        self.waiting.clear();
        self.kept_bytes = 0;
        self.hidden = 0;
    }

    /// The switch between chunks and lines (`labelled`: after "Received data as:"; without, the
    /// options' tooltips say what they switch).
    pub fn switch_ui(&mut self, ui: &mut Ui, labelled: bool) {
        if labelled {
            ui.label(tt::RECEIVED_AS);
        }
        ui.selectable_value(&mut self.show_lines, false, tt::AS_CHUNKS)
            .on_hover_text(tt::AS_CHUNKS_HINT);
        ui.selectable_value(&mut self.show_lines, true, tt::AS_LINES)
            .on_hover_text(tt::AS_LINES_HINT);
    }

    /// Draws the lines, then the unfinished ones; `server` adds the client number.
    pub fn ui(&self, ui: &mut Ui, id: &str, server: bool) {
        ui.add(Label::new(RichText::new(tt::LINES_EXPLAINED).italics()).wrap());
        if self.hidden > 0 {
            ui.colored_label(ui.visuals().warn_fg_color, tt::lines_hidden(self.hidden));
        }
        let waiting: Vec<(ConnId, &[u8])> = self.waiting().collect();
        if self.lines.is_empty() && waiting.is_empty() {
            ui.weak(tt::LINES_EMPTY);
            return;
        }
        let who = |conn: ConnId| {
            if server {
                format!("#{conn} ")
            } else {
                String::new()
            }
        };
        let warn = ui.visuals().warn_fg_color;
        for (conn, bytes) in &waiting {
            ui.add(
                Label::new(
                    RichText::new(tt::line_waiting(&who(*conn), &shown(bytes), bytes.len()))
                        .monospace()
                        .color(warn),
                )
                .wrap(),
            );
        }
        let row_height = ui.text_style_height(&egui::TextStyle::Monospace);
        ScrollArea::both()
            .id_salt(id)
            .auto_shrink(false)
            .stick_to_bottom(true)
            .show_rows(ui, row_height, self.lines.len(), |ui, rows| {
                for line in rows.filter_map(|i| self.lines.get(i)) {
                    let text = tt::line_row(
                        &clock(line.at),
                        &who(line.conn),
                        &shown(&line.bytes),
                        line.bytes.len(),
                        line.reads,
                        line.cut,
                    );
                    ui.add(Label::new(RichText::new(text).monospace()).extend());
                }
            });
    }
}

/// A line's bytes as text, control characters by name (`<CR><LF>`): the fonts have no control
/// pictures.
fn shown(bytes: &[u8]) -> String {
    to_visible_text(bytes, SHOWN_CHARS)
        .chars()
        .map(|c| control_name(c).map_or_else(|| c.to_string(), |n| format!("<{n}>")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Chunk;

    fn received(bytes: &[u8]) -> Event {
        Event::now(EventKind::Received {
            conn: 1,
            peer: ([127, 0, 0, 1], 5000).into(),
            data: Chunk::from_vec(bytes.to_vec()),
        })
    }

    #[test]
    fn lines_span_reads_and_reads_hold_several_lines() {
        let mut a = LineAssembler::default();
        a.observe(&received(b"hel"));
        a.observe(&received(b"lo\nworld\nhow "));
        let lines: Vec<(&[u8], u32)> = a.lines().map(|l| (l.bytes.as_slice(), l.reads)).collect();
        assert_eq!(lines, [(&b"hello\n"[..], 2), (&b"world\n"[..], 1)]);
        assert_eq!(a.waiting().collect::<Vec<_>>(), [(1, &b"how "[..])]);
        a.observe(&received(b"are you?\n"));
        assert_eq!(a.waiting().count(), 0);
        assert_eq!(a.lines().last().map(|l| l.reads), Some(2));
    }

    #[test]
    fn a_line_without_end_is_cut_at_the_limit() {
        let mut a = LineAssembler::default();
        a.observe(&received(&vec![b'x'; MAX_LINE + 10]));
        let first = a.lines().next().map(|l| (l.bytes.len(), l.cut));
        assert_eq!(first, Some((MAX_LINE, true)));
        assert_eq!(a.waiting().map(|(_, b)| b.len()).sum::<usize>(), 10);
    }

    #[test]
    fn an_endless_line_keeps_a_bounded_number_of_bytes() {
        let mut a = LineAssembler::default();
        let read = vec![b'x'; 64 * 1024];
        // 64 MiB without a newline: a thousand 64 KiB pieces.
        for _ in 0..1024 {
            a.observe(&received(&read));
        }
        let kept: usize = a.lines().map(|l| l.bytes.len()).sum();
        assert!(kept <= LINES_MAX_BYTES, "{kept} bytes kept");
        assert_eq!(a.lines().count() as u64 + a.hidden, 1024);
        assert!(a.lines().all(|l| l.cut));
    }
}
