//! The window: a tab bar and the selected tab. `logic` drains every tab's session with a bounded
//! budget (and asks for another frame when more is waiting); `show` draws. Persisted settings
//! ([`Settings`]) are kept apart from run-time handles (the tabs' sessions).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::engine::Waker;
use crate::gui::guide::LearnView;
use crate::gui::presentation::{self, ViewSettings};
use crate::gui::tabs::lookup::{LookupSettings, LookupTab};
use crate::gui::tabs::tcp_client::{TcpClientSettings, TcpClientTab};
use crate::gui::tabs::tcp_server::{self, TcpServerSettings, TcpServerTab};
use crate::gui::tabs::udp_client::{UdpClientSettings, UdpClientTab};
use crate::gui::tabs::udp_server::{self, UdpServerSettings, UdpServerTab};
use crate::gui::text as t;
use crate::gui::text_teach as tt;

/// Which tab is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum TabId {
    /// TCP client.
    #[default]
    TcpClient,
    /// TCP server.
    TcpServer,
    /// UDP client.
    UdpClient,
    /// UDP server.
    UdpServer,
    /// Name and service lookups.
    Lookup,
    /// Demos and the "TCP or UDP?" guide.
    Learn,
}

/// Everything remembered between runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The selected tab.
    pub tab: TabId,
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

/// The Socket Lab window's state.
pub struct SocketLabApp {
    /// The shown tab.
    pub tab: TabId,
    /// TCP client tab.
    pub tcp_client: TcpClientTab,
    /// TCP server tab.
    pub tcp_server: TcpServerTab,
    /// UDP client tab.
    pub udp_client: UdpClientTab,
    /// UDP server tab.
    pub udp_server: UdpServerTab,
    /// Lookup tab.
    pub lookup: LookupTab,
    /// Demos and guide.
    pub learn: LearnView,
    /// Zoom and theme, as last applied.
    pub view: ViewSettings,
    view_applied: bool,
    waker: Option<Waker>,
}

impl SocketLabApp {
    /// A window with these settings and nothing running.
    pub fn new(settings: Settings) -> Self {
        SocketLabApp {
            tab: settings.tab,
            tcp_client: TcpClientTab::new(settings.tcp_client),
            tcp_server: TcpServerTab::new(settings.tcp_server),
            udp_client: UdpClientTab::new(settings.udp_client),
            udp_server: UdpServerTab::new(settings.udp_server),
            lookup: LookupTab::new(settings.lookup),
            learn: LearnView::default(),
            view: settings.view,
            view_applied: false,
            waker: None,
        }
    }

    /// The settings to remember.
    pub fn settings(&self) -> Settings {
        Settings {
            tab: self.tab,
            tcp_client: self.tcp_client.settings.clone(),
            tcp_server: self.tcp_server.settings.clone(),
            udp_client: self.udp_client.settings.clone(),
            udp_server: self.udp_server.settings.clone(),
            lookup: self.lookup.settings.clone(),
            view: self.view,
        }
    }

    /// Takes waiting engine events from every tab's session, a bounded amount each, and asks for
    /// another frame if some are left. Never blocks.
    pub fn logic(&mut self, ctx: &egui::Context) {
        let more = [
            self.tcp_client.poll(),
            self.tcp_server.poll(),
            self.udp_client.poll(),
            self.udp_server.poll(),
            self.lookup.poll(),
        ];
        self.learn.poll();
        if more.contains(&true) {
            ctx.request_repaint();
        }
    }

    fn waker(&mut self, ctx: &egui::Context) -> Waker {
        let waker = self.waker.get_or_insert_with(|| {
            let ctx = ctx.clone();
            Arc::new(move || ctx.request_repaint())
        });
        Arc::clone(waker)
    }

    /// Draws the window.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        let waker = self.waker(ui.ctx());
        self.apply_view(ui.ctx());
        egui::Panel::top("tabs").show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                ui.heading(t::APP_TITLE);
                if let Some(demo) = presentation::menus(ui, &mut self.view) {
                    self.learn.start(demo, &waker);
                    self.tab = TabId::Learn;
                }
                ui.separator();
                let tabs = [
                    (
                        TabId::TcpClient,
                        t::TAB_TCP_CLIENT,
                        t::TAB_TCP_CLIENT_HINT,
                        self.tcp_client.is_running(),
                    ),
                    (
                        TabId::TcpServer,
                        t::TAB_TCP_SERVER,
                        t::TAB_TCP_SERVER_HINT,
                        self.tcp_server.is_running(),
                    ),
                    (
                        TabId::UdpClient,
                        t::TAB_UDP_CLIENT,
                        t::TAB_UDP_CLIENT_HINT,
                        self.udp_client.is_running(),
                    ),
                    (
                        TabId::UdpServer,
                        t::TAB_UDP_SERVER,
                        t::TAB_UDP_SERVER_HINT,
                        self.udp_server.is_running(),
                    ),
                    (
                        TabId::Lookup,
                        tt::TAB_LOOKUP,
                        tt::TAB_LOOKUP_HINT,
                        self.lookup.is_running(),
                    ),
                    (
                        TabId::Learn,
                        tt::TAB_LEARN,
                        tt::TAB_LEARN_HINT,
                        self.learn.is_running(),
                    ),
                ];
                for (id, name, hint, running) in tabs {
                    let label = if running {
                        format!("{name}{}", t::TAB_ACTIVE_MARK)
                    } else {
                        name.to_owned()
                    };
                    ui.selectable_value(&mut self.tab, id, label)
                        .on_hover_text(hint);
                }
            });
        });
        egui::CentralPanel::default().show(ui, |ui| match self.tab {
            TabId::TcpClient => {
                if let Some(action) = self.tcp_client.ui(ui) {
                    self.tcp_client.perform(action, &waker);
                }
            }
            TabId::TcpServer => match self.tcp_server.ui(ui) {
                Some(tcp_server::Action::UseInClient(addr)) => {
                    let s = &mut self.tcp_client.settings;
                    s.host = reachable_host(addr);
                    s.port = addr.port().to_string();
                    self.tab = TabId::TcpClient;
                }
                Some(action) => self.tcp_server.perform(action, &waker),
                None => {}
            },
            TabId::UdpClient => {
                if let Some(action) = self.udp_client.ui(ui) {
                    self.udp_client.perform(action, &waker);
                }
            }
            TabId::UdpServer => match self.udp_server.ui(ui) {
                Some(udp_server::Action::UseInClient(addr)) => {
                    let s = &mut self.udp_client.settings;
                    s.host = reachable_host(addr);
                    s.port = addr.port().to_string();
                    self.tab = TabId::UdpClient;
                }
                Some(action) => self.udp_server.perform(action, &waker),
                None => {}
            },
            TabId::Lookup => {
                if let Some(action) = self.lookup.ui(ui) {
                    self.lookup.perform(action, &waker);
                }
            }
            TabId::Learn => {
                if let Some(demo) = self.learn.ui(ui) {
                    self.learn.start(demo, &waker);
                }
            }
        });
        // Ctrl + and Ctrl - zoom through egui itself; remember where they left it.
        self.view.remember_zoom(ui.ctx().zoom_factor());
    }

    /// Applies the remembered zoom and theme once, on the first frame.
    fn apply_view(&mut self, ctx: &egui::Context) {
        if !self.view_applied {
            self.view_applied = true;
            self.view.apply(ctx);
        }
    }
}

impl eframe::App for SocketLabApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        SocketLabApp::logic(self, ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.settings());
    }
}

/// The host a client on this machine should use to reach a server bound to `addr`: a server on
/// every interface (`0.0.0.0`, `::`) is reached through loopback.
fn reachable_host(addr: std::net::SocketAddr) -> String {
    let ip = match addr.ip() {
        std::net::IpAddr::V4(v4) if v4.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(v6) if v6.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    ip.to_string()
}
