//! What a client sends: the `--send`, `--hex` and `--file` values in the order they were given,
//! checked before anything touches the network, then read on a thread of their own so a slow or
//! endless standard input never blocks the event loop.

use std::fs::File;
use std::io::{BufRead, BufReader, ErrorKind, Read};
use std::path::PathBuf;
use std::sync::Arc;

use clap::ArgMatches;
use crossbeam_channel::{Receiver, bounded};

use super::{DataArgs, Failure, Outgoing, TextArgs};
use crate::engine::error::file_reason;
use crate::engine::payload::{EMPTY_STREAM_SEND, parse_hex};
use crate::engine::template::TemplateState;
use crate::engine::udp::{MAX_PAYLOAD_V4, MAX_PAYLOAD_V6, too_big_for_any_datagram};
use crate::engine::{Payload, TcpClientCommand};

/// Bytes per chunk when streaming a file or standard input over TCP: large enough to keep the
/// connection busy, small enough that the bytes in flight stay bounded.
pub(crate) const STREAM_CHUNK: usize = 64 * 1024;
/// Chunks the reading thread may have ready ahead of the sender.
const READ_AHEAD: usize = 4;

/// One thing to send.
pub(crate) enum Source {
    /// A message known up front (`--send TEXT`, `--hex HEX`): bytes, or a template.
    Message(Outgoing),
    /// A file, opened while checking the arguments.
    File(PathBuf, File),
    /// Standard input, until it ends (`--send -`).
    Stdin,
}

/// How streamed input is cut into messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// TCP: a stream has no message boundaries; cut into chunks of [`STREAM_CHUNK`].
    Stream,
    /// UDP: a file is one datagram, standard input one datagram per line.
    Datagrams,
}

/// The sources in command-line order. `matches` (the subcommand's) gives the positions of the
/// options; without it, the order is `--send`, `--hex`, `--file`.
pub(crate) fn sources(
    args: &DataArgs,
    text: &TextArgs,
    matches: Option<&ArgMatches>,
) -> Result<Vec<Source>, Failure> {
    let positions = |id: &str, count: usize| -> Vec<usize> {
        matches
            .and_then(|m| m.indices_of(id))
            .map(Iterator::collect::<Vec<_>>)
            .filter(|v| v.len() == count)
            .unwrap_or_else(|| (0..count).collect())
    };
    let mut ordered: Vec<(usize, u8, Source)> = Vec::new();
    for (typed, at) in args.send.iter().zip(positions("send", args.send.len())) {
        let source = if typed == "-" {
            Source::Stdin
        } else {
            Source::Message(text.message(typed, "--send", false)?)
        };
        ordered.push((at, 0, source));
    }
    for (hex, at) in args.hex.iter().zip(positions("hex", args.hex.len())) {
        let mut bytes =
            parse_hex(hex).map_err(|e| Failure::usage(format!("In --hex \"{hex}\": {e}")))?;
        if let Some(checksum) = text.append_checksum {
            checksum.append(&mut bytes);
        }
        ordered.push((
            at,
            1,
            Source::Message(Outgoing::Bytes(Payload::from(bytes))),
        ));
    }
    for (path, at) in args.file.iter().zip(positions("file", args.file.len())) {
        ordered.push((at, 2, Source::File(path.clone(), open(path)?)));
    }
    ordered.sort_by_key(|(at, kind, _)| (*at, *kind));
    Ok(ordered.into_iter().map(|(_, _, s)| s).collect())
}

/// What a TCP client sends when there is a file to send and every source can go to the session
/// as one command: text and hex as bytes or a template, a regular `--file` (and standard input
/// when it is a regular file, `< FILE`) as one of the engine's own file sends, which the
/// connection's writer thread streams from the file to the socket itself: one thread, one `read`
/// and one `send` per chunk, nothing handed across a channel per chunk. `None` when a source
/// must be read here (a pipe, a terminal, a device), or when there is no file at all.
pub(crate) fn whole_sends(sources: &[Source]) -> Option<Vec<TcpClientCommand>> {
    if sources.iter().all(|s| matches!(s, Source::Message(_))) {
        return None;
    }
    sources
        .iter()
        .map(|source| match source {
            Source::Message(Outgoing::Bytes(bytes)) => Some(TcpClientCommand::Send(bytes.clone())),
            Source::Message(Outgoing::Template(template)) => {
                Some(TcpClientCommand::SendTemplate(Arc::clone(template)))
            }
            Source::File(path, file) => file
                .metadata()
                .ok()
                .filter(std::fs::Metadata::is_file)
                .map(|_| TcpClientCommand::SendFile(path.clone())),
            Source::Stdin => stdin_file_path().map(TcpClientCommand::SendFile),
        })
        .collect()
}

/// A path that opens the regular file standard input is redirected from, when it is one and
/// nothing has been read from it yet (a fresh open starts at its beginning, as the redirect did).
fn stdin_file_path() -> Option<PathBuf> {
    #[cfg(unix)]
    {
        use std::io::Seek as _;
        use std::os::fd::AsFd as _;
        let stdin = File::from(std::io::stdin().as_fd().try_clone_to_owned().ok()?);
        let is_file = stdin.metadata().ok()?.is_file();
        let at_start = (&stdin).stream_position().ok()? == 0;
        let path = PathBuf::from("/dev/stdin");
        (is_file && at_start && std::fs::metadata(&path).is_ok_and(|m| m.is_file())).then_some(path)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Refuses an empty `--send`/`--hex` over TCP: it would send nothing, silently. (Over UDP an
/// empty datagram is real and is sent; an empty file is simply nothing to stream.)
pub(crate) fn refuse_empty_stream_sends(sources: &[Source]) -> Result<(), Failure> {
    let empty = |s: &Source| match s {
        Source::Message(Outgoing::Bytes(bytes)) => bytes.is_empty(),
        Source::Message(Outgoing::Template(t)) => {
            t.is_constant() && TemplateState::default().preview(t).is_empty()
        }
        _ => false,
    };
    if sources.iter().any(empty) {
        return Err(Failure::usage(EMPTY_STREAM_SEND));
    }
    Ok(())
}

/// Refuses, before anything is read or sent, a `--file` too big for any datagram: a 1 GB file
/// is never read into memory only to be refused.
pub(crate) fn refuse_files_too_big_for_a_datagram(sources: &[Source]) -> Result<(), Failure> {
    for source in sources {
        if let Source::File(path, file) = source
            && let Ok(meta) = file.metadata()
            && meta.is_file()
            && meta.len() > MAX_PAYLOAD_V6 as u64
        {
            return Err(Failure::usage(too_big_for_any_datagram(
                &format!("The file {}", path.display()),
                Some(meta.len()),
            )));
        }
    }
    Ok(())
}

fn open(path: &PathBuf) -> Result<File, Failure> {
    let cannot =
        |why: String| Failure::usage(format!("Cannot read the file {}: {why}.", path.display()));
    if path.is_dir() {
        return Err(cannot("it is a folder".to_owned()));
    }
    File::open(path).map_err(|e| cannot(file_reason(&e)))
}

/// Starts the thread that reads the sources in order and hands over one message at a time.
/// The channel ends when everything has been read; a read error arrives as a [`Failure`].
pub(crate) fn spawn_reader(
    sources: Vec<Source>,
    framing: Framing,
) -> Receiver<Result<Outgoing, Failure>> {
    let (tx, rx) = bounded(READ_AHEAD);
    let body = move || {
        for source in sources {
            let result = match source {
                Source::Message(message) => tx.send(Ok(message)).map_err(|_| None),
                Source::File(path, file) => {
                    let cut = match framing {
                        Framing::Stream => Cut::Chunks,
                        Framing::Datagrams => Cut::Whole,
                    };
                    let name = path.display().to_string();
                    read_all(file, cut, &name, &mut |m| {
                        tx.send(m.map(Outgoing::Bytes)).is_ok()
                    })
                }
                Source::Stdin => {
                    let cut = match framing {
                        Framing::Stream => Cut::Chunks,
                        Framing::Datagrams => Cut::Lines,
                    };
                    read_all(std::io::stdin().lock(), cut, "standard input", &mut |m| {
                        tx.send(m.map(Outgoing::Bytes)).is_ok()
                    })
                }
            };
            if let Err(failure) = result {
                if let Some(failure) = failure {
                    let _ = tx.send(Err(failure));
                }
                return;
            }
        }
    };
    if let Err(e) = std::thread::Builder::new()
        .name("cli-input".to_owned())
        .spawn(body)
    {
        // The sender went down with the closure that never ran; report through a fresh channel.
        let (tx, rx) = bounded(1);
        let _ = tx.send(Err(Failure::network(format!(
            "Could not start reading the data to send: {e}."
        ))));
        return rx;
    }
    rx
}

/// How one source is cut into messages.
#[derive(Clone, Copy)]
enum Cut {
    /// Pieces of at most [`STREAM_CHUNK`] bytes, as they come.
    Chunks,
    /// One message per line (the newline included), cut at one datagram's limit.
    Lines,
    /// The whole source as one message.
    Whole,
}

/// Reads one source to its end, handing each message to `deliver` (false: nobody listens any
/// more). `Err(None)` means stop quietly; `Err(Some(_))` is a read failure.
fn read_all(
    input: impl Read,
    cut: Cut,
    name: &str,
    deliver: &mut dyn FnMut(Result<Payload, Failure>) -> bool,
) -> Result<(), Option<Failure>> {
    let failed = |e: &std::io::Error| {
        Some(Failure::usage(format!(
            "Could not read {name}: {}.",
            file_reason(e)
        )))
    };
    let mut reader = BufReader::with_capacity(STREAM_CHUNK, input);
    loop {
        let message = match cut {
            Cut::Chunks => {
                let mut chunk = vec![0; STREAM_CHUNK];
                let n = match reader.read(&mut chunk) {
                    Ok(n) => n,
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(e) => return Err(failed(&e)),
                };
                chunk.truncate(n);
                chunk
            }
            Cut::Lines => {
                let mut line = Vec::new();
                // A line longer than one datagram can carry is cut at the limit, not dropped.
                (&mut reader)
                    .take(MAX_PAYLOAD_V4 as u64)
                    .read_until(b'\n', &mut line)
                    .map_err(|e| failed(&e))?;
                line
            }
            Cut::Whole => {
                // At most one byte more than any datagram holds: a device file or a pipe that
                // never ends (/dev/zero) must not fill the memory before being refused.
                let mut all = Vec::new();
                (&mut reader)
                    .take(MAX_PAYLOAD_V6 as u64 + 1)
                    .read_to_end(&mut all)
                    .map_err(|e| failed(&e))?;
                if all.len() > MAX_PAYLOAD_V6 {
                    return Err(Some(Failure::usage(too_big_for_any_datagram(
                        &format!("The file {name}"),
                        None,
                    ))));
                }
                // An empty file is still one (empty) datagram.
                return if deliver(Ok(Payload::from(all))) {
                    Ok(())
                } else {
                    Err(None)
                };
            }
        };
        if message.is_empty() {
            return Ok(());
        }
        if !deliver(Ok(Payload::from(message))) {
            return Err(None);
        }
    }
}
