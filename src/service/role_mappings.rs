//! Role mappings: the stored mappings behind `/_security/role_mapping`, and the [`RoleMapper`] that JWT
//! realms use to give roles to their users.
//!
//! Mappings live in [`Collection::RoleMappings`], one document per mapping name. The mapper keeps the
//! parsed mappings in memory and catches up with the collection's change feed before every use, so a
//! change made through the API applies to the very next authentication (Elasticsearch clears the realm
//! caches on every mapping change for the same effect).

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use crate::domain::role_mapping::{mapped_roles, RoleMapping, UserData};
use crate::error::EsError;
use crate::store::{ChangeSource, Collection, Decision, Store, UpdateOutcome};

/// How many changes are read from the feed per round trip.
const CHANGES_BATCH: usize = 1_000;

/// Stores, reads and deletes role mappings.
#[derive(Debug, Clone)]
pub(crate) struct RoleMappingService {
    store: Arc<dyn Store>,
}

impl RoleMappingService {
    /// Returns the service over `store`.
    pub(crate) fn new(store: Arc<dyn Store>) -> RoleMappingService {
        RoleMappingService { store }
    }

    /// Creates or replaces a mapping; returns whether it was created.
    pub(crate) async fn put(&self, mapping: &RoleMapping) -> Result<bool, EsError> {
        let source = mapping.to_json();
        let outcome = self
            .store
            .update(Collection::RoleMappings, &mapping.name, Box::new(move |_| Ok(Decision::Put { source, key: None })))
            .await??;
        Ok(matches!(outcome, UpdateOutcome::Created(_)))
    }

    /// Returns the named mappings that exist (every mapping when `names` is empty), ordered by name.
    pub(crate) async fn get(&self, names: &[String]) -> Result<Vec<RoleMapping>, EsError> {
        let docs = if names.is_empty() {
            self.store.list(Collection::RoleMappings).await?
        } else {
            let mut unique_names = names.to_vec();
            unique_names.sort();
            unique_names.dedup();
            self.store.multi_get(Collection::RoleMappings, &unique_names).await?.into_iter().flatten().collect()
        };
        let mut mappings = Vec::with_capacity(docs.len());
        for doc in docs {
            match RoleMapping::from_stored(&doc.id, &doc.source) {
                Ok(mapping) => mappings.push(mapping),
                Err(error) => {
                    tracing::warn!(mapping = %doc.id, reason = %error.reason, "skipping unreadable role mapping")
                }
            }
        }
        Ok(mappings)
    }

    /// Deletes a mapping; returns whether it existed.
    pub(crate) async fn delete(&self, name: &str) -> Result<bool, EsError> {
        let outcome = self.store.update(Collection::RoleMappings, name, Box::new(|_| Ok(Decision::Delete))).await??;
        Ok(matches!(outcome, UpdateOutcome::Deleted(_)))
    }
}

/// The parsed mappings as of a position of the change feed.
#[derive(Debug, Default)]
struct Snapshot {
    /// The last change applied (`-1`: none yet).
    seq_no: i64,
    mappings: BTreeMap<String, RoleMapping>,
}

/// Resolves the roles of users from the stored role mappings.
#[derive(Debug)]
pub(crate) struct RoleMapper {
    store: Arc<dyn Store>,
    snapshot: RwLock<Arc<Snapshot>>,
}

impl RoleMapper {
    /// Returns a mapper over the mappings of `store`.
    pub(crate) fn new(store: Arc<dyn Store>) -> RoleMapper {
        RoleMapper { store, snapshot: RwLock::new(Arc::new(Snapshot { seq_no: -1, mappings: BTreeMap::new() })) }
    }

    /// Returns the roles the enabled, matching mappings give `user` (sorted, without duplicates).
    pub(crate) async fn resolve_roles(&self, user: &UserData) -> Result<Vec<String>, EsError> {
        let snapshot = self.current().await?;
        Ok(mapped_roles(snapshot.mappings.values(), user))
    }

    /// Returns the snapshot, caught up with every change stored so far.
    async fn current(&self) -> Result<Arc<Snapshot>, EsError> {
        let mut snapshot = self.read_snapshot();
        loop {
            let changes = self.store.changes_since(Collection::RoleMappings, snapshot.seq_no, CHANGES_BATCH).await?;
            let Some(last) = changes.last() else {
                return Ok(snapshot);
            };
            let mut next = Snapshot { seq_no: last.seq_no, mappings: snapshot.mappings.clone() };
            for change in &changes {
                if change.source == ChangeSource::Unchanged {
                    continue;
                }
                next.mappings.remove(&change.id);
                let ChangeSource::Document(source) = &change.source else {
                    continue;
                };
                let parsed = serde_json::from_str::<serde_json::Value>(source)
                    .map_err(|error| EsError::internal(format!("corrupt role mapping document: {error}")))
                    .and_then(|source| RoleMapping::from_stored(&change.id, &source));
                match parsed {
                    Ok(mapping) => {
                        next.mappings.insert(change.id.clone(), mapping);
                    }
                    Err(error) => {
                        tracing::warn!(mapping = %change.id, reason = %error.reason, "ignoring unreadable role mapping")
                    }
                }
            }
            snapshot = Arc::new(next);
            if let Ok(mut slot) = self.snapshot.write() {
                if slot.seq_no < snapshot.seq_no {
                    *slot = Arc::clone(&snapshot);
                }
            }
            if changes.len() < CHANGES_BATCH {
                return Ok(snapshot);
            }
        }
    }

    fn read_snapshot(&self) -> Arc<Snapshot> {
        match self.snapshot.read() {
            Ok(slot) => Arc::clone(&slot),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::store::sqlite::SqliteStore;

    fn mapping(name: &str, roles: &[&str], rules: serde_json::Value) -> RoleMapping {
        let body = json!({ "roles": roles, "enabled": true, "rules": rules });
        RoleMapping::parse_request(name, &body.to_string(), &body).expect("valid mapping")
    }

    #[tokio::test]
    async fn put_get_delete_and_the_mapper_follow_every_change() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).expect("store"));
        let service = RoleMappingService::new(Arc::clone(&store));
        let mapper = RoleMapper::new(Arc::clone(&store));
        let joe = UserData { username: "joe".into(), realm_name: "jwt1".into(), ..UserData::default() };
        assert!(mapper.resolve_roles(&joe).await.expect("roles").is_empty());

        assert!(service.put(&mapping("m1", &["a"], json!({"field": {"username": "joe"}}))).await.expect("put"));
        assert!(!service.put(&mapping("m1", &["b"], json!({"field": {"username": "joe"}}))).await.expect("put again"));
        assert!(service.put(&mapping("m2", &["c"], json!({"field": {"realm.name": "jwt*"}}))).await.expect("put"));
        assert_eq!(mapper.resolve_roles(&joe).await.expect("roles"), vec!["b", "c"]);

        let names: Vec<String> = service.get(&[]).await.expect("get").into_iter().map(|m| m.name).collect();
        assert_eq!(names, vec!["m1", "m2"]);
        let named = service.get(&["m2".into(), "nope".into()]).await.expect("get");
        assert_eq!(named.len(), 1);

        assert!(service.delete("m1").await.expect("delete"));
        assert!(!service.delete("m1").await.expect("delete again"));
        assert_eq!(mapper.resolve_roles(&joe).await.expect("roles"), vec!["c"]);
    }
}
