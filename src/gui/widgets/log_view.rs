//! The data log: one row per read, write, datagram or note. Only the visible rows are laid out
//! (`show_rows`), so 1,000,000 entries scroll as smoothly as ten.

use egui::text::{LayoutJob, TextFormat};
use egui::{Color32, FontId, Label, RichText, ScrollArea, Ui};

use crate::engine::encoding::{TextEncoding, decode};
use crate::engine::log_store::{Direction, LogEntry, LogStore};
use crate::engine::multicast::DestinationKind;
use crate::engine::payload::{
    HEX_DUMP_WIDTH, hex_dump_line, to_hex, to_visible_text, visible_char, visible_prefix_len,
};
use crate::gui::text as t;

use super::log_filter::{LogFilter, log_filter_ui};
use super::payload_editor::encoding_choice;

/// Characters of a row's content laid out: more than any window is wide.
const ROW_TEXT_CHARS: usize = 400;
/// Bytes of a row's content shown in hex.
const ROW_HEX_BYTES: usize = 160;

use std::time::SystemTime;

use crate::gui::clock::clock;

/// The text of one row.
pub fn row_text(entry: &LogEntry, hex: bool) -> String {
    row_text_in(entry, hex, TextEncoding::Utf8)
}

/// Bytes decoded in `encoding`, control and invisible format characters made visible exactly as
/// in [`to_visible_text`]; bytes the encoding does not define show as U+FFFD (drawn as `?`).
pub fn visible_decoded(bytes: &[u8], encoding: TextEncoding, max_chars: usize) -> String {
    if encoding == TextEncoding::Utf8 {
        return to_visible_text(bytes, max_chars);
    }
    let (text, _) = decode(bytes, encoding);
    let mut chars = text.chars();
    let mut out: String = chars.by_ref().take(max_chars).map(visible_char).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

/// The text of one row, its data decoded in `encoding`.
pub fn row_text_in(entry: &LogEntry, hex: bool, encoding: TextEncoding) -> String {
    let peer = entry.peer.map_or_else(String::new, |p| p.to_string());
    if entry.direction == Direction::Note {
        return format!(
            "{}  {:<6}  {}",
            clock(entry.at),
            t::DIR_NOTE,
            String::from_utf8_lossy(&entry.preview)
        );
    }
    let dir = match entry.direction {
        Direction::In => t::DIR_IN,
        Direction::Out => t::DIR_OUT,
        Direction::Echo | Direction::Note => t::DIR_ECHO,
    };
    // A long entry (a 64 KiB read, a line that never ends) is shortened here, so no row lays
    // out more than a window is wide; the row says how much it left out, and its hex dump
    // (click the row) shows every byte kept.
    let (content, more) = if hex {
        let shown = entry.preview.len().min(ROW_HEX_BYTES);
        (to_hex(&entry.preview[..shown]), entry.len - shown)
    } else if encoding == TextEncoding::Utf8 {
        let shown = visible_prefix_len(&entry.preview, ROW_TEXT_CHARS);
        (
            visible_decoded(&entry.preview, encoding, ROW_TEXT_CHARS),
            entry.len - shown,
        )
    } else {
        // A legacy encoding decodes a variable number of bytes per character: the row says
        // whether it was cut, and the byte count only when the preview itself was.
        let text = visible_decoded(&entry.preview, encoding, ROW_TEXT_CHARS);
        let more = if text.ends_with('…') || entry.is_truncated() {
            entry.len - entry.preview.len()
        } else {
            0
        };
        (text, more)
    };
    let more = match (more, content.ends_with('…')) {
        (0, _) => String::new(),
        (n, true) => format!(" {}", t::row_more(n)),
        (n, false) => format!(" … {}", t::row_more(n)),
    };
    // A datagram to a group or a broadcast address says so before its data; one to this
    // machine's own address reads as every other row.
    let to = match entry.to {
        Some(DestinationKind::Group) => t::ROW_TO_GROUP,
        Some(DestinationKind::Broadcast) => t::ROW_TO_BROADCAST,
        Some(DestinationKind::ThisHost) | None => "",
    };
    let framed = entry.framed.map_or_else(String::new, |f| {
        format!(" ({})", crate::gui::text_tools::framed_tag(f))
    });
    format!(
        "{}  {:<6}  {:<22} {:>8}{framed}  {to}{content}{more}",
        clock(entry.at),
        dir,
        peer,
        t::row_bytes(entry.len)
    )
}

/// Short names of the C0 control characters, indexed by code, for the control pictures
/// (U+2400 + code) that [`to_visible_text`] produces: the bundled fonts have no glyphs for those
/// pictures, so the log draws each as a small highlighted name instead (`CR` `LF`), like editors
/// that show control characters do.
const C0_NAMES: [&str; 32] = [
    "NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF", "VT", "FF", "CR",
    "SO", "SI", "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB", "ESC",
    "FS", "GS", "RS", "US",
];

/// The name to draw for a control picture or replacement mark, if `c` is one.
pub fn control_name(c: char) -> Option<&'static str> {
    match c as u32 {
        n @ 0x2400..=0x241f => C0_NAMES.get((n - 0x2400) as usize).copied(),
        0x2421 => Some("DEL"),
        0xfffd => Some("?"),
        _ => None,
    }
}

/// Lays out a row: ordinary text in `color`, control pictures as highlighted short names.
pub fn row_job(text: &str, color: Color32, chip: Color32) -> LayoutJob {
    let font = FontId::monospace(13.0);
    let plain = TextFormat::simple(font.clone(), color);
    let marked = TextFormat {
        font_id: FontId::monospace(10.0),
        color,
        background: chip,
        valign: egui::Align::Center,
        ..TextFormat::default()
    };
    let gap = TextFormat::simple(FontId::monospace(6.0), color);
    let mut job = LayoutJob::default();
    let mut run = String::new();
    for c in text.chars() {
        if let Some(name) = control_name(c) {
            // A narrow plain space keeps neighbouring names apart ("CR LF", not "CRLF"), and
            // lets screen readers and searches see separate words.
            if !run.is_empty() {
                job.append(&std::mem::take(&mut run), 0.0, plain.clone());
            }
            job.append(" ", 0.0, gap.clone());
            job.append(name, 0.0, marked.clone());
        } else {
            run.push(c);
        }
    }
    if !run.is_empty() {
        job.append(&run, 0.0, plain);
    }
    job
}

/// Space between two log rows, points.
const ROW_GAP: f32 = 1.0;

fn row_color(ui: &Ui, direction: Direction) -> Color32 {
    crate::gui::theme::direction_color(ui.visuals(), direction)
}

/// Draws the log with its header (display choice, Clear). `empty` is the guidance shown while
/// there is nothing to list. The header's Clear empties the view (not the counters).
pub fn log_view(
    ui: &mut Ui,
    id: &str,
    log: &mut LogStore,
    selected: &mut Option<LogEntry>,
    hex: &mut bool,
    empty: &str,
) {
    log_view_with(ui, id, log, selected, hex, empty, None, &mut |_| false);
}

/// [`log_view`] with search, filter, decoding and export behind the header's "Find, export,
/// memory"; `lead` draws what starts the header row (a TCP session's chunks-or-lines switch)
/// and says whether it drew anything.
#[allow(
    clippy::too_many_arguments,
    reason = "the log's parts live in different fields of the session's activity"
)]
pub fn log_view_filtered(
    ui: &mut Ui,
    id: &str,
    log: &mut LogStore,
    selected: &mut Option<LogEntry>,
    hex: &mut bool,
    empty: &str,
    filter: &mut LogFilter,
    lead: &mut dyn FnMut(&mut Ui) -> bool,
) {
    log_view_with(ui, id, log, selected, hex, empty, Some(filter), lead);
}

#[allow(
    clippy::too_many_arguments,
    reason = "the log's parts live in different fields of the session's activity"
)]
fn log_view_with(
    ui: &mut Ui,
    id: &str,
    log: &mut LogStore,
    selected: &mut Option<LogEntry>,
    hex: &mut bool,
    empty: &str,
    mut filter: Option<&mut LogFilter>,
    lead: &mut dyn FnMut(&mut Ui) -> bool,
) {
    // One row, so that the log keeps the height (at 175% too): the rarer display choices
    // (decoding) sit with find and export.
    ui.horizontal_wrapped(|ui| {
        if !lead(ui) {
            ui.strong(t::LOG);
        }
        ui.separator();
        ui.selectable_value(hex, false, t::SHOW_TEXT)
            .on_hover_text(t::SHOW_AS_HINT);
        ui.selectable_value(hex, true, t::SHOW_HEX)
            .on_hover_text(t::SHOW_AS_HINT);
        ui.separator();
        if ui
            .add_enabled(
                !log.is_empty() || log.hidden() > 0,
                egui::Button::new(t::CLEAR),
            )
            .clicked()
        {
            log.clear();
        }
        if let Some(filter) = filter.as_deref_mut() {
            ui.separator();
            ui.toggle_value(&mut filter.shown, t::LOG_TOOLS)
                .on_hover_text(t::LOG_TOOLS_HINT);
        }
    });
    if log.hidden() > 0 {
        ui.colored_label(ui.visuals().warn_fg_color, t::hidden_entries(log.hidden()));
    }
    // Find, export and the memory budget take rows the log needs: they open on demand (and stay
    // while a filter hides rows, so a filtered log always says so).
    match filter.as_deref_mut() {
        Some(filter) if filter.shown || filter.is_active() => {
            ui.horizontal_wrapped(|ui| {
                encoding_choice(
                    ui,
                    &format!("{id}-encoding"),
                    t::SHOW_ENCODING,
                    t::SHOW_ENCODING_HINT,
                    &mut filter.display_encoding,
                );
                ui.separator();
                budget_ui(ui, log);
            });
            log_filter_ui(ui, id, filter, log, *hex);
        }
        Some(_) => {}
        None => {
            ui.horizontal_wrapped(|ui| budget_ui(ui, log));
        }
    }
    if log.is_empty() {
        ui.add(Label::new(RichText::new(empty).italics()).wrap());
        return;
    }
    let encoding = filter
        .as_deref()
        .map_or(TextEncoding::Utf8, |f| f.display_encoding);
    // Only an active filter costs anything: it scans rows added since the last frame.
    let mut filter = filter.filter(|f| f.is_active());
    let row_count = match filter.as_deref_mut() {
        Some(f) => {
            let shown = f.refresh(log);
            ui.weak(t::filter_matches(shown, log.len()));
            shown
        }
        None => log.len(),
    };
    let filter = filter.as_deref();
    let row_height = ui.text_style_height(&egui::TextStyle::Monospace);
    let details_height = if selected.is_some() { 190.0 } else { 0.0 };
    let picked = selected.as_ref().map(|e| (e.at, e.len, e.direction));
    // Rows as close as a terminal's (the font's own line height and one point): the log is what
    // the window is for, and at a large zoom every row counts.
    ui.spacing_mut().item_spacing.y = ROW_GAP;
    ScrollArea::vertical()
        .id_salt(id)
        .auto_shrink(false)
        .stick_to_bottom(true)
        .max_height((ui.available_height() - details_height).max(row_height * 3.0))
        .show_rows(ui, row_height, row_count, |ui, rows| {
            for index in rows {
                let entry = match filter {
                    Some(f) => f.shown(log, index),
                    None => log.get(index),
                };
                if let Some(entry) = entry
                    && row_ui(ui, entry, (*hex, encoding), picked)
                {
                    *selected = Some(entry.clone());
                }
            }
        });
    if let Some(entry) = selected.as_ref()
        && details(ui, entry, encoding)
    {
        *selected = None;
    }
}

/// One log row; true when a data row was clicked (to open it in full). A long row ends in an
/// ellipsis: the whole row is its tooltip. Notes are text already and do not open.
fn row_ui(
    ui: &mut Ui,
    entry: &LogEntry,
    (hex, encoding): (bool, TextEncoding),
    picked: Option<(SystemTime, usize, Direction)>,
) -> bool {
    let color = row_color(ui, entry.direction);
    let chip = ui.visuals().code_bg_color;
    let mut job = row_job(&row_text_in(entry, hex, encoding), color, chip);
    job.wrap = egui::text::TextWrapping::truncate_at_width(ui.available_width());
    let galley = ui.fonts_mut(|f| f.layout_job(job));
    // One tooltip: the whole row when it is cut with an ellipsis, and what a click does.
    let hover = match (galley.elided, entry.direction == Direction::Note) {
        (true, true) => Some(galley.text().to_owned()),
        (true, false) => Some(format!("{}\n\n{}", galley.text(), t::ROW_HINT)),
        (false, true) => None,
        (false, false) => Some(t::ROW_HINT.to_owned()),
    };
    let sense = if entry.direction == Direction::Note {
        egui::Sense::hover()
    } else {
        egui::Sense::click()
    };
    let row = ui.add(Label::new(galley).sense(sense));
    let row = match hover {
        Some(text) => row.on_hover_text(text),
        None => row,
    };
    if picked == Some((entry.at, entry.len, entry.direction)) {
        ui.painter().rect_stroke(
            row.rect,
            2.0,
            ui.visuals().selection.stroke,
            egui::StrokeKind::Outside,
        );
    }
    row.clicked() && entry.direction != Direction::Note
}

/// The picked entry in full: a hex dump of everything kept. Returns true when closed.
fn details(ui: &mut Ui, entry: &LogEntry, encoding: TextEncoding) -> bool {
    let mut close = false;
    ui.separator();
    ui.horizontal(|ui| {
        ui.strong(t::DETAILS);
        ui.label(t::details_summary(
            &clock(entry.at),
            entry.peer,
            entry.len,
            entry.preview.len(),
        ));
        if ui.small_button(t::COPY_HEX).clicked() {
            ui.ctx().copy_text(to_hex(&entry.preview));
        }
        if ui.small_button(t::COPY_TEXT).clicked() {
            ui.ctx()
                .copy_text(visible_decoded(&entry.preview, encoding, usize::MAX));
        }
        if ui.small_button(t::CLOSE_DETAILS).clicked() {
            close = true;
        }
    });
    // Only the dump lines on screen are laid out: 64 KiB is 4,096 lines.
    let line_height = ui.text_style_height(&egui::TextStyle::Monospace);
    let lines = entry.preview.len().div_ceil(HEX_DUMP_WIDTH);
    ScrollArea::vertical()
        .id_salt("log-details")
        .max_height(150.0)
        .auto_shrink([false, true])
        .show_rows(ui, line_height, lines, |ui, rows| {
            for line in rows {
                ui.add(
                    Label::new(RichText::new(hex_dump_line(&entry.preview, line)).monospace())
                        .extend(),
                );
            }
        });
    close
}

/// The log's memory: what it holds now and its budget, which the user can change (a smaller
/// budget hides the oldest entries at once; the counters keep counting everything).
fn budget_ui(ui: &mut Ui, log: &mut LogStore) {
    const MIB: usize = 1024 * 1024;
    ui.label(t::log_memory(log.footprint()))
        .on_hover_text(t::LOG_BUDGET_HINT);
    let mut budget_mib = log.max_bytes() / MIB;
    let changed = ui
        .add(
            egui::DragValue::new(&mut budget_mib)
                .range(4..=16_384)
                .suffix(" MiB"),
        )
        .on_hover_text(t::LOG_BUDGET_HINT)
        .changed();
    if changed {
        log.set_max_bytes(budget_mib.saturating_mul(MIB));
    }
    ui.weak(t::queue_memory(crate::gui::memory::queue_budget(log)))
        .on_hover_text(t::QUEUE_BUDGET_HINT);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_show_controls_visibly_and_say_what_is_cut() {
        let mut log = LogStore::default();
        let peer = "127.0.0.1:9000".parse().ok();
        log.push_data(SystemTime::now(), Direction::In, peer, None, b"hi\r\n\xff");
        let row = log.get(0).map(|e| row_text(e, false)).unwrap_or_default();
        assert!(row.contains("hi␍␊\\xff"), "{row}");
        assert!(row.contains("127.0.0.1:9000"), "{row}");
        assert!(row.contains("5 B"), "{row}");
        let hex = log.get(0).map(|e| row_text(e, true)).unwrap_or_default();
        assert!(hex.contains("68 69 0d 0a ff"), "{hex}");

        let big = vec![b'a'; 10_000];
        log.push_data(SystemTime::now(), Direction::Out, peer, None, &big);
        let row = log.get(1).map(|e| row_text(e, true)).unwrap_or_default();
        assert!(row.contains("(+9840 bytes not shown"), "{row}");
        // In text, a row stops after 400 characters and says exactly how many bytes it left out.
        let row = log.get(1).map(|e| row_text(e, false)).unwrap_or_default();
        assert!(row.contains("a… (+9600 bytes not shown"), "{row}");
        let multibyte = "é".repeat(1000);
        log.push_data(
            SystemTime::now(),
            Direction::In,
            peer,
            None,
            multibyte.as_bytes(),
        );
        let row = log.get(2).map(|e| row_text(e, false)).unwrap_or_default();
        assert!(row.contains("é… (+1200 bytes not shown"), "{row}");
    }
}
