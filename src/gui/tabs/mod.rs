//! The four tabs. Each is a view model: `apply` folds engine events into view state, `ui` draws
//! it and returns the user's action, `perform` carries an action out. None of them touches a
//! socket; they only talk to engine sessions.

pub mod lookup;
pub mod tcp_client;
pub mod tcp_server;
pub mod udp_client;
pub mod udp_server;
