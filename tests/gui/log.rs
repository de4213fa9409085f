//! The log at scale, and the settings that persist between runs.

use std::time::SystemTime;

use crate::gui_support::{harness, shows, step_until};
use egui_kittest::kittest::Queryable as _;
use socketlab::engine::log_store::{DEFAULT_MAX_ENTRIES, Direction};
use socketlab::engine::payload::InputMode;
use socketlab::gui::{Settings, SocketLabApp, TabId};

#[test]
fn a_full_log_lays_out_only_the_visible_rows() {
    let mut h = harness();
    let peer = "127.0.0.1:9000".parse().ok();
    let total = DEFAULT_MAX_ENTRIES + 50;
    {
        let log = &mut h.state_mut().tcp_client.activity.log;
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
    assert_eq!(h.state().tcp_client.activity.log.len(), DEFAULT_MAX_ENTRIES);
}

#[test]
fn settings_round_trip_and_missing_fields_take_defaults() {
    let mut settings = Settings {
        tab: TabId::UdpServer,
        ..Settings::default()
    };
    settings.tcp_server.port = "http".to_owned();
    settings.udp_client.editor.mode = InputMode::Hex;
    settings.tcp_client.hex = true;
    let json = serde_json::to_string(&settings).unwrap();
    let back: Settings = serde_json::from_str(&json).unwrap();
    assert_eq!(back, settings);
    assert_eq!(SocketLabApp::new(back).settings(), settings);

    // An older or partial file: what is missing takes its default.
    let partial: Settings =
        serde_json::from_str(r#"{"tab":"TcpServer","tcp_client":{"port":"7"}}"#).unwrap();
    assert_eq!(partial.tab, TabId::TcpServer);
    assert_eq!(partial.tcp_client.port, "7");
    assert_eq!(partial.tcp_client.host, "127.0.0.1");
    assert_eq!(partial.udp_server, Settings::default().udp_server);
}
