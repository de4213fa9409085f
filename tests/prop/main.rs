//! Property tests: the log store, payload parsing and the inert rendering of any bytes.

mod framing;
mod log;
mod payload;
mod render;
