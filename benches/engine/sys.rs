//! What the benchmarks read from the operating system: memory, CPU time, wake-ups, UDP drops,
//! the open-file limit and the machine's description. Linux only (`/proc`), and all safe code.

use std::fs;
use std::net::SocketAddr;
use std::time::Duration;

/// One field of `/proc/self/status` in KiB (`VmRSS`, `VmHWM`, ...).
pub fn status_kib(field: &str) -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// Resident memory now, in MiB.
pub fn rss_mib() -> f64 {
    status_kib("VmRSS").unwrap_or(0) as f64 / 1024.0
}

/// Peak resident memory since the start (or since [`reset_peak_rss`]), in MiB.
pub fn peak_rss_mib() -> f64 {
    status_kib("VmHWM").unwrap_or(0) as f64 / 1024.0
}

/// Resets the peak (`VmHWM`) to the current RSS, so a phase's own peak can be read.
pub fn reset_peak_rss() {
    let _ = fs::write("/proc/self/clear_refs", "5");
}

/// Fields of `/proc/self/stat` after the command name (field 3 is index 0).
fn stat_fields() -> Vec<u64> {
    let stat = fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name is in parentheses and may contain spaces: start after the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    rest.split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect()
}

/// The kernel's clock tick for `/proc/<pid>/stat` times. 100 Hz on every Linux we know of; read
/// from `getconf` so a different kernel does not silently skew the figure.
fn clock_ticks_per_second() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

/// Process usage that only grows: CPU time of every thread (dead ones included) and page faults.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    /// User + system CPU time of the whole process, at clock-tick resolution (10 ms).
    pub cpu: Duration,
    /// Minor page faults (memory the kernel had to map in).
    pub minor_faults: u64,
}

/// Reads [`Usage`] now.
pub fn usage() -> Usage {
    let f = stat_fields();
    // After the ')' : state(3) ppid(4) ... minflt(10) ... utime(14) stime(15).
    let field = |n: usize| f.get(n - 3).copied().unwrap_or(0);
    let ticks = field(14) + field(15);
    let hz = clock_ticks_per_second().max(1);
    Usage {
        cpu: Duration::from_nanos(ticks * (1_000_000_000 / hz)),
        minor_faults: field(10),
    }
}

/// Precise figures of one thread: CPU time in ns (`schedstat`) and how often it was switched out
/// (`voluntary` = it blocked and was woken again, `involuntary` = it was preempted).
#[derive(Debug, Clone, Default)]
pub struct ThreadFigures {
    /// Thread id.
    pub tid: u32,
    /// Its name (`comm`, cut to 15 bytes by the kernel).
    pub name: String,
    /// CPU time used.
    pub cpu: Duration,
    /// Times it blocked and was woken again.
    pub voluntary_switches: u64,
    /// Times it was preempted.
    pub involuntary_switches: u64,
}

/// [`ThreadFigures`] of every thread alive now, from `/proc/self/task/*`.
pub fn threads() -> Vec<ThreadFigures> {
    let Ok(tasks) = fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    let mut all = Vec::new();
    for task in tasks.flatten() {
        let path = task.path();
        let Ok(schedstat) = fs::read_to_string(path.join("schedstat")) else {
            continue;
        };
        let mut figures = ThreadFigures {
            tid: task.file_name().to_string_lossy().parse().unwrap_or(0),
            name: fs::read_to_string(path.join("comm"))
                .unwrap_or_default()
                .trim()
                .to_owned(),
            cpu: Duration::from_nanos(
                schedstat
                    .split_whitespace()
                    .next()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0),
            ),
            ..ThreadFigures::default()
        };
        let status = fs::read_to_string(path.join("status")).unwrap_or_default();
        for line in status.lines() {
            let value = |prefix: &str| {
                line.strip_prefix(prefix)
                    .and_then(|v| v.trim().parse::<u64>().ok())
            };
            if let Some(v) = value("voluntary_ctxt_switches:") {
                figures.voluntary_switches = v;
            } else if let Some(v) = value("nonvoluntary_ctxt_switches:") {
                figures.involuntary_switches = v;
            }
        }
        all.push(figures);
    }
    all
}

/// What the threads other than this one did between two readings of [`threads`]: CPU time,
/// wake-ups (voluntary and involuntary switches), and which woke (`name ×n`). Threads that
/// started in between are left out: they have no earlier reading.
pub fn others_between(before: &[ThreadFigures], after: &[ThreadFigures]) -> Activity {
    let me = std::process::id();
    let mut activity = Activity::default();
    for t in after.iter().filter(|t| t.tid != me) {
        let Some(b) = before.iter().find(|b| b.tid == t.tid) else {
            continue;
        };
        let switches = (t.voluntary_switches + t.involuntary_switches)
            .saturating_sub(b.voluntary_switches + b.involuntary_switches);
        activity.cpu += t.cpu.saturating_sub(b.cpu);
        activity.wakeups += switches;
        if switches > 0 {
            activity.woke.push(format!("{} ×{switches}", t.name));
        }
    }
    activity
}

/// See [`others_between`].
#[derive(Debug, Clone, Default)]
pub struct Activity {
    /// CPU time used.
    pub cpu: Duration,
    /// Times a thread was switched in again.
    pub wakeups: u64,
    /// Which threads woke, and how often.
    pub woke: Vec<String>,
}

/// Datagrams the kernel dropped for the UDP socket bound to `local` because its receive buffer
/// was full (the `drops` column of `/proc/net/udp`). `None` if the socket is not found.
pub fn udp_drops(local: SocketAddr) -> Option<u64> {
    udp_queue(local).map(|q| q.drops)
}

/// A UDP socket's line of `/proc/net/udp`: what waits in its receive buffer, and what the
/// kernel dropped.
#[derive(Debug, Clone, Copy)]
pub struct UdpQueue {
    /// Bytes queued for the receiver (`rx_queue`).
    pub rx_queue: u64,
    /// Datagrams dropped because the receive buffer was full (`drops`).
    pub drops: u64,
}

/// [`UdpQueue`] of the UDP socket bound to `local` (any process's). `None` if none is bound.
pub fn udp_queue(local: SocketAddr) -> Option<UdpQueue> {
    let table = if local.is_ipv4() {
        "/proc/net/udp"
    } else {
        "/proc/net/udp6"
    };
    let text = fs::read_to_string(table).ok()?;
    let port = format!(":{:04X}", local.port());
    text.lines().skip(1).find_map(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let local_col = cols.get(1)?;
        if !local_col.ends_with(&port) {
            return None;
        }
        let (_, rx) = cols.get(4)?.split_once(':')?;
        Some(UdpQueue {
            rx_queue: u64::from_str_radix(rx, 16).ok()?,
            drops: cols.last()?.parse().ok()?,
        })
    })
}

/// Raises the soft open-file limit to at least `wanted`: up to the hard limit, and beyond it
/// when this process may raise the hard limit too (root, as in CI). Returns the limit now in
/// force.
pub fn raise_open_files(wanted: u64) -> Result<u64, String> {
    let (_, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE)
        .map_err(|e| format!("could not read the open-file limit: {e}"))?;
    if hard < wanted {
        // Only a privileged process may; otherwise the soft limit goes up to the hard one below.
        let _ = rlimit::setrlimit(rlimit::Resource::NOFILE, wanted, wanted);
    }
    rlimit::increase_nofile_limit(wanted)
        .map_err(|e| format!("could not raise the open-file limit to {wanted}: {e}"))
}

/// The kernel's count of connections a listening socket could not take because its accept
/// queue was full (`ListenOverflows`) or that were dropped on the way (`ListenDrops`), summed
/// over the whole machine (`/proc/net/netstat`): refused or retried connects in a storm.
pub fn listen_overflows() -> u64 {
    let text = fs::read_to_string("/proc/net/netstat").unwrap_or_default();
    let mut lines = text.lines();
    while let (Some(names), Some(values)) = (lines.next(), lines.next()) {
        if !names.starts_with("TcpExt:") {
            continue;
        }
        return names
            .split_whitespace()
            .zip(values.split_whitespace())
            .filter(|(n, _)| matches!(*n, "ListenOverflows" | "ListenDrops"))
            .filter_map(|(_, v)| v.parse::<u64>().ok())
            .sum();
    }
    0
}

/// The calling thread's scheduler account (`/proc/thread-self/schedstat`): time it ran on a
/// CPU, and time it was ready to run but waited for one (other threads and processes had it).
#[derive(Debug, Clone, Copy, Default)]
pub struct SchedStat {
    /// Nanoseconds on a CPU.
    pub ran_ns: u64,
    /// Nanoseconds runnable but waiting in a run queue.
    pub waited_ns: u64,
}

/// [`SchedStat`] of the calling thread now (zeros where the kernel does not keep it).
pub fn thread_schedstat() -> SchedStat {
    let text = fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let mut fields = text
        .split_whitespace()
        .map(|f| f.parse::<u64>().unwrap_or(0));
    SchedStat {
        ran_ns: fields.next().unwrap_or(0),
        waited_ns: fields.next().unwrap_or(0),
    }
}

/// The machine, in one line: cores, CPU model, memory, kernel.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU", |(_, m)| m.trim())
        .to_owned();
    let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_gib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0.0, |kib| kib as f64 / 1024.0 / 1024.0);
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{cores} cores ({model}), {mem_gib:.0} GiB RAM, Linux {}",
        kernel.trim()
    )
}

/// The 1-minute load average: other work on the machine makes every figure noisier.
pub fn load_average() -> f64 {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}
