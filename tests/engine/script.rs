//! The script runner on real loopback peers: step mode (a step only when asked), Stop in the
//! middle of a long expect, a refused connection, and a UDP script that listens and learns its
//! peer from the first datagram.

use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use socketlab::engine::noop_waker;
use socketlab::engine::script::{self, Outcome, ScriptCommand, ScriptEvent, ScriptRun, StartMode};

use crate::common::TIMEOUT;

fn next(run: &ScriptRun) -> ScriptEvent {
    run.events()
        .recv_timeout(TIMEOUT)
        .expect("the script reports within the timeout")
}

/// Events until `want` accepts one (included).
fn until(run: &ScriptRun, mut want: impl FnMut(&ScriptEvent) -> bool) -> Vec<ScriptEvent> {
    let mut seen = Vec::new();
    for _ in 0..10_000 {
        let event = next(run);
        let done = want(&event);
        seen.push(event);
        if done {
            return seen;
        }
    }
    panic!("no such event in 10,000: {seen:#?}");
}

fn outcome(run: &ScriptRun) -> Outcome {
    let events = until(run, |e| matches!(e, ScriptEvent::Finished(_)));
    match events.last() {
        Some(ScriptEvent::Finished(o)) => o.clone(),
        _ => unreachable!(),
    }
}

#[test]
fn step_mode_carries_out_one_step_per_command() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(TIMEOUT)).unwrap();
        let mut got = Vec::new();
        let mut buf = [0_u8; 64];
        while got.len() < 4 {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0, "the script closed early");
            got.extend_from_slice(&buf[..n]);
        }
        got
    });
    let text = format!(
        "[connect]\ntcp = \"{addr}\"\n[[steps]]\nsend = \"ab\"\n[[steps]]\nsend = \"cd\"\n"
    );
    let parsed = Arc::new(script::parse(&text).unwrap());
    let run = script::start(parsed, StartMode::Paused, noop_waker()).unwrap();
    let seen = until(&run, |e| matches!(e, ScriptEvent::Paused { entry: 0 }));
    assert!(
        seen.iter()
            .any(|e| matches!(e, ScriptEvent::Connected { .. })),
        "{seen:#?}"
    );
    // Paused: nothing is sent until Step.
    assert!(
        run.events()
            .recv_timeout(Duration::from_millis(200))
            .is_err(),
        "the run went on without a Step"
    );
    run.command(ScriptCommand::Step);
    let seen = until(&run, |e| matches!(e, ScriptEvent::Paused { entry: 1 }));
    assert!(
        seen.iter()
            .any(|e| matches!(e, ScriptEvent::StepFinished(r) if r.entry == 0 && r.result.is_ok())),
        "{seen:#?}"
    );
    run.command(ScriptCommand::Run);
    assert_eq!(outcome(&run), Outcome::Passed { steps: 2 });
    assert_eq!(peer.join().unwrap(), b"abcd");
}

#[test]
fn stop_ends_a_long_expect_at_once() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(TIMEOUT)).unwrap();
        let mut sink = Vec::new();
        let _ = s.read_to_end(&mut sink);
    });
    let text = format!(
        "[connect]\ntcp = \"{addr}\"\n[[steps]]\nexpect.contains = \"never\"\ntimeout_ms = 600000\n"
    );
    let parsed = Arc::new(script::parse(&text).unwrap());
    let run = script::start(parsed, StartMode::Run, noop_waker()).unwrap();
    until(&run, |e| matches!(e, ScriptEvent::StepStarted { entry: 0 }));
    let asked = Instant::now();
    run.command(ScriptCommand::Stop);
    assert_eq!(outcome(&run), Outcome::Stopped { steps: 1 });
    let took = asked.elapsed();
    // A bound, not a timing claim: the 10-minute expect did not run out.
    assert!(took < TIMEOUT, "Stop took {took:?}");
    drop(run);
    peer.join().unwrap();
}

#[test]
fn a_refused_connection_is_not_connected_with_the_address_named() {
    // A port that was just free: bound, then closed.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let text = format!("[connect]\ntcp = \"127.0.0.1:{port}\"\n[[steps]]\nsend = \"x\"\n");
    let parsed = Arc::new(script::parse(&text).unwrap());
    let run = script::start(parsed, StartMode::Run, noop_waker()).unwrap();
    match outcome(&run) {
        Outcome::NotConnected { sentence } => {
            assert!(
                sentence.contains(&format!("127.0.0.1:{port}")),
                "{sentence}"
            );
            assert!(sentence.to_lowercase().contains("refused"), "{sentence}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_udp_script_that_listens_answers_the_first_sender() {
    let text = "[listen]\nudp = \"127.0.0.1:0\"\nwait_ms = 20000\n[[steps]]\nexpect.equals = \"hi\"\n[[steps]]\nsend = \"hello, sender\"\n";
    let parsed = Arc::new(script::parse(text).unwrap());
    let run = script::start(parsed, StartMode::Run, noop_waker()).unwrap();
    let seen = until(&run, |e| matches!(e, ScriptEvent::Listening { .. }));
    let Some(ScriptEvent::Listening { local }) = seen.last() else {
        unreachable!()
    };
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    sender.set_read_timeout(Some(TIMEOUT)).unwrap();
    sender.send_to(b"hi", local).unwrap();
    let mut buf = [0_u8; 64];
    let (n, from) = sender.recv_from(&mut buf).unwrap();
    assert_eq!((&buf[..n], from), (b"hello, sender".as_slice(), *local));
    assert_eq!(outcome(&run), Outcome::Passed { steps: 2 });
}

#[test]
fn data_split_across_reads_is_gathered_for_one_expect() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let text = format!(
        "[connect]\ntcp = \"{addr}\"\n[[steps]]\nexpect.equals = \"HELLO WORLD\"\n[[steps]]\nexpect.equals = \"!\"\n"
    );
    let parsed = Arc::new(script::parse(&text).unwrap());
    let run = script::start(parsed, StartMode::Run, noop_waker()).unwrap();
    let (mut s, _) = listener.accept().unwrap();
    until(&run, |e| matches!(e, ScriptEvent::StepStarted { entry: 0 }));
    s.write_all(b"HELLO").unwrap();
    until(&run, |e| matches!(e, ScriptEvent::Received { .. }));
    s.write_all(b" WORLD!").unwrap();
    assert_eq!(outcome(&run), Outcome::Passed { steps: 2 });
}
