//! Multicast groups and broadcast: the machine's interfaces, joining and leaving groups on one of
//! them (source-specific where the system allows it), the sender's TTL, outgoing interface and
//! loopback, what each received datagram was addressed to, and the plain-language reasons a group
//! session may be hearing nothing.
//!
//! A UDP server joins the groups of [`crate::engine::UdpServerConfig::groups`] right after `bind`
//! and more (or fewer) later with [`crate::engine::UdpCommand::Join`] / `Leave`; each join is a
//! `setsockopt` in the transcript and a [`MulticastEvent::Joined`] for the view. When a session
//! with groups receives nothing for [`crate::engine::UdpServerConfig::silence_after`], it sends
//! one [`MulticastEvent::Silence`] with the causes it found (checked on this machine) and the
//! ones it cannot check from here.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::Duration;

use socket2::Socket;

use super::error::{EngineError, ErrorClass, Op};
use super::options::set_option;
use super::session::EventSink;

/// How long a group session waits for a datagram before it says why one may not be arriving.
pub const DEFAULT_SILENCE: Duration = Duration::from_secs(10);

/// One address of an interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfAddress {
    /// The address.
    pub ip: IpAddr,
    /// Its prefix length (`24` for a netmask of 255.255.255.0).
    pub prefix: u8,
    /// The subnet's broadcast address (IPv4 interfaces that have one).
    pub broadcast: Option<Ipv4Addr>,
}

/// One network interface of this machine, with its addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetInterface {
    /// Its name (`lo`, `eth0`, `en0`, `Ethernet 2`).
    pub name: String,
    /// Its index, which IPv6 joins (and Linux's IPv4 joins) name it by.
    pub index: Option<u32>,
    /// Its addresses, IPv4 first.
    pub addrs: Vec<IfAddress>,
    /// True for the loopback interface.
    pub loopback: bool,
}

impl NetInterface {
    /// Its first IPv4 address: IPv4 joins and `IP_MULTICAST_IF` name an interface by one.
    pub fn ipv4(&self) -> Option<Ipv4Addr> {
        self.addrs.iter().find_map(|a| match a.ip {
            IpAddr::V4(v4) => Some(v4),
            IpAddr::V6(_) => None,
        })
    }

    /// True when it has an address of `ip`'s family.
    pub fn has_family_of(&self, ip: IpAddr) -> bool {
        self.addrs.iter().any(|a| a.ip.is_ipv4() == ip.is_ipv4())
    }

    /// `lo (127.0.0.1, ::1)`: the name and the addresses, for lists and sentences.
    pub fn label(&self) -> String {
        let addrs: Vec<String> = self.addrs.iter().map(|a| a.ip.to_string()).collect();
        if addrs.is_empty() {
            self.name.clone()
        } else {
            format!("{} ({})", self.name, addrs.join(", "))
        }
    }

    /// The interface's flags (`IFF_UP`, `IFF_MULTICAST` …) where the system gives them.
    pub fn flags(&self) -> Option<u32> {
        interface_flags(&self.name)
    }

    /// Whether the interface is up (`None`: this system does not say).
    pub fn is_up(&self) -> Option<bool> {
        self.flags().map(|f| f & IFF_UP != 0)
    }

    /// Whether the interface takes part in multicast (`None`: this system does not say).
    pub fn multicast_on(&self) -> Option<bool> {
        self.flags().map(|f| f & IFF_MULTICAST != 0)
    }
}

const IFF_UP: u32 = 0x1;
const IFF_MULTICAST: u32 = 0x1000;

/// From `getifaddrs`, which answers for the calling thread's network namespace (/sys/class/net
/// shows the namespace it was mounted in).
#[cfg(unix)]
fn interface_flags(name: &str) -> Option<u32> {
    nix::ifaddrs::getifaddrs()
        .ok()?
        .find(|a| a.interface_name == name)
        .map(|a| a.flags.bits() as u32)
}

#[cfg(not(unix))]
fn interface_flags(_name: &str) -> Option<u32> {
    None
}

/// The machine's interfaces that have at least one address, in the system's order.
pub fn interfaces() -> std::io::Result<Vec<NetInterface>> {
    let mut list: Vec<NetInterface> = Vec::new();
    for found in if_addrs::get_if_addrs()? {
        let addr = match &found.addr {
            if_addrs::IfAddr::V4(v4) => IfAddress {
                ip: IpAddr::V4(v4.ip),
                prefix: v4.prefixlen,
                broadcast: v4.broadcast,
            },
            if_addrs::IfAddr::V6(v6) => IfAddress {
                ip: IpAddr::V6(v6.ip),
                prefix: v6.prefixlen,
                broadcast: None,
            },
        };
        match list.iter_mut().find(|i| i.name == found.name) {
            Some(existing) => existing.addrs.push(addr),
            None => list.push(NetInterface {
                loopback: found.is_loopback(),
                name: found.name.clone(),
                index: found.index,
                addrs: vec![addr],
            }),
        }
    }
    for interface in &mut list {
        interface.addrs.sort_by_key(|a| a.ip.is_ipv6());
    }
    add_interfaces_without_addresses(&mut list);
    Ok(list)
}

/// Interfaces that have no address (yet) can still be joined on by index (IPv6, and IPv4 on
/// Linux): list them too, after the others.
#[cfg(unix)]
fn add_interfaces_without_addresses(list: &mut Vec<NetInterface>) {
    let Ok(all) = nix::ifaddrs::getifaddrs() else {
        return;
    };
    for entry in all {
        if list.iter().any(|i| i.name == entry.interface_name) {
            continue;
        }
        let index = nix::net::if_::if_nametoindex(entry.interface_name.as_str()).ok();
        list.push(NetInterface {
            loopback: entry
                .flags
                .contains(nix::net::if_::InterfaceFlags::IFF_LOOPBACK),
            name: entry.interface_name,
            index,
            addrs: Vec::new(),
        });
    }
}

#[cfg(not(unix))]
fn add_interfaces_without_addresses(_list: &mut Vec<NetInterface>) {}

/// The names and addresses of `list`, for a sentence that says which interfaces there are.
pub fn interface_list_text(list: &[NetInterface]) -> String {
    if list.is_empty() {
        return "none with an address".to_owned();
    }
    list.iter()
        .map(NetInterface::label)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Finds an interface by its name, or by one of its addresses. The error is the sentence for
/// the field (or the command line), naming the interfaces there are.
pub fn find_interface<'a>(
    list: &'a [NetInterface],
    text: &str,
) -> Result<&'a NetInterface, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("Type the name of an interface (for example lo or eth0).".to_owned());
    }
    if let Some(found) = list.iter().find(|i| i.name == text) {
        return Ok(found);
    }
    let by_addr = text
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .ok()
        .and_then(|ip| list.iter().find(|i| i.addrs.iter().any(|a| a.ip == ip)));
    by_addr.ok_or_else(|| {
        format!(
            "This machine has no interface called \"{}\". Its interfaces are: {}.",
            shortened(text),
            interface_list_text(list)
        )
    })
}

fn shortened(text: &str) -> String {
    if text.chars().count() <= 40 {
        text.to_owned()
    } else {
        let start: String = text.chars().take(30).collect();
        format!("{start}…")
    }
}

/// True for a multicast group address: IPv4 224.0.0.0/4, IPv6 `ff00::/8`.
pub fn is_group(ip: IpAddr) -> bool {
    ip.is_multicast()
}

/// Parses a group address (IPv6 may be in brackets). The error is the sentence for the field.
pub fn parse_group(text: &str) -> Result<IpAddr, String> {
    let text = text.trim();
    let bare = text.trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = bare.parse().map_err(|_| {
        format!(
            "\"{}\" is not a group address: write an IPv4 group from 224.0.0.0 to 239.255.255.255 (for example 239.1.2.3) or an IPv6 group that starts with ff (for example ff15::1).",
            shortened(text)
        )
    })?;
    if !is_group(ip) {
        let range = if ip.is_ipv4() {
            "IPv4 groups are 224.0.0.0 to 239.255.255.255 (239.x.x.x is for private use)"
        } else {
            "IPv6 groups start with ff (ff15::1, ff02::1234)"
        };
        return Err(format!(
            "{ip} is not a multicast group address: {range}. To receive datagrams sent to {ip} itself, no join is needed."
        ));
    }
    Ok(ip)
}

/// A group to join: the group, the interface to join it on (`None`: the system chooses by its
/// route for the group), and for a source-specific join the one sender to hear.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GroupJoin {
    /// The group address.
    pub group: IpAddr,
    /// The interface's name (or one of its addresses); `None` lets the system choose.
    pub interface: Option<String>,
    /// Hear only this sender (`IGMPv3` / `MLDv2` source-specific multicast).
    pub source: Option<IpAddr>,
}

impl GroupJoin {
    /// A join of `group` on the interface the system chooses.
    pub fn new(group: IpAddr) -> Self {
        GroupJoin {
            group,
            interface: None,
            source: None,
        }
    }

    /// Parses `GROUP[@IFACE]` (`239.1.2.3@eth0`, `ff02::1234@eth0`, `[ff15::1]@lo`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (group, interface) = match text.rsplit_once('@') {
            Some((g, i)) => (g, Some(i.trim())),
            None => (text, None),
        };
        if interface == Some("") {
            return Err(format!(
                "\"{}\" names no interface after the @: write GROUP@IFACE (for example 239.1.2.3@eth0), or leave out @ to let the system choose.",
                shortened(text)
            ));
        }
        Ok(GroupJoin {
            group: parse_group(group)?,
            interface: interface.map(ToOwned::to_owned),
            source: None,
        })
    }

    /// Sets the one sender to hear, checked against the group's family.
    pub fn with_source(mut self, text: &str) -> Result<Self, String> {
        let source = parse_source(self.group, text)?;
        self.source = Some(source);
        Ok(self)
    }

    /// Checks the join against this machine before any socket call: the interface exists (and
    /// has what the family needs), the source suits the group. The result names the interface.
    pub fn resolve(&self, interfaces: &[NetInterface]) -> Result<JoinedGroup, EngineError> {
        let bad_interface = |name: &str, why: String| EngineError::BadInterface {
            interface: name.to_owned(),
            why,
        };
        let bad_group = |why: String| EngineError::BadGroup {
            group: self.to_string(),
            why,
        };
        let interface = match &self.interface {
            None => None,
            Some(name) => {
                let found = find_interface(interfaces, name).map_err(|e| bad_interface(name, e))?;
                let index = found.index.unwrap_or(0);
                let ipv4 = found.ipv4();
                if self.group.is_ipv4() && ipv4.is_none() && !cfg!(target_os = "linux") {
                    return Err(bad_interface(
                        name,
                        format!(
                            "the interface {} has no IPv4 address, so an IPv4 group cannot be joined on it here",
                            found.name
                        ),
                    ));
                }
                if self.group.is_ipv6() && index == 0 {
                    return Err(bad_interface(
                        name,
                        format!(
                            "the system gives no index for the interface {}, so an IPv6 group cannot be joined on it",
                            found.name
                        ),
                    ));
                }
                Some(InterfaceRef {
                    name: found.name.clone(),
                    index,
                    ipv4,
                })
            }
        };
        if let Some(source) = self.source {
            parse_source(self.group, &source.to_string()).map_err(bad_group)?;
            if self.group.is_ipv6() {
                return Err(bad_group(format!(
                    "a source-specific join of an IPv6 group (MLDv2) is not available in Socket Lab: the socket library it uses offers it for IPv4 only. Join {} without a source, and look at each datagram's sender instead",
                    self.group
                )));
            }
            if let (Some(i), Some(name)) = (&interface, &self.interface)
                && i.ipv4.is_none()
            {
                return Err(bad_interface(
                    name,
                    "a source-specific IPv4 join names its interface by an IPv4 address, and this interface has none".to_owned(),
                ));
            }
        }
        Ok(JoinedGroup {
            join: self.clone(),
            interface,
        })
    }
}

fn parse_source(group: IpAddr, text: &str) -> Result<IpAddr, String> {
    let text = text.trim();
    let source: IpAddr = text
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .map_err(|_| {
            format!(
                "\"{}\" is not a source address: give the IP address of the one sender to hear (for example 192.0.2.10).",
                shortened(text)
            )
        })?;
    if source.is_ipv4() != group.is_ipv4() {
        return Err(format!(
            "The source {source} and the group {group} are of different families (IPv4 and IPv6): give a source of the group's family."
        ));
    }
    if source.is_multicast() || source.is_unspecified() {
        return Err(format!(
            "{source} cannot be a source: a source is the unicast address of the machine that sends to the group."
        ));
    }
    Ok(source)
}

impl fmt::Display for GroupJoin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.group)?;
        if let Some(source) = self.source {
            write!(f, " from {source}")?;
        }
        match &self.interface {
            Some(name) => write!(f, " on {name}"),
            None => Ok(()),
        }
    }
}

/// The interface a group was joined on, as the socket call named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceRef {
    /// Its name.
    pub name: String,
    /// Its index (0 when the system gives none).
    pub index: u32,
    /// Its first IPv4 address.
    pub ipv4: Option<Ipv4Addr>,
}

/// A join checked against this machine: what the socket call will name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinedGroup {
    /// The join as asked for.
    pub join: GroupJoin,
    /// The interface, or `None` when the system chose by its route for the group.
    pub interface: Option<InterfaceRef>,
}

impl JoinedGroup {
    /// The option's name and arguments as the transcript shows them.
    fn call_args(&self, joining: bool) -> String {
        let name = match (self.join.group, self.join.source.is_some(), joining) {
            (IpAddr::V4(_), false, true) => "IP_ADD_MEMBERSHIP",
            (IpAddr::V4(_), false, false) => "IP_DROP_MEMBERSHIP",
            (IpAddr::V4(_), true, true) => "IP_ADD_SOURCE_MEMBERSHIP",
            (IpAddr::V4(_), true, false) => "IP_DROP_SOURCE_MEMBERSHIP",
            (IpAddr::V6(_), _, true) => "IPV6_JOIN_GROUP",
            (IpAddr::V6(_), _, false) => "IPV6_LEAVE_GROUP",
        };
        let source = self
            .join
            .source
            .map_or_else(String::new, |s| format!(" from {s}"));
        format!(
            "{name}, {}{source} on {}",
            self.join.group,
            self.interface_text()
        )
    }

    /// `lo (index 1)`, or the words for the system's choice.
    pub fn interface_text(&self) -> String {
        match &self.interface {
            Some(i) if self.join.group.is_ipv4() && !cfg!(target_os = "linux") => {
                format!("{} ({})", i.name, i.ipv4.unwrap_or(Ipv4Addr::UNSPECIFIED))
            }
            Some(i) => format!("{} (index {})", i.name, i.index),
            None => "the interface of the route for the group".to_owned(),
        }
    }
}

/// What joining or leaving did, for the view (the socket call itself is in the transcript).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MulticastEvent {
    /// The socket is a member of the group now.
    Joined(JoinedGroup),
    /// The socket left the group: no more of its datagrams arrive.
    Left(JoinedGroup),
    /// Nothing arrived for a while although the session is in groups: the likely causes.
    Silence {
        /// How long nothing has arrived.
        waited: Duration,
        /// The causes, those found on this machine first.
        causes: Vec<Cause>,
    },
}

/// Joins a group, reporting the `setsockopt`. On Linux the first join also turns off
/// `IP_MULTICAST_ALL`, so that the socket hears the groups it joined and not those of every
/// socket on the machine bound to the same port.
pub(crate) fn join(
    sink: &EventSink,
    socket: &Socket,
    local: SocketAddr,
    joined: &JoinedGroup,
    first: bool,
) -> Result<(), EngineError> {
    if joined.join.group.is_ipv4() != local.is_ipv4() {
        return Err(EngineError::BadGroup {
            group: joined.join.to_string(),
            why: format!(
                "the socket is bound to {}, an {} address, and can join only {} groups; bind to {} to join it",
                local.ip(),
                family(local.ip()),
                family(local.ip()),
                if joined.join.group.is_ipv4() {
                    "0.0.0.0"
                } else {
                    "::"
                }
            ),
        });
    }
    if first {
        turn_off_multicast_all(sink, socket, local);
    }
    let args = joined.call_args(true);
    let result = membership(socket, joined, true);
    record(sink, args, result, joined, GroupAction::Join)
}

/// Leaves a group, reporting the `setsockopt`.
pub(crate) fn leave(
    sink: &EventSink,
    socket: &Socket,
    joined: &JoinedGroup,
) -> Result<(), EngineError> {
    let args = joined.call_args(false);
    let result = membership(socket, joined, false);
    record(sink, args, result, joined, GroupAction::Leave)
}

fn record(
    sink: &EventSink,
    args: String,
    result: std::io::Result<()>,
    joined: &JoinedGroup,
    action: GroupAction,
) -> Result<(), EngineError> {
    match result {
        Ok(()) => {
            sink.call(None, Op::SetSockOpt, args, Ok(String::new()));
            Ok(())
        }
        Err(e) => {
            sink.call(None, Op::SetSockOpt, args, Err(e.to_string()));
            Err(EngineError::group(action, joined, &e))
        }
    }
}

fn family(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() { "IPv4" } else { "IPv6" }
}

#[cfg(target_os = "linux")]
fn turn_off_multicast_all(sink: &EventSink, socket: &Socket, local: SocketAddr) {
    let (name, result) = if local.is_ipv4() {
        ("IP_MULTICAST_ALL", socket.set_multicast_all_v4(false))
    } else {
        ("IPV6_MULTICAST_ALL", socket.set_multicast_all_v6(false))
    };
    // Older kernels lack the IPv6 one; the join still works, only less strictly.
    let _ = set_option(sink, None, &local, name, 0, result);
}

#[cfg(not(target_os = "linux"))]
fn turn_off_multicast_all(_: &EventSink, _: &Socket, _: SocketAddr) {}

fn membership(socket: &Socket, joined: &JoinedGroup, joining: bool) -> std::io::Result<()> {
    match (joined.join.group, joined.join.source) {
        (IpAddr::V4(group), Some(IpAddr::V4(source))) => {
            let interface = joined
                .interface
                .as_ref()
                .and_then(|i| i.ipv4)
                .unwrap_or(Ipv4Addr::UNSPECIFIED);
            if joining {
                socket.join_ssm_v4(&source, &group, &interface)
            } else {
                socket.leave_ssm_v4(&source, &group, &interface)
            }
        }
        (IpAddr::V4(group), _) => join_v4(socket, group, joined.interface.as_ref(), joining),
        (IpAddr::V6(group), _) => {
            let index = joined.interface.as_ref().map_or(0, |i| i.index);
            if joining {
                socket.join_multicast_v6(&group, index)
            } else {
                socket.leave_multicast_v6(&group, index)
            }
        }
    }
}

/// Linux names the interface by index (`ip_mreqn`), which works even on an interface without an
/// IPv4 address; elsewhere by its address.
#[cfg(target_os = "linux")]
fn join_v4(
    socket: &Socket,
    group: Ipv4Addr,
    interface: Option<&InterfaceRef>,
    joining: bool,
) -> std::io::Result<()> {
    use socket2::InterfaceIndexOrAddress;
    let which = match interface {
        Some(i) if i.index != 0 => InterfaceIndexOrAddress::Index(i.index),
        Some(i) => InterfaceIndexOrAddress::Address(i.ipv4.unwrap_or(Ipv4Addr::UNSPECIFIED)),
        None => InterfaceIndexOrAddress::Index(0),
    };
    if joining {
        socket.join_multicast_v4_n(&group, &which)
    } else {
        socket.leave_multicast_v4_n(&group, &which)
    }
}

#[cfg(not(target_os = "linux"))]
fn join_v4(
    socket: &Socket,
    group: Ipv4Addr,
    interface: Option<&InterfaceRef>,
    joining: bool,
) -> std::io::Result<()> {
    let address = interface
        .and_then(|i| i.ipv4)
        .unwrap_or(Ipv4Addr::UNSPECIFIED);
    if joining {
        socket.join_multicast_v4(&group, &address)
    } else {
        socket.leave_multicast_v4(&group, &address)
    }
}

/// Joining or leaving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupAction {
    /// Joining a group.
    Join,
    /// Leaving a group.
    Leave,
}

impl GroupAction {
    /// `join` or `leave`.
    pub fn name(self) -> &'static str {
        match self {
            GroupAction::Join => "join",
            GroupAction::Leave => "leave",
        }
    }
}

/// The plain sentence for a failed join or leave, from the system's error number.
pub(crate) fn group_sentence(
    action: GroupAction,
    group: &str,
    class: ErrorClass,
    os_code: Option<i32>,
    message: &str,
) -> String {
    let code = os_code.unwrap_or(0);
    let verb = match action {
        GroupAction::Join => "Joining",
        GroupAction::Leave => "Leaving",
    };
    if is_errno(code, Errno::NoDevice) {
        return format!(
            "{verb} {group} failed: the system has no route for the group, so it does not know which interface to join it on ({message}). Choose an interface, or add a route for the groups (Linux: ip route add 224.0.0.0/4 dev IFACE)."
        );
    }
    if is_errno(code, Errno::NoBuffers) {
        return format!(
            "{verb} {group} failed: the system's limit of groups for one socket is reached ({message}). On Linux it is net.ipv4.igmp_max_memberships (20 unless raised) and net.ipv6.mld_max_msf."
        );
    }
    match (action, class) {
        (GroupAction::Join, ErrorClass::AddrInUse) => format!(
            "{verb} {group} failed: this socket is already a member of that group on that interface."
        ),
        (GroupAction::Leave, ErrorClass::AddrNotAvailable) => format!(
            "{verb} {group} failed: this socket is not a member of that group on that interface."
        ),
        (GroupAction::Join, ErrorClass::AddrNotAvailable) => format!(
            "{verb} {group} failed: the interface's address cannot be used for the group ({message}). Choose another interface."
        ),
        (_, ErrorClass::PermissionDenied) => {
            format!("{verb} {group} failed: the system did not allow it ({message}).")
        }
        _ => format!("{verb} {group} failed: {message}."),
    }
}

#[derive(Clone, Copy)]
enum Errno {
    NoDevice,
    NoBuffers,
}

#[cfg(unix)]
fn is_errno(code: i32, which: Errno) -> bool {
    code == match which {
        Errno::NoDevice => libc::ENODEV,
        Errno::NoBuffers => libc::ENOBUFS,
    }
}

#[cfg(not(unix))]
fn is_errno(code: i32, which: Errno) -> bool {
    // WSAENOBUFS; Windows answers a join without a route with WSAEADDRNOTAVAIL or WSAENODEV-less
    // codes that the classes above cover.
    matches!(which, Errno::NoBuffers) && code == 10055
}

// ---------------------------------------------------------------------------------------------
// Sending

/// What a sender sets for multicast and for where its datagrams leave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendOptions {
    /// TTL (IPv4) or hop limit (IPv6): `IP_MULTICAST_TTL` / `IPV6_MULTICAST_HOPS` for a group
    /// target, `IP_TTL` / `IPV6_UNICAST_HOPS` otherwise. `None` keeps the system's (1 for groups).
    pub ttl: Option<u32>,
    /// The interface datagrams leave through: `IP_MULTICAST_IF` / `IPV6_MULTICAST_IF` for a
    /// group target; for any other target the socket is bound to the interface's address.
    pub interface: Option<String>,
    /// `IP_MULTICAST_LOOP` / `IPV6_MULTICAST_LOOP`: whether this machine's own members of the
    /// group get a copy. `None` keeps the system's (on).
    pub loopback: Option<bool>,
}

impl SendOptions {
    /// True when nothing is asked for.
    pub fn is_default(&self) -> bool {
        *self == SendOptions::default()
    }
}

/// Applies `options` for datagrams to `target`, before `bind`. Returns the local address to bind
/// instead of `local` when an interface was chosen for a target that is not a group.
pub(crate) fn prepare_sender(
    sink: &EventSink,
    socket: &Socket,
    local: SocketAddr,
    target: SocketAddr,
    options: &SendOptions,
) -> Result<Option<SocketAddr>, EngineError> {
    let group = is_group(target.ip());
    if let Some(ttl) = options.ttl {
        let (name, result) = match (target.is_ipv4(), group) {
            (true, true) => ("IP_MULTICAST_TTL", socket.set_multicast_ttl_v4(ttl)),
            (true, false) => ("IP_TTL", socket.set_ttl_v4(ttl)),
            (false, true) => ("IPV6_MULTICAST_HOPS", socket.set_multicast_hops_v6(ttl)),
            (false, false) => ("IPV6_UNICAST_HOPS", socket.set_unicast_hops_v6(ttl)),
        };
        set_option(sink, None, &target, name, ttl, result)?;
    }
    if let Some(on) = options.loopback {
        if !group {
            return Err(EngineError::BadGroup {
                group: target.ip().to_string(),
                why: "multicast loopback applies to datagrams sent to a group, and this target is not one".to_owned(),
            });
        }
        let (name, result) = if target.is_ipv4() {
            ("IP_MULTICAST_LOOP", socket.set_multicast_loop_v4(on))
        } else {
            ("IPV6_MULTICAST_LOOP", socket.set_multicast_loop_v6(on))
        };
        set_option(sink, None, &target, name, u8::from(on), result)?;
    }
    let Some(name) = &options.interface else {
        return Ok(None);
    };
    let list = interfaces().map_err(|e| EngineError::io(Op::GetSockOpt, "interfaces", &e))?;
    let interface = find_interface(&list, name).map_err(|why| EngineError::BadInterface {
        interface: name.clone(),
        why,
    })?;
    match (target.ip(), group) {
        (IpAddr::V4(_), true) => {
            let Some(addr) = interface.ipv4() else {
                return Err(no_address(interface, target));
            };
            set_option(
                sink,
                None,
                &target,
                "IP_MULTICAST_IF",
                format!("{addr} ({})", interface.name),
                socket.set_multicast_if_v4(&addr),
            )?;
            Ok(None)
        }
        (IpAddr::V6(_), true) => {
            let index = interface.index.unwrap_or(0);
            set_option(
                sink,
                None,
                &target,
                "IPV6_MULTICAST_IF",
                format!("{index} ({})", interface.name),
                socket.set_multicast_if_v6(index),
            )?;
            Ok(None)
        }
        (ip, false) => {
            let Some(addr) = interface
                .addrs
                .iter()
                .find(|a| a.ip.is_ipv4() == ip.is_ipv4())
            else {
                return Err(no_address(interface, target));
            };
            let mut bound = SocketAddr::new(addr.ip, local.port());
            if let (SocketAddr::V6(v6), true) = (&mut bound, addr.ip.is_ipv6()) {
                v6.set_scope_id(interface.index.unwrap_or(0));
            }
            Ok(Some(bound))
        }
    }
}

fn no_address(interface: &NetInterface, target: SocketAddr) -> EngineError {
    EngineError::BadInterface {
        interface: interface.name.clone(),
        why: format!(
            "the interface {} has no {} address, so datagrams to {} cannot leave through it",
            interface.name,
            family(target.ip()),
            target.ip()
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// What a datagram was addressed to

/// What kind of address a datagram was sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DestinationKind {
    /// A multicast group.
    Group,
    /// A broadcast address: 255.255.255.255 or a subnet's last address.
    Broadcast,
    /// One of this machine's own addresses.
    ThisHost,
}

/// The address a datagram was sent to, from `IP_PKTINFO` / `IPV6_PKTINFO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Destination {
    /// The destination address in the datagram's IP header.
    pub addr: IpAddr,
    /// What kind of address that is.
    pub kind: DestinationKind,
    /// The index of the interface it arrived on.
    pub interface: u32,
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            DestinationKind::Group => write!(f, "group {}", self.addr),
            DestinationKind::Broadcast => write!(f, "broadcast {}", self.addr),
            DestinationKind::ThisHost => write!(f, "{}", self.addr),
        }
    }
}

impl DestinationKind {
    /// `group`, `broadcast`, `this host`.
    pub fn name(self) -> &'static str {
        match self {
            DestinationKind::Group => "group",
            DestinationKind::Broadcast => "broadcast",
            DestinationKind::ThisHost => "this host",
        }
    }
}

/// True when this system tells a receiver each datagram's destination (`IP_PKTINFO`).
pub const DESTINATION_KNOWN: bool = cfg!(any(
    target_os = "linux",
    target_os = "android",
    target_vendor = "apple"
));

/// Sorts destination addresses into group, broadcast and this host, knowing the subnets'
/// broadcast addresses (read again, at most once a second, when an address is not known).
pub(crate) struct Classifier {
    broadcasts: Vec<Ipv4Addr>,
    locals: Vec<IpAddr>,
    read_at: std::time::Instant,
}

impl Classifier {
    pub(crate) fn new() -> Self {
        let mut c = Classifier {
            broadcasts: Vec::new(),
            locals: Vec::new(),
            read_at: std::time::Instant::now(),
        };
        c.read();
        c
    }

    fn read(&mut self) {
        self.read_at = std::time::Instant::now();
        let Ok(list) = interfaces() else { return };
        // Each subnet's last address, worked out from the address and its prefix: a broadcast
        // address the system reports may be missing (or be the address itself).
        self.broadcasts = list
            .iter()
            .flat_map(|i| i.addrs.iter().filter_map(subnet_broadcast))
            .collect();
        self.locals = list
            .iter()
            .flat_map(|i| i.addrs.iter().map(|a| a.ip))
            .collect();
    }

    pub(crate) fn classify(&mut self, addr: IpAddr, interface: u32) -> Destination {
        let plain = match addr {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
            v4 @ IpAddr::V4(_) => v4,
        };
        let kind = if plain.is_multicast() {
            DestinationKind::Group
        } else if let IpAddr::V4(v4) = plain {
            if v4.is_broadcast() || self.is_subnet_broadcast(v4) {
                DestinationKind::Broadcast
            } else {
                DestinationKind::ThisHost
            }
        } else {
            DestinationKind::ThisHost
        };
        Destination {
            addr: plain,
            kind,
            interface,
        }
    }

    fn is_subnet_broadcast(&mut self, v4: Ipv4Addr) -> bool {
        if self.broadcasts.contains(&v4) {
            return true;
        }
        let unknown = !self.locals.contains(&IpAddr::V4(v4));
        if unknown && self.read_at.elapsed() >= Duration::from_secs(1) {
            self.read();
            return self.broadcasts.contains(&v4);
        }
        false
    }
}

/// The broadcast address of an IPv4 address's subnet (none for /31 and /32 links).
fn subnet_broadcast(a: &IfAddress) -> Option<Ipv4Addr> {
    match a.ip {
        IpAddr::V4(v4) if a.prefix < 31 => {
            let host_bits = u32::MAX >> a.prefix;
            Some(Ipv4Addr::from(u32::from(v4) | host_bits))
        }
        _ => None,
    }
}

/// Turns on the per-datagram destination for a receiving socket; false where the system cannot.
#[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
pub(crate) fn enable_destination(sink: &EventSink, socket: &UdpSocket, local: SocketAddr) -> bool {
    use nix::sys::socket::{setsockopt, sockopt};
    let (name, result) = if local.is_ipv4() {
        (
            "IP_PKTINFO",
            setsockopt(socket, sockopt::Ipv4PacketInfo, &true),
        )
    } else {
        (
            "IPV6_RECVPKTINFO",
            setsockopt(socket, sockopt::Ipv6RecvPacketInfo, &true),
        )
    };
    set_option(
        sink,
        None,
        &local,
        name,
        1,
        result.map_err(std::io::Error::from),
    )
    .is_ok()
}

/// Turns on the per-datagram destination for a receiving socket; false where the system cannot.
#[cfg(not(any(target_os = "linux", target_os = "android", target_vendor = "apple")))]
pub(crate) fn enable_destination(_: &EventSink, _: &UdpSocket, _: SocketAddr) -> bool {
    false
}

/// What one `recvmsg` returned: the length, the sender (none when the socket was shut down),
/// and the destination address with the index of the interface it arrived on.
pub(crate) type Received = (usize, Option<SocketAddr>, Option<(IpAddr, u32)>);

/// A buffer for the control messages of one `recvmsg`.
pub(crate) fn control_buffer() -> Vec<u8> {
    #[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
    {
        nix::cmsg_space!(libc::in_pktinfo, libc::in6_pktinfo)
    }
    #[cfg(not(any(target_os = "linux", target_os = "android", target_vendor = "apple")))]
    {
        Vec::new()
    }
}

/// One datagram with its sender and its destination address and interface. The sender is
/// `None` when `recvmsg` returned without one (a socket shut down to stop its reader).
#[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
pub(crate) fn recv_with_destination(
    socket: &UdpSocket,
    buf: &mut [u8],
    control: &mut [u8],
) -> std::io::Result<Received> {
    use nix::sys::socket::{ControlMessageOwned, MsgFlags, SockaddrStorage, recvmsg};
    use std::os::fd::AsRawFd;
    let mut iov = [std::io::IoSliceMut::new(buf)];
    let msg = recvmsg::<SockaddrStorage>(
        socket.as_raw_fd(),
        &mut iov,
        Some(control),
        MsgFlags::empty(),
    )
    .map_err(std::io::Error::from)?;
    let mut destination = None;
    if let Ok(cmsgs) = msg.cmsgs() {
        for cmsg in cmsgs {
            match cmsg {
                ControlMessageOwned::Ipv4PacketInfo(info) => {
                    let addr = Ipv4Addr::from(u32::from_be(info.ipi_addr.s_addr));
                    destination = Some((IpAddr::V4(addr), info.ipi_ifindex as u32));
                }
                ControlMessageOwned::Ipv6PacketInfo(info) => {
                    let addr = Ipv6Addr::from(info.ipi6_addr.s6_addr);
                    destination = Some((IpAddr::V6(addr), info.ipi6_ifindex));
                }
                _ => {}
            }
        }
    }
    let peer = msg.address.and_then(|a| {
        a.as_sockaddr_in()
            .map(|v4| SocketAddr::V4((*v4).into()))
            .or_else(|| a.as_sockaddr_in6().map(|v6| SocketAddr::V6((*v6).into())))
    });
    Ok((msg.bytes, peer, destination))
}

/// Where the system does not tell a datagram's destination: `recvfrom`, no destination.
#[cfg(not(any(target_os = "linux", target_os = "android", target_vendor = "apple")))]
pub(crate) fn recv_with_destination(
    socket: &UdpSocket,
    buf: &mut [u8],
    _control: &mut [u8],
) -> std::io::Result<Received> {
    let (n, peer) = socket.recv_from(buf)?;
    Ok((n, Some(peer), None))
}

// ---------------------------------------------------------------------------------------------
// Why nothing arrives

/// One possible reason datagrams to a group do not arrive, with what was found on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// The socket is bound to one address, so datagrams to the group's address do not match it.
    BoundToAddress {
        /// The address it is bound to.
        bound: IpAddr,
    },
    /// The interface of a join is down.
    InterfaceDown {
        /// The interface.
        interface: String,
    },
    /// The interface of a join does not take part in multicast (no `MULTICAST` flag).
    MulticastOff {
        /// The interface.
        interface: String,
    },
    /// The system has no route for the group: senders on this machine cannot send to it
    /// without naming an interface.
    NoRoute {
        /// The group.
        group: IpAddr,
    },
    /// Datagrams to the group sent from this machine leave through another interface than the
    /// one the group was joined on.
    RouteElsewhere {
        /// The group.
        group: IpAddr,
        /// Where it was joined.
        joined_on: String,
        /// Where the system's route for the group leads.
        route_via: String,
    },
    /// A source-specific join: datagrams from any other sender are dropped.
    SourceOnly {
        /// The group.
        group: IpAddr,
        /// The one sender heard.
        source: IpAddr,
    },
    /// The sender may be on a network this machine reaches through another interface.
    OtherInterfaces {
        /// Where the groups were joined.
        joined_on: Vec<String>,
        /// The machine's other interfaces that take multicast.
        others: Vec<String>,
    },
    /// A sender on another network: with the default TTL of 1 a group datagram does not pass a
    /// router.
    Ttl,
    /// A sender on this machine with multicast loopback off sends no copy to its own machine.
    LoopbackOff,
    /// A firewall may drop the datagrams before they reach the socket.
    Firewall {
        /// The port the datagrams must be allowed to.
        port: u16,
    },
}

impl Cause {
    /// True when this was found on this machine (not only possible).
    pub fn found(&self) -> bool {
        matches!(
            self,
            Cause::BoundToAddress { .. }
                | Cause::InterfaceDown { .. }
                | Cause::MulticastOff { .. }
                | Cause::NoRoute { .. }
                | Cause::RouteElsewhere { .. }
                | Cause::SourceOnly { .. }
        )
    }

    /// The cause in one plain sentence, with what to do about it.
    pub fn sentence(&self) -> String {
        match self {
            Cause::BoundToAddress { bound } => format!(
                "The socket is bound to {bound}, so it takes only datagrams addressed to {bound}: datagrams sent to a group are addressed to the group. Bind to {} (every address) or to the group address itself.",
                if bound.is_ipv4() { "0.0.0.0" } else { "::" }
            ),
            Cause::InterfaceDown { interface } => format!(
                "The interface {interface} is down, so nothing arrives through it. Bring it up (Linux: ip link set {interface} up)."
            ),
            Cause::MulticastOff { interface } => format!(
                "The interface {interface} has multicast turned off, so it passes no group datagrams. Turn it on (Linux: ip link set {interface} multicast on)."
            ),
            Cause::NoRoute { group } => format!(
                "This machine has no route for {group}: a sender here gets \"network unreachable\" unless it names an interface (udp-send --interface). Add a route (Linux: ip route add {} dev IFACE).",
                if group.is_ipv4() { "224.0.0.0/4" } else { "ff00::/8 table local" }
            ),
            Cause::RouteElsewhere {
                group,
                joined_on,
                route_via,
            } => format!(
                "Wrong interface: datagrams to {group} sent from this machine leave through {route_via} (the system's route for the group), but the group was joined on {joined_on}. Join it on {route_via}, or make the sender choose {joined_on} (udp-send --interface {joined_on})."
            ),
            Cause::SourceOnly { group, source } => format!(
                "The join of {group} is source-specific: only datagrams from {source} are delivered, from any other sender they are dropped."
            ),
            Cause::OtherInterfaces { joined_on, others } => format!(
                "The groups were joined on {}; a sender whose network reaches this machine through {} is not heard. Join on the interface that faces the sender.",
                joined_on.join(", "),
                others.join(", ")
            ),
            Cause::Ttl => "A sender on another network: group datagrams leave with a TTL (hop limit) of 1 unless the sender raises it, and a router does not pass them on with 1. The sender must set a larger TTL (udp-send --ttl 8), and the routers must route multicast.".to_owned(),
            Cause::LoopbackOff => "A sender on this machine with multicast loopback off (IP_MULTICAST_LOOP 0, udp-send --multicast-loop off) sends no copy to its own machine's members (except through the loopback interface, which is a loop by itself).".to_owned(),
            Cause::Firewall { port } => format!(
                "A firewall may drop the datagrams before they reach the socket: allow UDP to port {port} (and IGMP / MLD) on this machine, on the sender's and on the routers between."
            ),
        }
    }
}

/// The causes that may keep datagrams to `groups` from a socket bound to `bound`: those found on
/// this machine first, then those it cannot check from here.
pub fn diagnose(bound: SocketAddr, groups: &[JoinedGroup], list: &[NetInterface]) -> Vec<Cause> {
    let mut causes = Vec::new();
    let ip = bound.ip();
    if !ip.is_unspecified() && !groups.iter().all(|g| g.join.group == ip) {
        causes.push(Cause::BoundToAddress { bound: ip });
    }
    let mut joined_on: Vec<String> = Vec::new();
    for g in groups {
        if let Some(i) = &g.interface {
            if !joined_on.contains(&i.name) {
                joined_on.push(i.name.clone());
            }
            let found = list.iter().find(|n| n.name == i.name);
            if found.and_then(NetInterface::is_up) == Some(false) {
                causes.push(Cause::InterfaceDown {
                    interface: i.name.clone(),
                });
            } else if found.and_then(NetInterface::multicast_on) == Some(false) {
                causes.push(Cause::MulticastOff {
                    interface: i.name.clone(),
                });
            }
        }
        match route_interface(g.join.group, bound.port(), list) {
            Err(()) => causes.push(Cause::NoRoute {
                group: g.join.group,
            }),
            Ok(Some(via)) => {
                if let Some(i) = &g.interface
                    && i.name != via
                {
                    causes.push(Cause::RouteElsewhere {
                        group: g.join.group,
                        joined_on: i.name.clone(),
                        route_via: via,
                    });
                }
            }
            Ok(None) => {}
        }
        if let Some(source) = g.join.source {
            causes.push(Cause::SourceOnly {
                group: g.join.group,
                source,
            });
        }
    }
    causes.dedup();
    if !joined_on.is_empty() {
        let others: Vec<String> = list
            .iter()
            .filter(|n| !n.loopback && !joined_on.contains(&n.name))
            .filter(|n| n.multicast_on() != Some(false))
            .map(NetInterface::label)
            .collect();
        if !others.is_empty() {
            causes.push(Cause::OtherInterfaces { joined_on, others });
        }
    }
    causes.push(Cause::Ttl);
    causes.push(Cause::LoopbackOff);
    causes.push(Cause::Firewall { port: bound.port() });
    causes
}

/// The interface the system's route for `group` leads through, learnt by `connect`ing a probe
/// socket (nothing is sent): `Err` when there is no route, `Ok(None)` when the interface cannot
/// be told from the source address the system picked.
fn route_interface(group: IpAddr, port: u16, list: &[NetInterface]) -> Result<Option<String>, ()> {
    let any: SocketAddr = if group.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let Ok(probe) = UdpSocket::bind(any) else {
        return Ok(None);
    };
    match probe.connect(SocketAddr::new(group, port.max(1))) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NetworkUnreachable => return Err(()),
        Err(_) => return Ok(None),
    }
    // The source address the system picked does not tell the interface (a route through lo
    // borrows another interface's address): the routing table does.
    Ok(route_device(group).filter(|dev| list.iter().any(|n| &n.name == dev)))
}

/// The interface of the most specific route for `group` in the system's routing table, when
/// one route decides it (Linux: `/proc/net/route` and `/proc/net/ipv6_route`).
#[cfg(target_os = "linux")]
fn route_device(group: IpAddr) -> Option<String> {
    // (prefix length, metric, device) of each route that covers the group.
    let mut matches: Vec<(u8, u32, String)> = Vec::new();
    match group {
        IpAddr::V4(g) => {
            let table = read_net_table("route")?;
            for line in table.lines().skip(1) {
                let f: Vec<&str> = line.split_whitespace().collect();
                let [dev, dest, _, flags, _, _, metric, mask, ..] = f.as_slice() else {
                    continue;
                };
                let hex = |t: &str| u32::from_str_radix(t, 16).ok();
                let (Some(dest), Some(flags), Some(mask)) = (hex(dest), hex(flags), hex(mask))
                else {
                    continue;
                };
                // The table prints each address as the number its bytes make in memory.
                let dest = u32::from_be_bytes(dest.to_ne_bytes());
                let mask = u32::from_be_bytes(mask.to_ne_bytes());
                if flags & 1 == 1 && u32::from(g) & mask == dest {
                    let metric = metric.parse().unwrap_or(u32::MAX);
                    matches.push((mask.count_ones() as u8, metric, (*dev).to_owned()));
                }
            }
        }
        IpAddr::V6(g) => {
            let table = read_net_table("ipv6_route")?;
            for line in table.lines() {
                let f: Vec<&str> = line.split_whitespace().collect();
                let [dest, prefix, _, _, _, metric, _, _, flags, dev] = f.as_slice() else {
                    continue;
                };
                let (Ok(dest), Ok(prefix), Ok(metric), Ok(flags)) = (
                    u128::from_str_radix(dest, 16),
                    u8::from_str_radix(prefix, 16),
                    u32::from_str_radix(metric, 16),
                    u32::from_str_radix(flags, 16),
                ) else {
                    continue;
                };
                let mask = if prefix == 0 {
                    0
                } else {
                    u128::MAX << (128 - u32::from(prefix.min(128)))
                };
                // RTF_UP, and not a reject route (RTF_REJECT, 0x200).
                if flags & 1 == 1 && flags & 0x200 == 0 && u128::from(g) & mask == dest {
                    matches.push((prefix, metric, (*dev).to_owned()));
                }
            }
        }
    }
    matches.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    match matches.as_slice() {
        [] => None,
        [best, rest @ ..] => {
            let tie = rest
                .iter()
                .any(|r| r.0 == best.0 && r.1 == best.1 && r.2 != best.2);
            (!tie).then(|| best.2.clone())
        }
    }
}

/// A table of /proc/net as the calling thread sees it: /proc/net is the process's, and a thread
/// may be in a network namespace of its own.
#[cfg(target_os = "linux")]
fn read_net_table(name: &str) -> Option<String> {
    std::fs::read_to_string(format!("/proc/thread-self/net/{name}"))
        .or_else(|_| std::fs::read_to_string(format!("/proc/net/{name}")))
        .ok()
}

#[cfg(not(target_os = "linux"))]
fn route_device(_group: IpAddr) -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_groups_with_interfaces() {
        let j = GroupJoin::parse("239.1.2.3@lo").unwrap();
        assert_eq!(j.group, IpAddr::from([239, 1, 2, 3]));
        assert_eq!(j.interface.as_deref(), Some("lo"));
        let j = GroupJoin::parse("[ff15::1]@veth0").unwrap();
        assert_eq!(j.group, "ff15::1".parse::<IpAddr>().unwrap());
        let j = GroupJoin::parse("ff02::1234").unwrap();
        assert!(j.interface.is_none());
    }

    #[test]
    fn refuses_what_is_not_a_group() {
        assert!(
            GroupJoin::parse("10.0.0.1")
                .unwrap_err()
                .contains("not a multicast group")
        );
        assert!(
            GroupJoin::parse("fe80::1")
                .unwrap_err()
                .contains("start with ff")
        );
        assert!(
            GroupJoin::parse("banana")
                .unwrap_err()
                .contains("not a group address")
        );
        assert!(
            GroupJoin::parse("239.1.2.3@")
                .unwrap_err()
                .contains("no interface")
        );
        let j = GroupJoin::parse("239.1.2.3").unwrap();
        assert!(
            j.clone()
                .with_source("::1")
                .unwrap_err()
                .contains("families")
        );
        assert!(
            j.clone()
                .with_source("239.9.9.9")
                .unwrap_err()
                .contains("cannot be a source")
        );
        assert!(j.with_source("192.0.2.9").is_ok());
    }

    #[test]
    fn unknown_interfaces_are_named_with_the_real_ones() {
        let list = vec![NetInterface {
            name: "lo".into(),
            index: Some(1),
            addrs: vec![IfAddress {
                ip: IpAddr::from([127, 0, 0, 1]),
                prefix: 8,
                broadcast: None,
            }],
            loopback: true,
        }];
        let e = find_interface(&list, "eth9").unwrap_err();
        assert!(e.contains("no interface called \"eth9\""), "{e}");
        assert!(e.contains("lo (127.0.0.1)"), "{e}");
        assert_eq!(find_interface(&list, "127.0.0.1").unwrap().name, "lo");
    }
}
