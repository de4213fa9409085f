//! Socket Lab: click through real TCP and UDP sockets and see what they do.
//!
//! ```text
//!  ┌──────── GUI thread (eframe/egui) ────────┐        ┌──── engine (no egui) ────┐
//!  │ drain every session's events (bounded     │ events │ one worker per socket:    │
//!  │ work per frame); draw tabs; a click       │◄───────│ owns a blocking socket2   │
//!  │ becomes a command                         │───────►│ socket, reports each call,│
//!  └───────────────────────────────────────────┘commands│ byte and error as events  │
//!        the command line drives the same engine        └───────────────────────────┘
//! ```
//!
//! [`engine`] is the heart: sessions for the four roles (TCP client and server, UDP client and
//! server), each a handle that takes commands and yields [`engine::Event`]s.
//!
//! Start a TCP server on a port the system chooses, and read its events:
//!
//! ```
//! use std::time::Duration;
//! use socketlab::engine::{self, EventKind, TcpServerConfig};
//!
//! let server = engine::tcp_server::start(TcpServerConfig::default(), engine::noop_waker());
//! let listening = server.wait_for(
//!     Duration::from_secs(5),
//!     |e| matches!(e.kind, EventKind::Listening { .. }),
//!     |e| {
//!         if let Some(line) = e.kind.transcript_line() {
//!             println!("{line}"); // socket(AF_INET, SOCK_STREAM) → new socket, bind(...), listen(...)
//!         }
//!     },
//! );
//! assert!(listening.is_some());
//! println!("listening on {:?}", server.local_addr());
//! drop(server); // stops the session and joins its threads
//! ```

pub mod cli;
pub mod engine;
pub mod gui;
