//! One connection's TLS state, shared by its reader and writer threads (see the module doc of
//! [`super`] for why there are two locks and which thread takes which).

use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded};

use super::cert::CertInfo;
use super::failure::{TlsFailure, TlsFailureKind, classify, looks_like_tls};
use super::verify::SeenChain;
use super::{TlsEvent, TlsStep, Trust, Verification};
use crate::engine::error::{EngineError, Op};
use crate::engine::event::{ConnId, EventKind};
use crate::engine::session::{ClientStats, Counters, EventSink, add, lock};

/// Bytes of the peer's first answer kept to tell "not TLS" apart, and shown in the sentence.
const SNIFF: usize = 64;

/// What differs between the two ends.
pub(crate) enum Side {
    Client {
        seen: SeenChain,
        sni: Option<String>,
        alpn: Vec<String>,
        trust: Trust,
    },
    Server {
        alpn: Vec<String>,
        trust: Trust,
    },
}

/// Where bytes on the wire are counted: the session's and the connection's counters.
pub(crate) struct Wire<'a> {
    pub session: &'a Counters,
    pub conn: &'a ClientStats,
}

impl Wire<'_> {
    fn sent(&self, n: usize) {
        add(&self.session.wire_out, n);
        add(&self.conn.wire_out, n);
    }

    fn received(&self, n: usize) {
        add(&self.session.wire_in, n);
        add(&self.conn.wire_in, n);
    }
}

/// What one batch of received records gave.
pub(crate) struct Received {
    /// Decrypted application data, in order.
    pub plain: Vec<u8>,
    /// The peer's `close_notify` arrived: it sends nothing more.
    pub close_notify: bool,
    /// The records were bad, or the peer sent an alert; the connection is over.
    pub error: Option<EngineError>,
}

/// The TLS state of one connection.
pub(crate) struct TlsLink {
    state: Mutex<rustls::Connection>,
    /// Held while records are written to the socket, so they leave in the order they were made.
    wire: Mutex<()>,
    /// Dropped when the handshake is over (either way): the writer waits for it.
    done_tx: Mutex<Option<Sender<()>>>,
    done_rx: Receiver<()>,
    established: AtomicBool,
    close_notify_sent: AtomicBool,
    close_notify_received: AtomicBool,
    side: Side,
    timeout: Duration,
}

fn take_records(state: &mut rustls::Connection) -> Vec<u8> {
    let mut out = Vec::new();
    while state.wants_write() {
        // Writing into a Vec cannot fail.
        if state.write_tls(&mut out).is_err() {
            break;
        }
    }
    out
}

/// Writes all of `bytes`; `retry` says which errors only mean "try again" (a send timeout while
/// the connection is not closing).
fn write_out(
    mut stream: &TcpStream,
    bytes: &[u8],
    wire: &Wire,
    retry: &dyn Fn(&io::Error) -> bool,
) -> io::Result<()> {
    let mut written = 0;
    while written < bytes.len() {
        match stream.write(&bytes[written..]) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => {
                wire.sent(n);
                written += n;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted || retry(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn failure(peer: SocketAddr, kind: TlsFailureKind) -> EngineError {
    EngineError::Tls(Box::new(TlsFailure { peer, kind }))
}

impl TlsLink {
    pub(crate) fn new(state: rustls::Connection, side: Side, timeout: Duration) -> Self {
        let (done_tx, done_rx) = bounded(0);
        TlsLink {
            state: Mutex::new(state),
            wire: Mutex::new(()),
            done_tx: Mutex::new(Some(done_tx)),
            done_rx,
            established: AtomicBool::new(false),
            close_notify_sent: AtomicBool::new(false),
            close_notify_received: AtomicBool::new(false),
            side,
            timeout,
        }
    }

    fn state(&self) -> MutexGuard<'_, rustls::Connection> {
        lock(&self.state)
    }

    /// Becomes ready (disconnected) when the handshake is over, whichever way it ended.
    pub(crate) fn handshake_over(&self) -> &Receiver<()> {
        &self.done_rx
    }

    /// True once the handshake has succeeded.
    pub(crate) fn is_established(&self) -> bool {
        self.established.load(Ordering::Acquire)
    }

    /// True when the peer's `close_notify` has arrived (its end of data was clean).
    pub(crate) fn close_notify_received(&self) -> bool {
        self.close_notify_received.load(Ordering::Acquire)
    }

    fn seen_chain(&self) -> Vec<CertInfo> {
        match &self.side {
            Side::Client { seen, .. } => lock(seen).clone(),
            Side::Server { .. } => Vec::new(),
        }
    }

    /// Runs the handshake on the reader's stream, reporting its steps. On success application
    /// data may flow; on failure the error says why in TLS terms.
    pub(crate) fn handshake(
        &self,
        stream: &TcpStream,
        sink: &EventSink,
        conn: ConnId,
        peer: SocketAddr,
        wire: &Wire,
    ) -> Result<(), EngineError> {
        let emit = |step| {
            sink.emit(EventKind::Tls(Box::new(TlsEvent {
                conn: Some(conn),
                peer: Some(peer),
                step,
            })));
        };
        emit(match &self.side {
            Side::Client {
                sni, alpn, trust, ..
            } => TlsStep::HandshakeStarted {
                server_name: sni.clone(),
                alpn: alpn.clone(),
                trust: trust.clone(),
            },
            Side::Server { alpn, trust } => TlsStep::HandshakeStarted {
                server_name: None,
                alpn: alpn.clone(),
                trust: trust.clone(),
            },
        });
        let result = self.run_handshake(stream, peer, wire);
        // Data must not wait for a timeout meant for the handshake (file sends set their own).
        let _ = stream.set_read_timeout(None);
        let _ = stream.set_write_timeout(None);
        if let Err(error) = &result {
            let chain = self.seen_chain();
            let about_certificate = matches!(
                error,
                EngineError::Tls(f) if matches!(
                    f.kind,
                    TlsFailureKind::Expired { .. }
                        | TlsFailureKind::NotYetValid { .. }
                        | TlsFailureKind::NameMismatch { .. }
                        | TlsFailureKind::UnknownIssuer { .. }
                        | TlsFailureKind::SelfSigned { .. }
                        | TlsFailureKind::BadCertificate { .. }
                )
            );
            if about_certificate && !chain.is_empty() {
                emit(TlsStep::PeerCertificates {
                    chain,
                    verification: Verification::Rejected,
                });
            }
        } else {
            self.report_established(&emit);
            self.established.store(true, Ordering::Release);
        }
        // The writer may go on now (or give up, if the handshake failed).
        drop(lock(&self.done_tx).take());
        result
    }

    fn report_established(&self, emit: &dyn Fn(TlsStep)) {
        let state = self.state();
        let version = state
            .protocol_version()
            .and_then(|v| v.as_str())
            .unwrap_or("TLS")
            .replace("TLSv1_", "TLSv1.");
        let cipher_suite = state
            .negotiated_cipher_suite()
            .and_then(|s| s.suite().as_str())
            .unwrap_or("unknown")
            .to_owned();
        let key_exchange = state
            .negotiated_key_exchange_group()
            .and_then(|g| g.name().as_str())
            .map(ToOwned::to_owned);
        let alpn = state
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned());
        let (chain, verification, server_name) = match (&self.side, &*state) {
            (Side::Client { trust, sni, .. }, _) => (
                self.seen_chain(),
                if *trust == Trust::AnyCertificate {
                    Verification::NotVerified
                } else {
                    Verification::Verified
                },
                sni.clone(),
            ),
            (Side::Server { .. }, rustls::Connection::Server(server)) => {
                let chain: Vec<CertInfo> = state
                    .peer_certificates()
                    .map(|c| c.iter().map(|der| CertInfo::from_der(der)).collect())
                    .unwrap_or_default();
                let verification = if chain.is_empty() {
                    Verification::NotAsked
                } else {
                    Verification::Verified
                };
                (
                    chain,
                    verification,
                    server.server_name().map(ToOwned::to_owned),
                )
            }
            (Side::Server { .. }, rustls::Connection::Client(_)) => {
                (Vec::new(), Verification::NotAsked, None)
            }
        };
        drop(state);
        emit(TlsStep::Negotiated {
            version: version.clone(),
            cipher_suite: cipher_suite.clone(),
            key_exchange,
        });
        if !chain.is_empty() {
            emit(TlsStep::PeerCertificates {
                chain,
                verification,
            });
        }
        emit(TlsStep::Established {
            version,
            cipher_suite,
            alpn,
            server_name,
            verification,
        });
    }

    fn run_handshake(
        &self,
        mut stream: &TcpStream,
        peer: SocketAddr,
        wire: &Wire,
    ) -> Result<(), EngineError> {
        let timeout_ms = u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX);
        let timed_out = || failure(peer, TlsFailureKind::HandshakeTimeout { timeout_ms });
        let deadline = Instant::now() + self.timeout;
        let _ = stream.set_write_timeout(Some(self.timeout));
        let mut first_in: Vec<u8> = Vec::new();
        let mut first_out: Vec<u8> = Vec::new();
        let mut buf = vec![0; 18 * 1024];
        loop {
            let out = take_records(&mut self.state());
            if !out.is_empty() {
                if first_out.len() < SNIFF {
                    let room = SNIFF - first_out.len();
                    first_out.extend_from_slice(&out[..out.len().min(room)]);
                }
                let _wire = lock(&self.wire);
                write_out(stream, &out, wire, &|_| false).map_err(|e| {
                    if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) {
                        timed_out()
                    } else {
                        EngineError::io(Op::Send, peer, &e)
                    }
                })?;
            }
            if !self.state().is_handshaking() {
                return Ok(());
            }
            let left = deadline
                .checked_duration_since(Instant::now())
                .filter(|d| !d.is_zero())
                .ok_or_else(timed_out)?;
            let _ = stream.set_read_timeout(Some(left));
            let n = match stream.read(&mut buf) {
                Ok(0) => {
                    return Err(failure(peer, TlsFailureKind::ClosedDuringHandshake));
                }
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Err(timed_out());
                }
                Err(e) => return Err(EngineError::io(Op::Recv, peer, &e)),
            };
            wire.received(n);
            if first_in.len() < SNIFF {
                let room = SNIFF - first_in.len();
                first_in.extend_from_slice(&buf[..n.min(room)]);
                let echoed = first_in.len() >= 5 && first_out.starts_with(&first_in);
                if echoed {
                    return Err(failure(
                        peer,
                        TlsFailureKind::NotTls {
                            first_bytes: first_in,
                            echoed: true,
                        },
                    ));
                }
                if !looks_like_tls(&first_in) {
                    return Err(failure(
                        peer,
                        TlsFailureKind::NotTls {
                            first_bytes: first_in,
                            echoed: false,
                        },
                    ));
                }
            }
            let received = self.feed(&buf[..n], peer);
            if let Some(error) = received.error {
                self.send_alert(stream, wire);
                return Err(error);
            }
            // Data that came with the last handshake records stays in rustls for the data loop.
        }
    }

    /// After a failure rustls has an alert queued for the peer: send it if nothing else writes.
    fn send_alert(&self, stream: &TcpStream, wire: &Wire) {
        if let Ok(_wire) = self.wire.try_lock() {
            let out = take_records(&mut self.state());
            let _ = write_out(stream, &out, wire, &|_| false);
        }
    }

    /// Feeds received records to rustls and takes out what they decrypted to. Plaintext that
    /// arrived with the handshake's last records is taken out by the first call with no bytes.
    pub(crate) fn feed(&self, mut bytes: &[u8], peer: SocketAddr) -> Received {
        let mut received = Received {
            plain: Vec::new(),
            close_notify: false,
            error: None,
        };
        let mut state = self.state();
        loop {
            // Decrypted data first: rustls refuses more records while its buffer is full.
            let io = match state.process_new_packets() {
                Ok(io) => io,
                Err(e) => {
                    drop(state);
                    let kind = classify(&e, &self.seen_chain());
                    received.error = Some(failure(peer, kind));
                    return received;
                }
            };
            let waiting = io.plaintext_bytes_to_read();
            if waiting > 0 {
                let start = received.plain.len();
                received.plain.resize(start + waiting, 0);
                if state
                    .reader()
                    .read_exact(&mut received.plain[start..])
                    .is_err()
                {
                    received.plain.truncate(start);
                }
            }
            if io.peer_has_closed() && !self.close_notify_received.swap(true, Ordering::AcqRel) {
                received.close_notify = true;
            }
            if bytes.is_empty() {
                return received;
            }
            match state.read_tls(&mut bytes) {
                Ok(_) => {}
                Err(e) => {
                    drop(state);
                    received.error = Some(EngineError::io(Op::Recv, peer, &e));
                    return received;
                }
            }
        }
    }

    /// Encrypts and writes all of `data`, holding the wire so records leave in order; then
    /// writes whatever the reader left for us.
    pub(crate) fn write_app(
        &self,
        stream: &TcpStream,
        data: &[u8],
        wire: &Wire,
        retry: &dyn Fn(&io::Error) -> bool,
    ) -> io::Result<()> {
        {
            let _wire = lock(&self.wire);
            let mut sent = 0;
            while sent < data.len() {
                let out = {
                    let mut state = self.state();
                    let n = state.writer().write(&data[sent..])?;
                    if n == 0 {
                        return Err(ErrorKind::WriteZero.into());
                    }
                    sent += n;
                    take_records(&mut state)
                };
                write_out(stream, &out, wire, retry)?;
            }
            let rest = take_records(&mut self.state());
            write_out(stream, &rest, wire, retry)?;
        }
        // Records the reader made while we held the wire (it leaves them to us).
        self.flush_if_free(stream, wire, retry)
    }

    /// Writes queued records unless someone else is writing (who then writes them after its
    /// own). The reader uses this, so it never waits for a writer stuck on a full socket.
    pub(crate) fn flush_if_free(
        &self,
        stream: &TcpStream,
        wire: &Wire,
        retry: &dyn Fn(&io::Error) -> bool,
    ) -> io::Result<()> {
        loop {
            let _wire = match self.wire.try_lock() {
                Ok(guard) => guard,
                Err(TryLockError::Poisoned(p)) => p.into_inner(),
                Err(TryLockError::WouldBlock) => return Ok(()),
            };
            let out = take_records(&mut self.state());
            if out.is_empty() {
                return Ok(());
            }
            write_out(stream, &out, wire, retry)?;
        }
    }

    /// Sends `close_notify` once, without waiting: `send_now` writes what fits at once. A stop
    /// must not hang behind a peer that does not read, so when the socket is full (or another
    /// thread is writing) the alert is left out and the peer sees a truncation instead.
    pub(crate) fn close_notify(
        &self,
        send_now: impl FnOnce(&[u8]) -> io::Result<usize>,
        wire: &Wire,
    ) -> bool {
        if !self.is_established() || self.close_notify_sent.swap(true, Ordering::AcqRel) {
            return false;
        }
        let Ok(_wire) = self.wire.try_lock() else {
            return false;
        };
        let out = {
            let mut state = self.state();
            state.send_close_notify();
            take_records(&mut state)
        };
        match send_now(&out) {
            Ok(n) => {
                wire.sent(n);
                n == out.len()
            }
            Err(_) => false,
        }
    }
}
