//! The log at scale, and the settings that persist between runs.

use std::time::SystemTime;

use crate::gui_support::tcp_client;
use crate::gui_support::{first_mut, harness, shows, step_until};
use egui_kittest::kittest::Queryable as _;
use socketlab::engine::log_store::{DEFAULT_MAX_ENTRIES, Direction};
use socketlab::engine::payload::InputMode;
use socketlab::gui::roles::TcpClient;
use socketlab::gui::roles::tcp_client::TcpClientSettings;
use socketlab::gui::workspace::SessionSettings;
use socketlab::gui::{AppState, SocketLabApp};

#[test]
fn a_full_log_lays_out_only_the_visible_rows() {
    let mut h = harness();
    let peer = "127.0.0.1:9000".parse().ok();
    let total = DEFAULT_MAX_ENTRIES + 50;
    {
        let log = &mut first_mut::<TcpClient>(&mut h).activity.log;
        for i in 0..total {
            let line = format!("row {i}");
            log.push_data(
                SystemTime::now(),
                Direction::In,
                peer,
                None,
                line.as_bytes(),
            );
        }
    }
    let newest = format!("row {}", total - 1);
    // It sticks to the bottom: the newest row is laid out.
    step_until(&mut h, "the newest row", |h| shows(h, &newest));
    assert!(shows(&h, "50 older entries hidden"), "the cap is announced");
    let laid_out = h
        .query_all_by(|node| node.value().is_some_and(|v| v.contains("◀ in")))
        .count();
    // A label and its text run per row; a 1000-pixel window holds well under 100 rows.
    assert!(laid_out > 0 && laid_out < 200, "{laid_out} rows laid out");
    assert_eq!(tcp_client(&h).activity.log.len(), DEFAULT_MAX_ENTRIES);
}

#[test]
fn settings_round_trip_and_missing_fields_take_defaults() {
    let mut state = AppState::default();
    for record in &mut state.workspace.sessions {
        match &mut record.settings {
            SessionSettings::TcpServer(s) => s.port = "http".to_owned(),
            SessionSettings::UdpClient(s) => s.common.editor.mode = InputMode::Hex,
            SessionSettings::TcpClient(s) => s.common.hex = true,
            SessionSettings::UdpServer(_) => {}
        }
    }
    let json = serde_json::to_string(&state).unwrap();
    let back: AppState = serde_json::from_str(&json).unwrap();
    assert_eq!(back.workspace.sessions, state.workspace.sessions);
    let again = SocketLabApp::new(back).state();
    assert_eq!(again.workspace.sessions, state.workspace.sessions);
    assert!(again.workspace.layout.is_some(), "the tile layout is saved");

    // An older or partial record: what is missing takes its default, and the shared settings
    // (editor, log, ...) sit flat beside the role's own, as the four fixed tabs wrote them.
    let partial: TcpClientSettings = serde_json::from_str(r#"{"port":"7","hex":true}"#).unwrap();
    assert_eq!(partial.port, "7");
    assert_eq!(partial.host, "127.0.0.1");
    assert!(partial.common.hex);
    let flat = serde_json::to_value(TcpClientSettings::default()).unwrap();
    assert!(
        flat.get("editor").is_some() && flat.get("common").is_none(),
        "{flat}"
    );
}
