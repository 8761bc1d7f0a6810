//! The measured workloads: what Kibana sends, with the targets.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::Method;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::json;

use super::loadgen::{PreparedRequest, RequestFactory};
use super::synth::{random_space, suggest_name, synthetic_uid, synthetic_user, USER_PASSWORD};

/// Kibana's batch size for bulk profile reads and privilege checks (spec §12).
const KIBANA_BATCH: usize = 50;
/// How many distinct uids the read workloads draw from (a warm working set).
const SAMPLE_SIZE: usize = 20_000;
/// How many pre-built requests the batch and suggest workloads cycle through.
const PREBUILT_REQUESTS: usize = 1_024;

/// What a workload is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Baseline {
    /// The floor server answering a body of the same size.
    Floor,
    /// Raw bcrypt (cost 10) verifications per second on all cores.
    BcryptVerify,
}

/// A target of the issue; all given bounds must hold.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Target {
    pub(crate) text: &'static str,
    pub(crate) min_ratio: Option<f64>,
    pub(crate) min_throughput: Option<f64>,
    pub(crate) max_p99: Option<Duration>,
}

impl Target {
    /// Returns the bounds that the measurement misses (empty when the target is met).
    pub(crate) fn misses(&self, throughput: f64, ratio: Option<f64>, p99: Duration) -> Vec<String> {
        let mut misses = Vec::new();
        if let (Some(minimum), Some(ratio)) = (self.min_ratio, ratio) {
            if ratio < minimum {
                misses.push(format!("ratio {ratio:.3} < {minimum}"));
            }
        }
        if let Some(minimum) = self.min_throughput {
            if throughput < minimum {
                misses.push(format!("{throughput:.0}/s < {minimum:.0}/s"));
            }
        }
        if let Some(maximum) = self.max_p99 {
            if p99 > maximum {
                misses.push(format!("p99 {:.2} ms > {} ms", p99.as_secs_f64() * 1e3, maximum.as_millis()));
            }
        }
        misses
    }
}

/// Builds the requests sent before each measured run of the real server.
pub(crate) type PrepareFn = Arc<dyn Fn() -> Vec<PreparedRequest> + Send + Sync>;

/// One measured API call pattern.
#[derive(Clone)]
pub(crate) struct Workload {
    pub(crate) name: &'static str,
    pub(crate) title: &'static str,
    /// Connections the target is stated at, when the workload fixes them (else `--connections`).
    pub(crate) fixed_connections: Option<usize>,
    pub(crate) baseline: Baseline,
    pub(crate) target: Target,
    pub(crate) factory: RequestFactory,
    pub(crate) prepare: Option<PrepareFn>,
    /// Whether the latency-vs-throughput sweep draws this workload.
    pub(crate) in_sweep: bool,
}

impl std::fmt::Debug for Workload {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Workload").field("name", &self.name).finish_non_exhaustive()
    }
}

/// The seeded population as the workloads see it.
#[derive(Debug)]
pub(crate) struct Population {
    pub(crate) profiles: usize,
    /// Uids of a random sample of the profiles.
    sample_uids: Arc<Vec<String>>,
    /// Indices of the users whose credentials are kept warm (activation inside the grace window).
    warm_users: Vec<usize>,
    /// The next user whose first login the first-login workload spends.
    next_first_login: Arc<AtomicUsize>,
    /// Set when the first-login workload ran out of never-logged-in users and wrapped around.
    pub(crate) first_logins_exhausted: Arc<AtomicBool>,
}

impl Population {
    /// Describes `profiles` seeded users: a random sample for reads, a warm pool, the rest for first logins.
    pub(crate) fn new(profiles: usize) -> Population {
        let mut rng = StdRng::seed_from_u64(0xbe_c4);
        let mut indices: Vec<usize> = (0..profiles).collect();
        let (sample, _) = indices.partial_shuffle(&mut rng, SAMPLE_SIZE.min(profiles));
        let sample_uids: Vec<String> = sample.iter().map(|&index| synthetic_uid(index)).collect();
        let warm_count = (profiles / 4).clamp(1, 100);
        Population {
            profiles,
            sample_uids: Arc::new(sample_uids),
            warm_users: (0..warm_count).collect(),
            next_first_login: Arc::new(AtomicUsize::new(warm_count)),
            first_logins_exhausted: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Returns a uid of the sample (for probes).
    pub(crate) fn some_uid(&self) -> String {
        self.sample_uids.first().cloned().unwrap_or_default()
    }

    /// Returns how many users' first logins were spent.
    pub(crate) fn first_logins_spent(&self) -> usize {
        self.next_first_login.load(Ordering::Relaxed).saturating_sub(self.warm_users.len())
    }
}

fn random_uids(uids: &[String], rng: &mut StdRng, count: usize) -> Vec<String> {
    (0..count).map(|_| uids[rng.gen_range(0..uids.len())].clone()).collect()
}

fn activate_body(username: &str) -> Bytes {
    Bytes::from(json!({ "grant_type": "password", "username": username, "password": USER_PASSWORD }).to_string())
}

/// Reads every sampled profile once, in batches and with the workload's `data` parameter (`query`), so that
/// the measured run finds them in the read cache (the targets of the read workloads are stated for a warm
/// server).
fn warm_sample(uids: &Arc<Vec<String>>, query: &'static str) -> Option<PrepareFn> {
    let uids = Arc::clone(uids);
    Some(Arc::new(move || {
        uids.chunks(KIBANA_BATCH)
            .map(|chunk| PreparedRequest::get(format!("/_security/profile/{}{query}", chunk.join(","))))
            .collect()
    }))
}

fn prebuilt(requests: Vec<PreparedRequest>) -> RequestFactory {
    let requests = Arc::new(requests);
    Arc::new(move |rng: &mut StdRng| requests[rng.gen_range(0..requests.len())].clone())
}

fn get_one(population: &Population) -> Workload {
    let uids = Arc::clone(&population.sample_uids);
    Workload {
        name: "get_one",
        title: "GET one profile (`data=kibana.*`)",
        fixed_connections: None,
        baseline: Baseline::Floor,
        target: Target {
            text: "≥ 0.5 × floor, p99 ≤ 2 ms",
            min_ratio: Some(0.5),
            max_p99: Some(Duration::from_millis(2)),
            ..Target::default()
        },
        factory: Arc::new(move |rng: &mut StdRng| {
            let uid = &uids[rng.gen_range(0..uids.len())];
            PreparedRequest::get(format!("/_security/profile/{uid}?data=kibana.*"))
        }),
        prepare: warm_sample(&population.sample_uids, "?data=kibana.*"),
        in_sweep: true,
    }
}

fn get_batch(population: &Population) -> Workload {
    let mut rng = StdRng::seed_from_u64(50);
    let requests = (0..PREBUILT_REQUESTS)
        .map(|_| {
            let uids = random_uids(&population.sample_uids, &mut rng, KIBANA_BATCH);
            PreparedRequest::get(format!("/_security/profile/{}?data=kibana.avatar", uids.join(",")))
        })
        .collect();
    Workload {
        name: "get_50",
        title: "GET 50 uids (Kibana's batch, `data=kibana.avatar`)",
        fixed_connections: None,
        baseline: Baseline::Floor,
        target: Target { text: "≥ 0.15 × floor", min_ratio: Some(0.15), ..Target::default() },
        factory: prebuilt(requests),
        prepare: warm_sample(&population.sample_uids, "?data=kibana.avatar"),
        in_sweep: true,
    }
}

fn activate_warm(population: &Population) -> Workload {
    let usernames: Arc<Vec<String>> =
        Arc::new(population.warm_users.iter().map(|&index| synthetic_user(index).username).collect());
    let prepare_usernames = Arc::clone(&usernames);
    Workload {
        name: "activate_warm",
        title: "activate, warm credentials, inside the grace window",
        fixed_connections: None,
        baseline: Baseline::Floor,
        target: Target { text: "≥ 0.35 × floor", min_ratio: Some(0.35), ..Target::default() },
        factory: Arc::new(move |rng: &mut StdRng| {
            let username = &usernames[rng.gen_range(0..usernames.len())];
            PreparedRequest::json(Method::POST, "/_security/profile/_activate", activate_body(username))
        }),
        // Activating every pool user first caches their credentials and opens their 30 s grace window.
        prepare: Some(Arc::new(move || {
            prepare_usernames
                .iter()
                .map(|username| {
                    PreparedRequest::json(Method::POST, "/_security/profile/_activate", activate_body(username))
                })
                .collect()
        })),
        in_sweep: true,
    }
}

fn activate_first(population: &Population) -> Workload {
    let next = Arc::clone(&population.next_first_login);
    let exhausted = Arc::clone(&population.first_logins_exhausted);
    let first = population.warm_users.len();
    let profiles = population.profiles;
    Workload {
        name: "activate_first",
        title: "activate, first login (bcrypt cost 10)",
        fixed_connections: None,
        baseline: Baseline::BcryptVerify,
        target: Target { text: "≥ 0.9 × raw bcrypt verify rate", min_ratio: Some(0.9), ..Target::default() },
        factory: Arc::new(move |_rng: &mut StdRng| {
            let mut index = next.fetch_add(1, Ordering::Relaxed);
            if index >= profiles {
                exhausted.store(true, Ordering::Relaxed);
                index = first + index % (profiles - first).max(1);
            }
            PreparedRequest::json(
                Method::POST,
                "/_security/profile/_activate",
                activate_body(&synthetic_user(index).username),
            )
        }),
        prepare: None,
        in_sweep: true,
    }
}

fn update_data(population: &Population, refresh: Option<&'static str>) -> Workload {
    let uids = Arc::clone(&population.sample_uids);
    let counter = Arc::new(AtomicU64::new(0));
    let (name, title) = match refresh {
        None => ("update_data", "update data, durable (default `refresh=wait_for`)"),
        Some(_) => ("update_data_norefresh", "update data, durable, `refresh=false`"),
    };
    Workload {
        name,
        title,
        fixed_connections: None,
        baseline: Baseline::Floor,
        target: Target {
            text: "≥ 5,000/s, p99 ≤ 10 ms",
            min_throughput: Some(5_000.0),
            max_p99: Some(Duration::from_millis(10)),
            ..Target::default()
        },
        factory: Arc::new(move |rng: &mut StdRng| {
            let uid = &uids[rng.gen_range(0..uids.len())];
            let sequence = counter.fetch_add(1, Ordering::Relaxed);
            let mode = ["dark", "light", "system"][(sequence % 3) as usize];
            let body =
                json!({ "data": { "kibana": { "userSettings": { "darkMode": mode, "lastChange": sequence } } } });
            let query = refresh.map(|value| format!("?refresh={value}")).unwrap_or_default();
            PreparedRequest::json(Method::POST, format!("/_security/profile/{uid}/_data{query}"), body.to_string())
        }),
        prepare: None,
        in_sweep: refresh.is_none(),
    }
}

pub(crate) fn suggest_requests(population: &Population) -> Vec<PreparedRequest> {
    let mut rng = StdRng::seed_from_u64(6);
    (0..PREBUILT_REQUESTS)
        .map(|_| {
            let user = synthetic_user(rng.gen_range(0..population.profiles));
            let name = suggest_name(&user, &mut rng);
            let mut body = json!({ "name": name, "size": if rng.gen_bool(0.5) { 10 } else { 20 } });
            match rng.gen_range(0..20) {
                0..=2 => {
                    let hint_count = rng.gen_range(1..4);
                    body["hint"] = json!({ "uids": random_uids(&population.sample_uids, &mut rng, hint_count) });
                }
                3..=5 => body["hint"] = json!({ "labels": { "kibana.spaces": random_space(&mut rng) } }),
                _ => {}
            }
            PreparedRequest::json(Method::POST, "/_security/profile/_suggest?data=kibana.avatar", body.to_string())
        })
        .collect()
}

fn suggest(population: &Population, connections: Option<usize>) -> Workload {
    let (name, title, target) = match connections {
        Some(1) => (
            "suggest_1c",
            "suggest, mixed queries, 1 connection",
            Target { text: "p99 ≤ 10 ms", max_p99: Some(Duration::from_millis(10)), ..Target::default() },
        ),
        _ => (
            "suggest_32c",
            "suggest, mixed queries",
            Target { text: "≥ 2,000/s", min_throughput: Some(2_000.0), ..Target::default() },
        ),
    };
    Workload {
        name,
        title,
        fixed_connections: connections,
        baseline: Baseline::Floor,
        target,
        factory: prebuilt(suggest_requests(population)),
        prepare: None,
        in_sweep: connections != Some(1),
    }
}

fn has_privileges(population: &Population) -> Workload {
    let mut rng = StdRng::seed_from_u64(8);
    let requests = (0..PREBUILT_REQUESTS)
        .map(|_| {
            let body = json!({
                "uids": random_uids(&population.sample_uids, &mut rng, KIBANA_BATCH),
                "privileges": { "application": [
                    { "application": "kibana-.kibana", "resources": ["space:default"], "privileges": ["login:"] }
                ] }
            });
            PreparedRequest::json(Method::POST, "/_security/profile/_has_privileges", body.to_string())
        })
        .collect();
    Workload {
        name: "has_privileges_50",
        title: "has_privileges, 50 uids",
        fixed_connections: None,
        baseline: Baseline::Floor,
        target: Target { text: "≥ 0.2 × floor", min_ratio: Some(0.2), ..Target::default() },
        factory: prebuilt(requests),
        prepare: warm_sample(&population.sample_uids, ""),
        in_sweep: true,
    }
}

/// Returns every workload, in the order they run.
pub(crate) fn all_workloads(population: &Population, connections: usize) -> Vec<Workload> {
    vec![
        get_one(population),
        get_batch(population),
        activate_warm(population),
        activate_first(population),
        update_data(population, None),
        update_data(population, Some("false")),
        suggest(population, Some(1)),
        suggest(population, Some(connections)),
        has_privileges(population),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_report_each_missed_bound() {
        let target = Target {
            text: "",
            min_ratio: Some(0.5),
            min_throughput: Some(100.0),
            max_p99: Some(Duration::from_millis(2)),
        };
        assert!(target.misses(200.0, Some(0.6), Duration::from_millis(1)).is_empty());
        assert_eq!(target.misses(50.0, Some(0.4), Duration::from_millis(3)).len(), 3);
    }

    #[test]
    fn first_logins_never_repeat_until_exhausted() {
        let population = Population::new(40);
        let workload = activate_first(&population);
        let mut rng = StdRng::seed_from_u64(1);
        let bodies: std::collections::HashSet<Bytes> = (0..30).map(|_| (workload.factory)(&mut rng).body).collect();
        assert_eq!(bodies.len(), 30);
        assert!(!population.first_logins_exhausted.load(Ordering::Relaxed));
        let _ = (workload.factory)(&mut rng);
        assert!(population.first_logins_exhausted.load(Ordering::Relaxed));
    }

    #[test]
    fn batch_requests_carry_fifty_uids() {
        let population = Population::new(300);
        let workload = get_batch(&population);
        let request = (workload.factory)(&mut StdRng::seed_from_u64(2));
        let uid_list = request.path.trim_start_matches("/_security/profile/").split('?').next().unwrap_or_default();
        assert_eq!(uid_list.split(',').count(), KIBANA_BATCH);
    }
}
