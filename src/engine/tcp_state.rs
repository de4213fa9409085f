//! The kernel's own view of TCP sockets: the state each connection and listener is in (LISTEN,
//! SYN-SENT, ESTABLISHED, FIN-WAIT-1/2, CLOSE-WAIT, LAST-ACK, TIME-WAIT …), with the bytes still
//! queued each way and the retransmission count, as the operating system reports them — not as
//! the program guesses from its own calls.
//!
//! On Linux this reads the system's socket table (`/proc/net/tcp` and `/proc/net/tcp6`), which
//! lists every TCP socket of the machine, including the ones in TIME-WAIT that no program holds
//! any more: that is how "the side that closes first waits" can be shown after its socket is
//! gone. Round-trip times are not in that table (they come from `getsockopt(TCP_INFO)`, which no
//! safe wrapper in the tree offers and this crate forbids unsafe code); other systems report
//! [`StateError::Unavailable`] with the reason.
//!
//! [`watch`] polls the table in a thread of its own at a steady pace while someone looks, and
//! calls the waker only when what it sees changes, so the window never reads a file itself.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::session::{Waker, lock};

/// The most sockets read from the table in one look (a busy server has tens of thousands; the
/// lookups want a handful).
pub const MAX_ROWS: usize = 200_000;

/// A TCP state, as the kernel names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpState {
    /// Connected; data flows both ways.
    Established,
    /// `connect` sent a SYN and waits for the SYN-ACK.
    SynSent,
    /// A SYN came in and a SYN-ACK went out; waiting for the last ACK of the handshake.
    SynReceived,
    /// We closed first: our FIN is on its way, not yet acknowledged.
    FinWait1,
    /// Our FIN was acknowledged; waiting for the peer's FIN.
    FinWait2,
    /// We closed first and both FINs are done: the kernel keeps the pair reserved for a while
    /// (twice the maximum segment lifetime) so late packets cannot confuse a new connection.
    TimeWait,
    /// Closed.
    Close,
    /// The peer closed first (its FIN arrived); waiting for this side to close.
    CloseWait,
    /// The peer closed first and then so did we; waiting for the ACK of our FIN.
    LastAck,
    /// A server socket waiting for connections.
    Listen,
    /// Both sides closed at the same moment.
    Closing,
    /// A connection request being answered (Linux's lightweight SYN-RECEIVED).
    NewSynReceived,
}

impl TcpState {
    /// The kernel's code in the table (`01` … `0C`).
    fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0x01 => TcpState::Established,
            0x02 => TcpState::SynSent,
            0x03 => TcpState::SynReceived,
            0x04 => TcpState::FinWait1,
            0x05 => TcpState::FinWait2,
            0x06 => TcpState::TimeWait,
            0x07 => TcpState::Close,
            0x08 => TcpState::CloseWait,
            0x09 => TcpState::LastAck,
            0x0A => TcpState::Listen,
            0x0B => TcpState::Closing,
            0x0C => TcpState::NewSynReceived,
            _ => return None,
        })
    }

    /// The name of the state in the TCP standard (RFC 9293): `ESTABLISHED`, `TIME-WAIT` …
    pub fn name(self) -> &'static str {
        match self {
            TcpState::Established => "ESTABLISHED",
            TcpState::SynSent => "SYN-SENT",
            TcpState::SynReceived | TcpState::NewSynReceived => "SYN-RECEIVED",
            TcpState::FinWait1 => "FIN-WAIT-1",
            TcpState::FinWait2 => "FIN-WAIT-2",
            TcpState::TimeWait => "TIME-WAIT",
            TcpState::Close => "CLOSED",
            TcpState::CloseWait => "CLOSE-WAIT",
            TcpState::LastAck => "LAST-ACK",
            TcpState::Listen => "LISTEN",
            TcpState::Closing => "CLOSING",
        }
    }

    /// What the state means, in one plain sentence.
    pub fn explanation(self) -> &'static str {
        match self {
            TcpState::Established => {
                "Connected: both sides can send, and every byte is acknowledged."
            }
            TcpState::SynSent => {
                "connect() sent the first packet of the handshake (SYN) and waits for the answer."
            }
            TcpState::SynReceived | TcpState::NewSynReceived => {
                "A client's SYN arrived and was answered; the handshake's last ACK is awaited."
            }
            TcpState::FinWait1 => {
                "This side closed first; its FIN is on the way and not yet acknowledged."
            }
            TcpState::FinWait2 => {
                "This side's FIN was acknowledged; now it waits for the other side to close too."
            }
            TcpState::TimeWait => {
                "This side closed first. Both FINs are done, and the system keeps the address pair reserved for a while, so stray late packets cannot land in a new connection."
            }
            TcpState::Close => "Closed.",
            TcpState::CloseWait => {
                "The other side closed first (its FIN arrived). This side can still send, and should close when it is done."
            }
            TcpState::LastAck => {
                "The other side closed first, then this side did; the ACK of this side's FIN is awaited."
            }
            TcpState::Listen => {
                "A server socket: it waits for connections and hands each one out through accept()."
            }
            TcpState::Closing => {
                "Both sides sent their FIN at the same moment; each waits for the other's ACK."
            }
        }
    }
}

impl fmt::Display for TcpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One TCP socket as the system's table lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelSocket {
    /// Its own address.
    pub local: SocketAddr,
    /// The peer's; `None` for a listener.
    pub remote: Option<SocketAddr>,
    /// Its state.
    pub state: TcpState,
    /// Connected: bytes sent and not yet acknowledged by the peer. Listening: the backlog.
    pub send_queue: u32,
    /// Connected: bytes received that the program has not read yet. Listening: connections
    /// waiting for `accept()`.
    pub recv_queue: u32,
    /// Retransmissions of the packet now awaiting its ACK (the retransmission timer's count).
    pub retransmits: u32,
    /// The user id of its owner.
    pub uid: u32,
}

/// Why the table could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// The system has no such table (or this build cannot read it).
    #[error("The kernel's TCP states cannot be shown here: {0}")]
    Unavailable(String),
    /// The table exists and could not be read.
    #[error("Could not read the kernel's socket table {path}: {reason}")]
    Unreadable {
        /// The file.
        path: String,
        /// The system's reason.
        reason: String,
    },
}

/// Every TCP socket of the machine (IPv4 and IPv6), as the system lists them now.
pub fn table() -> Result<Vec<KernelSocket>, StateError> {
    #[cfg(target_os = "linux")]
    {
        let mut rows = Vec::new();
        for path in ["/proc/net/tcp", "/proc/net/tcp6"] {
            match std::fs::read_to_string(path) {
                Ok(text) => parse_table(&text, &mut rows),
                // A system without IPv6 has no tcp6 table; that is not an error.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && path.ends_with('6') => {}
                Err(e) => {
                    return Err(StateError::Unreadable {
                        path: path.to_string(),
                        reason: e.to_string(),
                    });
                }
            }
        }
        Ok(rows)
    }
    #[cfg(not(target_os = "linux"))]
    {
        Err(StateError::Unavailable(
            "only Linux's socket table is read so far (Windows has GetExtendedTcpTable and macOS netstat's sysctl, neither wired in yet).".into(),
        ))
    }
}

/// The sockets whose own address is `local` and, when given, whose peer is `remote` (IPv4
/// addresses match their IPv4-mapped IPv6 form, as a dual-stack socket lists them).
pub fn find(
    local: SocketAddr,
    remote: Option<SocketAddr>,
) -> Result<Vec<KernelSocket>, StateError> {
    Ok(table()?
        .into_iter()
        .filter(|s| {
            same(s.local, local) && remote.is_none_or(|r| s.remote.is_some_and(|sr| same(sr, r)))
        })
        .collect())
}

fn same(a: SocketAddr, b: SocketAddr) -> bool {
    a.port() == b.port() && a.ip().to_canonical() == b.ip().to_canonical()
}

/// Reads the rows of one table (`sl local_address rem_address st tx_queue:rx_queue tr:tm->when
/// retrnsmt uid …`), skipping any row it cannot read rather than guessing.
pub fn parse_table(text: &str, rows: &mut Vec<KernelSocket>) {
    for line in text.lines().skip(1) {
        if rows.len() >= MAX_ROWS {
            return;
        }
        if let Some(row) = parse_row(line) {
            rows.push(row);
        }
    }
}

fn parse_row(line: &str) -> Option<KernelSocket> {
    let mut fields = line.split_whitespace();
    let _slot = fields.next()?;
    let local = parse_address(fields.next()?)?;
    let remote = parse_address(fields.next()?)?;
    let state = TcpState::from_code(u8::from_str_radix(fields.next()?, 16).ok()?)?;
    let (tx, rx) = fields.next()?.split_once(':')?;
    let _timer = fields.next()?;
    let retransmits = u32::from_str_radix(fields.next()?, 16).ok()?;
    let uid = fields.next()?.parse().ok()?;
    let remote = (state != TcpState::Listen).then_some(remote);
    Some(KernelSocket {
        local,
        remote,
        state,
        send_queue: u32::from_str_radix(tx, 16).ok()?,
        recv_queue: u32::from_str_radix(rx, 16).ok()?,
        retransmits,
        uid,
    })
}

/// `0100007F:1F90` (IPv4) or 32 hex digits `:PORT` (IPv6): the address is printed as native
/// 32-bit words over the network-order bytes, so each word's native bytes are the address's.
fn parse_address(field: &str) -> Option<SocketAddr> {
    let (ip, port) = field.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let word = |hex: &str| u32::from_str_radix(hex, 16).ok().map(u32::to_ne_bytes);
    let ip = match ip.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(ip)?)),
        32 => {
            let mut bytes = [0_u8; 16];
            for (i, chunk) in bytes.chunks_mut(4).enumerate() {
                chunk.copy_from_slice(&word(ip.get(i * 8..i * 8 + 8)?)?);
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// What a [`Watch`] looks for: one socket by its addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watched {
    /// Its own address.
    pub local: SocketAddr,
    /// The peer's (`None`: the listener on `local`).
    pub remote: Option<SocketAddr>,
}

/// The latest look a [`Watch`] took.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Seen {
    /// Per watched socket, in the order given: the row, or `None` once the system lists no such
    /// socket (after TIME-WAIT ends, or before the connection exists).
    pub sockets: Vec<Option<KernelSocket>>,
    /// Why the table could not be read, if it could not.
    pub error: Option<StateError>,
}

/// A thread that looks at the table every `interval` for the watched sockets; dropping it stops
/// the thread.
pub struct Watch {
    seen: Arc<Mutex<Seen>>,
    watched: Arc<Mutex<Vec<Watched>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    wake: crossbeam_channel::Sender<()>,
}

impl Watch {
    /// What was seen last.
    pub fn seen(&self) -> Seen {
        lock(&self.seen).clone()
    }

    /// Changes what is watched; the next look happens at once.
    pub fn set(&self, watched: Vec<Watched>) {
        *lock(&self.watched) = watched;
        let _ = self.wake.try_send(());
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        let _ = self.wake.try_send(());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts watching; `waker` is called whenever what is seen changes.
pub fn watch(watched: Vec<Watched>, interval: Duration, waker: Waker) -> std::io::Result<Watch> {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let watched = Arc::new(Mutex::new(watched));
    let stop = Arc::new(AtomicBool::new(false));
    let (wake, woken) = crossbeam_channel::bounded(1);
    let thread = {
        let (seen, watched, stop) = (Arc::clone(&seen), Arc::clone(&watched), Arc::clone(&stop));
        std::thread::Builder::new()
            .name("tcp-state".into())
            .spawn(move || {
                while !stop.load(Ordering::Acquire) {
                    let wanted = lock(&watched).clone();
                    let now = look(&wanted);
                    let changed = {
                        let mut last = lock(&seen);
                        let changed = *last != now;
                        *last = now;
                        changed
                    };
                    if changed {
                        waker();
                    }
                    // Sleeps until the interval passes, or set()/drop wake it.
                    let _ = woken.recv_timeout(interval);
                }
            })?
    };
    Ok(Watch {
        seen,
        watched,
        stop,
        thread: Some(thread),
        wake,
    })
}

fn look(wanted: &[Watched]) -> Seen {
    if wanted.is_empty() {
        return Seen::default();
    }
    match table() {
        Ok(rows) => Seen {
            sockets: wanted
                .iter()
                .map(|w| {
                    rows.iter()
                        .find(|s| {
                            same(s.local, w.local)
                                && match (w.remote, s.remote) {
                                    (Some(r), Some(sr)) => same(sr, r),
                                    (None, None) => true,
                                    _ => false,
                                }
                        })
                        .cloned()
                })
                .collect(),
            error: None,
        },
        Err(e) => Seen {
            sockets: vec![None; wanted.len()],
            error: Some(e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The sample rows are as a little-endian machine prints them.
    #[cfg(target_endian = "little")]
    #[test]
    fn rows_of_both_tables_are_read() {
        let v4 = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:1F90 00000000:0000 0A 00000000:00000003 00:00000000 00000000  1000        0 12345 1 0000000000000000 100 0 0 10 0\n   1: 0100007F:A2C4 0100007F:1F90 01 0000000A:00000000 01:00000014 00000002  1000        0 12346 1\n   2: garbage\n";
        let mut rows = Vec::new();
        parse_table(v4, &mut rows);
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert_eq!(rows[0].local, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(
            (rows[0].state, rows[0].remote, rows[0].recv_queue),
            (TcpState::Listen, None, 3)
        );
        assert_eq!(rows[1].remote, Some("127.0.0.1:8080".parse().unwrap()));
        assert_eq!(
            (rows[1].state, rows[1].send_queue, rows[1].retransmits),
            (TcpState::Established, 10, 2)
        );

        let v6 = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1\n   1: 0000000000000000FFFF00000100007F:0050 0000000000000000FFFF00000100007F:C000 06 00000000:00000000 03:00000F9F 00000000     0        0 0 3\n";
        let mut rows = Vec::new();
        parse_table(v6, &mut rows);
        assert_eq!(rows[0].local, "[::1]:80".parse().unwrap());
        assert_eq!(rows[1].state, TcpState::TimeWait);
        assert!(
            same(rows[1].local, "127.0.0.1:80".parse().unwrap()),
            "{:?}",
            rows[1]
        );
    }
}
