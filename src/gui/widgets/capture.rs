//! The "capture to file" switch of the server tabs. The engine's receiving threads write every
//! byte ([`crate::engine::capture`]); this widget chooses the file, checks it before Listen, and
//! never lets an existing file be replaced without an explicit second choice.

use egui::Ui;
use serde::{Deserialize, Serialize};

use crate::engine::CaptureConfig;
use crate::engine::error::EngineError;
use crate::gui::dialogs::{DialogKind, remembered_dialog_button};
use crate::gui::text as t;

use super::fields::{error_line, labelled_edit};

/// What a server tab remembers about capturing.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CaptureSettings {
    /// Capture on the next start.
    pub on: bool,
    /// The file (for a TCP server, the pattern of the per-client files).
    pub path: String,
    /// Replace existing files: asked for each time, never remembered.
    #[serde(skip)]
    pub overwrite: bool,
}

impl CaptureSettings {
    /// The engine's capture configuration, `None` when off, or the sentence that says why it
    /// cannot start (`per_client` for a TCP server's one file per client).
    pub fn config(&self, per_client: bool) -> Result<Option<CaptureConfig>, CaptureProblem> {
        if !self.on {
            return Ok(None);
        }
        if self.path.trim().is_empty() {
            return Err(CaptureProblem {
                sentence: t::CAPTURE_NEEDS_FILE.to_owned(),
                exists: false,
            });
        }
        let config = CaptureConfig {
            path: self.path.trim().into(),
            overwrite: self.overwrite,
        };
        match config.check(per_client) {
            Ok(()) => Ok(Some(config)),
            Err(e) => Err(CaptureProblem {
                exists: matches!(e, EngineError::Capture { exists: true, .. }),
                sentence: e.plain_sentence(),
            }),
        }
    }
}

/// Why capturing cannot start as set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureProblem {
    /// What to show next to the field.
    pub sentence: String,
    /// True when a file that would be written exists already (Replace is offered).
    pub exists: bool,
}

/// Draws the switch and the file field (locked while `running`). Returns the configuration to
/// start with, or the problem (already shown here) when capturing is on but cannot start.
pub fn capture_ui(
    ui: &mut Ui,
    settings: &mut CaptureSettings,
    per_client: bool,
    running: bool,
) -> Result<Option<CaptureConfig>, CaptureProblem> {
    ui.add_enabled_ui(!running, |ui| {
        ui.horizontal_wrapped(|ui| {
            ui.checkbox(&mut settings.on, t::CAPTURE)
                .on_hover_text(if per_client {
                    t::CAPTURE_TCP_HINT
                } else {
                    t::CAPTURE_UDP_HINT
                });
            if settings.on {
                labelled_edit(
                    ui,
                    t::CAPTURE_FILE,
                    t::CAPTURE_FILE_HINT,
                    &mut settings.path,
                    260.0,
                    t::CAPTURE_FILE_PLACEHOLDER,
                );
                let problem = remembered_dialog_button(
                    ui,
                    ui.scope_id().with("capture-dialog"),
                    t::CHOOSE_SAVE_FILE,
                    || DialogKind::Save {
                        title: t::CAPTURE_DIALOG_TITLE.to_owned(),
                        file_name: "capture.bin".to_owned(),
                    },
                    &mut settings.path,
                );
                if let Some(problem) = problem {
                    error_line(ui, &problem);
                }
            }
        });
    });
    if running {
        if settings.on {
            ui.weak(t::capturing_to(settings.path.trim(), per_client));
        }
        return Ok(None);
    }
    match settings.config(per_client) {
        Ok(config) => Ok(config),
        Err(problem) => {
            error_line(ui, &problem.sentence);
            if problem.exists {
                ui.checkbox(&mut settings.overwrite, t::CAPTURE_REPLACE)
                    .on_hover_text(t::CAPTURE_REPLACE_HINT);
            }
            Err(problem)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_existing_file_needs_replace() {
        let dir = std::env::temp_dir().join(format!("socketlab-capture-ui-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("in.bin");
        let mut settings = CaptureSettings {
            on: true,
            path: path.to_string_lossy().into_owned(),
            overwrite: false,
        };
        assert!(matches!(settings.config(false), Ok(Some(_))));
        let _ = std::fs::write(&path, b"old");
        let problem = settings.config(false).err();
        assert!(problem.as_ref().is_some_and(|p| p.exists), "{problem:?}");
        settings.overwrite = true;
        assert!(matches!(settings.config(false), Ok(Some(c)) if c.overwrite));
        settings.on = false;
        assert_eq!(settings.config(false), Ok(None));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
