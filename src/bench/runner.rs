//! Runs workloads against the real server and their baselines in interleaved rounds, and the
//! latency-vs-throughput sweep.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::header::HeaderValue;
use rand::rngs::StdRng;
use rand::SeedableRng;
use tokio::runtime::Runtime;

use super::loadgen::{run_each, run_load, send_once, window_share, LoadSpec, RequestFactory, RunResult};
use super::options::BenchOptions;
use super::server::FloorServers;
use super::stats::{Latencies, Series};
use super::synth::USER_PASSWORD;
use super::workloads::{Baseline, Target, Workload};

/// The outcome of one workload.
#[derive(Debug)]
pub(crate) struct WorkloadResult {
    pub(crate) name: &'static str,
    pub(crate) title: &'static str,
    pub(crate) target: Target,
    pub(crate) connections: usize,
    pub(crate) baseline_kind: Baseline,
    pub(crate) measured: Series,
    pub(crate) baseline: Series,
    pub(crate) response_bytes: usize,
    /// Why the workload could not be measured (its probe request failed).
    pub(crate) failure: Option<String>,
}

impl WorkloadResult {
    /// Returns measured throughput over baseline throughput.
    pub(crate) fn ratio(&self) -> Option<f64> {
        let baseline = self.baseline.throughput();
        (baseline > 0.0 && self.failure.is_none()).then(|| self.measured.throughput() / baseline)
    }
}

/// One point of the sweep.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SweepPoint {
    pub(crate) connections: usize,
    pub(crate) throughput: f64,
    pub(crate) latencies: Latencies,
    pub(crate) errors: u64,
}

impl SweepPoint {
    /// Tells whether the point has a rate and a latency to plot: at least one answer completed inside the
    /// window (requests slower than the window still add their share to the rate, but have no latency).
    pub(crate) fn answered(&self) -> bool {
        self.throughput > 0.0 && !self.latencies.max.is_zero()
    }
}

/// The sweep of one workload (or the floor).
#[derive(Debug, Clone)]
pub(crate) struct SweepSeries {
    pub(crate) label: String,
    pub(crate) points: Vec<SweepPoint>,
}

/// Drives load from its own runtime; the servers run in theirs.
#[derive(Debug)]
pub(crate) struct Driver {
    pub(crate) runtime: Runtime,
    pub(crate) floors: FloorServers,
    /// `kibana_system`'s Basic credentials: every workload calls as Kibana does.
    pub(crate) caller: HeaderValue,
    pub(crate) options: BenchOptions,
}

/// Returns a `Basic` authorization header.
pub(crate) fn basic_auth(username: &str, password: &str) -> HeaderValue {
    use base64::Engine;
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    HeaderValue::from_str(&format!("Basic {token}")).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Verifies one bcrypt (cost 10) hash on every core with the `bcrypt` crate for the warm-up and the
/// window; returns verifications per second inside the window, each counted by its share inside it (as the
/// load generator counts answers, [`window_share`]).
pub(crate) fn raw_bcrypt_verify_rate(hash: &str, warmup: Duration, window: Duration) -> f64 {
    let threads = std::thread::available_parallelism().map(usize::from).unwrap_or(1);
    let window_start = Instant::now() + warmup;
    let window_end = window_start + window;
    let shares: Vec<f64> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut share = 0.0;
                    while Instant::now() < window_end {
                        let started_at = Instant::now();
                        let verified = bcrypt::verify(USER_PASSWORD, hash).unwrap_or(false);
                        if verified {
                            share += window_share(started_at, Instant::now(), window_start, window_end);
                        }
                    }
                    share
                })
            })
            .collect();
        workers.into_iter().map(|worker| worker.join().unwrap_or(0.0)).collect()
    });
    shares.iter().sum::<f64>() / window.as_secs_f64()
}

impl Driver {
    fn spec(&self, address: SocketAddr, connections: usize, warmup: Duration, duration: Duration) -> LoadSpec {
        LoadSpec { address, authorization: self.caller.clone(), connections, warmup, duration }
    }

    fn run(&self, spec: &LoadSpec, factory: &RequestFactory) -> anyhow::Result<RunResult> {
        self.runtime.block_on(run_load(spec, factory.clone()))
    }

    /// Sends a workload's preparation requests; fails when any is answered with an error.
    fn prepare(&self, address: SocketAddr, workload: &Workload, connections: usize) -> anyhow::Result<()> {
        let Some(prepare) = &workload.prepare else {
            return Ok(());
        };
        let answers = self.runtime.block_on(run_each(address, &self.caller, prepare(), connections))?;
        if let Some((status, body)) = answers.iter().find(|(status, _)| !status.is_success()) {
            anyhow::bail!("preparation answered HTTP {status}: {}", String::from_utf8_lossy(body));
        }
        Ok(())
    }

    /// Sends one request of the workload; returns the answer body (the floor's body) or why it failed.
    fn probe(&self, address: SocketAddr, workload: &Workload) -> Result<Bytes, String> {
        let request = (workload.factory)(&mut StdRng::seed_from_u64(0));
        match self.runtime.block_on(send_once(address, &self.caller, &request)) {
            Ok((status, body)) if status.is_success() => Ok(body),
            Ok((status, body)) => {
                Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&body[..body.len().min(300)])))
            }
            Err(error) => Err(format!("{error:#}")),
        }
    }

    /// Measures `workload` on the server at `address` against its baseline in ABBA-interleaved rounds.
    pub(crate) fn run_workload(&self, address: SocketAddr, workload: &Workload) -> anyhow::Result<WorkloadResult> {
        let options = &self.options;
        let connections = workload.fixed_connections.unwrap_or(options.connections);
        let mut result = WorkloadResult {
            name: workload.name,
            title: workload.title,
            target: workload.target,
            connections,
            baseline_kind: workload.baseline,
            measured: Series::default(),
            baseline: Series::default(),
            response_bytes: 0,
            failure: None,
        };
        let probe_body = match self
            .prepare(address, workload, connections)
            .map_err(|error| format!("{error:#}"))
            .and_then(|()| self.probe(address, workload))
        {
            Ok(body) => body,
            Err(failure) => {
                println!("  {}: skipped, {failure}", workload.name);
                result.failure = Some(failure);
                return Ok(result);
            }
        };
        result.response_bytes = probe_body.len();
        let (floor, bcrypt_hash) = match workload.baseline {
            Baseline::Floor => (Some(self.floors.start(probe_body)?), String::new()),
            Baseline::BcryptVerify => (None, bcrypt::hash(USER_PASSWORD, 10)?),
        };
        let warmup = options.warmup_duration();
        let window = options.round_duration();
        for round in 0..options.rounds {
            let measured_first = round % 2 == 0;
            for measured_turn in [measured_first, !measured_first] {
                if measured_turn {
                    self.prepare(address, workload, connections)?;
                    let run = self.run(&self.spec(address, connections, warmup, window), &workload.factory)?;
                    result.measured.add(run);
                } else if let Some(floor) = &floor {
                    let run = self.run(&self.spec(floor.address, connections, warmup, window), &workload.factory)?;
                    result.baseline.add(run);
                } else {
                    result.baseline.add_rate(raw_bcrypt_verify_rate(&bcrypt_hash, warmup, window));
                }
            }
        }
        if let Some(floor) = floor {
            self.floors.stop(floor);
        }
        Ok(result)
    }

    /// Measures `workload` at each sweep connection count (`floor_body`: against a floor instead).
    pub(crate) fn sweep(
        &self,
        address: SocketAddr,
        workload: &Workload,
        floor_body: Option<Bytes>,
    ) -> anyhow::Result<SweepSeries> {
        let floor = floor_body.map(|body| self.floors.start(body)).transpose()?;
        let target_address = floor.as_ref().map_or(address, |floor| floor.address);
        let warmup = self.options.warmup_duration().min(Duration::from_millis(500));
        let mut points = Vec::new();
        for &connections in &self.options.sweep {
            if floor.is_none() {
                self.prepare(address, workload, connections)?;
            }
            let mut run = self.run(
                &self.spec(target_address, connections, warmup, self.options.sweep_point_duration()),
                &workload.factory,
            )?;
            let throughput = run.throughput();
            println!(
                "    {} at {connections} connections: {throughput:.0}/s, peak resident so far {}",
                workload.name,
                super::system::mebibytes(super::system::peak_since_reset())
            );
            let latencies = Latencies::from_samples(&mut run.latencies_nanos);
            points.push(SweepPoint { connections, throughput, latencies, errors: run.errors });
        }
        let label = match floor {
            Some(floor) => {
                self.floors.stop(floor);
                format!("floor ({} body)", workload.name)
            }
            None => workload.name.to_string(),
        };
        Ok(SweepSeries { label, points })
    }
}
