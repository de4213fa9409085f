//! The settings file: the [`AppState`] the window comes back to, as `settings.json` in the data
//! folder (`~/.local/share/socketlab/` on Linux), written atomically. A file that cannot be read
//! is never replaced by defaults behind the user's back: it is renamed to `settings.json.bak`
//! (or `.bak.2` …) first, and the window says so. Settings of the four-tab builds (eframe's
//! `app.ron`) are taken over into four sessions the first time.

use std::path::{Path, PathBuf};

use super::file::{WorkspaceError, read_versioned, write_json_atomically};
use super::legacy::{self, EFRAME_STORAGE_FILE};
use super::{AppState, WORKSPACE_VERSION};

/// The settings file's name inside the data folder.
pub const SETTINGS_FILE: &str = "settings.json";

/// How many `.bak` names are tried before giving up on keeping a bad file aside.
const MAX_BACKUPS: u32 = 20;

/// Where the settings live, and whether they may be written.
#[derive(Debug, Clone)]
pub struct SettingsStore {
    folder: PathBuf,
    /// False after a bad settings file could not be moved aside: writing would destroy it.
    writable: bool,
}

/// What loading found: the state to start from, and a sentence for the user when something
/// needs saying (a file kept aside, settings taken over from an earlier build).
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// The state to start from.
    pub state: AppState,
    /// Said once, in the window, when the start was not the ordinary one.
    pub notice: Option<String>,
}

impl SettingsStore {
    /// A store in `folder` (created when first saving).
    pub fn in_folder(folder: impl Into<PathBuf>) -> Self {
        SettingsStore {
            folder: folder.into(),
            writable: true,
        }
    }

    /// The store in the system's data folder for this program (the one eframe uses for the
    /// window's size), or `None` where the system has none.
    pub fn for_this_user() -> Option<Self> {
        eframe::storage_dir(crate::gui::icon::APP_ID).map(Self::in_folder)
    }

    /// The settings file.
    pub fn path(&self) -> PathBuf {
        self.folder.join(SETTINGS_FILE)
    }

    /// False when a bad file could not be kept aside, so saving is off for this run.
    pub fn is_writable(&self) -> bool {
        self.writable
    }

    /// Reads the settings, taking over an earlier build's or keeping a bad file aside.
    pub fn load(&mut self) -> Loaded {
        let path = self.path();
        match read_versioned::<AppState>(&path, &["version", "workspace"]) {
            Ok(state) => Loaded {
                state,
                notice: None,
            },
            Err(WorkspaceError::Unreadable { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                self.take_over_legacy()
            }
            Err(problem) => {
                let notice = match keep_aside(&path) {
                    Ok(backup) => format!(
                        "Could not use the settings file: {} It was kept as {}; Socket Lab \
                         started with the default sessions.",
                        problem.sentence(),
                        backup.display()
                    ),
                    Err(e) => {
                        self.writable = false;
                        format!(
                            "Could not use the settings file: {} It could not be kept aside \
                             ({e}), so this run will not save settings over it.",
                            problem.sentence()
                        )
                    }
                };
                Loaded {
                    state: AppState::default(),
                    notice: Some(notice),
                }
            }
        }
    }

    fn take_over_legacy(&mut self) -> Loaded {
        match legacy::read_from_folder(&self.folder) {
            Ok(Some(old)) => Loaded {
                state: old.into_state(),
                notice: Some(
                    "Your settings from the earlier Socket Lab were taken over: its four tabs are \
                     now four sessions."
                        .to_owned(),
                ),
            },
            Ok(None) => Loaded {
                state: AppState::default(),
                notice: None,
            },
            Err(e) => {
                let old = self.folder.join(EFRAME_STORAGE_FILE);
                let detail = match e {
                    legacy::LegacyError::Storage(d) | legacy::LegacyError::Settings(d) => d,
                };
                let kept = match copy_aside(&old) {
                    Ok(backup) => format!("a copy was kept as {}", backup.display()),
                    Err(e) => format!("it could not be copied aside: {e}"),
                };
                Loaded {
                    state: AppState::default(),
                    notice: Some(format!(
                        "Could not take over the settings of the earlier Socket Lab in {} \
                         ({detail}); {kept}. Socket Lab started with the default sessions.",
                        old.display()
                    )),
                }
            }
        }
    }

    /// Writes the settings (atomically).
    pub fn save(&self, state: &AppState) -> Result<(), WorkspaceError> {
        let path = self.path();
        if !self.writable {
            return Err(WorkspaceError::Unwritable {
                path,
                source: std::io::Error::other(
                    "the unreadable settings file there is kept for you to look at",
                ),
            });
        }
        std::fs::create_dir_all(&self.folder).map_err(|source| WorkspaceError::Unwritable {
            path: path.clone(),
            source,
        })?;
        let mut state = state.clone();
        state.version = WORKSPACE_VERSION;
        state.workspace.version = WORKSPACE_VERSION;
        write_json_atomically(&path, &state)
    }
}

/// The first free `FILE.bak`, `FILE.bak.2` … beside `path`.
fn free_backup_name(path: &Path) -> std::io::Result<PathBuf> {
    let base = path.as_os_str().to_owned();
    for n in 1..=MAX_BACKUPS {
        let mut name = base.clone();
        name.push(if n == 1 {
            ".bak".to_owned()
        } else {
            format!(".bak.{n}")
        });
        let candidate = PathBuf::from(name);
        if !candidate.exists() {
            return Ok(candidate);
        }
    }
    Err(std::io::Error::other(format!(
        "{MAX_BACKUPS} backups already exist"
    )))
}

fn keep_aside(path: &Path) -> std::io::Result<PathBuf> {
    let backup = free_backup_name(path)?;
    std::fs::rename(path, &backup)?;
    Ok(backup)
}

fn copy_aside(path: &Path) -> std::io::Result<PathBuf> {
    let backup = free_backup_name(path)?;
    std::fs::copy(path, &backup)?;
    Ok(backup)
}
