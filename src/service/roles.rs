//! Roles: built-in and native role definitions, and the compiled permissions of a set of role names.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::authn::Authentication;
use crate::authz::{builtin_role, builtin_role_names, unauthorized_message, Permissions, RoleDescriptor};
use crate::error::EsError;
use crate::store::{Collection, Decision, Store, UpdateOutcome};

/// The compiled permissions of a set of role names, with the names that were not found.
#[derive(Debug)]
pub(crate) struct ResolvedRoles {
    pub(crate) permissions: Permissions,
    pub(crate) missing_roles: Vec<String>,
    /// Cluster actions already decided for these roles (a route checks the same few actions every time).
    cluster_decisions: std::sync::RwLock<Vec<(Box<str>, bool)>>,
}

/// How many cluster action decisions a role set remembers.
const MAX_CLUSTER_DECISIONS: usize = 64;

impl ResolvedRoles {
    fn new(permissions: Permissions, missing_roles: Vec<String>) -> ResolvedRoles {
        ResolvedRoles { permissions, missing_roles, cluster_decisions: std::sync::RwLock::new(Vec::new()) }
    }

    /// Whether these roles grant the cluster `action` (memoised `Permissions::grants_cluster_action`).
    pub(crate) fn grants_cluster_action(&self, action: &str) -> bool {
        if let Ok(decisions) = self.cluster_decisions.read() {
            if let Some((_, granted)) = decisions.iter().find(|(known, _)| &**known == action) {
                return *granted;
            }
        }
        let granted = self.permissions.grants_cluster_action(action);
        if let Ok(mut decisions) = self.cluster_decisions.write() {
            if decisions.len() < MAX_CLUSTER_DECISIONS && !decisions.iter().any(|(known, _)| &**known == action) {
                decisions.push((action.into(), granted));
            }
        }
        granted
    }
}

/// Resolves role names to permissions, caching the result until any role changes.
#[derive(Debug)]
pub struct RoleService {
    store: Arc<dyn Store>,
    /// Roles of the anonymous user, granted to every user when anonymous access is enabled.
    anonymous_roles: Vec<String>,
    cache: Mutex<HashMap<Vec<String>, Arc<ResolvedRoles>>>,
    generation: AtomicU64,
}

impl RoleService {
    /// Returns a service over `store`; `anonymous_roles` are added to everyone's roles.
    pub fn new(store: Arc<dyn Store>, anonymous_roles: Vec<String>) -> RoleService {
        RoleService { store, anonymous_roles, cache: Mutex::new(HashMap::new()), generation: AtomicU64::new(0) }
    }

    /// Returns the definition of role `name`: built-in first, then native.
    pub(crate) async fn get_role(&self, name: &str) -> Result<Option<RoleDescriptor>, EsError> {
        if let Some(descriptor) = builtin_role(name) {
            return Ok(Some(descriptor.clone()));
        }
        let Some(doc) = self.store.get(Collection::Roles, name).await? else {
            return Ok(None);
        };
        RoleDescriptor::parse_body(name, &doc.source).map(Some)
    }

    /// Returns every role (built-in, then native, each sorted by name) as `(name, descriptor)`.
    pub(crate) async fn list_roles(&self) -> Result<Vec<(String, RoleDescriptor)>, EsError> {
        let mut roles: Vec<(String, RoleDescriptor)> = builtin_role_names()
            .filter_map(|name| builtin_role(name).map(|descriptor| (name.to_string(), descriptor.clone())))
            .collect();
        roles.sort_by(|a, b| a.0.cmp(&b.0));
        for doc in self.store.list(Collection::Roles).await? {
            let descriptor = RoleDescriptor::parse_body(&doc.id, &doc.source)?;
            roles.push((doc.id, descriptor));
        }
        Ok(roles)
    }

    /// Stores a native role; returns whether it was created (rather than replaced).
    pub(crate) async fn put_role(&self, name: &str, descriptor: &RoleDescriptor) -> Result<bool, EsError> {
        let source = descriptor.to_json();
        let outcome = self
            .store
            .update(Collection::Roles, name, Box::new(move |_| Ok(Decision::Put { source, key: None })))
            .await??;
        self.invalidate();
        Ok(matches!(outcome, UpdateOutcome::Created(_)))
    }

    /// Deletes a native role; returns whether it existed.
    pub(crate) async fn delete_role(&self, name: &str) -> Result<bool, EsError> {
        let outcome = self.store.update(Collection::Roles, name, Box::new(|_| Ok(Decision::Delete))).await??;
        self.invalidate();
        Ok(matches!(outcome, UpdateOutcome::Deleted(_)))
    }

    fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut cache) = self.cache.lock() {
            cache.clear();
        }
    }

    /// Compiles the permissions of `role_names` (cached until a role changes).
    pub(crate) async fn resolve(&self, role_names: &[String]) -> Result<Arc<ResolvedRoles>, EsError> {
        // The common case (no anonymous roles, names already sorted and distinct) is looked up as it is.
        if self.anonymous_roles.is_empty() && role_names.windows(2).all(|pair| pair[0] < pair[1]) {
            if let Some(resolved) = self.cache.lock().ok().and_then(|cache| cache.get(role_names).cloned()) {
                return Ok(resolved);
            }
        }
        let mut key: Vec<String> = role_names.to_vec();
        key.extend(self.anonymous_roles.iter().cloned());
        key.sort();
        key.dedup();
        if let Some(resolved) = self.cache.lock().ok().and_then(|cache| cache.get(&key).cloned()) {
            return Ok(resolved);
        }
        let generation_at_load = self.generation.load(Ordering::Acquire);
        let mut descriptors = Vec::with_capacity(key.len());
        let mut missing_roles = Vec::new();
        for name in &key {
            match self.get_role(name).await? {
                Some(descriptor) => descriptors.push(descriptor),
                None => missing_roles.push(name.clone()),
            }
        }
        let descriptor_refs: Vec<&RoleDescriptor> = descriptors.iter().collect();
        let resolved = Arc::new(ResolvedRoles::new(Permissions::from_roles(&descriptor_refs), missing_roles));
        if generation_at_load == self.generation.load(Ordering::Acquire) {
            if let Ok(mut cache) = self.cache.lock() {
                if cache.len() > 10_000 {
                    cache.clear();
                }
                cache.insert(key, Arc::clone(&resolved));
            }
        }
        Ok(resolved)
    }

    /// Fails with Elasticsearch's 403 unless the caller's roles grant the cluster `action`.
    pub(crate) async fn authorize(&self, auth: &Authentication, action: &str) -> Result<Arc<ResolvedRoles>, EsError> {
        let resolved = self.resolve(&auth.user.roles).await?;
        if resolved.grants_cluster_action(action) {
            return Ok(resolved);
        }
        Err(EsError::forbidden(unauthorized_message(
            action,
            auth.username(),
            &auth.user.roles,
            &resolved.missing_roles,
        )))
    }
}

/// Renders `{name: descriptor}` maps as `GET /_security/role` does.
pub(crate) fn roles_to_json(roles: &[(String, RoleDescriptor)]) -> Value {
    let mut object = serde_json::Map::new();
    for (name, descriptor) in roles {
        object.insert(name.clone(), descriptor.to_json());
    }
    Value::Object(object)
}
