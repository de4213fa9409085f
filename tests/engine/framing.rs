//! Framing on real loopback connections: every kind of framing cuts what a plain `std::net`
//! client writes into the messages it meant, says how many reads each took (the client waits
//! for the server to report each read before it writes the next piece, so the reads are the
//! ones the test intends), reports an oversized length prefix once and resynchronises or stops,
//! and the reply rules and template sends see and make messages.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly; that is its job

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use crate::common::{TIMEOUT, bound_addr, connected, wait};
use socketlab::engine::autoreply::{
    AutoReply, ByteRegex, Combine, Condition, HexPattern, ReplyAction, ReplyRule,
};
use socketlab::engine::checksum::Checksum;
use socketlab::engine::framing::{Framing, FramingConfig, LengthPrefix, Oversize, Piece};
use socketlab::engine::template::Template;
use socketlab::engine::{
    self, CloseReason, EngineError, EventKind, TcpClientCommand, TcpClientConfig, TcpServer,
    TcpServerConfig, noop_waker,
};

/// One piece as the test sees it: kind, bytes, reads, and whether it carried the oversize report.
type Seen = (Piece, Vec<u8>, u32, bool);

fn server(framing: FramingConfig, auto_reply: AutoReply) -> (TcpServer, TcpStream) {
    let server = engine::tcp_server::start(
        TcpServerConfig {
            framing,
            auto_reply,
            ..TcpServerConfig::default()
        },
        noop_waker(),
    );
    let addr = bound_addr(&server);
    let client = TcpStream::connect(addr).unwrap();
    client.set_read_timeout(Some(TIMEOUT)).unwrap();
    connected(&server);
    (server, client)
}

/// Writes each piece once the server has reported the read of the one before, and collects the
/// pieces the framer made until `want` of them have come.
fn send_in_reads(
    server: &TcpServer,
    client: &mut TcpStream,
    pieces: &[&[u8]],
    want: usize,
) -> Vec<Seen> {
    let mut seen = Vec::new();
    let take = |batch: &engine::MessageBatch, seen: &mut Vec<Seen>| {
        for m in batch.iter() {
            seen.push((m.piece, m.bytes.to_vec(), m.reads, m.overflow.is_some()));
        }
    };
    for piece in pieces {
        client.write_all(piece).unwrap();
        let event = wait(
            server,
            "the read of one piece",
            |e| matches!(&e.kind, EventKind::Messages { batch, .. } if batch.read_len().is_some()),
        );
        let EventKind::Messages { batch, .. } = &event.kind else {
            unreachable!()
        };
        assert_eq!(batch.read_len(), Some(piece.len()), "one write, one read");
        take(batch, &mut seen);
    }
    while seen.len() < want {
        let event = wait(server, "more messages", |e| {
            matches!(e.kind, EventKind::Messages { .. })
        });
        if let EventKind::Messages { batch, .. } = &event.kind {
            take(batch, &mut seen);
        }
    }
    seen
}

fn message(bytes: &[u8], reads: u32) -> Seen {
    (Piece::Message, bytes.to_vec(), reads, false)
}

fn framed(framing: Framing) -> FramingConfig {
    FramingConfig::new(framing)
}

#[test]
fn lines_end_at_lf_and_say_how_many_reads_they_took() {
    let (server, mut client) = server(framed(Framing::lf()), AutoReply::Off);
    let seen = send_in_reads(&server, &mut client, &[b"he", b"llo", b"\nworld\n\n"], 3);
    assert_eq!(
        seen,
        vec![
            message(b"hello\n", 3),
            message(b"world\n", 1),
            message(b"\n", 1)
        ]
    );
    assert_eq!(server.counters().reads, 3, "every read is counted");
    assert_eq!(server.counters().bytes_in, 13, "every byte is counted");
}

#[test]
fn crlf_split_between_two_reads_ends_the_message() {
    let (server, mut client) = server(framed(Framing::crlf()), AutoReply::Off);
    let seen = send_in_reads(&server, &mut client, &[b"OK\r", b"\nbare\nline\r\n"], 2);
    assert_eq!(
        seen,
        vec![message(b"OK\r\n", 2), message(b"bare\nline\r\n", 1)]
    );
}

#[test]
fn any_byte_string_ends_a_message() {
    // STX … ETX frames end at ETX (0x03).
    let (server, mut client) = server(framed(Framing::Delimiter(vec![0x03])), AutoReply::Off);
    let seen = send_in_reads(&server, &mut client, &[b"\x02ab\x03\x02c", b"d\x03"], 2);
    assert_eq!(
        seen,
        vec![message(b"\x02ab\x03", 1), message(b"\x02cd\x03", 2)]
    );
}

#[test]
fn a_length_prefix_split_inside_its_header_and_its_body() {
    let prefix = LengthPrefix {
        width: 2,
        big_endian: true,
        includes_header: false,
    };
    let (server, mut client) = server(framed(Framing::LengthPrefix(prefix)), AutoReply::Off);
    let seen = send_in_reads(
        &server,
        &mut client,
        &[b"\x00", b"\x05he", b"llo\x00\x00\x00\x01!"],
        3,
    );
    assert_eq!(
        seen,
        vec![
            message(b"\x00\x05hello", 3),
            message(b"\x00\x00", 1),
            message(b"\x00\x01!", 1)
        ]
    );
}

#[test]
fn a_little_endian_length_that_counts_its_header() {
    let prefix = LengthPrefix {
        width: 4,
        big_endian: false,
        includes_header: true,
    };
    let (server, mut client) = server(framed(Framing::LengthPrefix(prefix)), AutoReply::Off);
    let seen = send_in_reads(
        &server,
        &mut client,
        &[b"\x06\x00\x00\x00hi\x04\x00", b"\x00\x00"],
        2,
    );
    assert_eq!(
        seen,
        vec![
            message(b"\x06\x00\x00\x00hi", 1),
            message(b"\x04\x00\x00\x00", 2)
        ]
    );
}

#[test]
fn fixed_size_records() {
    let (server, mut client) = server(framed(Framing::Fixed(4)), AutoReply::Off);
    let seen = send_in_reads(&server, &mut client, &[b"abcdef", b"gh"], 2);
    assert_eq!(seen, vec![message(b"abcd", 1), message(b"efgh", 2)]);
}

#[test]
fn an_idle_gap_ends_a_message_and_an_idle_connection_waits_without_a_timeout() {
    let gap = Duration::from_millis(400);
    let (server, mut client) = server(framed(Framing::IdleGap(gap)), AutoReply::Off);
    let seen = send_in_reads(&server, &mut client, &[b"burst ", b"one"], 1);
    assert_eq!(seen, vec![message(b"burst one", 2)]);
    // The gap's message came from no read: the receive timed out.
    let seen = send_in_reads(&server, &mut client, &[b"two"], 1);
    assert_eq!(seen, vec![message(b"two", 1)]);
}

#[test]
fn a_message_of_the_maximum_size_passes_and_one_byte_more_is_reported_once_then_resynchronised() {
    let max = 1000;
    let prefix = LengthPrefix {
        width: 2,
        big_endian: true,
        includes_header: false,
    };
    let config = FramingConfig {
        framing: Framing::LengthPrefix(prefix),
        max_message: max,
        on_oversize: Oversize::Resync,
    };
    let (server, mut client) = server(config, AutoReply::Off);
    let body = vec![b'x'; max];
    let mut frame = vec![0x03, 0xe8];
    frame.extend_from_slice(&body);
    // Then a header that announces 1001 bytes, then 0xff, then a valid frame: the framer slides
    // one byte at a time (0x03e9, 0xe9ff, 0xff00 are all too big) until 0x0002 is valid.
    let mut stream = frame.clone();
    stream.extend_from_slice(&[0x03, 0xe9, 0xff, 0x00, 0x02, b'o', b'k']);
    let seen = send_in_reads(&server, &mut client, &[&stream[..600], &stream[600..]], 3);
    assert_eq!(seen[0], message(&frame, 2));
    assert_eq!(
        seen[1],
        (Piece::Discarded, vec![0x03, 0xe9, 0xff], 1, true),
        "the offending bytes, reported once"
    );
    assert_eq!(seen[2], message(b"\x00\x02ok", 1));
    assert_eq!(seen.iter().filter(|s| s.3).count(), 1);
}

#[test]
fn an_oversized_length_can_stop_the_connection_with_the_reason() {
    let config = FramingConfig {
        framing: Framing::LengthPrefix(LengthPrefix {
            width: 1,
            big_endian: true,
            includes_header: false,
        }),
        max_message: 16,
        on_oversize: Oversize::Stop,
    };
    let (server, mut client) = server(config, AutoReply::Off);
    client.write_all(b"\x02ok\x40garbage").unwrap();
    let mut pieces = Vec::new();
    let end = wait(&server, "the connection's end", |e| {
        if let EventKind::Messages { batch, .. } = &e.kind {
            pieces.extend(batch.iter().map(|m| (m.piece, m.bytes.to_vec())));
        }
        matches!(e.kind, EventKind::Disconnected { .. })
    });
    assert_eq!(pieces[0], (Piece::Message, b"\x02ok".to_vec()));
    assert_eq!(pieces[1], (Piece::Discarded, b"\x40garbage".to_vec()));
    let EventKind::Disconnected { reason, .. } = end.kind else {
        unreachable!()
    };
    let CloseReason::Failed(EngineError::Oversize { declared, max, .. }) = &reason else {
        panic!("closed for another reason: {reason}");
    };
    assert_eq!((*declared, *max), (Some(64), 16));
    assert!(
        EngineError::Oversize {
            peer: String::new(),
            framing: "len:1be".into(),
            declared: Some(64),
            max: 16
        }
        .plain_sentence()
        .contains("announced 64 bytes")
    );
}

#[test]
fn a_line_longer_than_the_maximum_is_discarded_to_its_end_and_the_next_line_arrives() {
    let config = FramingConfig {
        framing: Framing::lf(),
        max_message: 8,
        on_oversize: Oversize::Resync,
    };
    let (server, mut client) = server(config, AutoReply::Off);
    let seen = send_in_reads(
        &server,
        &mut client,
        &[b"1234567\n", b"0123456789", b"abc\nok\n"],
        3,
    );
    assert_eq!(
        seen[0],
        message(b"1234567\n", 1),
        "eight bytes: the maximum"
    );
    let discarded: Vec<u8> = seen
        .iter()
        .filter(|s| s.0 == Piece::Discarded)
        .flat_map(|s| s.1.clone())
        .collect();
    assert_eq!(discarded, b"0123456789abc\n");
    assert_eq!(seen.iter().filter(|s| s.3).count(), 1, "reported once");
    assert_eq!(seen.last(), Some(&message(b"ok\n", 1)));
}

#[test]
fn the_end_of_the_stream_hands_over_an_unfinished_message() {
    let (server, mut client) = server(framed(Framing::lf()), AutoReply::Off);
    client.write_all(b"done\nhalf").unwrap();
    client.shutdown(std::net::Shutdown::Write).unwrap();
    let mut pieces = Vec::new();
    wait(&server, "end of stream", |e| {
        if let EventKind::Messages { batch, .. } = &e.kind {
            pieces.extend(batch.iter().map(|m| (m.piece, m.bytes.to_vec())));
        }
        matches!(e.kind, EventKind::PeerFinished { .. })
    });
    assert_eq!(
        pieces,
        vec![
            (Piece::Message, b"done\n".to_vec()),
            (Piece::Unfinished, b"half".to_vec())
        ]
    );
}

fn read_exact(stream: &mut TcpStream, len: usize) -> Vec<u8> {
    let mut buf = vec![0; len];
    stream.read_exact(&mut buf).unwrap();
    buf
}

#[test]
fn rules_see_messages_reply_with_groups_and_a_checksum_and_can_silence_echo() {
    let get = ReplyRule::new(
        vec![Condition::Regex(
            ByteRegex::new(r"^GET (?P<path>\S+)$").unwrap(),
        )],
        Combine::All,
        ReplyAction::Reply(Template::parse_reply("{seq} {path}\\n", true).unwrap()),
    )
    .unwrap();
    let quiet = ReplyRule::new(
        vec![
            Condition::StartsWith(b"quiet".to_vec()),
            Condition::EndsWith(b"!".to_vec()),
        ],
        Combine::Any,
        ReplyAction::NoReply,
    )
    .unwrap();
    let modbus = ReplyRule::new(
        vec![
            Condition::HexPattern(HexPattern::parse("01 03 ?? ?? 00 0B").unwrap()),
            Condition::Length { min: 6, max: 6 },
        ],
        Combine::All,
        ReplyAction::Reply(
            Template::literal(&[0x01, 0x03, 0x00]).with_checksum(Some(Checksum::Crc16Modbus)),
        ),
    )
    .unwrap();
    let auto = AutoReply::ReplyRules {
        rules: vec![get, quiet, modbus],
        otherwise_echo: true,
    };
    let (server, mut client) = server(framed(Framing::lf()), auto);
    // Two messages in one write: the rules see each, not the read.
    client.write_all(b"GET /a\nGET /b\n").unwrap();
    assert_eq!(read_exact(&mut client, 10), b"1 /a\n2 /b\n");
    // "quiet…" and "…!" get nothing; the next echo proves nothing came before it.
    client.write_all(b"quiet please\nstop!\necho me\n").unwrap();
    assert_eq!(
        read_exact(&mut client, 8),
        b"echo me\n",
        "echo sends the whole message"
    );
    client.write_all(b"\x01\x03\x00\x00\x00\x0b\n").unwrap();
    assert_eq!(read_exact(&mut client, 5), [0x01, 0x03, 0x00, 0x20, 0xf0]);
    assert_eq!(server.next_template_seq(), 4, "every reply took a {{seq}}");
}

#[test]
fn template_sends_number_themselves_and_the_preview_is_what_goes_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let client = engine::tcp_client::start(TcpClientConfig::new("127.0.0.1", port), noop_waker());
    let (mut peer, _) = listener.accept().unwrap();
    peer.set_read_timeout(Some(TIMEOUT)).unwrap();
    connected(&client);
    let template = Arc::new(
        Template::parse(r"#{seq} {rand:2}\r\n")
            .unwrap()
            .with_checksum(Some(Checksum::Xor8)),
    );
    let preview = client.preview_template(&template);
    client
        .send(TcpClientCommand::SendTemplate(Arc::clone(&template)))
        .unwrap();
    client
        .send(TcpClientCommand::SendTemplate(template))
        .unwrap();
    let first = read_exact(&mut peer, preview.len());
    assert_eq!(first, preview);
    assert!(first.starts_with(b"#1 "));
    let second = read_exact(&mut peer, preview.len());
    assert!(second.starts_with(b"#2 "), "{second:?}");
    let xor = second[..second.len() - 1].iter().fold(0, |a, b| a ^ b);
    assert_eq!(second.last(), Some(&xor));
}
