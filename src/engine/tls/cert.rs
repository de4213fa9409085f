//! Certificates as people read them: subject, issuer, validity, names and SHA-256 fingerprint,
//! and the self-signed certificate a server can generate for `localhost`.

use std::fmt::Write as _;
use std::net::IpAddr;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

/// The names a generated self-signed certificate is valid for: what a client on this computer
/// types to reach the server.
pub const SELF_SIGNED_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// How long a generated certificate is valid, in days (from one day before it was made, so a
/// client whose clock is a little behind still accepts it).
const SELF_SIGNED_DAYS: i64 = 365;

/// One certificate's fields, read from its DER bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// Who the certificate is for, as a distinguished name (`CN=localhost`).
    pub subject: String,
    /// Who signed it (the same as `subject` for a self-signed certificate).
    pub issuer: String,
    /// Start of validity, seconds since 1970 (UTC).
    pub not_before: i64,
    /// End of validity, seconds since 1970 (UTC).
    pub not_after: i64,
    /// The DNS names and IP addresses it is valid for (subject alternative names).
    pub names: Vec<String>,
    /// SHA-256 of the DER bytes, as colon-separated upper-case hex (what browsers and
    /// `openssl x509 -fingerprint -sha256` show), for pinning.
    pub sha256: String,
    /// True when subject and issuer are the same: nobody but its owner vouches for it.
    pub self_signed: bool,
}

impl CertInfo {
    /// Reads a certificate. Bytes that are not a certificate still get a fingerprint, with the
    /// parser's complaint as the subject, so a report never loses the certificate.
    pub fn from_der(der: &[u8]) -> Self {
        let sha256 = fingerprint(der);
        match X509Certificate::from_der(der) {
            Ok((_, cert)) => {
                let subject = cert.subject().to_string();
                let issuer = cert.issuer().to_string();
                let mut names = Vec::new();
                if let Ok(Some(san)) = cert.subject_alternative_name() {
                    for name in &san.value.general_names {
                        match name {
                            GeneralName::DNSName(n) => names.push((*n).to_owned()),
                            GeneralName::IPAddress(bytes) => {
                                if let Some(ip) = ip_from_bytes(bytes) {
                                    names.push(ip.to_string());
                                }
                            }
                            _ => {}
                        }
                    }
                }
                CertInfo {
                    self_signed: subject == issuer,
                    subject,
                    issuer,
                    not_before: cert.validity().not_before.timestamp(),
                    not_after: cert.validity().not_after.timestamp(),
                    names,
                    sha256,
                }
            }
            Err(e) => CertInfo {
                subject: format!("(not a readable certificate: {e})"),
                issuer: String::new(),
                not_before: 0,
                not_after: 0,
                names: Vec::new(),
                sha256,
                self_signed: false,
            },
        }
    }

    /// Start of validity as `2026-12-02 06:00:00 UTC`.
    pub fn valid_from(&self) -> String {
        utc(self.not_before)
    }

    /// End of validity as `2027-12-02 06:00:00 UTC`.
    pub fn valid_until(&self) -> String {
        utc(self.not_after)
    }

    /// The names, comma-separated, or a note that there are none.
    pub fn names_text(&self) -> String {
        if self.names.is_empty() {
            "no names (no subject alternative name)".to_owned()
        } else {
            self.names.join(", ")
        }
    }
}

fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

/// A Unix time as `2026-12-02 06:00:00 UTC`.
pub fn utc(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0).map_or_else(
        || format!("{secs} s after 1970"),
        |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

/// SHA-256 of `der` as `AB:CD:…` (32 pairs).
pub fn fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    let mut out = String::with_capacity(95);
    for (i, byte) in digest.as_ref().iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        let _ = write!(out, "{byte:02X}");
    }
    out
}

/// A certificate and its private key, generated here.
pub struct SelfSigned {
    /// The certificate (DER).
    pub cert: CertificateDer<'static>,
    /// Its private key.
    pub key: PrivateKeyDer<'static>,
    /// The certificate as PEM text, to hand to a client as its CA file.
    pub cert_pem: String,
}

/// Generates a self-signed certificate for `localhost`, `127.0.0.1` and `::1`, valid for a year.
pub fn generate_self_signed() -> Result<SelfSigned, String> {
    let names: Vec<String> = SELF_SIGNED_NAMES.iter().map(|s| (*s).to_owned()).collect();
    let mut params = rcgen::CertificateParams::new(names).map_err(|e| e.to_string())?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(
        rcgen::DnType::CommonName,
        "Socket Lab self-signed certificate for localhost",
    );
    let now = chrono::Utc::now();
    let (y, m, d) = ymd(now - chrono::Duration::days(1));
    params.not_before = rcgen::date_time_ymd(y, m, d);
    let (y, m, d) = ymd(now + chrono::Duration::days(SELF_SIGNED_DAYS));
    params.not_after = rcgen::date_time_ymd(y, m, d);
    let key = rcgen::KeyPair::generate().map_err(|e| e.to_string())?;
    let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
    Ok(SelfSigned {
        cert_pem: cert.pem(),
        cert: cert.der().clone(),
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    })
}

fn ymd(t: chrono::DateTime<chrono::Utc>) -> (i32, u8, u8) {
    use chrono::Datelike;
    (t.year(), t.month() as u8, t.day() as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_certificate_names_this_computer() {
        let made = generate_self_signed().unwrap();
        let info = CertInfo::from_der(&made.cert);
        assert_eq!(info.names, ["localhost", "127.0.0.1", "::1"]);
        assert!(info.self_signed);
        assert!(info.subject.contains("Socket Lab"), "{}", info.subject);
        assert_eq!(info.sha256.len(), 95);
        assert!(info.not_after - info.not_before > 360 * 86_400);
        assert!(made.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    }

    #[test]
    fn fingerprint_format() {
        // SHA-256 of nothing, the well-known value.
        assert!(fingerprint(b"").starts_with("E3:B0:C4:42:98:FC:1C:14"));
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
    }
}
