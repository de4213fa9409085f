//! Socket options and the helpers that set them, each reported as a `setsockopt` call.

use std::net::SocketAddr;

use socket2::{Domain, Socket, Type};

use super::error::{EngineError, Op};
use super::event::ConnId;
use super::session::EventSink;

/// Options of a TCP socket, applied before `connect` (client) or right after `accept` (server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpOptions {
    /// `TCP_NODELAY`: send small writes at once instead of waiting to combine them (Nagle).
    pub nodelay: bool,
    /// `SO_KEEPALIVE`: probe an idle connection so a vanished peer is noticed eventually.
    pub keepalive: bool,
    /// `SO_RCVBUF` in bytes; `None` leaves the system's choice.
    pub recv_buffer: Option<usize>,
    /// `SO_SNDBUF` in bytes; `None` leaves the system's choice.
    pub send_buffer: Option<usize>,
}

impl Default for TcpOptions {
    fn default() -> Self {
        TcpOptions {
            nodelay: true,
            keepalive: false,
            recv_buffer: None,
            send_buffer: None,
        }
    }
}

/// The address family name as the C API spells it.
pub(crate) fn family_name(addr: &SocketAddr) -> &'static str {
    if addr.is_ipv4() {
        "AF_INET"
    } else {
        "AF_INET6"
    }
}

/// Creates a socket for `addr`'s family and reports `socket(...)`.
pub(crate) fn new_socket(
    sink: &EventSink,
    conn: Option<ConnId>,
    addr: &SocketAddr,
    ty: Type,
) -> Result<Socket, EngineError> {
    let type_name = if ty == Type::STREAM {
        "SOCK_STREAM"
    } else {
        "SOCK_DGRAM"
    };
    sink.before(Op::Socket, format!("{}, {type_name}", family_name(addr)))?;
    sink.report(
        conn,
        Op::Socket,
        format!("{}, {type_name}", family_name(addr)),
        addr,
        Socket::new(Domain::for_address(*addr), ty, None),
        |_| "new socket".to_owned(),
    )
}

/// Sets one option and reports it. A failure is reported and returned.
pub(crate) fn set_option(
    sink: &EventSink,
    conn: Option<ConnId>,
    target: &SocketAddr,
    name: &str,
    value: impl std::fmt::Display,
    result: std::io::Result<()>,
) -> Result<(), EngineError> {
    sink.report(
        conn,
        Op::SetSockOpt,
        format!("{name}, {value}"),
        target,
        result,
        |()| String::new(),
    )
}

/// Applies TCP options to `socket`, reporting each call; buffer sizes are read back because the
/// system may round or double them.
pub(crate) fn apply_tcp_options(
    sink: &EventSink,
    conn: Option<ConnId>,
    socket: &Socket,
    target: &SocketAddr,
    options: &TcpOptions,
) -> Result<(), EngineError> {
    set_option(
        sink,
        conn,
        target,
        "TCP_NODELAY",
        u8::from(options.nodelay),
        socket.set_tcp_nodelay(options.nodelay),
    )?;
    if options.keepalive {
        set_option(
            sink,
            conn,
            target,
            "SO_KEEPALIVE",
            1,
            socket.set_keepalive(true),
        )?;
    }
    apply_buffer_sizes(
        sink,
        conn,
        socket,
        target,
        options.recv_buffer,
        options.send_buffer,
    )
}

/// Sets `SO_RCVBUF` / `SO_SNDBUF` when asked and reports the size the system really granted.
pub(crate) fn apply_buffer_sizes(
    sink: &EventSink,
    conn: Option<ConnId>,
    socket: &Socket,
    target: &SocketAddr,
    recv: Option<usize>,
    send: Option<usize>,
) -> Result<(), EngineError> {
    if let Some(size) = recv {
        set_option(
            sink,
            conn,
            target,
            "SO_RCVBUF",
            size,
            socket.set_recv_buffer_size(size),
        )?;
        let _ = sink.report(
            conn,
            Op::GetSockOpt,
            "SO_RCVBUF",
            target,
            socket.recv_buffer_size(),
            |granted| format!("{granted} bytes granted"),
        );
    }
    if let Some(size) = send {
        set_option(
            sink,
            conn,
            target,
            "SO_SNDBUF",
            size,
            socket.set_send_buffer_size(size),
        )?;
        let _ = sink.report(
            conn,
            Op::GetSockOpt,
            "SO_SNDBUF",
            target,
            socket.send_buffer_size(),
            |granted| format!("{granted} bytes granted"),
        );
    }
    Ok(())
}

/// Binds `socket` to `addr` and reports it.
pub(crate) fn bind(
    sink: &EventSink,
    socket: &Socket,
    addr: &SocketAddr,
) -> Result<(), EngineError> {
    sink.before(Op::Bind, addr.to_string())?;
    sink.report(
        None,
        Op::Bind,
        addr.to_string(),
        addr,
        socket.bind(&(*addr).into()),
        |()| String::new(),
    )
}

/// Reads the socket's own address (`getsockname`) and reports it.
pub(crate) fn local_address(
    sink: &EventSink,
    conn: Option<ConnId>,
    socket: &Socket,
    target: &SocketAddr,
) -> Result<SocketAddr, EngineError> {
    let result = socket.local_addr().and_then(|a| {
        a.as_socket().ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, "not an IP address")
        })
    });
    sink.report(
        conn,
        Op::GetSockName,
        "",
        target,
        result,
        ToString::to_string,
    )
}

/// Reads the connected peer's address (`getpeername`) and reports it.
pub(crate) fn peer_address(
    sink: &EventSink,
    conn: Option<ConnId>,
    socket: &Socket,
    target: &SocketAddr,
) -> Result<SocketAddr, EngineError> {
    let result = socket.peer_addr().and_then(|a| {
        a.as_socket().ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, "not an IP address")
        })
    });
    sink.report(
        conn,
        Op::GetPeerName,
        "",
        target,
        result,
        ToString::to_string,
    )
}

/// Where to send a wake-up connection or datagram so that a thread blocked on `local` returns:
/// an unspecified address (`0.0.0.0`, `::`) is reached through loopback.
pub(crate) fn self_address(local: SocketAddr) -> SocketAddr {
    let mut target = local;
    if local.ip().is_unspecified() {
        target.set_ip(if local.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    target
}
