//! Message framing for a TCP session: how the received stream is cut into messages (none, LF,
//! CRLF, any byte string, a length prefix, a fixed size, an idle gap), the largest message, and
//! what happens to a larger one. The framer runs in the engine's readers
//! ([`crate::engine::framing`]); this widget edits the choice and says what is wrong with a field
//! next to it.

use std::time::Duration;

use egui::Ui;
use serde::{Deserialize, Serialize};

use crate::engine::framing::{
    DEFAULT_MAX_MESSAGE, Framing, FramingConfig, LengthPrefix, MAX_GAP, MAX_MESSAGE_LIMIT, Oversize,
};
use crate::engine::payload::parse_hex;
use crate::gui::text_tools as tt;

use super::fields::{error_line, labelled_edit, parse_number};

/// The framing choices, in the order the menu lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum FramingChoice {
    /// Each `recv` as it came.
    #[default]
    None,
    /// Lines ending in `\n`.
    Lf,
    /// Lines ending in `\r\n`.
    CrLf,
    /// Messages ending in a byte string typed as hex.
    Bytes,
    /// A length field, then the body.
    LengthPrefix,
    /// Messages of one size.
    Fixed,
    /// A message ends when nothing arrives for a while.
    IdleGap,
}

impl FramingChoice {
    /// Every choice, in menu order.
    pub const ALL: [FramingChoice; 7] = [
        FramingChoice::None,
        FramingChoice::Lf,
        FramingChoice::CrLf,
        FramingChoice::Bytes,
        FramingChoice::LengthPrefix,
        FramingChoice::Fixed,
        FramingChoice::IdleGap,
    ];

    /// The choice's name in the menu.
    pub fn label(self) -> &'static str {
        match self {
            FramingChoice::None => tt::FRAMING_NONE,
            FramingChoice::Lf => tt::FRAMING_LF,
            FramingChoice::CrLf => tt::FRAMING_CRLF,
            FramingChoice::Bytes => tt::FRAMING_BYTES,
            FramingChoice::LengthPrefix => tt::FRAMING_LENGTH,
            FramingChoice::Fixed => tt::FRAMING_FIXED,
            FramingChoice::IdleGap => tt::FRAMING_GAP,
        }
    }
}

/// What a TCP session remembers about framing (fields as typed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FramingSettings {
    /// How to cut.
    pub choice: FramingChoice,
    /// The delimiter of [`FramingChoice::Bytes`], as hex.
    pub delimiter: String,
    /// Width of the length prefix: 1, 2 or 4 bytes.
    pub prefix_width: u8,
    /// The prefix is big-endian (network order).
    pub big_endian: bool,
    /// The length counts the header too.
    pub includes_header: bool,
    /// The size of [`FramingChoice::Fixed`], as typed.
    pub fixed: String,
    /// The gap of [`FramingChoice::IdleGap`] in ms, as typed.
    pub gap_ms: String,
    /// The largest message in bytes, as typed.
    pub max_message: String,
    /// What to do with a larger one.
    pub on_oversize: Oversize,
}

impl Default for FramingSettings {
    fn default() -> Self {
        FramingSettings {
            choice: FramingChoice::None,
            delimiter: "03".to_owned(),
            prefix_width: 2,
            big_endian: true,
            includes_header: false,
            fixed: "16".to_owned(),
            gap_ms: "50".to_owned(),
            max_message: DEFAULT_MAX_MESSAGE.to_string(),
            on_oversize: Oversize::Resync,
        }
    }
}

/// The problems of the fields, each with the field it belongs to.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Problems {
    kind: Option<String>,
    max: Option<String>,
}

impl FramingSettings {
    /// The engine's framing, or the sentence that says which field is wrong.
    pub fn config(&self) -> Result<FramingConfig, String> {
        let (config, problems) = self.checked();
        match (config, problems.kind.or(problems.max)) {
            (Some(config), None) => Ok(config),
            (_, Some(problem)) => Err(problem),
            (None, None) => Err(tt::FRAMING_INVALID.to_owned()),
        }
    }

    fn checked(&self) -> (Option<FramingConfig>, Problems) {
        let mut problems = Problems::default();
        let max = parse_number(
            &self.max_message,
            tt::FRAMING_MAX,
            1,
            MAX_MESSAGE_LIMIT as u64,
        )
        .map(|n| usize::try_from(n).unwrap_or(MAX_MESSAGE_LIMIT));
        let max = match max {
            Ok(max) => Some(max),
            Err(e) => {
                problems.max = Some(e);
                None
            }
        };
        let framing = match self.choice {
            FramingChoice::None => Ok(Framing::None),
            FramingChoice::Lf => Ok(Framing::lf()),
            FramingChoice::CrLf => Ok(Framing::crlf()),
            FramingChoice::Bytes => match parse_hex(&self.delimiter) {
                Ok(bytes) if bytes.is_empty() => Err(tt::FRAMING_DELIMITER_EMPTY.to_owned()),
                Ok(bytes) => Ok(Framing::Delimiter(bytes)),
                Err(e) => Err(tt::framing_delimiter_bad(&e.to_string())),
            },
            FramingChoice::LengthPrefix => Ok(Framing::LengthPrefix(LengthPrefix {
                width: self.prefix_width,
                big_endian: self.big_endian,
                includes_header: self.includes_header,
            })),
            FramingChoice::Fixed => {
                let ceiling = max.unwrap_or(MAX_MESSAGE_LIMIT) as u64;
                parse_number(&self.fixed, tt::FRAMING_FIXED_SIZE, 1, ceiling)
                    .map(|n| Framing::Fixed(usize::try_from(n).unwrap_or(usize::MAX)))
            }
            FramingChoice::IdleGap => {
                let ceiling = u64::try_from(MAX_GAP.as_millis()).unwrap_or(u64::MAX);
                parse_number(&self.gap_ms, tt::FRAMING_GAP_MS, 1, ceiling)
                    .map(|ms| Framing::IdleGap(Duration::from_millis(ms)))
            }
        };
        let framing = match framing {
            Ok(f) => Some(f),
            Err(e) => {
                problems.kind = Some(e);
                None
            }
        };
        let (Some(framing), Some(max)) = (framing, max) else {
            return (None, problems);
        };
        let config = FramingConfig {
            framing,
            max_message: max,
            on_oversize: self.on_oversize,
        };
        // The engine's own check has the last word (and its sentence).
        match config.check() {
            Ok(()) => (Some(config), problems),
            Err(e) => {
                problems.kind = Some(e);
                (None, problems)
            }
        }
    }

    /// The section's title: "Framing: lf" (the command line's spelling), or the error mark.
    pub fn title(&self) -> String {
        match self.config() {
            Ok(config) => tt::framing_title(&config.framing.to_string()),
            Err(_) => tt::framing_title(tt::FRAMING_TITLE_INVALID),
        }
    }
}

/// Draws the framing section (collapsed by default; locked while the session runs, since the
/// readers take the framing when they start).
pub fn framing_ui(ui: &mut Ui, id: &str, settings: &mut FramingSettings, running: bool) {
    egui::CollapsingHeader::new(settings.title())
        .id_salt((id, "framing"))
        .show(ui, |ui| {
            if running {
                ui.weak(tt::FRAMING_LOCKED);
            }
            ui.add_enabled_ui(!running, |ui| fields(ui, id, settings));
        });
}

fn fields(ui: &mut Ui, id: &str, s: &mut FramingSettings) {
    ui.horizontal_wrapped(|ui| {
        let label = ui.label(tt::FRAMING).on_hover_text(tt::FRAMING_HINT);
        egui::ComboBox::from_id_salt((id, "framing-kind"))
            .selected_text(s.choice.label())
            .show_ui(ui, |ui| {
                for choice in FramingChoice::ALL {
                    ui.selectable_value(&mut s.choice, choice, choice.label());
                }
            })
            .response
            .labelled_by(label.id);
    });
    ui.horizontal_wrapped(|ui| match s.choice {
        FramingChoice::Bytes => {
            labelled_edit(
                ui,
                tt::FRAMING_DELIMITER,
                tt::FRAMING_DELIMITER_HINT,
                &mut s.delimiter,
                110.0,
                "03",
            );
        }
        FramingChoice::LengthPrefix => {
            ui.label(tt::FRAMING_WIDTH)
                .on_hover_text(tt::FRAMING_WIDTH_HINT);
            for width in [1_u8, 2, 4] {
                ui.selectable_value(&mut s.prefix_width, width, tt::prefix_width(width));
            }
            ui.separator();
            ui.selectable_value(&mut s.big_endian, true, tt::BIG_ENDIAN)
                .on_hover_text(tt::ENDIAN_HINT);
            ui.selectable_value(&mut s.big_endian, false, tt::LITTLE_ENDIAN)
                .on_hover_text(tt::ENDIAN_HINT);
            ui.checkbox(&mut s.includes_header, tt::INCLUDES_HEADER)
                .on_hover_text(tt::INCLUDES_HEADER_HINT);
        }
        FramingChoice::Fixed => {
            labelled_edit(
                ui,
                tt::FRAMING_FIXED_SIZE,
                tt::FRAMING_FIXED_HINT,
                &mut s.fixed,
                80.0,
                "",
            );
        }
        FramingChoice::IdleGap => {
            labelled_edit(
                ui,
                tt::FRAMING_GAP_MS,
                tt::FRAMING_GAP_HINT,
                &mut s.gap_ms,
                80.0,
                "",
            );
        }
        FramingChoice::None | FramingChoice::Lf | FramingChoice::CrLf => {
            ui.weak(tt::framing_choice_hint(s.choice));
        }
    });
    let (_, problems) = s.checked();
    if let Some(problem) = &problems.kind {
        error_line(ui, problem);
    }
    if s.choice == FramingChoice::None {
        return;
    }
    ui.horizontal_wrapped(|ui| {
        labelled_edit(
            ui,
            tt::FRAMING_MAX,
            tt::FRAMING_MAX_HINT,
            &mut s.max_message,
            90.0,
            "",
        );
        ui.label(tt::ON_OVERSIZE)
            .on_hover_text(tt::ON_OVERSIZE_HINT);
        ui.selectable_value(&mut s.on_oversize, Oversize::Resync, tt::OVERSIZE_RESYNC)
            .on_hover_text(tt::OVERSIZE_RESYNC_HINT);
        ui.selectable_value(&mut s.on_oversize, Oversize::Stop, tt::OVERSIZE_STOP)
            .on_hover_text(tt::OVERSIZE_STOP_HINT);
    });
    if let Some(problem) = &problems.max {
        error_line(ui, problem);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_choice_makes_the_engine_framing_the_command_line_names() {
        let mut s = FramingSettings::default();
        let spelled = |s: &FramingSettings| s.config().map(|c| c.framing.to_string());
        assert_eq!(spelled(&s), Ok("none".to_owned()));
        s.choice = FramingChoice::CrLf;
        assert_eq!(spelled(&s), Ok("crlf".to_owned()));
        s.choice = FramingChoice::LengthPrefix;
        s.prefix_width = 4;
        s.big_endian = false;
        s.includes_header = true;
        assert_eq!(spelled(&s), Ok("len:4le+hdr".to_owned()));
        s.choice = FramingChoice::Bytes;
        s.delimiter = "0d 0a 03".to_owned();
        assert_eq!(spelled(&s), Ok("bytes:0d0a03".to_owned()));
        s.choice = FramingChoice::IdleGap;
        s.gap_ms = "20".to_owned();
        assert_eq!(spelled(&s), Ok("gap:20".to_owned()));
    }

    #[test]
    fn a_bad_value_is_a_sentence_that_names_its_field() {
        let mut s = FramingSettings {
            choice: FramingChoice::Bytes,
            delimiter: "0x zz".to_owned(),
            ..FramingSettings::default()
        };
        let e = s.config().err().unwrap_or_default();
        assert!(e.contains("delimiter"), "{e}");
        s.choice = FramingChoice::Fixed;
        s.max_message = "100".to_owned();
        s.fixed = "200".to_owned();
        let e = s.config().err().unwrap_or_default();
        assert!(e.contains(tt::FRAMING_FIXED_SIZE), "{e}");
        s.fixed = "10".to_owned();
        s.max_message = "0".to_owned();
        let e = s.config().err().unwrap_or_default();
        assert!(e.contains(tt::FRAMING_MAX), "{e}");
    }
}
