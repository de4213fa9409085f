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
    Ok(inner)
}

/// Resolves `host` (a name, or an IPv4/IPv6 literal) with the system resolver (`getaddrinfo`),
/// returning every address in the order the system prefers, without duplicates.
pub fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, EngineError> {
    let name = normalize_host(host)?;
    let found = (name, port)
        .to_socket_addrs()
        .map_err(|e| EngineError::Resolve {
            host: name.to_owned(),
            message: e.to_string(),
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
