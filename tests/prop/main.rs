//! Property tests: framing, the log store, payload parsing and the inert rendering of any bytes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly; that is its job

mod framing;
mod log;
mod payload;
mod render;
