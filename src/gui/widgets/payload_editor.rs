//! The message editor: text, hex or escapes, a line ending, a Send button; Enter sends.

use egui::{Key, TextEdit, Ui};
use serde::{Deserialize, Serialize};

use crate::engine::encoding::{TextEncoding, encode_input};
use crate::engine::payload::{InputMode, LineEnding};
use crate::gui::text as t;

/// What the editor remembers between runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EditorSettings {
    /// What was typed.
    pub text: String,
    /// How it becomes bytes.
    pub mode: InputMode,
    /// What is appended.
    pub ending: LineEnding,
    /// How text (and the characters of escaped text) becomes bytes.
    pub encoding: TextEncoding,
    /// Messages sent, newest last (Up and Down recall them).
    pub history: Vec<String>,
    /// Position while stepping through `history` with Up and Down.
    #[serde(skip)]
    pub recall: Option<usize>,
    /// Put the cursor in the editor on the next frame (set when a connection is ready, so one
    /// can type at once).
    #[serde(skip)]
    pub focus_requested: bool,
}

/// Messages remembered for Up and Down.
const HISTORY_CAP: usize = 50;

impl EditorSettings {
    fn remember(&mut self) {
        let text = std::mem::take(&mut self.text);
        self.history.retain(|h| *h != text);
        self.history.push(text);
        if self.history.len() > HISTORY_CAP {
            self.history.remove(0);
        }
        self.recall = None;
    }

    fn step_history(&mut self, older: bool) {
        let len = self.history.len();
        if len == 0 {
            return;
        }
        let next = match (self.recall, older) {
            (None, true) => Some(len - 1),
            (Some(i), true) => Some(i.saturating_sub(1)),
            (Some(i), false) if i + 1 < len => Some(i + 1),
            // Past the newest: back to an empty field.
            (_, false) => None,
        };
        self.recall = next;
        self.text = next
            .and_then(|i| self.history.get(i).cloned())
            .unwrap_or_default();
    }
}

impl EditorSettings {
    /// The bytes the current input stands for, or the sentence that says what is wrong (with the
    /// position of the first bad character).
    pub fn bytes(&self) -> Result<Vec<u8>, crate::engine::encoding::InputError> {
        encode_input(&self.text, self.mode, self.ending, self.encoding)
    }
}

impl Default for EditorSettings {
    fn default() -> Self {
        EditorSettings {
            text: String::new(),
            mode: InputMode::Text,
            ending: LineEnding::None,
            encoding: TextEncoding::Utf8,
            history: Vec::new(),
            recall: None,
            focus_requested: false,
        }
    }
}

/// Draws the editor (Up and Down recall earlier messages). `blocked` is why sending is impossible right now (the button is disabled and
/// says why), or `None`. Returns the bytes to send when the user pressed Send or Enter and the
/// input is valid.
pub fn payload_editor(
    ui: &mut Ui,
    settings: &mut EditorSettings,
    blocked: Option<&str>,
) -> Option<Vec<u8>> {
    let encoded = settings.bytes();
    let mut send = false;
    ui.horizontal(|ui| {
        let label = ui.label(t::MESSAGE);
        let placeholder = match settings.mode {
            InputMode::Text => t::MESSAGE_HINT_TEXT,
            InputMode::Hex => t::MESSAGE_HINT_HEX,
            InputMode::Escapes => t::MESSAGE_HINT_ESCAPES,
        };
        let button_width = 70.0;
        let edit = ui
            .add(
                TextEdit::singleline(&mut settings.text)
                    .hint_text(placeholder)
                    .desired_width((ui.available_width() - button_width).max(120.0))
                    .font(egui::TextStyle::Monospace),
            )
            .labelled_by(label.id);
        let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
        if edit.has_focus() {
            if ui.input(|i| i.key_pressed(Key::ArrowUp)) {
                settings.step_history(true);
            } else if ui.input(|i| i.key_pressed(Key::ArrowDown)) {
                settings.step_history(false);
            }
        }
        let ready = blocked.is_none() && encoded.is_ok();
        let button = ui.add_enabled(ready, egui::Button::new(t::SEND));
        let button = match blocked {
            Some(why) => button.on_disabled_hover_text(why),
            None => button,
        };
        if enter || std::mem::take(&mut settings.focus_requested) {
            // Keep typing after Enter, as in a chat box.
            edit.request_focus();
        }
        send = ready && (button.clicked() || enter);
    });
    ui.horizontal_wrapped(|ui| {
        for (mode, name) in [
            (InputMode::Text, t::MODE_TEXT),
            (InputMode::Hex, t::MODE_HEX),
            (InputMode::Escapes, t::MODE_ESCAPES),
        ] {
            ui.selectable_value(&mut settings.mode, mode, name)
                .on_hover_text(t::MODE_HINT);
        }
        ui.separator();
        for (ending, name) in [
            (LineEnding::None, t::ENDING_NONE),
            (LineEnding::Lf, t::ENDING_LF),
            (LineEnding::CrLf, t::ENDING_CRLF),
        ] {
            ui.selectable_value(&mut settings.ending, ending, name)
                .on_hover_text(t::ENDING_HINT);
        }
        ui.separator();
        encoding_choice(
            ui,
            "payload-encoding",
            t::ENCODING,
            t::ENCODING_HINT,
            &mut settings.encoding,
        );
        ui.separator();
        // The size, why Send is off, or what is wrong with the text: always this one place at
        // the end of the row, so the row above (and its Send button) never moves.
        match (&encoded, blocked) {
            (Ok(bytes), None) => {
                ui.weak(t::message_size(bytes.len()));
            }
            (Ok(_), Some(why)) => {
                let why_text = egui::RichText::new(why).color(ui.visuals().weak_text_color());
                ui.add(egui::Label::new(why_text).truncate())
                    .on_hover_text(why);
            }
            (Err(e), _) => {
                let color = ui.visuals().error_fg_color;
                ui.label(egui::RichText::new(e.to_string()).color(color));
            }
        }
    });
    if send {
        // The message goes into the history and the field empties, as in a chat box.
        settings.remember();
        encoded.ok()
    } else {
        None
    }
}

/// A labelled menu of the text encodings (for sending, or for showing received text).
pub fn encoding_choice(
    ui: &mut Ui,
    id_salt: &str,
    label: &str,
    hint: &str,
    encoding: &mut TextEncoding,
) {
    let label = ui.label(label).on_hover_text(hint);
    egui::ComboBox::from_id_salt(id_salt)
        .selected_text(encoding.label())
        .show_ui(ui, |ui| {
            for choice in TextEncoding::ALL {
                ui.selectable_value(encoding, choice, choice.label());
            }
        })
        .response
        .labelled_by(label.id);
}

/// Why the editor's bytes cannot go out on a TCP stream now: `blocked` (the connection's state),
/// or an empty message — a stream carries bytes, not messages, so an empty send would silently do
/// nothing. Saved messages and files are judged by `blocked` alone.
pub fn stream_editor_blocked<'a>(
    blocked: Option<&'a str>,
    editor: &EditorSettings,
) -> Option<&'a str> {
    blocked.or_else(|| {
        editor
            .bytes()
            .is_ok_and(|b| b.is_empty())
            .then_some(crate::engine::payload::EMPTY_STREAM_SEND)
    })
}
