//! Ending by a signal saves like closing the window: SIGTERM (a desktop logout, `kill`) reaches
//! the window through its end flag, and the next frame writes the settings with every session.
//! A binary of its own: the signal handler is process-wide.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly; that is its job

#[path = "support/gui.rs"]
mod gui_support;

use std::time::Duration;

use socketlab::gui::session::SessionKind;
use socketlab::gui::workspace::store::SETTINGS_FILE;
use socketlab::gui::workspace::{SettingsStore, ending};

use gui_support::{harness, step_until};

#[test]
fn sigterm_saves_every_session_before_the_window_closes() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness();
    h.state_mut().files.store = Some(SettingsStore::in_folder(dir.path()));
    let extra = h.state_mut().new_session(SessionKind::UdpServer);
    h.state_mut().rename(extra, "Sensor inbox");
    h.step();
    // A grace far beyond the test's own time limit: the test, not the deadline, ends the process.
    ending::install(&h.state().files.end, || {}, Duration::from_mins(10)).unwrap();

    nix::sys::signal::raise(nix::sys::signal::Signal::SIGTERM).unwrap();
    let file = dir.path().join(SETTINGS_FILE);
    step_until(&mut h, "the settings are saved", |_| file.exists());

    let saved = SettingsStore::in_folder(dir.path()).load();
    assert_eq!(saved.notice, None);
    assert_eq!(
        saved.state.workspace.sessions,
        h.state().state().workspace.sessions
    );
    assert!(
        saved
            .state
            .workspace
            .sessions
            .iter()
            .any(|s| s.name.as_deref() == Some("Sensor inbox"))
    );
    assert!(h.state().files.end.is_raised());
}
