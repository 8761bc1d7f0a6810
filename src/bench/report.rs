//! The results block of BENCHMARKS.md: the run's machine and method, one table row per workload with
//! its baseline and target, memory, restart, and the sweep behind the chart. Only the block between the
//! markers is rewritten, so the hand-written analysis around it survives reruns.

use std::fmt::Write;
use std::path::Path;
use std::time::Duration;

use super::options::BenchOptions;
use super::runner::{SweepPoint, SweepSeries, WorkloadResult};
use super::seed::SeedReport;
use super::stats::{format_millis, format_rate};
use super::system::{mebibytes, MachineInfo, Memory, SyncLatency};
use super::workloads::Baseline;

/// Opens the generated block.
pub(crate) const BEGIN_MARKER: &str = "<!-- profiled-bench results: begin (generated, edit outside this block) -->";
/// Closes the generated block.
pub(crate) const END_MARKER: &str = "<!-- profiled-bench results: end -->";
/// The memory target: 1.5 GB at 1,000,000 profiles.
const MEMORY_TARGET_BYTES: u64 = 1_500_000_000;
const MEMORY_TARGET_PROFILES: usize = 1_000_000;
/// The restart target.
const RESTART_TARGET: Duration = Duration::from_secs(2);

/// Timings of closing and reopening the server on its data directory.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RestartReport {
    pub(crate) stop: Duration,
    pub(crate) open: Duration,
    pub(crate) until_first_ok: Duration,
}

/// Everything one run measured.
#[derive(Debug)]
pub(crate) struct Report {
    pub(crate) machine: MachineInfo,
    pub(crate) command: String,
    pub(crate) options: BenchOptions,
    pub(crate) seed: SeedReport,
    pub(crate) data_bytes: u64,
    pub(crate) first_open: Duration,
    pub(crate) disk_sync: Option<SyncLatency>,
    pub(crate) results: Vec<WorkloadResult>,
    pub(crate) memory_serving: Memory,
    /// Resident memory at earlier and later points of the run, for attribution.
    pub(crate) memory_stages: Vec<(&'static str, Memory)>,
    /// The peak resident size during each workload and each sweep (`VmHWM` reset before each), in bytes.
    pub(crate) workload_peaks: Vec<(String, u64)>,
    pub(crate) restart: Option<RestartReport>,
    pub(crate) sweep: Vec<SweepSeries>,
    pub(crate) chart_link: Option<String>,
    pub(crate) notes: Vec<String>,
}

/// One cell of the sweep table: rate and p99, or why there is no latency to show.
fn sweep_cell(point: &SweepPoint) -> String {
    let errors = if point.errors > 0 { format!(" ({} err)", point.errors) } else { String::new() };
    if point.answered() {
        format!("{} @ {}{errors}", format_rate(point.throughput), format_millis(point.latencies.p99))
    } else {
        // Slower requests than the window (bcrypt at many connections): no latency to show.
        format!("none finished in the window{errors}")
    }
}

fn workload_row(result: &mut WorkloadResult) -> String {
    if let Some(failure) = &result.failure {
        let failure = failure.replace('|', "\\|").replace('\n', " ");
        return format!(
            "| {} `{}` | {} | – | – | – | – | – | – | – | – | {} | **not measured**: {failure} |",
            result.title, result.name, result.connections, result.target.text
        );
    }
    let throughput = result.measured.throughput();
    let latencies = result.measured.latencies();
    let ratio = result.ratio();
    let baseline = match result.baseline_kind {
        // The floor's own tail beside its rate: on a small machine it sets how low any p99 can go.
        Baseline::Floor => format!(
            "floor {} (p99 {})",
            format_rate(result.baseline.throughput()),
            format_millis(result.baseline.latencies().p99)
        ),
        Baseline::BcryptVerify => format!("bcrypt {}", format_rate(result.baseline.throughput())),
    };
    let misses = result.target.misses(throughput, ratio, latencies.p99);
    let mut verdict = if misses.is_empty() { "met".to_string() } else { format!("**missed**: {}", misses.join(", ")) };
    if result.measured.errors > 0 {
        let error = result.measured.first_error.as_deref().unwrap_or("").replace('|', "\\|").replace('\n', " ");
        let error: String = error.chars().take(160).collect();
        let _ = write!(verdict, " ({} errors, first: {error})", result.measured.errors);
    }
    format!(
        "| {} `{}` | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
        result.title,
        result.name,
        result.connections,
        format_rate(throughput),
        format_millis(latencies.p50),
        format_millis(latencies.p99),
        format_millis(latencies.p999),
        baseline,
        ratio.map(|ratio| format!("{ratio:.2}")).unwrap_or_else(|| "–".into()),
        result.response_bytes,
        result.measured.errors,
        result.target.text,
        verdict
    )
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "**missed**"
    }
}

/// Renders the generated block, markers included.
pub(crate) fn render_block(report: &mut Report) -> String {
    let machine = &report.machine;
    let options = &report.options;
    let mut text = String::new();
    let _ = writeln!(text, "{BEGIN_MARKER}");
    let _ = writeln!(text, "## Results\n");
    let _ = writeln!(text, "- **Run**: {} — `{}`", machine.date, report.command);
    let _ = writeln!(text, "- **Commit**: `{}` ({} build)", machine.commit, machine.build);
    let _ = writeln!(
        text,
        "- **Machine**: {} × {} (nproc {}), {} RAM, Linux {}",
        machine.cores, machine.cpu_model, machine.cores, machine.memory_total, machine.kernel
    );
    let _ = writeln!(
        text,
        "- **Method**: {} profiles; {} round(s) per workload of {:.1} s after {:.1} s warm-up, measured API and baseline interleaved (ABBA); {} keep-alive connections unless the row says otherwise; closed loop; throughput = median round, latency percentiles over all rounds.",
        format_rate(report.seed.profiles as f64),
        options.rounds,
        options.duration,
        options.warmup,
        options.connections
    );
    let seed_rate = report.seed.profiles as f64 / report.seed.elapsed.as_secs_f64().max(1e-9);
    let _ = writeln!(
        text,
        "- **Seed**: {} users + profiles written through `Store::update` in {:.1} s ({} profiles/s); data directory {} after seeding; first open (suggest index catch-up) {:.2} s.",
        format_rate(report.seed.profiles as f64),
        report.seed.elapsed.as_secs_f64(),
        format_rate(seed_rate),
        mebibytes(report.data_bytes),
        report.first_open.as_secs_f64()
    );
    if let Some(sync) = report.disk_sync {
        let _ = writeln!(
            text,
            "- **Disk**: 4 KiB write + `fdatasync` in the data directory, one at a time: {}/s, p50 {} ms, p99 {} ms (the floor under a durable acknowledgement).",
            format_rate(sync.per_second),
            format_millis(sync.p50),
            format_millis(sync.p99)
        );
    }
    text.push('\n');
    let _ = writeln!(text, "| workload | conns | req/s | p50 ms | p99 ms | p99.9 ms | baseline req/s (p99 ms) | ratio | answer bytes | errors | target | verdict |");
    let _ = writeln!(text, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|");
    for result in &mut report.results {
        let _ = writeln!(text, "{}", workload_row(result));
    }
    let _ = writeln!(text, "\n| measure | value | target | verdict |");
    let _ = writeln!(text, "|---|---|---|---|");
    let memory = report.memory_serving;
    let memory_verdict = if report.seed.profiles >= MEMORY_TARGET_PROFILES {
        verdict(memory.peak_resident <= MEMORY_TARGET_BYTES).to_string()
    } else {
        format!("target is stated at 1,000,000 profiles; this run has {}", format_rate(report.seed.profiles as f64))
    };
    let _ = writeln!(
        text,
        "| resident memory at {} profiles (whole process: server + load generator), after the workloads | VmRSS {}, VmHWM {} | ≤ 1.5 GB at 1,000,000 | {memory_verdict} |",
        format_rate(report.seed.profiles as f64),
        mebibytes(memory.resident),
        mebibytes(memory.peak_resident)
    );
    for (stage, stage_memory) in &report.memory_stages {
        let _ = writeln!(
            text,
            "| resident memory {stage} | VmRSS {}, VmHWM {} | – | – |",
            mebibytes(stage_memory.resident),
            mebibytes(stage_memory.peak_resident)
        );
    }
    if !report.workload_peaks.is_empty() {
        let peaks: Vec<String> =
            report.workload_peaks.iter().map(|(name, peak)| format!("{name} {}", mebibytes(*peak))).collect();
        let _ = writeln!(
            text,
            "| peak resident memory during each workload (VmHWM reset before each) | {} | – | – |",
            peaks.join(", ")
        );
    }
    match report.restart {
        Some(restart) => {
            let _ = writeln!(
                text,
                "| restart with {} profiles: reopen state on the same directory until the first 200 | {:.3} s (open {:.3} s; the close before it took {:.3} s, not counted) | ≤ 2 s | {} |",
                format_rate(report.seed.profiles as f64),
                restart.until_first_ok.as_secs_f64(),
                restart.open.as_secs_f64(),
                restart.stop.as_secs_f64(),
                verdict(restart.until_first_ok <= RESTART_TARGET)
            );
        }
        None => {
            let _ = writeln!(text, "| restart | not measured | ≤ 2 s | – |");
        }
    }
    let _ = writeln!(text, "| import (NDJSON) | n/a (no import API) | – | – |");
    if !report.sweep.is_empty() {
        let _ = writeln!(text, "\n### Latency vs throughput\n");
        if let Some(link) = &report.chart_link {
            let _ = writeln!(text, "![latency vs throughput]({link})\n");
        }
        let levels: Vec<usize> = report
            .sweep
            .first()
            .map(|series| series.points.iter().map(|point| point.connections).collect())
            .unwrap_or_default();
        let _ = write!(text, "| series (req/s @ p99 ms) |");
        for level in &levels {
            let _ = write!(text, " {level} conn |");
        }
        let _ = writeln!(text, "\n|---|{}", "---:|".repeat(levels.len()));
        for series in &report.sweep {
            let _ = write!(text, "| {} |", series.label);
            for point in &series.points {
                let _ = write!(text, " {} |", sweep_cell(point));
            }
            let _ = writeln!(text);
        }
    }
    if !report.notes.is_empty() {
        let _ = writeln!(text, "\nNotes from this run:");
        for note in &report.notes {
            let _ = writeln!(text, "- {note}");
        }
    }
    let _ = writeln!(text, "{END_MARKER}");
    text
}

/// Puts `block` in place of the existing generated block of `existing`, or appends it.
pub(crate) fn splice(existing: Option<&str>, block: &str) -> String {
    let Some(existing) = existing else {
        return format!(
            "# Benchmarks\n\nRun `cargo run --release --bin profiled-bench -- --profiles 100000` (see `--help`).\n\n{block}"
        );
    };
    match (existing.find(BEGIN_MARKER), existing.find(END_MARKER)) {
        (Some(begin), Some(end)) if end > begin => {
            let after = &existing[end + END_MARKER.len()..];
            format!("{}{}{}", &existing[..begin], block.trim_end_matches('\n'), after)
        }
        _ => format!("{}\n\n{block}", existing.trim_end()),
    }
}

/// Writes the report into `out`, keeping everything outside the generated block.
pub(crate) fn write(out: &Path, report: &mut Report) -> anyhow::Result<()> {
    let block = render_block(report);
    let existing = std::fs::read_to_string(out).ok();
    std::fs::write(out, splice(existing.as_deref(), &block))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::stats::Latencies;

    #[test]
    fn splice_replaces_only_the_block() {
        let old = format!("# Title\nintro\n{BEGIN_MARKER}\nold table\n{END_MARKER}\n## Analysis\nkept\n");
        let new_block = format!("{BEGIN_MARKER}\nnew table\n{END_MARKER}\n");
        let spliced = splice(Some(&old), &new_block);
        assert!(spliced.contains("new table"));
        assert!(!spliced.contains("old table"));
        assert!(spliced.starts_with("# Title\nintro\n"));
        assert!(spliced.ends_with("## Analysis\nkept\n"));
    }

    fn run(per_second: u64, latency_millis: u64) -> super::super::loadgen::RunResult {
        super::super::loadgen::RunResult {
            in_window: per_second as f64,
            errors: 0,
            window: Duration::from_secs(1),
            latencies_nanos: vec![latency_millis * 1_000_000; 100],
            slowest: Vec::new(),
            first_error: None,
        }
    }

    #[test]
    fn a_row_shows_the_floor_rate_and_tail_beside_the_measured_api() {
        let mut result = WorkloadResult {
            name: "get_one",
            title: "GET one",
            target: super::super::workloads::Target {
                text: "t",
                min_ratio: Some(0.5),
                min_throughput: None,
                max_p99: Some(Duration::from_millis(2)),
            },
            connections: 32,
            baseline_kind: Baseline::Floor,
            measured: Default::default(),
            baseline: Default::default(),
            response_bytes: 10,
            failure: None,
        };
        result.measured.add(run(30_000, 3));
        result.baseline.add(run(60_000, 2));
        let row = workload_row(&mut result);
        assert!(row.contains("| 30,000 | 3.00 | 3.00 | 3.00 | floor 60,000 (p99 2.00) | 0.50 |"), "{row}");
        assert!(row.ends_with("**missed**: p99 3.00 ms > 2 ms |"), "{row}");
    }

    #[test]
    fn a_sweep_point_without_a_finished_answer_shows_no_latency() {
        let latencies = Latencies::from_samples(&mut [1_500_000, 2_000_000]);
        let answered = SweepPoint { connections: 32, throughput: 21.4, latencies, errors: 0 };
        assert_eq!(sweep_cell(&answered), "21.4 @ 2.00");
        // Requests longer than the window add their share to the rate but have no latency sample.
        let unanswered = SweepPoint { connections: 64, throughput: 20.1, latencies: Latencies::default(), errors: 1 };
        assert_eq!(sweep_cell(&unanswered), "none finished in the window (1 err)");
    }

    #[test]
    fn splice_appends_or_creates() {
        let block = format!("{BEGIN_MARKER}\nx\n{END_MARKER}\n");
        assert!(splice(Some("# Mine\n"), &block).starts_with("# Mine\n\n"));
        assert!(splice(None, &block).starts_with("# Benchmarks"));
    }
}
