//! The socket engine: one worker thread per socket, reporting every call, byte and error as an
//! [`Event`] over a bounded channel. It knows nothing of the window; the GUI, the command line,
//! the tests and the benchmarks all drive it the same way.
//!
//! Start a session with a config and a [`Waker`] ([`tcp_client::start`], [`tcp_server::start`],
//! [`udp::start_client`], [`udp::start_server`]); the returned [`Session`] takes commands, hands
//! out events and reads exact counters. Dropping it stops the session and joins its threads.

pub mod autoreply;
pub mod capture;
pub mod checksum;
pub mod encoding;
pub mod error;
pub mod event;
pub mod explain;
pub mod file_send;
pub mod framing;
pub mod generator;
pub mod log_store;
pub mod lookup;
pub mod multicast;
pub mod options;
pub mod payload;
pub mod periodic;
pub mod relay;
pub mod script;
pub mod services;
pub mod session;
mod step;
pub mod tcp_client;
mod tcp_conn;
pub mod tcp_server;
pub mod tcp_state;
pub mod template;
pub mod tls;
pub mod udp;
#[cfg(target_os = "linux")]
mod udp_burst;

pub use capture::{CaptureConfig, SharedOutput};
pub use checksum::Checksum;
pub use error::{EngineError, ErrorClass, Op};
pub use event::{
    Chunk, CloseReason, ConnId, Datagram, DatagramBatch, Event, EventKind, Payload, SocketCall,
    StopReason,
};
pub use file_send::{FileSendEvent, FileStage};
pub use framing::{Framing, FramingConfig, MessageBatch};
pub use options::TcpOptions;
pub use session::{ClientSnapshot, CounterSnapshot, QueueSizes, Session, Waker, noop_waker};
pub use tcp_client::{TcpClient, TcpClientCommand, TcpClientConfig};
pub use tcp_server::{TcpServer, TcpServerCommand, TcpServerConfig};
pub use template::Template;
pub use tls::{
    CertInfo, ServerIdentity, TlsClientSettings, TlsEvent, TlsFailure, TlsFailureKind,
    TlsServerSettings, TlsStep, Verification,
};
pub use udp::{UdpClientConfig, UdpCommand, UdpServerConfig, UdpSession};
