//! The settings of Socket Lab builds before sessions (one fixed tab per role), and how they
//! become a workspace of four sessions. Those builds kept their settings in eframe's storage
//! (`app.ron` in the data folder, under eframe's app key, as RON); this module reads that form
//! only, and never writes it.
//!
//! The sessions' settings group the fields every role has into `CommonSettings` with
//! `#[serde(flatten)]`, which keeps their JSON flat but which RON cannot read (it needs the
//! struct's own fields). So each tab's settings are read here in the four-tab builds' own flat
//! shape ([`four_tab_form!`]) and then moved into the session's settings.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use super::{AppState, SessionRecord, SessionSettings, WORKSPACE_VERSION, Workspace};
use crate::gui::presentation::ViewSettings;
use crate::gui::roles::tcp_client::TcpClientSettings;
use crate::gui::roles::tcp_server::TcpServerSettings;
use crate::gui::roles::udp_client::UdpClientSettings;
use crate::gui::roles::udp_server::UdpServerSettings;
use crate::gui::session::CommonSettings;
use crate::gui::tabs::lookup::LookupSettings;
use crate::gui::widgets::auto_reply::AutoReplySettings;
use crate::gui::widgets::capture::CaptureSettings;
use crate::gui::widgets::file_send::FileSendSettings;
use crate::gui::widgets::payload_editor::EditorSettings;
use crate::gui::widgets::periodic::PeriodicSettings;
use crate::gui::widgets::saved_messages::SavedMessages;

/// The file eframe keeps its key–value storage in, inside the data folder.
pub const EFRAME_STORAGE_FILE: &str = "app.ron";

/// The tab that was shown, as the four-tab builds named it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum LegacyTab {
    /// TCP client.
    #[default]
    TcpClient,
    /// TCP server.
    TcpServer,
    /// UDP client.
    UdpClient,
    /// UDP server.
    UdpServer,
    /// Lookup.
    Lookup,
    /// Learn.
    Learn,
}

/// Declares a tab's settings in the four-tab builds' flat shape (the role's own fields, then the
/// fields every tab had), defaulting to the session's defaults, and their move into the
/// session's settings.
macro_rules! four_tab_form {
    ($(#[$doc:meta])* $old:ident => $new:ty { $($field:ident: $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
        #[serde(default)]
        pub struct $old {
            $(
                #[doc = concat!("`", stringify!($field), "`, as that build saved it.")]
                pub $field: $ty,
            )*
            /// The message editor.
            pub editor: EditorSettings,
            /// The periodic send.
            pub periodic: PeriodicSettings,
            /// Saved messages.
            pub saved: SavedMessages,
            /// Log as hex.
            pub hex: bool,
            /// The log's memory budget, MiB.
            pub log_budget_mib: usize,
            /// Send a file.
            pub file: FileSendSettings,
        }

        impl Default for $old {
            fn default() -> Self {
                let new = <$new>::default();
                // Parts added after the four-tab form (the script panel …) did not exist then.
                let CommonSettings { editor, periodic, saved, hex, log_budget_mib, file, .. } =
                    new.common;
                $old { $($field: new.$field,)* editor, periodic, saved, hex, log_budget_mib, file }
            }
        }

        impl From<$old> for $new {
            fn from(old: $old) -> Self {
                let mut new = <$new>::default();
                new.common = CommonSettings {
                    editor: old.editor,
                    periodic: old.periodic,
                    saved: old.saved,
                    hex: old.hex,
                    log_budget_mib: old.log_budget_mib,
                    file: old.file,
                    ..CommonSettings::default()
                };
                $(new.$field = old.$field;)*
                new
            }
        }
    };
}

four_tab_form!(
    /// The TCP client tab's settings.
    OldTcpClient => TcpClientSettings {
        host: String, port: String, nodelay: bool, keepalive: bool, recv_buffer: String,
        send_buffer: String, timeout_secs: String,
    }
);
four_tab_form!(
    /// The TCP server tab's settings.
    OldTcpServer => TcpServerSettings {
        bind: String, port: String, reuse_address: bool, v6_only: bool, backlog: String,
        max_clients: String, echo: bool, auto_reply: AutoReplySettings, capture: CaptureSettings,
        close_when_client_finishes: bool, nodelay: bool, keepalive: bool, recv_buffer: String,
        send_buffer: String,
    }
);
four_tab_form!(
    /// The UDP client tab's settings.
    OldUdpClient => UdpClientSettings {
        host: String, port: String, connect_first: bool, broadcast: bool, recv_buffer: String,
    }
);
four_tab_form!(
    /// The UDP server tab's settings.
    OldUdpServer => UdpServerSettings {
        bind: String, port: String, reuse_address: bool, v6_only: bool, broadcast: bool,
        recv_buffer: String, echo: bool, auto_reply: AutoReplySettings, capture: CaptureSettings,
    }
);

/// Everything the four-tab builds remembered, field for field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct LegacySettings {
    /// The selected tab.
    pub tab: LegacyTab,
    /// TCP client tab.
    pub tcp_client: OldTcpClient,
    /// TCP server tab.
    pub tcp_server: OldTcpServer,
    /// UDP client tab.
    pub udp_client: OldUdpClient,
    /// UDP server tab.
    pub udp_server: OldUdpServer,
    /// Lookup tab.
    pub lookup: LookupSettings,
    /// Zoom and theme.
    pub view: ViewSettings,
}

impl LegacySettings {
    /// The four tabs as four sessions (ids 1–4 in the old tab order), everything else carried
    /// over as it was.
    pub fn into_state(self) -> AppState {
        AppState {
            version: WORKSPACE_VERSION,
            workspace: Workspace {
                version: WORKSPACE_VERSION,
                sessions: vec![
                    SessionRecord::new(1, SessionSettings::TcpClient(self.tcp_client.into())),
                    SessionRecord::new(2, SessionSettings::TcpServer(self.tcp_server.into())),
                    SessionRecord::new(3, SessionSettings::UdpClient(self.udp_client.into())),
                    SessionRecord::new(4, SessionSettings::UdpServer(self.udp_server.into())),
                ],
                layout: None,
                lookup: self.lookup,
            },
            workspace_path: None,
            recent: Vec::new(),
            view: self.view,
        }
    }
}

/// Why old settings could not be taken over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegacyError {
    /// The storage file is not eframe's RON map.
    Storage(String),
    /// The map has our entry, but it is not the four-tab settings.
    Settings(String),
}

/// Reads the four-tab settings from eframe's storage file text. `Ok(None)` when the storage has
/// no entry of ours (a build that never saved, or only the window's size).
pub fn parse_eframe_storage(text: &str) -> Result<Option<LegacySettings>, LegacyError> {
    let map: HashMap<String, String> =
        ron::from_str(text).map_err(|e| LegacyError::Storage(e.to_string()))?;
    let Some(entry) = map.get(eframe::APP_KEY) else {
        return Ok(None);
    };
    ron::from_str(entry)
        .map(Some)
        .map_err(|e| LegacyError::Settings(e.to_string()))
}

/// Reads the four-tab settings from the storage file in `folder`, if there is one.
pub fn read_from_folder(folder: &Path) -> Result<Option<LegacySettings>, LegacyError> {
    match std::fs::read_to_string(folder.join(EFRAME_STORAGE_FILE)) {
        Ok(text) => parse_eframe_storage(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(LegacyError::Storage(e.to_string())),
    }
}
