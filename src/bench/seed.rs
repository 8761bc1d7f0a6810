//! Seeds a fresh store with synthetic native users and their profiles, writing straight through
//! [`Store::update`] (the fastest supported path: no HTTP, no per-user bcrypt).
//!
//! Every user shares one bcrypt hash of [`USER_PASSWORD`], made once with the node's configured hasher
//! (cost 10): verifying it costs exactly what verifying a per-user hash costs, and the credential cache is
//! keyed by username, so every user's first login still pays a full bcrypt verify.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::Map;
use tokio::sync::Semaphore;

use super::synth::{application_data, labels, synthetic_user, SyntheticUser, USER_PASSWORD};
use crate::config::Config;
use crate::domain::profile::{doc_id, hashed_uid, Profile, ProfileUser, StoredRealm};
use crate::domain::user::UserRecord;
use crate::store::{Collection, Decision, Store};

/// Writes kept in flight at once, so the store's writer fills its group-commit batches.
const IN_FLIGHT_WRITES: usize = 4_096;
/// The profiles' `last_synchronized` is spread over this many past days.
const LAST_SYNC_SPREAD_DAYS: i64 = 60;

/// What seeding did.
#[derive(Debug, Clone)]
pub(crate) struct SeedReport {
    pub(crate) profiles: usize,
    pub(crate) elapsed: Duration,
}

/// Returns the native user document of a synthetic user.
pub(crate) fn user_record(user: &SyntheticUser, password_hash: &str) -> UserRecord {
    UserRecord {
        username: user.username.clone(),
        password_hash: Some(password_hash.to_string()),
        roles: user.roles.clone(),
        full_name: user.full_name.clone(),
        email: user.email.clone(),
        metadata: Map::new(),
        enabled: true,
    }
}

/// Returns the profile a first activation through the native realm of `node_name` would have made, with
/// Kibana data and labels already written.
pub(crate) fn profile_of(user: &SyntheticUser, node_name: &str, now_millis: i64) -> Profile {
    let age_millis = (user.index as i64 * 7_919) % (LAST_SYNC_SPREAD_DAYS * 86_400_000) + 60_000;
    Profile {
        uid: hashed_uid(&user.username, 0),
        enabled: user.enabled,
        last_synchronized: now_millis - age_millis,
        user: ProfileUser {
            username: user.username.clone(),
            roles: user.roles.clone(),
            realm: StoredRealm {
                name: "default_native".into(),
                realm_type: "native".into(),
                node_name: node_name.to_string(),
                domain: None,
            },
            email: user.email.clone(),
            full_name: user.full_name.clone(),
        },
        labels: labels(user),
        application_data: application_data(user),
    }
}

async fn put(
    store: &dyn Store,
    collection: Collection,
    id: String,
    source: serde_json::Value,
    key: Option<String>,
) -> anyhow::Result<()> {
    store
        .update(collection, &id, Box::new(move |_| Ok(Decision::Put { source, key })))
        .await
        .map_err(|error| anyhow::anyhow!("seeding [{id}]: {error}"))?
        .map_err(|error| anyhow::anyhow!("seeding [{id}]: {}", error.reason))?;
    Ok(())
}

/// Which documents a seeding pass writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    Users,
    Profiles,
}

/// The leading bytes of a document id, for writing in id order.
type IdPrefix = [u8; 24];

fn id_prefix(id: &str) -> IdPrefix {
    let mut prefix = [0u8; 24];
    let length = id.len().min(prefix.len());
    prefix[..length].copy_from_slice(&id.as_bytes()[..length]);
    prefix
}

/// Returns the user indices ordered by the id of the document `pass` writes for them: appending in key
/// order fills each B-tree page once, where random order (hashed uids, usernames) rewrites pages over and
/// over as the tree grows.
fn write_order(pass: Pass, count: usize) -> Vec<u32> {
    let mut keyed: Vec<(IdPrefix, u32)> = (0..count)
        .map(|index| {
            let user = synthetic_user(index);
            let id = match pass {
                Pass::Users => user.username,
                Pass::Profiles => doc_id(&hashed_uid(&user.username, 0)),
            };
            (id_prefix(&id), index as u32)
        })
        .collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, index)| index).collect()
}

async fn seed_one(
    store: Arc<dyn Store>,
    pass: Pass,
    index: usize,
    password_hash: Arc<str>,
    node_name: Arc<str>,
    now_millis: i64,
) -> anyhow::Result<()> {
    let user = synthetic_user(index);
    match pass {
        Pass::Users => {
            let record = serde_json::to_value(user_record(&user, &password_hash)).context("encoding a user")?;
            put(store.as_ref(), Collection::Users, user.username, record, None).await
        }
        Pass::Profiles => {
            let profile = profile_of(&user, &node_name, now_millis);
            put(store.as_ref(), Collection::Profiles, doc_id(&profile.uid), profile.to_source(), Some(user.username))
                .await
        }
    }
}

/// Writes `count` users and profiles into `store`, printing progress; returns when all are durable.
pub(crate) async fn seed(store: Arc<dyn Store>, config: &Config, count: usize) -> anyhow::Result<SeedReport> {
    let started = Instant::now();
    let hasher = config.password_hasher;
    let password_hash: Arc<str> =
        tokio::task::spawn_blocking(move || hasher.hash(USER_PASSWORD.as_bytes())).await?.into();
    let node_name: Arc<str> = config.node_name.as_str().into();
    let now_millis = crate::service::profiles::now_millis();
    for pass in [Pass::Users, Pass::Profiles] {
        let order = write_order(pass, count);
        let permits = Arc::new(Semaphore::new(IN_FLIGHT_WRITES));
        let first_error: Arc<Mutex<Option<anyhow::Error>>> = Arc::new(Mutex::new(None));
        let progress_step = (count / 5).max(1);
        for (written, index) in order.into_iter().enumerate() {
            let permit = Arc::clone(&permits).acquire_owned().await?;
            if first_error.lock().map(|error| error.is_some()).unwrap_or(true) {
                break;
            }
            let task_store = Arc::clone(&store);
            let task_hash = Arc::clone(&password_hash);
            let task_node = Arc::clone(&node_name);
            let task_error = Arc::clone(&first_error);
            tokio::spawn(async move {
                if let Err(error) = seed_one(task_store, pass, index as usize, task_hash, task_node, now_millis).await {
                    if let Ok(mut slot) = task_error.lock() {
                        slot.get_or_insert(error);
                    }
                }
                drop(permit);
            });
            if (written + 1) % progress_step == 0 {
                println!("  {pass:?}: {:>9} / {count} ({:.0} s)", written + 1, started.elapsed().as_secs_f64());
            }
        }
        let _all_done = permits.acquire_many(IN_FLIGHT_WRITES as u32).await?;
        if let Some(error) = first_error.lock().ok().and_then(|mut slot| slot.take()) {
            return Err(error);
        }
    }
    Ok(SeedReport { profiles: count, elapsed: started.elapsed() })
}
