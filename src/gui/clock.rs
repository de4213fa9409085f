//! The one time formatter of the window: how the log, the transcript, the client table and the
//! exports write a wall-clock time.

use std::time::SystemTime;

/// A wall-clock time as the log shows it (local time, milliseconds).
pub fn clock(at: SystemTime) -> String {
    chrono::DateTime::<chrono::Local>::from(at)
        .format("%H:%M:%S%.3f")
        .to_string()
}
