//! The multicast options of `udp-listen` (`--join`, `--source`) and `udp-send` (`--ttl`,
//! `--interface`, `--multicast-loop`), checked before any socket is made: a group that is not
//! one, an interface this machine does not have or a source of the wrong family is bad input
//! (exit 2), said in one sentence.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use clap::ArgMatches;

use super::{Failure, OnOff, UdpListenArgs, UdpSendArgs};
use crate::engine::multicast::{self, GroupJoin, SendOptions};

/// The groups of `--join`, each `--source` given to the `--join` before it (a join with several
/// sources becomes one source-specific join per source), checked against this machine.
pub(super) fn joins(
    args: &UdpListenArgs,
    matches: Option<&ArgMatches>,
) -> Result<Vec<GroupJoin>, Failure> {
    if args.join.is_empty() {
        return Ok(Vec::new());
    }
    let join_at: Vec<usize> = matches
        .and_then(|m| m.indices_of("join"))
        .map(Iterator::collect)
        .unwrap_or_default();
    let source_at: Vec<usize> = matches
        .and_then(|m| m.indices_of("source"))
        .map(Iterator::collect)
        .unwrap_or_default();
    let mut groups: Vec<(GroupJoin, Vec<&str>)> = Vec::new();
    for text in &args.join {
        let join =
            GroupJoin::parse(text).map_err(|e| Failure::usage(format!("--join {text}: {e}")))?;
        groups.push((join, Vec::new()));
    }
    for (n, source) in args.source.iter().enumerate() {
        let at = source_at.get(n).copied().unwrap_or(usize::MAX);
        // The last --join given before this --source (the first one when the positions are not
        // known, as for a programmatic call).
        let owner = join_at.iter().rposition(|&j| j < at);
        let owner = match (owner, join_at.is_empty()) {
            (Some(i), _) => i,
            (None, true) => 0,
            (None, false) => {
                return Err(Failure::usage(format!(
                    "--source {source} comes before any --join: write it after the group it is for (--join 232.1.2.3 --source {source})."
                )));
            }
        };
        if let Some((_, sources)) = groups.get_mut(owner) {
            sources.push(source);
        }
    }
    let interfaces = interface_list(args.join.iter().any(|j| j.contains('@')))?;
    let mut out = Vec::new();
    for (join, sources) in groups {
        let each: Vec<GroupJoin> = if sources.is_empty() {
            vec![join]
        } else {
            sources
                .iter()
                .map(|s| {
                    join.clone()
                        .with_source(s)
                        .map_err(|e| Failure::usage(format!("--source {s}: {e}")))
                })
                .collect::<Result<_, _>>()?
        };
        for j in each {
            j.resolve(&interfaces)
                .map_err(|e| Failure::usage(format!("--join {j}: {}", e.plain_sentence())))?;
            if !out.contains(&j) {
                out.push(j);
            }
        }
    }
    Ok(out)
}

fn interface_list(needed: bool) -> Result<Vec<multicast::NetInterface>, Failure> {
    if !needed {
        return Ok(Vec::new());
    }
    multicast::interfaces().map_err(|e| {
        Failure::network(format!(
            "The list of this machine's network interfaces could not be read ({e})."
        ))
    })
}

/// The address to bind with groups: the wildcard of the groups' family unless `--bind` was
/// given (a specific address is allowed, and the silence explanation says what it costs).
pub(super) fn bind_for_groups(
    bind: IpAddr,
    given: bool,
    groups: &[GroupJoin],
) -> Result<IpAddr, Failure> {
    let Some(first) = groups.first() else {
        return Ok(bind);
    };
    let v4 = first.group.is_ipv4();
    if let Some(other) = groups.iter().find(|g| g.group.is_ipv4() != v4) {
        return Err(Failure::usage(format!(
            "--join {} and --join {} are of different families (IPv4 and IPv6): one socket joins groups of one family. Run one udp-listen for each.",
            first.group, other.group
        )));
    }
    if !given {
        return Ok(if v4 {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        } else {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        });
    }
    if bind.is_ipv4() != v4 {
        return Err(Failure::usage(format!(
            "--bind {bind} is an {} address, but --join {} is an {} group: bind to {} to join it.",
            if bind.is_ipv4() { "IPv4" } else { "IPv6" },
            first.group,
            if v4 { "IPv4" } else { "IPv6" },
            if v4 { "0.0.0.0" } else { "::" }
        )));
    }
    Ok(bind)
}

/// `--ttl`, `--interface` and `--multicast-loop` of `udp-send`, checked: the interface must exist,
/// and multicast loopback needs a group target (when the host is an address).
pub(super) fn send_options(args: &UdpSendArgs, host: &str) -> Result<SendOptions, Failure> {
    let literal: Option<IpAddr> = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok();
    if let (Some(ip), Some(_)) = (literal, args.multicast_loop)
        && !ip.is_multicast()
    {
        return Err(Failure::usage(format!(
            "--multicast-loop applies to datagrams sent to a group, and {ip} is not one (groups are 224.0.0.0 to 239.255.255.255, or ff00::/8)."
        )));
    }
    if let Some(name) = &args.interface {
        let list = interface_list(true)?;
        let found = multicast::find_interface(&list, name)
            .map_err(|e| Failure::usage(format!("--interface {name}: {e}")))?;
        if let Some(ip) = literal
            && !found.has_family_of(ip)
            && !(ip.is_ipv6() && ip.is_multicast())
        {
            return Err(Failure::usage(format!(
                "--interface {name}: the interface {} has no {} address, so datagrams to {ip} cannot leave through it.",
                found.name,
                if ip.is_ipv4() { "IPv4" } else { "IPv6" }
            )));
        }
    }
    Ok(SendOptions {
        ttl: args.ttl,
        interface: args.interface.clone(),
        loopback: args.multicast_loop.map(|o| o == OnOff::On),
    })
}
