//! The TLS parts of the TCP sessions: the client's and the server's TLS settings with their
//! checks, the drawer section that edits them, the certificate card, the badges, and what the
//! session's TLS events leave in the view.

use std::path::{Path, PathBuf};

use egui::{RichText, TextEdit, Ui};
use serde::{Deserialize, Serialize};

use crate::engine::tls::{CertInfo, DEFAULT_HANDSHAKE_TIMEOUT, TlsStep, Trust};
use crate::engine::{ServerIdentity, TlsClientSettings, TlsEvent, TlsServerSettings, Verification};
use crate::gui::text as t;
use crate::gui::widgets::{badge, good_color};

/// A TCP client's TLS, as typed (kept in the workspace).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientTlsSettings {
    /// The switch.
    pub on: bool,
    /// A CA file to trust instead of the system's roots (empty: the system's).
    pub ca_file: String,
    /// The server name to send and check (empty: the host).
    pub server_name: String,
    /// Protocols to offer, comma-separated.
    pub alpn: String,
    /// Accept any certificate (off by default).
    pub accept_any: bool,
}

/// A TCP server's TLS, as typed (kept in the workspace).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerTlsSettings {
    /// The switch.
    pub on: bool,
    /// Generate a self-signed certificate (otherwise the files below).
    pub self_signed: bool,
    /// The certificate chain file.
    pub cert_file: String,
    /// The key file.
    pub key_file: String,
    /// Require client certificates signed by a CA in this file (empty: none asked for).
    pub client_ca: String,
    /// Protocols to accept, comma-separated.
    pub alpn: String,
}

impl Default for ServerTlsSettings {
    fn default() -> Self {
        ServerTlsSettings {
            on: false,
            self_signed: true,
            cert_file: String::new(),
            key_file: String::new(),
            client_ca: String::new(),
            alpn: String::new(),
        }
    }
}

/// The ALPN list typed, checked: names of 1 to 255 bytes.
pub fn parse_alpn(text: &str) -> Result<Vec<String>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            if p.len() > 255 {
                Err(t::alpn_bad(p))
            } else {
                Ok(p.to_owned())
            }
        })
        .collect()
}

/// An optional PEM file field: `None` when empty, the sentence when it names no file.
fn optional_file(text: &str, what: &str) -> Result<Option<PathBuf>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let path = Path::new(text);
    if path.is_file() {
        Ok(Some(path.to_path_buf()))
    } else {
        Err(t::tls_file_missing(what, text))
    }
}

impl ClientTlsSettings {
    /// The engine's settings, or the sentences of what is wrong (`None` when TLS is off). Only
    /// cheap checks: the files are read when the connection starts.
    pub fn engine(&self) -> Result<Option<TlsClientSettings>, Vec<String>> {
        if !self.on {
            return Ok(None);
        }
        let mut problems = Vec::new();
        let ca = optional_file(&self.ca_file, t::CA_FILE).unwrap_or_else(|e| {
            problems.push(e);
            None
        });
        let alpn = parse_alpn(&self.alpn).unwrap_or_else(|e| {
            problems.push(e);
            Vec::new()
        });
        if self.accept_any && !self.ca_file.trim().is_empty() {
            problems.push(t::ACCEPT_ANY_AND_CA.to_owned());
        }
        let name = self.server_name.trim();
        if !name.is_empty() && rustls::pki_types::ServerName::try_from(name.to_owned()).is_err() {
            problems.push(format!(
                "{}: \"{name}\" cannot be a TLS server name: write a host name such as example.com, or leave it empty.",
                t::SNI
            ));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Some(TlsClientSettings {
            ca_file: ca,
            server_name: (!name.is_empty()).then(|| name.to_owned()),
            alpn,
            accept_any_certificate: self.accept_any,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }))
    }
}

impl ServerTlsSettings {
    /// The engine's settings, or the sentences of what is wrong (`None` when TLS is off).
    pub fn engine(&self) -> Result<Option<Box<TlsServerSettings>>, Vec<String>> {
        if !self.on {
            return Ok(None);
        }
        let mut problems = Vec::new();
        let identity = if self.self_signed {
            Some(ServerIdentity::SelfSigned)
        } else {
            let cert = optional_file(&self.cert_file, t::CERT_FILE);
            let key = optional_file(&self.key_file, t::KEY_FILE);
            match (cert, key) {
                (Ok(Some(cert)), Ok(Some(key))) => Some(ServerIdentity::Files { cert, key }),
                (cert, key) => {
                    let mut told = false;
                    for e in [cert.err(), key.err()].into_iter().flatten() {
                        problems.push(e);
                        told = true;
                    }
                    if !told {
                        problems.push(t::CERT_NEEDED.to_owned());
                    }
                    None
                }
            }
        };
        let client_ca = optional_file(&self.client_ca, t::CLIENT_CA).unwrap_or_else(|e| {
            problems.push(e);
            None
        });
        let alpn = parse_alpn(&self.alpn).unwrap_or_else(|e| {
            problems.push(e);
            Vec::new()
        });
        match identity {
            Some(identity) if problems.is_empty() => Ok(Some(Box::new(TlsServerSettings {
                identity,
                client_ca,
                alpn,
                handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            }))),
            _ => Err(problems),
        }
    }
}

/// A labelled text field that is not a submit field.
fn field(ui: &mut Ui, label: &str, hint: &str, value: &mut String, placeholder: &str) {
    ui.horizontal(|ui| {
        let label = ui.label(label).on_hover_text(hint);
        ui.add(
            TextEdit::singleline(value)
                .desired_width(ui.available_width().min(260.0))
                .hint_text(placeholder.to_owned()),
        )
        .labelled_by(label.id)
        .on_hover_text(hint);
    });
}

/// The TLS switch of the connection bar (locked while the session runs).
pub fn tls_switch(ui: &mut Ui, on: &mut bool, hint: &str, running: bool) {
    ui.add_enabled(!running, egui::Checkbox::new(on, t::TLS))
        .on_hover_text(hint);
}

/// The client's TLS section of the drawer.
pub fn client_tls_ui(ui: &mut Ui, s: &mut ClientTlsSettings, view: &TlsView, running: bool) {
    egui::CollapsingHeader::new(t::TLS_SECTION)
        .id_salt("tls")
        .default_open(s.on)
        .show(ui, |ui| {
            ui.add_enabled_ui(!running, |ui| {
                ui.add_enabled_ui(s.on, |ui| {
                    field(
                        ui,
                        t::CA_FILE,
                        t::CA_FILE_HINT,
                        &mut s.ca_file,
                        t::CA_FILE_SYSTEM,
                    );
                    field(ui, t::SNI, t::SNI_HINT, &mut s.server_name, t::SNI_HOST);
                    field(ui, t::ALPN, t::ALPN_HINT, &mut s.alpn, "h2, http/1.1");
                    ui.checkbox(&mut s.accept_any, t::ACCEPT_ANY)
                        .on_hover_text(t::ACCEPT_ANY_HINT);
                    if s.accept_any {
                        ui.colored_label(ui.visuals().error_fg_color, t::ACCEPT_ANY_WARNING);
                    }
                });
            });
            ui.separator();
            ui.label(RichText::new(t::PEER_CERTIFICATE).strong());
            chain_card(ui, &view.peer_chain);
        });
}

/// The server's TLS section of the drawer.
pub fn server_tls_ui(ui: &mut Ui, s: &mut ServerTlsSettings, view: &TlsView, running: bool) {
    egui::CollapsingHeader::new(t::TLS_SECTION)
        .id_salt("tls")
        .default_open(s.on)
        .show(ui, |ui| {
            ui.add_enabled_ui(!running, |ui| {
                ui.add_enabled_ui(s.on, |ui| {
                    ui.radio_value(&mut s.self_signed, true, t::SELF_SIGNED)
                        .on_hover_text(t::SELF_SIGNED_HINT);
                    ui.radio_value(&mut s.self_signed, false, t::CERT_FILES);
                    ui.add_enabled_ui(!s.self_signed, |ui| {
                        field(
                            ui,
                            t::CERT_FILE,
                            t::CERT_FILE_HINT,
                            &mut s.cert_file,
                            "server.pem",
                        );
                        field(
                            ui,
                            t::KEY_FILE,
                            t::KEY_FILE_HINT,
                            &mut s.key_file,
                            "server.key",
                        );
                    });
                    field(
                        ui,
                        t::CLIENT_CA,
                        t::CLIENT_CA_HINT,
                        &mut s.client_ca,
                        t::CLIENT_CA_NONE,
                    );
                    field(ui, t::ALPN, t::ALPN_HINT, &mut s.alpn, "h2, http/1.1");
                });
            });
            ui.separator();
            ui.label(RichText::new(t::OWN_CERTIFICATE).strong());
            match &view.own {
                Some((cert, pem)) => {
                    cert_card(ui, cert);
                    if let Some(pem) = pem
                        && ui
                            .button(t::COPY_PEM)
                            .on_hover_text(t::COPY_PEM_HINT)
                            .clicked()
                    {
                        ui.ctx().copy_text(pem.clone());
                    }
                }
                None => {
                    ui.weak(t::NO_CERTIFICATE);
                }
            }
            if !view.peer_chain.is_empty() {
                ui.separator();
                ui.label(RichText::new(t::CLIENT_CERTIFICATE).strong());
                chain_card(ui, &view.peer_chain);
            }
        });
}

fn chain_card(ui: &mut Ui, chain: &[CertInfo]) {
    if chain.is_empty() {
        ui.weak(t::NO_CERTIFICATE);
        return;
    }
    for (i, cert) in chain.iter().enumerate() {
        if chain.len() > 1 {
            ui.label(RichText::new(t::cert_of(i + 1, chain.len())).italics());
        }
        cert_card(ui, cert);
    }
}

/// One certificate as a readable card: subject, issuer, validity, names, fingerprint.
pub fn cert_card(ui: &mut Ui, cert: &CertInfo) {
    egui::Frame::group(ui.style()).show(ui, |ui| {
        egui::Grid::new(("cert", &cert.sha256))
            .num_columns(2)
            .spacing([8.0, 2.0])
            .show(ui, |ui| {
                let row = |ui: &mut Ui, name: &str, value: String| {
                    ui.label(RichText::new(name).strong());
                    ui.add(egui::Label::new(value).wrap());
                    ui.end_row();
                };
                row(ui, t::CERT_SUBJECT, cert.subject.clone());
                let issuer = if cert.self_signed {
                    format!("{} {}", cert.issuer, t::CERT_SELF_SIGNED)
                } else {
                    cert.issuer.clone()
                };
                row(ui, t::CERT_ISSUER, issuer);
                row(
                    ui,
                    t::CERT_VALID,
                    t::cert_valid(&cert.valid_from(), &cert.valid_until()),
                );
                row(ui, t::CERT_NAMES, cert.names_text());
                ui.label(RichText::new(t::CERT_FINGERPRINT).strong());
                ui.add(egui::Label::new(RichText::new(&cert.sha256).monospace()).wrap());
                ui.end_row();
            });
        if ui.button(t::COPY_FINGERPRINT).clicked() {
            ui.ctx().copy_text(cert.sha256.clone());
        }
    });
}

/// What a TCP session's TLS events leave in the view.
#[derive(Debug, Default)]
pub struct TlsView {
    /// A server's own certificate (and the PEM of a generated one).
    pub own: Option<(CertInfo, Option<String>)>,
    /// The peer's chain as last presented.
    pub peer_chain: Vec<CertInfo>,
    /// The newest connection's outcome: version and how the peer was checked.
    pub established: Option<(String, Verification)>,
    /// The handshake under way accepts any certificate.
    pub accepting_any: bool,
}

impl TlsView {
    /// A new session starts: forget the last one's TLS.
    pub fn clear(&mut self) {
        *self = TlsView::default();
    }

    /// Folds a TLS step; returns the log note it makes, if any.
    pub fn observe(&mut self, event: &TlsEvent) -> Option<String> {
        match &event.step {
            TlsStep::ServerCertificate {
                cert,
                generated_pem,
                ..
            } => {
                self.own = Some((cert.clone(), generated_pem.clone()));
                None
            }
            TlsStep::HandshakeStarted { trust, .. } => {
                self.accepting_any = *trust == Trust::AnyCertificate;
                None
            }
            TlsStep::PeerCertificates { chain, .. } => {
                self.peer_chain.clone_from(chain);
                None
            }
            TlsStep::Established {
                version,
                cipher_suite,
                alpn,
                verification,
                ..
            } => {
                self.established = Some((version.clone(), *verification));
                let verified = match verification {
                    Verification::Verified => t::PEER_VERIFIED,
                    Verification::NotVerified => t::PEER_NOT_VERIFIED,
                    Verification::Rejected | Verification::NotAsked => t::PEER_NOT_ASKED,
                };
                Some(t::note_tls_established(
                    version,
                    cipher_suite,
                    alpn.as_deref(),
                    verified,
                ))
            }
            TlsStep::Negotiated { .. }
            | TlsStep::CloseNotifySent
            | TlsStep::CloseNotifyReceived => None,
        }
    }
}

/// A client's badge: red "not verified" while any certificate is (to be) accepted, green
/// "TLS 1.3 verified" once a verified handshake is done.
pub fn client_badge(ui: &mut Ui, s: &ClientTlsSettings, view: &TlsView) {
    if !s.on && view.established.is_none() {
        return;
    }
    match &view.established {
        Some((_, Verification::NotVerified)) => {
            badge(
                ui,
                t::NOT_VERIFIED,
                ui.visuals().error_fg_color,
                t::NOT_VERIFIED_HINT,
            );
        }
        Some((version, Verification::Verified)) => {
            badge(
                ui,
                &t::tls_verified_badge(version),
                good_color(ui.visuals()),
                t::VERIFIED_HINT,
            );
        }
        _ if s.accept_any || view.accepting_any => {
            badge(
                ui,
                t::NOT_VERIFIED,
                ui.visuals().error_fg_color,
                t::NOT_VERIFIED_HINT,
            );
        }
        _ => {}
    }
}

/// A server's badge: "TLS" with the certificate's fingerprint on hover.
pub fn server_badge(ui: &mut Ui, view: &TlsView) {
    if let Some((cert, _)) = &view.own {
        badge(
            ui,
            t::TLS_ON,
            good_color(ui.visuals()),
            &t::tls_server_hint(&cert.sha256),
        );
    }
}

/// What keeps a TLS session from starting: the TLS fields' sentences, or framing, which the TLS
/// reader does not apply yet (refused rather than silently ignored, as on the command line).
pub fn tls_problems<T>(tls: &Result<Option<T>, Vec<String>>, framing_on: bool) -> Vec<String> {
    match tls {
        Err(problems) => problems.clone(),
        Ok(Some(_)) if framing_on => vec![t::TLS_NOT_WITH_FRAMING.to_owned()],
        Ok(_) => Vec::new(),
    }
}

/// The TLS session's bytes on the wire, beside the application counters.
pub fn wire_note(ui: &mut Ui, c: &crate::engine::CounterSnapshot) {
    if c.tls {
        ui.weak(t::wire_bytes(c.wire_bytes_in, c.wire_bytes_out))
            .on_hover_text(t::WIRE_BYTES_HINT);
    }
}
