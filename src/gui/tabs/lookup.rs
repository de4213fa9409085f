//! The Lookup tab: what the system resolver answers. `getaddrinfo` for a name (and an optional
//! service), `getnameinfo` for an address, and service name ↔ port for TCP and UDP.
//!
//! Resolving can block for seconds on a name the DNS does not know, so every lookup runs on a
//! thread of its own and hands its answer back through a channel; the window keeps drawing. Only
//! one lookup of each kind runs at a time (its button waits), which bounds the threads.

use std::net::{IpAddr, SocketAddr};
use std::thread;

use crossbeam_channel::{Receiver, bounded};
use egui::{RichText, Ui};
use serde::{Deserialize, Serialize};

use crate::engine::Waker;
use crate::engine::lookup::{AddrInfoRow, NameInfo, SocketKind, addr_info, name_info};
use crate::engine::services::{self, PortSpec, PortUse, Protocol, ServiceSource, parse_port};
use crate::gui::text_teach as tt;
use crate::gui::widgets::fields::{error_line, labelled_edit, take_submit};
use crate::gui::widgets::guidance;

/// What the tab remembers between runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LookupSettings {
    /// Name or address to look up.
    pub name: String,
    /// Optional service (name or number) for the forward lookup.
    pub service: String,
    /// Address for the reverse lookup.
    pub address: String,
    /// Port for the reverse lookup (may be empty).
    pub reverse_port: String,
    /// Service name or port to translate.
    pub service_query: String,
}

impl Default for LookupSettings {
    fn default() -> Self {
        LookupSettings {
            name: "localhost".to_owned(),
            service: String::new(),
            address: "127.0.0.1".to_owned(),
            reverse_port: "80".to_owned(),
            service_query: "http".to_owned(),
        }
    }
}

/// One `getaddrinfo` call and its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardQuery {
    /// The socket-type hint (`None`: any type).
    pub kind: Option<SocketKind>,
    /// The port asked for (`None`: no service given).
    pub port: Option<u16>,
    /// The rows, in the system's order.
    pub rows: Vec<AddrInfoRow>,
}

/// The answer to a forward lookup: one query per transport when a service was given.
pub type ForwardAnswer = Result<Vec<ForwardQuery>, String>;
/// The answer to a reverse lookup.
pub type ReverseAnswer = Result<NameInfo, String>;

/// A service (name or number) over TCP and over UDP; either may be unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePorts {
    /// Over TCP.
    pub tcp: Option<PortSpec>,
    /// Over UDP.
    pub udp: Option<PortSpec>,
}

/// Looks up a service name or port for both transports, with the system's services database
/// (the same lookup every port field uses). Errors are the sentence to show.
pub fn service_ports(text: &str) -> Result<ServicePorts, String> {
    let tcp = parse_port(text, Protocol::Tcp, PortUse::Bind);
    let udp = parse_port(text, Protocol::Udp, PortUse::Bind);
    match (tcp, udp) {
        (Err(e), Err(_)) => Err(e.to_string()),
        (tcp, udp) => Ok(ServicePorts {
            tcp: tcp.ok(),
            udp: udp.ok(),
        }),
    }
}

/// What the user asked for.
#[derive(Debug, Clone)]
pub enum Action {
    /// `getaddrinfo(name, service)`.
    Forward {
        /// Name or literal.
        name: String,
        /// The service's ports, if one was given.
        service: Option<ServicePorts>,
    },
    /// `getnameinfo(address)`.
    Reverse(SocketAddr),
}

/// A lookup running on its own thread.
struct Pending<T> {
    answer: Receiver<T>,
}

impl<T> Pending<T> {
    /// The answer, once it is there.
    fn take(&self) -> Option<T> {
        self.answer.try_recv().ok()
    }
}

fn spawn_lookup<T: Send + 'static>(
    name: &str,
    waker: &Waker,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<Pending<T>, String> {
    // One slot: the thread hands over its single answer and ends without waiting for the window.
    let (tx, rx) = bounded(1);
    let waker = std::sync::Arc::clone(waker);
    thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let _ = tx.send(work());
            waker();
        })
        .map_err(|e| tt::lookup_thread_failed(&e.to_string()))?;
    Ok(Pending { answer: rx })
}

/// The Lookup tab's view model.
#[derive(Default)]
pub struct LookupTab {
    /// Persisted settings.
    pub settings: LookupSettings,
    /// The last forward answer (with the name it was for).
    pub forward: Option<(String, ForwardAnswer)>,
    /// The last reverse answer (with the address it was for).
    pub reverse: Option<(SocketAddr, ReverseAnswer)>,
    forward_pending: Option<(String, Pending<ForwardAnswer>)>,
    reverse_pending: Option<(SocketAddr, Pending<ReverseAnswer>)>,
}

impl LookupTab {
    /// A tab with these settings and no answers yet.
    pub fn new(settings: LookupSettings) -> Self {
        LookupTab {
            settings,
            ..LookupTab::default()
        }
    }

    /// True while a lookup runs.
    pub fn is_running(&self) -> bool {
        self.forward_pending.is_some() || self.reverse_pending.is_some()
    }

    /// Takes finished answers. Never blocks; returns false (the threads wake the window).
    pub fn poll(&mut self) -> bool {
        if let Some((name, pending)) = &self.forward_pending
            && let Some(answer) = pending.take()
        {
            self.forward = Some((name.clone(), answer));
            self.forward_pending = None;
        }
        if let Some((addr, pending)) = &self.reverse_pending
            && let Some(answer) = pending.take()
        {
            self.reverse = Some((*addr, answer));
            self.reverse_pending = None;
        }
        false
    }

    /// Starts a lookup on its own thread.
    pub fn perform(&mut self, action: Action, waker: &Waker) {
        match action {
            Action::Forward { name, service } => {
                let label = name.clone();
                let work = move || forward(&name, service.as_ref());
                match spawn_lookup(&format!("lookup {label}"), waker, work) {
                    Ok(pending) => self.forward_pending = Some((label, pending)),
                    Err(e) => self.forward = Some((label, Err(e))),
                }
            }
            Action::Reverse(addr) => {
                let work = move || name_info(addr).map_err(|e| e.plain_sentence());
                match spawn_lookup(&format!("reverse lookup {addr}"), waker, work) {
                    Ok(pending) => self.reverse_pending = Some((addr, pending)),
                    Err(e) => self.reverse = Some((addr, Err(e))),
                }
            }
        }
    }

    /// Draws the tab; returns what the user asked for.
    pub fn ui(&mut self, ui: &mut Ui) -> Option<Action> {
        let mut action = None;
        egui::ScrollArea::vertical()
            .id_salt("lookup-scroll")
            .auto_shrink(false)
            .show(ui, |ui| {
                guidance(ui, tt::LOOKUP_INTRO);
                ui.add_space(6.0);
                action = self.forward_ui(ui);
                ui.separator();
                if let Some(reverse) = self.reverse_ui(ui) {
                    action = Some(reverse);
                }
                ui.separator();
                self.service_ui(ui);
            });
        action
    }

    fn forward_ui(&mut self, ui: &mut Ui) -> Option<Action> {
        let mut action = None;
        ui.heading(tt::LOOKUP_FORWARD_HEADING);
        let s = &mut self.settings;
        ui.horizontal_wrapped(|ui| {
            labelled_edit(
                ui,
                tt::LOOKUP_NAME,
                tt::LOOKUP_NAME_HINT,
                &mut s.name,
                200.0,
                "localhost",
            );
            ui.add_space(12.0);
            labelled_edit(
                ui,
                tt::LOOKUP_SERVICE,
                tt::LOOKUP_SERVICE_HINT,
                &mut s.service,
                90.0,
                tt::OPTIONAL,
            );
        });
        let name = crate::engine::lookup::normalize_host(&s.name)
            .map(ToOwned::to_owned)
            .map_err(|e| e.plain_sentence());
        let service = if s.service.trim().is_empty() {
            Ok(None)
        } else {
            service_ports(&s.service).map(Some)
        };
        for error in [name.as_ref().err(), service.as_ref().err()]
            .into_iter()
            .flatten()
        {
            error_line(ui, error);
        }
        let busy = self.forward_pending.is_some();
        let submitted = take_submit(ui);
        ui.horizontal(|ui| {
            let label = if busy {
                tt::LOOKING_UP
            } else {
                tt::LOOKUP_BUTTON
            };
            let ready = !busy && name.is_ok() && service.is_ok();
            if (ui
                .add_enabled(ready, egui::Button::new(label))
                .on_hover_text(tt::LOOKUP_BUTTON_HINT)
                .clicked()
                || (submitted && ready))
                && let (Ok(name), Ok(service)) = (&name, &service)
            {
                action = Some(Action::Forward {
                    name: name.clone(),
                    service: service.clone(),
                });
            }
            if busy {
                ui.spinner();
            }
        });
        match &self.forward {
            None => guidance(ui, tt::LOOKUP_FORWARD_EMPTY),
            Some((_, Err(e))) => error_line(ui, e),
            Some((name, Ok(queries))) => {
                for (i, query) in queries.iter().enumerate() {
                    forward_table(ui, name, query, i);
                }
            }
        }
        action
    }

    fn reverse_ui(&mut self, ui: &mut Ui) -> Option<Action> {
        let mut action = None;
        ui.heading(tt::LOOKUP_REVERSE_HEADING);
        let s = &mut self.settings;
        ui.horizontal_wrapped(|ui| {
            labelled_edit(
                ui,
                tt::LOOKUP_ADDRESS,
                tt::LOOKUP_ADDRESS_HINT,
                &mut s.address,
                200.0,
                "127.0.0.1",
            );
            ui.add_space(12.0);
            labelled_edit(
                ui,
                tt::LOOKUP_REVERSE_PORT,
                tt::LOOKUP_REVERSE_PORT_HINT,
                &mut s.reverse_port,
                70.0,
                tt::OPTIONAL,
            );
        });
        let ip = crate::engine::lookup::normalize_host(&s.address)
            .ok()
            .and_then(|h| h.parse::<IpAddr>().ok())
            .ok_or_else(|| tt::LOOKUP_ADDRESS_NOT_IP.to_owned());
        let port = if s.reverse_port.trim().is_empty() {
            Ok(0)
        } else {
            parse_port(&s.reverse_port, Protocol::Tcp, PortUse::Bind)
                .map(|p| p.port)
                .map_err(|e| e.to_string())
        };
        for error in [ip.as_ref().err(), port.as_ref().err()]
            .into_iter()
            .flatten()
        {
            error_line(ui, error);
        }
        let busy = self.reverse_pending.is_some();
        ui.horizontal(|ui| {
            let label = if busy {
                tt::LOOKING_UP
            } else {
                tt::REVERSE_BUTTON
            };
            if ui
                .add_enabled(
                    !busy && ip.is_ok() && port.is_ok(),
                    egui::Button::new(label),
                )
                .on_hover_text(tt::REVERSE_BUTTON_HINT)
                .clicked()
                && let (Ok(ip), Ok(port)) = (&ip, &port)
            {
                action = Some(Action::Reverse(SocketAddr::new(*ip, *port)));
            }
            if busy {
                ui.spinner();
            }
        });
        match &self.reverse {
            None => {}
            Some((_, Err(e))) => error_line(ui, e),
            Some((addr, Ok(info))) => {
                ui.monospace(tt::getnameinfo_call(*addr));
                ui.label(tt::reverse_answer(
                    addr,
                    info.host.as_deref(),
                    info.service.as_deref(),
                ));
            }
        }
        action
    }

    fn service_ui(&mut self, ui: &mut Ui) {
        ui.heading(tt::SERVICES_HEADING);
        ui.horizontal(|ui| {
            labelled_edit(
                ui,
                tt::SERVICE_QUERY,
                tt::SERVICE_QUERY_HINT,
                &mut self.settings.service_query,
                140.0,
                "http",
            );
        });
        if self.settings.service_query.trim().is_empty() {
            guidance(ui, tt::SERVICE_QUERY_EMPTY);
        } else {
            match service_ports(&self.settings.service_query) {
                Err(e) => error_line(ui, &e),
                Ok(ports) => {
                    for (proto, spec) in [(Protocol::Tcp, &ports.tcp), (Protocol::Udp, &ports.udp)]
                    {
                        ui.label(tt::service_row(proto, spec.as_ref()));
                    }
                }
            }
        }
        ui.weak(match services::system().source() {
            ServiceSource::System => tt::SERVICES_FROM_SYSTEM,
            ServiceSource::BuiltIn => tt::SERVICES_BUILT_IN,
        });
    }
}

/// Runs the forward lookup: one `getaddrinfo` per transport when a service is given (each row
/// then carries that transport's port), otherwise one for every socket type.
pub fn forward(name: &str, service: Option<&ServicePorts>) -> ForwardAnswer {
    let queries: Vec<(Option<SocketKind>, Option<u16>)> = match service {
        Some(s) => [
            (SocketKind::Stream, s.tcp.as_ref()),
            (SocketKind::Datagram, s.udp.as_ref()),
        ]
        .into_iter()
        .filter_map(|(kind, spec)| spec.map(|p| (Some(kind), Some(p.port))))
        .collect(),
        None => vec![(None, None)],
    };
    queries
        .into_iter()
        .map(|(kind, port)| {
            addr_info(name, port.unwrap_or(0), kind)
                .map(|rows| ForwardQuery { kind, port, rows })
                .map_err(|e| e.plain_sentence())
        })
        .collect()
}

fn forward_table(ui: &mut Ui, name: &str, query: &ForwardQuery, index: usize) {
    ui.add_space(4.0);
    ui.monospace(tt::getaddrinfo_call(
        name,
        query.port,
        query.kind.map(SocketKind::name).as_deref(),
        query.rows.len(),
    ));
    egui::Grid::new(("lookup-rows", index))
        .striped(true)
        .num_columns(5)
        .spacing([18.0, 4.0])
        .show(ui, |ui| {
            for heading in tt::LOOKUP_COLUMNS {
                ui.label(RichText::new(heading).strong());
            }
            ui.end_row();
            for row in &query.rows {
                ui.monospace(row.family.name());
                ui.monospace(row.kind.name());
                ui.monospace(row.protocol.name());
                ui.monospace(row.canonical_name.as_deref().unwrap_or("—"));
                let address = if query.port.is_some() {
                    row.addr.to_string()
                } else {
                    row.addr.ip().to_string()
                };
                ui.monospace(address);
                ui.end_row();
            }
        });
    let families = distinct_addresses(&query.rows);
    ui.weak(tt::lookup_summary(query.rows.len(), families));
}

/// How many different IP addresses the rows hold (one address appears once per socket type).
fn distinct_addresses(rows: &[AddrInfoRow]) -> usize {
    let mut seen: Vec<IpAddr> = Vec::new();
    for row in rows {
        if !seen.contains(&row.addr.ip()) {
            seen.push(row.addr.ip());
        }
    }
    seen.len()
}
