//! A memory-bounded cache of profiles prepared for the read APIs (get, has_privileges, suggest hits,
//! re-activation), and of which profiles carry a given username (activation's lookup).
//!
//! Reads fill it; every profile write invalidates, and so does every change the indexer sees in the
//! store's change sequence (writes of other processes sharing the store). A read only fills the cache when
//! no invalidation happened since it started (a generation check), so a stale read never overwrites a newer
//! write.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use quick_cache::sync::Cache;
use quick_cache::Weighter;

pub(crate) use crate::domain::profile_render::CachedProfile;

/// Bytes of prepared profiles the cache holds (about 50,000 profiles with a few KB of data each).
const CAPACITY_BYTES: u64 = 384 * 1024 * 1024;
/// A guess at the number of entries, for the cache's initial sizing.
const ESTIMATED_ENTRIES: usize = 50_000;
/// How many usernames the activation lookup remembers.
const KEY_CAPACITY: usize = 100_000;

/// The most bytes of a uid the cache holds. Profile uids are 47 bytes and a few more: `u_`, 43 characters
/// of hash, `_` and the differentiator. Longer strings are not uids of stored profiles and are never cached.
const UID_KEY_CAPACITY: usize = 63;

/// A uid as the cache's key, held inline. A lookup compares it in the cache's own slot instead of following
/// a pointer to a heap string: one memory access fewer per lookup, 50 per Kibana batch.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct UidKey {
    len: u8,
    bytes: [u8; UID_KEY_CAPACITY],
}

impl UidKey {
    /// Returns the key of `uid`, or `None` when it is too long to be a profile uid.
    fn new(uid: &str) -> Option<UidKey> {
        let len = uid.len();
        if len > UID_KEY_CAPACITY {
            return None;
        }
        let mut bytes = [0; UID_KEY_CAPACITY];
        bytes[..len].copy_from_slice(uid.as_bytes());
        Some(UidKey { len: len as u8, bytes })
    }
}

#[derive(Clone, Debug, Default)]
struct ProfileWeighter;

impl Weighter<UidKey, Arc<CachedProfile>> for ProfileWeighter {
    fn weight(&self, _uid: &UidKey, cached: &Arc<CachedProfile>) -> u64 {
        cached.weight.max(1)
    }
}

/// Prepared profiles by uid, and uids by username.
pub struct ProfileCache {
    entries: Cache<UidKey, Arc<CachedProfile>, ProfileWeighter>,
    generation: AtomicU64,
    /// The uids of the profiles stored under a username (the store's secondary key).
    keys: Cache<String, Arc<[String]>>,
    key_generation: AtomicU64,
    index_exists: AtomicBool,
    /// Profiles read from the store because they were not cached (a diagnostic).
    misses: AtomicU64,
}

impl std::fmt::Debug for ProfileCache {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ProfileCache")
            .field("entries", &self.entries.len())
            .field("weight", &self.entries.weight())
            .field("keys", &self.keys.len())
            .field("misses", &self.misses.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Default for ProfileCache {
    fn default() -> Self {
        ProfileCache {
            entries: Cache::with_weighter(ESTIMATED_ENTRIES, CAPACITY_BYTES, ProfileWeighter),
            generation: AtomicU64::new(0),
            keys: Cache::new(KEY_CAPACITY),
            key_generation: AtomicU64::new(0),
            index_exists: AtomicBool::new(false),
            misses: AtomicU64::new(0),
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
        self.entries.get(&UidKey::new(uid)?)
    }

    /// Returns the generation to take before reading from the store.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Counts profiles that had to be read from the store.
    pub(crate) fn count_misses(&self, count: usize) {
        self.misses.fetch_add(count as u64, Ordering::Relaxed);
    }

    /// Returns how many profiles have been read from the store because they were not cached.
    pub(crate) fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }

    /// Caches a profile read from the store, unless something was invalidated since `generation_at_read`.
    pub(crate) fn insert(&self, cached: Arc<CachedProfile>, generation_at_read: u64) {
        if generation_at_read == self.generation() {
            if let Some(key) = UidKey::new(&cached.uid) {
                self.entries.insert(key, cached);
            }
        }
    }

    /// Drops `uid` after a write (called once the write is durable).
    pub(crate) fn invalidate(&self, uid: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Some(key) = UidKey::new(uid) {
            self.entries.remove(&key);
        }
    }

    /// Drops `uid` for a change seen in the store's change sequence, unless the cache already holds that
    /// version or a newer one (this node's own writes, read back since).
    pub(crate) fn invalidate_older_than(&self, uid: &str, seq_no: i64) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        let Some(key) = UidKey::new(uid) else { return };
        if self.entries.get(&key).is_some_and(|cached| cached.seq_no < seq_no) {
            self.entries.remove(&key);
        }
    }

    /// Returns the uids stored under `username`, if known.
    pub(crate) fn uids_of(&self, username: &str) -> Option<Arc<[String]>> {
        self.keys.get(username)
    }

    /// Returns the generation to take before looking a username up in the store.
    pub(crate) fn key_generation(&self) -> u64 {
        self.key_generation.load(Ordering::Acquire)
    }

    /// Remembers the uids stored under `username`, unless a key changed since `generation_at_read`.
    pub(crate) fn insert_uids(&self, username: &str, uids: Arc<[String]>, generation_at_read: u64) {
        if generation_at_read == self.key_generation() {
            self.keys.insert(username.to_string(), uids);
        }
    }

    /// Forgets the uids of `username` (a profile with that username was created, or changed elsewhere).
    pub(crate) fn invalidate_key(&self, username: &str) {
        self.key_generation.fetch_add(1, Ordering::AcqRel);
        self.keys.remove(username);
    }

    /// Forgets every username (a profile was deleted: its username is not known any more).
    pub(crate) fn invalidate_all_keys(&self) {
        self.key_generation.fetch_add(1, Ordering::AcqRel);
        self.keys.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::profile::{hashed_uid, ProfileUser, StoredRealm};

    fn cached(seq_no: i64) -> Arc<CachedProfile> {
        let profile = crate::domain::profile::Profile {
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
        Arc::new(CachedProfile::new(profile, seq_no, 1))
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

    #[test]
    fn the_change_feed_keeps_a_version_read_back_after_the_write() {
        let cache = ProfileCache::default();
        let uid = hashed_uid("joe", 0);
        cache.insert(cached(5), cache.generation());
        cache.invalidate_older_than(&uid, 5);
        assert_eq!(cache.get(&uid).map(|entry| entry.seq_no), Some(5));
        cache.invalidate_older_than(&uid, 6);
        assert!(cache.get(&uid).is_none());
    }

    #[test]
    fn uids_are_keyed_by_their_whole_text() {
        let cache = ProfileCache::default();
        let uid = hashed_uid("joe", 0);
        cache.insert(cached(1), cache.generation());
        assert!(cache.get(&uid).is_some());
        assert!(cache.get(&uid[..uid.len() - 1]).is_none());
        assert!(cache.get(&format!("{uid}0")).is_none());
        assert!(cache.get(&format!("{uid}{}", "0".repeat(UID_KEY_CAPACITY))).is_none());
        assert!(UidKey::new(&"u".repeat(UID_KEY_CAPACITY)).is_some());
        assert!(UidKey::new(&"u".repeat(UID_KEY_CAPACITY + 1)).is_none());
    }

    #[test]
    fn a_username_lookup_racing_with_a_new_profile_is_not_cached() {
        let cache = ProfileCache::default();
        let generation_at_read = cache.key_generation();
        cache.invalidate_key("joe");
        cache.insert_uids("joe", Arc::from(vec![]), generation_at_read);
        assert!(cache.uids_of("joe").is_none());
        cache.insert_uids("joe", Arc::from(vec!["u1".to_string()]), cache.key_generation());
        assert_eq!(cache.uids_of("joe").as_deref(), Some(&["u1".to_string()][..]));
        cache.invalidate_all_keys();
        assert!(cache.uids_of("joe").is_none());
    }
}
