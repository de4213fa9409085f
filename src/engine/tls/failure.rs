//! Why a TLS connection failed, as typed values, and the one plain sentence (with a hint) for
//! each: the window and the command line word TLS failures the same way.

use std::fmt;
use std::net::SocketAddr;

use rustls::{AlertDescription, CertificateError};

use super::cert::{CertInfo, utc};
use crate::engine::payload::to_visible_text;

/// A TLS failure on the connection with `peer`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("TLS with {peer}: {kind}")]
pub struct TlsFailure {
    /// The other end.
    pub peer: SocketAddr,
    /// What went wrong.
    pub kind: TlsFailureKind,
}

/// The kinds of TLS failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsFailureKind {
    /// The peer's certificate is past its end of validity.
    Expired {
        /// Who the certificate is for.
        subject: String,
        /// When it expired (seconds since 1970).
        not_after: i64,
    },
    /// The peer's certificate is not valid yet.
    NotYetValid {
        /// Who the certificate is for.
        subject: String,
        /// When it becomes valid (seconds since 1970).
        not_before: i64,
    },
    /// The certificate is for other names than the one we asked for.
    NameMismatch {
        /// The server name we expected (SNI, or the host typed).
        expected: String,
        /// The names the certificate is valid for.
        presented: Vec<String>,
    },
    /// The certificate was issued by nobody we trust.
    UnknownIssuer {
        /// Who the certificate is for.
        subject: String,
        /// Who issued it.
        issuer: String,
    },
    /// The certificate signed itself and is not in our trusted roots.
    SelfSigned {
        /// Who the certificate is for.
        subject: String,
        /// Its SHA-256 fingerprint.
        sha256: String,
    },
    /// Any other reason the certificate was not accepted (bad signature, wrong purpose, ...).
    BadCertificate {
        /// rustls's description.
        message: String,
    },
    /// The peer answered with bytes that are not TLS at all.
    NotTls {
        /// The first bytes it sent (at most 64).
        first_bytes: Vec<u8>,
        /// True when those bytes were our own hello, sent back: an echo server.
        echoed: bool,
    },
    /// The peer closed the connection before the handshake finished, without a TLS alert.
    ClosedDuringHandshake,
    /// The handshake did not finish in time.
    HandshakeTimeout {
        /// The timeout that ran out, in milliseconds.
        timeout_ms: u64,
    },
    /// The peer ended the TCP connection without a TLS `close_notify`: what arrived may be cut
    /// short.
    Truncated,
    /// The peer refused with a TLS alert.
    PeerAlert {
        /// The alert's name as the TLS standard writes it (`bad_certificate`).
        alert: String,
    },
    /// A server that requires a client certificate got none.
    NoClientCertificate,
    /// The peer and we share no TLS version, cipher suite or key exchange.
    Incompatible {
        /// rustls's description.
        message: String,
    },
    /// No ALPN protocol in common.
    NoApplicationProtocol,
    /// Any other TLS protocol failure.
    Protocol {
        /// rustls's description.
        message: String,
    },
}

impl fmt::Display for TlsFailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsFailureKind::Expired { not_after, .. } => {
                write!(f, "certificate expired on {}", utc(*not_after))
            }
            TlsFailureKind::NotYetValid { not_before, .. } => {
                write!(f, "certificate not valid before {}", utc(*not_before))
            }
            TlsFailureKind::NameMismatch {
                expected,
                presented,
            } => write!(
                f,
                "certificate is for {} but {expected} was expected",
                presented.join(", ")
            ),
            TlsFailureKind::UnknownIssuer { issuer, .. } => {
                write!(f, "certificate issued by an unknown issuer ({issuer})")
            }
            TlsFailureKind::SelfSigned { .. } => f.write_str("self-signed certificate"),
            TlsFailureKind::BadCertificate { message } => {
                write!(f, "certificate rejected: {message}")
            }
            TlsFailureKind::NotTls { .. } => f.write_str("the peer does not speak TLS"),
            TlsFailureKind::ClosedDuringHandshake => {
                f.write_str("connection closed during the handshake")
            }
            TlsFailureKind::HandshakeTimeout { timeout_ms } => {
                write!(f, "handshake timed out after {timeout_ms} ms")
            }
            TlsFailureKind::Truncated => f.write_str("closed without close_notify (truncated)"),
            TlsFailureKind::PeerAlert { alert } => write!(f, "the peer sent the alert {alert}"),
            TlsFailureKind::NoClientCertificate => f.write_str("no client certificate"),
            TlsFailureKind::Incompatible { message } | TlsFailureKind::Protocol { message } => {
                f.write_str(message)
            }
            TlsFailureKind::NoApplicationProtocol => f.write_str("no ALPN protocol in common"),
        }
    }
}

impl TlsFailure {
    /// One plain sentence with a hint.
    pub fn plain_sentence(&self) -> String {
        let peer = self.peer;
        match &self.kind {
            TlsFailureKind::Expired { subject, not_after } => format!(
                "The certificate of {peer} ({subject}) expired on {}, so it cannot be trusted. Renew it on the server; only for a test device, Accept any certificate (--insecure) connects anyway, unverified.",
                utc(*not_after)
            ),
            TlsFailureKind::NotYetValid {
                subject,
                not_before,
            } => format!(
                "The certificate of {peer} ({subject}) is not valid until {}. The clock of the server or of this computer is probably wrong (this computer says {}).",
                utc(*not_before),
                utc(chrono::Utc::now().timestamp())
            ),
            TlsFailureKind::NameMismatch {
                expected,
                presented,
            } => format!(
                "The certificate of {peer} is for {}, not for {expected}. Connect with one of those names, or set the server name (SNI) to one of them.",
                if presented.is_empty() {
                    "no name at all".to_owned()
                } else {
                    presented.join(", ")
                }
            ),
            TlsFailureKind::UnknownIssuer { subject, issuer } => format!(
                "The certificate of {peer} ({subject}) was issued by {issuer}, whom this computer does not trust. Give that issuer's certificate as the CA file, or Accept any certificate (--insecure) to connect unverified."
            ),
            TlsFailureKind::SelfSigned { subject, sha256 } => format!(
                "{peer} presented a self-signed certificate ({subject}, SHA-256 {sha256}): nobody vouches for it. If you trust it, give that certificate as the CA file, or Accept any certificate (--insecure) to connect unverified."
            ),
            TlsFailureKind::BadCertificate { message } => format!(
                "The certificate of {peer} was rejected: {message}. Check the certificate the server is configured with."
            ),
            TlsFailureKind::NotTls { echoed: true, .. } => format!(
                "{peer} sent our own TLS hello straight back: it is an echo server, not a TLS server. Connect without TLS."
            ),
            TlsFailureKind::NotTls { first_bytes, .. } => format!(
                "{peer} does not speak TLS: instead of a TLS handshake it sent \"{}\". It is probably a plain TCP service: connect without TLS, or check the port (HTTPS is usually 443).",
                to_visible_text(first_bytes, 40)
            ),
            TlsFailureKind::ClosedDuringHandshake => format!(
                "{peer} closed the connection during the TLS handshake without saying why. It may not speak TLS on this port, or it refused what we offered (TLS version, server name or certificate)."
            ),
            TlsFailureKind::HandshakeTimeout { timeout_ms } => format!(
                "The TLS handshake with {peer} did not finish within {:.1} s. It may not speak TLS on this port (a plain server waits silently for us to speak first), or it is very slow.",
                *timeout_ms as f64 / 1000.0
            ),
            TlsFailureKind::Truncated => format!(
                "{peer} closed the connection without a TLS close_notify, so the data may have been cut short (a truncation attack looks the same). Treat the last data received as possibly incomplete."
            ),
            TlsFailureKind::PeerAlert { alert } => format!(
                "{peer} ended the TLS handshake with the alert \"{alert}\": {}",
                alert_hint(alert)
            ),
            TlsFailureKind::NoClientCertificate => format!(
                "The client {peer} sent no certificate, but this server requires one (a client CA file is set). The client must present a certificate signed by that CA."
            ),
            TlsFailureKind::Incompatible { message } => format!(
                "{peer} and Socket Lab have no TLS version, cipher suite or key exchange in common ({message}). Socket Lab speaks TLS 1.2 and 1.3; older devices may only speak TLS 1.0 or 1.1."
            ),
            TlsFailureKind::NoApplicationProtocol => format!(
                "{peer} accepts none of the application protocols (ALPN) offered. Offer another list, or none."
            ),
            TlsFailureKind::Protocol { message } => {
                format!("The TLS connection with {peer} failed: {message}.")
            }
        }
    }
}

fn alert_hint(alert: &str) -> &'static str {
    match alert {
        "bad_certificate"
        | "unknown_ca"
        | "certificate_unknown"
        | "unsupported_certificate"
        | "certificate_expired"
        | "certificate_revoked"
        | "access_denied" => "it did not accept the certificate it was shown.",
        "certificate_required" => "it requires a client certificate.",
        "protocol_version" => {
            "it does not speak the TLS versions offered (1.2 and 1.3 here): it may be a very old device."
        }
        "handshake_failure" | "insufficient_security" => {
            "there is no cipher suite or key exchange both sides accept, or it refused the offer for another reason."
        }
        "no_application_protocol" => "none of the offered ALPN protocols is acceptable to it.",
        "unrecognized_name" => "it does not serve the server name (SNI) that was sent.",
        "decrypt_error" | "bad_record_mac" | "decode_error" => {
            "it could not read what was sent: something between the two ends may be changing the data."
        }
        _ => "it gave no further reason.",
    }
}

/// The TLS standard's name of an alert (`bad_certificate`), from rustls's enum.
pub(crate) fn alert_name(alert: AlertDescription) -> String {
    let debug = format!("{alert:?}");
    // rustls names them in CamelCase (`BadCertificate`, `UnknownCA`); the standard in snake_case.
    let mut out = String::with_capacity(debug.len() + 4);
    let chars: Vec<char> = debug.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev_lower = i > 0 && chars[i - 1].is_ascii_lowercase();
            let next_lower = chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
            let prev_upper = i > 0 && chars[i - 1].is_ascii_uppercase();
            if i > 0 && (prev_lower || (prev_upper && next_lower)) {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(*c);
        }
    }
    out
}

/// Sorts a rustls error into a [`TlsFailureKind`], using the peer's certificate chain when the
/// verifier saw one (rustls's own error does not say who the certificate was for).
pub(crate) fn classify(error: &rustls::Error, chain: &[CertInfo]) -> TlsFailureKind {
    let leaf = chain.first();
    let subject = || leaf.map_or_else(|| "no subject".to_owned(), |c| c.subject.clone());
    match error {
        rustls::Error::InvalidCertificate(cert) => match cert {
            CertificateError::Expired => TlsFailureKind::Expired {
                subject: subject(),
                not_after: leaf.map_or(0, |c| c.not_after),
            },
            CertificateError::ExpiredContext { not_after, .. } => TlsFailureKind::Expired {
                subject: subject(),
                not_after: unix(*not_after),
            },
            CertificateError::NotValidYet => TlsFailureKind::NotYetValid {
                subject: subject(),
                not_before: leaf.map_or(0, |c| c.not_before),
            },
            CertificateError::NotValidYetContext { not_before, .. } => {
                TlsFailureKind::NotYetValid {
                    subject: subject(),
                    not_before: unix(*not_before),
                }
            }
            CertificateError::NotValidForNameContext {
                expected,
                presented,
            } => TlsFailureKind::NameMismatch {
                expected: expected.to_str().into_owned(),
                // rustls lists them in its debug form (`DnsName("a.example")`); the
                // certificate's own fields read better.
                presented: leaf
                    .map(|c| c.names.clone())
                    .filter(|names| !names.is_empty())
                    .unwrap_or_else(|| presented.clone()),
            },
            CertificateError::NotValidForName => TlsFailureKind::NameMismatch {
                expected: String::new(),
                presented: leaf.map(|c| c.names.clone()).unwrap_or_default(),
            },
            CertificateError::UnknownIssuer => match leaf {
                Some(c) if c.self_signed => TlsFailureKind::SelfSigned {
                    subject: c.subject.clone(),
                    sha256: c.sha256.clone(),
                },
                _ => TlsFailureKind::UnknownIssuer {
                    subject: subject(),
                    issuer: leaf.map_or_else(String::new, |c| c.issuer.clone()),
                },
            },
            other => TlsFailureKind::BadCertificate {
                message: rustls::Error::InvalidCertificate(other.clone()).to_string(),
            },
        },
        rustls::Error::AlertReceived(alert) => TlsFailureKind::PeerAlert {
            alert: alert_name(*alert),
        },
        rustls::Error::NoCertificatesPresented => TlsFailureKind::NoClientCertificate,
        rustls::Error::PeerIncompatible(_) => TlsFailureKind::Incompatible {
            message: error.to_string(),
        },
        rustls::Error::NoApplicationProtocol => TlsFailureKind::NoApplicationProtocol,
        other => TlsFailureKind::Protocol {
            message: other.to_string(),
        },
    }
}

fn unix(t: rustls::pki_types::UnixTime) -> i64 {
    i64::try_from(t.as_secs()).unwrap_or(i64::MAX)
}

/// True when `bytes` can be the start of a TLS record: a known content type and major version 3.
pub(crate) fn looks_like_tls(bytes: &[u8]) -> bool {
    match bytes {
        [] => true,
        [kind] => (20..=24).contains(kind),
        [kind, major, ..] => (20..=24).contains(kind) && *major == 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_names_follow_the_standard() {
        assert_eq!(
            alert_name(AlertDescription::BadCertificate),
            "bad_certificate"
        );
        assert_eq!(alert_name(AlertDescription::UnknownCA), "unknown_ca");
        assert_eq!(
            alert_name(AlertDescription::CertificateRequired),
            "certificate_required"
        );
        assert_eq!(
            alert_name(AlertDescription::ProtocolVersion),
            "protocol_version"
        );
    }

    #[test]
    fn sniffs_plain_text() {
        assert!(looks_like_tls(&[0x16, 0x03, 0x03, 0x00]));
        assert!(looks_like_tls(&[0x15, 0x03]));
        assert!(!looks_like_tls(b"HTTP/1.1 400 Bad Request"));
        assert!(!looks_like_tls(b"220 smtp ready"));
    }
}
