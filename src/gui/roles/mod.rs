//! The four roles a session can have. Each file holds only what its kind does differently (see
//! [`crate::gui::session::Role`]); the session frame draws the rest.

/// The [`Role`] items that differ between the roles only by name: the shared settings sit in
/// each settings struct's `common` field, the workspace record's variant is named like the role,
/// and the role file's own `validate` checks the fields.
macro_rules! settings_glue {
    ($settings:ty, $variant:ident) => {
        fn common(s: &$settings) -> &CommonSettings {
            &s.common
        }

        fn common_mut(s: &mut $settings) -> &mut CommonSettings {
            &mut s.common
        }

        fn wrap(s: $settings) -> SessionSettings {
            SessionSettings::$variant(s)
        }

        fn validate(s: &$settings) -> Result<Self::Config, Vec<String>> {
            validate(s)
        }
    };
}

pub mod tcp_client;
pub mod tcp_server;
pub mod udp_client;
pub mod udp_server;

use std::net::SocketAddr;

use egui::Ui;

pub use tcp_client::TcpClient;
pub use tcp_server::TcpServer;
pub use udp_client::UdpClient;
pub use udp_server::UdpServer;

use crate::engine::autoreply::AutoReply;
use crate::gui::session::{Request, Role};
use crate::gui::text as t;
use crate::gui::widgets::auto_reply::AutoReplySettings;
use crate::gui::widgets::fields::take_submit;

/// The sentences of the invalid results among `results` (empty: all valid).
pub fn problems(results: &[Option<String>]) -> Vec<String> {
    results.iter().flatten().cloned().collect()
}

/// The host a client on this machine should use to reach a server bound to `addr`: a server on
/// every interface (`0.0.0.0`, `::`) is reached through loopback.
pub fn reachable_host(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        std::net::IpAddr::V4(v4) if v4.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(v6) if v6.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    ip.to_string()
}

/// What a server's main buttons were asked for.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ServerButtons {
    /// Listen / Bind (or Enter in a field).
    pub start: bool,
    /// Stop.
    pub stop: bool,
    /// The echo checkbox changed while running.
    pub echo_changed: bool,
}

/// A server's start button (`start_label`), Stop and Echo, in the connection bar.
pub fn server_buttons(
    ui: &mut Ui,
    start_label: &str,
    echo_hint: &str,
    (running, stopping, valid): (bool, bool, bool),
    echo: &mut bool,
) -> ServerButtons {
    // Enter in an address or port field does what the main button does.
    let submitted = take_submit(ui);
    let start = ui
        .add_enabled(!running && valid, egui::Button::new(start_label))
        .clicked()
        || (submitted && !running && valid);
    let stop = ui
        .add_enabled(running && !stopping, egui::Button::new(t::STOP))
        .clicked();
    let echo_changed = ui
        .checkbox(echo, t::ECHO)
        .on_hover_text(echo_hint)
        .changed()
        && running;
    ServerButtons {
        start,
        stop,
        echo_changed,
    }
}

/// What a server's buttons ask for: start, stop, or new echo settings for the running server.
pub fn server_request<R, F>(
    asked: ServerButtons,
    rules: (&AutoReplySettings, bool),
    config: Option<&R::Config>,
    set_auto_reply: F,
) -> Option<Request<R>>
where
    R: Role,
    F: FnOnce(AutoReply) -> R::Action,
{
    if asked.start
        && let Some(config) = config
    {
        return Some(Request::Start(config.clone()));
    }
    if asked.stop {
        return Some(Request::Stop);
    }
    let (auto_reply, echo) = rules;
    match auto_reply.effective(echo) {
        Ok(auto) if asked.echo_changed => Some(Request::Role(set_auto_reply(auto))),
        _ => None,
    }
}
