//! Workspaces: every session with its settings, saved messages and reply rules, and the tile
//! layout, as one `.socketlab` file (JSON with a `version` field), plus the state the window keeps
//! between runs ([`AppState`]: the last workspace, the recent files, zoom and theme).
//!
//! The window owns the live sessions; this module only describes them as data
//! ([`SessionRecord`]) so that they can be saved, opened and migrated without a window.

pub mod dialog;
pub mod ending;
pub mod file;
pub mod files;
pub mod legacy;
pub mod store;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::gui::presentation::ViewSettings;
use crate::gui::tabs::lookup::LookupSettings;
use crate::gui::tabs::tcp_client::TcpClientSettings;
use crate::gui::tabs::tcp_server::TcpServerSettings;
use crate::gui::tabs::udp_client::UdpClientSettings;
use crate::gui::tabs::udp_server::UdpServerSettings;

pub use file::{WorkspaceError, read_workspace, write_workspace};
pub use store::{Loaded, SettingsStore};

/// The workspace format this build writes. A file with a higher number was written by a newer
/// Socket Lab and is refused rather than half-read.
pub const WORKSPACE_VERSION: u32 = 1;

/// The file name extension of a workspace (`lab.socketlab`).
pub const WORKSPACE_EXTENSION: &str = "socketlab";

/// Every session of the window and how they are laid out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Workspace {
    /// The format's version ([`WORKSPACE_VERSION`] when written by this build).
    pub version: u32,
    /// The sessions, in the order they were opened.
    pub sessions: Vec<SessionRecord>,
    /// The tile layout as the window saved it (an `egui_tiles` tree); `None` lets the window lay
    /// the sessions out as tabs of one stack.
    pub layout: Option<serde_json::Value>,
    /// The Lookup tab's fields.
    pub lookup: LookupSettings,
}

impl Default for Workspace {
    /// One session of each kind, as a first start shows them.
    fn default() -> Self {
        Workspace {
            version: WORKSPACE_VERSION,
            sessions: vec![
                SessionRecord::new(1, SessionSettings::TcpClient(TcpClientSettings::default())),
                SessionRecord::new(2, SessionSettings::TcpServer(TcpServerSettings::default())),
                SessionRecord::new(3, SessionSettings::UdpClient(UdpClientSettings::default())),
                SessionRecord::new(4, SessionSettings::UdpServer(UdpServerSettings::default())),
            ],
            layout: None,
            lookup: LookupSettings::default(),
        }
    }
}

/// One session as saved: its identity, the name the user gave it, and its role's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// Unique within the workspace; the layout refers to sessions by it, and widget ids derive
    /// from it.
    pub id: u64,
    /// The name the user gave the session; `None` shows the role and address.
    #[serde(default)]
    pub name: Option<String>,
    /// The role and everything it remembers.
    pub settings: SessionSettings,
}

impl SessionRecord {
    /// A session with no name of its own.
    pub fn new(id: u64, settings: SessionSettings) -> Self {
        SessionRecord {
            id,
            name: None,
            settings,
        }
    }
}

/// A session's role with its settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "settings", rename_all = "snake_case")]
pub enum SessionSettings {
    /// A TCP client.
    TcpClient(TcpClientSettings),
    /// A TCP server.
    TcpServer(TcpServerSettings),
    /// A UDP client.
    UdpClient(UdpClientSettings),
    /// A UDP server.
    UdpServer(UdpServerSettings),
}

/// What the window remembers between runs, apart from the window's own size and position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppState {
    /// The format's version.
    pub version: u32,
    /// The sessions as they were when the window last saved (all come back stopped).
    pub workspace: Workspace,
    /// The workspace file the sessions came from or were last saved to, if any.
    pub workspace_path: Option<PathBuf>,
    /// Recently opened or saved workspace files, newest first.
    pub recent: Vec<PathBuf>,
    /// Zoom and theme.
    pub view: ViewSettings,
}

impl Default for AppState {
    fn default() -> Self {
        AppState {
            version: WORKSPACE_VERSION,
            workspace: Workspace::default(),
            workspace_path: None,
            recent: Vec::new(),
            view: ViewSettings::default(),
        }
    }
}
