//! The words of the multicast and broadcast parts of the UDP sessions (groups list, sender
//! options, badges, the silence explanation), kept apart from `text.rs` so that the catalogue
//! of each feature stays readable; `text.rs` re-exports them.

use std::time::Duration;

/// Heading of the UDP server's groups section.
pub const GROUPS: &str = "Multicast groups";
/// Tooltip of that heading.
pub const GROUPS_HINT: &str = "Join multicast groups (IPv4 224.0.0.0 to 239.255.255.255, IPv6 ff00::/8) so that datagrams sent to them reach this socket. Bind to 0.0.0.0 (or ::) to hear them, and tick SO_REUSEADDR so other programs can listen to the same group and port.";
/// Label of the group field.
pub const GROUP: &str = "Group";
/// Tooltip of the group field.
pub const GROUP_HINT: &str =
    "A multicast group address: 239.1.2.3 (IPv4, private use) or ff15::1 (IPv6).";
/// Label of the interface field (groups and sender).
pub const INTERFACE: &str = "Interface";
/// Tooltip of the interface field of a join.
pub const JOIN_INTERFACE_HINT: &str = "The interface to join the group on, by name (lo, eth0) or address. Empty: the system chooses by its route for the group.";
/// Tooltip of the interface field of a sender.
pub const SEND_INTERFACE_HINT: &str = "The interface datagrams leave through, by name (lo, eth0) or address: IP_MULTICAST_IF for a group; otherwise the socket is bound to the interface's address. Empty: the route decides.";
/// Placeholder of an empty interface field.
pub const INTERFACE_ANY: &str = "system's choice";
/// The menu beside an interface field.
pub const INTERFACE_PICK: &str = "Pick interface";
/// Tooltip of that menu.
pub const INTERFACE_PICK_HINT: &str = "This machine's interfaces and their addresses.";
/// The menu's entry for the system's choice.
pub const INTERFACE_SYSTEM: &str = "The system's choice (route for the group)";
/// The menu's entry that reads the list again.
pub const INTERFACE_REFRESH: &str = "Read the list again";
/// Label of the source field.
pub const SOURCE: &str = "Source";
/// Tooltip of the source field.
pub const SOURCE_HINT: &str = "Optional: hear only this sender (a source-specific join, IGMPv3; IPv4 groups). Empty: every sender.";
/// Placeholder of the source field.
pub const SOURCE_ANY: &str = "any sender";
/// The Join button.
pub const JOIN: &str = "Join";
/// Tooltip of the Join button.
pub const JOIN_HINT: &str = "Join the group now (setsockopt IP_ADD_MEMBERSHIP / IPV6_JOIN_GROUP); while the socket is closed, the group is joined when you bind.";
/// The Leave button of a joined group.
pub const LEAVE: &str = "Leave";
/// The Remove button of a group.
pub const REMOVE_GROUP: &str = "Remove";
/// The accessible name of one group's Leave button.
pub fn leave_group(group: &str) -> String {
    format!("Leave {group}")
}
/// The accessible name of one group's Join button.
pub fn join_group(group: &str) -> String {
    format!("Join {group}")
}
/// The accessible name of one group's Remove button.
pub fn remove_group(group: &str) -> String {
    format!("Remove {group}")
}
/// A group that the socket is a member of.
pub const GROUP_JOINED: &str = "joined";
/// A group in the list the socket is not a member of.
pub const GROUP_NOT_JOINED: &str = "not joined";
/// A group that is joined when the socket is bound.
pub const GROUP_AT_BIND: &str = "joined when bound";
/// An empty groups list.
pub const NO_GROUPS: &str = "No groups: type one above and press Join.";
/// A group typed twice.
pub const GROUP_TWICE: &str = "That group is in the list already.";
/// Label of the silence field.
pub const SILENCE: &str = "Explain after";
/// Tooltip of the silence field.
pub const SILENCE_HINT: &str = "When nothing arrives from the groups for this many seconds, the log lists the likely reasons: those found on this machine first.";
/// The unit after the silence field.
pub const SECONDS: &str = "s of silence";
/// The silence field holds no number.
pub const SILENCE_BAD: &str =
    "Explain after: give a number of seconds from 0.1 to 3600 (for example 10).";

/// The badge of a server in groups.
pub fn in_groups(n: usize) -> String {
    if n == 1 {
        "in 1 group".to_owned()
    } else {
        format!("in {n} groups")
    }
}
/// Tooltip of that badge.
pub const IN_GROUPS_HINT: &str = "The socket is a member of these multicast groups; each datagram's row says [group] when it was sent to one.";
/// The note beside the counters while the groups are silent.
pub fn silence_note(waited: Duration) -> String {
    format!(
        "Nothing from the groups for {} s: the log says why it may not arrive (hover for the list).",
        waited.as_secs()
    )
}
/// The log's first line of a silence explanation.
pub fn silence_log(waited: Duration) -> String {
    format!(
        "Nothing has arrived from the groups for {} s. Why it may not arrive:",
        waited.as_secs()
    )
}
/// One cause in the log: found on this machine, or only possible.
pub fn cause_line(found: bool, sentence: &str) -> String {
    if found {
        format!("Found: {sentence}")
    } else {
        format!("Possible: {sentence}")
    }
}
/// The log note of a join.
pub fn note_joined(group: &str, interface: &str) -> String {
    format!("Joined group {group} on {interface}.")
}
/// The log note of a leave.
pub fn note_left(group: &str, interface: &str) -> String {
    format!("Left group {group} on {interface}: its datagrams no longer arrive.")
}
/// The tag a row of a datagram to a group has before its data.
pub const ROW_TO_GROUP: &str = "[group] ";
/// The tag a row of a datagram to a broadcast address has before its data.
pub const ROW_TO_BROADCAST: &str = "[broadcast] ";

/// Label of the sender's TTL field.
pub const TTL: &str = "TTL / hops";
/// Tooltip of the TTL field.
pub const TTL_HINT: &str = "How many routers a datagram may pass (IPv4 TTL, IPv6 hop limit), 1 to 255: IP_MULTICAST_TTL for a group (the system's 1 keeps it on the local network), IP_TTL otherwise. Empty: the system's.";
/// The TTL field holds no number.
pub const TTL_BAD: &str = "TTL / hops: give a whole number from 1 to 255, or leave it empty.";
/// Label of the multicast loopback option.
pub const MULTICAST_LOOP: &str = "IP_MULTICAST_LOOP";
/// Tooltip of the multicast loopback option.
pub const MULTICAST_LOOP_HINT: &str = "Members of the group on this machine get a copy of what you send to it. Off: only other machines do (the loopback interface is a loop by itself, so this cannot stop a copy sent through lo).";
/// Loopback off for a target that is not a group.
pub const MULTICAST_LOOP_NOT_GROUP: &str =
    "IP_MULTICAST_LOOP off applies to a group target: tick it again, or send to a group.";
/// Badge of a client whose target is a group.
pub fn to_group_badge(ttl: Option<u32>) -> String {
    format!("to a group, TTL {}", ttl.unwrap_or(1))
}
/// Tooltip of that badge.
pub const TO_GROUP_HINT: &str = "Datagrams go to every member of the group. With TTL 1 they stay on the local network; raise it to cross multicast routers.";
/// Badge of a client whose target is a broadcast address.
pub const TO_BROADCAST_BADGE: &str = "broadcast";
/// Tooltip of that badge.
pub const TO_BROADCAST_HINT: &str = "Datagrams go to every machine on the network (routers do not pass broadcasts on). SO_BROADCAST must be on, or the system refuses to send.";
/// A broadcast target without `SO_BROADCAST`.
pub const BROADCAST_NEEDS_OPTION: &str = "Sending to a broadcast address needs SO_BROADCAST: tick it in the socket options, or the system refuses (permission denied).";
