//! Plain-language explanations of socket calls, and the step checklists that tick as a session
//! really makes its calls. The window's transcript and the command line's `--explain` both use
//! these, so the wording is the same everywhere.

use std::net::IpAddr;

use super::error::Op;
use super::event::{EventKind, SocketCall};

/// Who can reach a socket bound to `ip`, when that is more than this computer: `None` for a
/// loopback address. Shared by the window's badge and the command line's note.
pub fn exposure(ip: IpAddr) -> Option<String> {
    if ip.is_loopback() {
        None
    } else if ip.is_unspecified() {
        Some(format!(
            "{ip} means every network interface: any machine that can reach this computer can connect and send to this socket. Use 127.0.0.1 (or ::1) to keep it to this computer."
        ))
    } else {
        Some(format!(
            "{ip} is an address on a network interface: machines on that network can connect and send to this socket. Use 127.0.0.1 (or ::1) to keep it to this computer."
        ))
    }
}

/// A one-line explanation of a socket call, for someone who has never programmed.
pub fn explain_call(call: &SocketCall) -> String {
    let failed = call.outcome.is_err();
    let text = match call.op {
        Op::GetAddrInfo => "ask the system's resolver which addresses this name has",
        Op::GetNameInfo => "ask the resolver which name belongs to this address",
        Op::Socket => {
            if call.args.contains("SOCK_STREAM") {
                "create a TCP socket: an endpoint for a reliable stream of bytes"
            } else {
                "create a UDP socket: an endpoint for separate datagrams"
            }
        }
        Op::SetSockOpt => return explain_option(&call.args),
        Op::GetSockOpt => "read an option back: the system may grant a different size than asked",
        Op::Bind => {
            if call.args.ends_with(":0") {
                "claim a local address; port 0 lets the system pick a free (ephemeral) port"
            } else {
                "claim this address and port so that others can find us"
            }
        }
        Op::Listen => "start accepting connections; the number is how many may wait in line",
        Op::Accept => "take the next waiting connection: it gets a socket of its own",
        Op::Connect => {
            if call.outcome.as_ref().is_ok_and(|r| r.contains("no packet")) {
                "fix the peer of this UDP socket: only its datagrams are received now (nothing is sent)"
            } else {
                "open a TCP connection: the three-way handshake (SYN, SYN-ACK, ACK)"
            }
        }
        Op::GetSockName => "ask which local address and port we ended up with",
        Op::GetPeerName => "ask the address of the other end",
        Op::Send => "hand bytes to the system to deliver in order over the connection",
        Op::SendTo => "send one datagram to this address; nothing confirms it arrived",
        Op::Recv => "read the bytes that have arrived so far",
        Op::RecvFrom => "read one datagram and learn who sent it",
        Op::Shutdown => {
            return match call.args.as_str() {
                "SHUT_WR" => "stop sending (half-close): a FIN tells the peer we are done; we can still receive".to_owned(),
                "SHUT_RD" => "stop receiving on this socket".to_owned(),
                _ => "shut down both directions: FIN to the peer, and no more reading".to_owned(),
            };
        }
        Op::Close => "release the socket; for TCP, the peer sees the connection end",
    };
    if failed {
        format!("tried to {text} — and it failed")
    } else {
        text.to_owned()
    }
}

fn explain_option(args: &str) -> String {
    let name = args.split(',').next().unwrap_or("").trim();
    match name {
        "SO_REUSEADDR" => {
            "allow binding a port that recently had connections (no waiting for TIME_WAIT)"
        }
        "IPV6_V6ONLY" => {
            "choose whether an IPv6 socket also takes IPv4 (0 = both, one dual-stack socket)"
        }
        "TCP_NODELAY" => {
            "send small writes at once instead of waiting to bundle them (Nagle's algorithm off)"
        }
        "SO_KEEPALIVE" => "send probes on an idle connection so a vanished peer is noticed",
        "SO_RCVBUF" => {
            "ask for a receive buffer of this size: room for data that arrived but is not read yet"
        }
        "SO_SNDBUF" => {
            "ask for a send buffer of this size: room for data written but not yet acknowledged"
        }
        "SO_BROADCAST" => "allow sending datagrams to a broadcast address",
        "IP_ADD_MEMBERSHIP" | "IPV6_JOIN_GROUP" => {
            "join a multicast group on this interface: the system tells the network (IGMP / MLD) and hands the group's datagrams to this socket"
        }
        "IP_ADD_SOURCE_MEMBERSHIP" => {
            "join a group for one sender only (source-specific, IGMPv3): datagrams from any other sender are dropped"
        }
        "IP_DROP_MEMBERSHIP" | "IPV6_LEAVE_GROUP" | "IP_DROP_SOURCE_MEMBERSHIP" => {
            "leave the group: its datagrams no longer reach this socket"
        }
        "IP_MULTICAST_ALL" | "IPV6_MULTICAST_ALL" => {
            "hear only the groups this socket joined (Linux otherwise hands it every group any socket on this port joined)"
        }
        "IP_PKTINFO" | "IPV6_RECVPKTINFO" => {
            "ask for each datagram's destination address and interface, to tell group, broadcast and direct datagrams apart"
        }
        "IP_MULTICAST_IF" | "IPV6_MULTICAST_IF" => {
            "choose the interface datagrams to a group leave through (otherwise the route for the group decides)"
        }
        "IP_MULTICAST_TTL" | "IPV6_MULTICAST_HOPS" => {
            "how many routers a group datagram may pass: 1 keeps it on the local network"
        }
        "IP_TTL" | "IPV6_UNICAST_HOPS" => {
            "how many routers a datagram may pass before it is dropped"
        }
        "IP_MULTICAST_LOOP" | "IPV6_MULTICAST_LOOP" => {
            "whether this machine's own members of the group get a copy of what we send to it"
        }
        "SO_LINGER" => "linger 0: closing now sends a reset (RST) and throws away unsent data",
        _ => "set a socket option",
    }
    .to_owned()
}

/// An explanation for any event that stands for a socket call (data events included).
pub fn explain_event(kind: &EventKind) -> Option<String> {
    Some(match kind {
        EventKind::Call(call) => explain_call(call),
        EventKind::Received { .. } => {
            "recv returned what had arrived — a stream has no message boundaries, so this may be part of a message, or several".to_owned()
        }
        EventKind::Messages { batch, .. } if batch.read_len().is_some() => {
            "recv returned what had arrived; the framing cut it into messages — one message may take several reads, and one read may finish several".to_owned()
        }
        EventKind::Sent { .. } => explain_call(&data_call(Op::Send)),
        EventKind::PeerFinished { .. } => {
            "recv returned 0: the peer sent FIN — it will send nothing more (it may still read)".to_owned()
        }
        EventKind::Datagrams(batch) if batch.iter().next().is_some_and(|d| d.to.is_some()) => {
            "recvmsg returned whole datagrams, one per send, each with its sender's address and the address it was sent to (a group, a broadcast address or this machine)".to_owned()
        }
        EventKind::Datagrams(_) => {
            "recvfrom returned whole datagrams, one per send, each with its sender's address".to_owned()
        }
        EventKind::DatagramSent { .. } => explain_call(&data_call(Op::SendTo)),
        _ => return None,
    })
}

fn data_call(op: Op) -> SocketCall {
    SocketCall {
        conn: None,
        op,
        args: String::new(),
        outcome: Ok(String::new()),
    }
}

/// Which role a checklist is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// TCP client.
    TcpClient,
    /// TCP server.
    TcpServer,
    /// UDP client.
    UdpClient,
    /// UDP server.
    UdpServer,
}

/// One step of a role's life, ticked when the session really makes the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Short title ("bind").
    pub title: &'static str,
    /// What it does, in plain words.
    pub why: &'static str,
    ops: &'static [Op],
}

const TCP_SERVER: &[Step] = &[
    Step {
        title: "create socket",
        why: "socket(): a TCP endpoint",
        ops: &[Op::Socket],
    },
    Step {
        title: "set options",
        why: "setsockopt(): SO_REUSEADDR and friends",
        ops: &[Op::SetSockOpt],
    },
    Step {
        title: "bind",
        why: "claim the address and port clients will use",
        ops: &[Op::Bind],
    },
    Step {
        title: "listen",
        why: "start taking connections",
        ops: &[Op::Listen],
    },
    Step {
        title: "accept",
        why: "each client gets a socket of its own",
        ops: &[Op::Accept],
    },
];

const TCP_CLIENT: &[Step] = &[
    Step {
        title: "look up the name",
        why: "getaddrinfo(): name to addresses",
        ops: &[Op::GetAddrInfo],
    },
    Step {
        title: "create socket",
        why: "socket(): a TCP endpoint",
        ops: &[Op::Socket],
    },
    Step {
        title: "set options",
        why: "setsockopt(): TCP_NODELAY and friends",
        ops: &[Op::SetSockOpt],
    },
    Step {
        title: "connect",
        why: "the three-way handshake; the system picks our ephemeral port",
        ops: &[Op::Connect],
    },
    Step {
        title: "send and receive",
        why: "a reliable stream of bytes in both directions",
        ops: &[Op::Send, Op::Recv],
    },
    Step {
        title: "close",
        why: "FIN (or a reset when aborting)",
        ops: &[Op::Close],
    },
];

const UDP_SERVER: &[Step] = &[
    Step {
        title: "create socket",
        why: "socket(): a UDP endpoint",
        ops: &[Op::Socket],
    },
    Step {
        title: "set options",
        why: "setsockopt(): a bigger receive buffer",
        ops: &[Op::SetSockOpt],
    },
    Step {
        title: "bind",
        why: "claim the port senders will use",
        ops: &[Op::Bind],
    },
    Step {
        title: "recvfrom",
        why: "each datagram arrives with its sender's address",
        ops: &[Op::RecvFrom],
    },
];

const UDP_CLIENT: &[Step] = &[
    Step {
        title: "look up the name",
        why: "getaddrinfo(): name to addresses",
        ops: &[Op::GetAddrInfo],
    },
    Step {
        title: "create socket",
        why: "socket(): a UDP endpoint",
        ops: &[Op::Socket],
    },
    Step {
        title: "bind",
        why: "port 0: the system picks an ephemeral port",
        ops: &[Op::Bind],
    },
    Step {
        title: "sendto",
        why: "one datagram, no connection, no delivery guarantee",
        ops: &[Op::SendTo, Op::Send],
    },
    Step {
        title: "recvfrom",
        why: "replies, each with its sender's address",
        ops: &[Op::RecvFrom],
    },
];

/// The steps of a role, in order.
pub fn steps(role: Role) -> &'static [Step] {
    match role {
        Role::TcpClient => TCP_CLIENT,
        Role::TcpServer => TCP_SERVER,
        Role::UdpClient => UDP_CLIENT,
        Role::UdpServer => UDP_SERVER,
    }
}

/// The state of one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StepState {
    /// Not reached yet.
    #[default]
    Pending,
    /// The call succeeded.
    Done,
    /// The call failed.
    Failed,
}

/// A role's steps, ticked from the session's real events.
#[derive(Debug, Clone)]
pub struct Checklist {
    role: Role,
    states: Vec<StepState>,
}

impl Checklist {
    /// An unticked checklist for `role`.
    pub fn new(role: Role) -> Self {
        Checklist {
            role,
            states: vec![StepState::Pending; steps(role).len()],
        }
    }

    /// Ticks the step an event stands for, if any.
    pub fn observe(&mut self, kind: &EventKind) {
        let (op, ok) = match kind {
            EventKind::Call(call) => (call.op, call.outcome.is_ok()),
            EventKind::Received { .. } | EventKind::PeerFinished { .. } => (Op::Recv, true),
            EventKind::Sent { .. } => (Op::Send, true),
            EventKind::Datagrams(_) => (Op::RecvFrom, true),
            EventKind::DatagramSent { .. } => (Op::SendTo, true),
            _ => return,
        };
        if let Some(i) = steps(self.role).iter().position(|s| s.ops.contains(&op)) {
            let state = &mut self.states[i];
            // Once done, a later failure of the same call (one of several addresses) does not
            // untick it; a later success does tick a failed one.
            *state = match (*state, ok) {
                (StepState::Done, _) | (_, true) => StepState::Done,
                (_, false) => StepState::Failed,
            };
        }
    }

    /// Each step with its state, in order.
    pub fn items(&self) -> impl Iterator<Item = (&'static Step, StepState)> + '_ {
        steps(self.role).iter().zip(self.states.iter().copied())
    }

    /// Starts over (for a new session of the same role).
    pub fn reset(&mut self) {
        self.states.fill(StepState::Pending);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_is_private() {
        for private in ["127.0.0.1", "127.9.9.9", "::1"] {
            assert_eq!(exposure(private.parse().unwrap()), None, "{private}");
        }
        for (exposed, says) in [
            ("0.0.0.0", "every network interface"),
            ("::", "every network interface"),
            ("192.0.2.7", "machines on that network"),
            ("2001:db8::1", "machines on that network"),
        ] {
            let note = exposure(exposed.parse().unwrap()).unwrap_or_default();
            assert!(
                note.starts_with(exposed) && note.contains(says),
                "{exposed}: {note}"
            );
        }
    }

    fn call(op: Op, args: &str, ok: bool) -> EventKind {
        EventKind::Call(SocketCall {
            conn: None,
            op,
            args: args.to_owned(),
            outcome: if ok {
                Ok(String::new())
            } else {
                Err("nope".into())
            },
        })
    }

    #[test]
    fn explains_calls_in_plain_words() {
        let bind = SocketCall {
            conn: None,
            op: Op::Bind,
            args: "127.0.0.1:9000".into(),
            outcome: Ok(String::new()),
        };
        assert!(explain_call(&bind).contains("claim this address and port"));
        let EventKind::Call(half) = call(Op::Shutdown, "SHUT_WR", true) else {
            unreachable!()
        };
        assert!(explain_call(&half).contains("half-close"));
        let EventKind::Call(failed) = call(Op::Connect, "127.0.0.1:1", false) else {
            unreachable!()
        };
        assert!(explain_call(&failed).ends_with("and it failed"));
    }

    #[test]
    fn checklist_ticks_in_order_of_real_calls() {
        let mut list = Checklist::new(Role::TcpServer);
        list.observe(&call(Op::Socket, "AF_INET, SOCK_STREAM", true));
        list.observe(&call(Op::SetSockOpt, "SO_REUSEADDR, 1", true));
        list.observe(&call(Op::Bind, "127.0.0.1:80", false));
        let states: Vec<StepState> = list.items().map(|(_, s)| s).collect();
        assert_eq!(
            states,
            [
                StepState::Done,
                StepState::Done,
                StepState::Failed,
                StepState::Pending,
                StepState::Pending
            ]
        );
        list.reset();
        assert!(list.items().all(|(_, s)| s == StepState::Pending));
    }
}
