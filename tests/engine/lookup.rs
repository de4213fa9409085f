//! The engine's lookup functions against the system resolver, with loopback names and literals
//! only: results are compared with what `std::net::ToSocketAddrs` gets from the same resolver.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly; that is its job

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

use socketlab::engine::lookup::{
    Family, SocketKind, TransportProtocol, addr_info, name_info, normalize_host,
};

#[test]
fn addr_info_gives_every_address_the_resolver_gives() {
    let rows = addr_info("localhost", 80, Some(SocketKind::Stream)).unwrap();
    let mut expected: Vec<SocketAddr> = ("localhost", 80).to_socket_addrs().unwrap().collect();
    let mut got: Vec<SocketAddr> = rows.iter().map(|r| r.addr).collect();
    expected.sort();
    expected.dedup();
    got.sort();
    got.dedup();
    assert_eq!(got, expected);
    for row in &rows {
        assert_eq!(row.kind, SocketKind::Stream);
        assert_eq!(row.protocol, TransportProtocol::Tcp);
        assert_eq!(row.family == Family::Inet, row.addr.is_ipv4());
    }
    // The canonical name was asked for, and comes on the first row.
    assert!(rows[0].canonical_name.is_some(), "{rows:?}");
}

#[test]
fn addr_info_takes_literals_and_socket_types() {
    let v6 = addr_info("[::1]", 53, Some(SocketKind::Datagram)).unwrap();
    assert_eq!(v6.len(), 1, "{v6:?}");
    assert_eq!(v6[0].family, Family::Inet6);
    assert_eq!(v6[0].protocol, TransportProtocol::Udp);
    assert_eq!(v6[0].addr, SocketAddr::new(Ipv6Addr::LOCALHOST.into(), 53));

    // No hint: one row per socket type the system offers, all for the same address.
    let any = addr_info("127.0.0.1", 0, None).unwrap();
    assert!(any.iter().any(|r| r.kind == SocketKind::Stream));
    assert!(any.iter().any(|r| r.kind == SocketKind::Datagram));
    assert!(
        any.iter()
            .all(|r| r.addr.ip() == IpAddr::V4(Ipv4Addr::LOCALHOST))
    );
}

#[test]
fn addr_info_refuses_an_empty_or_unbalanced_host() {
    assert!(addr_info("", 80, None).is_err());
    assert!(addr_info("[::1", 80, None).is_err());
    assert!(normalize_host("  ").is_err());
}

#[test]
fn name_info_names_loopback_and_its_service() {
    let info = name_info(SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 80)).unwrap();
    // What /etc/hosts (or its equivalent) calls 127.0.0.1 varies; it has some name.
    assert!(
        info.host.as_deref().is_some_and(|h| !h.is_empty()),
        "{info:?}"
    );
    // getnameinfo names ports from the system's services file; without one it has no name.
    let system_knows_http = std::fs::read_to_string("/etc/services").is_ok_and(|s| {
        s.lines()
            .any(|l| l.starts_with("http") && l.contains("80/tcp"))
    });
    if system_knows_http {
        assert_eq!(info.service.as_deref(), Some("http"));
    } else {
        assert!(
            matches!(info.service.as_deref(), None | Some("http")),
            "{info:?}"
        );
    }
    // A port with no service name comes back as no name, not as a number.
    let unnamed = name_info(SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 1)).unwrap();
    assert!(unnamed.service.as_deref() != Some("1"), "{unnamed:?}");
}
