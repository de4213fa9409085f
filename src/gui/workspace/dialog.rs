//! The *Save workspace* and *Open workspace* dialog: a path field (typed, or filled by the
//! system's file chooser), the sentence of what went wrong right under it, and — before a save
//! would replace an existing file — one question. The dialog only says what the user asked for;
//! the app reads or writes the file and hands a failure back with [`WorkspaceDialog::failed`],
//! so the path and the sentence stay in front of the user.

use std::path::{Path, PathBuf};

use crate::gui::dialogs::{DialogKind, DialogSlot, dialog_button};
use crate::gui::widgets::fields::{error_line, labelled_edit};

use super::WORKSPACE_EXTENSION;

/// How many recent workspace files the File menu lists.
pub const MAX_RECENT: usize = 8;

/// The dialog's title and main button when saving.
pub const SAVE_TITLE: &str = "Save workspace";
/// The dialog's title and main button when opening.
pub const OPEN_TITLE: &str = "Open workspace";
/// The path field's label.
pub const PATH_LABEL: &str = "Workspace file";
/// The path field's tooltip.
pub const PATH_HINT: &str = "A .socketlab file: every session with its settings, saved \
                             messages and reply rules, and the layout.";
/// The button that replaces an existing file after the question.
pub const REPLACE: &str = "Replace it";
/// Closes the dialog without doing anything.
pub const CANCEL: &str = "Cancel";

/// Which way the dialog goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogMode {
    /// Write the current workspace to a file.
    Save,
    /// Replace the current workspace by a file's.
    Open,
}

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkspaceRequest {
    /// Write the workspace to this file (replacing it was confirmed when it existed).
    Save(PathBuf),
    /// Read this file and make it the workspace.
    Open(PathBuf),
}

/// The open dialog's state.
#[derive(Debug, Default)]
pub struct WorkspaceDialog {
    open: Option<DialogMode>,
    /// The path as typed or chosen.
    pub path: String,
    problem: Option<String>,
    confirm_replace: Option<PathBuf>,
    chooser: DialogSlot,
}

impl WorkspaceDialog {
    /// Opens the dialog, proposing `path` (the current workspace's file, if any).
    pub fn show_for(&mut self, mode: DialogMode, path: Option<&Path>) {
        self.open = Some(mode);
        self.problem = None;
        self.confirm_replace = None;
        if let Some(path) = path {
            self.path = path.display().to_string();
        }
    }

    /// True while the dialog is on screen.
    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// The app could not do what was asked: the dialog opens again with `sentence` under the
    /// field and the path as it was.
    pub fn failed(&mut self, mode: DialogMode, path: &Path, sentence: String) {
        self.open = Some(mode);
        self.path = path.display().to_string();
        self.problem = Some(sentence);
        self.confirm_replace = None;
    }

    /// Draws the dialog when it is open; returns the request once the user confirmed one.
    pub fn ui(&mut self, ctx: &egui::Context) -> Option<WorkspaceRequest> {
        let mode = self.open?;
        let title = match mode {
            DialogMode::Save => SAVE_TITLE,
            DialogMode::Open => OPEN_TITLE,
        };
        let mut request = None;
        let mut close = false;
        let modal =
            egui::Modal::new(egui::Id::unique("socketlab-workspace-dialog")).show(ctx, |ui| {
                ui.set_width(520.0_f32.min(ctx.content_rect().width() - 40.0));
                ui.heading(title);
                ui.horizontal(|ui| {
                    let field = labelled_edit(ui, PATH_LABEL, PATH_HINT, &mut self.path, 320.0, "");
                    if field.changed() {
                        self.problem = None;
                        self.confirm_replace = None;
                    }
                    let kind = || match mode {
                        DialogMode::Save => DialogKind::Save {
                            title: SAVE_TITLE.to_owned(),
                            file_name: format!("workspace.{WORKSPACE_EXTENSION}"),
                        },
                        DialogMode::Open => DialogKind::Open {
                            title: OPEN_TITLE.to_owned(),
                        },
                    };
                    dialog_button(ui, &mut self.chooser, "Choose…", kind, &mut self.path);
                });
                // The sentence line is always laid out, so the buttons below never move.
                let sentence = self
                    .problem
                    .clone()
                    .or_else(|| self.chooser.problem.clone())
                    .or_else(|| {
                        self.confirm_replace
                            .as_ref()
                            .map(|p| format!("{} exists already. Replace it?", p.display()))
                    });
                match sentence {
                    Some(text) => error_line(ui, &text),
                    None => {
                        ui.label(" ");
                    }
                }
                ui.horizontal(|ui| {
                    let path = self.chosen_path();
                    if let Some(existing) = self.confirm_replace.clone() {
                        if ui.button(REPLACE).clicked() {
                            request = Some(WorkspaceRequest::Save(existing));
                        }
                    } else if ui
                        .add_enabled(path.is_some(), egui::Button::new(title))
                        .clicked()
                        && let Some(path) = path
                    {
                        match mode {
                            DialogMode::Open => request = Some(WorkspaceRequest::Open(path)),
                            DialogMode::Save if path.exists() => self.confirm_replace = Some(path),
                            DialogMode::Save => request = Some(WorkspaceRequest::Save(path)),
                        }
                    }
                    if ui.button(CANCEL).clicked() {
                        close = true;
                    }
                });
            });
        if close || modal.should_close() || request.is_some() {
            self.open = None;
            self.confirm_replace = None;
        }
        request
    }

    /// The typed path, with the `.socketlab` extension added to a save's bare name.
    fn chosen_path(&self) -> Option<PathBuf> {
        let typed = self.path.trim();
        if typed.is_empty() {
            return None;
        }
        let mut path = PathBuf::from(typed);
        if self.open == Some(DialogMode::Save) && path.extension().is_none() {
            path.set_extension(WORKSPACE_EXTENSION);
        }
        Some(path)
    }
}

/// Puts `path` first in `recent`, without duplicates, keeping at most [`MAX_RECENT`].
pub fn remember_recent(recent: &mut Vec<PathBuf>, path: &Path) {
    recent.retain(|p| p != path);
    recent.insert(0, path.to_path_buf());
    recent.truncate(MAX_RECENT);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_files_are_unique_newest_first_and_bounded() {
        let mut recent = Vec::new();
        for n in 0..20 {
            remember_recent(&mut recent, Path::new(&format!("/w/{}.socketlab", n % 10)));
        }
        remember_recent(&mut recent, Path::new("/w/3.socketlab"));
        assert_eq!(recent.len(), MAX_RECENT);
        assert_eq!(recent[0], Path::new("/w/3.socketlab"));
        assert_eq!(recent[1], Path::new("/w/9.socketlab"));
        assert_eq!(
            recent.iter().filter(|p| p.ends_with("3.socketlab")).count(),
            1
        );
    }
}
