//! Capture to file: every received byte, in order, written by the worker thread that received it,
//! so nothing depends on the owner keeping up (the window may drop old log lines; a capture never
//! drops a byte).
//!
//! File names: a UDP server writes the payloads of all datagrams, in arrival order, to the file
//! named in [`CaptureConfig::path`]. A TCP server writes one file per client: client 3 of
//! `dump.bin` goes to `dump-3.bin` (the client number before the extension; see
//! [`CaptureConfig::path_for_client`]).
//!
//! An existing file is never replaced silently: without [`CaptureConfig::overwrite`] it is refused
//! with [`EngineError::Capture`] before anything is received.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::error::{EngineError, file_reason};
use super::event::ConnId;
use super::session::lock;

/// Buffer between the reader and the file: large reads (64 KiB) go straight through, small ones
/// are gathered so a chatty peer does not cost one `write` per `recv`.
const CAPTURE_BUFFER: usize = 64 * 1024;

/// Where a server writes what it receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureConfig {
    /// The file, or for a TCP server the pattern of the per-client files.
    pub path: PathBuf,
    /// Replace files that already exist. Off by default: an existing file is refused.
    pub overwrite: bool,
}

impl CaptureConfig {
    /// Capture to `path`, refusing to replace an existing file.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        CaptureConfig {
            path: path.into(),
            overwrite: false,
        }
    }

    /// The file of one TCP client: the client number goes before the extension
    /// (`dump.bin` → `dump-3.bin`, `dump` → `dump-3`).
    pub fn path_for_client(&self, id: ConnId) -> PathBuf {
        let mut name = self
            .path
            .file_stem()
            .map_or_else(OsString::new, ToOwned::to_owned);
        name.push(format!("-{id}"));
        if let Some(ext) = self.path.extension() {
            name.push(".");
            name.push(ext);
        }
        self.path.with_file_name(name)
    }

    /// Checks, before anything is received, that capturing can work: the folder exists, and unless
    /// overwriting is allowed no file the capture would write exists yet. `per_client` is the TCP
    /// server's naming (any `dump-N.bin` counts); otherwise the one file itself.
    pub fn check(&self, per_client: bool) -> Result<(), EngineError> {
        if self.path.is_dir() {
            return Err(Self::error(
                &self.path,
                "it is a folder: add a file name to it, such as capture.bin".to_owned(),
                false,
            ));
        }
        let folder = self.folder();
        if !folder.is_dir() {
            return Err(Self::error(
                &self.path,
                format!("the folder {} does not exist", folder.display()),
                false,
            ));
        }
        if self.overwrite {
            return Ok(());
        }
        if !per_client {
            return if self.path.exists() {
                Err(Self::error(
                    &self.path,
                    "the file already exists".to_owned(),
                    true,
                ))
            } else {
                Ok(())
            };
        }
        let entries =
            std::fs::read_dir(&folder).map_err(|e| Self::error(&folder, file_reason(&e), false))?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            if self.is_client_file(&name) {
                let existing = folder.join(&name);
                return Err(Self::error(
                    &existing,
                    "the file already exists".to_owned(),
                    true,
                ));
            }
        }
        Ok(())
    }

    /// Opens `path` for writing: created new, or truncated when overwriting is allowed.
    pub(crate) fn open(&self, path: &Path) -> Result<CaptureWriter, EngineError> {
        let mut options = OpenOptions::new();
        options.write(true);
        if self.overwrite {
            options.create(true).truncate(true);
        } else {
            options.create_new(true);
        }
        match options.open(path) {
            Ok(file) => Ok(CaptureWriter {
                path: path.to_path_buf(),
                out: BufWriter::with_capacity(CAPTURE_BUFFER, file),
            }),
            Err(e) => {
                let exists = e.kind() == ErrorKind::AlreadyExists;
                let message = if exists {
                    "the file already exists".to_owned()
                } else {
                    file_reason(&e)
                };
                Err(Self::error(path, message, exists))
            }
        }
    }

    fn folder(&self) -> PathBuf {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    /// True for `stem-N.ext` names, the files [`Self::path_for_client`] makes.
    fn is_client_file(&self, name: &std::ffi::OsStr) -> bool {
        let (Some(name), Some(stem)) = (
            name.to_str(),
            self.path.file_stem().and_then(|s| s.to_str()),
        ) else {
            return false;
        };
        let rest = match self.path.extension().and_then(|e| e.to_str()) {
            Some(ext) => name.strip_suffix(ext).and_then(|n| n.strip_suffix('.')),
            None => Some(name),
        };
        rest.and_then(|r| r.strip_prefix(stem))
            .and_then(|r| r.strip_prefix('-'))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    }

    fn error(path: &Path, message: String, exists: bool) -> EngineError {
        EngineError::Capture {
            path: path.display().to_string(),
            message,
            exists,
        }
    }
}

/// An open capture file, owned by the thread that receives.
pub(crate) struct CaptureWriter {
    path: PathBuf,
    out: BufWriter<File>,
}

impl CaptureWriter {
    /// Appends received bytes.
    pub(crate) fn write(&mut self, data: &[u8]) -> Result<(), EngineError> {
        self.out.write_all(data).map_err(|e| self.failed(&e))
    }

    /// Pushes buffered bytes to the file, so it is complete when the sender has finished.
    pub(crate) fn flush(&mut self) -> Result<(), EngineError> {
        self.out.flush().map_err(|e| self.failed(&e))
    }

    fn failed(&self, e: &std::io::Error) -> EngineError {
        EngineError::Capture {
            path: self.path.display().to_string(),
            message: file_reason(e),
            exists: false,
        }
    }
}

/// A writer shared by a TCP server's readers, for an owner that only passes received bytes on
/// (the command line's `--output raw` writes standard output through it). Each read goes out with
/// one `write_all` from the thread that received it, at once and unbuffered: bulk data does not
/// cross a channel or wait for the owner, a slow consumer of the output slows the peer through
/// TCP flow control, and an interactive peer's bytes appear as they come. Reads of several
/// clients are interleaved whole, in the order they were received.
#[derive(Clone)]
pub struct SharedOutput {
    name: Arc<str>,
    out: Arc<Mutex<Box<dyn Write + Send>>>,
}

impl SharedOutput {
    /// Wraps `out`; `name` ("standard output") names it in the error a failed write ends a
    /// connection with.
    pub fn new(name: impl Into<String>, out: impl Write + Send + 'static) -> Self {
        SharedOutput {
            name: Arc::from(name.into()),
            out: Arc::new(Mutex::new(Box::new(out))),
        }
    }

    /// Writes one read's bytes and flushes them. A failure is an [`EngineError::Capture`] naming
    /// the output: like a capture file, the output would no longer hold every byte.
    pub(crate) fn write(&self, data: &[u8]) -> Result<(), EngineError> {
        let mut out = lock(&self.out);
        out.write_all(data)
            .and_then(|()| out.flush())
            .map_err(|e| EngineError::Capture {
                path: self.name.to_string(),
                message: file_reason(&e),
                exists: false,
            })
    }
}

impl std::fmt::Debug for SharedOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedOutput")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_files_are_numbered_before_the_extension() {
        let c = CaptureConfig::new("out/dump.bin");
        assert_eq!(c.path_for_client(3), PathBuf::from("out/dump-3.bin"));
        assert_eq!(
            CaptureConfig::new("dump").path_for_client(12),
            PathBuf::from("dump-12")
        );
        assert!(c.is_client_file("dump-3.bin".as_ref()));
        assert!(!c.is_client_file("dump-.bin".as_ref()));
        assert!(!c.is_client_file("dump-3x.bin".as_ref()));
        assert!(!c.is_client_file("dump.bin".as_ref()));
        assert!(CaptureConfig::new("dump").is_client_file("dump-7".as_ref()));
    }
}
