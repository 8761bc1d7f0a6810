//! A bounded cache of parsed profiles for the read APIs (get, has_privileges, suggest hits).
//!
//! Reads fill it; every profile write invalidates, and so does every change the indexer sees in the
//! store's change sequence (writes of other processes sharing the store). A read only fills the cache when
//! no invalidation happened since it started (a generation check), so a stale read never overwrites a newer
//! write.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use quick_cache::sync::Cache;

use crate::domain::profile::Profile;

/// How many profiles the cache holds.
const CAPACITY: usize = 20_000;

/// A cached profile with the version it was read at.
#[derive(Debug)]
pub(crate) struct CachedProfile {
    pub(crate) seq_no: i64,
    pub(crate) primary_term: i64,
    pub(crate) profile: Profile,
}

/// Parsed profiles by uid.
pub struct ProfileCache {
    entries: Cache<String, Arc<CachedProfile>>,
    generation: AtomicU64,
    index_exists: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for ProfileCache {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("ProfileCache").field("entries", &self.entries.len()).finish_non_exhaustive()
    }
}

impl Default for ProfileCache {
    fn default() -> Self {
        ProfileCache {
            entries: Cache::new(CAPACITY),
            generation: AtomicU64::new(0),
            index_exists: std::sync::atomic::AtomicBool::new(false),
        }
    }
}

impl ProfileCache {
    /// Tells whether the profile index is known to exist.
    pub(crate) fn index_exists(&self) -> bool {
        self.index_exists.load(Ordering::Acquire)
    }

    /// Remembers that the profile index exists (it is never deleted).
    pub(crate) fn remember_index_exists(&self) {
        self.index_exists.store(true, Ordering::Release);
    }

    /// Returns the cached profile of `uid`.
    pub(crate) fn get(&self, uid: &str) -> Option<Arc<CachedProfile>> {
        self.entries.get(uid)
    }

    /// Returns the generation to take before reading from the store.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Caches a profile read from the store, unless something was invalidated since `generation_at_read`.
    pub(crate) fn insert(&self, cached: Arc<CachedProfile>, generation_at_read: u64) {
        if generation_at_read == self.generation() {
            self.entries.insert(cached.profile.uid.clone(), cached);
        }
    }

    /// Drops `uid` after a write (called once the write is durable).
    pub(crate) fn invalidate(&self, uid: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries.remove(uid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::profile::{hashed_uid, ProfileUser, StoredRealm};

    fn cached(seq_no: i64) -> Arc<CachedProfile> {
        let profile = Profile {
            uid: hashed_uid("joe", 0),
            enabled: true,
            last_synchronized: 1,
            user: ProfileUser {
                username: "joe".into(),
                roles: vec![],
                realm: StoredRealm {
                    name: "n".into(),
                    realm_type: "native".into(),
                    node_name: "x".into(),
                    domain: None,
                },
                email: None,
                full_name: None,
            },
            labels: Default::default(),
            application_data: Default::default(),
        };
        Arc::new(CachedProfile { seq_no, primary_term: 1, profile })
    }

    #[test]
    fn a_read_racing_with_a_write_is_not_cached() {
        let cache = ProfileCache::default();
        let uid = hashed_uid("joe", 0);
        let generation_at_read = cache.generation();
        cache.invalidate(&uid);
        cache.insert(cached(1), generation_at_read);
        assert!(cache.get(&uid).is_none());
        cache.insert(cached(2), cache.generation());
        assert_eq!(cache.get(&uid).map(|entry| entry.seq_no), Some(2));
        cache.invalidate(&uid);
        assert!(cache.get(&uid).is_none());
    }
}
