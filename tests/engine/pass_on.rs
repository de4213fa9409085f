//! Received data that only passes through: a TCP server whose readers write it to a shared
//! output themselves (the command line's `--output raw`) or only to capture files, without a
//! `Received` event per read. Every byte must still arrive, in order, and be counted exactly.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly; that is its job

use std::io::Write;
use std::net::TcpStream;
use std::sync::{Arc, Mutex};

use crate::common::{TIMEOUT, bound_addr, collect_until};
use socketlab::engine::{
    self, CaptureConfig, EventKind, SharedOutput, TcpServerConfig, noop_waker,
};

/// A writer the test can read back: the bytes the server's readers wrote, in order.
#[derive(Clone, Default)]
struct Collected(Arc<Mutex<Vec<u8>>>);

impl Write for Collected {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A writer whose reader has gone away, as standard output piped into `head`.
struct Closed;

impl Write for Closed {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(std::io::ErrorKind::BrokenPipe.into())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Bytes that are not a repeating pattern, so a lost or doubled read cannot compare equal.
fn pattern(len: usize) -> Vec<u8> {
    let mut state = 0x2545_F491_4F6C_DD1D_u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

#[test]
fn readers_write_the_shared_output_byte_for_byte_without_data_events() {
    let out = Collected::default();
    let server = engine::tcp_server::start(
        TcpServerConfig {
            output: Some(SharedOutput::new("test output", out.clone())),
            data_events: false,
            ..TcpServerConfig::default()
        },
        noop_waker(),
    );
    let addr = bound_addr(&server);
    let data = pattern(8 * 1024 * 1024);
    let mut client = TcpStream::connect(addr).unwrap();
    client.set_write_timeout(Some(TIMEOUT)).unwrap();
    client.write_all(&data).unwrap();
    drop(client);
    let events = collect_until(&server, "the client's disconnect", |e| {
        matches!(e.kind, EventKind::Disconnected { .. })
    });
    assert!(
        !events
            .iter()
            .any(|e| matches!(e.kind, EventKind::Received { .. })),
        "no Received event when the owner does not look at the data"
    );
    let written = out.0.lock().unwrap().clone();
    assert_eq!(written.len(), data.len(), "every byte reached the output");
    assert!(written == data, "the output holds the bytes in order");
    let counters = server.counters();
    assert_eq!(counters.bytes_in, data.len() as u64, "the counter is exact");
    assert!(counters.reads > 0, "reads are counted");
}

#[test]
fn without_data_events_the_capture_still_holds_every_byte_and_echo_still_answers() {
    let dir = std::env::temp_dir().join(format!("socketlab-pass-on-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let server = engine::tcp_server::start(
        TcpServerConfig {
            capture: Some(CaptureConfig::new(dir.join("in.bin"))),
            data_events: false,
            echo: true,
            ..TcpServerConfig::default()
        },
        noop_waker(),
    );
    let addr = bound_addr(&server);
    let data = pattern(300_000);
    let mut client = TcpStream::connect(addr).unwrap();
    client.set_read_timeout(Some(TIMEOUT)).unwrap();
    client.set_write_timeout(Some(TIMEOUT)).unwrap();
    let mut writer = client.try_clone().unwrap();
    let sent = data.clone();
    let sending = std::thread::spawn(move || {
        writer.write_all(&sent).unwrap();
        writer.shutdown(std::net::Shutdown::Write).unwrap();
    });
    let mut echoed = Vec::new();
    std::io::Read::read_to_end(&mut client, &mut echoed).unwrap();
    sending.join().unwrap();
    assert!(echoed == data, "the echo came back whole and in order");
    collect_until(&server, "the client's disconnect", |e| {
        matches!(e.kind, EventKind::Disconnected { .. })
    });
    assert!(
        std::fs::read(dir.join("in-1.bin")).unwrap() == data,
        "captured whole"
    );
    let counters = server.counters();
    assert_eq!(counters.bytes_in, data.len() as u64);
    assert_eq!(counters.bytes_out, data.len() as u64);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_output_that_fails_ends_the_connection_with_an_error_naming_it() {
    let server = engine::tcp_server::start(
        TcpServerConfig {
            output: Some(SharedOutput::new("standard output", Closed)),
            data_events: false,
            ..TcpServerConfig::default()
        },
        noop_waker(),
    );
    let addr = bound_addr(&server);
    let mut client = TcpStream::connect(addr).unwrap();
    client.set_write_timeout(Some(TIMEOUT)).unwrap();
    client.write_all(b"nobody reads this").unwrap();
    let events = collect_until(&server, "the connection's end", |e| {
        matches!(e.kind, EventKind::Disconnected { .. })
    });
    let named = events.iter().any(|e| {
        matches!(&e.kind, EventKind::Error(err) if err.plain_sentence().contains("standard output"))
    });
    assert!(named, "the error names the output: {events:#?}");
    assert!(
        matches!(
            events.last().map(|e| &e.kind),
            Some(EventKind::Disconnected {
                reason: engine::CloseReason::Failed(_),
                ..
            })
        ),
        "the connection ended because of it"
    );
}
