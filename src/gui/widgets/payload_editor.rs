//! The message editor: text, hex, escapes or a template, a line ending, an optional checksum, a
//! Send button; Enter sends. The end of its second row shows the exact bytes the next send will
//! carry (for a template: the session's next `{seq}` and the random bytes reserved for it).

use std::sync::Arc;

use egui::{Key, TextEdit, Ui};
use serde::{Deserialize, Serialize};

use crate::engine::checksum::Checksum;
use crate::engine::encoding::{TextEncoding, encode_input};
use crate::engine::payload::{InputMode, LineEnding, to_hex};
use crate::engine::template::{Template, TemplateState};
use crate::engine::{Payload, Session};
use crate::gui::text as t;
use crate::gui::text_tools as tt;
use crate::gui::widgets::fields::wrap_unit;

/// A message as it will go out: the same bytes each time, or a template the engine fills in at
/// each send (so a repeat counts `{seq}` up).
#[derive(Debug, Clone)]
pub enum Outgoing {
    /// Fixed bytes (a checksum, if chosen, already appended).
    Bytes(Payload),
    /// Filled in by the session at each send.
    Template(Arc<Template>),
}

impl Outgoing {
    /// The bytes the next send will carry: fixed bytes as they are, a template as `preview`
    /// (the session's next `{seq}`) fills it in.
    pub fn preview(&self, preview: &dyn Fn(&Template) -> Vec<u8>) -> Vec<u8> {
        match self {
            Outgoing::Bytes(data) => data.to_vec(),
            Outgoing::Template(template) => preview(template),
        }
    }
}

/// How a template is previewed when no session runs yet: as the first send of a new session.
pub fn fresh_preview(template: &Template) -> Vec<u8> {
    TemplateState::default().preview(template)
}

/// The preview of a template on `session` when one runs, else as a new session's first send.
pub fn session_preview<C: Send + 'static>(
    session: Option<&Session<C>>,
) -> impl Fn(&Template) -> Vec<u8> + '_ {
    move |template| match session {
        Some(s) => s.preview_template(template),
        None => fresh_preview(template),
    }
}

/// Text, hex or escapes made into a message: bytes, or (`template`) a template; the line ending
/// and the checksum appended either way. The error is the sentence for the field.
pub fn make_outgoing(
    text: &str,
    (mode, template): (InputMode, bool),
    ending: LineEnding,
    encoding: TextEncoding,
    checksum: Option<Checksum>,
) -> Result<Outgoing, String> {
    if template {
        let parsed = Template::parse(text)
            .map_err(|e| e.to_string())?
            .with_suffix(ending.bytes())
            .with_checksum(checksum);
        return Ok(Outgoing::Template(Arc::new(parsed)));
    }
    let mut bytes = encode_input(text, mode, ending, encoding).map_err(|e| e.to_string())?;
    if let Some(checksum) = checksum {
        checksum.append(&mut bytes);
    }
    Ok(Outgoing::Bytes(Payload::from(bytes)))
}

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
    /// Read the text as a template (`{seq}`, `{time}` …) instead of `mode`; off by default, so
    /// a `{` typed before templates existed keeps meaning `{`.
    pub template: bool,
    /// Appended to every message, computed over the bytes before it.
    pub checksum: Option<Checksum>,
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
    /// The message the current input stands for, or the sentence that says what is wrong (with
    /// the position of the first bad character).
    pub fn outgoing(&self) -> Result<Outgoing, String> {
        make_outgoing(
            &self.text,
            (self.mode, self.template),
            self.ending,
            self.encoding,
            self.checksum,
        )
    }

    /// The bytes the next send would carry (a template previewed as a new session's first
    /// send), or the sentence that says what is wrong: what size checks judge.
    pub fn bytes(&self) -> Result<Vec<u8>, String> {
        self.outgoing().map(|o| o.preview(&fresh_preview))
    }
}

impl Default for EditorSettings {
    fn default() -> Self {
        EditorSettings {
            text: String::new(),
            mode: InputMode::Text,
            ending: LineEnding::None,
            encoding: TextEncoding::Utf8,
            template: false,
            checksum: None,
            history: Vec::new(),
            recall: None,
            focus_requested: false,
        }
    }
}

/// Draws the editor (Up and Down recall earlier messages). `blocked` is why sending is
/// impossible right now (the button is disabled and says why), or `None`; `preview` fills a
/// template in as the session's next send would. Returns the message to send when the user
/// pressed Send or Enter and the input is valid.
pub fn payload_editor(
    ui: &mut Ui,
    settings: &mut EditorSettings,
    blocked: Option<&str>,
    preview: &dyn Fn(&Template) -> Vec<u8>,
) -> Option<Outgoing> {
    let encoded = settings.outgoing();
    let mut send = false;
    ui.horizontal(|ui| {
        let label = ui.label(t::MESSAGE);
        let placeholder = match (settings.template, settings.mode) {
            (true, _) => tt::MESSAGE_HINT_TEMPLATE,
            (false, InputMode::Text) => t::MESSAGE_HINT_TEXT,
            (false, InputMode::Hex) => t::MESSAGE_HINT_HEX,
            (false, InputMode::Escapes) => t::MESSAGE_HINT_ESCAPES,
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
        mode_choice(ui, settings);
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
        // Each menu with its label as one piece: a narrow composer moves it to the next row
        // whole instead of leaving the label behind.
        if !settings.template {
            wrap_unit(ui, "payload-encoding", true, |ui| {
                encoding_choice(
                    ui,
                    "payload-encoding",
                    t::ENCODING,
                    t::ENCODING_HINT,
                    &mut settings.encoding,
                );
            });
        }
        wrap_unit(ui, "payload-checksum", true, |ui| {
            checksum_choice(ui, "payload-checksum", tt::CHECKSUM, &mut settings.checksum);
        });
        ui.separator();
        // The next send's bytes, why Send is off, or what is wrong with the text: always this
        // one place at the end of the row, so the row above (and its Send button) never moves.
        match (&encoded, blocked) {
            (Ok(message), None) => preview_label(ui, settings, &message.preview(preview)),
            (Ok(_), Some(why)) => {
                let why_text = egui::RichText::new(why).color(ui.visuals().weak_text_color());
                // What is left of the row, cut to fit (all of it on hover); a new row only when
                // hardly anything is left.
                if ui.available_size_before_wrap().x < MIN_REASON_WIDTH {
                    ui.end_row();
                }
                let room = egui::vec2(
                    ui.available_size_before_wrap().x,
                    ui.spacing().interact_size.y,
                );
                ui.allocate_ui(room, |ui| ui.add(egui::Label::new(why_text).truncate()))
                    .inner
                    .on_hover_text(why);
            }
            (Err(e), _) => {
                let color = ui.visuals().error_fg_color;
                ui.label(egui::RichText::new(e.clone()).color(color));
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

/// Less room than this at the end of the composer's second row puts why Send is off on a row
/// of its own.
const MIN_REASON_WIDTH: f32 = 160.0;

/// Text, Hex, Escapes, Template: one choice (a template reads escapes too).
fn mode_choice(ui: &mut Ui, settings: &mut EditorSettings) {
    for (mode, name) in [
        (InputMode::Text, t::MODE_TEXT),
        (InputMode::Hex, t::MODE_HEX),
        (InputMode::Escapes, t::MODE_ESCAPES),
    ] {
        let on = !settings.template && settings.mode == mode;
        if ui
            .selectable_label(on, name)
            .on_hover_text(t::MODE_HINT)
            .clicked()
        {
            settings.mode = mode;
            settings.template = false;
        }
    }
    if ui
        .selectable_label(settings.template, tt::MODE_TEMPLATE)
        .on_hover_text(tt::MODE_TEMPLATE_HINT)
        .clicked()
    {
        settings.template = true;
    }
}

/// The bytes the next send carries: plain sizes stay short ("5 bytes"); a template or checksum
/// shows the bytes themselves (cut to fit, all of them on hover).
fn preview_label(ui: &mut Ui, settings: &EditorSettings, bytes: &[u8]) {
    if !settings.template && settings.checksum.is_none() {
        ui.weak(t::message_size(bytes.len()));
        return;
    }
    let text = tt::next_send(bytes.len(), &to_hex(bytes));
    ui.add(egui::Label::new(egui::RichText::new(&text).monospace()).truncate())
        .on_hover_text(tt::next_send_hover(
            &crate::engine::payload::to_visible_text(bytes, 4096),
            &text,
        ));
}

/// A menu labelled `label`: no checksum, or one of the engine's.
pub fn checksum_choice(
    ui: &mut Ui,
    id_salt: &str,
    label: &str,
    checksum: &mut Option<Checksum>,
) -> bool {
    let label = ui.label(label).on_hover_text(tt::CHECKSUM_HINT);
    let mut changed = false;
    egui::ComboBox::from_id_salt(id_salt)
        .selected_text(checksum.map_or(tt::CHECKSUM_NONE, Checksum::name))
        .show_ui(ui, |ui| {
            changed |= ui
                .selectable_value(checksum, None, tt::CHECKSUM_NONE)
                .changed();
            for choice in Checksum::ALL {
                changed |= ui
                    .selectable_value(checksum, Some(choice), choice.name())
                    .changed();
            }
        })
        .response
        .labelled_by(label.id);
    changed
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
