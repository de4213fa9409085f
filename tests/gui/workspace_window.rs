//! Workspaces through the window's File menu: a round trip keeps every session, its name,
//! settings and saved messages, and the layout; a bad file gets its sentence in the dialog and
//! the sessions stay as they were.

use socketlab::engine::encoding::TextEncoding;
use socketlab::engine::payload::{InputMode, LineEnding};
use socketlab::gui::SocketLabApp;
use socketlab::gui::app::{FileAction, Layout};
use socketlab::gui::roles::TcpClient;
use socketlab::gui::session::SessionKind;
use socketlab::gui::widgets::saved_messages::SavedMessage;
use socketlab::gui::workspace::Workspace;

use crate::gui_support::{click, harness, set_field, shows, wait_for_text};

fn file_menu(h: &mut egui_kittest::Harness<'_, SocketLabApp>, item: &str) {
    click(h, "File");
    click(h, item);
}

#[test]
fn a_workspace_saved_and_opened_again_has_the_same_sessions_settings_and_layout() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("desk.socketlab");
    let mut h = harness();

    let device = h.state_mut().new_session(SessionKind::TcpClient);
    h.state_mut().rename(device, "Device under test");
    {
        let client = h.state_mut().session_as_mut::<TcpClient>(device).unwrap();
        "5020".clone_into(&mut client.settings.port);
        client.settings.common.saved.list.push(SavedMessage {
            name: "Read 10 registers".to_owned(),
            text: "01 03 00 00 00 0A C5 CD".to_owned(),
            mode: InputMode::Hex,
            ending: LineEnding::None,
            encoding: TextEncoding::Utf8,
            ..SavedMessage::default()
        });
    }
    let ctx = h.ctx.clone();
    h.state_mut()
        .file_action(FileAction::Layout(Layout::ServerAndClient), &ctx);
    h.step();
    let before = h.state().state().workspace;

    // Menu items carry their shortcut in their label.
    file_menu(&mut h, "Save workspace Ctrl+S");
    set_field(&mut h, "Workspace file", &path.display().to_string());
    click(&mut h, "Save workspace");
    wait_for_text(&mut h, "Saved ");
    assert!(path.exists());

    h.state_mut().replace_workspace(Workspace {
        sessions: Vec::new(),
        ..Workspace::default()
    });
    h.step();
    assert!(h.state().sessions.is_empty());

    file_menu(&mut h, "Open workspace… Ctrl+O");
    set_field(&mut h, "Workspace file", &path.display().to_string());
    click(&mut h, "Open workspace");
    // The empty set of sessions differs from the file: the window asks once.
    click(&mut h, "Open anyway");
    wait_for_text(&mut h, "all stopped");
    let after = h.state().state().workspace;
    assert_eq!(after.sessions, before.sessions);
    assert_eq!(after.layout, before.layout);
    assert!(h.state().sessions.iter().all(|s| !s.is_running()));
    assert_eq!(h.state().files.recent.first(), Some(&path));
}

#[test]
fn a_bad_workspace_file_is_named_in_the_dialog_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.socketlab");
    std::fs::write(&path, b"{\"version\": 1, \"sessions\": [").unwrap();
    let mut h = harness();
    h.state_mut().new_session(SessionKind::UdpServer);
    h.step();
    let before = h.state().state().workspace;

    file_menu(&mut h, "Open workspace… Ctrl+O");
    set_field(&mut h, "Workspace file", &path.display().to_string());
    click(&mut h, "Open workspace");
    if shows(&h, "Open anyway") {
        click(&mut h, "Open anyway");
    }
    wait_for_text(&mut h, "is cut short");
    assert!(shows(&h, &path.display().to_string()));
    assert_eq!(h.state().state().workspace.sessions, before.sessions);
}

#[test]
fn sessions_come_back_stopped_and_start_all_starts_the_valid_ones() {
    use socketlab::gui::AppState;
    use socketlab::gui::roles::TcpServer;
    use socketlab::gui::workspace::{SessionRecord, SessionSettings};
    // A port free a moment ago, for a server and the client aimed at it.
    let port = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map_or(0, |a| a.port())
        .to_string();
    let client = |id: u64, port: &str| {
        let SessionSettings::TcpClient(mut c) = SessionKind::TcpClient.default_settings() else {
            unreachable!("a TCP client's defaults")
        };
        port.clone_into(&mut c.port);
        SessionRecord::new(id, SessionSettings::TcpClient(c))
    };
    let SessionSettings::TcpServer(mut server) = SessionKind::TcpServer.default_settings() else {
        unreachable!("a TCP server's defaults")
    };
    port.clone_into(&mut server.port);
    // The client comes first in the file (Start all starts the servers first, so it finds its
    // server listening even when that is quicker than here).
    let workspace = Workspace {
        sessions: vec![
            client(1, &port),
            SessionRecord::new(2, SessionSettings::TcpServer(server)),
            client(3, "99999"),
        ],
        ..Workspace::default()
    };
    let state = AppState {
        workspace,
        ..AppState::default()
    };
    let mut h = crate::gui_support::harness_with(state);
    for _ in 0..5 {
        h.step();
    }
    assert!(
        h.state().sessions.iter().all(|s| !s.is_running()),
        "nothing connects or listens at start"
    );

    click(&mut h, "File");
    click(&mut h, "Start all");
    crate::gui_support::step_until(&mut h, "the client connects to the server", |h| {
        h.state()
            .session_as::<TcpClient>(1)
            .is_some_and(|c| c.role.local.is_some())
    });
    assert!(
        h.state()
            .session_as::<TcpServer>(2)
            .is_some_and(|s| s.role.listening.is_some()),
        "the server listens"
    );
    assert!(
        !h.state()
            .session(3)
            .is_some_and(socketlab::gui::session::Tab::is_running),
        "a session with an invalid field is left alone"
    );
    h.state_mut().focus(socketlab::gui::Pane::Session(3));
    h.step();
    h.step();
    assert!(shows(&h, "99999 is not a port"), "and says why");
}
