//! The built-in load generator: a fixed number of keep-alive HTTP/1.1 connections, each sending its next
//! request as soon as the previous answer is read (closed loop, like `wrk`), for a warm-up and then a
//! fixed measurement window. Answers that complete inside the window are timed; throughput counts every
//! answer by the share of its time that fell inside the window (see [`window_share`]).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, StatusCode};
use hyper_util::rt::TokioIo;
use rand::rngs::StdRng;
use rand::SeedableRng;
use tokio::net::TcpStream;

/// How long in-flight requests may take to finish after a window closes.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(60);
/// How many of a run's slowest answers are kept, to show what its tail latency is made of.
const SLOWEST_KEPT: usize = 5;
/// Numbers the runs, so that every run's connections draw different random sequences.
static RUN_COUNTER: AtomicU64 = AtomicU64::new(0);

/// One request to send: method, path with query, and a JSON body (empty for none).
#[derive(Debug, Clone)]
pub(crate) struct PreparedRequest {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) body: Bytes,
}

impl PreparedRequest {
    /// Returns a bodyless GET.
    pub(crate) fn get(path: impl Into<String>) -> PreparedRequest {
        PreparedRequest { method: Method::GET, path: path.into(), body: Bytes::new() }
    }

    /// Returns a request with a JSON body.
    pub(crate) fn json(method: Method, path: impl Into<String>, body: impl Into<Bytes>) -> PreparedRequest {
        PreparedRequest { method, path: path.into(), body: body.into() }
    }
}

/// Makes the next request of a connection; gets the connection's own random generator.
pub(crate) type RequestFactory = Arc<dyn Fn(&mut StdRng) -> PreparedRequest + Send + Sync>;

/// Where and how hard to send load.
#[derive(Debug, Clone)]
pub(crate) struct LoadSpec {
    pub(crate) address: SocketAddr,
    pub(crate) authorization: HeaderValue,
    pub(crate) connections: usize,
    pub(crate) warmup: Duration,
    pub(crate) duration: Duration,
}

/// What one measured run saw.
#[derive(Debug, Clone, Default)]
pub(crate) struct RunResult {
    /// Successful answers counted by the share of their time inside the window: the throughput's numerator.
    pub(crate) in_window: f64,
    /// Non-2xx answers and transport failures during the whole run.
    pub(crate) errors: u64,
    pub(crate) window: Duration,
    /// Latency of every successful answer completed inside the window, in nanoseconds.
    pub(crate) latencies_nanos: Vec<u64>,
    /// The slowest counted answers (latency in nanoseconds, request), slowest first.
    pub(crate) slowest: Vec<(u64, PreparedRequest)>,
    pub(crate) first_error: Option<String>,
}

impl RunResult {
    /// Returns the answers per second inside the window.
    pub(crate) fn throughput(&self) -> f64 {
        self.in_window / self.window.as_secs_f64().max(1e-9)
    }

    fn merge(&mut self, other: RunResult) {
        self.in_window += other.in_window;
        self.errors += other.errors;
        self.latencies_nanos.extend(other.latencies_nanos);
        keep_slowest(&mut self.slowest, other.slowest);
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

/// Returns the share of the request that ran from `sent_at` to `finished_at` that lies inside the window.
///
/// Counting answers by their share instead of by where they end keeps slow requests from skewing the rate:
/// 32 first logins of 1.5 s each start together and end in waves, and whether a wave ends just inside or just
/// outside a 4 s window would move a completion count by a quarter. Shares add up to the work done inside the
/// window whatever the phase; for answers of a millisecond they equal the count.
pub(crate) fn window_share(sent_at: Instant, finished_at: Instant, window_start: Instant, window_end: Instant) -> f64 {
    let duration = finished_at.saturating_duration_since(sent_at);
    let inside = finished_at.min(window_end).saturating_duration_since(sent_at.max(window_start));
    if duration.is_zero() {
        return if finished_at >= window_start && finished_at <= window_end { 1.0 } else { 0.0 };
    }
    inside.as_secs_f64() / duration.as_secs_f64()
}

/// Adds `more` to `slowest`, keeping the SLOWEST_KEPT slowest, slowest first.
pub(crate) fn keep_slowest(slowest: &mut Vec<(u64, PreparedRequest)>, more: Vec<(u64, PreparedRequest)>) {
    slowest.extend(more);
    slowest.sort_by(|left, right| right.0.cmp(&left.0));
    slowest.truncate(SLOWEST_KEPT);
}

/// An open keep-alive connection.
struct Connection {
    sender: SendRequest<Full<Bytes>>,
    host: HeaderValue,
}

impl Connection {
    async fn open(address: SocketAddr) -> anyhow::Result<Connection> {
        let stream = TcpStream::connect(address).await.with_context(|| format!("cannot connect to {address}"))?;
        stream.set_nodelay(true)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let host = HeaderValue::from_str(&address.to_string())?;
        Ok(Connection { sender, host })
    }

    /// Sends one request and reads the whole answer.
    async fn send(
        &mut self,
        request: &PreparedRequest,
        authorization: &HeaderValue,
    ) -> anyhow::Result<(StatusCode, Bytes)> {
        let mut builder = hyper::Request::builder()
            .method(request.method.clone())
            .uri(request.path.as_str())
            .header(HOST, self.host.clone())
            .header(AUTHORIZATION, authorization.clone());
        if !request.body.is_empty() {
            builder = builder.header(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        let http_request = builder.body(Full::new(request.body.clone()))?;
        self.sender.ready().await?;
        let response = self.sender.send_request(http_request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }
}

fn describe_failure(status: StatusCode, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(400)]);
    format!("HTTP {status}: {text}")
}

async fn drive_connection(
    mut connection: Connection,
    spec: Arc<LoadSpec>,
    factory: RequestFactory,
    seed: u64,
    window_start: Instant,
    window_end: Instant,
) -> RunResult {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut result = RunResult::default();
    while Instant::now() < window_end {
        let request = factory(&mut rng);
        let sent_at = Instant::now();
        let outcome = connection.send(&request, &spec.authorization).await;
        let finished_at = Instant::now();
        let counted = finished_at >= window_start && finished_at <= window_end;
        match outcome {
            Ok((status, _)) if status.is_success() => {
                result.in_window += window_share(sent_at, finished_at, window_start, window_end);
                if counted {
                    let nanos = (finished_at - sent_at).as_nanos() as u64;
                    result.latencies_nanos.push(nanos);
                    if result.slowest.len() < SLOWEST_KEPT || result.slowest.last().is_some_and(|last| nanos > last.0) {
                        keep_slowest(&mut result.slowest, vec![(nanos, request)]);
                    }
                }
            }
            Ok((status, body)) => {
                result.errors += 1;
                result.first_error.get_or_insert_with(|| describe_failure(status, &body));
            }
            Err(error) => {
                result.errors += 1;
                result.first_error.get_or_insert_with(|| format!("transport: {error:#}"));
                match Connection::open(spec.address).await {
                    Ok(reopened) => connection = reopened,
                    Err(_) => break,
                }
            }
        }
    }
    result
}

/// Runs `factory`'s requests against `spec.address` for the warm-up and then the measured window.
pub(crate) async fn run_load(spec: &LoadSpec, factory: RequestFactory) -> anyhow::Result<RunResult> {
    let mut connections = Vec::with_capacity(spec.connections);
    for _ in 0..spec.connections {
        connections.push(Connection::open(spec.address).await?);
    }
    let shared_spec = Arc::new(spec.clone());
    let window_start = Instant::now() + spec.warmup;
    let window_end = window_start + spec.duration;
    let run_number = RUN_COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut tasks = Vec::with_capacity(connections.len());
    for (number, connection) in connections.into_iter().enumerate() {
        let seed = (run_number << 32) | number as u64;
        tasks.push(tokio::spawn(drive_connection(
            connection,
            Arc::clone(&shared_spec),
            Arc::clone(&factory),
            seed,
            window_start,
            window_end,
        )));
    }
    let mut merged = RunResult { window: spec.duration, ..RunResult::default() };
    let drain_deadline = window_end + DRAIN_TIMEOUT;
    for task in tasks {
        let remaining = drain_deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(remaining, task).await {
            Ok(Ok(result)) => merged.merge(result),
            Ok(Err(join_error)) => anyhow::bail!("load connection task failed: {join_error}"),
            Err(_) => {
                merged.errors += 1;
                merged
                    .first_error
                    .get_or_insert_with(|| "a request did not finish within 60 s after the window".into());
            }
        }
    }
    Ok(merged)
}

/// Sends each of `requests` once over `connections` connections; returns the answers in request order.
pub(crate) async fn run_each(
    address: SocketAddr,
    authorization: &HeaderValue,
    requests: Vec<PreparedRequest>,
    connections: usize,
) -> anyhow::Result<Vec<(StatusCode, Bytes)>> {
    let requests = Arc::new(requests);
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..connections.clamp(1, requests.len().max(1)) {
        let mut connection = Connection::open(address).await?;
        let requests = Arc::clone(&requests);
        let next = Arc::clone(&next);
        let authorization = authorization.clone();
        tasks.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            loop {
                let position = next.fetch_add(1, Ordering::Relaxed);
                let Some(request) = requests.get(position) else {
                    break;
                };
                answers.push((position, connection.send(request, &authorization).await?));
            }
            anyhow::Ok(answers)
        }));
    }
    let mut all = Vec::with_capacity(requests.len());
    for task in tasks {
        all.extend(task.await??);
    }
    all.sort_by_key(|(position, _)| *position);
    Ok(all.into_iter().map(|(_, answer)| answer).collect())
}

/// Sends one request on a fresh connection.
pub(crate) async fn send_once(
    address: SocketAddr,
    authorization: &HeaderValue,
    request: &PreparedRequest,
) -> anyhow::Result<(StatusCode, Bytes)> {
    Connection::open(address).await?.send(request, authorization).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_count_by_their_share_inside_the_window() {
        let start = Instant::now();
        let at = |millis: u64| start + Duration::from_millis(millis);
        let (window_start, window_end) = (at(1_000), at(5_000));
        // Wholly inside, wholly outside (warm-up, after the end).
        assert_eq!(window_share(at(2_000), at(2_001), window_start, window_end), 1.0);
        assert_eq!(window_share(at(0), at(900), window_start, window_end), 0.0);
        assert_eq!(window_share(at(5_100), at(5_200), window_start, window_end), 0.0);
        // Straddling either edge: the part inside.
        assert!((window_share(at(500), at(2_000), window_start, window_end) - 2.0 / 3.0).abs() < 1e-9);
        assert!((window_share(at(4_000), at(6_000), window_start, window_end) - 0.5).abs() < 1e-9);
        // Longer than the window on both sides.
        assert!((window_share(at(0), at(8_000), window_start, window_end) - 0.5).abs() < 1e-9);
        // An instant answer counts where it ends.
        assert_eq!(window_share(at(3_000), at(3_000), window_start, window_end), 1.0);
    }

    #[test]
    fn shares_of_back_to_back_requests_add_up_to_the_work_done_whatever_the_phase() {
        // One connection sending 1.5 s requests back to back: 4 s of window always hold 4 / 1.5 requests of
        // work, while completions inside it are 2 or 3 depending on where the first one started.
        let start = Instant::now();
        let (window_start, window_end) = (start + Duration::from_secs(1), start + Duration::from_secs(5));
        let mut completion_counts = std::collections::BTreeSet::new();
        for phase_millis in [0u64, 100, 400, 700, 900] {
            let mut sent = start + Duration::from_millis(phase_millis);
            let (mut shares, mut completions) = (0.0, 0);
            while sent < window_end {
                let finished = sent + Duration::from_millis(1_500);
                shares += window_share(sent, finished, window_start, window_end);
                completions += usize::from(finished >= window_start && finished <= window_end);
                sent = finished;
            }
            completion_counts.insert(completions);
            assert!((shares - 4.0 / 1.5).abs() < 1e-6, "phase {phase_millis}: {shares}");
        }
        assert_eq!(completion_counts.into_iter().collect::<Vec<_>>(), vec![2, 3]);
    }
}
