//! The window's side of workspace files: which file the sessions belong to, the recent files,
//! the Save/Open dialog, the settings store, and the one-line notices (a settings file kept
//! aside, settings taken over, "Saved to …"). The app owns one [`WorkspaceFiles`]; it hands over
//! the current workspace when asked and loads the one an Open returns.

use std::path::{Path, PathBuf};

use super::dialog::{DialogMode, WorkspaceDialog, WorkspaceRequest, remember_recent};
use super::ending::EndRequest;
use super::{AppState, SettingsStore, Workspace, read_workspace, write_workspace};

/// The label of the button that dismisses a notice.
pub const DISMISS: &str = "Dismiss";

/// Workspace files as the window sees them.
#[derive(Debug, Default)]
pub struct WorkspaceFiles {
    /// Where settings are kept between runs; `None` where the system has no data folder (then
    /// nothing is remembered, and the notice says so once).
    pub store: Option<SettingsStore>,
    /// The file the sessions came from or were last saved to.
    pub path: Option<PathBuf>,
    /// Recent workspace files, newest first.
    pub recent: Vec<PathBuf>,
    /// The Save/Open dialog.
    pub dialog: WorkspaceDialog,
    /// Raised by the end signals; the app saves and closes when it sees it.
    pub end: EndRequest,
    notice: Option<String>,
    /// The workspace as it is in [`Self::path`], to tell whether Open would lose changes.
    on_disk: Option<Workspace>,
    /// An Open that waits for "open anyway" because the current sessions have unsaved changes.
    pending_open: Option<PathBuf>,
}

impl WorkspaceFiles {
    /// Files for a window that starts from `state`, with `store` (and what loading it said).
    pub fn new(state: &AppState, store: Option<SettingsStore>, notice: Option<String>) -> Self {
        WorkspaceFiles {
            store,
            path: state.workspace_path.clone(),
            recent: state.recent.clone(),
            notice,
            on_disk: state
                .workspace_path
                .as_deref()
                .and_then(|p| read_workspace(p).ok()),
            ..WorkspaceFiles::default()
        }
    }

    /// Fills in what the files part of the saved state holds.
    pub fn complete(&self, state: &mut AppState) {
        state.workspace_path.clone_from(&self.path);
        state.recent.clone_from(&self.recent);
    }

    /// The notice on screen, if any.
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    /// Puts a sentence in the notice line (replacing the one there).
    pub fn tell(&mut self, sentence: impl Into<String>) {
        self.notice = Some(sentence.into());
    }

    /// Saves `workspace` to `path`; on success the sessions belong to that file.
    pub fn save_to(&mut self, path: &Path, workspace: &Workspace) -> Result<(), String> {
        write_workspace(path, workspace).map_err(|e| e.sentence())?;
        self.path = Some(path.to_path_buf());
        self.on_disk = Some(workspace.clone());
        remember_recent(&mut self.recent, path);
        self.notice = Some(format!(
            "Saved {} sessions to {}.",
            workspace.sessions.len(),
            path.display()
        ));
        Ok(())
    }

    /// Reads the workspace in `path`; on success the caller loads it (the sessions then belong
    /// to that file). On failure nothing changes and the sentence says why.
    pub fn open(&mut self, path: &Path) -> Result<Workspace, String> {
        let workspace = read_workspace(path).map_err(|e| e.sentence())?;
        self.path = Some(path.to_path_buf());
        self.on_disk = Some(workspace.clone());
        remember_recent(&mut self.recent, path);
        self.notice = Some(format!(
            "Opened {} with {} sessions, all stopped: press a session's button, or File ▸ Start \
             all.",
            path.display(),
            workspace.sessions.len()
        ));
        Ok(workspace)
    }

    /// *Save workspace*: straight to the current file, or through the dialog when there is none.
    pub fn save(&mut self, workspace: &Workspace) {
        match self.path.clone() {
            Some(path) => {
                if let Err(sentence) = self.save_to(&path, workspace) {
                    self.dialog.failed(DialogMode::Save, &path, sentence);
                }
            }
            None => self.dialog.show_for(DialogMode::Save, None),
        }
    }

    /// *Save workspace as…*: the dialog, proposing the current file.
    pub fn save_as(&mut self) {
        self.dialog.show_for(DialogMode::Save, self.path.as_deref());
    }

    /// *Open workspace…*: the dialog.
    pub fn ask_open(&mut self) {
        self.dialog.show_for(DialogMode::Open, None);
    }

    /// Opens `path` (a Recent item or the command line's file) unless the current sessions have
    /// unsaved changes: then the notice asks first. Returns the workspace to load.
    pub fn open_checked(&mut self, path: &Path, current: &Workspace) -> Option<Workspace> {
        if self.has_unsaved_changes(current) {
            self.pending_open = Some(path.to_path_buf());
            return None;
        }
        self.open_or_tell(path)
    }

    fn open_or_tell(&mut self, path: &Path) -> Option<Workspace> {
        match self.open(path) {
            Ok(workspace) => Some(workspace),
            Err(sentence) => {
                self.dialog.failed(DialogMode::Open, path, sentence);
                None
            }
        }
    }

    /// True when the sessions differ from the file they belong to (or belong to none and are
    /// not the default set a first start shows).
    pub fn has_unsaved_changes(&self, current: &Workspace) -> bool {
        match &self.on_disk {
            Some(saved) => saved.sessions != current.sessions,
            None => current.sessions != Workspace::default().sessions,
        }
    }

    /// Saves the settings (the whole window state) to the store; the sentence when it failed.
    pub fn save_settings(&self, state: &AppState) -> Result<(), String> {
        match &self.store {
            Some(store) => store.save(state).map_err(|e| e.sentence()),
            None => Ok(()),
        }
    }

    /// Draws the dialog, the unsaved-changes question and the notice line; carries out a Save
    /// itself and returns the workspace of a confirmed Open for the app to load.
    pub fn ui(&mut self, ctx: &egui::Context, current: &Workspace) -> Option<Workspace> {
        let mut load = None;
        match self.dialog.ui(ctx) {
            Some(WorkspaceRequest::Save(path)) => {
                if let Err(sentence) = self.save_to(&path, current) {
                    self.dialog.failed(DialogMode::Save, &path, sentence);
                }
            }
            Some(WorkspaceRequest::Open(path)) => load = self.open_checked(&path, current),
            None => {}
        }
        if let Some(path) = self.pending_open.clone() {
            match Self::unsaved_question(ctx, &path) {
                Some(true) => {
                    self.pending_open = None;
                    load = self.open_or_tell(&path);
                }
                Some(false) => self.pending_open = None,
                None => {}
            }
        }
        self.notice_line(ctx);
        load
    }

    /// "Open anyway?" for an Open over unsaved sessions: `Some(true)` to go on.
    fn unsaved_question(ctx: &egui::Context, path: &Path) -> Option<bool> {
        let mut answer = None;
        egui::Modal::new(egui::Id::unique("socketlab-unsaved-sessions")).show(ctx, |ui| {
            ui.heading("Open another workspace?");
            ui.label(format!(
                "The sessions open now have changes that are not saved in a workspace file. \
                 Opening {} stops them and puts its sessions in their place.",
                path.display()
            ));
            ui.horizontal(|ui| {
                if ui.button("Open anyway").clicked() {
                    answer = Some(true);
                }
                if ui.button(super::dialog::CANCEL).clicked() {
                    answer = Some(false);
                }
            });
        });
        answer
    }

    /// The notice, as an overlay at the bottom of the window so nothing under the cursor moves
    /// when one appears.
    fn notice_line(&mut self, ctx: &egui::Context) {
        let Some(text) = self.notice.clone() else {
            return;
        };
        let mut dismissed = false;
        egui::Area::new(egui::Id::unique("socketlab-notice"))
            .anchor(egui::Align2::CENTER_BOTTOM, [0.0, -8.0])
            .order(egui::Order::Foreground)
            .show(ctx, |ui| {
                egui::Frame::popup(ui.style()).show(ui, |ui| {
                    ui.set_max_width(ctx.content_rect().width() * 0.8);
                    ui.horizontal_wrapped(|ui| {
                        ui.label(text);
                        dismissed = ui.button(DISMISS).clicked();
                    });
                });
            });
        if dismissed {
            self.notice = None;
        }
    }
}
