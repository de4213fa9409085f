//! Property tests for framing: the same bytes, split into reads at any points, give the same
//! messages (and the same oversize reports), and every byte comes out exactly once — as a
//! message, an unfinished message, or discarded bytes.

use proptest::prelude::*;
use socketlab::engine::Chunk;
use socketlab::engine::framing::{
    Framer, Framing, FramingConfig, LengthPrefix, MessageBatch, Oversize, Piece,
};

/// A framing of every kind, with a small maximum so oversize episodes happen often.
fn framing() -> impl Strategy<Value = FramingConfig> {
    let kind = prop_oneof![
        Just(Framing::lf()),
        Just(Framing::crlf()),
        proptest::collection::vec(any::<u8>(), 1..4).prop_map(Framing::Delimiter),
        (
            prop_oneof![Just(1_u8), Just(2), Just(4)],
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(|(width, big_endian, includes_header)| {
                Framing::LengthPrefix(LengthPrefix {
                    width,
                    big_endian,
                    includes_header,
                })
            }),
        (1_usize..12).prop_map(Framing::Fixed),
    ];
    (
        kind,
        12_usize..64,
        prop_oneof![Just(Oversize::Resync), Just(Oversize::Stop)],
    )
        .prop_map(|(framing, max_message, on_oversize)| FramingConfig {
            framing,
            max_message,
            on_oversize,
        })
}

/// Bytes that the framings above often find messages in: small values (short length prefixes),
/// line endings and the delimiters' bytes.
fn stream() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![
            4 => 0_u8..8,
            2 => Just(b'\n'),
            1 => Just(b'\r'),
            3 => any::<u8>(),
        ],
        0..400,
    )
}

/// What a framer made of `reads`: (piece, bytes) with adjacent discarded bytes joined (they are
/// handed over per read), the number of oversize reports, and what still waits.
fn frame(config: &FramingConfig, reads: &[&[u8]]) -> (Vec<(Piece, Vec<u8>)>, usize, usize) {
    let mut framer = Framer::new(config.clone());
    let mut pieces: Vec<(Piece, Vec<u8>)> = Vec::new();
    let mut reports = 0;
    let mut take = |batch: MessageBatch, pieces: &mut Vec<(Piece, Vec<u8>)>| {
        for m in batch.iter() {
            reports += usize::from(m.overflow.is_some());
            match pieces.last_mut() {
                Some((Piece::Discarded, bytes)) if m.piece == Piece::Discarded => {
                    bytes.extend_from_slice(m.bytes);
                }
                _ => pieces.push((m.piece, m.bytes.to_vec())),
            }
        }
    };
    for read in reads {
        let batch = framer.push_chunk(Chunk::from_vec(read.to_vec()));
        take(batch, &mut pieces);
    }
    let waiting = framer.waiting();
    take(framer.finish(), &mut pieces);
    (pieces, reports, waiting)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn any_split_gives_the_same_messages(
        config in framing(),
        data in stream(),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let whole = frame(&config, &[&data]);
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(data.len() + 1)).collect();
        points.sort_unstable();
        let mut reads: Vec<&[u8]> = Vec::new();
        let mut from = 0;
        for p in points {
            reads.push(&data[from..p]);
            from = p;
        }
        reads.push(&data[from..]);
        let split = frame(&config, &reads);
        prop_assert_eq!(&split, &whole);
        // Every byte exactly once, in order.
        let joined: Vec<u8> = whole.0.iter().flat_map(|(_, b)| b.iter().copied()).collect();
        prop_assert_eq!(joined, data);
        // Nothing ever waits beyond the limit (the body maximum plus a length header).
        prop_assert!(split.2 <= config.max_message + 4);
    }
}
