//! One drain budget for the whole window per frame, shared by every session (rerun's
//! `receive_messages` shape): 20 busy sessions together take no longer than one would, and the
//! sessions are visited round-robin so none is starved.

use std::time::{Duration, Instant};

/// Time the window may spend taking engine events per frame, all sessions together.
pub const FRAME_DRAIN_TIME: Duration = Duration::from_millis(6);
/// Most events the window takes per frame, all sessions together.
pub const FRAME_DRAIN_EVENTS: usize = 8192;

/// What is left of this frame's drain budget.
#[derive(Debug, Clone)]
pub struct FrameBudget {
    deadline: Instant,
    events_left: usize,
}

impl FrameBudget {
    /// A full budget starting now.
    pub fn new() -> Self {
        Self::with(FRAME_DRAIN_TIME, FRAME_DRAIN_EVENTS)
    }

    /// A budget of `time` and `events` starting now.
    pub fn with(time: Duration, events: usize) -> Self {
        FrameBudget {
            deadline: Instant::now() + time,
            events_left: events,
        }
    }

    /// How many events may be taken next (0 once time or count is spent).
    pub fn allowance(&self) -> usize {
        if Instant::now() >= self.deadline {
            0
        } else {
            self.events_left
        }
    }

    /// Counts `n` events as taken.
    pub fn spend(&mut self, n: usize) {
        self.events_left = self.events_left.saturating_sub(n);
    }

    /// True once nothing more may be taken this frame.
    pub fn is_spent(&self) -> bool {
        self.allowance() == 0
    }
}

impl Default for FrameBudget {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_and_time_both_end_the_budget() {
        let mut budget = FrameBudget::with(Duration::from_mins(1), 10);
        assert_eq!(budget.allowance(), 10);
        budget.spend(4);
        assert_eq!(budget.allowance(), 6);
        budget.spend(40);
        assert!(budget.is_spent());
        let expired = FrameBudget::with(Duration::ZERO, 10);
        assert!(
            expired.is_spent(),
            "no time left means nothing more this frame"
        );
    }
}
