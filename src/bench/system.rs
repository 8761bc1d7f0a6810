//! What the results were measured on: machine, build, commit, and this process's memory.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::stats::Latencies;

/// The machine and build of a run.
#[derive(Debug, Clone)]
pub(crate) struct MachineInfo {
    pub(crate) cores: usize,
    pub(crate) cpu_model: String,
    pub(crate) memory_total: String,
    pub(crate) kernel: String,
    pub(crate) commit: String,
    pub(crate) build: &'static str,
    pub(crate) date: String,
}

fn first_line_value(text: &str, key: &str) -> Option<String> {
    text.lines()
        .find(|line| line.starts_with(key))
        .and_then(|line| line.split_once(':'))
        .map(|(_, value)| value.trim().to_string())
}

fn git(arguments: &[&str]) -> Option<String> {
    let output = Command::new("git").args(arguments).output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// Returns the commit of the working tree, with `-dirty` when tracked files have changes.
fn commit() -> String {
    let Some(head) = git(&["rev-parse", "HEAD"]) else {
        return "unknown".to_string();
    };
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|status| !status.is_empty());
    if dirty {
        format!("{head}-dirty")
    } else {
        head
    }
}

/// Returns the civil UTC date of a Unix time (Howard Hinnant's days-to-civil algorithm).
pub(crate) fn utc_date(unix_seconds: u64) -> String {
    let days = (unix_seconds / 86_400) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    let seconds_of_day = unix_seconds % 86_400;
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", seconds_of_day / 3_600, seconds_of_day % 3_600 / 60)
}

impl MachineInfo {
    /// Reads `/proc` and asks git for the commit.
    pub(crate) fn collect() -> MachineInfo {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_total = first_line_value(&meminfo, "MemTotal")
            .and_then(|value| value.trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kib| format!("{:.1} GiB", kib as f64 / (1024.0 * 1024.0)))
            .unwrap_or_else(|| "unknown".into());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs())
            .unwrap_or(0);
        MachineInfo {
            cores: std::thread::available_parallelism().map(usize::from).unwrap_or(1),
            cpu_model: first_line_value(&cpuinfo, "model name").unwrap_or_else(|| "unknown".into()),
            memory_total,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|text| text.trim().to_string())
                .unwrap_or_default(),
            commit: commit(),
            build: if cfg!(debug_assertions) { "debug" } else { "release" },
            date: utc_date(now),
        }
    }
}

/// Resident memory of this process, from `/proc/self/status`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Memory {
    /// `VmRSS`: resident now, in bytes.
    pub(crate) resident: u64,
    /// `VmHWM`: the peak resident so far, in bytes.
    pub(crate) peak_resident: u64,
}

/// The highest `VmHWM` seen before the last [`reset_peak`].
static EARLIER_PEAK: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Reads this process's `VmRSS` and `VmHWM` (the peak over the whole run, across [`reset_peak`]s).
pub(crate) fn memory() -> Memory {
    let kernel = kernel_memory();
    Memory {
        resident: kernel.resident,
        peak_resident: kernel.peak_resident.max(EARLIER_PEAK.load(std::sync::atomic::Ordering::Relaxed)),
    }
}

/// Starts a new peak window: the kernel's `VmHWM` is reset to the current resident size (after being folded
/// into the run's peak), so that [`peak_since_reset`] tells the peak of what follows.
pub(crate) fn reset_peak() {
    EARLIER_PEAK.fetch_max(kernel_memory().peak_resident, std::sync::atomic::Ordering::Relaxed);
    // Writing 5 to clear_refs resets the peak resident set size (Linux 4.0 and later).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The peak resident size since the last [`reset_peak`], in bytes.
pub(crate) fn peak_since_reset() -> u64 {
    kernel_memory().peak_resident
}

fn kernel_memory() -> Memory {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = |key: &str| -> u64 {
        first_line_value(&status, key)
            .and_then(|value| value.trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0)
            * 1024
    };
    Memory { resident: kib("VmRSS"), peak_resident: kib("VmHWM") }
}

/// Formats bytes as MiB.
/// Returns the time the current thread has spent on a CPU (Linux scheduler accounting), so that work
/// can be measured apart from the other processes sharing the machine.
pub(crate) fn thread_cpu_time() -> Duration {
    let schedstat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    Duration::from_nanos(schedstat.split_whitespace().next().and_then(|value| value.parse().ok()).unwrap_or(0))
}

pub(crate) fn mebibytes(bytes: u64) -> String {
    format!("{:.0} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// Returns the total size of the files in `dir` and below.
pub(crate) fn directory_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|entry| match entry.metadata() {
            Ok(metadata) if metadata.is_dir() => directory_bytes(&entry.path()),
            Ok(metadata) => metadata.len(),
            Err(_) => 0,
        })
        .sum()
}

/// How fast the data directory's disk makes a small write durable.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SyncLatency {
    pub(crate) per_second: f64,
    pub(crate) p50: Duration,
    pub(crate) p99: Duration,
}

/// Writes 4 KiB and calls `fdatasync` in a loop for `window` in `dir`: the floor under any durable
/// acknowledgement (SQLite in WAL mode with `synchronous=FULL` syncs the WAL once per commit).
pub(crate) fn measure_sync_latency(dir: &Path, window: Duration) -> std::io::Result<SyncLatency> {
    use std::io::{Seek, SeekFrom, Write};
    let path = dir.join("bench-fsync-probe.bin");
    let mut file = std::fs::OpenOptions::new().create(true).truncate(true).read(true).write(true).open(&path)?;
    let block = [0x5au8; 4096];
    let mut samples = Vec::new();
    let started = Instant::now();
    while started.elapsed() < window {
        file.seek(SeekFrom::Start((samples.len() % 16) as u64 * 4096))?;
        file.write_all(&block)?;
        let sync_started = Instant::now();
        file.sync_data()?;
        samples.push(sync_started.elapsed().as_nanos() as u64);
    }
    let elapsed = started.elapsed();
    drop(file);
    std::fs::remove_file(&path)?;
    let latencies = Latencies::from_samples(&mut samples);
    Ok(SyncLatency { per_second: samples.len() as f64 / elapsed.as_secs_f64(), p50: latencies.p50, p99: latencies.p99 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(utc_date(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_date(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(utc_date(1_700_000_000), "2023-11-14 22:13 UTC");
    }

    #[test]
    fn this_process_has_memory() {
        assert!(memory().resident > 0);
    }
}
