//! One established TCP connection, shared by the client and the server roles.
//!
//! A reader thread blocks in `recv`; it reports every read, runs echo mode, and at the end tells
//! the supervisor why the connection is over. A writer thread is started only when something is
//! first sent, so thousands of idle server clients cost one thread each. The threads share the
//! connection's one socket: closing and aborting act on it from any thread (`shutdown` wakes a
//! blocked `recv` at once), and a connection costs one descriptor.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded, select};
use socket2::SockRef;

use super::autoreply::AutoReplyView;
use super::capture::{CaptureWriter, SharedOutput};
use super::error::{EngineError, ErrorClass, Op, classify};
use super::event::{Chunk, CloseReason, ConnId, EventKind, Payload};
use super::file_send::{
    CancelToken, FILE_CHUNK, FileSource, FileStage, Progress, SEND_WAIT, file_error,
};
use super::framing::{Framer, FramingConfig, MessageBatch, Piece};
use super::session::{ClientStats, EventSink, SessionShared, add, lock, spawn_worker};
use super::tls::link::{TlsLink, Wire};
use super::tls::{TlsEvent, TlsFailure, TlsFailureKind, TlsStep};

/// Size of a pooled read buffer: big reads keep bulk transfers near raw-socket speed.
const BIG_READ: usize = 64 * 1024;
/// Read size of a connection whose data goes only to a capture file or a [`SharedOutput`]: the
/// buffer is reused in place, so it can be larger than a pooled one without costing memory per
/// read, and fewer, larger reads and writes carry a bulk transfer.
const PASS_ON_READ: usize = 256 * 1024;
/// Size of a connection's first read buffer: small, so idle connections stay cheap.
const SMALL_READ: usize = 4 * 1024;
/// After this many small reads in a row, a connection gives its big buffer back.
const SMALL_STREAK_TO_SHRINK: u32 = 64;
/// Messages that may wait for one connection's writer.
const WRITE_QUEUE: usize = 256;
/// A TLS connection's read buffer: one whole record (16 KiB of data plus its overhead).
const TLS_READ: usize = 17 * 1024 + 512;

/// Big read buffers that travel inside [`Chunk`]s and come back when the owner drops them.
#[derive(Clone)]
pub(crate) struct BufferPool {
    tx: Sender<Vec<u8>>,
    rx: Receiver<Vec<u8>>,
}

impl BufferPool {
    pub(crate) fn new(capacity: usize) -> Self {
        let (tx, rx) = bounded(capacity);
        BufferPool { tx, rx }
    }

    fn take(&self) -> Vec<u8> {
        self.rx.try_recv().unwrap_or_else(|_| vec![0; BIG_READ])
    }
}

/// What a connection's threads tell the supervisor.
pub(crate) enum ConnNotice {
    /// The peer finished sending and the connection should now be closed by us.
    CloseAfterPeerFinished(ConnId),
    /// The reader has ended; the connection can be joined and reported closed.
    Ended(ConnId, CloseReason),
}

enum WriteOp {
    Data(Payload),
    /// The rest of a payload whose first `usize` bytes the supervisor already wrote.
    Rest(Payload, usize),
    /// A whole file, in chunks, in order with the other writes.
    File(FileSource, CancelToken),
    ShutdownWrite,
    Close(CloseReason),
}

/// Per-connection state seen by the reader, the writer and the supervisor.
struct ConnState {
    /// Why we are closing, set by whoever starts the close (first one wins).
    closing: Mutex<Option<CloseReason>>,
    writer_busy: AtomicBool,
    /// Operations queued for the writer and not finished yet. Only the supervisor queues, so when
    /// it reads 0 it may write itself without overtaking anything.
    writer_pending: AtomicUsize,
}

impl ConnState {
    fn set_closing(&self, reason: CloseReason) {
        lock(&self.closing).get_or_insert(reason);
    }

    fn closing(&self) -> Option<CloseReason> {
        lock(&self.closing).clone()
    }
}

/// What every thread of a connection needs.
#[derive(Clone)]
struct ConnCtx {
    id: ConnId,
    peer: SocketAddr,
    sink: EventSink,
    shared: Arc<SessionShared>,
    stats: Arc<ClientStats>,
    state: Arc<ConnState>,
    /// The connection's one socket, shared by its reader, its writer and the supervisor: a
    /// shutdown or `SO_LINGER` from any thread acts on it at once, and each connection costs one
    /// descriptor (10,000 clients fit in an open-file limit of 20,000).
    control: Arc<TcpStream>,
    wake_reader: Sender<()>,
    /// The TLS state, for a TLS connection.
    tls: Option<Arc<TlsLink>>,
}

impl ConnCtx {
    fn wire(&self) -> Wire<'_> {
        Wire {
            session: &self.shared.counters,
            conn: &self.stats,
        }
    }

    fn tls_event(&self, step: TlsStep) {
        self.sink.emit(EventKind::Tls(Box::new(TlsEvent {
            conn: Some(self.id),
            peer: Some(self.peer),
            step,
        })));
    }

    /// Ends the TLS stream cleanly before the TCP one: without `close_notify` the peer cannot
    /// tell our end of data from a cut connection.
    fn send_close_notify(&self) {
        if let Some(tls) = &self.tls
            && tls.close_notify(|bytes| try_send_now(&self.control, bytes), &self.wire())
        {
            self.tls_event(TlsStep::CloseNotifySent);
        }
    }

    fn shutdown(&self, how: Shutdown) {
        let args = match how {
            Shutdown::Read => "SHUT_RD",
            Shutdown::Write => "SHUT_WR",
            Shutdown::Both => "SHUT_RDWR",
        };
        let _ = self.sink.report(
            Some(self.id),
            Op::Shutdown,
            args,
            self.peer,
            self.control.shutdown(how),
            |()| String::new(),
        );
    }

    /// Starts a close: remember why, shut the socket down so a blocked `recv` returns, and wake
    /// a reader that waits after end of stream.
    fn close_now(&self, reason: CloseReason) {
        if matches!(
            reason,
            CloseReason::YouClosed | CloseReason::PeerClosed | CloseReason::ServerStopped
        ) && self.state.closing().is_none()
        {
            self.send_close_notify();
        }
        self.state.set_closing(reason);
        // When both sides have already sent FIN there is nothing left to shut down (the call
        // would only fail with "not connected"); the reader is waiting and just needs waking.
        let both_finished = self.stats.write_shut.load(Ordering::Acquire)
            && self.stats.peer_finished.load(Ordering::Acquire);
        if !both_finished {
            self.shutdown(Shutdown::Both);
        }
        let _ = self.wake_reader.try_send(());
    }

    fn shutdown_write(&self) {
        self.send_close_notify();
        self.shutdown(Shutdown::Write);
        self.stats.write_shut.store(true, Ordering::Release);
        self.sink.emit(EventKind::WriteShutdown {
            conn: self.id,
            peer: self.peer,
        });
        // Both directions are finished now: nothing is left for this connection to do.
        if self.stats.peer_finished.load(Ordering::Acquire) {
            self.close_now(CloseReason::PeerClosed);
        }
    }

    fn write_all(&self, stream: &TcpStream, data: Payload, echo: bool) -> bool {
        let result = self.write_patiently(stream, &data);
        self.finish_write(data, echo, result)
    }

    /// `write_all` that survives the send timeout a file send sets on the socket (it exists so
    /// Cancel can interrupt a send to a peer that does not read): a timeout only means "still
    /// full", so it waits on, unless the connection is closing.
    fn write_patiently(&self, mut stream: &TcpStream, data: &[u8]) -> std::io::Result<()> {
        if let Some(tls) = &self.tls {
            let retry = |e: &std::io::Error| is_send_timeout(e) && self.state.closing().is_none();
            return tls.write_app(stream, data, &self.wire(), &retry);
        }
        let mut written = 0;
        while written < data.len() {
            match stream.write(&data[written..]) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => written += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if is_send_timeout(&e) && self.state.closing().is_none() => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Counts and reports a finished write (`Sent`), or reports its failure and closes.
    fn finish_write(&self, data: Payload, echo: bool, result: std::io::Result<()>) -> bool {
        match result {
            Ok(()) => {
                add(&self.shared.counters.bytes_out, data.len());
                add(&self.shared.counters.writes, 1);
                add(&self.stats.bytes_out, data.len());
                add(&self.stats.writes, 1);
                self.sink.emit(EventKind::Sent {
                    conn: self.id,
                    peer: self.peer,
                    data,
                    echo,
                });
                true
            }
            Err(e) => {
                let error = EngineError::io(Op::Send, self.peer, &e);
                self.sink.call(
                    Some(self.id),
                    Op::Send,
                    format!("{} bytes", data.len()),
                    Err(e.to_string()),
                );
                self.close_now(CloseReason::Failed(error));
                false
            }
        }
    }
}

/// The supervisor's handle on one connection.
pub(crate) struct Connection {
    ctx: ConnCtx,
    close_on_peer_finished: bool,
    writer: Option<(Sender<WriteOp>, Option<JoinHandle<()>>)>,
    reader: Option<JoinHandle<()>>,
}

/// Everything needed to start a connection's reader.
pub(crate) struct ConnSetup {
    pub id: ConnId,
    pub stream: TcpStream,
    pub local: SocketAddr,
    pub peer: SocketAddr,
    /// Close our side as soon as the peer finishes sending (server default), instead of waiting
    /// for the user (client default, and the server's half-close demonstrations).
    pub close_on_peer_finished: bool,
    pub thread_name: String,
    /// Where the reader writes every received byte, if capturing.
    pub capture: Option<CaptureWriter>,
    /// How the reader cuts the stream into messages.
    pub framing: FramingConfig,
    /// TLS over this connection: the reader runs the handshake first.
    pub tls: Option<TlsLink>,
    /// What the reader does with received bytes besides capturing them.
    pub pass_on: PassOn,
}

/// Where a reader passes received bytes on, besides a capture file.
#[derive(Debug, Clone)]
pub(crate) struct PassOn {
    /// Written here by the reader as they arrive (see [`SharedOutput`]).
    pub output: Option<SharedOutput>,
    /// Queue a `Received` event for every read. Off for an owner that never looks at the data:
    /// the reader then neither copies nor queues it, and reads into the same buffer again.
    /// Framed connections always report their messages (the messages are what framing is for).
    pub events: bool,
}

impl Default for PassOn {
    fn default() -> Self {
        PassOn {
            output: None,
            events: true,
        }
    }
}

impl Connection {
    /// Registers the connection's counters and starts its reader. Reports `Connected`.
    pub(crate) fn start(
        setup: ConnSetup,
        sink: &EventSink,
        shared: &Arc<SessionShared>,
        pool: &BufferPool,
        notices: &Sender<ConnNotice>,
    ) -> Result<Self, EngineError> {
        let ConnSetup {
            id,
            stream,
            local,
            peer,
            close_on_peer_finished,
            thread_name,
            capture,
            framing,
            tls,
            pass_on,
        } = setup;
        let control = Arc::new(stream);
        let stats = Arc::new(ClientStats::new(id, local, peer));
        let tls = tls.map(Arc::new);
        if tls.is_some() {
            stats.tls.store(true, Ordering::Relaxed);
            shared.counters.tls.store(true, Ordering::Relaxed);
        }
        shared.register_client(Arc::clone(&stats));
        let (wake_tx, wake_rx) = bounded(1);
        let ctx = ConnCtx {
            id,
            peer,
            sink: sink.clone(),
            shared: Arc::clone(shared),
            stats,
            state: Arc::new(ConnState {
                closing: Mutex::new(None),
                writer_busy: AtomicBool::new(false),
                writer_pending: AtomicUsize::new(0),
            }),
            control,
            wake_reader: wake_tx,
            tls,
        };
        sink.emit(EventKind::Connected {
            conn: id,
            local,
            peer,
        });
        let reader_ctx = ctx.clone();
        let reader_pool = pool.clone();
        let reader_notices = notices.clone();
        let failed_notices = notices.clone();
        let reader = spawn_worker(
            thread_name,
            sink,
            move || {
                let mut capture = capture;
                let mut reason = match reader_ctx.tls.clone() {
                    Some(tls) => tls_read_loop(
                        &reader_ctx,
                        &tls,
                        &reader_ctx.control,
                        &reader_notices,
                        &wake_rx,
                        &mut capture,
                        &pass_on,
                    ),
                    None => read_loop(
                        &reader_ctx,
                        &reader_ctx.control,
                        &reader_pool,
                        &reader_notices,
                        &wake_rx,
                        &mut capture,
                        &ReadPlan {
                            framing: &framing,
                            pass_on: &pass_on,
                        },
                    ),
                };
                if let Some(failed) = flush_capture(&reader_ctx, &mut capture) {
                    reason = failed;
                }
                let _ = reader_notices.send(ConnNotice::Ended(reader_ctx.id, reason));
            },
            move |e| {
                let _ = failed_notices.send(ConnNotice::Ended(id, CloseReason::Failed(e.clone())));
                EventKind::Error(e)
            },
        );
        if reader.is_none() {
            shared.unregister_client(id);
            return Err(EngineError::WorkerFailed {
                thread: format!("reader of connection {id}"),
                message: "could not start".to_owned(),
            });
        }
        Ok(Connection {
            ctx,
            close_on_peer_finished,
            writer: None,
            reader,
        })
    }

    /// After the peer finished sending, should we close now? Yes when configured so, or when our
    /// own sending side is already shut (both directions are then done).
    pub(crate) fn should_close_after_peer_finished(&self) -> bool {
        self.close_on_peer_finished || self.ctx.stats.write_shut.load(Ordering::Acquire)
    }

    fn writer(&mut self) -> Result<&Sender<WriteOp>, EngineError> {
        if self.writer.is_none() {
            let (tx, rx) = bounded(WRITE_QUEUE);
            let ctx = self.ctx.clone();
            let handle = spawn_worker(
                format!("tcp-write {} {}", self.ctx.id, self.ctx.peer),
                &self.ctx.sink,
                move || write_loop(&ctx, &ctx.control, &rx),
                EventKind::Error,
            );
            self.writer = Some((tx, handle));
        }
        match &self.writer {
            Some((tx, _)) => Ok(tx),
            None => Err(EngineError::SessionEnded),
        }
    }

    fn queue(&mut self, op: WriteOp) -> Result<(), EngineError> {
        let pending = Arc::clone(&self.ctx.state);
        let tx = self.writer()?;
        pending.writer_pending.fetch_add(1, Ordering::AcqRel);
        match tx.try_send(op) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => {
                pending.writer_pending.fetch_sub(1, Ordering::AcqRel);
                Err(EngineError::QueueFull {
                    capacity: WRITE_QUEUE,
                })
            }
            Err(TrySendError::Disconnected(_)) => Err(EngineError::NotNow {
                op: Op::Send,
                why: format!("the connection to {} is closing", self.ctx.peer),
            }),
        }
    }

    /// Queues bytes for the writer (started on first use).
    pub(crate) fn send(&mut self, data: Payload) -> Result<(), EngineError> {
        if self.ctx.stats.write_shut.load(Ordering::Acquire) {
            return Err(EngineError::NotNow {
                op: Op::Send,
                why: "sending was already shut down on this connection".to_owned(),
            });
        }
        // Over TLS every write goes through the writer: the records must be made in order.
        if self.ctx.tls.is_none()
            && self.ctx.state.writer_pending.load(Ordering::Acquire) == 0
            && self.ctx.state.closing().is_none()
        {
            // Nothing waits for the writer: try the write here, without waiting, which saves a
            // thread hop on every small send. Whatever does not fit goes to the writer.
            match try_send_now(&self.ctx.control, &data) {
                Ok(n) if n == data.len() => {
                    self.ctx.finish_write(data, false, Ok(()));
                    return Ok(());
                }
                Ok(0) => {}
                Ok(n) => return self.queue(WriteOp::Rest(data, n)),
                Err(e) if is_would_block(&e) => {}
                Err(e) => {
                    self.ctx.finish_write(data, false, Err(e));
                    return Ok(());
                }
            }
        }
        self.queue(WriteOp::Data(data))
    }

    /// Queues a file for the writer: it goes out in chunks, in order with the other sends.
    pub(crate) fn send_file(
        &mut self,
        source: FileSource,
        token: CancelToken,
    ) -> Result<(), EngineError> {
        if self.ctx.stats.write_shut.load(Ordering::Acquire) {
            return Err(EngineError::NotNow {
                op: Op::Send,
                why: "sending was already shut down on this connection".to_owned(),
            });
        }
        self.queue(WriteOp::File(source, token))
    }

    /// The peer's address.
    pub(crate) fn peer(&self) -> SocketAddr {
        self.ctx.peer
    }

    /// Half-close: after what is queued has gone out, send FIN and keep reading.
    pub(crate) fn shutdown_write(&mut self) -> Result<(), EngineError> {
        if self.writer.is_some() {
            self.queue(WriteOp::ShutdownWrite)
        } else {
            self.ctx.shutdown_write();
            Ok(())
        }
    }

    /// Graceful close: after what is queued has gone out, shut down both directions.
    pub(crate) fn close(&mut self, reason: CloseReason) {
        if self.ctx.state.closing().is_some() {
            return;
        }
        let queued = self.writer.is_some() && self.queue(WriteOp::Close(reason.clone())).is_ok();
        if !queued {
            self.ctx.close_now(reason);
        }
    }

    /// Abort: `SO_LINGER` 0 makes the final `close` send a reset instead of FIN, and any queued
    /// data is thrown away.
    pub(crate) fn abort(&mut self) {
        let ctx = &self.ctx;
        ctx.state.set_closing(CloseReason::YouAborted);
        let _ = super::options::set_option(
            &ctx.sink,
            Some(ctx.id),
            &ctx.peer,
            "SO_LINGER",
            "{on, 0 s}",
            SockRef::from(&*ctx.control).set_linger(Some(Duration::ZERO)),
        );
        // Shutting down only the read side wakes the reader without sending FIN first; a writer
        // stuck on a full send buffer needs the write side shut too (the FIN then waits behind
        // the unsent data and the reset overtakes it).
        if cfg!(windows) || ctx.state.writer_busy.load(Ordering::Acquire) {
            ctx.shutdown(Shutdown::Both);
        } else {
            ctx.shutdown(Shutdown::Read);
        }
        let _ = ctx.wake_reader.try_send(());
        // The writer must not keep the socket open with queued data.
        if let Some((tx, handle)) = self.writer.take() {
            drop(tx);
            self.writer = Some((bounded(0).0, handle));
        }
    }

    /// Closes at once, without waiting for queued data: a stop must not hang behind a peer that
    /// does not read.
    pub(crate) fn close_immediately(&self, reason: CloseReason) {
        if self.ctx.state.closing().is_none() {
            self.ctx.close_now(reason);
        }
    }

    /// Closes at once and joins: for a session whose owner is gone.
    pub(crate) fn abandon(self, reason: CloseReason) {
        self.close_immediately(reason.clone());
        self.finish(reason);
    }

    /// Joins the connection's threads (after its reader has reported the end), reports the final
    /// `close` and `Disconnected`, and unregisters it.
    pub(crate) fn finish(mut self, reason: CloseReason) {
        self.join_threads();
        let ConnCtx {
            id,
            peer,
            ref sink,
            ref shared,
            ..
        } = self.ctx;
        let (sink, shared) = (sink.clone(), Arc::clone(shared));
        // Dropping the last descriptor is the real close(2).
        drop(self);
        sink.ok(Some(id), Op::Close, "");
        shared.unregister_client(id);
        sink.emit(EventKind::Disconnected {
            conn: id,
            peer,
            reason,
        });
    }

    fn join_threads(&mut self) {
        if let Some((tx, handle)) = self.writer.take() {
            drop(tx);
            if let Some(handle) = handle {
                let _ = handle.join();
            }
        }
        if let Some(handle) = self.reader.take() {
            let _ = handle.join();
        }
    }
}

impl Drop for Connection {
    /// A supervisor that unwinds (a bug, caught and reported by `spawn_worker`) must not leave
    /// reader threads blocked in `recv` on sockets nobody owns any more.
    fn drop(&mut self) {
        if self.reader.is_some() {
            self.close_immediately(CloseReason::YouClosed);
            self.join_threads();
            self.ctx.shared.unregister_client(self.ctx.id);
        }
    }
}

/// A capture that cannot be written ends the connection: the file would no longer hold every
/// byte, and receiving more would only widen the gap.
fn capture_failed(
    ctx: &ConnCtx,
    capture: &mut Option<CaptureWriter>,
    error: EngineError,
) -> CloseReason {
    *capture = None;
    ctx.sink.emit(EventKind::Error(error.clone()));
    ctx.close_now(CloseReason::Failed(error.clone()));
    CloseReason::Failed(error)
}

/// Writes what the capture file still buffers.
fn flush_capture(ctx: &ConnCtx, capture: &mut Option<CaptureWriter>) -> Option<CloseReason> {
    let error = capture.as_mut()?.flush().err()?;
    Some(capture_failed(ctx, capture, error))
}

/// What a plain connection's reader makes of the bytes it receives.
#[derive(Clone, Copy)]
struct ReadPlan<'a> {
    /// How the stream is cut into messages.
    framing: &'a FramingConfig,
    /// Where reads go besides the capture, and whether they become events.
    pass_on: &'a PassOn,
}

#[allow(
    clippy::too_many_lines,
    reason = "a worker loop that owns its socket from open to close; to be split when the engine moves to its tcp/, udp/ and features/ folders (DESIGN.md)"
)]
fn read_loop(
    ctx: &ConnCtx,
    mut stream: &TcpStream,
    pool: &BufferPool,
    notices: &Sender<ConnNotice>,
    wake: &Receiver<()>,
    capture: &mut Option<CaptureWriter>,
    plan: &ReadPlan<'_>,
) -> CloseReason {
    let ReadPlan { framing, pass_on } = *plan;
    let mut buf = vec![0; SMALL_READ];
    let mut small_streak = 0_u32;
    let mut auto_reply = AutoReplyView::default();
    let mut framer = framing
        .framing
        .is_on()
        .then(|| Framer::new(framing.clone()));
    let gap = framing.framing.gap();
    // An idle gap is timed by the receive itself (SO_RCVTIMEO), and only while part of a message
    // waits: an idle connection still blocks without a timeout and costs nothing.
    let mut timed = false;
    loop {
        if let (Some(gap), Some(f)) = (gap, framer.as_ref())
            && (f.waiting() > 0) != timed
        {
            timed = !timed;
            let _ = stream.set_read_timeout(timed.then_some(gap));
        }
        let n = match stream.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if timed && matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                if let Some(f) = framer.as_mut() {
                    let batch = f.idle();
                    if let Some(end) = deliver_batch(ctx, stream, &mut auto_reply, batch, framing) {
                        return end;
                    }
                }
                continue;
            }
            Err(e) => {
                return recv_failed(ctx, buf.len(), &e);
            }
        };
        if n == 0 {
            if let Some(reason) = ctx.state.closing() {
                return reason;
            }
            // What an unfinished message had gathered is handed over, never dropped.
            if let Some(f) = framer.as_mut() {
                let batch = f.finish();
                if !batch.is_empty()
                    && let Some(end) = deliver_batch(ctx, stream, &mut auto_reply, batch, framing)
                {
                    return end;
                }
            }
            return peer_finished(ctx, notices, wake, capture);
        }
        if let Some(failed) = count_and_capture(ctx, &buf[..n], capture) {
            return failed;
        }
        match pass_on_read(
            ctx,
            stream,
            &buf[..n],
            &mut auto_reply,
            pass_on,
            framer.is_some(),
        ) {
            Err(end) => return end,
            Ok(true) => {
                // The buffer is reused in place: it grows once, to the pass-on size.
                if n == buf.len() && buf.len() < PASS_ON_READ {
                    buf = vec![0; PASS_ON_READ];
                }
                continue;
            }
            Ok(false) => {}
        }

        let capacity = buf.len();
        let data = if capacity == BIG_READ && n > SMALL_READ {
            Chunk::pooled(std::mem::replace(&mut buf, pool.take()), n, pool.tx.clone())
        } else {
            Chunk::from_vec(buf[..n].to_vec())
        };
        // Grow when a read filled the buffer; shrink after a long run of small reads.
        if n == capacity && capacity < BIG_READ {
            buf = pool.take();
            small_streak = 0;
        } else if capacity == BIG_READ && n < SMALL_READ {
            small_streak += 1;
            if small_streak >= SMALL_STREAK_TO_SHRINK {
                let big = std::mem::replace(&mut buf, vec![0; SMALL_READ]);
                let _ = pool.tx.try_send(big);
                small_streak = 0;
            }
        } else {
            small_streak = 0;
        }

        if let Some(f) = framer.as_mut() {
            let batch = f.push_chunk(data);
            if let Some(end) = deliver_batch(ctx, stream, &mut auto_reply, batch, framing) {
                return end;
            }
            continue;
        }

        if let Some(reason) = deliver(ctx, stream, data, &mut auto_reply) {
            return reason;
        }
    }
}

/// Passes one read on to the shared output, if there is one; then, when the owner takes no data
/// events (and the stream is not framed), answers the read here (echo or a rule) and is done
/// with it: no copy, no event, no hand-over to the owner's thread. `Ok(true)` when the read
/// needs no event; `Err` when the connection is over.
fn pass_on_read(
    ctx: &ConnCtx,
    stream: &TcpStream,
    data: &[u8],
    auto_reply: &mut AutoReplyView,
    pass_on: &PassOn,
    framed: bool,
) -> Result<bool, CloseReason> {
    if let Some(output) = &pass_on.output
        && let Err(error) = output.write(data)
    {
        ctx.sink.emit(EventKind::Error(error.clone()));
        ctx.close_now(CloseReason::Failed(error.clone()));
        return Err(CloseReason::Failed(error));
    }
    if pass_on.events || framed {
        return Ok(false);
    }
    if let Some(reply) = auto_reply
        .get(&ctx.shared.auto_reply)
        .and_then(|auto| auto.reply_for(data, &ctx.shared.templates))
    {
        let payload = Payload::from(reply.as_ref());
        let result = ctx.write_patiently(stream, &payload);
        if !ctx.finish_write(payload, true, result) {
            return Err(ctx.state.closing().unwrap_or(CloseReason::PeerClosed));
        }
    }
    Ok(true)
}

/// A `recv` failed: a close we asked for explains it; otherwise the failed call is reported and
/// ends the connection.
fn recv_failed(ctx: &ConnCtx, asked: usize, error: &std::io::Error) -> CloseReason {
    if let Some(reason) = ctx.state.closing() {
        return reason;
    }
    ctx.sink.call(
        Some(ctx.id),
        Op::Recv,
        asked.to_string(),
        Err(error.to_string()),
    );
    CloseReason::Failed(EngineError::io(Op::Recv, ctx.peer, error))
}

/// The peer finished sending: report it, and stay until someone closes (the peer may still
/// read what we send).
fn peer_finished(
    ctx: &ConnCtx,
    notices: &Sender<ConnNotice>,
    wake: &Receiver<()>,
    capture: &mut Option<CaptureWriter>,
) -> CloseReason {
    if let Some(failed) = flush_capture(ctx, capture) {
        return failed;
    }
    ctx.stats.peer_finished.store(true, Ordering::Release);
    ctx.sink.emit(EventKind::PeerFinished {
        conn: ctx.id,
        peer: ctx.peer,
    });
    let _ = notices.send(ConnNotice::CloseAfterPeerFinished(ctx.id));
    select! {
        recv(wake) -> _ => {},
        recv(ctx.sink.abort_signal()) -> _ => {},
    }
    ctx.state.closing().unwrap_or(CloseReason::PeerClosed)
}

/// Counts received application bytes and captures them; a capture that fails ends the
/// connection.
fn count_and_capture(
    ctx: &ConnCtx,
    bytes: &[u8],
    capture: &mut Option<CaptureWriter>,
) -> Option<CloseReason> {
    let counters = &ctx.shared.counters;
    add(&counters.bytes_in, bytes.len());
    add(&counters.reads, 1);
    add(&ctx.stats.bytes_in, bytes.len());
    add(&ctx.stats.reads, 1);
    if let Some(file) = capture.as_mut()
        && let Err(error) = file.write(bytes)
    {
        return Some(capture_failed(ctx, capture, error));
    }
    None
}

/// Replies (echo or a rule) and reports received data; `Some` when the connection is over.
fn deliver(
    ctx: &ConnCtx,
    stream: &TcpStream,
    mut data: Chunk,
    auto_reply: &mut AutoReplyView,
) -> Option<CloseReason> {
    let n = data.len();
    {
        // Echo (or a rule's reply) first, so the peer's round trip does not wait for the event queue; the events
        // still come in order (`Received`, then `Sent`).
        let echo = auto_reply
            .get(&ctx.shared.auto_reply)
            .and_then(|auto| auto.reply_for(&data, &ctx.shared.templates))
            .map(|reply| {
                let payload = Payload::from(reply.as_ref());
                let result = ctx.write_patiently(stream, &payload);
                (payload, result)
            });
        // Wait here, not in the queue, while the owner holds too much received data: the bytes
        // stay in the socket buffer and TCP slows the peer down.
        let Some(permit) = ctx.sink.reserve_received(n) else {
            return Some(CloseReason::YouClosed);
        };
        data.hold(permit);
        if !ctx.sink.emit(EventKind::Received {
            conn: ctx.id,
            peer: ctx.peer,
            data,
        }) {
            return Some(CloseReason::YouClosed);
        }
        if let Some((payload, result)) = echo
            && !ctx.finish_write(payload, true, result)
        {
            return Some(ctx.state.closing().unwrap_or(CloseReason::PeerClosed));
        }
    }
    None
}

/// The reader of a TLS connection: the handshake, then records in and application data out.
/// It takes the TLS state only for memory work, never across `recv`.
fn tls_read_loop(
    ctx: &ConnCtx,
    tls: &TlsLink,
    mut stream: &TcpStream,
    notices: &Sender<ConnNotice>,
    wake: &Receiver<()>,
    capture: &mut Option<CaptureWriter>,
    pass_on: &PassOn,
) -> CloseReason {
    if let Err(error) = tls.handshake(stream, &ctx.sink, ctx.id, ctx.peer, &ctx.wire()) {
        return ctx.state.closing().unwrap_or(CloseReason::Failed(error));
    }
    let retry = |e: &std::io::Error| is_send_timeout(e) && ctx.state.closing().is_none();
    let mut auto_reply = AutoReplyView::default();
    let mut buf = vec![0; TLS_READ];
    // Data that came with the handshake's last records is already decrypted: take it first.
    let mut n = 0;
    loop {
        let received = tls.feed(&buf[..n], ctx.peer);
        // Answers rustls owes the peer (key updates); a busy writer sends them after its data.
        if let Err(e) = tls.flush_if_free(stream, &ctx.wire(), &retry) {
            return ctx
                .state
                .closing()
                .unwrap_or(CloseReason::Failed(EngineError::io(Op::Send, ctx.peer, &e)));
        }
        if !received.plain.is_empty() {
            let plain = received.plain;
            if let Some(failed) = count_and_capture(ctx, &plain, capture) {
                return failed;
            }
            match pass_on_read(ctx, stream, &plain, &mut auto_reply, pass_on, false) {
                Err(end) => return end,
                Ok(true) => {}
                Ok(false) => {
                    if let Some(reason) =
                        deliver(ctx, stream, Chunk::from_vec(plain), &mut auto_reply)
                    {
                        return reason;
                    }
                }
            }
        }
        if let Some(error) = received.error {
            return ctx.state.closing().unwrap_or(CloseReason::Failed(error));
        }
        if received.close_notify {
            ctx.tls_event(TlsStep::CloseNotifyReceived);
            return peer_finished(ctx, notices, wake, capture);
        }
        n = loop {
            match stream.read(&mut buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    return recv_failed(ctx, buf.len(), &e);
                }
            }
        };
        if n == 0 {
            if let Some(reason) = ctx.state.closing() {
                return reason;
            }
            if !tls.close_notify_received() {
                // The TCP stream ended but the TLS stream did not: say so, never pass it off
                // as a clean end.
                ctx.sink
                    .emit(EventKind::Error(EngineError::Tls(Box::new(TlsFailure {
                        peer: ctx.peer,
                        kind: TlsFailureKind::Truncated,
                    }))));
            }
            return peer_finished(ctx, notices, wake, capture);
        }
        add(&ctx.shared.counters.wire_in, n);
        add(&ctx.stats.wire_in, n);
    }
}

/// Answers the messages of a framed batch (echo, or the rules, per message body), queues the
/// batch, then reports the replies. Returns why the connection ends, if it does: the owner is
/// gone, a reply failed, or the framer stopped at an oversized message.
fn deliver_batch(
    ctx: &ConnCtx,
    stream: &TcpStream,
    auto_reply: &mut AutoReplyView,
    mut batch: MessageBatch,
    framing: &FramingConfig,
) -> Option<CloseReason> {
    let mut replies: Vec<(Payload, bool, std::io::Result<()>)> = Vec::new();
    if let Some(auto) = auto_reply.get(&ctx.shared.auto_reply) {
        if matches!(auto, super::autoreply::AutoReply::Echo) {
            // Echo returns the stream as it came: every byte, whatever the framing made of it.
            if let Some(read) = batch.read().filter(|r| !r.is_empty()) {
                let payload = Payload::from(read);
                let result = ctx.write_patiently(stream, &payload);
                replies.push((payload, true, result));
            }
        } else {
            for message in batch.iter().filter(|m| m.piece == Piece::Message) {
                let body = message.body();
                let echo = auto.echoes(body);
                let reply = if echo {
                    Some(Payload::from(message.bytes))
                } else {
                    auto.reply_for(body, &ctx.shared.templates)
                        .map(|r| Payload::from(r.as_ref()))
                };
                if let Some(payload) = reply {
                    let result = ctx.write_patiently(stream, &payload);
                    let failed = result.is_err();
                    replies.push((payload, echo, result));
                    if failed {
                        break;
                    }
                }
            }
        }
    }
    let stop = batch.stop();
    let held = batch.read_len().unwrap_or(0) + batch.owned_len();
    if held > 0 {
        let permit = ctx.sink.reserve_received(held)?;
        batch.hold(permit);
    }
    if !ctx.sink.emit(EventKind::Messages {
        conn: ctx.id,
        peer: ctx.peer,
        batch: Box::new(batch),
    }) {
        return Some(CloseReason::YouClosed);
    }
    for (payload, echo, result) in replies {
        if !ctx.finish_write(payload, echo, result) {
            return Some(ctx.state.closing().unwrap_or(CloseReason::PeerClosed));
        }
    }
    if let Some(overflow) = stop {
        let error = EngineError::Oversize {
            peer: ctx.peer.to_string(),
            framing: framing.framing.to_string(),
            declared: overflow.declared,
            max: overflow.max,
        };
        ctx.close_now(CloseReason::Failed(error.clone()));
        return Some(CloseReason::Failed(error));
    }
    None
}

fn write_loop(ctx: &ConnCtx, stream: &TcpStream, ops: &Receiver<WriteOp>) {
    if let Some(tls) = &ctx.tls {
        // Application data waits for the handshake, which the reader runs.
        select! {
            recv(tls.handshake_over()) -> _ => {},
            recv(ctx.sink.abort_signal()) -> _ => {
                ctx.close_now(CloseReason::YouClosed);
                return;
            },
        }
        if !tls.is_established() {
            return;
        }
    }
    let mut send_timeout_set = false;
    loop {
        let op = select! {
            recv(ops) -> op => match op { Ok(op) => op, Err(_) => return },
            recv(ctx.sink.abort_signal()) -> _ => {
                // The owner is gone: a Close queued behind this may never be read, so close here,
                // or the reader would wait in recv for a peer that never hangs up.
                ctx.close_now(CloseReason::YouClosed);
                return;
            },
        };
        if ctx.state.closing().is_some() {
            return;
        }
        let go_on = match op {
            WriteOp::Data(data) => {
                ctx.state.writer_busy.store(true, Ordering::Release);
                let ok = ctx.write_all(stream, data, false);
                ctx.state.writer_busy.store(false, Ordering::Release);
                ok
            }
            WriteOp::Rest(data, written) => {
                ctx.state.writer_busy.store(true, Ordering::Release);
                let result = ctx.write_patiently(stream, &data[written..]);
                let ok = ctx.finish_write(data, false, result);
                ctx.state.writer_busy.store(false, Ordering::Release);
                ok
            }
            WriteOp::File(source, token) => {
                // Windows leaves a socket in an undefined state after a send timeout, so there
                // Cancel waits for the next chunk (or for Close/Abort, which always work).
                if !send_timeout_set && cfg!(not(windows)) {
                    send_timeout_set = true;
                    let _ = super::options::set_option(
                        &ctx.sink,
                        Some(ctx.id),
                        &ctx.peer,
                        "SO_SNDTIMEO",
                        format!("{} ms", SEND_WAIT.as_millis()),
                        stream.set_write_timeout(Some(SEND_WAIT)),
                    );
                }
                ctx.state.writer_busy.store(true, Ordering::Release);
                let ok = send_file(ctx, stream, source, token);
                ctx.state.writer_busy.store(false, Ordering::Release);
                ok
            }
            WriteOp::ShutdownWrite => {
                ctx.shutdown_write();
                true
            }
            WriteOp::Close(reason) => {
                ctx.close_now(reason);
                false
            }
        };
        ctx.state.writer_pending.fetch_sub(1, Ordering::AcqRel);
        if !go_on {
            return;
        }
    }
}

/// Streams a file to the connection in chunks; returns false when the connection failed.
/// The counters grow with every `send` that returned, so they are exact even when the send
/// is cancelled or fails in the middle of a chunk.
fn send_file(
    ctx: &ConnCtx,
    mut stream: &TcpStream,
    mut source: FileSource,
    token: CancelToken,
) -> bool {
    let counters = &ctx.shared.counters;
    let mut progress = Progress::start(&ctx.sink, Some(ctx.id), ctx.peer, &source);
    let cancelled = || token.is_cancelled(&ctx.shared.file_cancel);
    let mut buf = vec![0; FILE_CHUNK];
    loop {
        if cancelled() {
            progress.finish(&ctx.sink, FileStage::Cancelled);
            return true;
        }
        let n = match source.fill(&mut buf) {
            Ok(0) => {
                progress.finish(&ctx.sink, FileStage::Finished);
                return true;
            }
            Ok(n) => n,
            Err(e) => {
                progress.fail(&ctx.sink, "read", &e);
                return true;
            }
        };
        if ctx.tls.is_some() {
            // Records once made must go out whole, so over TLS a piece is written completely
            // and Cancel acts between pieces.
            if let Err(e) = ctx.write_patiently(stream, &buf[..n]) {
                return file_send_failed(ctx, &source.path, progress, &e);
            }
            add(&counters.bytes_out, n);
            add(&ctx.stats.bytes_out, n);
            progress.advance(&ctx.sink, &buf[..n], false);
            add(&counters.writes, 1);
            add(&ctx.stats.writes, 1);
            progress.count_piece();
            continue;
        }
        let mut written = 0;
        while written < n {
            match stream.write(&buf[written..n]) {
                Ok(0) => {
                    return file_send_failed(
                        ctx,
                        &source.path,
                        progress,
                        &ErrorKind::WriteZero.into(),
                    );
                }
                Ok(w) => {
                    add(&counters.bytes_out, w);
                    add(&ctx.stats.bytes_out, w);
                    progress.advance(&ctx.sink, &buf[written..written + w], false);
                    written += w;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if is_send_timeout(&e) && ctx.state.closing().is_none() => {
                    if cancelled() {
                        if written > 0 {
                            add(&counters.writes, 1);
                            add(&ctx.stats.writes, 1);
                            progress.count_piece();
                        }
                        progress.finish(&ctx.sink, FileStage::Cancelled);
                        return true;
                    }
                    progress.tick(&ctx.sink);
                }
                Err(e) => return file_send_failed(ctx, &source.path, progress, &e),
            }
        }
        add(&counters.writes, 1);
        add(&ctx.stats.writes, 1);
        progress.count_piece();
    }
}

/// Reports a file send that the connection ended (the peer went away, or we closed), and closes.
fn file_send_failed(
    ctx: &ConnCtx,
    path: &std::path::Path,
    progress: Progress,
    e: &std::io::Error,
) -> bool {
    // When we are closing (Close, Abort, Stop), the failed write is our own doing: say so,
    // rather than blame the peer.
    let (class, message) = match ctx.state.closing() {
        Some(reason) => (
            ErrorClass::Other,
            format!("the connection was closed while the file was being sent ({reason})"),
        ),
        None => (classify(e), e.to_string()),
    };
    let error = file_error("send", path, ctx.peer, progress.sent(), class, message);
    progress.finish(&ctx.sink, FileStage::Failed(error));
    if ctx.state.closing().is_none() {
        ctx.sink.call(
            Some(ctx.id),
            Op::Send,
            format!("{FILE_CHUNK} bytes"),
            Err(e.to_string()),
        );
        ctx.close_now(CloseReason::Failed(EngineError::io(Op::Send, ctx.peer, e)));
    }
    false
}

/// True for the error a socket send timeout gives (EAGAIN on Unix, WSAETIMEDOUT on Windows).
fn is_send_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// One `send` that does not wait for room in the send buffer. Where the system has no such flag
/// (Windows), it reports "would block" and the writer thread sends instead.
fn try_send_now(socket: &TcpStream, data: &[u8]) -> std::io::Result<usize> {
    #[cfg(unix)]
    {
        // No SIGPIPE on a closed connection where the flag exists: the error is reported instead.
        #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
        let flags = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
        #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
        let flags = libc::MSG_DONTWAIT;
        loop {
            match SockRef::from(socket).send_with_flags(data, flags) {
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                other => return other,
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (socket, data);
        Err(ErrorKind::WouldBlock.into())
    }
}

fn is_would_block(e: &std::io::Error) -> bool {
    e.kind() == ErrorKind::WouldBlock
}
