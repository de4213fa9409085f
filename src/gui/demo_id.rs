//! The names of the demos: a module of its own so that their texts ([`crate::gui::text_teach`])
//! and their scenes ([`crate::gui::demos`]) both use it without importing each other (its
//! `title` and `caption` are in [`crate::gui::text_teach`]).

/// The demos, in menu order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DemoId {
    /// Three sends, fewer reads; then three datagrams, three reads.
    Stream,
    /// The client half-closes; the server still replies.
    HalfClose,
    /// Two connections, two local ports.
    OwnPort,
    /// Connection refused; UDP silence, and refused when connected.
    NothingListening,
    /// 65,507 bytes go; 65,508 are refused.
    DatagramSize,
    /// getaddrinfo of `localhost`.
    OneName,
    /// The closing side ends in TIME-WAIT; the other passes CLOSE-WAIT (the kernel's table).
    WhoWaits,
    /// 100 datagrams through a 20%-loss relay, then 100 lines over TCP: all arrive.
    LossyUdp,
}

impl DemoId {
    /// Every demo, in menu order.
    pub const ALL: [DemoId; 8] = [
        DemoId::Stream,
        DemoId::HalfClose,
        DemoId::OwnPort,
        DemoId::NothingListening,
        DemoId::DatagramSize,
        DemoId::OneName,
        DemoId::WhoWaits,
        DemoId::LossyUdp,
    ];
}
