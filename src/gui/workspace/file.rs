//! Reading and writing `.socketlab` files. Reading classifies everything that can be wrong with
//! a file (unreadable, empty, cut short, not JSON, JSON that is not a workspace, a newer format,
//! a field of the wrong shape) into a [`WorkspaceError`] whose sentence names the file; the
//! caller keeps its current workspace. Writing goes to a temporary file in the same folder that
//! is then renamed over the target, so a crash mid-save leaves either the old file or the new
//! one, never half of one.

use std::fmt;
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{WORKSPACE_VERSION, Workspace};

/// No workspace or settings file is anywhere near this big; a bigger one is refused unread so a
/// mistaken choice (a disk image, a video) cannot take the window's memory.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// What went wrong with a workspace or settings file. Every variant carries the file's path.
#[derive(Debug)]
pub enum WorkspaceError {
    /// The file could not be opened or read (missing, permission, a folder …).
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why the system refused.
        source: io::Error,
    },
    /// The file is bigger than [`MAX_FILE_BYTES`].
    TooBig {
        /// The file.
        path: PathBuf,
        /// Its size in bytes.
        bytes: u64,
    },
    /// The file has no content.
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The JSON stops in the middle (a save that was cut off, a partial copy).
    Truncated {
        /// The file.
        path: PathBuf,
    },
    /// Not JSON at all, or broken JSON.
    Corrupt {
        /// The file.
        path: PathBuf,
        /// 1-based line of the first problem.
        line: usize,
        /// 1-based column of the first problem.
        column: usize,
    },
    /// Valid JSON, but not a Socket Lab workspace (no `version` and `sessions`).
    NotAWorkspace {
        /// The file.
        path: PathBuf,
    },
    /// Written by a newer Socket Lab, in a format this build does not know.
    Newer {
        /// The file.
        path: PathBuf,
        /// The file's format version.
        version: u64,
    },
    /// A workspace whose content has the wrong shape (a port that is a list, an unknown kind of
    /// session …).
    Invalid {
        /// The file.
        path: PathBuf,
        /// serde's description of the first problem.
        detail: String,
    },
    /// The file could not be written.
    Unwritable {
        /// The file.
        path: PathBuf,
        /// Why the system refused.
        source: io::Error,
    },
}

impl WorkspaceError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            WorkspaceError::Unreadable { path, .. }
            | WorkspaceError::TooBig { path, .. }
            | WorkspaceError::Empty { path }
            | WorkspaceError::Truncated { path }
            | WorkspaceError::Corrupt { path, .. }
            | WorkspaceError::NotAWorkspace { path }
            | WorkspaceError::Newer { path, .. }
            | WorkspaceError::Invalid { path, .. }
            | WorkspaceError::Unwritable { path, .. } => path,
        }
    }

    /// One plain sentence for the person who chose the file: which file, what is wrong with it,
    /// and that nothing was changed.
    pub fn sentence(&self) -> String {
        let file = self.path().display();
        match self {
            WorkspaceError::Unreadable { source, .. } => {
                format!("Could not open {file}: {}.", io_reason(source))
            }
            WorkspaceError::TooBig { bytes, .. } => format!(
                "{file} is not a workspace: it is {bytes} bytes, far bigger than any workspace \
                 (at most {MAX_FILE_BYTES} bytes)."
            ),
            WorkspaceError::Empty { .. } => {
                format!("{file} is empty: there is no workspace in it.")
            }
            WorkspaceError::Truncated { .. } => format!(
                "{file} is cut short: it ends in the middle of the workspace (an interrupted copy \
                 or save?)."
            ),
            WorkspaceError::Corrupt { line, column, .. } => format!(
                "{file} is not a readable workspace: it is not valid JSON (line {line}, column \
                 {column})."
            ),
            WorkspaceError::NotAWorkspace { .. } => format!(
                "{file} is not a Socket Lab workspace: it has no \"version\" and \"sessions\"."
            ),
            WorkspaceError::Newer { version, .. } => format!(
                "{file} was saved by a newer Socket Lab (workspace format {version}; this one \
                 reads up to {WORKSPACE_VERSION}). Update Socket Lab to open it."
            ),
            WorkspaceError::Invalid { detail, .. } => {
                format!("{file} is a workspace with a damaged entry: {detail}.")
            }
            WorkspaceError::Unwritable { source, .. } => {
                format!("Could not save {file}: {}.", io_reason(source))
            }
        }
    }
}

impl fmt::Display for WorkspaceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sentence())
    }
}

impl std::error::Error for WorkspaceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WorkspaceError::Unreadable { source, .. }
            | WorkspaceError::Unwritable { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The system's reason in lower case, without the "(os error N)" tail a person cannot use.
fn io_reason(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::NotFound => "there is no such file".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        io::ErrorKind::IsADirectory => "it is a folder, not a file".to_owned(),
        _ => {
            let text = error.to_string();
            let text = text.split(" (os error").next().unwrap_or(&text).to_owned();
            let mut chars = text.chars();
            match chars.next() {
                Some(first) => first.to_lowercase().chain(chars).collect(),
                None => text,
            }
        }
    }
}

/// Reads and checks a workspace file. The caller's workspace is untouched whatever happens.
pub fn read_workspace(path: &Path) -> Result<Workspace, WorkspaceError> {
    read_versioned(path, &["version", "sessions"])
}

/// Reads a versioned JSON document of type `T` (a workspace, or the settings that hold one):
/// `required` are the top-level keys without which the file is "not ours".
pub(crate) fn read_versioned<T: DeserializeOwned>(
    path: &Path,
    required: &[&str],
) -> Result<T, WorkspaceError> {
    let bytes = read_bounded(path)?;
    let owned = || path.to_path_buf();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(WorkspaceError::Empty { path: owned() });
    }
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| match e.classify() {
            serde_json::error::Category::Eof => WorkspaceError::Truncated { path: owned() },
            _ => WorkspaceError::Corrupt {
                path: owned(),
                line: e.line(),
                column: e.column(),
            },
        })?;
    let Some(object) = value.as_object() else {
        return Err(WorkspaceError::NotAWorkspace { path: owned() });
    };
    if required.iter().any(|key| !object.contains_key(*key)) {
        return Err(WorkspaceError::NotAWorkspace { path: owned() });
    }
    match object.get("version").and_then(serde_json::Value::as_u64) {
        Some(version) if version > u64::from(WORKSPACE_VERSION) => {
            return Err(WorkspaceError::Newer {
                path: owned(),
                version,
            });
        }
        Some(_) => {}
        None => return Err(WorkspaceError::NotAWorkspace { path: owned() }),
    }
    serde_json::from_value(value).map_err(|e| WorkspaceError::Invalid {
        path: owned(),
        detail: e.to_string(),
    })
}

fn read_bounded(path: &Path) -> Result<Vec<u8>, WorkspaceError> {
    let unreadable = |source| WorkspaceError::Unreadable {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let meta = file.metadata().map_err(unreadable)?;
    if meta.is_dir() {
        return Err(unreadable(io::Error::from(io::ErrorKind::IsADirectory)));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(WorkspaceError::TooBig {
            path: path.to_path_buf(),
            bytes: meta.len(),
        });
    }
    let mut bytes = Vec::new();
    // `take` bounds what a file that grows while we read (or lies about its size) can cost.
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(WorkspaceError::TooBig {
            path: path.to_path_buf(),
            bytes: bytes.len() as u64,
        });
    }
    Ok(bytes)
}

/// Saves a workspace to `path`, replacing the file there in one step.
pub fn write_workspace(path: &Path, workspace: &Workspace) -> Result<(), WorkspaceError> {
    let mut workspace = workspace.clone();
    workspace.version = WORKSPACE_VERSION;
    write_json_atomically(path, &workspace)
}

/// Writes `value` as pretty JSON to a temporary file beside `path`, flushes it to the disk, and
/// renames it over `path`: readers see the old file or the new one, never a half-written one.
pub(crate) fn write_json_atomically<T: Serialize>(
    path: &Path,
    value: &T,
) -> Result<(), WorkspaceError> {
    let unwritable = |source| WorkspaceError::Unwritable {
        path: path.to_path_buf(),
        source,
    };
    let json = serde_json::to_vec_pretty(value).map_err(|e| unwritable(io::Error::other(e)))?;
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut temporary = tempfile::Builder::new()
        .prefix(".socketlab-save-")
        .suffix(".tmp")
        .tempfile_in(folder)
        .map_err(unwritable)?;
    temporary.write_all(&json).map_err(unwritable)?;
    temporary.write_all(b"\n").map_err(unwritable)?;
    temporary.as_file().sync_all().map_err(unwritable)?;
    temporary.persist(path).map_err(|e| unwritable(e.error))?;
    Ok(())
}
