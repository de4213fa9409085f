//! Step mode: the session's worker waits before each key socket call until the owner says
//! *Next*, so a presenter can narrate one call at a time while the real call waits — the gate is
//! in the worker, not in the window, so "the peer sees no connection before Next" is true of the
//! network, not only of the picture.
//!
//! Before a gated call the worker reports [`crate::engine::EventKind::NextCall`] with the call
//! and its arguments, then waits for [`crate::engine::Session::next_call`] (one call),
//! [`crate::engine::Session::set_stepping`]`(false)` (run freely) or a stop. Without step mode
//! the gate costs one atomic load per call.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

use super::error::EngineError;

/// How long a waiting worker sleeps before it looks at its gate again on its own: only a guard,
/// since every change (Next, stepping off, stop) wakes it at once.
const RECHECK: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
struct GateState {
    /// Calls the owner has allowed and the worker has not made yet.
    permits: u32,
    /// The session is stopping: every wait ends.
    cancelled: bool,
}

/// One session's gate, shared by its handle and all of its worker threads.
#[derive(Debug, Default)]
pub(crate) struct StepGate {
    stepping: AtomicBool,
    state: Mutex<GateState>,
    changed: Condvar,
}

impl StepGate {
    /// A gate that starts stepping (or not).
    pub(crate) fn new(stepping: bool) -> Self {
        StepGate {
            stepping: AtomicBool::new(stepping),
            ..StepGate::default()
        }
    }

    pub(crate) fn is_stepping(&self) -> bool {
        self.stepping.load(Ordering::Acquire)
    }

    pub(crate) fn set_stepping(&self, on: bool) {
        self.stepping.store(on, Ordering::Release);
        self.changed.notify_all();
    }

    /// Allows one more call.
    pub(crate) fn allow_one(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.permits = state.permits.saturating_add(1);
        drop(state);
        self.changed.notify_all();
    }

    /// Ends every wait, now and later: the session stops.
    pub(crate) fn cancel(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.cancelled = true;
        drop(state);
        self.changed.notify_all();
    }

    /// Called by a worker right before `op`: returns at once unless stepping; then `announce`
    /// reports the call once and the worker waits for Next. `Err` means the session stops.
    pub(crate) fn before(&self, announce: impl FnOnce()) -> Result<(), EngineError> {
        if !self.is_stepping() {
            return Ok(());
        }
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.permits == 0 && !state.cancelled {
            drop(state);
            announce();
            state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        }
        loop {
            if state.cancelled {
                return Err(EngineError::SessionEnded);
            }
            if !self.is_stepping() {
                return Ok(());
            }
            if state.permits > 0 {
                state.permits -= 1;
                return Ok(());
            }
            state = self
                .changed
                .wait_timeout(state, RECHECK)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_stepping_gate_lets_one_call_through_per_permit() {
        let gate = Arc::new(StepGate::new(true));
        let (tx, rx) = crossbeam_channel::unbounded();
        let worker = {
            let gate = Arc::clone(&gate);
            std::thread::spawn(move || {
                for n in 0..3 {
                    let announced = tx.clone();
                    if gate
                        .before(move || {
                            let _ = announced.send(n);
                        })
                        .is_err()
                    {
                        return n;
                    }
                }
                3
            })
        };
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(0));
        gate.allow_one();
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(1));
        gate.cancel();
        assert_eq!(worker.join().ok(), Some(1));
    }

    #[test]
    fn without_stepping_nothing_waits_or_announces() {
        let gate = StepGate::new(false);
        assert!(gate.before(|| panic!("announced")).is_ok());
    }
}
