//! What a session tells its owner: socket calls, connections, data, errors and its end.

use std::fmt;
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;
use std::time::SystemTime;

use crossbeam_channel::Sender;

use super::error::{EngineError, Op};
use super::session::BytePermit;

/// Identifies one TCP connection within a session (a TCP client's connection is always 1).
pub type ConnId = u64;

/// Bytes to send. Shared, so "send to all" does not copy the payload per client.
pub type Payload = Arc<[u8]>;

/// One thing that happened in a session, stamped with the wall-clock time it happened.
#[derive(Debug)]
pub struct Event {
    /// When it happened.
    pub at: SystemTime,
    /// What happened.
    pub kind: EventKind,
}

impl Event {
    /// An event that happens now.
    pub fn now(kind: EventKind) -> Self {
        Event {
            at: SystemTime::now(),
            kind,
        }
    }
}

/// The kinds of [`Event`].
///
/// Data-path calls (`send`, `recv`, `sendto`, `recvfrom`) are not repeated as [`EventKind::Call`]:
/// the data event *is* the record of that call (see [`EventKind::transcript_line`]), which keeps bulk
/// transfers to one event per read.
#[derive(Debug)]
pub enum EventKind {
    /// A socket call was made, with its arguments and result: the live transcript.
    Call(SocketCall),
    /// Step mode: the worker is about to make this call and waits for
    /// [`super::Session::next_call`].
    NextCall {
        /// The call.
        op: super::error::Op,
        /// Its arguments, as the transcript will show them.
        args: String,
    },
    /// A TCP server is listening; `local` carries the real port when port 0 was asked for.
    Listening {
        /// The listening address, from `getsockname`.
        local: SocketAddr,
    },
    /// A UDP socket is bound (and, when asked, connected) and ready to send and receive.
    Ready {
        /// The socket's own address, from `getsockname`.
        local: SocketAddr,
        /// The peer fixed by `connect()`, if the socket was connected.
        peer: Option<SocketAddr>,
    },
    /// A TCP connection is established (client: connect succeeded; server: accept returned).
    Connected {
        /// The connection.
        conn: ConnId,
        /// Our end, from `getsockname`.
        local: SocketAddr,
        /// Their end, from `getpeername`.
        peer: SocketAddr,
    },
    /// A server took a connection over its client limit, and closed it at once.
    Rejected {
        /// Who tried to connect.
        peer: SocketAddr,
        /// The limit in force.
        limit: usize,
    },
    /// One `recv` on a TCP connection returned these bytes.
    Received {
        /// The connection.
        conn: ConnId,
        /// Who sent them.
        peer: SocketAddr,
        /// The bytes, exactly as one `recv` returned them.
        data: Chunk,
    },
    /// With framing on, one `recv` (or an idle gap, or the end of the stream) on a TCP
    /// connection, cut into messages: the batch holds the read's bytes and says which messages
    /// it completed, how many reads each took, and what is still waiting. It stands for the
    /// `recv` as [`EventKind::Received`] does without framing.
    Messages {
        /// The connection.
        conn: ConnId,
        /// Who sent them.
        peer: SocketAddr,
        /// The read and its messages (boxed: events stay small).
        batch: Box<super::framing::MessageBatch>,
    },
    /// Bytes were written to a TCP connection (all of them: `send` is repeated until done).
    Sent {
        /// The connection.
        conn: ConnId,
        /// Who they went to.
        peer: SocketAddr,
        /// What was written.
        data: Payload,
        /// True when the engine's echo mode sent them, not a command.
        echo: bool,
    },
    /// The peer shut down its sending side: `recv` returned 0 (end of stream, a FIN arrived).
    PeerFinished {
        /// The connection.
        conn: ConnId,
        /// The peer.
        peer: SocketAddr,
    },
    /// We shut down our sending side (half-close): a FIN went out, reading goes on.
    WriteShutdown {
        /// The connection.
        conn: ConnId,
        /// The peer.
        peer: SocketAddr,
    },
    /// A TCP connection is over.
    Disconnected {
        /// The connection.
        conn: ConnId,
        /// The peer.
        peer: SocketAddr,
        /// Why it ended.
        reason: CloseReason,
    },
    /// UDP datagrams arrived (batched: one event carries every datagram that was already waiting).
    Datagrams(DatagramBatch),
    /// One UDP datagram was sent.
    DatagramSent {
        /// Where it went.
        to: SocketAddr,
        /// Its payload.
        data: Payload,
    },
    /// The reader could not queue some datagrams for display because the owner was not keeping up.
    /// They were received and are in the counters; they are only missing from the view.
    NotShown {
        /// How many datagrams.
        datagrams: u64,
        /// How many payload bytes they carried.
        bytes: u64,
    },
    /// A server's auto-reply setting is in force: every receive from now on is answered by it.
    /// (A change is a command, applied by the session's own thread a moment after it is sent.)
    AutoReplyChanged(super::autoreply::AutoReply),
    /// A file send started, progressed, finished, was cancelled or failed (see
    /// [`crate::engine::file_send`]). The bytes are in the counters, not in `Sent` events.
    FileSend(Box<super::file_send::FileSendEvent>),
    /// A traffic generator started, progressed or finished (see [`crate::engine::generator`]).
    Generator(Box<super::generator::GeneratorEvent>),
    /// A relay took a client, or says what its knobs can and cannot do (see
    /// [`crate::engine::relay`]). Its counters are read from the relay's handle.
    Relay(Box<super::relay::RelayEvent>),
    /// A step of a TLS connection: the handshake, the peer's certificates, `close_notify`.
    Tls(Box<super::tls::TlsEvent>),
    /// A UDP server joined or left a multicast group, or has heard nothing from its groups for a
    /// while (see [`crate::engine::multicast`]).
    Multicast(Box<super::multicast::MulticastEvent>),
    /// Something failed but the session goes on (for example a send to a UDP port nobody listens on).
    Error(EngineError),
    /// The session is over: always the last event, with the reason.
    Stopped {
        /// Why it ended.
        reason: StopReason,
    },
}

impl EventKind {
    /// The event as one line of the socket-call transcript, if it stands for a call.
    pub fn transcript_line(&self) -> Option<String> {
        match self {
            EventKind::Call(call) => Some(call.to_string()),
            EventKind::Received { data, .. } => Some(format!("recv() → {} bytes", data.len())),
            EventKind::Messages { batch, .. } => {
                batch.read_len().map(|n| format!("recv() → {n} bytes"))
            }
            EventKind::Sent { data, .. } => {
                Some(format!("send({} bytes) → {}", data.len(), data.len()))
            }
            EventKind::PeerFinished { .. } => Some("recv() → 0 (end of stream)".to_owned()),
            EventKind::Datagrams(batch) => Some(datagrams_line(batch)),
            EventKind::DatagramSent { to, data } => Some(format!(
                "sendto({} bytes, {to}) → {}",
                data.len(),
                data.len()
            )),
            // A file's many writes are one line, when it ends: what the calls added up to.
            EventKind::FileSend(file) if file.is_final() => Some(format!(
                "{}() × {} → {} bytes of {} ({})",
                if file.conn.is_some() {
                    "send"
                } else {
                    "sendto"
                },
                file.pieces,
                file.sent,
                file.path.display(),
                match &file.stage {
                    super::file_send::FileStage::Cancelled => "cancelled",
                    super::file_send::FileStage::Failed(_) => "failed",
                    _ => "whole file",
                }
            )),
            EventKind::Tls(tls) => Some(tls.transcript_line()),
            _ => None,
        }
    }
}

/// The transcript line of a batch: `recvmsg` when the destination of each datagram was asked
/// for (`IP_PKTINFO`), `recvfrom` otherwise.
fn datagrams_line(batch: &DatagramBatch) -> String {
    let first = batch.iter().next();
    let call = if first.is_some_and(|d| d.to.is_some()) {
        "recvmsg"
    } else {
        "recvfrom"
    };
    match first {
        Some(d) if batch.len() == 1 => {
            let to = d.to.map_or_else(String::new, |to| format!(" to {to}"));
            format!("{call}() → {} bytes from {}{to}", d.data.len(), d.peer)
        }
        _ => format!("{call}() × {} → {} bytes", batch.len(), batch.total_bytes()),
    }
}

/// One socket call, as the transcript shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketCall {
    /// The connection it belongs to, for per-connection calls on a server.
    pub conn: Option<ConnId>,
    /// Which call.
    pub op: Op,
    /// Its arguments, as text (`AF_INET, SOCK_STREAM`, `SO_REUSEADDR, 1`, `127.0.0.1:9000`).
    pub args: String,
    /// What it returned: `Ok` with a short result, or `Err` with the system's message.
    pub outcome: Result<String, String>,
}

impl fmt::Display for SocketCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.op, self.args)?;
        match &self.outcome {
            Ok(r) if r.is_empty() => write!(f, " → ok"),
            Ok(r) => write!(f, " → {r}"),
            Err(e) => write!(f, " → error: {e}"),
        }
    }
}

/// Why a TCP connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// The peer finished sending and the connection was then closed (by the peer or by us).
    PeerClosed,
    /// You asked to close it.
    YouClosed,
    /// You aborted it: `SO_LINGER` 0 made `close` send a reset.
    YouAborted,
    /// The server session stopped and closed every client.
    ServerStopped,
    /// The connection failed (reset by the peer, broken pipe, ...).
    Failed(EngineError),
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloseReason::PeerClosed => f.write_str("the peer closed the connection"),
            CloseReason::YouClosed => f.write_str("you closed the connection"),
            CloseReason::YouAborted => f.write_str("you aborted the connection (reset sent)"),
            CloseReason::ServerStopped => f.write_str("the server stopped"),
            CloseReason::Failed(e) => write!(f, "{e}"),
        }
    }
}

/// Why a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// You stopped it (a command, or dropping the handle).
    Requested,
    /// The TCP client's connection ended; the reason is in the `Disconnected` event before this.
    ConnectionEnded(CloseReason),
    /// It could not start or could not go on.
    Failed(EngineError),
}

impl StopReason {
    /// Why a session ended whose setup returned `error`: a stop that ended a step-mode wait
    /// (which the gate reports as [`EngineError::SessionEnded`]) is the user's request, not a
    /// failure.
    pub(crate) fn after_setup(error: EngineError) -> Self {
        match error {
            EngineError::SessionEnded => StopReason::Requested,
            e => StopReason::Failed(e),
        }
    }
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopReason::Requested => f.write_str("stopped"),
            StopReason::ConnectionEnded(r) => write!(f, "{r}"),
            StopReason::Failed(e) => write!(f, "{e}"),
        }
    }
}

/// Bytes that one `recv` returned. Large reads travel in a recycled buffer that goes back to the
/// reader's pool when this is dropped, so bulk transfers do not allocate per read.
pub struct Chunk {
    buf: Vec<u8>,
    len: usize,
    pool: Option<Sender<Vec<u8>>>,
    /// The bytes this chunk holds of its session's received-data budget, given back on drop.
    permit: Option<BytePermit>,
}

impl Chunk {
    /// A chunk that owns exactly these bytes.
    pub fn from_vec(buf: Vec<u8>) -> Self {
        let len = buf.len();
        Chunk {
            buf,
            len,
            pool: None,
            permit: None,
        }
    }

    /// A chunk of the first `len` bytes of a pooled buffer; the buffer returns to `pool` on drop.
    pub(crate) fn pooled(buf: Vec<u8>, len: usize, pool: Sender<Vec<u8>>) -> Self {
        Chunk {
            buf,
            len,
            pool: Some(pool),
            permit: None,
        }
    }

    /// Makes the chunk carry its share of the session's received-data budget until dropped.
    pub(crate) fn hold(&mut self, permit: BytePermit) {
        self.permit = Some(permit);
    }
}

impl Deref for Chunk {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Clone for Chunk {
    fn clone(&self) -> Self {
        Chunk::from_vec(self.to_vec())
    }
}

impl fmt::Debug for Chunk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Chunk({} bytes)", self.len)
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            // A full pool just lets the buffer be freed.
            let _ = pool.try_send(std::mem::take(&mut self.buf));
        }
    }
}

/// One received datagram, borrowed from a [`DatagramBatch`].
#[derive(Debug, Clone, Copy)]
pub struct Datagram<'a> {
    /// When `recvfrom` returned it.
    pub at: SystemTime,
    /// Who sent it, as `recvfrom` reported.
    pub peer: SocketAddr,
    /// Its payload.
    pub data: &'a [u8],
    /// The address it was sent to (a group, a broadcast address or this host) and the interface
    /// it came in on; `None` where the system cannot tell (or for a connected socket).
    pub to: Option<super::multicast::Destination>,
}

#[derive(Debug, Clone, Copy)]
struct DatagramMeta {
    at: SystemTime,
    peer: SocketAddr,
    start: usize,
    len: usize,
    to: Option<super::multicast::Destination>,
}

/// Datagrams that were waiting together, in arrival order, stored in one allocation.
#[derive(Debug, Default, Clone)]
pub struct DatagramBatch {
    bytes: Vec<u8>,
    items: Vec<DatagramMeta>,
    /// True when the engine's echo mode sent each of these back to its sender.
    pub echoed: bool,
}

impl DatagramBatch {
    /// Appends one datagram whose destination is not known.
    pub fn push(&mut self, at: SystemTime, peer: SocketAddr, data: &[u8]) {
        self.push_to(at, peer, data, None);
    }

    /// Appends one datagram and the address it was sent to.
    pub fn push_to(
        &mut self,
        at: SystemTime,
        peer: SocketAddr,
        data: &[u8],
        to: Option<super::multicast::Destination>,
    ) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(data);
        self.items.push(DatagramMeta {
            at,
            peer,
            start,
            len: data.len(),
            to,
        });
    }

    /// How many datagrams.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Total payload bytes.
    pub fn total_bytes(&self) -> usize {
        self.bytes.len()
    }

    /// The sender of the newest datagram.
    pub fn last_peer(&self) -> Option<SocketAddr> {
        self.items.last().map(|m| m.peer)
    }

    /// The datagrams in arrival order.
    pub fn iter(&self) -> impl Iterator<Item = Datagram<'_>> {
        self.items.iter().map(|m| Datagram {
            at: m.at,
            peer: m.peer,
            data: &self.bytes[m.start..m.start + m.len],
            to: m.to,
        })
    }
}
