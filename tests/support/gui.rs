//! Helpers for the window tests: a harness around the real app, bounded stepping until the UI
//! shows something, and field input by label.
#![allow(dead_code, clippy::missing_panics_doc, clippy::expect_used)]

use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use egui_kittest::{Harness, HarnessBuilder};
use socketlab::gui::roles::{TcpClient, TcpServer, UdpClient, UdpServer};
use socketlab::gui::session::{Role as SessionRole, SessionKind, SessionTab};
use socketlab::gui::{AppState, SocketLabApp};

/// Longest any single wait in a test may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The real window state in a headless harness: each frame drains the sessions (as `logic()`
/// does) and draws (as `ui()` does).
pub fn harness() -> Harness<'static, SocketLabApp> {
    app_harness(Harness::builder().with_size([1400.0, 1000.0]))
}

/// [`harness`] in a window of `width` × `height` points (from its first frame: the panels size
/// themselves then).
pub fn harness_of_size(width: f32, height: f32) -> Harness<'static, SocketLabApp> {
    app_harness(Harness::builder().with_size([width, height]))
}

/// [`harness`] that draws a box for a character its fonts lack instead of failing: for tests
/// about bytes (emoji, CJK) rather than glyphs.
pub fn harness_allowing_missing_glyphs() -> Harness<'static, SocketLabApp> {
    app_harness(
        Harness::builder()
            .with_size([1400.0, 1000.0])
            .allow_missing_glyphs(),
    )
}

/// [`harness`] on a window that starts from `state` (a saved workspace, restored settings).
pub fn harness_with(state: AppState) -> Harness<'static, SocketLabApp> {
    app_harness_from(Harness::builder().with_size([1400.0, 1000.0]), state)
}

fn app_harness(builder: HarnessBuilder<SocketLabApp>) -> Harness<'static, SocketLabApp> {
    app_harness_from(builder, AppState::default())
}

fn app_harness_from(
    builder: HarnessBuilder<SocketLabApp>,
    state: AppState,
) -> Harness<'static, SocketLabApp> {
    builder
        .with_context_setup(SocketLabApp::setup_context)
        .build_ui_state(
            |ui, app: &mut SocketLabApp| {
                app.logic(ui.ctx());
                app.show(ui);
            },
            SocketLabApp::new(state),
        )
}

/// The session of role `R` shown last (the first one if none was shown yet).
pub fn first<'a, R: SessionRole>(harness: &'a Harness<'_, SocketLabApp>) -> &'a SessionTab<R> {
    let app = harness.state();
    app.last_shown(R::KIND)
        .and_then(|id| app.session_as::<R>(id))
        .or_else(|| app.sessions_of::<R>().next())
        .expect("a session of this kind")
}

/// The session of role `R` shown last, to change.
pub fn first_mut<'a, R: SessionRole>(
    harness: &'a mut Harness<'_, SocketLabApp>,
) -> &'a mut SessionTab<R> {
    let id = first::<R>(harness).id;
    harness
        .state_mut()
        .session_as_mut::<R>(id)
        .expect("a session of this kind")
}

/// The first TCP client session.
pub fn tcp_client<'a>(harness: &'a Harness<'_, SocketLabApp>) -> &'a SessionTab<TcpClient> {
    first::<TcpClient>(harness)
}

/// The first TCP server session.
pub fn tcp_server<'a>(harness: &'a Harness<'_, SocketLabApp>) -> &'a SessionTab<TcpServer> {
    first::<TcpServer>(harness)
}

/// The first UDP client session.
pub fn udp_client<'a>(harness: &'a Harness<'_, SocketLabApp>) -> &'a SessionTab<UdpClient> {
    first::<UdpClient>(harness)
}

/// The first UDP server session.
pub fn udp_server<'a>(harness: &'a Harness<'_, SocketLabApp>) -> &'a SessionTab<UdpServer> {
    first::<UdpServer>(harness)
}

/// The kind of the session shown in front.
pub fn shown_kind(harness: &Harness<'_, SocketLabApp>) -> Option<SessionKind> {
    harness
        .state()
        .active_session()
        .map(socketlab::gui::session::Tab::kind)
}

/// Opens the tools drawer of the session shown (socket options, saved messages, repeat, file).
pub fn open_tools(harness: &mut Harness<'_, SocketLabApp>) {
    let open = harness
        .get_by_label("Tools")
        .accesskit_node()
        .is_selected()
        .unwrap_or(false);
    if !open {
        click(harness, "Tools");
    }
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

/// Opens the session's tools drawer if no widget is labelled `label` (the tools live there),
/// as a user looking for a tool would.
pub fn reveal(harness: &mut Harness<'_, SocketLabApp>, label: &str) {
    // A few tries: a click that opens the drawer can miss when an engine event moves the
    // layout between the query and the click (a busy machine makes that likelier).
    let log_tools = "Find, export, memory";
    let mut log_tools_opened = false;
    for _ in 0..5 {
        if harness.query_by_label(label).is_some() {
            return;
        }
        if harness.query_by_label("Tools").is_some() {
            open_tools(harness);
        }
        // A toggle: clicked once at most, or a second try would close it again.
        if !log_tools_opened
            && harness.query_by_label(label).is_none()
            && harness.query_by_label(log_tools).is_some()
        {
            click(harness, log_tools);
            log_tools_opened = true;
        }
        harness.step();
    }
}

/// Clicks the widget labelled exactly `label`, and lets the click land.
pub fn click(harness: &mut Harness<'_, SocketLabApp>, label: &str) {
    reveal(harness, label);
    harness.get_by_label(label).click();
    harness.step();
    harness.step();
}

/// Clicks the first tab whose title starts with `name` (`TCP client → 127.0.0.1:9000`).
pub fn open_tab(harness: &mut Harness<'_, SocketLabApp>, name: &str) {
    let name = name.to_owned();
    harness
        .query_all_by(move |node| {
            node.role() == Role::Button && node.label().is_some_and(|l| l.starts_with(&name))
        })
        .next()
        .expect("a tab with that title")
        .click();
    harness.step();
    harness.step();
}

/// Replaces the text of the field labelled `label`.
pub fn set_field(harness: &mut Harness<'_, SocketLabApp>, label: &str, text: &str) {
    reveal(harness, label);
    harness.get_by_label(label).set_text_value_accesskit(text);
    harness.step();
    harness.step();
}

/// Types `text` into the (empty) field labelled `label` and presses Enter.
pub fn type_and_enter(harness: &mut Harness<'_, SocketLabApp>, label: &str, text: &str) {
    reveal(harness, label);
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
        tcp_server(h).role.listening.is_some()
    });
    tcp_server(harness)
        .role
        .listening
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
