//! A bounded log of what was sent and received, with totals that never drop anything.
//!
//! The window (and any other viewer) keeps its log here: entries are capped by count and by
//! bytes kept, each entry keeps only a bounded preview of its data (a 10 MB read is not copied
//! whole), and when the cap removes old entries the store counts them so the view can say
//! "N older entries hidden". The totals count every byte that was appended, hidden or not.
//!
//! The memory budget counts what an entry really costs (the entry itself and its preview's
//! allocation), not only the preview bytes: a log of a million 64-byte datagrams is mostly
//! bookkeeping, and a budget that left that out would not bound anything.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::SystemTime;

use super::event::ConnId;

/// Bytes of each entry's data kept for display; the entry still records the full length.
/// As large as the largest read (64 KiB) or datagram, so an entry's hex dump shows every byte it
/// stands for; the store's byte budget, not this, bounds the memory.
pub const PREVIEW_BYTES: usize = 64 * 1024;

/// Entries the window's logs keep by default: a million rows (Packet Sender keeps 10,000), enough
/// for a minute and a half of a 10,000 datagrams/s flood.
pub const DEFAULT_MAX_ENTRIES: usize = 1_000_000;

/// The default memory budget of a log, in bytes as counted by [`LogStore::footprint`]: a million
/// small entries fit (≈ 180 bytes each for 64-byte data); large ones are capped by this first.
pub const DEFAULT_MAX_BYTES: usize = 256 * 1024 * 1024;

/// What an entry costs besides its preview's bytes: the entry in the queue, and the allocator's
/// bookkeeping of the preview's heap block (16 bytes with glibc's malloc).
pub const ENTRY_OVERHEAD: usize = std::mem::size_of::<LogEntry>() + 16;

/// Which way the bytes went, or a note that is not data at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Received from the peer.
    In,
    /// Sent because you asked.
    Out,
    /// Sent back automatically by echo mode.
    Echo,
    /// Something worth seeing in the log that is not data (connected, peer finished, an error).
    Note,
}

/// One log row.
#[derive(Debug, Clone)]
pub struct LogEntry {
    /// When it happened.
    pub at: SystemTime,
    /// Which way.
    pub direction: Direction,
    /// The other end, where known.
    pub peer: Option<SocketAddr>,
    /// The TCP connection on a server, where it belongs to one.
    pub conn: Option<ConnId>,
    /// The full length of the data (for a note, of its text).
    pub len: usize,
    /// The first [`PREVIEW_BYTES`] bytes (for a note, its text as UTF-8).
    pub preview: Box<[u8]>,
    /// A received datagram: whether it was sent to a group, a broadcast address or this host,
    /// where the system tells (one byte).
    pub to: Option<super::multicast::DestinationKind>,
    /// With framing on: what framing made of these bytes (a message and how many reads it
    /// took, an unfinished message, or bytes discarded after an oversized one).
    pub framed: Option<Framed>,
}

/// What framing says about a received log entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framed {
    /// A message, the start of one that never finished, or discarded bytes.
    pub piece: super::framing::Piece,
    /// How many reads its bytes came from.
    pub reads: u32,
}

impl LogEntry {
    /// True when the preview holds less than the whole data.
    pub fn is_truncated(&self) -> bool {
        self.preview.len() < self.len
    }
}

/// Exact totals of everything ever appended (clearing the view or hitting the cap keeps them).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LogTotals {
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent (including echoes).
    pub bytes_out: u64,
    /// Received pieces: TCP reads or UDP datagrams.
    pub pieces_in: u64,
    /// Sent pieces: TCP writes or UDP datagrams (including echoes).
    pub pieces_out: u64,
}

/// The bounded log.
#[derive(Debug)]
pub struct LogStore {
    entries: VecDeque<LogEntry>,
    max_entries: usize,
    max_bytes: usize,
    kept_bytes: usize,
    hidden: u64,
    appended: u64,
    totals: LogTotals,
}

impl Default for LogStore {
    fn default() -> Self {
        LogStore::new(DEFAULT_MAX_ENTRIES, DEFAULT_MAX_BYTES)
    }
}

impl LogStore {
    /// A log that keeps at most `max_entries` entries and `max_bytes` bytes of memory as counted
    /// by [`LogStore::footprint`] (at least one entry is always kept).
    pub fn new(max_entries: usize, max_bytes: usize) -> Self {
        LogStore {
            entries: VecDeque::new(),
            max_entries: max_entries.max(1),
            max_bytes,
            kept_bytes: 0,
            hidden: 0,
            appended: 0,
            totals: LogTotals::default(),
        }
    }

    /// Appends data that went `direction`, keeping a bounded preview and counting all of it.
    pub fn push_data(
        &mut self,
        at: SystemTime,
        direction: Direction,
        peer: Option<SocketAddr>,
        conn: Option<ConnId>,
        data: &[u8],
    ) {
        match direction {
            Direction::In => {
                self.totals.bytes_in += data.len() as u64;
                self.totals.pieces_in += 1;
            }
            Direction::Out | Direction::Echo => {
                self.totals.bytes_out += data.len() as u64;
                self.totals.pieces_out += 1;
            }
            Direction::Note => {}
        }
        let preview = &data[..data.len().min(PREVIEW_BYTES)];
        self.push(LogEntry {
            at,
            direction,
            peer,
            conn,
            len: data.len(),
            preview: preview.into(),
            to: None,
            framed: None,
        });
    }

    /// Appends a received piece of a framed stream (counted as one received piece).
    pub fn push_framed(
        &mut self,
        at: SystemTime,
        peer: Option<SocketAddr>,
        conn: Option<ConnId>,
        data: &[u8],
        framed: Framed,
    ) {
        self.totals.bytes_in += data.len() as u64;
        self.totals.pieces_in += 1;
        let preview = &data[..data.len().min(PREVIEW_BYTES)];
        self.push(LogEntry {
            at,
            direction: Direction::In,
            peer,
            conn,
            len: data.len(),
            preview: preview.into(),
            framed: Some(framed),
            to: None,
        });
    }

    /// Appends a received datagram with what it was addressed to (a group, a broadcast
    /// address, this host).
    pub fn push_datagram_in(
        &mut self,
        at: SystemTime,
        peer: SocketAddr,
        data: &[u8],
        to: Option<super::multicast::DestinationKind>,
    ) {
        self.push_data(at, Direction::In, Some(peer), None, data);
        if let Some(last) = self.entries.back_mut() {
            last.to = to;
        }
    }

    /// Appends one row that stands for `len` bytes sent in `pieces` writes or datagrams, of which
    /// only `preview` (the first bytes) is at hand: a file send, whose bytes never pass through
    /// the view. The totals count all of them.
    pub fn push_summary(
        &mut self,
        at: SystemTime,
        peer: Option<SocketAddr>,
        conn: Option<ConnId>,
        len: u64,
        pieces: u64,
        preview: &[u8],
    ) {
        self.totals.bytes_out += len;
        self.totals.pieces_out += pieces;
        let kept = &preview[..preview.len().min(PREVIEW_BYTES)];
        self.push(LogEntry {
            at,
            direction: Direction::Out,
            peer,
            conn,
            len: usize::try_from(len).unwrap_or(usize::MAX),
            preview: kept.into(),
            to: None,
            framed: None,
        });
    }

    /// Appends a note (a line of text that is not data).
    pub fn push_note(&mut self, at: SystemTime, peer: Option<SocketAddr>, text: &str) {
        self.push_data(at, Direction::Note, peer, None, text.as_bytes());
    }

    /// Counts data that was received but never reached the view (for example UDP datagrams the
    /// engine could not queue), so the totals stay exact, and notes it in the log.
    pub fn count_unseen_in(&mut self, pieces: u64, bytes: u64, note: &str) {
        self.totals.pieces_in += pieces;
        self.totals.bytes_in += bytes;
        self.push_note(SystemTime::now(), None, note);
    }

    fn push(&mut self, entry: LogEntry) {
        self.appended += 1;
        self.kept_bytes += entry.preview.len();
        self.entries.push_back(entry);
        self.trim();
    }

    /// Hides the oldest entries until the log fits its limits again.
    fn trim(&mut self) {
        while self.entries.len() > self.max_entries
            || (self.footprint() > self.max_bytes && self.entries.len() > 1)
        {
            if let Some(old) = self.entries.pop_front() {
                self.kept_bytes -= old.preview.len();
                self.hidden += 1;
            }
        }
    }

    /// Changes the memory budget (as [`LogStore::footprint`] counts it); a smaller one hides the
    /// oldest entries at once (counted as hidden, the totals stay exact).
    pub fn set_max_bytes(&mut self, max_bytes: usize) {
        self.max_bytes = max_bytes;
        self.trim();
    }

    /// Empties the view. The totals are kept: they count what happened, not what is shown.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.kept_bytes = 0;
        self.hidden = 0;
    }

    /// How many entries are kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no entry is kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The kept entry at `index` (0 is the oldest kept).
    pub fn get(&self, index: usize) -> Option<&LogEntry> {
        self.entries.get(index)
    }

    /// The kept entries, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &LogEntry> {
        self.entries.iter()
    }

    /// How many entries were ever appended (neither the cap nor [`LogStore::clear`] lowers it):
    /// a mark for [`LogStore::since`].
    pub fn appended(&self) -> u64 {
        self.appended
    }

    /// The kept entries appended after `mark` (a value of [`LogStore::appended`] taken earlier),
    /// oldest first.
    pub fn since(&self, mark: u64) -> impl DoubleEndedIterator<Item = &LogEntry> {
        let newer = usize::try_from(self.appended.saturating_sub(mark)).unwrap_or(usize::MAX);
        self.entries
            .iter()
            .skip(self.entries.len().saturating_sub(newer))
    }

    /// How many older entries the cap has removed since the last [`LogStore::clear`].
    pub fn hidden(&self) -> u64 {
        self.hidden
    }

    /// Bytes of previews kept.
    pub fn kept_bytes(&self) -> usize {
        self.kept_bytes
    }

    /// The memory the kept entries cost, as the budget counts it: previews plus
    /// [`ENTRY_OVERHEAD`] per entry. (The queue's spare capacity, at most as much again as the
    /// entries' own size while it grows, is not counted.)
    pub fn footprint(&self) -> usize {
        self.kept_bytes + self.entries.len() * ENTRY_OVERHEAD
    }

    /// The memory budget, as [`LogStore::footprint`] counts it.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// The most entries kept.
    pub fn max_entries(&self) -> usize {
        self.max_entries
    }

    /// The exact totals.
    pub fn totals(&self) -> LogTotals {
        self.totals
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_by_count_hides_oldest_and_keeps_totals_exact() {
        let mut log = LogStore::new(3, usize::MAX);
        for i in 0..10_u8 {
            log.push_data(SystemTime::now(), Direction::In, None, None, &[i; 5]);
        }
        log.push_data(SystemTime::now(), Direction::Out, None, None, b"xy");
        assert_eq!(log.len(), 3);
        assert_eq!(log.hidden(), 8);
        assert_eq!(log.get(0).map(|e| e.preview[0]), Some(8));
        let totals = log.totals();
        assert_eq!((totals.bytes_in, totals.pieces_in), (50, 10));
        assert_eq!((totals.bytes_out, totals.pieces_out), (2, 1));
        log.clear();
        assert_eq!((log.len(), log.hidden()), (0, 0));
        assert_eq!(log.totals(), totals);
    }

    #[test]
    fn since_a_mark_gives_the_newer_entries_through_the_cap_and_a_clear() {
        let mut log = LogStore::new(3, usize::MAX);
        log.push_note(SystemTime::now(), None, "before");
        let mark = log.appended();
        assert_eq!(log.since(mark).count(), 0);
        for i in 0..2_u8 {
            log.push_data(SystemTime::now(), Direction::In, None, None, &[i]);
        }
        let newer: Vec<u8> = log.since(mark).map(|e| e.preview[0]).collect();
        assert_eq!(newer, [0, 1]);
        for i in 2..6_u8 {
            log.push_data(SystemTime::now(), Direction::In, None, None, &[i]);
        }
        // Only three are kept: the newer ones the cap removed are gone, not "since" twice.
        let newer: Vec<u8> = log.since(mark).map(|e| e.preview[0]).collect();
        assert_eq!(newer, [3, 4, 5]);
        log.clear();
        log.push_note(SystemTime::now(), None, "after");
        assert_eq!(log.since(mark).count(), 1);
        assert_eq!(log.since(log.appended()).count(), 0);
    }

    #[test]
    fn big_data_keeps_a_bounded_preview_and_bytes_cap_applies() {
        let mut log = LogStore::new(100, 3 * (PREVIEW_BYTES + ENTRY_OVERHEAD));
        let big = vec![7_u8; 10 * 1024 * 1024];
        for _ in 0..5 {
            log.push_data(SystemTime::now(), Direction::In, None, Some(1), &big);
        }
        let first = log
            .get(0)
            .map(|e| (e.len, e.preview.len(), e.is_truncated()));
        assert_eq!(first, Some((big.len(), PREVIEW_BYTES, true)));
        assert_eq!(log.len(), 3);
        assert_eq!(log.hidden(), 2);
        assert!(log.kept_bytes() <= 3 * PREVIEW_BYTES);
        assert!(log.footprint() <= log.max_bytes());
        assert_eq!(log.totals().bytes_in, 5 * big.len() as u64);
    }

    #[test]
    fn the_budget_counts_each_entry_not_only_its_bytes() {
        // Room for ten one-byte entries by their real cost, though their bytes alone are ten.
        let mut log = LogStore::new(1000, 10 * (ENTRY_OVERHEAD + 1));
        for _ in 0..25 {
            log.push_data(SystemTime::now(), Direction::In, None, None, b"x");
        }
        assert_eq!((log.len(), log.hidden()), (10, 15));
        assert_eq!(log.footprint(), 10 * (ENTRY_OVERHEAD + 1));
        assert_eq!(log.totals().pieces_in, 25);
    }

    #[test]
    fn a_smaller_budget_hides_the_oldest_at_once_and_keeps_totals() {
        let mut log = LogStore::default();
        for i in 0..100_u8 {
            log.push_data(SystemTime::now(), Direction::In, None, None, &[i; 100]);
        }
        assert_eq!(log.footprint(), 100 * (100 + ENTRY_OVERHEAD));
        log.set_max_bytes(10 * (100 + ENTRY_OVERHEAD));
        assert_eq!((log.len(), log.hidden()), (10, 90));
        assert_eq!(log.get(0).map(|e| e.preview[0]), Some(90));
        assert_eq!(log.max_bytes(), 10 * (100 + ENTRY_OVERHEAD));
        assert_eq!(
            (log.totals().pieces_in, log.totals().bytes_in),
            (100, 10_000)
        );
    }

    #[test]
    fn notes_do_not_count_as_data_but_unseen_data_does() {
        let mut log = LogStore::default();
        log.push_note(SystemTime::now(), None, "connected");
        assert_eq!(log.totals(), LogTotals::default());
        log.count_unseen_in(4, 400, "4 datagrams not shown");
        assert_eq!((log.totals().pieces_in, log.totals().bytes_in), (4, 400));
        assert_eq!(log.len(), 2);
    }
}
