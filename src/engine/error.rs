//! Typed engine errors: every variant names the operation and the address that failed.

use std::fmt;
use std::io;
use std::net::SocketAddr;

/// The socket operation an error or a transcript entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// Name resolution (`getaddrinfo`).
    GetAddrInfo,
    /// Reverse resolution (`getnameinfo`).
    GetNameInfo,
    /// Creating the socket.
    Socket,
    /// Setting a socket option.
    SetSockOpt,
    /// Reading a socket option back.
    GetSockOpt,
    /// Claiming a local address and port.
    Bind,
    /// Turning a bound TCP socket into a listener.
    Listen,
    /// Taking one waiting connection off a listener.
    Accept,
    /// Connecting to a peer (TCP handshake, or fixing the peer of a UDP socket).
    Connect,
    /// Asking for the socket's own address.
    GetSockName,
    /// Asking for the connected peer's address.
    GetPeerName,
    /// Writing bytes to a connected socket.
    Send,
    /// Sending one datagram to an address.
    SendTo,
    /// Reading bytes from a connected socket.
    Recv,
    /// Reading one datagram and its sender.
    RecvFrom,
    /// Shutting down one or both directions.
    Shutdown,
    /// Releasing the socket.
    Close,
}

impl Op {
    /// The C name of the call, as a programmer would write it.
    pub fn name(self) -> &'static str {
        match self {
            Op::GetAddrInfo => "getaddrinfo",
            Op::GetNameInfo => "getnameinfo",
            Op::Socket => "socket",
            Op::SetSockOpt => "setsockopt",
            Op::GetSockOpt => "getsockopt",
            Op::Bind => "bind",
            Op::Listen => "listen",
            Op::Accept => "accept",
            Op::Connect => "connect",
            Op::GetSockName => "getsockname",
            Op::GetPeerName => "getpeername",
            Op::Send => "send",
            Op::SendTo => "sendto",
            Op::Recv => "recv",
            Op::RecvFrom => "recvfrom",
            Op::Shutdown => "shutdown",
            Op::Close => "close",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A coarse class of failure, for plain-language explanations and exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Nothing is listening at the address (TCP RST to SYN, or ICMP port unreachable for UDP).
    Refused,
    /// The operation did not finish in time.
    TimedOut,
    /// Another socket already holds the local address and port.
    AddrInUse,
    /// The address does not belong to this machine.
    AddrNotAvailable,
    /// The system refused (for example a port below 1024 without privileges).
    PermissionDenied,
    /// The peer reset the connection.
    Reset,
    /// The peer closed while we were still sending.
    BrokenPipe,
    /// No route to the host or network.
    Unreachable,
    /// The name could not be resolved.
    NotFound,
    /// The input was not valid (bad port, bad address, payload too large).
    InvalidInput,
    /// Anything else.
    Other,
}

/// An error from the socket engine. Each variant says which operation failed and on which address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// A socket call failed.
    #[error("{op}({target}) failed: {message}")]
    Io {
        /// The call that failed.
        op: Op,
        /// The address (or name) it was made for.
        target: String,
        /// The class of failure.
        class: ErrorClass,
        /// The operating system's error number, where there is one.
        os_code: Option<i32>,
        /// The operating system's message.
        message: String,
    },
    /// A host name could not be turned into addresses.
    #[error("getaddrinfo({host}) failed: {message}")]
    Resolve {
        /// The name that was looked up.
        host: String,
        /// Why it failed.
        message: String,
    },
    /// Connecting did not complete within the connect timeout.
    #[error("connect({addr}) timed out after {timeout_ms} ms")]
    ConnectTimeout {
        /// The address that did not answer.
        addr: SocketAddr,
        /// The timeout that ran out, in milliseconds.
        timeout_ms: u64,
    },
    /// A UDP payload is larger than one datagram can carry.
    #[error(
        "sendto({to}) refused: {len} bytes is more than the {limit}-byte limit of one UDP datagram over {family}"
    )]
    PayloadTooLarge {
        /// The intended receiver.
        to: SocketAddr,
        /// The size asked for.
        len: usize,
        /// The largest payload for this address family.
        limit: usize,
        /// "IPv4" or "IPv6".
        family: &'static str,
    },
    /// Sending a file failed (boxed: it is rare, and events stay small).
    #[error(transparent)]
    FileSend(Box<FileSendError>),
    /// A UDP file send was asked for with a datagram size no datagram can have.
    #[error("a datagram size of {size} bytes is not possible over {family}: choose 1 to {limit}")]
    DatagramSize {
        /// The size asked for.
        size: usize,
        /// The largest payload for this address family.
        limit: usize,
        /// "IPv4" or "IPv6".
        family: &'static str,
    },
    /// A file is too large to be sent over UDP (see [`crate::engine::file_send::UDP_FILE_LIMIT`]).
    #[error(
        "the file {path} ({len} bytes) is larger than the {limit}-byte limit for sending a file over UDP"
    )]
    UdpFileTooLarge {
        /// The file.
        path: String,
        /// Its size.
        len: u64,
        /// The limit.
        limit: u64,
    },
    /// A command named a TCP server client that is not connected.
    #[error("no connected client with id {id}")]
    NoSuchClient {
        /// The id asked for.
        id: u64,
    },
    /// The command could not be queued because the send queue is full.
    #[error(
        "the send queue is full ({capacity} commands are waiting); try again when they have gone out"
    )]
    QueueFull {
        /// How many commands the queue holds.
        capacity: usize,
    },
    /// The session has ended and takes no more commands.
    #[error("the session has ended")]
    SessionEnded,
    /// The command does not fit the session's current state.
    #[error("{op} is not possible now: {why}")]
    NotNow {
        /// What was asked for.
        op: Op,
        /// Why not.
        why: String,
    },
    /// A capture file could not be created or written (see [`crate::engine::capture`]).
    #[error("capture to {path} failed: {message}")]
    Capture {
        /// The file.
        path: String,
        /// Why.
        message: String,
        /// True when the file already exists and overwriting was not allowed.
        exists: bool,
    },
    /// A framed connection sent a message larger than the maximum, and the framing was set to
    /// stop (see [`crate::engine::framing::Oversize`]): the connection was closed.
    #[error("a message from {peer} is larger than the {max}-byte maximum (framing {framing})")]
    Oversize {
        /// Who sent it.
        peer: String,
        /// The framing in force, as the command line writes it.
        framing: String,
        /// The body length a length prefix announced, if it did.
        declared: Option<u64>,
        /// The maximum.
        max: usize,
    },
    /// A TLS handshake or TLS connection failed (boxed: it is rare, and events stay small).
    #[error(transparent)]
    Tls(Box<super::tls::TlsFailure>),
    /// A certificate, key or CA file of a TLS setup cannot be used.
    #[error("{} {path} cannot be used: {reason}", role.name())]
    TlsFile {
        /// Which file it is.
        role: super::tls::TlsFileRole,
        /// The file.
        path: String,
        /// Why, in plain words.
        reason: String,
    },
    /// A TLS setup cannot be made for another reason (a server name that cannot be one, no
    /// system root certificates).
    #[error("TLS cannot be set up: {message}")]
    TlsSetup {
        /// Why, in plain words.
        message: String,
        /// True when what the user typed is at fault (exit code 2), false for the system.
        bad_input: bool,
    },
    /// Joining or leaving a multicast group failed (see [`crate::engine::multicast`]).
    #[error("{} {group} failed: {message}", action.name())]
    Group {
        /// Joining or leaving.
        action: super::multicast::GroupAction,
        /// The group, its source and interface, as the user named them.
        group: String,
        /// The class of failure.
        class: ErrorClass,
        /// The operating system's error number, where there is one.
        os_code: Option<i32>,
        /// The operating system's message.
        message: String,
    },
    /// A group join or a multicast option that cannot be done as asked (not a group, a source of
    /// the other family, a family the socket does not have).
    #[error("multicast {group}: {why}")]
    BadGroup {
        /// The group (or target) concerned.
        group: String,
        /// Why not, in plain words.
        why: String,
    },
    /// An interface named for a join or a send does not exist here, or lacks what is needed.
    #[error("interface {interface}: {why}")]
    BadInterface {
        /// The name as given.
        interface: String,
        /// Why it cannot be used, in plain words (a sentence naming the interfaces there are).
        why: String,
    },
    /// A worker thread could not start, or ended by panicking; the session reports it instead of
    /// taking the program down.
    #[error("internal error in thread {thread}: {message}")]
    WorkerFailed {
        /// The thread's name.
        thread: String,
        /// The panic message.
        message: String,
    },
}

/// Why a file send failed: `step` is what failed (`open`, `read`, `send`, `sendto`), after `sent`
/// bytes had gone out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sending the file {path} to {to} failed at {step} after {sent} bytes: {message}")]
pub struct FileSendError {
    /// What failed: `open`, `read`, `send` or `sendto`.
    pub step: &'static str,
    /// The file.
    pub path: String,
    /// The receiver.
    pub to: String,
    /// Bytes that had gone out before the failure.
    pub sent: u64,
    /// The class of failure.
    pub class: ErrorClass,
    /// The system's message, or why the file was refused.
    pub message: String,
}

impl EngineError {
    /// Builds an [`EngineError::Group`] for a failed join or leave.
    pub(crate) fn group(
        action: super::multicast::GroupAction,
        joined: &super::multicast::JoinedGroup,
        err: &io::Error,
    ) -> Self {
        EngineError::Group {
            action,
            group: joined.join.to_string(),
            class: classify(err),
            os_code: err.raw_os_error(),
            message: err.to_string(),
        }
    }

    /// Builds an [`EngineError::Io`] from an `io::Error`, keeping its class and number.
    pub fn io(op: Op, target: impl fmt::Display, err: &io::Error) -> Self {
        EngineError::Io {
            op,
            target: target.to_string(),
            class: classify(err),
            os_code: err.raw_os_error(),
            message: err.to_string(),
        }
    }

    /// The coarse class of the failure.
    pub fn class(&self) -> ErrorClass {
        match self {
            EngineError::Io { class, .. } | EngineError::Group { class, .. } => *class,
            EngineError::FileSend(f) => f.class,
            EngineError::Resolve { .. } => ErrorClass::NotFound,
            EngineError::ConnectTimeout { .. } => ErrorClass::TimedOut,
            EngineError::Tls(failure) => match failure.kind {
                super::tls::TlsFailureKind::HandshakeTimeout { .. } => ErrorClass::TimedOut,
                _ => ErrorClass::Other,
            },
            EngineError::PayloadTooLarge { .. }
            | EngineError::DatagramSize { .. }
            | EngineError::UdpFileTooLarge { .. }
            | EngineError::TlsFile { .. }
            | EngineError::BadGroup { .. }
            | EngineError::BadInterface { .. }
            | EngineError::TlsSetup {
                bad_input: true, ..
            }
            | EngineError::Capture { exists: true, .. } => ErrorClass::InvalidInput,
            EngineError::NoSuchClient { .. }
            | EngineError::QueueFull { .. }
            | EngineError::SessionEnded
            | EngineError::NotNow { .. }
            | EngineError::Capture { exists: false, .. }
            | EngineError::Oversize { .. }
            | EngineError::TlsSetup {
                bad_input: false, ..
            }
            | EngineError::WorkerFailed { .. } => ErrorClass::Other,
        }
    }

    /// The operation that failed.
    pub fn op(&self) -> Option<Op> {
        match self {
            EngineError::Io { op, .. } | EngineError::NotNow { op, .. } => Some(*op),
            EngineError::Resolve { .. } => Some(Op::GetAddrInfo),
            EngineError::Group { .. } => Some(Op::SetSockOpt),
            EngineError::ConnectTimeout { .. } => Some(Op::Connect),
            EngineError::PayloadTooLarge { .. }
            | EngineError::DatagramSize { .. }
            | EngineError::UdpFileTooLarge { .. } => Some(Op::SendTo),
            EngineError::FileSend(f) => match f.step {
                "send" => Some(Op::Send),
                "sendto" => Some(Op::SendTo),
                _ => None,
            },
            _ => None,
        }
    }

    /// A plain-language sentence with a hint, for people who have never seen `ECONNREFUSED`.
    /// The window and the command line both use it, so they word things the same way.
    pub fn plain_sentence(&self) -> String {
        match self {
            EngineError::Io {
                op, target, class, ..
            } => explain_class(*op, target, *class, &self.to_string()),
            EngineError::Resolve { host, message } => format!(
                "The name \"{}\" could not be turned into an address ({message}). Check the spelling, or type an IP address such as 127.0.0.1.",
                shortened(host)
            ),
            EngineError::ConnectTimeout { addr, timeout_ms } => format!(
                "Nobody answered at {addr} within {:.1} s. The machine may be off, or a firewall may be dropping the connection quietly.",
                *timeout_ms as f64 / 1000.0
            ),
            EngineError::PayloadTooLarge {
                len, limit, family, ..
            } => format!(
                "That message is {len} bytes, but one UDP datagram over {family} can carry at most {limit} bytes. Send it in smaller pieces, or use TCP, which is a stream and has no such limit."
            ),
            EngineError::FileSend(f) => file_sentence(f),
            EngineError::Tls(failure) => failure.plain_sentence(),
            EngineError::TlsFile { role, path, reason } => {
                let mut name = role.name().to_owned();
                if let Some(first) = name.get_mut(0..1) {
                    first.make_ascii_uppercase();
                }
                format!(
                    "{name} {path} cannot be used: {reason}. TLS needs PEM files (text that starts with -----BEGIN ...)."
                )
            }
            EngineError::TlsSetup { message, .. } => {
                format!("TLS cannot be set up: {message}.")
            }
            EngineError::Group {
                action,
                group,
                class,
                os_code,
                message,
            } => super::multicast::group_sentence(*action, group, *class, *os_code, message),
            EngineError::BadGroup { group, why } => {
                format!("Multicast {group}: {why}.")
            }
            EngineError::BadInterface { why, .. } => {
                let mut s = why.clone();
                if let Some(first) = s.get_mut(0..1) {
                    first.make_ascii_uppercase();
                }
                if !s.ends_with('.') {
                    s.push('.');
                }
                s
            }
            EngineError::DatagramSize { limit, family, .. } => format!(
                "Choose a datagram size from 1 to {limit} bytes: one UDP datagram over {family} cannot carry more."
            ),
            EngineError::UdpFileTooLarge { path, len, limit } => format!(
                "The file {path} is {len} bytes; Socket Lab sends at most {limit} bytes (64 MiB) of a file over UDP, because UDP neither resends lost datagrams nor slows down for the receiver, so a file that large almost surely arrives with holes. Send it over TCP instead."
            ),
            EngineError::Capture {
                path, exists: true, ..
            } => format!(
                "The file {path} already exists, and Socket Lab does not overwrite files silently. Choose another file name, or allow overwriting."
            ),
            EngineError::Capture { path, message, .. } => format!(
                "Could not write the capture file {path} ({message}). Check that the folder exists, that you may write there, and that the disk has room."
            ),
            EngineError::Oversize {
                peer,
                framing,
                declared,
                max,
            } => {
                let size = declared.map_or_else(
                    || format!("did not end within {max} bytes"),
                    |d| format!("announced {d} bytes"),
                );
                format!(
                    "A message from {peer} {size}, more than the {max}-byte maximum of the framing {framing}, so the connection was closed (framing set to stop). Raise the maximum, or let the framing resynchronise."
                )
            }
            other => {
                let mut s = other.to_string();
                if let Some(first) = s.get_mut(0..1) {
                    first.make_ascii_uppercase();
                }
                s.push('.');
                s
            }
        }
    }
}

/// The sentence for a failed file send: what went wrong with the file, or with the connection
/// after part of it had gone out.
fn file_sentence(f: &FileSendError) -> String {
    let FileSendError {
        step,
        path,
        to,
        sent,
        class,
        message,
    } = f;
    match (*step, class) {
        ("open", ErrorClass::NotFound) => format!(
            "The file {path} does not exist, so nothing was sent to {to}. Check the path, or pick the file with Send file…."
        ),
        ("open", ErrorClass::PermissionDenied) => format!(
            "You may not read the file {path} (permission denied), so nothing was sent to {to}."
        ),
        ("open", _) => format!("The file {path} cannot be sent to {to}: {message}."),
        ("read", _) => format!(
            "Reading the file {path} failed after {sent} bytes had gone to {to}: {message}. The rest was not sent."
        ),
        (_, ErrorClass::BrokenPipe | ErrorClass::Reset) => format!(
            "{to} went away while the file {path} was being sent: {sent} bytes had gone out, the rest was not sent ({message})."
        ),
        _ => format!(
            "Sending the file {path} to {to} stopped after {sent} bytes: {step} failed ({message})."
        ),
    }
}

fn explain_class(op: Op, target: &str, class: ErrorClass, raw: &str) -> String {
    match class {
        ErrorClass::Refused if op == Op::Connect => format!(
            "Connection refused: nothing is listening on {target}. Start a server there first, or check the port."
        ),
        ErrorClass::Refused => format!(
            "Refused: nothing is listening on {target} (the other machine answered \"port unreachable\")."
        ),
        ErrorClass::TimedOut => {
            format!("{op} to {target} timed out: nobody answered in time.")
        }
        ErrorClass::AddrInUse => format!(
            "Address already in use: another program (or another tab) already holds {target}. Stop it, or pick another port — port 0 lets the system choose a free one."
        ),
        ErrorClass::AddrNotAvailable => format!(
            "The address {target} does not belong to this machine, so it cannot be used here. Use 127.0.0.1, or 0.0.0.0 for every interface."
        ),
        ErrorClass::PermissionDenied if op == Op::Bind => {
            let first_free = first_unprivileged_port();
            format!(
                "Permission denied for {target}: ports below {first_free} need administrator rights. Use a port of {first_free} or above (for example 8080)."
            )
        }
        ErrorClass::PermissionDenied if op == Op::SendTo => format!(
            "Permission denied: the system refused to send to {target}. If that is a broadcast address (255.255.255.255, or the last address of a subnet such as 192.168.1.255), turn on Broadcast (SO_BROADCAST; --broadcast on the command line); otherwise a firewall rule forbids it."
        ),
        ErrorClass::PermissionDenied => {
            format!("Permission denied: the system did not allow {op} on {target}.")
        }
        ErrorClass::Reset => format!(
            "Connection reset by peer: {target} ended the connection abruptly (it sent a TCP reset)."
        ),
        ErrorClass::BrokenPipe => {
            format!("The peer {target} has closed the connection, so the data could not be sent.")
        }
        ErrorClass::Unreachable => {
            format!("No route to {target}: the network or host cannot be reached from here.")
        }
        ErrorClass::NotFound => format!("The name {target} could not be found."),
        ErrorClass::InvalidInput | ErrorClass::Other => format!("{raw}."),
    }
}

/// Longest typed text quoted whole in a sentence; a longer one (a pasted 300-character name) is
/// quoted by its start and its length, so the sentence stays readable next to the field.
const QUOTED_MAX_CHARS: usize = 60;

fn shortened(text: &str) -> String {
    let count = text.chars().count();
    if count <= QUOTED_MAX_CHARS {
        return text.to_owned();
    }
    let start: String = text.chars().take(QUOTED_MAX_CHARS - 20).collect();
    format!("{start}… ({count} characters)")
}

/// Why a file could not be opened, read or written, in plain words ("it does not exist"): the one
/// wording for every file the user names (capture, `--file`, saved messages, log export).
pub fn file_reason(err: &io::Error) -> String {
    match err.kind() {
        io::ErrorKind::NotFound => "it does not exist".to_owned(),
        io::ErrorKind::PermissionDenied => {
            "this user is not allowed to open it (permission denied)".to_owned()
        }
        io::ErrorKind::IsADirectory => "it is a folder, not a file".to_owned(),
        io::ErrorKind::StorageFull => "the disk is full".to_owned(),
        _ => {
            // Keep the system's words, without the "(os error N)" only programmers read.
            let text = err.to_string();
            let text = text.split(" (os error").next().unwrap_or(&text).to_owned();
            text.to_lowercase()
        }
    }
}

/// Sorts an `io::Error` into an [`ErrorClass`].
pub fn classify(err: &io::Error) -> ErrorClass {
    use io::ErrorKind as K;
    match err.kind() {
        K::ConnectionRefused => ErrorClass::Refused,
        K::TimedOut | K::WouldBlock => ErrorClass::TimedOut,
        K::AddrInUse => ErrorClass::AddrInUse,
        K::AddrNotAvailable => ErrorClass::AddrNotAvailable,
        K::PermissionDenied => ErrorClass::PermissionDenied,
        K::ConnectionReset | K::ConnectionAborted => ErrorClass::Reset,
        K::BrokenPipe => ErrorClass::BrokenPipe,
        K::HostUnreachable | K::NetworkUnreachable | K::NetworkDown => ErrorClass::Unreachable,
        K::NotFound => ErrorClass::NotFound,
        K::InvalidInput => ErrorClass::InvalidInput,
        _ => ErrorClass::Other,
    }
}

/// The lowest port a normal user may bind: Linux makes it a setting
/// (`net.ipv4.ip_unprivileged_port_start`), elsewhere it is 1024.
fn first_unprivileged_port() -> u16 {
    #[cfg(target_os = "linux")]
    if let Some(port) = std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
        .ok()
        .and_then(|s| s.trim().parse::<u16>().ok())
        .filter(|&p| p > 0)
    {
        return port;
    }
    1024
}
