//! Draining a session the way its owner would: the window drains once per frame, woken by the
//! session's waker; the command line drains continuously.

use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, bounded};
use socketlab::engine::{Event, Session, Waker};

/// A 60 Hz frame.
pub const FRAME: Duration = Duration::from_micros(16_667);
/// How long one frame may spend draining before it must draw (half a frame).
pub const FRAME_DRAIN_BUDGET: Duration = Duration::from_millis(8);
/// Events taken per `drain` call between checks of the budget.
const DRAIN_SLICE: usize = 256;

/// How the owner takes events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drain {
    /// Blocks on the channel and takes every event as soon as it is queued.
    Continuous,
    /// Sleeps until the waker fires, drains for at most [`FRAME_DRAIN_BUDGET`], then waits out
    /// the rest of the [`FRAME`] before the next drain — what the window does.
    PerFrame,
}

impl Drain {
    /// How the table names it.
    pub fn label(self) -> &'static str {
        match self {
            Drain::Continuous => "continuous consumer",
            Drain::PerFrame => "per-frame consumer (60 Hz)",
        }
    }
}

/// A waker that records wake-ups in a channel, like `request_repaint` records a pending frame.
pub fn waker() -> (Waker, Receiver<()>) {
    let (tx, rx) = bounded(1);
    let waker: Waker = Arc::new(move || {
        let _ = tx.try_send(());
    });
    (waker, rx)
}

/// Whether the consumer has seen what it waited for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Keep going.
    More,
    /// Stop consuming.
    Done,
}

/// Hands `session`'s events to `each` until it returns [`Flow::Done`], `check` (called between
/// drains) returns [`Flow::Done`], or `deadline` passes. Returns false on the deadline.
pub fn consume<C: Send + 'static>(
    session: &Session<C>,
    wake: &Receiver<()>,
    mode: Drain,
    deadline: Instant,
    mut each: impl FnMut(Event) -> Flow,
    mut check: impl FnMut() -> Flow,
) -> bool {
    // Read between drains while `take` holds the closure: a cell.
    let done = Cell::new(false);
    let mut take = |event: Event| {
        if !done.get() && each(event) == Flow::Done {
            done.set(true);
        }
    };
    match mode {
        Drain::Continuous => loop {
            if done.get() || check() == Flow::Done {
                return true;
            }
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            // A short wait so `check` runs even when no event comes.
            if let Some(event) = session.recv_timeout(left.min(Duration::from_millis(20))) {
                take(event);
                while !done.get() && session.drain(DRAIN_SLICE, &mut take) {}
            }
        },
        Drain::PerFrame => {
            let mut more_waiting = false;
            loop {
                if done.get() || check() == Flow::Done {
                    return true;
                }
                let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                    return false;
                };
                // Idle until woken, as a window that requested no repaint. After a frame that
                // left events behind, the next frame comes without waiting for the waker.
                if !more_waiting {
                    let _ = wake.recv_timeout(left.min(Duration::from_millis(20)));
                }
                let frame_start = Instant::now();
                loop {
                    more_waiting = session.drain(DRAIN_SLICE, &mut take);
                    if done.get() || !more_waiting || frame_start.elapsed() >= FRAME_DRAIN_BUDGET {
                        break;
                    }
                }
                if let Some(rest) = FRAME.checked_sub(frame_start.elapsed()) {
                    std::thread::sleep(rest);
                }
            }
        }
    }
}
