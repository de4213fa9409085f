//! Ending when the system asks (SIGTERM at logout or from `kill`, SIGINT from a terminal's Ctrl+C,
//! SIGHUP when the terminal goes; the console's close events on Windows) the same way as when the
//! window is closed: the window saves its settings and workspace, stops every session and closes.
//!
//! The signal handler only raises a flag and wakes the window; saving happens on the window's
//! thread in its next frame, where the state lives. A window that does not get to that frame
//! (stuck in the display server) is ended by the handler after [`GRACE`], so a signal always ends
//! the program.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How long the handler waits for the window to save and close before ending the process itself.
pub const GRACE: Duration = Duration::from_secs(5);

/// Raised when the system asked the program to end; the window checks it every frame.
#[derive(Debug, Clone, Default)]
pub struct EndRequest(Arc<AtomicBool>);

impl EndRequest {
    /// A flag nobody has raised.
    pub fn new() -> Self {
        EndRequest::default()
    }

    /// True once an end was asked for.
    pub fn is_raised(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    /// Asks for the end (what the signal handler does; also usable by a test).
    pub fn raise(&self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Routes the termination signals to `request`, calling `wake` so the window runs a frame and
/// sees it. Works once per process (the signal handler is process-wide); a second call fails.
pub fn install(request: &EndRequest, wake: impl Fn() + Send + 'static) -> Result<(), String> {
    let request = request.clone();
    let mut raised_before = false;
    ctrlc::set_handler(move || {
        if raised_before {
            // A second signal while saving: the person means it.
            std::process::exit(130);
        }
        raised_before = true;
        request.raise();
        wake();
        std::thread::spawn(move || {
            std::thread::sleep(GRACE);
            eprintln!("Socket Lab: the window did not close within {GRACE:?}; ending now.");
            std::process::exit(130);
        });
    })
    .map_err(|e| format!("could not watch for the end signals: {e}"))
}
