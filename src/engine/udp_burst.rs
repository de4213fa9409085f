//! Batched UDP receive: the datagrams already waiting in a socket's buffer taken with one
//! `recvmmsg` system call (Linux, through `nix`'s safe wrapper) instead of one `recvfrom` each
//! plus two calls that switch the socket to non-blocking and back.
//!
//! Every slot is as large as any datagram can be, so nothing is ever cut short. The slots are
//! allocated zeroed and untouched, so a burst of small datagrams makes only the first page of
//! each slot resident (64 slots of 64 KiB are 4 MiB of address space, 256 KiB of memory).

use std::io::IoSliceMut;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd as _;

use nix::sys::socket::{MsgFlags, MultiHeaders, SockaddrStorage, recvmmsg};

/// Datagrams one call can take. The reader's batches hold at most as many.
pub(crate) const BURST_SLOTS: usize = 64;
/// One slot: larger than the largest UDP payload (65,527 bytes over IPv6).
const SLOT: usize = 64 * 1024;

/// Reusable buffers and headers for [`Burst::take_waiting`].
pub(crate) struct Burst {
    slots: Vec<u8>,
    headers: MultiHeaders<SockaddrStorage>,
    /// Length and sender of each datagram of the last call, in arrival order.
    taken: Vec<(usize, Option<SocketAddr>)>,
}

impl Burst {
    pub(crate) fn new() -> Self {
        Burst {
            slots: vec![0; BURST_SLOTS * SLOT],
            headers: MultiHeaders::preallocate(BURST_SLOTS, None),
            taken: Vec::with_capacity(BURST_SLOTS),
        }
    }

    /// Takes up to `max` datagrams that are waiting now, without waiting for more. Returns how
    /// many; "would block" when none was waiting.
    pub(crate) fn take_waiting(
        &mut self,
        socket: &UdpSocket,
        max: usize,
    ) -> std::io::Result<usize> {
        let max = max.clamp(1, BURST_SLOTS);
        self.taken.clear();
        let mut iovs: Vec<[IoSliceMut<'_>; 1]> = self
            .slots
            .chunks_mut(SLOT)
            .take(max)
            .map(|slot| [IoSliceMut::new(slot)])
            .collect();
        let results = recvmmsg(
            socket.as_raw_fd(),
            &mut self.headers,
            iovs.iter_mut(),
            MsgFlags::MSG_DONTWAIT,
            None,
        )
        .map_err(std::io::Error::from)?;
        for message in results {
            self.taken
                .push((message.bytes, message.address.as_ref().and_then(to_std)));
        }
        Ok(self.taken.len())
    }

    /// Datagram `i` of the last call and its sender (`None` if the system gave none).
    pub(crate) fn datagram(&self, i: usize) -> (&[u8], Option<SocketAddr>) {
        let (len, peer) = self.taken[i];
        let start = i * SLOT;
        (&self.slots[start..start + len.min(SLOT)], peer)
    }
}

fn to_std(address: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = address.as_sockaddr_in() {
        return Some(SocketAddr::from(*v4));
    }
    address.as_sockaddr_in6().map(|v6| SocketAddr::from(*v6))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_takes_every_waiting_datagram_in_order_with_its_sender() {
        let receiver = UdpSocket::bind("127.0.0.1:0").expect("bind the receiver");
        let sender = UdpSocket::bind("127.0.0.1:0").expect("bind the sender");
        let to = receiver.local_addr().expect("receiver address");
        let big = vec![7_u8; 65_507];
        let messages: Vec<Vec<u8>> = vec![b"one".to_vec(), Vec::new(), big, b"four".to_vec()];
        for m in &messages {
            sender.send_to(m, to).expect("send");
        }
        let mut burst = Burst::new();
        let mut got = Vec::new();
        // Loopback delivers at once, but a loaded machine may need more than one look.
        for _ in 0..100 {
            match burst.take_waiting(&receiver, BURST_SLOTS) {
                Ok(n) => {
                    for i in 0..n {
                        let (data, peer) = burst.datagram(i);
                        assert_eq!(peer, sender.local_addr().ok(), "the sender is reported");
                        got.push(data.to_vec());
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(e) => panic!("recvmmsg failed: {e}"),
            }
            if got.len() == messages.len() {
                break;
            }
        }
        assert_eq!(
            got, messages,
            "every datagram whole, empty ones included, in order"
        );
        let none = burst.take_waiting(&receiver, BURST_SLOTS);
        assert!(
            matches!(&none, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
            "nothing waiting: would block, got {none:?}"
        );
    }
}
