//! Ignored benchmark of the suggest index on synthetic profiles.
//!
//! Run with `cargo test --release search::bench -- --ignored --nocapture`; set
//! `SUGGEST_BENCH_DOCS` (default 200000), `SUGGEST_BENCH_DIR` (persist to that directory and
//! measure the reopen time instead of building in memory) and `SUGGEST_BENCH_APPLIES` (also time
//! 200 single-change applies at the end).

use std::time::{Duration, Instant};

use serde_json::json;

use crate::bench::thread_cpu_time;
use crate::search::{IndexChange, ProfileIndex, SuggestDocument, SuggestQuery};

const FIRST_NAMES: [&str; 40] = [
    "james",
    "mary",
    "john",
    "patricia",
    "robert",
    "jennifer",
    "michael",
    "linda",
    "william",
    "elizabeth",
    "david",
    "barbara",
    "richard",
    "susan",
    "joseph",
    "jessica",
    "thomas",
    "sarah",
    "charles",
    "karen",
    "chris",
    "nancy",
    "daniel",
    "lisa",
    "matthew",
    "betty",
    "anthony",
    "margaret",
    "mark",
    "sandra",
    "zoë",
    "łukasz",
    "andré",
    "jürgen",
    "amélie",
    "søren",
    "yuki",
    "chen",
    "olga",
    "ahmed",
];
const LAST_NAMES: [&str; 40] = [
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "garcia",
    "miller",
    "davis",
    "rodriguez",
    "martinez",
    "hernandez",
    "lopez",
    "gonzalez",
    "wilson",
    "anderson",
    "thomas",
    "taylor",
    "moore",
    "jackson",
    "martin",
    "lee",
    "perez",
    "thompson",
    "white",
    "harris",
    "sanchez",
    "clark",
    "ramirez",
    "lewis",
    "robinson",
    "walker",
    "young",
    "allen",
    "king",
    "wright",
    "scott",
    "torres",
    "nguyen",
    "hill",
    "çelik",
];
const DOMAINS: [&str; 8] =
    ["example.com", "example.org", "corp.io", "mail.net", "acme.co", "globex.com", "initech.com", "umbrella.org"];

/// Small deterministic generator (splitmix64).
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut mixed = self.0;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        mixed ^ (mixed >> 31)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

fn synthetic_profile(random: &mut Random, number: usize) -> SuggestDocument {
    let first = random.pick(&FIRST_NAMES);
    let last = random.pick(&LAST_NAMES);
    let username = match random.below(4) {
        0 => format!("{first}.{last}{}", random.below(100)),
        1 => format!("{}{last}{}", first.chars().next().unwrap_or('x'), number),
        2 => format!("{first}_{}", number),
        _ => format!("user_{number}"),
    };
    let full_name = match random.below(5) {
        0 => None,
        1 => Some(format!("{} {} {}", capitalize(first), capitalize(random.pick(&FIRST_NAMES)), capitalize(last))),
        _ => Some(format!("{} {}", capitalize(first), capitalize(last))),
    };
    let email = (random.below(6) != 0).then(|| format!("{first}.{last}{}@{}", number % 1000, random.pick(&DOMAINS)));
    SuggestDocument {
        uid: format!("u_{number:08}_0"),
        username,
        full_name,
        email,
        enabled: random.below(50) != 0,
        last_synchronized: 1_600_000_000_000 + random.below(100_000_000) as i64,
        labels: json!({"kibana": {"spaces": [format!("space{}", random.below(20))]}}),
    }
}

fn capitalize(word: &str) -> String {
    let mut characters = word.chars();
    characters.next().map_or_else(String::new, |first| first.to_uppercase().chain(characters).collect())
}

fn mixed_queries(random: &mut Random, document_count: usize) -> Vec<SuggestQuery> {
    let letters: Vec<String> = ('a'..='z').map(String::from).collect();
    let mut queries = Vec::new();
    for round in 0..1_000 {
        let first = random.pick(&FIRST_NAMES);
        let last = random.pick(&LAST_NAMES);
        let domain = random.pick(&DOMAINS);
        let name = match round % 20 {
            0 | 10 => letters[random.below(letters.len())].clone(),
            1 | 11 => first.chars().take(2).collect(),
            2 | 12 => last.chars().take(3).collect(),
            3 | 13 => format!("{first} {last}"),
            4 | 14 => format!("{} {}", typo(first, random), typo(last, random)),
            5 => format!("{first}.{last}{}@", random.below(1000)),
            15 => format!("{first}.{last}{}@{}", random.below(1000), &domain[..3]),
            6 | 16 => format!("{first} {}", last.chars().next().unwrap_or('x')),
            7 => format!("user_{}", random.below(document_count)),
            17 => format!("{first}.{last}{}@{domain}", random.below(1000)),
            8 | 18 => String::new(),
            9 => typo(first, random),
            _ => {
                if round % 100 == 19 {
                    domain.to_string()
                } else {
                    format!("{}{}", first.chars().next().unwrap_or('x'), last)
                }
            }
        };
        let mut query = SuggestQuery { name, size: 10, ..SuggestQuery::default() };
        if round % 3 == 0 {
            query.hint_uids = vec![format!("u_{:08}_0", random.below(document_count))];
            query.hint_label = Some(("kibana.spaces".to_string(), vec![format!("space{}", random.below(20))]));
        }
        queries.push(query);
    }
    queries
}

fn typo(word: &str, random: &mut Random) -> String {
    let mut characters: Vec<char> = word.chars().collect();
    if characters.len() > 3 {
        let position = 1 + random.below(characters.len() - 2);
        characters.swap(position, position - 1);
    }
    characters.into_iter().collect()
}

fn resident_memory_megabytes() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find(|line| line.starts_with("VmRSS")).unwrap_or("VmRSS: ?").to_string()
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * fraction).round() as usize]
}

#[test]
#[ignore = "benchmark: run with --release -- --ignored --nocapture"]
fn bench_mixed_suggest_queries() {
    let document_count: usize =
        std::env::var("SUGGEST_BENCH_DOCS").ok().and_then(|value| value.parse().ok()).unwrap_or(200_000);
    let mut random = Random(42);
    let persisted_dir = std::env::var("SUGGEST_BENCH_DIR").ok();
    let index = match &persisted_dir {
        Some(dir) => {
            let started = Instant::now();
            let index = ProfileIndex::open_in_dir(std::path::Path::new(dir)).expect("open");
            println!("open_in_dir: {:?} (applied_seq_no {:?})", started.elapsed(), index.applied_seq_no());
            index
        }
        None => ProfileIndex::open_in_memory().expect("index"),
    };
    if index.applied_seq_no().is_none() {
        let started = Instant::now();
        let changes: Vec<IndexChange> =
            (0..document_count).map(|number| IndexChange::Upsert(synthetic_profile(&mut random, number))).collect();
        index.apply(changes, document_count as i64).expect("apply");
        println!("indexed {document_count} profiles in {:?}", started.elapsed());
    }
    println!("after indexing: {}", resident_memory_megabytes());

    let queries = mixed_queries(&mut random, document_count);
    for query in &queries {
        index.suggest(query).expect("warm-up");
    }
    let mut latencies = Vec::with_capacity(queries.len() * 3);
    let mut cpu_latencies = Vec::with_capacity(queries.len() * 3);
    let mut slowest: Vec<(Duration, String)> = Vec::new();
    for _ in 0..3 {
        for query in &queries {
            let cpu_started = thread_cpu_time();
            let started = Instant::now();
            index.suggest(query).expect("suggest");
            let elapsed = started.elapsed();
            let cpu_elapsed = thread_cpu_time().saturating_sub(cpu_started);
            latencies.push(elapsed);
            cpu_latencies.push(cpu_elapsed);
            slowest.push((cpu_elapsed, query.name.clone()));
        }
    }
    let cpu_mean = cpu_latencies.iter().sum::<Duration>() / cpu_latencies.len() as u32;
    println!("single thread, mean on-CPU time per query (scheduler accounting): {cpu_mean:?}");
    latencies.sort();
    slowest.sort_by_key(|entry| std::cmp::Reverse(entry.0));
    slowest.dedup_by(|left, right| left.1 == right.1);
    let mean = latencies.iter().sum::<Duration>() / latencies.len() as u32;
    println!(
        "single thread, wall clock, {} queries: p50 {:?} p90 {:?} p99 {:?} max {:?} mean {:?}",
        latencies.len(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.9),
        percentile(&latencies, 0.99),
        latencies[latencies.len() - 1],
        mean
    );
    println!("slowest: {:?}", &slowest[..slowest.len().min(8)]);

    let duration = Duration::from_secs(3);
    let started = Instant::now();
    let completed: usize = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..2)
            .map(|worker| {
                let index = &index;
                let queries = &queries;
                scope.spawn(move || {
                    let mut done = 0;
                    while started.elapsed() < duration {
                        index.suggest(&queries[(done * 7 + worker) % queries.len()]).expect("suggest");
                        done += 1;
                    }
                    done
                })
            })
            .collect();
        workers.into_iter().map(|worker| worker.join().unwrap_or(0)).sum()
    });
    println!("two threads: {:.0} queries/s", completed as f64 / started.elapsed().as_secs_f64());
    println!("after queries: {}", resident_memory_megabytes());

    if std::env::var("SUGGEST_BENCH_APPLIES").is_err() {
        return;
    }
    let started = Instant::now();
    let single_applies = 200;
    for number in 0..single_applies {
        let change = IndexChange::Upsert(synthetic_profile(&mut random, number));
        index.apply(vec![change], (document_count + number) as i64 + 1).expect("apply");
    }
    println!("single-change apply (commit + reload): {:?} each", started.elapsed() / single_applies as u32);
    let post_update = Instant::now();
    index.suggest(&queries[0]).expect("suggest");
    println!("first suggest after updates: {:?}", post_update.elapsed());
}

#[test]
#[ignore = "benchmark: run with --release -- --ignored --nocapture"]
fn bench_single_applies_on_disk() {
    let directory = tempfile::tempdir().expect("tempdir");
    let index = ProfileIndex::open_in_dir(directory.path()).expect("open");
    let mut random = Random(7);
    let seed: Vec<IndexChange> =
        (0..10_000).map(|number| IndexChange::Upsert(synthetic_profile(&mut random, number))).collect();
    index.apply(seed, 1).expect("seed");
    let started = Instant::now();
    let single_applies = 100;
    for number in 0..single_applies {
        let change = IndexChange::Upsert(synthetic_profile(&mut random, number));
        index.apply(vec![change], 2 + number as i64).expect("apply");
    }
    println!("on disk, single-change apply: {:?} each", started.elapsed() / single_applies as u32);
    let batch_started = Instant::now();
    let batch: Vec<IndexChange> =
        (0..100).map(|number| IndexChange::Upsert(synthetic_profile(&mut random, number))).collect();
    index.apply(batch, 1_000).expect("apply");
    println!("on disk, one apply of 100 changes: {:?}", batch_started.elapsed());
    drop(index);
    let reopen_started = Instant::now();
    let reopened = ProfileIndex::open_in_dir(directory.path()).expect("reopen");
    println!("reopen: {:?}, applied_seq_no {:?}", reopen_started.elapsed(), reopened.applied_seq_no());
}

#[test]
#[ignore = "profiling"]
fn bench_trace_queries() {
    let document_count: usize =
        std::env::var("SUGGEST_BENCH_DOCS").ok().and_then(|value| value.parse().ok()).unwrap_or(200_000);
    let mut random = Random(42);
    let index = match std::env::var("SUGGEST_BENCH_DIR") {
        Ok(dir) => ProfileIndex::open_in_dir(std::path::Path::new(&dir)).expect("open"),
        Err(_) => ProfileIndex::open_in_memory().expect("index"),
    };
    if index.applied_seq_no().is_none() {
        let changes: Vec<IndexChange> =
            (0..document_count).map(|number| IndexChange::Upsert(synthetic_profile(&mut random, number))).collect();
        let started = Instant::now();
        index.apply(changes, 1).expect("apply");
        println!("indexed in {:?}", started.elapsed());
    }
    let names = std::env::var("SUGGEST_TRACE_NAMES")
        .unwrap_or_else(|_| "example.com|andré.harris156@|lisa s|amélie g|a|s|john smith|jonh smtih|".to_string());
    for _ in 0..2 {
        for name in names.split('|') {
            let started = Instant::now();
            index
                .suggest(&SuggestQuery { name: name.to_string(), size: 10, ..SuggestQuery::default() })
                .expect("suggest");
            println!("{name:?}: {:?}", started.elapsed());
        }
    }
}

#[test]
#[ignore = "profiling"]
fn bench_commit_only() {
    let mut random = Random(3);
    let index = ProfileIndex::open_in_memory().expect("index");
    let seed: Vec<IndexChange> =
        (0..20_000).map(|number| IndexChange::Upsert(synthetic_profile(&mut random, number))).collect();
    index.apply(seed, 1).expect("seed");
    let started = Instant::now();
    for number in 0..300 {
        let change = IndexChange::Upsert(synthetic_profile(&mut random, number));
        index.apply(vec![change], 2 + number as i64).expect("apply");
    }
    println!("single apply: {:?}", started.elapsed() / 300);
}

#[test]
#[ignore = "profiling"]
fn bench_queries_only_loop() {
    let document_count: usize =
        std::env::var("SUGGEST_BENCH_DOCS").ok().and_then(|value| value.parse().ok()).unwrap_or(200_000);
    let mut random = Random(42);
    let index = ProfileIndex::open_in_memory().expect("index");
    let changes: Vec<IndexChange> =
        (0..document_count).map(|number| IndexChange::Upsert(synthetic_profile(&mut random, number))).collect();
    index.apply(changes, 1).expect("apply");
    println!("built");
    let queries = mixed_queries(&mut random, document_count);
    let started = Instant::now();
    for _ in 0..10 {
        for query in &queries {
            index.suggest(query).expect("suggest");
        }
    }
    println!("mean {:?}", started.elapsed() / (10 * queries.len() as u32));
}

#[test]
#[ignore = "profiling: SUGGEST_BENCH_DIR=<copy of an index directory>"]
fn bench_merge_all_segments() {
    let dir = std::env::var("SUGGEST_BENCH_DIR").expect("SUGGEST_BENCH_DIR");
    let index = ProfileIndex::open_in_dir(std::path::Path::new(&dir)).expect("open");
    let names = std::env::var("SUGGEST_TRACE_NAMES").unwrap_or_else(|_| {
        "Martina Sánchez|Mustafa Kaya|lukasz.lewandowski314010@firma.pl|Δημήτρης Νικολάου|a|jo|Martina S".to_string()
    });
    let time_all = |label: &str| {
        for name in names.split('|') {
            let started = Instant::now();
            for _ in 0..5 {
                index
                    .suggest(&SuggestQuery { name: name.to_string(), size: 20, ..SuggestQuery::default() })
                    .expect("suggest");
            }
            println!("{label} {name:?}: {:?}", started.elapsed() / 5);
        }
    };
    println!("segments: {}", index.segment_count());
    time_all("before");
    let started = Instant::now();
    index.merge_all_segments().expect("merge");
    println!("merged in {:?}; segments: {}", started.elapsed(), index.segment_count());
    time_all("after");
}
