//! The memory a session may use: its log's budget and the engine queue that follows from it.
//! A module of its own so that the log view and the sessions both use it without importing each
//! other.

use crate::engine::log_store::LogStore;

const MIB: usize = 1024 * 1024;

/// A new tab's log budget in MiB (the log store's default), as the settings remember it.
pub fn default_log_budget_mib() -> usize {
    crate::engine::log_store::DEFAULT_MAX_BYTES / MIB
}

/// The memory a tab's next session may hold in the engine's queue (received data waiting for the
/// window): a quarter of the log's budget, so one number — the log budget the user sets above
/// the log — bounds the tab's whole memory (log + queue = 1.25 × the log budget).
pub fn queue_budget(log: &LogStore) -> usize {
    log.max_bytes() / 4
}
