//! Item 7: start-up and size. The real `socketlab` binary (the one cargo built next to this
//! benchmark: release under `cargo bench`, debug under `cargo test`) opens its window on an Xvfb
//! display with Mesa's software OpenGL; under `SOCKETLAB_EXIT_AFTER_FIRST_FRAME` it prints a line
//! once its first frame is painted and closes. Timed: from just before the process is spawned to
//! that line on its standard output. Size: the binary's file size (the release profile strips it).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use socketlab::gui::{FIRST_FRAME_ENV, FIRST_FRAME_LINE};

use crate::Mode;
use crate::report::{Row, median};

/// The program under test, as cargo built it for this benchmark.
const PROGRAM: &str = env!("CARGO_BIN_EXE_socketlab");
/// The targets of the issue.
const TARGET_FIRST_FRAME: Duration = Duration::from_millis(500);
const TARGET_SIZE_BYTES: u64 = 20 * 1000 * 1000;
/// How long one start may take before it counts as hung (a debug build under load is slow).
const START_LIMIT: Duration = Duration::from_mins(1);

/// An Xvfb server on a display number it chose itself (`-displayfd`), so parallel runs and a
/// desktop's own display are never touched. Killed when dropped.
struct Xvfb {
    child: Child,
    display: String,
    dir: PathBuf,
}

impl Xvfb {
    fn start() -> Result<Self, String> {
        let dir =
            std::env::temp_dir().join(format!("socketlab-bench-startup-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        let display_file = dir.join("display");
        // The shell only sets up file descriptor 3 for -displayfd, then becomes Xvfb (exec).
        let child = Command::new("sh")
            .args([
                "-c",
                "exec Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>\"$1\"",
                "sh",
            ])
            .arg(&display_file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start Xvfb (is the xvfb package installed?): {e}"))?;
        let mut xvfb = Xvfb {
            child,
            display: String::new(),
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = std::fs::read_to_string(&display_file).unwrap_or_default();
            if text.ends_with('\n') && !text.trim().is_empty() {
                xvfb.display = format!(":{}", text.trim());
                return Ok(xvfb);
            }
            if let Ok(Some(status)) = xvfb.child.try_wait() {
                return Err(format!(
                    "Xvfb exited ({status}) before it told its display (is xvfb installed?)"
                ));
            }
            if Instant::now() > deadline {
                return Err("Xvfb did not tell its display within 10 s".into());
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts the program once; returns the time to its first painted frame.
fn first_frame(xvfb: &Xvfb) -> Result<Duration, String> {
    let home = xvfb.dir.join("home");
    let started = Instant::now();
    let mut child = Command::new(PROGRAM)
        .env(FIRST_FRAME_ENV, "1")
        .env("DISPLAY", &xvfb.display)
        .env_remove("WAYLAND_DISPLAY")
        // Mesa's llvmpipe: this machine has no GPU, and CI machines neither.
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        // Settings are read and saved as in real use, but in a place of the benchmark's own.
        .env("HOME", &home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {PROGRAM}: {e}"))?;
    let stdout = child.stdout.take().ok_or("no standard output")?;
    let (tx, rx) = mpsc::channel();
    let reader = thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.trim() == FIRST_FRAME_LINE {
                let _ = tx.send(Instant::now());
            }
        }
    });
    let outcome = rx.recv_timeout(START_LIMIT);
    let exited = wait_exit(&mut child, Duration::from_secs(10));
    let stderr = child
        .stderr
        .take()
        .map(|mut e| {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut e, &mut text);
            text
        })
        .unwrap_or_default();
    let _ = reader.join();
    let painted = outcome.map_err(|_| {
        format!(
            "no first frame within {} s; its errors: {}",
            START_LIMIT.as_secs(),
            stderr.trim()
        )
    })?;
    if !exited {
        return Err("the window did not close after its first frame".into());
    }
    Ok(painted - started)
}

/// Waits for the child to end, killing it after `limit`; true if it ended by itself.
fn wait_exit(child: &mut Child, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            return true;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return false;
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// Whether the binary still has a symbol table (`strip` removes `.symtab`).
fn has_symbols(path: &Path) -> Option<bool> {
    let out = Command::new("readelf").arg("-S").arg(path).output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).contains(".symtab"))
}

/// Runs the item.
pub fn run(mode: Mode) -> Result<(), String> {
    let runs = if mode.full { 9 } else { 1 };
    let xvfb = Xvfb::start()?;
    // One start first, not counted: it puts the binary and Mesa's libraries in the page cache,
    // as they are on a machine where the program has run before.
    let warm_up = first_frame(&xvfb)?;
    let mut times = Vec::new();
    for _ in 0..runs {
        times.push(first_frame(&xvfb)?.as_secs_f64());
    }
    let max = times.iter().copied().fold(0.0, f64::max);
    let med = median(&mut times);
    let size = std::fs::metadata(PROGRAM)
        .map_err(|e| format!("{PROGRAM}: {e}"))?
        .len();
    let stripped = match has_symbols(Path::new(PROGRAM)) {
        Some(true) => "not stripped",
        Some(false) => "stripped",
        None => "strip state unknown (no readelf)",
    };
    let profile = if mode.full { "release" } else { "debug" };
    // Quick mode only proves the measurement works: a debug build's figures are not the
    // program's.
    let judge = |met: bool| mode.full.then_some(met);
    Row {
        item: 7,
        what: format!(
            "Start-up: process start to first painted frame, {profile} build, Xvfb + Mesa \
             llvmpipe (software OpenGL), warm page cache ({runs} runs after 1 warm-up)"
        ),
        baseline: None,
        engine: format!(
            "median {:.0} ms, max {:.0} ms (warm-up start {:.0} ms)",
            med * 1000.0,
            max * 1000.0,
            warm_up.as_secs_f64() * 1000.0
        ),
        ratio: None,
        target: "< 0.5 s".to_owned(),
        met: judge(max < TARGET_FIRST_FRAME.as_secs_f64()),
    }
    .emit();
    Row {
        item: 7,
        what: format!("Binary size: `target/{profile}/socketlab`"),
        baseline: None,
        engine: format!(
            "{:.1} MB ({:.1} MiB, {size} bytes), {stripped}",
            size as f64 / 1e6,
            size as f64 / (1024.0 * 1024.0)
        ),
        ratio: None,
        target: "≤ 20 MB".to_owned(),
        met: judge(size <= TARGET_SIZE_BYTES),
    }
    .emit();
    Ok(())
}
