//! `socketlab lookup`: what the system resolver says about a name, an address or a service,
//! through the same engine functions the window's Lookup tab uses.

use std::net::{IpAddr, SocketAddr};

use serde_json::json;

use super::{Failure, LookupArgs, host};
use crate::engine::lookup::{AddrInfoRow, SocketKind, addr_info, name_info};
use crate::engine::services::{self, PortSpec, PortUse, Protocol, ServiceSource, parse_port};

/// Runs `lookup NAME [SERVICE] [--reverse]`.
pub(crate) fn run(args: &LookupArgs) -> Result<(), Failure> {
    let name = host(&args.name)?;
    let service = args.service.as_deref().map(service_ports).transpose()?;
    if args.reverse {
        reverse(args, &name, service.as_ref())
    } else {
        forward(args, &name, service.as_ref())
    }
}

/// A service's port over TCP and over UDP (either may be unknown).
struct ServicePorts {
    text: String,
    tcp: Option<PortSpec>,
    udp: Option<PortSpec>,
}

fn service_ports(text: &str) -> Result<ServicePorts, Failure> {
    let tcp = parse_port(text, Protocol::Tcp, PortUse::Bind);
    let udp = parse_port(text, Protocol::Udp, PortUse::Bind);
    match (tcp, udp) {
        (Err(e), Err(_)) => Err(Failure::usage(e.to_string())),
        (tcp, udp) => Ok(ServicePorts {
            text: text.trim().to_owned(),
            tcp: tcp.ok(),
            udp: udp.ok(),
        }),
    }
}

fn source_words() -> &'static str {
    match services::system().source() {
        ServiceSource::System => "from the system's services file",
        ServiceSource::BuiltIn => "from Socket Lab's built-in table",
    }
}

fn describe_service(s: &ServicePorts) -> String {
    let one = |spec: &Option<PortSpec>, proto: &str| match spec {
        Some(p) => format!("{}/{proto}", p.port),
        None => format!("none over {proto}"),
    };
    // A number gets its service name alongside; a name is shown as typed.
    let known_name = [&s.tcp, &s.udp]
        .into_iter()
        .flatten()
        .find(|p| !p.from_name)
        .map(|p| p.service.as_deref().unwrap_or("no service name"));
    let label = match known_name {
        Some(name) => format!("{} ({name})", s.text),
        None => s.text.clone(),
    };
    format!(
        "service {label}: port {}, {} ({})",
        one(&s.tcp, "tcp"),
        one(&s.udp, "udp"),
        source_words()
    )
}

fn forward(args: &LookupArgs, name: &str, service: Option<&ServicePorts>) -> Result<(), Failure> {
    // One getaddrinfo per transport when a service is given, so each row carries the port that
    // service really has over that transport.
    let queries: Vec<(Option<SocketKind>, Option<u16>)> = match service {
        Some(s) => [
            (SocketKind::Stream, s.tcp.as_ref()),
            (SocketKind::Datagram, s.udp.as_ref()),
        ]
        .into_iter()
        .filter_map(|(kind, spec)| spec.map(|p| (Some(kind), Some(p.port))))
        .collect(),
        None => vec![(None, None)],
    };
    if let Some(s) = service
        && !args.json
    {
        println!("{}", describe_service(s));
    }
    for (kind, port) in queries {
        let rows = addr_info(name, port.unwrap_or(0), kind)
            .map_err(|e| Failure::network(e.plain_sentence()))?;
        if args.json {
            for row in &rows {
                println!("{}", row_json(name, row, port.is_some()));
            }
            continue;
        }
        let hint = kind.map_or_else(String::new, |k| format!(", {}", k.name()));
        let service_arg = port.map_or_else(|| "NULL".to_owned(), |p| format!("\"{p}\""));
        println!(
            "getaddrinfo(\"{name}\", {service_arg}{hint}) → {} result{}",
            rows.len(),
            if rows.len() == 1 { "" } else { "s" }
        );
        for row in &rows {
            let address = if port.is_some() {
                row.addr.to_string()
            } else {
                row.addr.ip().to_string()
            };
            println!(
                "  {:<9} {:<12} {:<12} {address}",
                row.family.name(),
                row.kind.name(),
                row.protocol.name()
            );
        }
        if let Some(canonical) = rows.iter().find_map(|r| r.canonical_name.as_deref()) {
            println!("  canonical name: {canonical}");
        }
    }
    Ok(())
}

fn row_json(name: &str, row: &AddrInfoRow, with_port: bool) -> serde_json::Value {
    json!({
        "lookup": "getaddrinfo",
        "name": name,
        "family": row.family.name(),
        "type": row.kind.name(),
        "protocol": row.protocol.name(),
        "ip": row.addr.ip().to_string(),
        "port": with_port.then_some(row.addr.port()),
        "address": row.addr.to_string(),
        "canonical_name": row.canonical_name,
    })
}

fn reverse(args: &LookupArgs, name: &str, service: Option<&ServicePorts>) -> Result<(), Failure> {
    let ip: IpAddr = name.parse().map_err(|_| {
        Failure::usage(format!(
            "--reverse needs an IP address such as 127.0.0.1 or ::1; \"{name}\" is not one (leave out --reverse to look up a name)."
        ))
    })?;
    let port = service
        .and_then(|s| s.tcp.as_ref().or(s.udp.as_ref()))
        .map_or(0, |p| p.port);
    let addr = SocketAddr::new(ip, port);
    let info = name_info(addr).map_err(|e| Failure::network(e.plain_sentence()))?;
    let db = services::system();
    let tcp_name = db.name(port, Protocol::Tcp);
    let udp_name = db.name(port, Protocol::Udp);
    if args.json {
        println!(
            "{}",
            json!({
                "lookup": "getnameinfo",
                "address": addr.to_string(),
                "host": info.host,
                "service": info.service,
                "tcp_service": tcp_name,
                "udp_service": udp_name,
            })
        );
    } else {
        println!(
            "getnameinfo({addr}) → host {}, service {}",
            info.host
                .as_deref()
                .map_or_else(|| "(no name)".to_owned(), |h| format!("\"{h}\"")),
            info.service
                .as_deref()
                .map_or_else(|| "(no name)".to_owned(), |s| format!("\"{s}\"")),
        );
        if service.is_some() {
            let or_none = |n: Option<&str>| n.unwrap_or("no service name").to_owned();
            println!(
                "port {port}: {} over tcp, {} over udp ({})",
                or_none(tcp_name),
                or_none(udp_name),
                source_words()
            );
        }
    }
    match info.host {
        Some(_) => Ok(()),
        None => Err(Failure::network(format!(
            "No name is known for {ip}: neither the hosts file nor the DNS has a name for this address."
        ))),
    }
}
