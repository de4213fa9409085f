//! Name resolution: host names and literals to socket addresses, as `getaddrinfo` answers.

use std::net::{SocketAddr, ToSocketAddrs};

use super::error::EngineError;

/// Longest host name the DNS allows (RFC 1035), checked before asking the resolver.
const MAX_HOST_LEN: usize = 253;

/// Removes the brackets people type around IPv6 literals (`[::1]`), and surrounding spaces.
/// An unbalanced bracket is an error rather than a guess.
pub fn normalize_host(host: &str) -> Result<&str, EngineError> {
    let trimmed = host.trim();
    let bad = |why: &str| EngineError::Resolve {
        host: host.to_owned(),
        message: why.to_owned(),
    };
    if trimmed.is_empty() {
        return Err(bad("no host given"));
    }
    let inner = match (trimmed.strip_prefix('['), trimmed.ends_with(']')) {
        (Some(rest), true) => rest.trim_end_matches(']'),
        (Some(_), false) => return Err(bad("the '[' has no matching ']'")),
        (None, true) => return Err(bad("the ']' has no matching '['")),
        (None, false) => trimmed,
    };
    if inner.is_empty() {
        return Err(bad("no host given"));
    }
    if inner.len() > MAX_HOST_LEN {
        return Err(bad("a host name has at most 253 characters"));
    }
    if looks_like_ipv4(inner) && inner.parse::<std::net::Ipv4Addr>().is_err() {
        // The resolver would answer "not known" after a lookup; the typo is in the number.
        return Err(bad(
            "an IPv4 address is four numbers from 0 to 255, such as 192.168.1.20",
        ));
    }
    Ok(inner)
}

/// Parses an address to listen on: an IP literal of this machine (brackets allowed for IPv6).
/// The error is the sentence the window shows next to its field and the command line prints.
pub fn parse_bind_address(text: &str) -> Result<std::net::IpAddr, String> {
    normalize_host(text)
        .ok()
        .and_then(|h| h.parse().ok())
        .ok_or_else(|| {
            format!(
                "\"{}\" is not an IP address to listen on: use 127.0.0.1 (this machine only), 0.0.0.0 (every IPv4 interface), ::1 or :: (every interface).",
                text.trim()
            )
        })
}

/// Four dot-separated runs of digits: meant as an IPv4 address, never as a name.
fn looks_like_ipv4(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The resolver's answer for a name it could not turn into addresses, without the wrapper text
/// of the standard library ("failed to lookup address information: ...").
fn resolver_reason(error: &std::io::Error) -> String {
    let text = error.to_string();
    let detail = text
        .strip_prefix("failed to lookup address information: ")
        .unwrap_or(&text);
    format!("the resolver answered: {detail}")
}

/// Resolves `host` (a name, or an IPv4/IPv6 literal) with the system resolver (`getaddrinfo`),
/// returning every address in the order the system prefers, without duplicates.
pub fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, EngineError> {
    let name = normalize_host(host)?;
    let found = (name, port)
        .to_socket_addrs()
        .map_err(|e| EngineError::Resolve {
            host: name.to_owned(),
            message: resolver_reason(&e),
        })?;
    let mut out: Vec<SocketAddr> = Vec::new();
    for addr in found {
        if !out.contains(&addr) {
            out.push(addr);
        }
    }
    if out.is_empty() {
        return Err(EngineError::Resolve {
            host: name.to_owned(),
            message: "the name has no addresses".to_owned(),
        });
    }
    Ok(out)
}

/// `AI_CANONNAME`: ask `getaddrinfo` for the canonical name. The value is 2 on Linux, the BSDs,
/// macOS and Windows alike.
const AI_CANONNAME: i32 = 0x0002;

/// Address family of a lookup result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4 (`AF_INET`).
    Inet,
    /// IPv6 (`AF_INET6`).
    Inet6,
}

impl Family {
    /// The C name (`AF_INET`, `AF_INET6`).
    pub fn name(self) -> &'static str {
        match self {
            Family::Inet => "AF_INET",
            Family::Inet6 => "AF_INET6",
        }
    }
}

/// Socket type of a lookup result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SocketKind {
    /// A byte stream (`SOCK_STREAM`): TCP.
    Stream,
    /// Datagrams (`SOCK_DGRAM`): UDP.
    Datagram,
    /// Raw IP (`SOCK_RAW`).
    Raw,
    /// Anything else, by number.
    Other(i32),
}

impl SocketKind {
    fn from_raw(raw: i32) -> Self {
        use dns_lookup::SockType;
        if SockType::Stream == raw {
            SocketKind::Stream
        } else if SockType::DGram == raw {
            SocketKind::Datagram
        } else if SockType::Raw == raw {
            SocketKind::Raw
        } else {
            SocketKind::Other(raw)
        }
    }

    fn to_raw(self) -> i32 {
        use dns_lookup::SockType;
        match self {
            SocketKind::Stream => SockType::Stream.into(),
            SocketKind::Datagram => SockType::DGram.into(),
            SocketKind::Raw => SockType::Raw.into(),
            SocketKind::Other(raw) => raw,
        }
    }

    /// The C name (`SOCK_STREAM`, `SOCK_DGRAM`, ...).
    pub fn name(self) -> String {
        match self {
            SocketKind::Stream => "SOCK_STREAM".to_owned(),
            SocketKind::Datagram => "SOCK_DGRAM".to_owned(),
            SocketKind::Raw => "SOCK_RAW".to_owned(),
            SocketKind::Other(n) => format!("type {n}"),
        }
    }
}

/// Transport protocol of a lookup result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportProtocol {
    /// TCP (`IPPROTO_TCP`).
    Tcp,
    /// UDP (`IPPROTO_UDP`).
    Udp,
    /// Not given (0), or another protocol by number.
    Other(i32),
}

impl TransportProtocol {
    fn from_raw(raw: i32) -> Self {
        use dns_lookup::Protocol;
        if Protocol::TCP == raw {
            TransportProtocol::Tcp
        } else if Protocol::UDP == raw {
            TransportProtocol::Udp
        } else {
            TransportProtocol::Other(raw)
        }
    }

    /// The C name (`IPPROTO_TCP`, `IPPROTO_UDP`), or the number.
    pub fn name(self) -> String {
        match self {
            TransportProtocol::Tcp => "IPPROTO_TCP".to_owned(),
            TransportProtocol::Udp => "IPPROTO_UDP".to_owned(),
            TransportProtocol::Other(n) => format!("protocol {n}"),
        }
    }
}

/// One row of a `getaddrinfo` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrInfoRow {
    /// Address family.
    pub family: Family,
    /// Socket type the address is meant for.
    pub kind: SocketKind,
    /// Transport protocol.
    pub protocol: TransportProtocol,
    /// The address, with the port asked for (0 when none was).
    pub addr: SocketAddr,
    /// The canonical name; the system gives it on the first row only.
    pub canonical_name: Option<String>,
}

/// Every row `getaddrinfo` returns for `host`, in the system's order, with `port` in each address;
/// `kind` limits the rows to one socket type (the `ai_socktype` hint). The canonical name is asked
/// for (`AI_CANONNAME`).
pub fn addr_info(
    host: &str,
    port: u16,
    kind: Option<SocketKind>,
) -> Result<Vec<AddrInfoRow>, EngineError> {
    let name = normalize_host(host)?;
    let hints = dns_lookup::AddrInfoHints {
        flags: AI_CANONNAME,
        socktype: kind.map_or(0, SocketKind::to_raw),
        ..dns_lookup::AddrInfoHints::default()
    };
    let failed = |message: String| EngineError::Resolve {
        host: name.to_owned(),
        message,
    };
    let service = port.to_string();
    let answers = dns_lookup::getaddrinfo(Some(name), Some(&service), Some(hints))
        .map_err(|e| failed(resolver_reason(&std::io::Error::from(e))))?;
    let mut rows = Vec::new();
    for answer in answers {
        let answer = answer.map_err(|e| failed(e.to_string()))?;
        rows.push(AddrInfoRow {
            family: if answer.sockaddr.is_ipv4() {
                Family::Inet
            } else {
                Family::Inet6
            },
            kind: SocketKind::from_raw(answer.socktype),
            protocol: TransportProtocol::from_raw(answer.protocol),
            addr: answer.sockaddr,
            canonical_name: answer.canonname,
        });
    }
    if rows.is_empty() {
        return Err(failed("the name has no addresses".to_owned()));
    }
    Ok(rows)
}

/// What `getnameinfo` says about an address and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameInfo {
    /// The host name, or `None` when the system knows no name for the address (it then answers
    /// with the address itself).
    pub host: Option<String>,
    /// The service name of the port (for TCP), or `None` when it has none.
    pub service: Option<String>,
}

/// Reverse lookup: the name of `addr`'s IP address and of its port (`getnameinfo`).
pub fn name_info(addr: SocketAddr) -> Result<NameInfo, EngineError> {
    // Flags 0: a missing name comes back as the numeric form rather than an error, so "no name"
    // can be told apart from a failing resolver without platform-specific flag values.
    let (host, service) = dns_lookup::getnameinfo(&addr, 0).map_err(|e| {
        let e = std::io::Error::from(e);
        EngineError::io(super::error::Op::GetNameInfo, addr, &e)
    })?;
    let numeric_host = host
        .split('%')
        .next()
        .and_then(|h| h.parse::<std::net::IpAddr>().ok())
        .is_some();
    Ok(NameInfo {
        host: (!numeric_host && !host.is_empty()).then_some(host),
        service: (service.parse::<u16>().is_err() && !service.is_empty()).then_some(service),
    })
}
