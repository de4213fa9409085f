//! Native open and save dialogs (`rfd`) that never block the frame loop.
//!
//! A dialog runs on a helper thread of its own (on Linux it asks the desktop's
//! xdg-desktop-portal over D-Bus, then zenity; on Windows and macOS the system dialog); the
//! chosen path comes back over a channel, with a repaint request so the window picks it up at
//! once. The path field next to each button stays the way to type a path, and shows what the
//! dialog chose.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, TryRecvError, bounded};

use crate::gui::text as t;

/// A dialog that answers faster than this without a path most likely could not open at all
/// (no portal, no zenity): a person takes longer to cancel one.
const TOO_FAST_TO_BE_A_PERSON: Duration = Duration::from_millis(700);

/// Which dialog.
#[derive(Debug, Clone)]
pub enum DialogKind {
    /// Choose an existing file to read.
    Open {
        /// The dialog's title.
        title: String,
    },
    /// Choose where to write a file.
    Save {
        /// The dialog's title.
        title: String,
        /// The file name it proposes.
        file_name: String,
    },
}

/// What a finished dialog said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialogOutcome {
    /// A path was chosen.
    Chosen(PathBuf),
    /// Closed without a choice.
    Cancelled,
    /// No dialog could be shown (most likely); the sentence says what to do instead.
    Unavailable(String),
}

/// A dialog running on its helper thread.
#[derive(Debug, Clone)]
pub struct PendingDialog {
    answer: Receiver<Option<PathBuf>>,
    opened: Instant,
}

impl PendingDialog {
    /// Opens `kind` on a helper thread; `repaint` is called when it has answered.
    pub fn open(kind: DialogKind, repaint: impl Fn() + Send + 'static) -> Self {
        let (tx, rx) = bounded(1);
        let spawned = std::thread::Builder::new()
            .name("file-dialog".to_owned())
            .spawn(move || {
                let chosen = match kind {
                    DialogKind::Open { title } => {
                        rfd::FileDialog::new().set_title(title).pick_file()
                    }
                    DialogKind::Save { title, file_name } => rfd::FileDialog::new()
                        .set_title(title)
                        .set_file_name(file_name)
                        .save_file(),
                };
                let _ = tx.send(chosen);
                repaint();
            });
        // Without a thread there is no dialog: the receiver then reports a disconnect, which
        // `poll` turns into "unavailable".
        drop(spawned);
        PendingDialog {
            answer: rx,
            opened: Instant::now(),
        }
    }

    /// The outcome once the dialog has answered; `None` while it is still open.
    pub fn poll(&self) -> Option<DialogOutcome> {
        match self.answer.try_recv() {
            Ok(Some(path)) => Some(DialogOutcome::Chosen(path)),
            Ok(None) if self.opened.elapsed() >= TOO_FAST_TO_BE_A_PERSON => {
                Some(DialogOutcome::Cancelled)
            }
            Ok(None) | Err(TryRecvError::Disconnected) => {
                Some(DialogOutcome::Unavailable(t::DIALOG_UNAVAILABLE.to_owned()))
            }
            Err(TryRecvError::Empty) => None,
        }
    }
}

/// A path field's dialog: at most one open at a time, and the last "no dialog" sentence.
#[derive(Debug, Default, Clone)]
pub struct DialogSlot {
    pending: Option<PendingDialog>,
    /// Shown under the field when the dialog could not open.
    pub problem: Option<String>,
}

impl DialogSlot {
    /// True while the dialog is open (its button is then disabled).
    pub fn is_open(&self) -> bool {
        self.pending.is_some()
    }

    /// Opens the dialog, unless one is open already.
    pub fn open(&mut self, ui: &egui::Ui, kind: DialogKind) {
        if self.pending.is_none() {
            let ctx = ui.ctx().clone();
            self.problem = None;
            self.pending = Some(PendingDialog::open(kind, move || ctx.request_repaint()));
        }
    }

    /// Writes a chosen path into `field`; returns true when it did.
    pub fn take_into(&mut self, field: &mut String) -> bool {
        let Some(outcome) = self.pending.as_ref().and_then(PendingDialog::poll) else {
            return false;
        };
        self.pending = None;
        match outcome {
            DialogOutcome::Chosen(path) => {
                *field = path.display().to_string();
                true
            }
            DialogOutcome::Cancelled => false,
            DialogOutcome::Unavailable(sentence) => {
                self.problem = Some(sentence);
                false
            }
        }
    }
}

/// The button that opens `kind` for the path `field`: it puts the chosen path into the field
/// (which stays editable: typing is the fallback), and shows why when no dialog could open.
pub fn dialog_button(
    ui: &mut egui::Ui,
    slot: &mut DialogSlot,
    label: &str,
    kind: impl FnOnce() -> DialogKind,
    field: &mut String,
) {
    slot.take_into(field);
    if ui
        .add_enabled(!slot.is_open(), egui::Button::new(label))
        .clicked()
    {
        slot.open(ui, kind());
    }
}

/// [`dialog_button`] for a field whose owner has no place for the dialog's state: it is kept in
/// egui's memory under `id`.
pub fn remembered_dialog_button(
    ui: &mut egui::Ui,
    id: egui::Id,
    label: &str,
    kind: impl FnOnce() -> DialogKind,
    field: &mut String,
) -> Option<String> {
    let mut slot: DialogSlot = ui.data_mut(|d| d.get_temp(id)).unwrap_or_default();
    dialog_button(ui, &mut slot, label, kind, field);
    let problem = slot.problem.clone();
    ui.data_mut(|d| d.insert_temp(id, slot));
    problem
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without a desktop (no display, no session bus: CI, a server over ssh) no dialog can open:
    /// the answer comes back at once as "unavailable", with the sentence that says to type the
    /// path. Skipped where a desktop exists, since a real dialog would wait for a person.
    #[test]
    fn without_a_desktop_the_dialog_says_to_type_the_path() {
        let desktop = ["DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS"]
            .iter()
            .any(|v| std::env::var_os(v).is_some());
        if desktop || !cfg!(target_os = "linux") {
            eprintln!("a desktop may be present: not opening a real dialog");
            return;
        }
        let dialog = PendingDialog::open(
            DialogKind::Open {
                title: "test".to_owned(),
            },
            || {},
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        let outcome = loop {
            if let Some(outcome) = dialog.poll() {
                break outcome;
            }
            assert!(Instant::now() < deadline, "the dialog never answered");
            std::thread::sleep(Duration::from_millis(5));
        };
        assert_eq!(
            outcome,
            DialogOutcome::Unavailable(t::DIALOG_UNAVAILABLE.to_owned())
        );
    }
}
