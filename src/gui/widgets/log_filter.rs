//! Log search and filter (text, direction, peer) and export of what is shown, as text, CSV or
//! JSON lines. Filtering keeps a list of the matching rows and only looks at rows added since the
//! last frame, so a 1,000,000-row log filters once, not every frame.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::path::Path;

use egui::Ui;
use serde::{Deserialize, Serialize};

use crate::engine::encoding::TextEncoding;
use crate::engine::error::file_reason;
use crate::engine::log_store::{Direction, LogEntry, LogStore};
use crate::engine::payload::to_hex;
use crate::gui::text as t;

use super::fields::{error_line, labelled_edit};
use super::log_view::{row_text_in, visible_decoded};
use crate::gui::clock::clock;

/// Which rows to show by direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum DirectionFilter {
    /// Everything.
    #[default]
    All,
    /// Received data.
    In,
    /// Sent data, echoes and automatic replies included.
    Out,
    /// Notes only (connections, errors).
    Notes,
}

impl DirectionFilter {
    fn admits(self, direction: Direction) -> bool {
        match self {
            DirectionFilter::All => true,
            DirectionFilter::In => direction == Direction::In,
            DirectionFilter::Out => matches!(direction, Direction::Out | Direction::Echo),
            DirectionFilter::Notes => direction == Direction::Note,
        }
    }
}

/// File formats for exporting the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ExportFormat {
    /// The rows as shown.
    #[default]
    Text,
    /// One row per line, with a header; text and hex columns.
    Csv,
    /// One JSON object per line.
    JsonLines,
}

/// The filter and export state of one log.
#[derive(Debug, Default)]
pub struct LogFilter {
    /// The find, export and memory row is open (it also shows while a filter is active).
    pub shown: bool,
    /// Text (or bytes) to look for, ASCII letters in any case.
    pub text: String,
    /// Which direction.
    pub direction: DirectionFilter,
    /// Part of the peer's address.
    pub peer: String,
    /// Export file format.
    pub format: ExportFormat,
    /// Export file, as typed.
    pub file: String,
    /// What the last export did, or why it failed.
    pub note: Option<Result<String, String>>,
    /// How received and sent text is decoded for display (the bytes are unchanged).
    pub display_encoding: TextEncoding,
    /// Export was pressed once for an existing file: the next press replaces it.
    confirm_overwrite: Option<String>,
    /// [`LogStore::appended`] when the whole log (no filter) was last exported: the rows up to
    /// there are in a file, and closing the session does not lose them.
    pub exported_mark: Option<u64>,
    /// The export file's save dialog.
    pub dialog: crate::gui::dialogs::DialogSlot,
    cache: MatchCache,
}

/// The matching rows, by absolute position (rows removed by the cap plus index).
#[derive(Debug, Default)]
struct MatchCache {
    key: Option<(String, DirectionFilter, String)>,
    matches: VecDeque<u64>,
    scanned_to: u64,
}

fn contains_ignoring_ascii_case(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty()
        || haystack
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

impl LogFilter {
    /// True when some filter is set (otherwise every row shows).
    pub fn is_active(&self) -> bool {
        !self.text.is_empty() || self.direction != DirectionFilter::All || !self.peer.is_empty()
    }

    /// True when `entry` passes the filter.
    pub fn matches(&self, entry: &LogEntry) -> bool {
        self.direction.admits(entry.direction)
            && (self.peer.is_empty()
                || entry
                    .peer
                    .is_some_and(|p| p.to_string().contains(self.peer.trim())))
            && contains_ignoring_ascii_case(&entry.preview, self.text.as_bytes())
    }

    /// Brings the list of matching rows up to date with `log` and returns how many match.
    pub fn refresh(&mut self, log: &LogStore) -> usize {
        let key = (self.text.clone(), self.direction, self.peer.clone());
        let first = log.hidden();
        let end = first + log.len() as u64;
        let cache = &mut self.cache;
        if cache.key.as_ref() != Some(&key) || end < cache.scanned_to {
            // A new filter, or the log was cleared: start over.
            cache.key = Some(key);
            cache.matches.clear();
            cache.scanned_to = first;
        }
        while cache.matches.front().is_some_and(|&m| m < first) {
            cache.matches.pop_front();
        }
        let from = cache.scanned_to.max(first);
        let mut found = Vec::new();
        for absolute in from..end {
            if let Some(entry) = log.get((absolute - first) as usize)
                && self.matches(entry)
            {
                found.push(absolute);
            }
        }
        let cache = &mut self.cache;
        cache.matches.extend(found);
        cache.scanned_to = end;
        cache.matches.len()
    }

    /// The `n`th matching row (after [`LogFilter::refresh`]).
    pub fn shown<'a>(&self, log: &'a LogStore, n: usize) -> Option<&'a LogEntry> {
        let absolute = *self.cache.matches.get(n)?;
        log.get(usize::try_from(absolute.checked_sub(log.hidden())?).ok()?)
    }

    /// The rows shown now, oldest first.
    pub fn shown_entries<'a>(&'a self, log: &'a LogStore) -> impl Iterator<Item = &'a LogEntry> {
        log.iter().filter(|e| !self.is_active() || self.matches(e))
    }

    /// Writes the shown rows to the export file; an existing file is replaced only on the
    /// second press.
    fn export(&mut self, log: &LogStore, hex: bool) -> Result<String, String> {
        let file = self.file.trim().to_owned();
        if file.is_empty() {
            return Err(t::FILE_NEEDED.to_owned());
        }
        if Path::new(&file).is_dir() {
            return Err(t::is_a_folder(&file));
        }
        if Path::new(&file).exists() && self.confirm_overwrite.as_deref() != Some(file.as_str()) {
            self.confirm_overwrite = Some(file.clone());
            return Err(t::file_exists(&file));
        }
        self.confirm_overwrite = None;
        let rows: Vec<&LogEntry> = self.shown_entries(log).collect();
        let text = export(&rows, self.format, hex, self.display_encoding);
        let count = rows.len();
        std::fs::write(&file, text).map_err(|e| t::file_error("write", &file, &file_reason(&e)))?;
        if !self.is_active() {
            self.exported_mark = Some(log.appended());
        }
        Ok(t::log_exported(count, &file))
    }
}

fn direction_name(direction: Direction) -> &'static str {
    match direction {
        Direction::In => "in",
        Direction::Out => "out",
        Direction::Echo => "auto-reply",
        Direction::Note => "note",
    }
}

fn csv_field(out: &mut String, field: &str) {
    if field.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// The rows in `format`. Only the kept preview of each entry's data is written; `bytes` is the
/// full length and `kept` what the file holds, so a cut entry says so.
pub fn export(
    rows: &[&LogEntry],
    format: ExportFormat,
    hex: bool,
    encoding: TextEncoding,
) -> String {
    let mut out = String::new();
    match format {
        ExportFormat::Text => {
            for entry in rows {
                out.push_str(&row_text_in(entry, hex, encoding));
                out.push('\n');
            }
        }
        ExportFormat::Csv => {
            out.push_str("time,direction,peer,connection,bytes,kept,text,hex\r\n");
            for entry in rows {
                let time = chrono::DateTime::<chrono::Local>::from(entry.at).to_rfc3339();
                let peer = entry.peer.map(|p| p.to_string()).unwrap_or_default();
                let conn = entry.conn.map(|c| c.to_string()).unwrap_or_default();
                let fields = [
                    time,
                    direction_name(entry.direction).to_owned(),
                    peer,
                    conn,
                    entry.len.to_string(),
                    entry.preview.len().to_string(),
                    visible_decoded(&entry.preview, encoding, usize::MAX),
                    to_hex(&entry.preview),
                ];
                for (i, field) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    csv_field(&mut out, field);
                }
                out.push_str("\r\n");
            }
        }
        ExportFormat::JsonLines => {
            for entry in rows {
                let line = serde_json::json!({
                    "time": chrono::DateTime::<chrono::Local>::from(entry.at).to_rfc3339(),
                    "clock": clock(entry.at),
                    "direction": direction_name(entry.direction),
                    "peer": entry.peer.map(|p| p.to_string()),
                    "connection": entry.conn,
                    "bytes": entry.len,
                    "kept": entry.preview.len(),
                    "text": visible_decoded(&entry.preview, encoding, usize::MAX),
                    "hex": to_hex(&entry.preview),
                });
                let _ = writeln!(out, "{line}");
            }
        }
    }
    out
}

/// Draws the filter and export row above a log.
pub fn log_filter_ui(ui: &mut Ui, id: &str, filter: &mut LogFilter, log: &LogStore, hex: bool) {
    ui.horizontal_wrapped(|ui| {
        labelled_edit(
            ui,
            t::FILTER_TEXT,
            t::FILTER_TEXT_HINT,
            &mut filter.text,
            120.0,
            "",
        );
        let label = ui.label(t::FILTER_DIRECTION);
        egui::ComboBox::from_id_salt((id, "direction"))
            .selected_text(direction_filter_label(filter.direction))
            .show_ui(ui, |ui| {
                for d in [
                    DirectionFilter::All,
                    DirectionFilter::In,
                    DirectionFilter::Out,
                    DirectionFilter::Notes,
                ] {
                    ui.selectable_value(&mut filter.direction, d, direction_filter_label(d));
                }
            })
            .response
            .labelled_by(label.id);
        labelled_edit(
            ui,
            t::FILTER_PEER,
            t::FILTER_PEER_HINT,
            &mut filter.peer,
            120.0,
            "",
        );
    });
    egui::CollapsingHeader::new(t::EXPORT_LOG)
        .id_salt((id, "export"))
        .show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                for (format, name) in [
                    (ExportFormat::Text, t::FORMAT_TEXT),
                    (ExportFormat::Csv, t::FORMAT_CSV),
                    (ExportFormat::JsonLines, t::FORMAT_JSONL),
                ] {
                    ui.selectable_value(&mut filter.format, format, name);
                }
                labelled_edit(
                    ui,
                    t::EXPORT_FILE,
                    t::EXPORT_FILE_HINT,
                    &mut filter.file,
                    240.0,
                    "",
                );
                let proposed = match filter.format {
                    ExportFormat::Text => "socketlab-log.txt",
                    ExportFormat::Csv => "socketlab-log.csv",
                    ExportFormat::JsonLines => "socketlab-log.jsonl",
                };
                crate::gui::dialogs::dialog_button(
                    ui,
                    &mut filter.dialog,
                    t::CHOOSE_SAVE_FILE,
                    || crate::gui::dialogs::DialogKind::Save {
                        title: t::EXPORT_DIALOG_TITLE.to_owned(),
                        file_name: proposed.to_owned(),
                    },
                    &mut filter.file,
                );
                if ui.button(t::EXPORT_SHOWN).clicked() {
                    filter.note = Some(filter.export(log, hex));
                }
            });
            if let Some(problem) = &filter.dialog.problem {
                error_line(ui, problem);
            }
            match &filter.note {
                Some(Ok(done)) => {
                    ui.weak(done);
                }
                Some(Err(e)) => error_line(ui, e),
                None => {}
            }
        });
}

fn direction_filter_label(d: DirectionFilter) -> &'static str {
    match d {
        DirectionFilter::All => t::FILTER_ALL,
        DirectionFilter::In => t::FILTER_IN,
        DirectionFilter::Out => t::FILTER_OUT,
        DirectionFilter::Notes => t::FILTER_NOTES,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    fn log() -> LogStore {
        let mut log = LogStore::new(3, 1 << 20);
        let a = "127.0.0.1:1000".parse().ok();
        let b = "127.0.0.1:2000".parse().ok();
        log.push_data(
            SystemTime::now(),
            Direction::In,
            a,
            Some(1),
            b"Hello, \"world\"\r\n",
        );
        log.push_data(SystemTime::now(), Direction::Out, b, Some(2), b"bye");
        log.push_note(SystemTime::now(), a, "client 1 connected");
        log
    }

    #[test]
    fn filters_follow_the_log_as_it_grows_and_drops_rows() {
        let mut log = log();
        let mut filter = LogFilter {
            text: "HELLO".to_owned(),
            ..LogFilter::default()
        };
        assert_eq!(filter.refresh(&log), 1);
        filter.text.clear();
        filter.peer = ":1000".to_owned();
        assert_eq!(filter.refresh(&log), 2);
        filter.direction = DirectionFilter::In;
        assert_eq!(filter.refresh(&log), 1);
        // The cap of 3 drops the oldest row (the only match) when a new one comes.
        log.push_data(
            SystemTime::now(),
            Direction::In,
            "127.0.0.1:1000".parse().ok(),
            None,
            b"x",
        );
        assert_eq!(filter.refresh(&log), 1);
        assert_eq!(
            filter.shown(&log, 0).map(|e| &e.preview[..]),
            Some(&b"x"[..])
        );
        log.clear();
        assert_eq!(filter.refresh(&log), 0);
    }

    #[test]
    fn exports_parse_back() {
        let log = log();
        let rows: Vec<&LogEntry> = log.iter().collect();
        let lines = export(&rows, ExportFormat::JsonLines, false, TextEncoding::Utf8);
        let parsed: Vec<serde_json::Value> = lines
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_default())
            .collect();
        assert_eq!(parsed.len(), 3);
        assert_eq!(parsed[0]["direction"], "in");
        assert_eq!(parsed[0]["bytes"], 16);
        assert_eq!(parsed[0]["hex"].as_str().map(str::len), Some(16 * 3 - 1));
        assert_eq!(parsed[1]["peer"], "127.0.0.1:2000");
        assert_eq!(parsed[2]["direction"], "note");

        let csv = export(&rows, ExportFormat::Csv, false, TextEncoding::Utf8);
        let records = parse_csv(&csv);
        assert_eq!(records.len(), 4, "header and three rows");
        assert_eq!(records[0][0], "time");
        assert_eq!(records[1][6], "Hello, \"world\"␍␊");
        assert_eq!(records[2][1], "out");
        assert_eq!(records[2][7], "62 79 65");

        let text = export(&rows, ExportFormat::Text, false, TextEncoding::Utf8);
        assert_eq!(text.lines().count(), 3);
    }

    /// A small RFC 4180 reader, to prove the export is one.
    fn parse_csv(text: &str) -> Vec<Vec<String>> {
        let mut records = Vec::new();
        let mut record = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                ('"', _) => quoted = !quoted,
                (',', false) => record.push(std::mem::take(&mut field)),
                ('\r', false) => {}
                ('\n', false) => {
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                }
                (c, _) => field.push(c),
            }
        }
        records
    }
}
