//! Send a file: the engine streams it in chunks from the thread that writes (a TCP connection's
//! writer, or a UDP session's file thread), so a 10 GB file neither passes through the window nor
//! waits for a frame.
//!
//! What the owner sees is bounded: a `Started` event, at most one `Progress` event per
//! [`PROGRESS_INTERVAL`], and one final event (`Finished`, `Cancelled` or `Failed`) that carries the
//! exact totals and the first [`PREVIEW_BYTES`] bytes for the log. The session's counters count
//! every byte and every write or datagram as it goes out, so they stay exact whatever the view keeps.
//!
//! Cancel ([`crate::engine::Session::cancel_file_sends`]) raises a generation counter that the
//! sending thread checks between chunks, and while a send waits for a peer that does not read (the
//! socket's send timeout wakes it every [`SEND_WAIT`]; not on Windows, where a timed-out send
//! leaves the socket undefined, so there Cancel acts at the next chunk), so it takes effect
//! promptly and the session stays usable.
//!
//! UDP rule: a file is split into datagrams of a chosen size (1 to 65,507 bytes over IPv4, 65,527
//! over IPv6), and a file larger than [`UDP_FILE_LIMIT`] is refused: UDP neither retransmits nor
//! slows down for the receiver, so a file that large almost certainly arrives with holes, and it
//! cannot be put back together without a protocol on top. Use TCP for big files.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::error::{EngineError, ErrorClass, FileSendError, classify};
use super::event::{ConnId, EventKind, Payload};
pub use super::log_store::PREVIEW_BYTES;
use super::session::EventSink;

/// Bytes read from the file and written per step: large enough for bulk speed, small enough that
/// Cancel is checked often.
pub const FILE_CHUNK: usize = 64 * 1024;
/// Shortest time between two progress events of one send.
pub const PROGRESS_INTERVAL: Duration = Duration::from_millis(50);
/// Largest file sent over UDP (64 MiB); see the module documentation.
pub const UDP_FILE_LIMIT: u64 = 64 * 1024 * 1024;
/// How long a send blocked on a full send buffer waits before it looks at Cancel again.
pub const SEND_WAIT: Duration = Duration::from_millis(100);

/// Where a file send stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileStage {
    /// The file is open and sending begins.
    Started,
    /// Some bytes have gone out (throttled: at most one per [`PROGRESS_INTERVAL`]).
    Progress,
    /// Every byte of the file went out.
    Finished,
    /// Cancel stopped it; `sent` bytes went out before.
    Cancelled,
    /// It failed after `sent` bytes (the peer went away, the file could not be read).
    Failed(EngineError),
}

/// One report about a file send.
#[derive(Debug, Clone)]
pub struct FileSendEvent {
    /// The TCP connection it goes to (`None` for UDP).
    pub conn: Option<ConnId>,
    /// The receiver.
    pub to: SocketAddr,
    /// The file.
    pub path: PathBuf,
    /// Bytes sent so far (exact).
    pub sent: u64,
    /// The file's size when the send started.
    pub total: u64,
    /// Writes (TCP) or datagrams (UDP) so far.
    pub pieces: u64,
    /// Where it stands.
    pub stage: FileStage,
    /// In the final event: the first [`PREVIEW_BYTES`] bytes that went out, for the log.
    pub preview: Option<Payload>,
}

impl FileSendEvent {
    /// True for the last event of a send.
    pub fn is_final(&self) -> bool {
        matches!(
            self.stage,
            FileStage::Finished | FileStage::Cancelled | FileStage::Failed(_)
        )
    }
}

/// A file opened for sending, checked first: it exists, is a regular file (a folder or a device
/// such as `/dev/zero` is refused) and could be opened for reading.
#[derive(Debug)]
pub(crate) struct FileSource {
    pub file: File,
    pub path: PathBuf,
    pub total: u64,
}

/// Builds the error for a file send; `step` is what failed (`open`, `read`, `send`, `sendto`).
pub(crate) fn file_error(
    step: &'static str,
    path: &Path,
    to: impl std::fmt::Display,
    sent: u64,
    class: ErrorClass,
    message: impl Into<String>,
) -> EngineError {
    EngineError::FileSend(Box::new(FileSendError {
        step,
        path: path.display().to_string(),
        to: to.to_string(),
        sent,
        class,
        message: message.into(),
    }))
}

impl FileSource {
    /// Opens `path` for sending to `to`.
    pub(crate) fn open(path: &Path, to: impl std::fmt::Display) -> Result<Self, EngineError> {
        let fail = |class, message: String| Err(file_error("open", path, &to, 0, class, message));
        if path.as_os_str().is_empty() {
            return fail(ErrorClass::InvalidInput, "no file was named".to_owned());
        }
        let meta = match std::fs::metadata(path) {
            Ok(meta) => meta,
            Err(e) => return fail(classify(&e), e.to_string()),
        };
        if meta.is_dir() {
            return fail(
                ErrorClass::InvalidInput,
                "it is a folder, not a file".to_owned(),
            );
        }
        if !meta.is_file() {
            return fail(
                ErrorClass::InvalidInput,
                "it is not a regular file (a device, pipe or socket has no end to send)".to_owned(),
            );
        }
        match File::open(path) {
            Ok(file) => Ok(FileSource {
                file,
                path: path.to_path_buf(),
                total: meta.len(),
            }),
            Err(e) => fail(classify(&e), e.to_string()),
        }
    }

    /// Reads up to `buf.len()` bytes, filling the buffer unless the file ends: a UDP datagram
    /// must get its full chosen size from short reads too. Returns 0 at the end.
    pub(crate) fn fill(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.file.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(filled)
    }
}

/// The cancel generation a send started under: it is cancelled once the session's counter moves.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CancelToken(u64);

impl CancelToken {
    pub(crate) fn now(counter: &AtomicU64) -> Self {
        CancelToken(counter.load(Ordering::Acquire))
    }

    pub(crate) fn is_cancelled(self, counter: &AtomicU64) -> bool {
        counter.load(Ordering::Acquire) != self.0
    }
}

/// Follows one send and reports it: throttled progress, then one final event with the totals.
pub(crate) struct Progress {
    conn: Option<ConnId>,
    to: SocketAddr,
    path: PathBuf,
    total: u64,
    sent: u64,
    pieces: u64,
    preview: Vec<u8>,
    last_report: Instant,
}

impl Progress {
    /// Starts following a send and reports `Started`.
    pub(crate) fn start(
        sink: &EventSink,
        conn: Option<ConnId>,
        to: SocketAddr,
        source: &FileSource,
    ) -> Self {
        let progress = Progress {
            conn,
            to,
            path: source.path.clone(),
            total: source.total,
            sent: 0,
            pieces: 0,
            preview: Vec::new(),
            last_report: Instant::now(),
        };
        sink.emit(progress.event(FileStage::Started, None));
        progress
    }

    /// Bytes sent so far.
    pub(crate) fn sent(&self) -> u64 {
        self.sent
    }

    /// Counts `data` as sent (`piece` when it completes a write or is a datagram), and reports
    /// progress if the last report is old enough.
    pub(crate) fn advance(&mut self, sink: &EventSink, data: &[u8], piece: bool) {
        self.sent += data.len() as u64;
        if piece {
            self.pieces += 1;
        }
        if self.preview.len() < PREVIEW_BYTES {
            let take = data.len().min(PREVIEW_BYTES - self.preview.len());
            self.preview.extend_from_slice(&data[..take]);
        }
        self.tick(sink);
    }

    /// Reports progress if the last report is old enough; also called while a send waits for a
    /// peer that does not read, so the owner sees the send stall (0 bytes/s) instead of silence.
    pub(crate) fn tick(&mut self, sink: &EventSink) {
        if self.last_report.elapsed() >= PROGRESS_INTERVAL {
            self.last_report = Instant::now();
            // Progress is only a view: when the owner is behind, skip it rather than wait.
            let _ = sink.try_emit(self.event(FileStage::Progress, None));
        }
    }

    /// Counts one more write that carried bytes already counted by [`Progress::advance`].
    pub(crate) fn count_piece(&mut self) {
        self.pieces += 1;
    }

    /// Reports the end.
    pub(crate) fn finish(self, sink: &EventSink, stage: FileStage) {
        let preview = Payload::from(self.preview.as_slice());
        sink.emit(self.event(stage, Some(preview)));
    }

    /// Reports that `step` (`read`, `send`, `sendto`) failed with `error` and ends the send.
    pub(crate) fn fail(self, sink: &EventSink, step: &'static str, error: &std::io::Error) {
        let error = file_error(
            step,
            &self.path,
            self.to,
            self.sent,
            classify(error),
            error.to_string(),
        );
        self.finish(sink, FileStage::Failed(error));
    }

    fn event(&self, stage: FileStage, preview: Option<Payload>) -> EventKind {
        EventKind::FileSend(Box::new(FileSendEvent {
            conn: self.conn,
            to: self.to,
            path: self.path.clone(),
            sent: self.sent,
            total: self.total,
            pieces: self.pieces,
            stage,
            preview,
        }))
    }
}

/// Checks a datagram size for a UDP file send to `to`.
pub fn check_piece_size(datagram_size: usize, to: &SocketAddr) -> Result<(), EngineError> {
    let (limit, family) = super::udp::max_payload(to);
    if datagram_size == 0 || datagram_size > limit {
        return Err(EngineError::DatagramSize {
            size: datagram_size,
            limit,
            family,
        });
    }
    Ok(())
}
