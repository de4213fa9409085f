//! TLS for the TCP client and server sessions, built on rustls (ring provider), driven by the
//! same blocking worker threads as plain TCP — no async runtime.
//!
//! A session's config carries optional [`TlsClientSettings`] or [`TlsServerSettings`] (paths and
//! choices only). When the session starts they are turned into a rustls config: PEM files read,
//! roots loaded, a self-signed certificate generated if asked for. A file problem ends the
//! session with [`EngineError::TlsFile`], which is bad input; the command line checks the same
//! way before it starts, so such a problem never reaches the network.
//!
//! # One TLS state, two threads
//!
//! Each connection has a reader thread blocked in `recv` and a writer thread fed by a queue,
//! on two handles of one socket; rustls keeps one state for both directions. [`link::TlsLink`]
//! holds that state in a mutex which is only ever held for memory work (feeding received
//! records, taking out decrypted bytes, encrypting into records) and never across a blocking
//! socket call, so a writer stuck on a peer that does not read never keeps the reader from
//! reading. A second mutex, the *wire*, is held while encrypted records are written to the
//! socket, so records leave in the order they were made even when the reader has to answer the
//! peer (a key update) while the writer sends data; the reader only takes the wire when it is
//! free and otherwise leaves its records to the writer, which looks again after every write.
//! The handshake runs on the reader thread before any data; the writer waits for its end.
//! Stop works as for plain TCP: shutting the socket down wakes whichever thread is blocked.
//!
//! Events: [`TlsEvent`]s report the handshake as steps from what rustls reports (version,
//! cipher suite, the peer's certificates, ALPN, the moment application data may flow) and the
//! `close_notify` alerts; failures are [`TlsFailure`]s with one plain sentence each.

pub mod cert;
mod failure;
pub(crate) mod link;
mod verify;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore, ServerConfig};

use super::error::EngineError;
use super::event::ConnId;
pub use cert::CertInfo;
pub use failure::{TlsFailure, TlsFailureKind};
use verify::{RecordingVerifier, SeenChain};

/// The longest a handshake may take by default.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest certificate or key file read: real ones are a few KiB; a bigger file is a mistake.
const MAX_PEM_FILE: u64 = 1024 * 1024;

/// TLS for a TCP client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsClientSettings {
    /// Trust the certificates in this PEM file instead of the system's root certificates.
    pub ca_file: Option<PathBuf>,
    /// The server name sent (SNI) and checked in the certificate; `None` uses the host typed.
    pub server_name: Option<String>,
    /// Application protocols to offer (ALPN), in order of preference (`h2`, `http/1.1`).
    pub alpn: Vec<String>,
    /// Accept any certificate without checking it. Off by default; the session's events then
    /// say the peer is not verified.
    pub accept_any_certificate: bool,
    /// How long the handshake may take.
    pub handshake_timeout: Duration,
}

impl Default for TlsClientSettings {
    fn default() -> Self {
        TlsClientSettings {
            ca_file: None,
            server_name: None,
            alpn: Vec::new(),
            accept_any_certificate: false,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }
}

/// Where a TLS server's certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerIdentity {
    /// A certificate chain and its private key, from PEM files.
    Files {
        /// The certificate chain (the server's own certificate first).
        cert: PathBuf,
        /// The private key.
        key: PathBuf,
    },
    /// A certificate for `localhost`, `127.0.0.1` and `::1`, generated when the server starts.
    SelfSigned,
}

/// TLS for a TCP server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsServerSettings {
    /// The server's certificate.
    pub identity: ServerIdentity,
    /// Require every client to present a certificate signed by a CA in this PEM file.
    pub client_ca: Option<PathBuf>,
    /// Application protocols the server accepts (ALPN); empty accepts a client's offer of none.
    pub alpn: Vec<String>,
    /// How long each client's handshake may take.
    pub handshake_timeout: Duration,
}

impl TlsServerSettings {
    /// A server with a generated self-signed certificate and no client certificates.
    pub fn self_signed() -> Self {
        TlsServerSettings {
            identity: ServerIdentity::SelfSigned,
            client_ca: None,
            alpn: Vec::new(),
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }
}

/// Which file of a TLS setup a problem is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsFileRole {
    /// A client's CA file.
    CaFile,
    /// A server's certificate file.
    Certificate,
    /// A server's private key file.
    PrivateKey,
    /// A server's client CA file.
    ClientCaFile,
}

impl TlsFileRole {
    /// The file's name in a sentence ("the CA file").
    pub fn name(self) -> &'static str {
        match self {
            TlsFileRole::CaFile => "the CA file",
            TlsFileRole::Certificate => "the certificate file",
            TlsFileRole::PrivateKey => "the private key file",
            TlsFileRole::ClientCaFile => "the client CA file",
        }
    }
}

/// How the peer's identity was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// The chain leads to a trusted root and names the peer (client), or was signed by the
    /// client CA (server).
    Verified,
    /// "Accept any certificate" is on: the certificate was not checked. Only the handshake
    /// signature shows the peer owns its key; anyone can make such a certificate.
    NotVerified,
    /// The certificate was checked and rejected.
    Rejected,
    /// A server that did not ask for a client certificate.
    NotAsked,
}

/// What the client trusts, or what a server asks of its clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// The system's root certificates.
    SystemRoots {
        /// How many were loaded.
        count: usize,
    },
    /// The certificates of a CA file.
    CaFile(PathBuf),
    /// Nothing is checked ("accept any certificate").
    AnyCertificate,
    /// A server that requires client certificates signed by a CA in this file.
    ClientCertificates(PathBuf),
    /// A server that asks for no client certificate.
    NoClientCertificates,
}

/// One step of a TLS connection, as rustls reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsStep {
    /// A TLS server's own certificate is ready (read from files, or generated). Reported once,
    /// right after `Listening`.
    ServerCertificate {
        /// The certificate.
        cert: CertInfo,
        /// The PEM text of a generated certificate, for clients to trust it.
        generated_pem: Option<String>,
        /// What the server asks of its clients.
        clients: Trust,
    },
    /// The handshake begins: the client sends its hello (client), or waits for it (server).
    HandshakeStarted {
        /// The server name sent (SNI); `None` for an IP address, which is never sent.
        server_name: Option<String>,
        /// Application protocols offered (client) or accepted (server).
        alpn: Vec<String>,
        /// What the certificate will be checked against.
        trust: Trust,
    },
    /// Protocol version and cipher suite are agreed.
    Negotiated {
        /// `TLSv1.3` or `TLSv1.2`.
        version: String,
        /// The cipher suite (`TLS13_AES_256_GCM_SHA384`).
        cipher_suite: String,
        /// The key exchange group (`X25519`), when known.
        key_exchange: Option<String>,
    },
    /// The peer's certificate chain, its own certificate first, and how it was checked.
    PeerCertificates {
        /// The chain as presented.
        chain: Vec<CertInfo>,
        /// The result of the check.
        verification: Verification,
    },
    /// The handshake is complete: application data flows, encrypted, from here on.
    Established {
        /// `TLSv1.3` or `TLSv1.2`.
        version: String,
        /// The cipher suite.
        cipher_suite: String,
        /// The application protocol agreed (ALPN), if any.
        alpn: Option<String>,
        /// The server name the client asked for (on a server: what the client sent).
        server_name: Option<String>,
        /// How the peer's identity was checked.
        verification: Verification,
    },
    /// We sent `close_notify`: we will send nothing more on this connection.
    CloseNotifySent,
    /// The peer sent `close_notify`: it will send nothing more (a clean end, not a truncation).
    CloseNotifyReceived,
}

/// A TLS step on one connection (or, for [`TlsStep::ServerCertificate`], the server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsEvent {
    /// The connection, if the step belongs to one.
    pub conn: Option<ConnId>,
    /// The peer, if the step belongs to a connection.
    pub peer: Option<SocketAddr>,
    /// What happened.
    pub step: TlsStep,
}

impl TlsEvent {
    /// The step as one line of the transcript.
    pub fn transcript_line(&self) -> String {
        match &self.step {
            TlsStep::ServerCertificate { cert, .. } => {
                format!("TLS certificate {} (SHA-256 {})", cert.subject, cert.sha256)
            }
            TlsStep::HandshakeStarted {
                server_name, trust, ..
            } => {
                let mut line = match server_name {
                    Some(name) => format!("TLS handshake begins (server name {name})"),
                    None => "TLS handshake begins".to_owned(),
                };
                if *trust == Trust::AnyCertificate {
                    line.push_str(" — accepting ANY certificate: the server will NOT be verified");
                }
                line
            }
            TlsStep::Negotiated {
                version,
                cipher_suite,
                ..
            } => format!("TLS {version}, {cipher_suite}"),
            TlsStep::PeerCertificates {
                chain,
                verification,
            } => format!(
                "TLS peer certificate {} → {}",
                chain.first().map_or("(none)", |c| c.subject.as_str()),
                match verification {
                    Verification::Verified => "verified",
                    Verification::NotVerified => "NOT VERIFIED (any certificate accepted)",
                    Verification::Rejected => "rejected",
                    Verification::NotAsked => "not asked for",
                }
            ),
            TlsStep::Established { alpn, .. } => format!(
                "TLS established, ALPN {}",
                alpn.as_deref().unwrap_or("none")
            ),
            TlsStep::CloseNotifySent => "TLS close_notify sent".to_owned(),
            TlsStep::CloseNotifyReceived => "TLS close_notify received".to_owned(),
        }
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn file_error(role: TlsFileRole, path: &Path, reason: impl Into<String>) -> EngineError {
    EngineError::TlsFile {
        role,
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

fn read_pem_file(role: TlsFileRole, path: &Path) -> Result<Vec<u8>, EngineError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| file_error(role, path, super::error::file_reason(&e)))?;
    if meta.is_dir() {
        return Err(file_error(role, path, "it is a folder, not a file"));
    }
    if meta.len() > MAX_PEM_FILE {
        return Err(file_error(
            role,
            path,
            format!(
                "it is {} bytes, far too big for certificates or a key (they take a few KiB)",
                meta.len()
            ),
        ));
    }
    std::fs::read(path).map_err(|e| file_error(role, path, super::error::file_reason(&e)))
}

fn pem_reason(e: &rustls::pki_types::pem::Error) -> String {
    format!("it is not valid PEM ({e})")
}

/// Every certificate of a PEM file (at least one).
fn load_certs(role: TlsFileRole, path: &Path) -> Result<Vec<CertificateDer<'static>>, EngineError> {
    let bytes = read_pem_file(role, path)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(role, path, pem_reason(&e)))?;
    if certs.is_empty() {
        return Err(file_error(
            role,
            path,
            "it holds no certificate (no -----BEGIN CERTIFICATE----- block)",
        ));
    }
    Ok(certs)
}

fn load_roots(role: TlsFileRole, path: &Path) -> Result<RootCertStore, EngineError> {
    let mut roots = RootCertStore::empty();
    for cert in load_certs(role, path)? {
        roots
            .add(cert)
            .map_err(|e| file_error(role, path, format!("a certificate in it is unusable: {e}")))?;
    }
    Ok(roots)
}

/// A client's TLS, ready for one connection.
pub(crate) struct ClientTls {
    config: Arc<ClientConfig>,
    server_name: ServerName<'static>,
    seen: SeenChain,
    alpn: Vec<String>,
    trust: Trust,
    handshake_timeout: Duration,
}

impl TlsClientSettings {
    /// Checks everything that can be checked before connecting (files, server name), for
    /// `host` as typed.
    pub fn check(&self, host: &str) -> Result<(), EngineError> {
        self.prepare(host).map(|_| ())
    }

    /// The server name a connection to `host` sends and checks.
    fn name_for(&self, host: &str) -> Result<ServerName<'static>, EngineError> {
        let text = self
            .server_name
            .as_deref()
            .unwrap_or(host)
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']');
        ServerName::try_from(text.to_owned()).map_err(|_| EngineError::TlsSetup {
            message: format!(
                "\"{text}\" cannot be a TLS server name: write a host name such as example.com, or an IP address"
            ),
            bad_input: true,
        })
    }

    pub(crate) fn prepare(&self, host: &str) -> Result<ClientTls, EngineError> {
        let server_name = self.name_for(host)?;
        let provider = provider();
        let seen = SeenChain::default();
        let (inner, trust) = if self.accept_any_certificate {
            (None, Trust::AnyCertificate)
        } else {
            let (roots, trust) = if let Some(path) = &self.ca_file {
                (
                    load_roots(TlsFileRole::CaFile, path)?,
                    Trust::CaFile(path.clone()),
                )
            } else {
                let found = rustls_native_certs::load_native_certs();
                let mut roots = RootCertStore::empty();
                let (count, _) = roots.add_parsable_certificates(found.certs);
                if count == 0 {
                    return Err(EngineError::TlsSetup {
                        message: "this computer has no root certificates to check servers against (on Debian: apt-get install ca-certificates); give a CA file instead".to_owned(),
                        bad_input: false,
                    });
                }
                (roots, Trust::SystemRoots { count })
            };
            let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots),
                Arc::clone(&provider),
            )
            .build()
            .map_err(|e| EngineError::TlsSetup {
                message: format!("the trusted certificates cannot be used: {e}"),
                bad_input: true,
            })?;
            (
                Some(verifier as Arc<dyn rustls::client::danger::ServerCertVerifier>),
                trust,
            )
        };
        let verifier = Arc::new(RecordingVerifier::new(inner, &provider, Arc::clone(&seen)));
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| EngineError::TlsSetup {
                message: e.to_string(),
                bad_input: false,
            })?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        config.alpn_protocols = self.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
        // SSLKEYLOGFILE=path makes the session keys readable by Wireshark, as browsers do.
        config.key_log = Arc::new(rustls::KeyLogFile::new());
        Ok(ClientTls {
            config: Arc::new(config),
            server_name,
            seen,
            alpn: self.alpn.clone(),
            trust,
            handshake_timeout: self.handshake_timeout,
        })
    }
}

impl ClientTls {
    /// A fresh client connection state for the link of one connection.
    pub(crate) fn link(&self) -> Result<link::TlsLink, EngineError> {
        let conn =
            rustls::ClientConnection::new(Arc::clone(&self.config), self.server_name.clone())
                .map_err(|e| EngineError::TlsSetup {
                    message: e.to_string(),
                    bad_input: false,
                })?;
        let sni = match &self.server_name {
            ServerName::DnsName(name) => Some(name.as_ref().to_owned()),
            _ => None,
        };
        Ok(link::TlsLink::new(
            rustls::Connection::Client(conn),
            link::Side::Client {
                seen: Arc::clone(&self.seen),
                sni,
                alpn: self.alpn.clone(),
                trust: self.trust.clone(),
            },
            self.handshake_timeout,
        ))
    }
}

/// A server's TLS, shared by all its connections.
pub(crate) struct ServerTls {
    config: Arc<ServerConfig>,
    /// The server's own certificate.
    pub cert: CertInfo,
    /// The PEM text of a generated certificate.
    pub generated_pem: Option<String>,
    /// What the server asks of its clients.
    pub clients: Trust,
    alpn: Vec<String>,
    handshake_timeout: Duration,
}

impl TlsServerSettings {
    /// Checks the files (certificate, key, client CA) without listening.
    pub fn check(&self) -> Result<(), EngineError> {
        self.prepare().map(|_| ())
    }

    pub(crate) fn prepare(&self) -> Result<ServerTls, EngineError> {
        let provider = provider();
        let (chain, key, generated_pem) = match &self.identity {
            ServerIdentity::Files { cert, key } => {
                let chain = load_certs(TlsFileRole::Certificate, cert)?;
                let bytes = read_pem_file(TlsFileRole::PrivateKey, key)?;
                let private = PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| match e {
                    rustls::pki_types::pem::Error::NoItemsFound => file_error(
                        TlsFileRole::PrivateKey,
                        key,
                        "it holds no private key (no -----BEGIN PRIVATE KEY----- block)",
                    ),
                    other => file_error(TlsFileRole::PrivateKey, key, pem_reason(&other)),
                })?;
                (chain, private, None)
            }
            ServerIdentity::SelfSigned => {
                let made =
                    cert::generate_self_signed().map_err(|message| EngineError::TlsSetup {
                        message: format!(
                            "the self-signed certificate could not be made: {message}"
                        ),
                        bad_input: false,
                    })?;
                (vec![made.cert], made.key, Some(made.cert_pem))
            }
        };
        let own = CertInfo::from_der(&chain[0]);
        let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| EngineError::TlsSetup {
                message: e.to_string(),
                bad_input: false,
            })?;
        let (builder, clients) = match &self.client_ca {
            Some(path) => {
                let roots = load_roots(TlsFileRole::ClientCaFile, path)?;
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider,
                )
                .build()
                .map_err(|e| file_error(TlsFileRole::ClientCaFile, path, e.to_string()))?;
                (
                    builder.with_client_cert_verifier(verifier),
                    Trust::ClientCertificates(path.clone()),
                )
            }
            None => (builder.with_no_client_auth(), Trust::NoClientCertificates),
        };
        let mut config = builder.with_single_cert(chain, key).map_err(|e| {
            let (role, path) = match &self.identity {
                ServerIdentity::Files { key, .. } => (TlsFileRole::PrivateKey, key.clone()),
                ServerIdentity::SelfSigned => (TlsFileRole::PrivateKey, PathBuf::new()),
            };
            file_error(
                role,
                &path,
                format!(
                    "it cannot be used with the certificate ({e}); is it the certificate's own key?"
                ),
            )
        })?;
        config.alpn_protocols = self.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
        config.key_log = Arc::new(rustls::KeyLogFile::new());
        Ok(ServerTls {
            config: Arc::new(config),
            cert: own,
            generated_pem,
            clients,
            alpn: self.alpn.clone(),
            handshake_timeout: self.handshake_timeout,
        })
    }
}

impl ServerTls {
    /// A fresh server connection state for one accepted connection.
    pub(crate) fn link(&self) -> Result<link::TlsLink, EngineError> {
        let conn = rustls::ServerConnection::new(Arc::clone(&self.config)).map_err(|e| {
            EngineError::TlsSetup {
                message: e.to_string(),
                bad_input: false,
            }
        })?;
        Ok(link::TlsLink::new(
            rustls::Connection::Server(conn),
            link::Side::Server {
                alpn: self.alpn.clone(),
                trust: self.clients.clone(),
            },
            self.handshake_timeout,
        ))
    }
}
