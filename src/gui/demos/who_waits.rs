//! "Who waits after close?": the client closes first, and the kernel's own socket table shows
//! each side's TCP state as it moves — ESTABLISHED, then FIN-WAIT-2 on the closing side and
//! CLOSE-WAIT on the other, then TIME-WAIT on the closing side, still listed after the client's
//! socket is gone.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::{Fact, STEP_TIMEOUT, Script, Side, connected, tcp_server_on_loopback};
use crate::engine::tcp_state::{self, StateError, TcpState};
use crate::engine::{
    EventKind, TcpClientCommand, TcpClientConfig, TcpServerCommand, noop_waker, tcp_client,
};
use crate::gui::text_teach as tt;

/// How often the table is looked at while waiting for the kernel to move on: it has no event
/// to wait for, so the scene looks again at this pace, within [`STEP_TIMEOUT`].
const LOOK_EVERY: Duration = Duration::from_millis(10);

/// Waits (bounded) until the kernel lists `local → remote` in one of `want`; returns the state
/// it showed last (`None`: not listed at all).
fn kernel_state(
    local: SocketAddr,
    remote: SocketAddr,
    want: &[Option<TcpState>],
) -> Result<Option<TcpState>, StateError> {
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        let now = tcp_state::find(local, Some(remote))?
            .first()
            .map(|s| s.state);
        if want.contains(&now) || Instant::now() >= deadline {
            return Ok(now);
        }
        std::thread::sleep(LOOK_EVERY);
    }
}

pub(super) fn who_waits(script: &Script) -> Result<(), String> {
    let (server, addr) = tcp_server_on_loopback(script, true)?;
    let client = tcp_client::start(
        TcpClientConfig::new(addr.ip().to_string(), addr.port()),
        noop_waker(),
    );
    let (client_addr, _) = script.wait(Side::Client, &client, tt::DEMO_WAIT_CONNECT, connected)?;
    let conn = script.wait(Side::Server, &server, tt::DEMO_WAIT_ACCEPT, |k| match k {
        EventKind::Connected { conn, .. } => Some(*conn),
        _ => None,
    })?;
    let mut closer = Vec::new();
    let mut other = Vec::new();
    let mut look = |who: Side, want: &[Option<TcpState>]| -> Result<Option<TcpState>, String> {
        let (local, remote) = match who {
            Side::Client => (client_addr, addr),
            _ => (addr, client_addr),
        };
        let state = kernel_state(local, remote, want).map_err(|e| e.to_string())?;
        script.note(tt::who_waits_state(
            who == Side::Client,
            local,
            remote,
            state,
        ));
        if let Some(state) = state {
            if who == Side::Client {
                closer.push(state);
            } else {
                other.push(state);
            }
        }
        Ok(state)
    };
    let unavailable = |e: String| {
        script.note(e);
        script.result(tt::WHO_WAITS_UNAVAILABLE.to_string());
        script.fact(Fact::CloseStates {
            closer: Vec::new(),
            other: Vec::new(),
        });
        Ok(())
    };
    if let Err(e) = look(Side::Client, &[Some(TcpState::Established)]) {
        return unavailable(e);
    }
    look(Side::Server, &[Some(TcpState::Established)])?;

    script.note(tt::WHO_WAITS_CLIENT_CLOSES);
    client
        .send(TcpClientCommand::Close)
        .map_err(|e| e.plain_sentence())?;
    script.wait(Side::Server, &server, tt::DEMO_WAIT_END, |k| {
        matches!(k, EventKind::PeerFinished { .. }).then_some(())
    })?;
    look(Side::Client, &[Some(TcpState::FinWait2)])?;
    look(Side::Server, &[Some(TcpState::CloseWait)])?;
    // The client program's socket is gone from here on: what is listed is the kernel's alone.
    drop(client);
    script.note(tt::WHO_WAITS_SERVER_CLOSES);
    server
        .send(TcpServerCommand::Disconnect(conn))
        .map_err(|e| e.plain_sentence())?;
    script.wait(Side::Server, &server, tt::DEMO_WAIT_CLOSE, |k| {
        matches!(k, EventKind::Disconnected { .. }).then_some(())
    })?;
    let last = look(Side::Client, &[Some(TcpState::TimeWait)])?;
    look(Side::Server, &[None])?;
    script.fact(Fact::CloseStates {
        closer: closer.clone(),
        other: other.clone(),
    });
    script.result(tt::who_waits_result(last == Some(TcpState::TimeWait)));
    Ok(())
}
