//! The settings of Socket Lab builds before sessions (one fixed tab per role), and how they
//! become a workspace of four sessions. Those builds kept their settings in eframe's storage
//! (`app.ron` in the data folder, under eframe's app key, as RON); this module reads that form
//! only, and never writes it.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use super::{AppState, SessionRecord, SessionSettings, WORKSPACE_VERSION, Workspace};
use crate::gui::presentation::ViewSettings;
use crate::gui::tabs::lookup::LookupSettings;
use crate::gui::tabs::tcp_client::TcpClientSettings;
use crate::gui::tabs::tcp_server::TcpServerSettings;
use crate::gui::tabs::udp_client::UdpClientSettings;
use crate::gui::tabs::udp_server::UdpServerSettings;

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

/// Everything the four-tab builds remembered, field for field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct LegacySettings {
    /// The selected tab.
    pub tab: LegacyTab,
    /// TCP client tab.
    pub tcp_client: TcpClientSettings,
    /// TCP server tab.
    pub tcp_server: TcpServerSettings,
    /// UDP client tab.
    pub udp_client: UdpClientSettings,
    /// UDP server tab.
    pub udp_server: UdpServerSettings,
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
                    SessionRecord::new(1, SessionSettings::TcpClient(self.tcp_client)),
                    SessionRecord::new(2, SessionSettings::TcpServer(self.tcp_server)),
                    SessionRecord::new(3, SessionSettings::UdpClient(self.udp_client)),
                    SessionRecord::new(4, SessionSettings::UdpServer(self.udp_server)),
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
