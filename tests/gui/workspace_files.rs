//! Workspace and settings files on a real disk: every bad file gets one sentence naming it and
//! leaves the caller's workspace alone; saves are atomic; the settings of the four-tab builds
//! (a real `app.ron` written by that build, committed as a fixture) become four sessions; an
//! unreadable settings file is kept aside, never overwritten.

use std::path::{Path, PathBuf};

use socketlab::gui::tabs::udp_server::UdpServerSettings;
use socketlab::gui::workspace::legacy::{self, LegacyTab};
use socketlab::gui::workspace::store::SETTINGS_FILE;
use socketlab::gui::workspace::{
    AppState, SessionRecord, SessionSettings, SettingsStore, WORKSPACE_VERSION, Workspace,
    WorkspaceError, read_workspace, write_workspace,
};

/// `app.ron` as the last four-tab build wrote it (see `tests/fixtures/README.md`).
const LEGACY_STORAGE: &str = include_str!("../fixtures/four-tab-app.ron");

fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("a scratch folder")
}

fn sample_workspace() -> Workspace {
    let mut workspace = Workspace::default();
    workspace.sessions[0].name = Some("Device under test".to_owned());
    if let SessionSettings::TcpClient(client) = &mut workspace.sessions[0].settings {
        "5020".clone_into(&mut client.port);
    }
    workspace.layout = Some(serde_json::json!({"root": 7}));
    workspace
}

fn write(folder: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = folder.join(name);
    std::fs::write(&path, bytes).expect("write a test file");
    path
}

#[test]
fn a_workspace_survives_a_save_and_an_open() {
    let dir = scratch();
    let path = dir.path().join("bench.socketlab");
    let workspace = sample_workspace();
    write_workspace(&path, &workspace).unwrap();
    assert_eq!(read_workspace(&path).unwrap(), workspace);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"version\": 1"), "{text}");
    assert!(text.contains("\"kind\": \"tcp_client\""), "{text}");
    // Only the file itself is left: the temporary file was renamed, not copied.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["bench.socketlab"], "{names:?}");
}

#[test]
fn saving_over_a_workspace_replaces_it_whole() {
    let dir = scratch();
    let path = dir.path().join("w.socketlab");
    let mut big = Workspace::default();
    for id in 5..200 {
        big.sessions.push(SessionRecord::new(
            id,
            SessionSettings::UdpServer(UdpServerSettings::default()),
        ));
    }
    write_workspace(&path, &big).unwrap();
    let small = sample_workspace();
    write_workspace(&path, &small).unwrap();
    assert_eq!(read_workspace(&path).unwrap(), small);
}

#[test]
fn every_bad_workspace_file_gets_its_sentence() {
    let dir = scratch();
    let good = serde_json::to_vec(&sample_workspace()).unwrap();
    let newer =
        String::from_utf8(good.clone())
            .unwrap()
            .replacen("\"version\":1", "\"version\":7", 1);
    let cases: Vec<(PathBuf, &str)> = vec![
        (write(dir.path(), "empty.socketlab", b""), "is empty"),
        (write(dir.path(), "blank.socketlab", b" \n\t\n"), "is empty"),
        (
            write(dir.path(), "cut.socketlab", &good[..good.len() / 2]),
            "is cut short",
        ),
        (
            write(dir.path(), "png.socketlab", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            "is not valid JSON (line 1, column 1)",
        ),
        (
            write(dir.path(), "notes.socketlab", b"{\"a\": 1,\n  oops}"),
            "is not valid JSON (line 2, column 3)",
        ),
        (
            write(dir.path(), "other.socketlab", b"{\"name\": \"package.json\"}"),
            "is not a Socket Lab workspace",
        ),
        (
            write(dir.path(), "list.socketlab", b"[1, 2, 3]"),
            "is not a Socket Lab workspace",
        ),
        (
            write(dir.path(), "newer.socketlab", newer.as_bytes()),
            "was saved by a newer Socket Lab (workspace format 7; this one reads up to 1)",
        ),
        (
            write(
                dir.path(),
                "damaged.socketlab",
                br#"{"version": 1, "sessions": [{"id": 1, "settings": {"kind": "carrier_pigeon"}}]}"#,
            ),
            "is a workspace with a damaged entry",
        ),
        (dir.path().join("missing.socketlab"), "there is no such file"),
        (dir.path().to_path_buf(), "it is a folder, not a file"),
        // Unreadable even for root: reading /proc/self/mem at offset 0 fails with EIO.
        (PathBuf::from("/proc/self/mem"), "Could not open /proc/self/mem"),
    ];
    for (path, expected) in cases {
        let error =
            read_workspace(&path).expect_err(&format!("{} must be refused", path.display()));
        let sentence = error.sentence();
        assert!(
            sentence.contains(expected),
            "{}: {sentence:?} lacks {expected:?}",
            path.display()
        );
        assert!(
            sentence.contains(&path.display().to_string()),
            "the sentence names the file: {sentence:?}"
        );
        assert!(!sentence.contains("os error"), "{sentence:?}");
    }
}

#[test]
fn a_huge_file_is_refused_unread() {
    let dir = scratch();
    let path = dir.path().join("huge.socketlab");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(socketlab::gui::workspace::file::MAX_FILE_BYTES + 1)
        .unwrap();
    let error = read_workspace(&path).unwrap_err();
    assert!(matches!(error, WorkspaceError::TooBig { .. }), "{error:?}");
}

#[test]
fn a_failed_save_leaves_the_old_file_as_it_was() {
    let dir = scratch();
    let path = dir.path().join("keep.socketlab");
    let first = sample_workspace();
    write_workspace(&path, &first).unwrap();
    // Saving into a folder that does not exist fails before touching anything.
    let elsewhere = dir.path().join("no-such-folder").join("x.socketlab");
    let error = write_workspace(&elsewhere, &Workspace::default()).unwrap_err();
    assert!(error.sentence().starts_with("Could not save "), "{error}");
    assert_eq!(read_workspace(&path).unwrap(), first);
}

#[test]
fn the_four_tab_builds_settings_fixture_becomes_four_sessions() {
    let old = legacy::parse_eframe_storage(LEGACY_STORAGE)
        .unwrap()
        .expect("the fixture has Socket Lab's entry");
    assert_eq!(old.tab, LegacyTab::TcpServer);
    let state = old.clone().into_state();
    let kinds: Vec<_> = state
        .workspace
        .sessions
        .iter()
        .map(|s| match &s.settings {
            SessionSettings::TcpClient(c) => format!("tcp client {}:{}", c.host, c.port),
            SessionSettings::TcpServer(c) => format!("tcp server {}:{}", c.bind, c.port),
            SessionSettings::UdpClient(c) => format!("udp client {}:{}", c.host, c.port),
            SessionSettings::UdpServer(c) => format!("udp server {}:{}", c.bind, c.port),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "tcp client 127.0.0.1:5020",
            "tcp server 127.0.0.1:5020",
            "udp client ::1:6000",
            "udp server ::1:6000"
        ]
    );
    let ids: Vec<u64> = state.workspace.sessions.iter().map(|s| s.id).collect();
    assert_eq!(ids, [1, 2, 3, 4]);
    assert_eq!(state.view.zoom_percent, 175);
    if let SessionSettings::TcpClient(client) = &state.workspace.sessions[0].settings {
        assert_eq!(client.saved.list.len(), 1, "saved messages come along");
    }
}

#[test]
fn a_first_start_after_the_four_tab_build_takes_its_settings_over_once() {
    let dir = scratch();
    write(
        dir.path(),
        legacy::EFRAME_STORAGE_FILE,
        LEGACY_STORAGE.as_bytes(),
    );
    let mut store = SettingsStore::in_folder(dir.path());
    let loaded = store.load();
    assert_eq!(loaded.state.workspace.sessions.len(), 4);
    assert!(
        loaded
            .notice
            .as_deref()
            .unwrap_or("")
            .contains("taken over"),
        "{:?}",
        loaded.notice
    );
    store.save(&loaded.state).unwrap();
    let again = SettingsStore::in_folder(dir.path()).load();
    assert_eq!(again.state, loaded.state);
    assert_eq!(again.notice, None, "taken over once, not at every start");
}

#[test]
fn settings_round_trip_through_the_store() {
    let dir = scratch();
    let mut store = SettingsStore::in_folder(dir.path().join("new-folder"));
    assert_eq!(store.load().state, AppState::default());
    let mut state = AppState {
        workspace: sample_workspace(),
        recent: vec![PathBuf::from("/tmp/a.socketlab")],
        ..AppState::default()
    };
    state.view.zoom_percent = 150;
    store.save(&state).unwrap();
    assert_eq!(
        store.load(),
        socketlab::gui::workspace::Loaded {
            state,
            notice: None
        }
    );
}

#[test]
fn an_unreadable_settings_file_is_kept_aside_and_the_user_told() {
    let dir = scratch();
    let bad = b"{\"version\": 1, \"workspace\": {\"sessions\": [";
    write(dir.path(), SETTINGS_FILE, bad);
    let mut store = SettingsStore::in_folder(dir.path());
    let loaded = store.load();
    assert_eq!(loaded.state, AppState::default());
    let notice = loaded.notice.expect("the user is told");
    let backup = dir.path().join(format!("{SETTINGS_FILE}.bak"));
    assert!(notice.contains("is cut short"), "{notice}");
    assert!(notice.contains(&backup.display().to_string()), "{notice}");
    assert_eq!(std::fs::read(&backup).unwrap(), bad, "kept byte for byte");
    // A second bad file does not overwrite the first backup.
    write(dir.path(), SETTINGS_FILE, b"garbage");
    let second = SettingsStore::in_folder(dir.path()).load();
    assert!(second.notice.unwrap().contains(".bak.2"));
    assert_eq!(std::fs::read(&backup).unwrap(), bad);
    // Saving after keeping it aside writes a fresh file.
    store.save(&loaded.state).unwrap();
    assert_eq!(SettingsStore::in_folder(dir.path()).load().notice, None);
}

#[test]
fn a_settings_file_from_a_newer_build_is_kept_aside_too() {
    let dir = scratch();
    let newer = format!(
        "{{\"version\": {}, \"workspace\": {{\"version\": 1, \"sessions\": []}}}}",
        WORKSPACE_VERSION + 1
    );
    write(dir.path(), SETTINGS_FILE, newer.as_bytes());
    let loaded = SettingsStore::in_folder(dir.path()).load();
    assert!(loaded.notice.unwrap().contains("newer Socket Lab"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join(format!("{SETTINGS_FILE}.bak"))).unwrap(),
        newer
    );
}
