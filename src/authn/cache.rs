//! The successful-authentication cache.
//!
//! Like Elasticsearch's realm cache, it maps a username to a salted SHA-256 digest of the password that
//! last authenticated, with the resulting authentication. A hit needs the same password (compared in
//! constant time) and an entry younger than the time to live. Entries are dropped whenever the user
//! changes, so a new password, a disabled or deleted user takes effect on the next request.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use quick_cache::sync::Cache;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::Authentication;

#[derive(Clone)]
struct CachedCredential {
    digest: [u8; 32],
    authentication: Arc<Authentication>,
    inserted_at: Instant,
    generation: u64,
}

/// Bounded, expiring cache of verified credentials.
pub(crate) struct CredentialCache {
    entries: Cache<String, CachedCredential>,
    salt: [u8; 32],
    time_to_live: Duration,
    /// Bumped by `invalidate_all`, so entries from before it are ignored.
    generation: AtomicU64,
}

impl std::fmt::Debug for CredentialCache {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("CredentialCache").field("entries", &self.entries.len()).finish_non_exhaustive()
    }
}

impl CredentialCache {
    /// Returns an empty cache holding at most `max_users` entries for `time_to_live` each.
    pub(crate) fn new(max_users: usize, time_to_live: Duration) -> CredentialCache {
        let mut salt = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut salt);
        CredentialCache { entries: Cache::new(max_users.max(1)), salt, time_to_live, generation: AtomicU64::new(0) }
    }

    fn digest(&self, password: &[u8]) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(self.salt);
        hasher.update(password);
        hasher.finalize().into()
    }

    /// Returns the cached authentication when `password` matches a live entry of `username`.
    pub(crate) fn lookup(&self, username: &str, password: &[u8]) -> Option<Arc<Authentication>> {
        if self.time_to_live.is_zero() {
            return None;
        }
        let entry = self.entries.get(username)?;
        if entry.generation != self.generation.load(Ordering::Acquire)
            || entry.inserted_at.elapsed() >= self.time_to_live
        {
            return None;
        }
        let candidate = self.digest(password);
        if bool::from(candidate.ct_eq(&entry.digest)) {
            Some(Arc::clone(&entry.authentication))
        } else {
            None
        }
    }

    /// Returns the current generation; take it before reading the user from the store and pass it to
    /// [`CredentialCache::insert`], so that a change racing with the verification is never cached.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Remembers that `password` authenticated `username`, unless an invalidation happened since
    /// `generation_at_load` was taken.
    pub(crate) fn insert(
        &self,
        username: &str,
        password: &[u8],
        authentication: Arc<Authentication>,
        now: Instant,
        generation_at_load: u64,
    ) {
        if self.time_to_live.is_zero() || generation_at_load != self.generation() {
            return;
        }
        let entry = CachedCredential {
            digest: self.digest(password),
            authentication,
            inserted_at: now,
            generation: generation_at_load,
        };
        self.entries.insert(username.to_string(), entry);
    }

    /// Drops the entry of `username` (and makes in-flight verifications uncacheable).
    pub(crate) fn invalidate(&self, username: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries.remove(username);
    }

    /// Drops every entry.
    pub(crate) fn invalidate_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authn::RealmRef;
    use crate::domain::user::UserView;

    fn authentication(username: &str) -> Arc<Authentication> {
        Arc::new(Authentication {
            user: UserView::reserved(username, true),
            realm: RealmRef::reserved(),
            authentication_type: "realm",
        })
    }

    #[test]
    fn hit_needs_the_same_password() {
        let cache = CredentialCache::new(10, Duration::from_secs(60));
        cache.insert("elastic", b"secret", authentication("elastic"), Instant::now(), cache.generation());
        assert!(cache.lookup("elastic", b"secret").is_some());
        assert!(cache.lookup("elastic", b"other").is_none());
        assert!(cache.lookup("kibana", b"secret").is_none());
    }

    #[test]
    fn entries_expire_and_can_be_invalidated() {
        let cache = CredentialCache::new(10, Duration::from_secs(60));
        cache.insert(
            "elastic",
            b"secret",
            authentication("elastic"),
            Instant::now() - Duration::from_secs(61),
            cache.generation(),
        );
        assert!(cache.lookup("elastic", b"secret").is_none());
        cache.insert("elastic", b"secret", authentication("elastic"), Instant::now(), cache.generation());
        cache.invalidate("elastic");
        assert!(cache.lookup("elastic", b"secret").is_none());
        cache.insert("elastic", b"secret", authentication("elastic"), Instant::now(), cache.generation());
        cache.invalidate_all();
        assert!(cache.lookup("elastic", b"secret").is_none());
    }

    #[test]
    fn verification_racing_with_a_change_is_not_cached() {
        let cache = CredentialCache::new(10, Duration::from_secs(60));
        let generation_at_load = cache.generation();
        cache.invalidate("elastic");
        cache.insert("elastic", b"old", authentication("elastic"), Instant::now(), generation_at_load);
        assert!(cache.lookup("elastic", b"old").is_none());
    }

    #[test]
    fn zero_ttl_disables_caching() {
        let cache = CredentialCache::new(10, Duration::ZERO);
        cache.insert("elastic", b"secret", authentication("elastic"), Instant::now(), cache.generation());
        assert!(cache.lookup("elastic", b"secret").is_none());
    }
}
