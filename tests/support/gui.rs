//! Helpers for the window tests: a harness around the real app, bounded stepping until the UI
//! shows something, and field input by label.
#![allow(dead_code, clippy::missing_panics_doc, clippy::expect_used)]

use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use egui_kittest::{Harness, HarnessBuilder};
use socketlab::gui::{Settings, SocketLabApp};

/// Longest any single wait in a test may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The real window state in a headless harness: each frame drains the sessions (as `logic()`
/// does) and draws (as `ui()` does).
pub fn harness() -> Harness<'static, SocketLabApp> {
    app_harness(Harness::builder())
}

/// [`harness`] that draws a box for a character its fonts lack instead of failing: for tests
/// about bytes (emoji, CJK) rather than glyphs.
pub fn harness_allowing_missing_glyphs() -> Harness<'static, SocketLabApp> {
    app_harness(Harness::builder().allow_missing_glyphs())
}

fn app_harness(builder: HarnessBuilder<SocketLabApp>) -> Harness<'static, SocketLabApp> {
    builder.with_size([1400.0, 1000.0]).build_ui_state(
        |ui, app: &mut SocketLabApp| {
            app.logic(ui.ctx());
            app.show(ui);
        },
        SocketLabApp::new(Settings::default()),
    )
}

/// Steps frames until `done` says yes, sleeping a little between frames so engine threads run;
/// panics with `what` after [`TIMEOUT`].
pub fn step_until(
    harness: &mut Harness<'_, SocketLabApp>,
    what: &str,
    mut done: impl FnMut(&Harness<'_, SocketLabApp>) -> bool,
) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        harness.step();
        if done(harness) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for: {what}\n{:#?}",
            harness.root()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Steps until some widget's label contains `text`.
pub fn wait_for_text(harness: &mut Harness<'_, SocketLabApp>, text: &str) {
    let what = format!("a label containing {text:?}");
    step_until(harness, &what, |h| {
        h.query_all_by_label_contains(text).next().is_some()
    });
}

/// True if some widget's label contains `text` now.
pub fn shows(harness: &Harness<'_, SocketLabApp>, text: &str) -> bool {
    harness.query_all_by_label_contains(text).next().is_some()
}

/// Clicks the widget labelled exactly `label`, and lets the click land.
pub fn click(harness: &mut Harness<'_, SocketLabApp>, label: &str) {
    harness.get_by_label(label).click();
    harness.step();
    harness.step();
}

/// Clicks the tab whose label starts with `name` (a running tab carries a mark after its name).
pub fn open_tab(harness: &mut Harness<'_, SocketLabApp>, name: &str) {
    let name = name.to_owned();
    harness
        .get_by(move |node| {
            node.role() == Role::Button && node.label().is_some_and(|l| l.starts_with(&name))
        })
        .click();
    harness.step();
    harness.step();
}

/// Replaces the text of the field labelled `label`.
pub fn set_field(harness: &mut Harness<'_, SocketLabApp>, label: &str, text: &str) {
    harness.get_by_label(label).set_text_value_accesskit(text);
    harness.step();
    harness.step();
}

/// Types `text` into the (empty) field labelled `label` and presses Enter.
pub fn type_and_enter(harness: &mut Harness<'_, SocketLabApp>, label: &str, text: &str) {
    harness.get_by_label(label).focus();
    harness.step();
    harness.get_by_label(label).type_text(text);
    harness.step();
    harness.key_press(egui::Key::Enter);
    harness.step();
    harness.step();
}

/// True if the widget labelled exactly `label` is disabled.
pub fn is_disabled(harness: &Harness<'_, SocketLabApp>, label: &str) -> bool {
    harness.get_by_label(label).accesskit_node().is_disabled()
}

/// The value (text) of the field labelled `label`.
pub fn field_value(harness: &Harness<'_, SocketLabApp>, label: &str) -> String {
    harness.get_by_label(label).value().unwrap_or_default()
}

/// Steps until one widget's label contains every one of `parts` (one log row, for example).
pub fn wait_for_row(harness: &mut Harness<'_, SocketLabApp>, parts: &[&str]) {
    let what = format!("one label containing all of {parts:?}");
    step_until(harness, &what, |h| {
        h.query_all_by(|node| {
            // A `Label` keeps its text in `value`, other widgets in `label`.
            node.label()
                .or_else(|| node.value())
                .is_some_and(|label| parts.iter().all(|p| label.contains(p)))
        })
        .next()
        .is_some()
    });
}

/// Opens the TCP server tab, listens on a port the system picks, and returns the real address.
pub fn listen_tcp_server(harness: &mut Harness<'_, SocketLabApp>) -> std::net::SocketAddr {
    open_tab(harness, "TCP server");
    set_field(harness, "Port", "0");
    click(harness, "Listen");
    step_until(harness, "the server listens", |h| {
        h.state().tcp_server.listening_on().is_some()
    });
    harness
        .state()
        .tcp_server
        .listening_on()
        .expect("the server listens")
}

/// The text of every widget on screen (a `Label` keeps its text in `value`, others in `label`).
pub fn texts(harness: &Harness<'_, SocketLabApp>) -> Vec<String> {
    harness
        .query_all_by(|_| true)
        .filter_map(|n| {
            let node = n.accesskit_node();
            node.label().or_else(|| node.value())
        })
        .collect()
}
