//! Periodic send: a timer thread in the engine that queues the same command every interval, so the
//! rhythm does not depend on the window being drawn (it keeps going while the window is hidden or
//! busy). Ticks are scheduled from the start time, so they do not drift; a tick that finds the
//! command queue full waits for room instead of being skipped.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Sender, bounded, select};

use super::error::EngineError;
use super::session::WORKER_STACK;

/// The shortest interval accepted.
pub const MIN_INTERVAL: Duration = Duration::from_millis(1);

/// What a periodic sender has done so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeriodicStatus {
    /// Commands queued so far.
    pub sent: u64,
    /// How many it will send in all (`None`: until stopped).
    pub count: Option<u64>,
    /// The interval between sends.
    pub interval: Duration,
    /// True while the timer is still running.
    pub running: bool,
}

/// A running periodic sender. Dropping it stops the timer and joins its thread.
pub struct Periodic {
    sent: Arc<AtomicU64>,
    running: Arc<AtomicBool>,
    count: Option<u64>,
    interval: Duration,
    cancel: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Periodic {
    /// Starts queueing `command` on `commands` every `interval`, `count` times (or until stopped).
    pub(crate) fn start<C: Clone + Send + 'static>(
        commands: Sender<C>,
        command: C,
        interval: Duration,
        count: Option<u64>,
    ) -> Result<Self, EngineError> {
        if interval < MIN_INTERVAL {
            return Err(EngineError::NotNow {
                op: super::Op::Send,
                why: "the interval must be at least 1 ms".to_owned(),
            });
        }
        let sent = Arc::new(AtomicU64::new(0));
        let running = Arc::new(AtomicBool::new(true));
        let (cancel_tx, cancel_rx) = bounded::<()>(0);
        let thread_sent = Arc::clone(&sent);
        let thread_running = Arc::clone(&running);
        let thread = std::thread::Builder::new()
            .name(format!("periodic-send every {interval:?}"))
            .stack_size(WORKER_STACK)
            .spawn(move || {
                let start = Instant::now();
                let mut n: u64 = 0;
                while count.is_none_or(|c| n < c) {
                    let due = start + interval.saturating_mul(u32::try_from(n).unwrap_or(u32::MAX));
                    let wait = due.saturating_duration_since(Instant::now());
                    select! {
                        recv(cancel_rx) -> _ => break,
                        default(wait) => {},
                    }
                    select! {
                        send(commands, command.clone()) -> r => if r.is_err() { break },
                        recv(cancel_rx) -> _ => break,
                    }
                    n += 1;
                    thread_sent.store(n, Ordering::Relaxed);
                }
                thread_running.store(false, Ordering::Release);
            })
            .map_err(|e| EngineError::WorkerFailed {
                thread: "periodic-send".to_owned(),
                message: e.to_string(),
            })?;
        Ok(Periodic {
            sent,
            running,
            count,
            interval,
            cancel: Some(cancel_tx),
            thread: Some(thread),
        })
    }

    /// What it has done so far.
    pub fn status(&self) -> PeriodicStatus {
        PeriodicStatus {
            sent: self.sent.load(Ordering::Relaxed),
            count: self.count,
            interval: self.interval,
            running: self.running.load(Ordering::Acquire),
        }
    }
}

impl Drop for Periodic {
    fn drop(&mut self) {
        drop(self.cancel.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
