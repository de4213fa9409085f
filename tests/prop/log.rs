//! Property tests for the bounded log: whatever its limits hide, its totals equal the sum of
//! everything appended, and it never holds more than its limits.

use std::time::SystemTime;

use proptest::prelude::*;
use socketlab::engine::log_store::{Direction, ENTRY_OVERHEAD, LogStore, PREVIEW_BYTES};

/// One thing done to the log.
#[derive(Debug, Clone)]
enum Step {
    Push(Direction, usize),
    Unseen(u64, u64),
    Budget(usize),
    Clear,
}

fn step() -> impl Strategy<Value = Step> {
    let direction = prop_oneof![
        Just(Direction::In),
        Just(Direction::Out),
        Just(Direction::Echo),
        Just(Direction::Note),
    ];
    prop_oneof![
        8 => (direction, 0..3 * PREVIEW_BYTES).prop_map(|(d, len)| Step::Push(d, len)),
        1 => (0..1000_u64, 0..100_000_u64).prop_map(|(p, b)| Step::Unseen(p, b)),
        1 => (0..64 * 1024_usize).prop_map(Step::Budget),
        1 => Just(Step::Clear),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn totals_count_everything_appended_whatever_was_hidden(
        max_entries in 1..50_usize,
        budget in 0..64 * 1024_usize,
        steps in proptest::collection::vec(step(), 0..200),
    ) {
        let mut log = LogStore::new(max_entries, budget);
        let (mut bytes_in, mut pieces_in, mut bytes_out, mut pieces_out) = (0_u64, 0_u64, 0_u64, 0_u64);
        let mut appended_since_clear = 0_u64;
        for step in steps {
            match step {
                Step::Push(direction, len) => {
                    let data = vec![0x41_u8; len];
                    log.push_data(SystemTime::now(), direction, None, None, &data);
                    match direction {
                        Direction::In => { bytes_in += len as u64; pieces_in += 1; }
                        Direction::Out | Direction::Echo => { bytes_out += len as u64; pieces_out += 1; }
                        Direction::Note => {}
                    }
                    appended_since_clear += 1;
                }
                Step::Unseen(pieces, bytes) => {
                    log.count_unseen_in(pieces, bytes, "not shown");
                    pieces_in += pieces;
                    bytes_in += bytes;
                    appended_since_clear += 1;
                }
                Step::Budget(bytes) => log.set_max_bytes(bytes),
                Step::Clear => {
                    log.clear();
                    appended_since_clear = 0;
                }
            }
            let totals = log.totals();
            prop_assert_eq!((totals.bytes_in, totals.pieces_in), (bytes_in, pieces_in));
            prop_assert_eq!((totals.bytes_out, totals.pieces_out), (bytes_out, pieces_out));
            // Every entry appended is either kept or counted as hidden.
            prop_assert_eq!(log.len() as u64 + log.hidden(), appended_since_clear);
            prop_assert!(log.len() <= max_entries);
            // Over budget only by the newest entry, which is always kept.
            let kept: usize = log.iter().map(|e| ENTRY_OVERHEAD + e.preview.len()).sum();
            prop_assert_eq!(kept, log.footprint());
            prop_assert!(log.footprint() <= log.max_bytes() || log.len() == 1);
            prop_assert!(log.iter().all(|e| e.preview.len() <= PREVIEW_BYTES && e.preview.len() <= e.len));
        }
    }
}
