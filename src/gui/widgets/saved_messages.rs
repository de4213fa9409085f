//! Saved messages per tab: a name and everything needed to rebuild the bytes (text, input mode,
//! line ending, encoding). One click sends one; the list is part of the persisted settings, and
//! can be exported to and imported from a JSON file to share it or move it between machines.

use std::path::Path;

use egui::Ui;
use serde::{Deserialize, Serialize};

use crate::engine::checksum::Checksum;
use crate::engine::encoding::TextEncoding;
use crate::engine::error::file_reason;
use crate::engine::payload::{InputMode, LineEnding};
use crate::gui::text as t;

use super::fields::{error_line, labelled_edit};
use super::payload_editor::{EditorSettings, Outgoing, fresh_preview, make_outgoing};

/// Most messages one tab keeps.
pub const MAX_SAVED: usize = 200;
/// Largest file Import reads: far more than [`MAX_SAVED`] messages need, and a mistaken choice
/// of a huge file must not freeze the window.
const MAX_IMPORT_BYTES: u64 = 16 * 1024 * 1024;

/// One saved message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SavedMessage {
    /// What the button says.
    pub name: String,
    /// The message as typed.
    pub text: String,
    /// How the text becomes bytes.
    pub mode: InputMode,
    /// What is appended.
    pub ending: LineEnding,
    /// The encoding of text.
    pub encoding: TextEncoding,
    /// The text is a template (`{seq}` …), filled in at each send.
    pub template: bool,
    /// Appended to the message.
    pub checksum: Option<Checksum>,
}

impl Default for SavedMessage {
    fn default() -> Self {
        SavedMessage {
            name: String::new(),
            text: String::new(),
            mode: InputMode::Text,
            ending: LineEnding::None,
            encoding: TextEncoding::Utf8,
            template: false,
            checksum: None,
        }
    }
}

impl SavedMessage {
    /// The message it stands for, as the editor would send it.
    pub fn outgoing(&self) -> Result<Outgoing, String> {
        make_outgoing(
            &self.text,
            (self.mode, self.template),
            self.ending,
            self.encoding,
            self.checksum,
        )
    }

    /// The bytes it stands for (a template as a new session's first send fills it in).
    pub fn bytes(&self) -> Result<Vec<u8>, String> {
        self.outgoing().map(|o| o.preview(&fresh_preview))
    }
}

/// A tab's saved messages and the state of their section.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SavedMessages {
    /// The messages, in the order they were saved.
    pub list: Vec<SavedMessage>,
    /// The name typed for the next one.
    pub new_name: String,
    /// The file for Export and Import, as typed.
    pub file: String,
    /// What the last Export or Import did (or why it failed).
    #[serde(skip)]
    pub note: Option<Result<String, String>>,
    /// Export was pressed once for a file that exists: the next press replaces it.
    #[serde(skip)]
    pub confirm_overwrite: Option<String>,
}

/// The list as the JSON text Export writes: an array of messages.
pub fn to_json(list: &[SavedMessage]) -> String {
    serde_json::to_string_pretty(list).unwrap_or_else(|_| "[]".to_owned())
}

/// Reads messages written by [`to_json`] (fields left out take their defaults).
pub fn from_json(text: &str) -> Result<Vec<SavedMessage>, String> {
    serde_json::from_str(text).map_err(|e| t::import_not_json(&e.to_string()))
}

impl SavedMessages {
    /// Saves the editor's message under `new_name`, replacing one of the same name.
    fn save(&mut self, editor: &EditorSettings) {
        let message = SavedMessage {
            name: self.new_name.trim().to_owned(),
            text: editor.text.clone(),
            mode: editor.mode,
            ending: editor.ending,
            encoding: editor.encoding,
            template: editor.template,
            checksum: editor.checksum,
        };
        match self.list.iter_mut().find(|m| m.name == message.name) {
            Some(existing) => *existing = message,
            None => self.list.push(message),
        }
        self.new_name.clear();
    }

    /// Writes the list to `file`. An existing file is replaced only on the second press.
    pub fn export(&mut self, file: &str) -> Result<String, String> {
        let path = Path::new(file.trim());
        if file.trim().is_empty() {
            return Err(t::FILE_NEEDED.to_owned());
        }
        if path.is_dir() {
            return Err(t::is_a_folder(file));
        }
        if path.exists() && self.confirm_overwrite.as_deref() != Some(file) {
            self.confirm_overwrite = Some(file.to_owned());
            return Err(t::file_exists(file));
        }
        self.confirm_overwrite = None;
        std::fs::write(path, to_json(&self.list))
            .map_err(|e| t::file_error("write", file, &file_reason(&e)))?;
        Ok(t::exported(self.list.len(), file))
    }

    /// Adds the messages in `file`; one with the name of an existing message replaces it.
    pub fn import(&mut self, file: &str) -> Result<String, String> {
        if file.trim().is_empty() {
            return Err(t::FILE_NEEDED.to_owned());
        }
        let path = Path::new(file.trim());
        let size = std::fs::metadata(path)
            .map_err(|e| t::file_error("read", file, &file_reason(&e)))?
            .len();
        if size > MAX_IMPORT_BYTES {
            return Err(t::import_too_big(file, size));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| t::file_error("read", file, &file_reason(&e)))?;
        let imported = from_json(&text)?;
        let count = imported.len();
        for message in imported {
            if let Some(existing) = self.list.iter_mut().find(|m| m.name == message.name) {
                *existing = message;
            } else if self.list.len() < MAX_SAVED {
                self.list.push(message);
            } else {
                return Err(t::saved_full(MAX_SAVED));
            }
        }
        Ok(t::imported(count, file))
    }
}

/// Draws the saved messages (collapsed by default). Returns the message whose button was
/// clicked; `blocked` says why nothing can be sent now.
pub fn saved_messages_ui(
    ui: &mut Ui,
    id: &str,
    saved: &mut SavedMessages,
    editor: &mut EditorSettings,
    blocked: Option<&str>,
) -> Option<Outgoing> {
    let mut send = None;
    egui::CollapsingHeader::new(t::saved_title(saved.list.len()))
        .id_salt((id, "saved"))
        .show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                labelled_edit(
                    ui,
                    t::SAVED_NAME,
                    t::SAVED_NAME_HINT,
                    &mut saved.new_name,
                    140.0,
                    "",
                );
                let valid = editor.bytes().is_ok_and(|b| !b.is_empty());
                let can_save =
                    valid && !saved.new_name.trim().is_empty() && saved.list.len() < MAX_SAVED;
                if ui
                    .add_enabled(can_save, egui::Button::new(t::SAVE_MESSAGE))
                    .on_hover_text(t::SAVE_MESSAGE_HINT)
                    .on_disabled_hover_text(t::SAVE_MESSAGE_HINT)
                    .clicked()
                {
                    saved.save(editor);
                }
            });
            let mut remove = None;
            for (i, message) in saved.list.iter().enumerate() {
                ui.horizontal(|ui| {
                    let bytes = message.outgoing();
                    let button = ui
                        .add_enabled(
                            blocked.is_none() && bytes.is_ok(),
                            egui::Button::new(&message.name),
                        )
                        .on_hover_text(t::saved_preview(&message.text, message.encoding.label()));
                    let button = match (blocked, &bytes) {
                        (Some(why), _) => button.on_disabled_hover_text(why),
                        (None, Err(e)) => button.on_disabled_hover_text(e),
                        (None, Ok(_)) => button,
                    };
                    if button.clicked() {
                        send = bytes.ok();
                    }
                    if ui
                        .small_button(t::saved_edit(&message.name))
                        .on_hover_text(t::SAVED_EDIT_HINT)
                        .clicked()
                    {
                        editor.text.clone_from(&message.text);
                        editor.mode = message.mode;
                        editor.ending = message.ending;
                        editor.encoding = message.encoding;
                        editor.template = message.template;
                        editor.checksum = message.checksum;
                    }
                    if ui.small_button(t::saved_delete(&message.name)).clicked() {
                        remove = Some(i);
                    }
                    ui.weak(t::saved_preview(&message.text, message.encoding.label()));
                });
            }
            if let Some(i) = remove {
                saved.list.remove(i);
            }
            ui.horizontal_wrapped(|ui| {
                labelled_edit(
                    ui,
                    t::SAVED_FILE,
                    t::SAVED_FILE_HINT,
                    &mut saved.file,
                    260.0,
                    t::SAVED_FILE_PLACEHOLDER,
                );
                let file = saved.file.clone();
                if ui.button(t::EXPORT).clicked() {
                    saved.note = Some(saved.export(&file));
                }
                if ui.button(t::IMPORT).clicked() {
                    saved.note = Some(saved.import(&file));
                }
            });
            match &saved.note {
                Some(Ok(done)) => {
                    ui.weak(done);
                }
                Some(Err(e)) => error_line(ui, e),
                None => {}
            }
        });
    send
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_refuses_to_overwrite_once_and_import_reads_it_back() {
        let dir = std::env::temp_dir().join(format!("socketlab-saved-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let file = dir.join("messages.json").to_string_lossy().into_owned();
        let _ = std::fs::remove_file(&file);
        let mut saved = SavedMessages {
            list: vec![SavedMessage {
                name: "hello".to_owned(),
                text: "你好".to_owned(),
                encoding: TextEncoding::Gbk,
                ending: LineEnding::CrLf,
                ..SavedMessage::default()
            }],
            ..SavedMessages::default()
        };
        assert!(saved.export(&file).is_ok());
        assert!(
            saved.export(&file).is_err(),
            "the file exists now: ask first"
        );
        assert!(saved.export(&file).is_ok(), "second press replaces it");

        let mut other = SavedMessages::default();
        assert!(other.import(&file).is_ok());
        assert_eq!(other.list, saved.list);
        assert_eq!(
            other.list[0].bytes().ok(),
            Some(vec![0xc4, 0xe3, 0xba, 0xc3, b'\r', b'\n'])
        );
        std::fs::write(&file, "{ not json").ok();
        assert!(other.import(&file).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
