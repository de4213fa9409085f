//! Message framing: cutting a TCP byte stream into the messages a protocol means — lines, frames
//! ending in any byte string, length-prefixed frames, fixed-size records, or bursts separated by
//! an idle gap.
//!
//! A [`Framer`] is fed every read in order and says, per read, which messages it completed
//! (with how many reads each took), how many bytes of an unfinished message are waiting, and —
//! once per episode — when a message would be larger than the maximum: the offending bytes are
//! then handed over as *discarded* (never dropped silently) and the framer either looks for the
//! next valid frame ([`Oversize::Resync`]) or stops ([`Oversize::Stop`]). Its buffer never holds
//! more than the maximum message size.
//!
//! Messages that lie wholly inside one read are not copied: a [`MessageBatch`] carries the read's
//! [`Chunk`] and the messages' places in it; only a message that spans reads is gathered into a
//! buffer of its own.

use std::fmt;
use std::time::Duration;

use memchr::memmem;

use super::event::Chunk;
use super::session::BytePermit;

/// The largest message a framer takes by default (1 MiB).
pub const DEFAULT_MAX_MESSAGE: usize = 1024 * 1024;
/// The largest maximum a framer accepts (16 MiB): a framer's buffer is bounded by it.
pub const MAX_MESSAGE_LIMIT: usize = 16 * 1024 * 1024;
/// The longest delimiter (in bytes) a framer accepts.
pub const MAX_DELIMITER: usize = 64;
/// The longest idle gap that ends a message.
pub const MAX_GAP: Duration = Duration::from_mins(1);

/// How the width and byte order of a length prefix are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LengthPrefix {
    /// Bytes of the length field: 1, 2 or 4.
    pub width: u8,
    /// Most significant byte first (network order); false is little-endian.
    pub big_endian: bool,
    /// The length counts the header too (body + header), not only the body.
    pub includes_header: bool,
}

/// How a stream is cut into messages.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Framing {
    /// No framing: each `recv` is reported as it came (the stream as it is).
    #[default]
    None,
    /// A message ends with this byte string (`\n`, `\r\n`, `ETX` …), which belongs to it.
    Delimiter(Vec<u8>),
    /// A length field, then that many bytes.
    LengthPrefix(LengthPrefix),
    /// Every message is exactly this many bytes.
    Fixed(usize),
    /// A message ends when nothing arrives for this long.
    IdleGap(Duration),
}

impl Framing {
    /// Line framing on `\n`.
    pub fn lf() -> Self {
        Framing::Delimiter(b"\n".to_vec())
    }

    /// Line framing on `\r\n`.
    pub fn crlf() -> Self {
        Framing::Delimiter(b"\r\n".to_vec())
    }

    /// True unless it is [`Framing::None`].
    pub fn is_on(&self) -> bool {
        *self != Framing::None
    }

    /// The idle gap, for a reader that must time its receives.
    pub fn gap(&self) -> Option<Duration> {
        match self {
            Framing::IdleGap(gap) => Some(*gap),
            _ => None,
        }
    }
}

/// Reads the command line's and scripts' way of writing a framing: `none`, `lf`, `crlf`,
/// `bytes:HEX`, `len:N[be|le][+hdr]`, `fixed:N`, `gap:MS`. The error is the sentence to show.
impl std::str::FromStr for Framing {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let lower = text.to_ascii_lowercase();
        let bad = |why: &str| {
            format!(
                "\"{text}\" is not a framing{why}: use none, lf, crlf, bytes:HEX, len:N[be|le][+hdr], fixed:N or gap:MS"
            )
        };
        let number = |digits: &str| digits.trim().parse::<usize>().map_err(|_| bad(""));
        match lower.as_str() {
            "none" => return Ok(Framing::None),
            "lf" => return Ok(Framing::lf()),
            "crlf" => return Ok(Framing::crlf()),
            _ => {}
        }
        let Some((kind, value)) = lower.split_once(':') else {
            return Err(bad(""));
        };
        match kind {
            "bytes" => {
                let bytes =
                    super::payload::parse_hex(value).map_err(|e| bad(&format!(" ({e})")))?;
                if bytes.is_empty() {
                    return Err(bad(" (bytes: needs at least one hex byte, e.g. bytes:03)"));
                }
                Ok(Framing::Delimiter(bytes))
            }
            "len" => {
                let (value, includes_header) = match value.strip_suffix("+hdr") {
                    Some(v) => (v, true),
                    None => (value, false),
                };
                let (digits, big_endian) = if let Some(d) = value.strip_suffix("le") {
                    (d, false)
                } else if let Some(d) = value.strip_suffix("be") {
                    (d, true)
                } else {
                    (value, true)
                };
                let width = number(digits)?;
                if !matches!(width, 1 | 2 | 4) {
                    return Err(bad(" (a length prefix is 1, 2 or 4 bytes wide)"));
                }
                Ok(Framing::LengthPrefix(LengthPrefix {
                    width: width as u8,
                    big_endian,
                    includes_header,
                }))
            }
            "fixed" => Ok(Framing::Fixed(number(value)?)),
            "gap" => Ok(Framing::IdleGap(Duration::from_millis(
                number(value)? as u64
            ))),
            _ => Err(bad("")),
        }
    }
}

impl fmt::Display for Framing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Framing::None => f.write_str("none"),
            Framing::Delimiter(d) if d == b"\n" => f.write_str("lf"),
            Framing::Delimiter(d) if d == b"\r\n" => f.write_str("crlf"),
            Framing::Delimiter(d) => {
                f.write_str("bytes:")?;
                d.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
            Framing::LengthPrefix(p) => write!(
                f,
                "len:{}{}{}",
                p.width,
                if p.big_endian { "be" } else { "le" },
                if p.includes_header { "+hdr" } else { "" }
            ),
            Framing::Fixed(n) => write!(f, "fixed:{n}"),
            Framing::IdleGap(gap) => write!(f, "gap:{}", gap.as_millis()),
        }
    }
}

/// What a framer does with a message larger than the maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Oversize {
    /// Hand the bytes over as discarded and look for the next valid message: the next delimiter,
    /// the next gap, or (length prefix) a valid header one byte further on.
    #[default]
    Resync,
    /// Hand the rest over as discarded and stop: the connection is closed with the reason.
    Stop,
}

/// A framing with its limits: what a session is configured with.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FramingConfig {
    /// How to cut.
    pub framing: Framing,
    /// The largest message (body bytes for a length prefix, whole message otherwise).
    pub max_message: usize,
    /// What to do with a larger one.
    pub on_oversize: Oversize,
}

impl Default for FramingConfig {
    fn default() -> Self {
        FramingConfig {
            framing: Framing::None,
            max_message: DEFAULT_MAX_MESSAGE,
            on_oversize: Oversize::Resync,
        }
    }
}

impl FramingConfig {
    /// `framing` with the default maximum, resynchronising after an oversized message.
    pub fn new(framing: Framing) -> Self {
        FramingConfig {
            framing,
            ..FramingConfig::default()
        }
    }

    /// Checks the limits: the sentence says which value is wrong and what is allowed.
    pub fn check(&self) -> Result<(), String> {
        if self.max_message == 0 || self.max_message > MAX_MESSAGE_LIMIT {
            return Err(format!(
                "The maximum message size must be 1 to {MAX_MESSAGE_LIMIT} bytes, not {}.",
                self.max_message
            ));
        }
        let problem = match &self.framing {
            Framing::Delimiter(d) if d.is_empty() || d.len() > MAX_DELIMITER => Some(format!(
                "A delimiter must be 1 to {MAX_DELIMITER} bytes, not {}.",
                d.len()
            )),
            Framing::LengthPrefix(p) if !matches!(p.width, 1 | 2 | 4) => Some(format!(
                "A length prefix is 1, 2 or 4 bytes wide, not {}.",
                p.width
            )),
            Framing::Fixed(n) if *n == 0 || *n > self.max_message => Some(format!(
                "A fixed message size must be 1 to {} bytes (the maximum message size), not {n}.",
                self.max_message
            )),
            Framing::IdleGap(gap) if gap.is_zero() || *gap > MAX_GAP => Some(format!(
                "An idle gap must be 1 ms to {} s, not {} ms.",
                MAX_GAP.as_secs(),
                gap.as_millis()
            )),
            _ => None,
        };
        problem.map_or(Ok(()), Err)
    }
}

/// What one piece of a batch is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece {
    /// A whole message.
    Message,
    /// The start of a message that never finished: the stream ended (or the framer stopped)
    /// before the rest arrived.
    Unfinished,
    /// Bytes the framer skipped after an oversized message, while looking for the next valid one.
    Discarded,
}

/// The once-per-episode report of a message larger than the maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow {
    /// The body length a length prefix announced (`None` for a delimiter or gap that did not
    /// come within the maximum).
    pub declared: Option<u64>,
    /// The maximum in force.
    pub max: usize,
    /// True when the framer stopped (the connection is then closed), false when it resynchronises.
    pub stopped: bool,
}

/// One piece of a batch: a message (or unfinished or discarded bytes), borrowed from it.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    /// What it is.
    pub piece: Piece,
    /// Every byte of it, header and delimiter included.
    pub bytes: &'a [u8],
    /// Bytes of length header at the start.
    pub header: usize,
    /// Bytes of delimiter at the end.
    pub trailer: usize,
    /// How many reads its bytes came from.
    pub reads: u32,
    /// Set on the first discarded piece of an oversize episode: why it was discarded.
    pub overflow: Option<Overflow>,
}

impl<'a> Message<'a> {
    /// The message without its length header and delimiter: what reply rules look at.
    pub fn body(&self) -> &'a [u8] {
        let end = self
            .bytes
            .len()
            .saturating_sub(self.trailer)
            .max(self.header);
        &self.bytes[self.header.min(self.bytes.len())..end]
    }
}

#[derive(Debug, Clone, Copy)]
struct Item {
    piece: Piece,
    in_read: bool,
    start: u32,
    len: u32,
    header: u8,
    trailer: u8,
    reads: u32,
}

/// What one read (or an idle gap, or the end of the stream) gave a framer: its messages, in
/// order, and what is still waiting.
#[derive(Default)]
pub struct MessageBatch {
    /// The bytes this batch holds of its session's received-data budget, given back on drop.
    permit: Option<BytePermit>,
    read: Option<Chunk>,
    owned: Vec<u8>,
    items: Vec<Item>,
    overflows: Vec<(usize, Overflow)>,
    waiting: usize,
    waiting_reads: u32,
}

impl fmt::Debug for MessageBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MessageBatch({} pieces, read {:?}, {} bytes waiting)",
            self.items.len(),
            self.read_len(),
            self.waiting
        )
    }
}

impl Clone for MessageBatch {
    fn clone(&self) -> Self {
        MessageBatch {
            permit: None,
            read: self.read.clone(),
            owned: self.owned.clone(),
            items: self.items.clone(),
            overflows: self.overflows.clone(),
            waiting: self.waiting,
            waiting_reads: self.waiting_reads,
        }
    }
}

impl MessageBatch {
    /// The bytes of the `recv` this batch came from (`None` after an idle gap or at the end).
    pub fn read(&self) -> Option<&[u8]> {
        self.read.as_deref()
    }

    /// How many bytes the read returned, if the batch came from one.
    pub fn read_len(&self) -> Option<usize> {
        self.read.as_ref().map(|c| c.len())
    }

    /// How many pieces (messages, unfinished and discarded bytes).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when the read completed nothing (its bytes are all waiting).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// How many whole messages.
    pub fn message_count(&self) -> usize {
        self.items
            .iter()
            .filter(|i| i.piece == Piece::Message)
            .count()
    }

    /// Bytes of an unfinished message that wait for more after this batch.
    pub fn waiting(&self) -> usize {
        self.waiting
    }

    /// How many reads the waiting bytes came from.
    pub fn waiting_reads(&self) -> u32 {
        self.waiting_reads
    }

    /// The pieces in stream order.
    pub fn iter(&self) -> impl Iterator<Item = Message<'_>> {
        let read: &[u8] = self.read.as_deref().unwrap_or(&[]);
        self.items.iter().enumerate().map(move |(n, item)| {
            let store = if item.in_read { read } else { &self.owned };
            let start = item.start as usize;
            Message {
                piece: item.piece,
                bytes: &store[start..start + item.len as usize],
                header: usize::from(item.header),
                trailer: usize::from(item.trailer),
                reads: item.reads,
                overflow: self
                    .overflows
                    .iter()
                    .find(|(at, _)| *at == n)
                    .map(|(_, o)| *o),
            }
        })
    }

    /// Bytes of every piece: with the waiting bytes, exactly what the reads returned.
    pub fn total_bytes(&self) -> usize {
        self.items.iter().map(|i| i.len as usize).sum()
    }

    /// Bytes held in memory beyond the read itself (messages that spanned reads).
    pub(crate) fn owned_len(&self) -> usize {
        self.owned.len()
    }

    /// The first overflow of this batch with `stopped` set, if the framer stopped here.
    pub fn stop(&self) -> Option<Overflow> {
        self.overflows.iter().map(|(_, o)| *o).find(|o| o.stopped)
    }

    /// Makes the batch carry its share of the session's received-data budget until dropped.
    pub(crate) fn hold(&mut self, permit: BytePermit) {
        self.permit = Some(permit);
    }

    pub(crate) fn set_read(&mut self, chunk: Chunk) {
        self.read = Some(chunk);
    }

    fn push_read(&mut self, piece: Piece, start: usize, len: usize, shape: (usize, usize)) {
        self.items.push(Item {
            piece,
            in_read: true,
            start: start as u32,
            len: len as u32,
            header: shape.0 as u8,
            trailer: shape.1 as u8,
            reads: 1,
        });
    }

    fn push_owned(&mut self, piece: Piece, bytes: &[u8], shape: (usize, usize), reads: u32) {
        let start = self.owned.len();
        self.owned.extend_from_slice(bytes);
        self.items.push(Item {
            piece,
            in_read: false,
            start: start as u32,
            len: bytes.len() as u32,
            header: shape.0 as u8,
            trailer: shape.1 as u8,
            reads,
        });
    }
}

/// Where the next message ends, seen from the bytes waiting (`pending`) and the read (`rest`).
enum End {
    /// It ends after this many bytes of `rest`; its header and trailer lengths.
    At(usize, (usize, usize)),
    /// Not within these bytes.
    NotYet,
    /// It would be larger than the maximum.
    Oversize(Option<u64>),
}

/// Cuts a stream into messages; see the module documentation.
pub struct Framer {
    config: FramingConfig,
    finder: Option<memmem::Finder<'static>>,
    /// The delimiter when it is one byte (`\n`, ETX): lines are then found in one pass.
    single_byte: Option<u8>,
    /// Pieces of the last batch, to size the next one.
    last_count: usize,
    /// The unfinished message so far (never more than the maximum).
    pending: Vec<u8>,
    pending_reads: u32,
    /// Skipped bytes of the current oversize episode, not yet handed over.
    discard: Vec<u8>,
    /// An oversize episode has been reported and no whole message has come since: another
    /// oversized one belongs to the same episode and is not reported again.
    quiet: bool,
    /// The last discarded bytes (fewer than a delimiter), to find a delimiter split across reads.
    recent: Vec<u8>,
    /// An oversize episode is running: bytes are skipped until a valid message starts.
    resyncing: bool,
    /// The framer stopped after an oversized message: everything else is discarded.
    stopped: bool,
}

impl Framer {
    /// A framer for `config` (checked with [`FramingConfig::check`] first; out-of-range values
    /// are clamped, so a framer is always bounded).
    pub fn new(mut config: FramingConfig) -> Self {
        config.max_message = config.max_message.clamp(1, MAX_MESSAGE_LIMIT);
        if let Framing::Fixed(n) = &mut config.framing {
            *n = (*n).clamp(1, config.max_message);
        }
        let finder = match &config.framing {
            Framing::Delimiter(d) if !d.is_empty() => {
                Some(memmem::Finder::new(&d[..d.len().min(MAX_DELIMITER)]).into_owned())
            }
            _ => None,
        };
        let single_byte = match &config.framing {
            Framing::Delimiter(d) if d.len() == 1 => Some(d[0]),
            _ => None,
        };
        Framer {
            config,
            finder,
            single_byte,
            last_count: 0,
            pending: Vec::new(),
            pending_reads: 0,
            discard: Vec::new(),
            quiet: false,
            recent: Vec::new(),
            resyncing: false,
            stopped: false,
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &FramingConfig {
        &self.config
    }

    /// Bytes of an unfinished message waiting for more.
    pub fn waiting(&self) -> usize {
        self.pending.len()
    }

    /// True once the framer has stopped after an oversized message.
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Frames one read: the batch holds `chunk` and the messages it completed.
    pub fn push_chunk(&mut self, chunk: Chunk) -> MessageBatch {
        let mut batch = MessageBatch::default();
        // Reads of a steady stream hold about as many messages as the one before.
        batch.items.reserve(self.last_count);
        self.push(&chunk, &mut batch);
        self.last_count = batch.items.len();
        batch.set_read(chunk);
        batch
    }

    /// Frames one read into `out` (whose pieces "in the read" refer to `read`).
    pub fn push(&mut self, read: &[u8], out: &mut MessageBatch) {
        let mut pos = 0;
        while pos < read.len() {
            if self.stopped {
                self.add_discard(&read[pos..], out);
                break;
            }
            if self.resyncing {
                pos += self.skip(&read[pos..], out);
                continue;
            }
            if self.pending.is_empty()
                && let Some(byte) = self.single_byte
            {
                pos = self.lines_in_read(byte, read, pos, out);
                if pos == read.len() {
                    break;
                }
            }
            let rest = &read[pos..];
            match self.find_end(rest) {
                End::At(used, _) if self.pending.len() + used > self.limit() => {
                    // A delimiter came, but after more than the maximum: that whole message is
                    // the episode's offending bytes, and the delimiter ends the episode.
                    self.start_episode(None, out);
                    let pending = std::mem::take(&mut self.pending);
                    self.pending_reads = 0;
                    self.add_discard(&pending, out);
                    self.add_discard(&rest[..used], out);
                    self.flush_discard(out);
                    self.resyncing = false;
                    pos += used;
                }
                End::At(used, shape) => {
                    if self.pending.is_empty() {
                        out.push_read(Piece::Message, pos, used, shape);
                    } else {
                        let mut whole = std::mem::take(&mut self.pending);
                        whole.extend_from_slice(&rest[..used]);
                        out.push_owned(Piece::Message, &whole, shape, self.pending_reads + 1);
                        // The allocation is kept for the next message that spans reads.
                        self.pending = whole;
                        self.pending.clear();
                        self.pending_reads = 0;
                    }
                    self.quiet = false;
                    pos += used;
                }
                End::NotYet if self.pending.len() + rest.len() > self.limit() => {
                    self.start_episode(None, out);
                    let pending = std::mem::take(&mut self.pending);
                    self.pending_reads = 0;
                    self.add_discard(&pending, out);
                }
                End::NotYet => {
                    self.pending.extend_from_slice(rest);
                    self.pending_reads += 1;
                    break;
                }
                End::Oversize(declared) => {
                    // The header starts with the first waiting byte (fewer than a header's
                    // worth wait), or with this read's first byte: that byte is skipped, and
                    // framing tries again one byte further on.
                    self.start_episode(declared, out);
                    if self.pending.is_empty() {
                        self.add_discard(&rest[..1], out);
                        pos += 1;
                    } else {
                        let pending = std::mem::take(&mut self.pending);
                        self.pending_reads = 0;
                        self.add_discard(&pending[..1], out);
                        if self.stopped {
                            self.add_discard(&pending[1..], out);
                        } else {
                            let mut again = MessageBatch::default();
                            self.push(&pending[1..], &mut again);
                            Self::append_owned(out, again, &pending[1..]);
                        }
                    }
                }
            }
        }
        // What was skipped in this read is handed over with it, so nothing waits unseen.
        self.flush_discard(out);
        out.waiting = self.pending.len();
        out.waiting_reads = self.pending_reads;
    }

    /// The common case of line framing, in one pass: every whole line of `read` from `pos` on
    /// that lies within the read, as pieces of it. Returns where the first line that is not
    /// whole (or too long) starts, for the general path.
    fn lines_in_read(
        &mut self,
        byte: u8,
        read: &[u8],
        pos: usize,
        out: &mut MessageBatch,
    ) -> usize {
        let limit = self.limit();
        let mut start = pos;
        for at in memchr::memchr_iter(byte, &read[pos..]) {
            let end = pos + at + 1;
            if end - start > limit {
                break;
            }
            out.push_read(Piece::Message, start, end - start, (0, 1));
            start = end;
        }
        if start > pos {
            self.quiet = false;
        }
        start
    }

    /// Nothing arrived for the idle gap: the waiting bytes are a message (idle-gap framing), and
    /// a running oversize episode ends there.
    pub fn idle(&mut self) -> MessageBatch {
        let mut out = MessageBatch::default();
        if self.config.framing.gap().is_none() {
            return out;
        }
        if self.resyncing {
            self.flush_discard(&mut out);
            self.resyncing = false;
        }
        if !self.pending.is_empty() {
            let whole = std::mem::take(&mut self.pending);
            out.push_owned(Piece::Message, &whole, (0, 0), self.pending_reads);
            self.pending_reads = 0;
        }
        out
    }

    /// The stream ended: waiting bytes are an unfinished message, skipped ones are handed over.
    pub fn finish(&mut self) -> MessageBatch {
        let mut out = MessageBatch::default();
        self.flush_discard(&mut out);
        if !self.pending.is_empty() {
            let whole = std::mem::take(&mut self.pending);
            // After a gap-framed burst the end of the stream is also the end of the message.
            let piece = if self.config.framing.gap().is_some() {
                Piece::Message
            } else {
                Piece::Unfinished
            };
            out.push_owned(piece, &whole, (0, 0), self.pending_reads);
            self.pending_reads = 0;
        }
        out
    }

    fn limit(&self) -> usize {
        match &self.config.framing {
            // A header may wait for its body; the body is bounded by the maximum.
            Framing::LengthPrefix(p) => self.config.max_message + usize::from(p.width),
            _ => self.config.max_message,
        }
    }

    fn find_end(&self, rest: &[u8]) -> End {
        let pending = &self.pending;
        match &self.config.framing {
            Framing::None => End::At(rest.len(), (0, 0)),
            Framing::IdleGap(_) => End::NotYet,
            Framing::Fixed(n) => {
                let need = n - pending.len();
                if rest.len() >= need {
                    End::At(need, (0, 0))
                } else {
                    End::NotYet
                }
            }
            Framing::Delimiter(d) => {
                let k = d.len();
                // A delimiter split between the waiting bytes and this read, earliest first.
                for j in (1..k).rev() {
                    if pending.len() >= j
                        && rest.len() >= k - j
                        && pending[pending.len() - j..] == d[..j]
                        && rest[..k - j] == d[j..]
                    {
                        return End::At(k - j, (0, k));
                    }
                }
                match self.finder.as_ref().and_then(|f| f.find(rest)) {
                    Some(at) => End::At(at + k, (0, k)),
                    None => End::NotYet,
                }
            }
            Framing::LengthPrefix(p) => {
                let width = usize::from(p.width);
                if pending.len() + rest.len() < width {
                    return End::NotYet;
                }
                let mut header = [0_u8; 4];
                for (i, slot) in header.iter_mut().enumerate().take(width) {
                    *slot = if i < pending.len() {
                        pending[i]
                    } else {
                        rest[i - pending.len()]
                    };
                }
                let field = &header[..width];
                let declared = if p.big_endian {
                    field
                        .iter()
                        .fold(0_u64, |acc, b| (acc << 8) | u64::from(*b))
                } else {
                    field
                        .iter()
                        .rev()
                        .fold(0_u64, |acc, b| (acc << 8) | u64::from(*b))
                };
                let body = if p.includes_header {
                    match declared.checked_sub(width as u64) {
                        Some(body) => body,
                        // Shorter than its own header: no valid frame says that.
                        None => return End::Oversize(Some(declared)),
                    }
                } else {
                    declared
                };
                if body > self.config.max_message as u64 {
                    return End::Oversize(Some(body));
                }
                let total = width + body as usize;
                let need = total - pending.len();
                if rest.len() >= need {
                    End::At(need, (width, 0))
                } else {
                    End::NotYet
                }
            }
        }
    }

    /// Skips bytes of an oversize episode until a valid message can start; returns how many
    /// bytes of `rest` it consumed.
    fn skip(&mut self, rest: &[u8], out: &mut MessageBatch) -> usize {
        match &self.config.framing {
            Framing::Delimiter(d) => {
                let k = d.len();
                let found = self.finder.as_ref().and_then(|f| f.find(rest));
                // A delimiter split across reads while skipping.
                let recent = &self.recent;
                let split = (1..k).rev().find(|&j| {
                    recent.len() >= j
                        && rest.len() >= k - j
                        && recent[recent.len() - j..] == d[..j]
                        && rest[..k - j] == d[j..]
                });
                let end = match (split, found) {
                    (Some(j), _) => Some(k - j),
                    (None, Some(at)) => Some(at + k),
                    (None, None) => None,
                };
                if let Some(end) = end {
                    self.add_discard(&rest[..end], out);
                    self.flush_discard(out);
                    self.resyncing = false;
                    end
                } else {
                    self.add_discard(rest, out);
                    rest.len()
                }
            }
            Framing::LengthPrefix(_) => {
                // Try a header at each byte: the first that announces a valid size ends the skip.
                let mut at = 0;
                while at < rest.len() {
                    match self.find_end(&rest[at..]) {
                        End::Oversize(_) => at += 1,
                        End::At(..) | End::NotYet => break,
                    }
                }
                self.add_discard(&rest[..at], out);
                if at < rest.len() {
                    self.flush_discard(out);
                    self.resyncing = false;
                }
                at
            }
            // An idle gap ends the episode (see `idle`).
            _ => {
                self.add_discard(rest, out);
                rest.len()
            }
        }
    }

    fn start_episode(&mut self, declared: Option<u64>, out: &mut MessageBatch) {
        self.flush_discard(out);
        let stop = self.config.on_oversize == Oversize::Stop;
        self.resyncing = !stop;
        self.stopped = stop;
        if self.quiet && !stop {
            return;
        }
        self.quiet = true;
        // The report rides on the next piece, the first discarded one: the offending bytes.
        out.overflows.push((
            out.items.len(),
            Overflow {
                declared,
                max: self.config.max_message,
                stopped: stop,
            },
        ));
    }

    fn add_discard(&mut self, bytes: &[u8], out: &mut MessageBatch) {
        if let Framing::Delimiter(d) = &self.config.framing {
            let keep = d.len() - 1;
            self.recent
                .extend_from_slice(&bytes[bytes.len().saturating_sub(keep)..]);
            let excess = self.recent.len().saturating_sub(keep);
            self.recent.drain(..excess);
        }
        let mut bytes = bytes;
        while !bytes.is_empty() {
            let room = self
                .config
                .max_message
                .saturating_sub(self.discard.len())
                .max(1);
            let take = room.min(bytes.len());
            self.discard.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.discard.len() >= self.config.max_message {
                self.flush_discard(out);
            }
        }
    }

    fn flush_discard(&mut self, out: &mut MessageBatch) {
        if self.discard.is_empty() {
            return;
        }
        let discard = std::mem::take(&mut self.discard);
        out.push_owned(Piece::Discarded, &discard, (0, 0), 1);
        self.discard = discard;
        self.discard.clear();
    }

    /// Moves the pieces of a nested framing pass (over `source`) into `out`, as owned bytes.
    fn append_owned(out: &mut MessageBatch, inner: MessageBatch, source: &[u8]) {
        let base = out.items.len();
        for (n, overflow) in inner.overflows {
            out.overflows.push((base + n, overflow));
        }
        for item in inner.items {
            let start = item.start as usize;
            let bytes = if item.in_read {
                &source[start..start + item.len as usize]
            } else {
                &inner.owned[start..start + item.len as usize]
            };
            out.push_owned(
                item.piece,
                bytes,
                (usize::from(item.header), usize::from(item.trailer)),
                item.reads,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(config: FramingConfig, reads: &[&[u8]]) -> Vec<(Piece, Vec<u8>, u32)> {
        let mut framer = Framer::new(config);
        let mut out = Vec::new();
        for read in reads {
            let batch = framer.push_chunk(Chunk::from_vec(read.to_vec()));
            out.extend(batch.iter().map(|m| (m.piece, m.bytes.to_vec(), m.reads)));
        }
        let end = framer.finish();
        out.extend(end.iter().map(|m| (m.piece, m.bytes.to_vec(), m.reads)));
        out
    }

    #[test]
    fn lines_across_reads_say_how_many_reads_they_took() {
        let got = frame(
            FramingConfig::new(Framing::lf()),
            &[b"ab", b"c\nd", b"e\n\nf"],
        );
        assert_eq!(
            got,
            vec![
                (Piece::Message, b"abc\n".to_vec(), 2),
                (Piece::Message, b"de\n".to_vec(), 2),
                (Piece::Message, b"\n".to_vec(), 1),
                (Piece::Unfinished, b"f".to_vec(), 1),
            ]
        );
    }

    #[test]
    fn a_crlf_split_between_reads_is_found() {
        let got = frame(FramingConfig::new(Framing::crlf()), &[b"ab\r", b"\ncd\r\n"]);
        assert_eq!(got[0], (Piece::Message, b"ab\r\n".to_vec(), 2));
        assert_eq!(got[1], (Piece::Message, b"cd\r\n".to_vec(), 1));
    }

    #[test]
    fn length_prefix_split_inside_the_header() {
        let config = FramingConfig::new(Framing::LengthPrefix(LengthPrefix {
            width: 2,
            big_endian: true,
            includes_header: false,
        }));
        let got = frame(config, &[b"\x00", b"\x03ab", b"c\x00\x00"]);
        assert_eq!(got[0], (Piece::Message, b"\x00\x03abc".to_vec(), 3));
        assert_eq!(got[1], (Piece::Message, b"\x00\x00".to_vec(), 1));
    }

    #[test]
    fn an_oversized_prefix_is_reported_once_and_resynchronised() {
        let config = FramingConfig {
            framing: Framing::LengthPrefix(LengthPrefix {
                width: 1,
                big_endian: true,
                includes_header: false,
            }),
            max_message: 4,
            on_oversize: Oversize::Resync,
        };
        let mut framer = Framer::new(config);
        let batch = framer.push_chunk(Chunk::from_vec(b"\xff\xfe\x02hi".to_vec()));
        let pieces: Vec<_> = batch.iter().collect();
        assert_eq!(pieces.len(), 2, "{pieces:?}");
        assert_eq!(pieces[0].piece, Piece::Discarded);
        assert_eq!(pieces[0].bytes, b"\xff\xfe");
        assert_eq!(
            pieces[0].overflow,
            Some(Overflow {
                declared: Some(255),
                max: 4,
                stopped: false
            })
        );
        assert_eq!(pieces[1].body(), b"hi");
        assert!(pieces[1].overflow.is_none());
    }

    #[test]
    fn a_line_longer_than_the_maximum_is_discarded_up_to_its_end() {
        let config = FramingConfig {
            framing: Framing::lf(),
            max_message: 4,
            on_oversize: Oversize::Resync,
        };
        let got = frame(config, &[b"abc", b"defg", b"h\nok\n"]);
        // Skipped bytes are handed over with the read they came in.
        let discarded: Vec<u8> = got
            .iter()
            .filter(|p| p.0 == Piece::Discarded)
            .flat_map(|p| p.1.clone())
            .collect();
        assert_eq!(discarded, b"abcdefgh\n");
        assert_eq!(got.last(), Some(&(Piece::Message, b"ok\n".to_vec(), 1)));
    }

    #[test]
    fn stop_discards_the_rest() {
        let config = FramingConfig {
            framing: Framing::Fixed(2),
            max_message: 2,
            on_oversize: Oversize::Stop,
        };
        let mut framer = Framer::new(config.clone());
        assert_eq!(
            framer.push_chunk(Chunk::from_vec(b"abcd".to_vec())).len(),
            2
        );
        let config = FramingConfig {
            framing: Framing::LengthPrefix(LengthPrefix {
                width: 1,
                big_endian: true,
                includes_header: true,
            }),
            max_message: 8,
            on_oversize: Oversize::Stop,
        };
        let mut framer = Framer::new(config);
        let batch = framer.push_chunk(Chunk::from_vec(b"\x03ab\x00xyz".to_vec()));
        let pieces: Vec<_> = batch.iter().collect();
        assert_eq!(pieces[0].body(), b"ab");
        assert_eq!(pieces[1].piece, Piece::Discarded);
        assert_eq!(pieces[1].bytes, b"\x00xyz");
        assert!(batch.stop().is_some());
        assert!(framer.is_stopped());
    }

    #[test]
    fn idle_gap_ends_a_message() {
        let mut framer = Framer::new(FramingConfig::new(Framing::IdleGap(Duration::from_millis(
            5,
        ))));
        assert!(
            framer
                .push_chunk(Chunk::from_vec(b"ab".to_vec()))
                .is_empty()
        );
        assert!(framer.push_chunk(Chunk::from_vec(b"c".to_vec())).is_empty());
        assert_eq!(framer.waiting(), 3);
        let batch = framer.idle();
        let m: Vec<_> = batch.iter().collect();
        assert_eq!((m[0].bytes, m[0].reads), (&b"abc"[..], 2));
        assert_eq!(framer.waiting(), 0);
    }

    #[test]
    fn limits_are_checked() {
        assert!(FramingConfig::new(Framing::Fixed(0)).check().is_err());
        assert!(
            FramingConfig::new(Framing::Delimiter(vec![]))
                .check()
                .is_err()
        );
        assert!(
            FramingConfig::new(Framing::IdleGap(Duration::ZERO))
                .check()
                .is_err()
        );
        assert!(FramingConfig::new(Framing::lf()).check().is_ok());
        assert_eq!(Framing::crlf().to_string(), "crlf");
    }
}
