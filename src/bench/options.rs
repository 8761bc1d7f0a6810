//! Command-line options of `profiled-bench`.

use std::path::PathBuf;
use std::time::Duration;

/// Seeds a server with synthetic profiles, drives it and a floor server with the same load, and writes
/// the results to BENCHMARKS.md with a latency-vs-throughput chart.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "profiled-bench", version, about)]
pub struct BenchOptions {
    /// How many synthetic profiles (and native users) to seed.
    #[arg(long, default_value_t = 100_000)]
    pub profiles: usize,
    /// Seconds of measurement per round (after the warm-up).
    #[arg(long, default_value_t = 5.0)]
    pub duration: f64,
    /// Seconds of warm-up before every measured run (not counted).
    #[arg(long, default_value_t = 1.0)]
    pub warmup: f64,
    /// Concurrent keep-alive connections of the load generator (workloads that fix their own count ignore it).
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
    /// Interleaved rounds per workload: measured API and baseline alternate (ABBA order).
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Connection counts of the latency-vs-throughput sweep drawn in the chart (empty: no sweep).
    #[arg(long, value_delimiter = ',', default_value = "1,4,16,32,64")]
    pub sweep: Vec<usize>,
    /// Skips the sweep (and the chart).
    #[arg(long)]
    pub no_sweep: bool,
    /// Seconds of measurement per sweep point.
    #[arg(long, default_value_t = 2.0)]
    pub sweep_duration: f64,
    /// Only run workloads whose name contains one of these comma-separated words (see --list).
    #[arg(long, value_delimiter = ',')]
    pub workloads: Vec<String>,
    /// Lists the workloads and exits.
    #[arg(long)]
    pub list: bool,
    /// Where to write the results (a `<!-- results -->` block is replaced, the rest kept); the chart goes to
    /// `benchmarks/` beside it. Defaults to `BENCHMARKS.md`, or a temporary directory with --smoke.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Tiny run for CI: 200 profiles, 1 short round, 2 sweep points; finishes in well under a minute.
    #[arg(long)]
    pub smoke: bool,
    /// Data directory to seed (must not exist); defaults to a fresh temporary directory, removed at the end.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Keeps the data directory after the run.
    #[arg(long)]
    pub keep_data: bool,
    /// Worker threads of the load generator's runtime (the servers use one per core, like `profiled`).
    #[arg(long, default_value_t = 2)]
    pub client_threads: usize,
    /// Profiling aid: replays the suggest workload's requests (for `--profiles` users) against a copy of a kept
    /// suggest index (the `search` directory of a `--keep-data` run), on this thread, `--rounds` times, and prints
    /// the on-CPU time per query shape, the slowest queries with their clauses, and a checksum of the answers.
    /// Seeds and serves nothing.
    #[arg(long, value_name = "INDEX_DIR")]
    pub replay_suggest: Option<PathBuf>,
}

impl BenchOptions {
    /// Applies the --smoke presets to options left at their defaults.
    pub fn resolved(mut self) -> BenchOptions {
        if self.smoke {
            self.profiles = self.profiles.min(200);
            self.duration = self.duration.min(0.3);
            self.warmup = self.warmup.min(0.1);
            self.rounds = 1;
            self.sweep = vec![1, 8];
            self.sweep_duration = self.sweep_duration.min(0.2);
        }
        if self.no_sweep {
            self.sweep.clear();
        }
        self.sweep.retain(|&connections| connections > 0);
        self.connections = self.connections.max(1);
        self.rounds = self.rounds.max(1);
        self.client_threads = self.client_threads.max(1);
        self
    }

    /// Returns the measurement window of one round.
    pub(crate) fn round_duration(&self) -> Duration {
        Duration::from_secs_f64(self.duration.max(0.05))
    }

    /// Returns the warm-up of every run.
    pub(crate) fn warmup_duration(&self) -> Duration {
        Duration::from_secs_f64(self.warmup.max(0.0))
    }

    /// Returns the measurement window of one sweep point.
    pub(crate) fn sweep_point_duration(&self) -> Duration {
        Duration::from_secs_f64(self.sweep_duration.max(0.05))
    }

    /// Tells whether the workload named `name` was selected with --workloads.
    pub(crate) fn selects(&self, name: &str) -> bool {
        self.workloads.is_empty() || self.workloads.iter().any(|word| name.contains(word.as_str()))
    }
}
