//! Closing the window in the middle of a 1 GiB transfer: the window's state is dropped (as eframe
//! does when the window closes) within a second, and every engine thread is joined.
//!
//! Closing one running session in a window that stays open: its threads are joined before the
//! close returns.
//!
//! Alone in its own test binary so the thread count of the process is these tests' own; the
//! tests take turns (a lock) so that neither counts the other's threads.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/gui.rs"]
mod gui_support;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use gui_support::{TIMEOUT, harness, listen_tcp_server, step_until, tcp_server};

const GIB: u64 = 1 << 30;

/// One test at a time: each counts the threads of the whole process.
static ALONE: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, Iterator::count)
}

#[test]
fn closing_the_window_during_a_1_gib_transfer_returns_within_a_second() {
    let _alone = ALONE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let threads_before = thread_count();
    let mut h = harness();
    let addr = listen_tcp_server(&mut h);

    let sender = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_write_timeout(Some(TIMEOUT)).unwrap();
        let chunk = vec![0x5a_u8; 1 << 20];
        let mut sent = 0_u64;
        while sent < GIB {
            match stream.write(&chunk) {
                Ok(n) => sent += n as u64,
                // The window went away and took the connection with it.
                Err(_) => break,
            }
        }
        sent
    });
    step_until(&mut h, "16 MiB of the transfer arrived", |h| {
        tcp_server(h).activity.counters.bytes_in >= 16 << 20
    });

    let closing = Instant::now();
    drop(h);
    let took = closing.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "closing the window took {took:?}"
    );

    let sent = sender.join().unwrap();
    assert!(
        sent < GIB,
        "the transfer was cut off by the close, not finished"
    );
    // Engine threads are joined before the drop returns; only the sender (now joined) remains.
    assert!(
        thread_count() <= threads_before,
        "threads before {threads_before}, after {}",
        thread_count()
    );
}

#[test]
fn closing_a_running_session_stops_it_and_joins_its_threads() {
    use egui_kittest::kittest::Queryable as _;
    use socketlab::gui::roles::{TcpClient, TcpServer};

    let _alone = ALONE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut h = harness();
    h.step();
    let idle = thread_count();
    let addr = listen_tcp_server(&mut h);
    let client = h
        .state()
        .sessions_of::<TcpClient>()
        .next()
        .map(|c| c.id)
        .unwrap();
    h.state_mut().focus(socketlab::gui::Pane::Session(client));
    h.step();
    gui_support::set_field(&mut h, "Port", &addr.port().to_string());
    gui_support::click(&mut h, "Connect");
    step_until(&mut h, "the client connects and the server has it", |h| {
        tcp_server(h).role.clients.len() == 1
            && h.state()
                .session_as::<TcpClient>(client)
                .is_some_and(|c| c.role.local.is_some())
    });
    let running = thread_count();
    assert!(
        running > idle,
        "the sessions run threads: {idle} idle, {running} running"
    );

    // The client's log has rows (connected): closing it asks once, then stops and joins.
    let title = h
        .state()
        .session(client)
        .map(socketlab::gui::session::Tab::title)
        .unwrap();
    h.get_by_label(&format!("Close session {title}")).click();
    h.step();
    h.step();
    h.get_by_label("Close session").click();
    h.step();
    assert!(
        h.state().session(client).is_none(),
        "the client session is gone"
    );
    let server = h
        .state()
        .sessions_of::<TcpServer>()
        .next()
        .map(|s| s.id)
        .unwrap();
    let title = h
        .state()
        .session(server)
        .map(socketlab::gui::session::Tab::title)
        .unwrap();
    h.state_mut().focus(socketlab::gui::Pane::Session(server));
    h.step();
    h.get_by_label(&format!("Close session {title}")).click();
    h.step();
    h.step();
    h.get_by_label("Close session").click();
    h.step();
    assert!(
        h.state().session(server).is_none(),
        "the server session is gone"
    );
    // Joined when the close returned: no waiting for threads to wind down.
    assert_eq!(
        thread_count(),
        idle,
        "threads: {idle} before starting, {running} running, {} after closing",
        thread_count()
    );
}
