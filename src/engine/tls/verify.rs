//! The client's certificate check: rustls's own `WebPKI` verifier (or, with "accept any
//! certificate", none), wrapped so the chain the server presented is kept for the handshake
//! report, and for the failure sentence when the check fails (rustls's error alone does not say
//! who the certificate was for, or whether it signed itself).

use std::sync::{Arc, Mutex};

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

use super::cert::CertInfo;
use crate::engine::session::lock;

/// The chain a peer presented, filled in by the verifier during the handshake.
pub(crate) type SeenChain = Arc<Mutex<Vec<CertInfo>>>;

/// Checks with `inner` (or accepts anything when `inner` is `None`), and remembers the chain.
#[derive(Debug)]
pub(crate) struct RecordingVerifier {
    inner: Option<Arc<dyn ServerCertVerifier>>,
    algorithms: WebPkiSupportedAlgorithms,
    seen: SeenChain,
}

impl RecordingVerifier {
    pub(crate) fn new(
        inner: Option<Arc<dyn ServerCertVerifier>>,
        provider: &CryptoProvider,
        seen: SeenChain,
    ) -> Self {
        RecordingVerifier {
            inner,
            algorithms: provider.signature_verification_algorithms,
            seen,
        }
    }
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        *lock(&self.seen) = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|der| CertInfo::from_der(der))
            .collect();
        match &self.inner {
            Some(inner) => {
                inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            None => Ok(ServerCertVerified::assertion()),
        }
    }

    // The handshake signatures are always checked, also when any certificate is accepted: the
    // peer must at least own the key of the certificate it shows.
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
