//! The words of the TLS parts of the TCP sessions (the switch, the certificate fields, the
//! badges, the certificate card), kept apart from `text.rs`; `text.rs` re-exports them.

/// The TLS switch in the connection bar.
pub const TLS: &str = "TLS";
/// Tooltip of a client's TLS switch.
pub const TLS_CLIENT_HINT: &str = "Speak TLS over the connection (rustls): the server's certificate is checked against the system's root certificates, or a CA file, and must name the host.";
/// Tooltip of a server's TLS switch.
pub const TLS_SERVER_HINT: &str = "Speak TLS with every client (rustls), with a generated self-signed certificate or your certificate and key files.";
/// Heading of the TLS section of the drawer.
pub const TLS_SECTION: &str = "TLS certificates";
/// Label of a client's CA file field.
pub const CA_FILE: &str = "CA file";
/// Tooltip of the CA file field.
pub const CA_FILE_HINT: &str = "A PEM file with the certificates to trust instead of the system's root certificates (for a server with a self-signed or private-CA certificate). Empty: the system's roots.";
/// Placeholder of the CA file field.
pub const CA_FILE_SYSTEM: &str = "the system's root certificates";
/// Label of the server name field.
pub const SNI: &str = "Server name (SNI)";
/// Tooltip of the server name field.
pub const SNI_HINT: &str = "The name sent to the server and looked for in its certificate. Empty: the host typed (an IP address is not sent, but checked).";
/// Placeholder of the server name field.
pub const SNI_HOST: &str = "the host";
/// Label of the ALPN field.
pub const ALPN: &str = "ALPN";
/// Tooltip of the ALPN field.
pub const ALPN_HINT: &str = "Application protocols to offer (client) or accept (server), comma-separated, preferred first: h2, http/1.1. Empty: none.";
/// The ALPN field holds a name that cannot be one.
pub fn alpn_bad(name: &str) -> String {
    format!(
        "ALPN: \"{name}\" is not a protocol name: give names of 1 to 255 characters separated by commas, for example h2, http/1.1."
    )
}
/// The accept-any switch.
pub const ACCEPT_ANY: &str = "Accept any certificate";
/// Tooltip of the accept-any switch.
pub const ACCEPT_ANY_HINT: &str = "Do not check the server's certificate at all: anyone could be at the other end. For a test server with a self-signed certificate; better give its certificate as the CA file.";
/// The warning under the accept-any switch.
pub const ACCEPT_ANY_WARNING: &str =
    "The server will NOT be verified: the connection is encrypted, but to whoever answers.";
/// Accept-any and a CA file together.
pub const ACCEPT_ANY_AND_CA: &str = "TLS: \"Accept any certificate\" checks nothing, so a CA file would not be used: leave out one of the two.";
/// A TLS file field naming no file.
pub fn tls_file_missing(what: &str, path: &str) -> String {
    format!("{what}: there is no file {path}. Type the path of a PEM file.")
}
/// A server without a certificate file.
pub const CERT_NEEDED: &str = "TLS: give the certificate file and the key file, or choose Generate a self-signed certificate.";
/// The server's choice of a generated certificate.
pub const SELF_SIGNED: &str = "Generate a self-signed certificate";
/// Tooltip of that choice.
pub const SELF_SIGNED_HINT: &str = "A new certificate for localhost, 127.0.0.1 and ::1 each time the server starts; clients must trust it (its SHA-256 fingerprint is shown) or accept any certificate.";
/// The server's choice of files.
pub const CERT_FILES: &str = "Certificate and key files";
/// Label of the certificate file field.
pub const CERT_FILE: &str = "Certificate file";
/// Tooltip of the certificate file field.
pub const CERT_FILE_HINT: &str =
    "The server's certificate chain as PEM, its own certificate first.";
/// Label of the key file field.
pub const KEY_FILE: &str = "Key file";
/// Tooltip of the key file field.
pub const KEY_FILE_HINT: &str = "The private key of the certificate, as PEM.";
/// Label of the client CA field.
pub const CLIENT_CA: &str = "Client CA file";
/// Tooltip of the client CA field.
pub const CLIENT_CA_HINT: &str = "Require every client to present a certificate signed by a CA in this PEM file. Empty: no client certificate is asked for.";
/// Placeholder of the client CA field.
pub const CLIENT_CA_NONE: &str = "no client certificate";

/// The badge of a verified TLS connection.
pub fn tls_verified_badge(version: &str) -> String {
    format!("verified ({version})")
}
/// The badge of a connection whose certificate was not checked.
pub const NOT_VERIFIED: &str = "not verified";
/// Tooltip of that badge.
pub const NOT_VERIFIED_HINT: &str = "Accept any certificate is on: the certificate was not checked, so anyone could be at the other end. The data is encrypted, but to whoever answered.";
/// Tooltip of the verified badge.
pub const VERIFIED_HINT: &str = "The server's certificate leads to a trusted root and names the host: this is the server you asked for.";
/// The badge of a TLS server.
pub const TLS_ON: &str = "TLS";
/// Tooltip of a TLS server's badge.
pub fn tls_server_hint(fingerprint: &str) -> String {
    format!(
        "Clients must speak TLS. The server's certificate has the SHA-256 fingerprint {fingerprint}."
    )
}
/// The log note when a connection's handshake is complete.
pub fn note_tls_established(
    version: &str,
    suite: &str,
    alpn: Option<&str>,
    verified: &str,
) -> String {
    format!(
        "TLS established: {version}, {suite}, ALPN {}; {verified}. Application data is encrypted from here on.",
        alpn.unwrap_or("none agreed")
    )
}
/// How the peer was checked, for the log note.
pub const PEER_VERIFIED: &str = "the certificate is verified";
/// How the peer was checked, for the log note.
pub const PEER_NOT_VERIFIED: &str = "the certificate is NOT VERIFIED (any certificate accepted)";
/// How the peer was checked, for the log note.
pub const PEER_NOT_ASKED: &str = "no client certificate was asked for";

/// Heading of the certificate card of a client.
pub const PEER_CERTIFICATE: &str = "Server certificate";
/// Heading of the certificate card of a server.
pub const OWN_CERTIFICATE: &str = "This server's certificate";
/// Heading of a client certificate on a server.
pub const CLIENT_CERTIFICATE: &str = "Newest client certificate";
/// The card before any handshake.
pub const NO_CERTIFICATE: &str = "No certificate yet: it is shown once the handshake has it.";
/// Card row label.
pub const CERT_SUBJECT: &str = "Subject";
/// Card row label.
pub const CERT_ISSUER: &str = "Issuer";
/// Card row label.
pub const CERT_VALID: &str = "Valid";
/// Card row label.
pub const CERT_NAMES: &str = "Names";
/// Card row label.
pub const CERT_FINGERPRINT: &str = "SHA-256";
/// After the issuer of a self-signed certificate.
pub const CERT_SELF_SIGNED: &str = "(self-signed: nobody else vouches for it)";
/// One certificate of the chain, in the card.
pub fn cert_of(n: usize, of: usize) -> String {
    format!("Certificate {n} of {of}")
}
/// The validity row.
pub fn cert_valid(from: &str, until: &str) -> String {
    format!("{from} to {until}")
}
/// Copy the fingerprint.
pub const COPY_FINGERPRINT: &str = "Copy fingerprint";
/// Copy the generated certificate.
pub const COPY_PEM: &str = "Copy certificate (PEM)";
/// Tooltip of Copy certificate.
pub const COPY_PEM_HINT: &str = "The generated certificate as PEM, for a client's CA file (save it as a .pem file) or curl --cacert.";
/// Before a server's note about one client.
pub fn client_prefix(conn: u64) -> String {
    format!("Client {conn}:")
}
/// Sequence diagram: the client's hello.
pub fn seq_client_hello(server_name: Option<&str>, alpn: &[String]) -> String {
    let sni = server_name.map_or_else(String::new, |name| format!(" (SNI {name})"));
    let alpn = if alpn.is_empty() {
        String::new()
    } else {
        format!(" ALPN {}", alpn.join(","))
    };
    format!("TLS ClientHello{sni}{alpn}")
}
/// Sequence diagram: the server's hello.
pub fn seq_server_hello(version: &str, suite: &str) -> String {
    format!("TLS ServerHello: {version}, {suite}")
}
/// Sequence diagram: a certificate crossing.
pub fn seq_certificate(subject: &str, verdict: &str) -> String {
    format!("Certificate {subject} ({verdict})")
}
/// Sequence diagram: the handshake's end.
pub fn seq_finished(alpn: Option<&str>) -> String {
    match alpn {
        Some(p) => format!("TLS Finished: encrypted from here (ALPN {p})"),
        None => "TLS Finished: encrypted from here".to_owned(),
    }
}
/// Sequence diagram: the closing alert.
pub const SEQ_CLOSE_NOTIFY: &str = "TLS close_notify";
/// How a certificate was checked, in the diagram.
pub fn seq_verdict(v: crate::engine::Verification) -> &'static str {
    match v {
        crate::engine::Verification::Verified => "verified",
        crate::engine::Verification::NotVerified => "NOT VERIFIED",
        crate::engine::Verification::Rejected => "rejected",
        crate::engine::Verification::NotAsked => "not asked for",
    }
}
/// TLS and framing together (the TLS reader hands over its reads unframed).
pub const TLS_NOT_WITH_FRAMING: &str = "TLS: framing does not work over TLS yet (a TLS connection is shown read by read): set Framing to none, or turn TLS off.";
/// Beside the counters of a TLS session: what crossed the wire (TLS records, handshake included).
pub fn wire_bytes(received: u64, sent: u64) -> String {
    format!("on the wire (TLS records): received {received} B, sent {sent} B")
}
/// Tooltip of that note.
pub const WIRE_BYTES_HINT: &str = "The counters count application bytes; TLS adds the handshake and a header and tag to each record, counted here.";
