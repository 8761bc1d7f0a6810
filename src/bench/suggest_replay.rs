//! Profiling aid (`profiled-bench --replay-suggest`): replays the benchmark's suggest requests against
//! a kept index, without HTTP.
//!
//! Run `profiled-bench --profiles N --workloads suggest --data-dir DIR --keep-data` once, copy
//! `DIR/search` aside, then `profiled-bench --profiles N --rounds 3 --replay-suggest <copy>`.
//! It prints the mean on-CPU time per query by query shape, the slowest queries, and a checksum of
//! every answer (to check that a change to the search code keeps the results). `REPLAY_SHAPE`
//! (`email`, `full name`, `1-3 letters` or `word`) replays only one shape; `REPLAY_EXPLAIN` sets how
//! many of the slowest queries are explained clause by clause (3).

use std::collections::hash_map::DefaultHasher;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::system::thread_cpu_time;
use super::workloads::{suggest_requests, Population};
use crate::search::{ProfileIndex, SuggestQuery};
use crate::service::profile_suggest::SuggestRequest;

/// Turns a request body into the search the server runs for it, with the server's own parser.
fn to_query(body: &[u8]) -> anyhow::Result<SuggestQuery> {
    let body: Value = serde_json::from_slice(body)?;
    let request = SuggestRequest::parse(Some(&body), None).map_err(|error| anyhow::anyhow!("{error:?}"))?;
    request.validate().map_err(|error| anyhow::anyhow!("{error:?}"))?;
    Ok(request.to_query())
}

fn shape(name: &str) -> &'static str {
    if name.contains('@') {
        "email"
    } else if name.contains(' ') {
        "full name"
    } else if name.chars().count() <= 3 {
        "1-3 letters"
    } else {
        "word"
    }
}

/// Replays the suggest workload's requests against the index in `dir` (see the module docs).
pub(crate) fn replay(dir: &Path, profiles: usize, passes: usize) -> anyhow::Result<()> {
    let index = ProfileIndex::open_in_dir(dir)?;
    let only_shape = std::env::var("REPLAY_SHAPE").ok();
    let mut queries = Vec::new();
    for request in suggest_requests(&Population::new(profiles)) {
        let query = to_query(&request.body)?;
        if only_shape.as_deref().is_none_or(|wanted| shape(&query.name) == wanted) {
            queries.push(query);
        }
    }
    anyhow::ensure!(!queries.is_empty(), "no suggest request of shape {only_shape:?}");
    let passes = passes.max(1);
    let mut checksum = DefaultHasher::new();
    for query in &queries {
        let result = index.suggest(query)?;
        (result.total, result.total_is_lower_bound, &result.uids).hash(&mut checksum);
    }
    let mut by_shape: BTreeMap<&str, (Duration, u32)> = BTreeMap::new();
    let mut per_query = vec![Duration::ZERO; queries.len()];
    let started = Instant::now();
    for _ in 0..passes {
        for (position, query) in queries.iter().enumerate() {
            let cpu_started = thread_cpu_time();
            index.suggest(query)?;
            let spent = thread_cpu_time().saturating_sub(cpu_started);
            per_query[position] += spent;
            let entry = by_shape.entry(shape(&query.name)).or_default();
            entry.0 += spent;
            entry.1 += 1;
        }
    }
    let wall = started.elapsed();
    let total: Duration = per_query.iter().sum();
    println!("checksum {:016x}", checksum.finish());
    println!(
        "{} queries x {passes}: mean on-CPU {:?}, wall {:?} per query",
        queries.len(),
        total / (queries.len() * passes) as u32,
        wall / (queries.len() * passes) as u32
    );
    for (name, (spent, count)) in &by_shape {
        let share = 100.0 * spent.as_secs_f64() / total.as_secs_f64();
        println!("  {name:12} {count:6} queries, mean {:?}, share {share:.1}%", *spent / *count);
    }
    let mut order: Vec<usize> = (0..queries.len()).collect();
    order.sort_by_key(|&position| std::cmp::Reverse(per_query[position]));
    let explained: usize = std::env::var("REPLAY_EXPLAIN").ok().and_then(|value| value.parse().ok()).unwrap_or(3);
    for (rank, &position) in order.iter().take(15).enumerate() {
        let query = &queries[position];
        println!(
            "  {:?} size {} hints {}/{}: {:?}",
            query.name,
            query.size,
            query.hint_uids.len(),
            query.hint_label.is_some(),
            per_query[position] / passes as u32
        );
        if rank < explained {
            for line in index.explain(query)? {
                println!("      {line}");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_become_the_queries_the_server_would_run() {
        let query = to_query(br#"{"name":"Ann","size":20,"hint":{"uids":["u1","u2"]}}"#).expect("query");
        assert_eq!((query.name.as_str(), query.size, query.hint_uids.len()), ("Ann", 20, 2));
        assert_eq!(query.hint_label, None);
        let query =
            to_query(br#"{"name":"a@b.io","size":10,"hint":{"labels":{"kibana.spaces":"space1"}}}"#).expect("query");
        assert_eq!(query.hint_label, Some(("kibana.spaces".to_string(), vec!["space1".to_string()])));
        assert_eq!(
            (shape("a@b.io"), shape("Ann Lee"), shape("an"), shape("anna")),
            ("email", "full name", "1-3 letters", "word")
        );
    }

    #[test]
    fn replays_every_request_against_an_index_directory() {
        let dir = tempfile::tempdir().expect("temporary directory");
        drop(ProfileIndex::open_in_dir(dir.path()).expect("create index"));
        replay(dir.path(), 50, 1).expect("replay");
    }
}
