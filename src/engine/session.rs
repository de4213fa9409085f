//! The session handle, its shared state and counters, and the event sink workers report through.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded, select};

use super::autoreply::AutoReplySlot;
use super::error::{EngineError, Op};
use super::event::{ConnId, Event, EventKind, SocketCall, StopReason};
use super::periodic::{Periodic, PeriodicStatus};
use super::step::StepGate;

/// Called by a worker after it has queued events, so the owner (the window) wakes up and drains
/// them. It is called once per batch of events, not per event: the owner re-arms it by draining.
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// A waker that does nothing, for owners that block on [`Session::recv_timeout`] instead.
pub fn noop_waker() -> Waker {
    Arc::new(|| {})
}

/// Stack size for every worker thread. Threads only block in socket calls and keep their buffers on
/// the heap, so a small stack keeps thousands of connections cheap (see DESIGN.md).
pub(crate) const WORKER_STACK: usize = 256 * 1024;

/// Exact counters of a session. Workers update them before they queue the matching event, and
/// nothing ever skips them, so they stay exact even when the view drops events.
#[derive(Debug, Default)]
pub struct Counters {
    pub(crate) bytes_in: AtomicU64,
    pub(crate) bytes_out: AtomicU64,
    pub(crate) reads: AtomicU64,
    pub(crate) writes: AtomicU64,
    pub(crate) datagrams_in: AtomicU64,
    pub(crate) datagrams_out: AtomicU64,
    pub(crate) not_shown_datagrams: AtomicU64,
    pub(crate) not_shown_bytes: AtomicU64,
    pub(crate) connections_accepted: AtomicU64,
    pub(crate) connections_rejected: AtomicU64,
    pub(crate) clients_active: AtomicU64,
    /// Bytes of TLS records read from and written to the sockets (TLS sessions only).
    pub(crate) wire_in: AtomicU64,
    pub(crate) wire_out: AtomicU64,
    /// The session speaks TLS: its wire bytes differ from its application bytes.
    pub(crate) tls: AtomicBool,
}

/// A copy of a session's counters at one moment.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CounterSnapshot {
    /// Payload bytes received (TCP bytes, or UDP datagram payloads).
    pub bytes_in: u64,
    /// Payload bytes sent.
    pub bytes_out: u64,
    /// Successful TCP `recv` calls that returned data.
    pub reads: u64,
    /// Completed TCP sends (one per message or echo).
    pub writes: u64,
    /// UDP datagrams received.
    pub datagrams_in: u64,
    /// UDP datagrams sent (including echoes).
    pub datagrams_out: u64,
    /// UDP datagrams received but not queued for display, because the owner was not keeping up.
    pub not_shown_datagrams: u64,
    /// Payload bytes of those datagrams.
    pub not_shown_bytes: u64,
    /// TCP connections a server accepted and kept.
    pub connections_accepted: u64,
    /// TCP connections a server closed at once because it had reached its client limit.
    pub connections_rejected: u64,
    /// TCP connections open right now.
    pub clients_active: u64,
    /// Bytes that arrived on the sockets. For TLS these are the encrypted records (handshake,
    /// alerts and overhead included), while `bytes_in` counts the application data they carried;
    /// for plain TCP and UDP the two are the same.
    pub wire_bytes_in: u64,
    /// Bytes written to the sockets (see `wire_bytes_in`).
    pub wire_bytes_out: u64,
    /// True for a TLS session.
    pub tls: bool,
}

impl Counters {
    /// Reads every counter.
    pub fn snapshot(&self) -> CounterSnapshot {
        let r = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let tls = self.tls.load(Ordering::Relaxed);
        CounterSnapshot {
            bytes_in: r(&self.bytes_in),
            bytes_out: r(&self.bytes_out),
            reads: r(&self.reads),
            writes: r(&self.writes),
            datagrams_in: r(&self.datagrams_in),
            datagrams_out: r(&self.datagrams_out),
            not_shown_datagrams: r(&self.not_shown_datagrams),
            not_shown_bytes: r(&self.not_shown_bytes),
            connections_accepted: r(&self.connections_accepted),
            connections_rejected: r(&self.connections_rejected),
            clients_active: r(&self.clients_active),
            wire_bytes_in: r(if tls { &self.wire_in } else { &self.bytes_in }),
            wire_bytes_out: r(if tls { &self.wire_out } else { &self.bytes_out }),
            tls,
        }
    }
}

pub(crate) fn add(counter: &AtomicU64, n: usize) {
    counter.fetch_add(n as u64, Ordering::Relaxed);
}

/// Live counters of one TCP connection.
#[derive(Debug)]
pub struct ClientStats {
    pub(crate) id: ConnId,
    pub(crate) peer: SocketAddr,
    pub(crate) local: SocketAddr,
    pub(crate) since: SystemTime,
    pub(crate) bytes_in: AtomicU64,
    pub(crate) bytes_out: AtomicU64,
    pub(crate) reads: AtomicU64,
    pub(crate) writes: AtomicU64,
    pub(crate) peer_finished: AtomicBool,
    pub(crate) write_shut: AtomicBool,
    pub(crate) wire_in: AtomicU64,
    pub(crate) wire_out: AtomicU64,
    pub(crate) tls: AtomicBool,
}

impl ClientStats {
    pub(crate) fn new(id: ConnId, local: SocketAddr, peer: SocketAddr) -> Self {
        ClientStats {
            id,
            peer,
            local,
            since: SystemTime::now(),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            reads: AtomicU64::new(0),
            writes: AtomicU64::new(0),
            peer_finished: AtomicBool::new(false),
            write_shut: AtomicBool::new(false),
            wire_in: AtomicU64::new(0),
            wire_out: AtomicU64::new(0),
            tls: AtomicBool::new(false),
        }
    }

    fn snapshot(&self) -> ClientSnapshot {
        let r = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let tls = self.tls.load(Ordering::Relaxed);
        ClientSnapshot {
            id: self.id,
            peer: self.peer,
            local: self.local,
            since: self.since,
            bytes_in: r(&self.bytes_in),
            bytes_out: r(&self.bytes_out),
            reads: r(&self.reads),
            writes: r(&self.writes),
            peer_finished: self.peer_finished.load(Ordering::Relaxed),
            write_shut: self.write_shut.load(Ordering::Relaxed),
            wire_bytes_in: r(if tls { &self.wire_in } else { &self.bytes_in }),
            wire_bytes_out: r(if tls { &self.wire_out } else { &self.bytes_out }),
        }
    }
}

/// A copy of one connection's counters at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientSnapshot {
    /// The connection's id within the session.
    pub id: ConnId,
    /// The peer's address.
    pub peer: SocketAddr,
    /// Our end's address.
    pub local: SocketAddr,
    /// When it was established.
    pub since: SystemTime,
    /// Bytes received from it.
    pub bytes_in: u64,
    /// Bytes sent to it.
    pub bytes_out: u64,
    /// `recv` calls that returned data.
    pub reads: u64,
    /// Completed sends.
    pub writes: u64,
    /// The peer has shut down its sending side.
    pub peer_finished: bool,
    /// We have shut down our sending side.
    pub write_shut: bool,
    /// Bytes that arrived on the socket (TLS: encrypted records; plain TCP: `bytes_in`).
    pub wire_bytes_in: u64,
    /// Bytes written to the socket (TLS: encrypted records; plain TCP: `bytes_out`).
    pub wire_bytes_out: u64,
}

/// State shared by a session's handle and its workers.
#[derive(Default)]
pub(crate) struct SessionShared {
    pub counters: Counters,
    pub clients: Mutex<BTreeMap<ConnId, Arc<ClientStats>>>,
    pub local_addr: Mutex<Option<SocketAddr>>,
    pub stopping: AtomicBool,
    /// Echo or reply rules, consulted by every reader.
    pub auto_reply: AutoReplySlot,
    /// Raised by every Cancel of file sends; a send is cancelled once it differs from the value
    /// it started with (see [`super::file_send::CancelToken`]).
    pub file_cancel: AtomicU64,
    /// Numbers the session's template sends (`{seq}`) and keeps the next one's random bytes.
    pub templates: super::template::TemplateState,
    /// Wakes a worker that is blocked in a call the supervisor cannot interrupt by itself
    /// (a TCP client's `connect`). Set while such a call runs.
    pub interrupt: Mutex<Option<Box<dyn Fn() + Send + Sync>>>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A worker that panicked while holding a lock is reported as an error event; the data behind
    // these locks (counters, addresses) stays usable, so poisoning is not fatal.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SessionShared {
    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    pub(crate) fn register_client(&self, stats: Arc<ClientStats>) {
        lock(&self.clients).insert(stats.id, stats);
        self.counters.clients_active.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn unregister_client(&self, id: ConnId) {
        if lock(&self.clients).remove(&id).is_some() {
            self.counters.clients_active.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// Bytes of received TCP data that have left their reader and not yet been dropped by the
/// owner (queued, or taken and still held). A reader that would go over the limit waits, which
/// lets TCP flow control push back on the peer; this bounds memory by bytes, while the event
/// queue's length can be generous enough that a 60 Hz owner never stalls a bulk transfer.
pub(crate) struct ByteBudget {
    used: AtomicUsize,
    max: usize,
    /// Readers waiting for room.
    waiters: AtomicUsize,
    room_tx: Sender<()>,
    room_rx: Receiver<()>,
}

impl ByteBudget {
    fn new(max: usize) -> Self {
        let (room_tx, room_rx) = bounded(1);
        ByteBudget {
            used: AtomicUsize::new(0),
            max,
            waiters: AtomicUsize::new(0),
            room_tx,
            room_rx,
        }
    }

    /// Takes `n` bytes if they fit (or if nothing is in flight, so one oversized piece still
    /// passes).
    fn try_take(&self, n: usize) -> bool {
        let mut used = self.used.load(Ordering::Acquire);
        loop {
            if used != 0 && used + n > self.max {
                return false;
            }
            match self.used.compare_exchange_weak(
                used,
                used + n,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return true,
                Err(now) => used = now,
            }
        }
    }

    fn release(&self, n: usize) {
        self.used.fetch_sub(n, Ordering::AcqRel);
        if self.waiters.load(Ordering::SeqCst) > 0 {
            let _ = self.room_tx.try_send(());
        }
    }

    /// Bytes in flight now.
    pub(crate) fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }
}

/// `n` bytes of a session's [`ByteBudget`], given back when dropped (with the chunk it travels in).
pub(crate) struct BytePermit {
    budget: Arc<ByteBudget>,
    n: usize,
}

impl Drop for BytePermit {
    fn drop(&mut self) {
        self.budget.release(self.n);
    }
}

/// Where workers put their events: a bounded channel plus the owner's waker.
#[derive(Clone)]
pub(crate) struct EventSink {
    tx: Sender<Event>,
    abort: Receiver<()>,
    wake_pending: Arc<AtomicBool>,
    waker: Waker,
    received: Arc<ByteBudget>,
    /// Step mode's gate (see [`super::step`]).
    gate: Arc<StepGate>,
}

impl EventSink {
    /// In step mode, reports `op(args)` as the next call and waits for the owner's Next; returns
    /// at once otherwise. `Err` means the session is stopping.
    pub(crate) fn before(&self, op: Op, args: impl Into<String>) -> Result<(), EngineError> {
        self.gate.before(|| {
            self.emit(EventKind::NextCall {
                op,
                args: args.into(),
            });
        })
    }

    /// Queues an event, waiting while the channel is full: that wait is what lets TCP flow control
    /// push back on a fast peer instead of losing data. Returns false when the owner is gone.
    pub(crate) fn emit(&self, kind: EventKind) -> bool {
        let event = Event::now(kind);
        let sent = match self.tx.try_send(event) {
            Ok(()) => true,
            Err(TrySendError::Disconnected(_)) => false,
            Err(TrySendError::Full(event)) => {
                // Wake the owner first: it may be waiting for exactly this wake-up to drain.
                (self.waker)();
                select! {
                    send(self.tx, event) -> r => r.is_ok(),
                    recv(self.abort) -> _ => false,
                }
            }
        };
        if sent {
            self.wake();
        }
        sent
    }

    /// Reserves `n` bytes of received data in the session's budget, waiting while the owner holds
    /// too much. Returns `None` when the owner is gone.
    pub(crate) fn reserve_received(&self, n: usize) -> Option<BytePermit> {
        let budget = &self.received;
        let permit = || BytePermit {
            budget: Arc::clone(budget),
            n,
        };
        if budget.try_take(n) {
            return Some(permit());
        }
        budget.waiters.fetch_add(1, Ordering::SeqCst);
        let taken = loop {
            // Checked again after registering as a waiter, so a release in between is not missed.
            if budget.try_take(n) {
                break true;
            }
            // The owner may be waiting for exactly this wake-up to drain.
            (self.waker)();
            select! {
                recv(budget.room_rx) -> _ => {},
                recv(self.abort) -> _ => break false,
            }
        };
        let others = budget.waiters.fetch_sub(1, Ordering::SeqCst) > 1;
        if others && budget.used() < budget.max {
            // One wake-up per release: pass it on while there is room for another reader.
            let _ = budget.room_tx.try_send(());
        }
        taken.then(permit)
    }

    /// Queues an event only if there is room; gives it back otherwise. For UDP, whose reader must
    /// never stall behind a slow owner.
    pub(crate) fn try_emit(&self, kind: EventKind) -> Result<(), EventKind> {
        match self.tx.try_send(Event::now(kind)) {
            Ok(()) => {
                self.wake();
                Ok(())
            }
            Err(TrySendError::Full(e) | TrySendError::Disconnected(e)) => Err(e.kind),
        }
    }

    /// Reports one socket call.
    pub(crate) fn call(
        &self,
        conn: Option<ConnId>,
        op: Op,
        args: impl Into<String>,
        outcome: Result<String, String>,
    ) {
        self.emit(EventKind::Call(SocketCall {
            conn,
            op,
            args: args.into(),
            outcome,
        }));
    }

    /// Reports a call that succeeded with nothing to say beyond "ok".
    pub(crate) fn ok(&self, conn: Option<ConnId>, op: Op, args: impl Into<String>) {
        self.call(conn, op, args, Ok(String::new()));
    }

    /// Reports a call's `io::Result` and returns it turned into an [`EngineError`].
    pub(crate) fn report<T>(
        &self,
        conn: Option<ConnId>,
        op: Op,
        args: impl Into<String>,
        target: impl std::fmt::Display,
        result: std::io::Result<T>,
        describe: impl FnOnce(&T) -> String,
    ) -> Result<T, EngineError> {
        match result {
            Ok(v) => {
                self.call(conn, op, args, Ok(describe(&v)));
                Ok(v)
            }
            Err(e) => {
                self.call(conn, op, args, Err(e.to_string()));
                Err(EngineError::io(op, target, &e))
            }
        }
    }

    /// True when the owner has let a good part of the queue fill up (it drains once per frame,
    /// or is busy): a reader that batches should then send fewer, fuller events.
    pub(crate) fn owner_behind(&self) -> bool {
        self.tx
            .capacity()
            .is_some_and(|cap| self.tx.len() * 8 >= cap)
    }

    /// True once the owner has dropped the handle (nobody will read events any more).
    pub(crate) fn abort_signal(&self) -> &Receiver<()> {
        &self.abort
    }

    fn wake(&self) {
        if !self.wake_pending.swap(true, Ordering::AcqRel) {
            (self.waker)();
        }
    }
}

/// What a role's supervisor thread receives from the handle.
pub(crate) struct WorkerCtx<C> {
    pub sink: EventSink,
    pub shared: Arc<SessionShared>,
    pub commands: Receiver<C>,
    pub stop: Receiver<()>,
}

/// Sizes of a session's queues.
#[derive(Debug, Clone, Copy)]
pub struct QueueSizes {
    /// Events waiting for the owner. TCP readers wait when it is full; UDP readers count what
    /// does not fit as "not shown".
    pub events: usize,
    /// Commands waiting for the session.
    pub commands: usize,
    /// Bytes of received TCP data that may be out of the readers' hands at once: queued, or
    /// taken by the owner and not yet dropped. Readers wait beyond it (TCP flow control then
    /// slows the peer), so this, not the event count, bounds a TCP session's memory.
    pub received_bytes: usize,
}

impl QueueSizes {
    /// The TCP roles' sizes: room for 16,384 events, so an owner that drains once per 60 Hz
    /// frame does not stall a bulk receive (a frame of 1 GiB/s is ≈ 17 MB in ≈ 500 reads, or
    /// thousands of small ones), and 64 MiB of received data in flight.
    pub fn tcp() -> Self {
        QueueSizes {
            events: 16_384,
            ..QueueSizes::default()
        }
    }

    /// The TCP roles' sizes with `bytes` of received data in flight at most (1 MiB or more).
    pub fn tcp_with_budget(bytes: usize) -> Self {
        QueueSizes {
            received_bytes: bytes.max(MIN_QUEUE_BUDGET),
            ..QueueSizes::tcp()
        }
    }

    /// The UDP roles' sizes with at most `bytes` of datagrams queued: one queued event holds at
    /// most 128 KiB of datagrams (a 64 KiB batch and the datagram that crossed it); what does
    /// not fit is counted as "not shown".
    pub fn udp_with_budget(bytes: usize) -> Self {
        QueueSizes {
            events: (bytes.max(MIN_QUEUE_BUDGET) / (2 * super::udp::BATCH_MAX_BYTES)).max(8),
            ..QueueSizes::default()
        }
    }
}

/// The smallest queue budget a session takes: below it a single large read could not be queued.
pub const MIN_QUEUE_BUDGET: usize = 1024 * 1024;

impl Default for QueueSizes {
    /// The UDP roles' sizes: 1,024 events of at most 64 KiB of datagrams each.
    fn default() -> Self {
        QueueSizes {
            events: 1024,
            commands: 256,
            received_bytes: 64 * 1024 * 1024,
        }
    }
}

/// A running session: send it commands, read its events, read its counters. Dropping the handle
/// stops the session and joins all of its threads.
pub struct Session<C: Send + 'static> {
    commands: Sender<C>,
    command_capacity: usize,
    events: Receiver<Event>,
    wake_pending: Arc<AtomicBool>,
    shared: Arc<SessionShared>,
    stop: Sender<()>,
    abort: Option<Sender<()>>,
    supervisor: Option<JoinHandle<()>>,
    periodic: Option<Periodic>,
    gate: Arc<StepGate>,
}

impl<C: Send + 'static> Session<C> {
    /// Starts the supervisor thread `name` running `body`. If the thread cannot be created, the
    /// session still exists and reports the failure as its only events.
    pub(crate) fn spawn(
        name: String,
        sizes: QueueSizes,
        waker: Waker,
        body: impl FnOnce(WorkerCtx<C>) + Send + 'static,
    ) -> Self {
        Self::spawn_stepped(name, sizes, false, waker, body)
    }

    /// [`Session::spawn`], in step mode from its first call when `stepping` is set.
    pub(crate) fn spawn_stepped(
        name: String,
        sizes: QueueSizes,
        stepping: bool,
        waker: Waker,
        body: impl FnOnce(WorkerCtx<C>) + Send + 'static,
    ) -> Self {
        let gate = Arc::new(StepGate::new(stepping));
        let (event_tx, event_rx) = bounded(sizes.events.max(1));
        let (command_tx, command_rx) = bounded(sizes.commands.max(1));
        let (stop_tx, stop_rx) = bounded(1);
        let (abort_tx, abort_rx) = bounded::<()>(0);
        let wake_pending = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(SessionShared::default());
        let sink = EventSink {
            tx: event_tx,
            abort: abort_rx,
            wake_pending: Arc::clone(&wake_pending),
            waker,
            received: Arc::new(ByteBudget::new(sizes.received_bytes.max(1))),
            gate: Arc::clone(&gate),
        };
        let ctx = WorkerCtx {
            sink: sink.clone(),
            shared: Arc::clone(&shared),
            commands: command_rx,
            stop: stop_rx,
        };
        let supervisor = spawn_worker(
            name,
            &sink,
            move || body(ctx),
            |e| EventKind::Stopped {
                reason: StopReason::Failed(e),
            },
        );
        Session {
            commands: command_tx,
            command_capacity: sizes.commands.max(1),
            events: event_rx,
            wake_pending,
            shared,
            stop: stop_tx,
            abort: Some(abort_tx),
            supervisor,
            periodic: None,
            gate,
        }
    }

    /// Step mode: before each key socket call (socket, bind, listen, connect, accept) the worker
    /// reports [`EventKind::NextCall`] and waits for [`Session::next_call`]. Turning it off lets a
    /// waiting call go at once.
    pub fn set_stepping(&self, on: bool) {
        self.gate.set_stepping(on);
    }

    /// True while step mode is on.
    pub fn is_stepping(&self) -> bool {
        self.gate.is_stepping()
    }

    /// In step mode: lets the call the worker announced (or the next one) go.
    pub fn next_call(&self) {
        self.gate.allow_one();
    }

    /// Queues a command. Never blocks: a full queue is reported as [`EngineError::QueueFull`].
    pub fn send(&self, command: C) -> Result<(), EngineError> {
        match self.commands.try_send(command) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(EngineError::QueueFull {
                capacity: self.command_capacity,
            }),
            Err(TrySendError::Disconnected(_)) => Err(EngineError::SessionEnded),
        }
    }

    /// Asks the session to stop. Never blocks; the session ends with a `Stopped` event.
    pub fn stop(&self) {
        self.shared.stopping.store(true, Ordering::Release);
        self.gate.cancel();
        if let Some(interrupt) = lock(&self.shared.interrupt).as_ref() {
            interrupt();
        }
        let _ = self.stop.try_send(());
    }

    /// Cancels every file send of this session that is running, or that the session's thread has
    /// already queued (a `SendFile` command still waiting in the command queue, and later ones, are
    /// not affected). Acts at once, without a command: the sending thread sees it between chunks,
    /// and within about 100 ms while the peer does not read (Windows: at the next chunk). Each
    /// cancelled send ends with a `FileSend` event of stage `Cancelled`.
    pub fn cancel_file_sends(&self) {
        self.shared.file_cancel.fetch_add(1, Ordering::AcqRel);
    }

    /// The exact bytes the next send of `template` on this session will carry: the next `{seq}`,
    /// the random bytes kept for that send; only `{time}` and `{unix_ms}` are read again when it
    /// goes out. Cheap, so an editor may call it every frame.
    pub fn preview_template(&self, template: &super::template::Template) -> Vec<u8> {
        self.shared.templates.preview(template)
    }

    /// Fills `template` in as this session's next send (taking its `{seq}`), for an owner that
    /// sends the bytes itself.
    pub fn render_template(&self, template: &super::template::Template) -> Vec<u8> {
        self.shared.templates.render(template)
    }

    /// The `{seq}` the next template send (or templated reply) of this session will carry.
    pub fn next_template_seq(&self) -> u64 {
        self.shared.templates.next_seq()
    }

    /// Takes up to `max` waiting events, oldest first, without blocking. Returns true if more are
    /// waiting (the caller should come back soon). Re-arms the waker.
    pub fn drain(&self, max: usize, mut each: impl FnMut(Event)) -> bool {
        // Re-arm before taking, so an event queued during the drain wakes the owner again.
        self.wake_pending.store(false, Ordering::Release);
        for _ in 0..max {
            match self.events.try_recv() {
                Ok(event) => each(event),
                Err(_) => return false,
            }
        }
        !self.events.is_empty()
    }

    /// Waits up to `timeout` for the next event.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Event> {
        self.wake_pending.store(false, Ordering::Release);
        self.events.recv_timeout(timeout).ok()
    }

    /// Waits, up to `timeout` in all, for an event that `want` accepts; hands every event it passes
    /// on the way to `seen`. Returns the accepted event, or `None` when time ran out or the session
    /// ended first.
    pub fn wait_for(
        &self,
        timeout: Duration,
        mut want: impl FnMut(&Event) -> bool,
        mut seen: impl FnMut(&Event),
    ) -> Option<Event> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let event = self.recv_timeout(left)?;
            seen(&event);
            if want(&event) {
                return Some(event);
            }
        }
    }

    /// The event channel itself, for owners that `select!` over several sources.
    pub fn events(&self) -> &Receiver<Event> {
        &self.events
    }

    /// The session's exact counters, read now.
    pub fn counters(&self) -> CounterSnapshot {
        self.shared.counters.snapshot()
    }

    /// The open TCP connections and their counters, by id.
    pub fn clients(&self) -> Vec<ClientSnapshot> {
        lock(&self.shared.clients)
            .values()
            .map(|c| c.snapshot())
            .collect()
    }

    /// The socket's own address once it is bound (the real port when 0 was asked for).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        *lock(&self.shared.local_addr)
    }

    /// True when every thread of the session has ended.
    pub fn is_finished(&self) -> bool {
        self.supervisor.as_ref().is_none_or(JoinHandle::is_finished)
    }
}

impl<C: Clone + Send + 'static> Session<C> {
    /// Queues `command` every `interval` (1 ms or more), `count` times or until stopped, from a
    /// timer thread in the engine. Replaces a periodic send that is already running.
    pub fn start_periodic(
        &mut self,
        command: C,
        interval: Duration,
        count: Option<u64>,
    ) -> Result<(), EngineError> {
        self.periodic = None;
        self.periodic = Some(Periodic::start(
            self.commands.clone(),
            command,
            interval,
            count,
        )?);
        Ok(())
    }

    /// Stops the periodic send, if one runs.
    pub fn stop_periodic(&mut self) {
        self.periodic = None;
    }

    /// The periodic send's progress, if one was started (it may have finished its count).
    pub fn periodic(&self) -> Option<PeriodicStatus> {
        self.periodic.as_ref().map(Periodic::status)
    }
}

impl<C: Send + 'static> Drop for Session<C> {
    fn drop(&mut self) {
        drop(self.periodic.take());
        self.stop();
        // Nobody reads events any more: release workers that wait for room in the channel.
        drop(self.abort.take());
        if let Some(handle) = self.supervisor.take() {
            let _ = handle.join();
        }
    }
}

/// Spawns a named worker thread that turns a panic into an event instead of a silent death.
/// Returns `None` (after reporting) when the thread could not be created.
pub(crate) fn spawn_worker(
    name: String,
    sink: &EventSink,
    body: impl FnOnce() + Send + 'static,
    on_failure: impl Fn(EngineError) -> EventKind + Send + Sync + 'static,
) -> Option<JoinHandle<()>> {
    let thread_sink = sink.clone();
    let thread_name = name.clone();
    let on_failure = Arc::new(on_failure);
    let on_failure_here = Arc::clone(&on_failure);
    let spawned = thread::Builder::new()
        .name(name.clone())
        .stack_size(WORKER_STACK)
        .spawn(move || {
            if let Err(panic) = catch_unwind(AssertUnwindSafe(body)) {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(ToString::to_string)
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".to_owned());
                thread_sink.emit(on_failure(EngineError::WorkerFailed {
                    thread: thread_name,
                    message,
                }));
            }
        });
    match spawned {
        Ok(handle) => Some(handle),
        Err(e) => {
            sink.emit(on_failure_here(EngineError::WorkerFailed {
                thread: name,
                message: format!("could not start the thread: {e}"),
            }));
            None
        }
    }
}
