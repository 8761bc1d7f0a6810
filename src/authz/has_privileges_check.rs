//! Evaluation of a has-privileges request (`RBACEngine.checkPrivileges`) and its response
//! (`HasPrivilegesResponse`): `username`, `has_all_requested`, `cluster`, `index`, `application`.
//!
//! Cluster entries are granted when the requested privilege's automaton is implied by the role's
//! (a raw action `x` means `x*`); index entries when, over the groups whose index patterns cover
//! the requested pattern, the union of privilege automata covers the requested privilege;
//! application entries through `ApplicationPermission`. Maps that Elasticsearch keeps in
//! `HashMap`s are ordered like Java iterates them; resources are sorted.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::authz::application::{resolve_application_privileges, ApplicationPrivilege, ApplicationPrivilegeDefinition};
use crate::authz::application_permission::permission_grants;
use crate::authz::has_privileges::PrivilegesToCheck;
use crate::authz::index_privilege::resolve_index_privilege;
use crate::authz::java_order::{java_hash_order, java_string_hash};
use crate::authz::language::Language;
use crate::authz::pattern::{is_lucene_regex, PatternSet};
use crate::authz::permissions::{Permissions, RESTRICTED_INDICES};
use crate::authz::privilege::{resolve_cluster_privilege, ClusterGrant};
use crate::error::EsError;

/// The privileges checked on one resource, in response order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResourcePrivileges {
    pub(crate) resource: String,
    pub(crate) privileges: Vec<(String, bool)>,
}

/// The outcome of a has-privileges check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PrivilegesCheckResult {
    pub(crate) has_all_requested: bool,
    pub(crate) cluster: Vec<(String, bool)>,
    pub(crate) index: Vec<ResourcePrivileges>,
    pub(crate) application: Vec<(String, Vec<ResourcePrivileges>)>,
}

/// Collects `(key, value)` puts like a Java `HashMap` and yields them in its iteration order.
#[derive(Default)]
struct JavaMap {
    entries: Vec<(String, bool)>,
}

impl JavaMap {
    fn put(&mut self, key: &str, value: bool) {
        match self.entries.iter_mut().find(|(existing, _)| existing == key) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((key.to_string(), value)),
        }
    }

    fn into_ordered(self) -> Vec<(String, bool)> {
        java_hash_order(self.entries.into_iter().map(|(key, value)| (java_string_hash(&key), (key, value))).collect())
    }
}

/// `ResourcePrivilegesMap.Builder`: resources sorted, privileges per resource in a `HashMap`.
#[derive(Default)]
struct ResourceMap {
    resources: BTreeMap<String, JavaMap>,
}

impl ResourceMap {
    fn add(&mut self, resource: &str, privilege: &str, granted: bool) {
        self.resources.entry(resource.to_string()).or_default().put(privilege, granted);
    }

    fn build(self) -> Vec<ResourcePrivileges> {
        self.resources
            .into_iter()
            .map(|(resource, privileges)| ResourcePrivileges { resource, privileges: privileges.into_ordered() })
            .collect()
    }
}

fn unique(values: &[String]) -> Vec<&String> {
    let mut seen = BTreeSet::new();
    values.iter().filter(|value| seen.insert(value.as_str())).collect()
}

fn compile_pattern(pattern: &str) -> Result<Arc<PatternSet>, EsError> {
    PatternSet::cached(&[pattern]).map_err(|error| EsError::illegal_argument(error.to_string()))
}

/// A has-privileges request resolved once: its privilege names, its patterns and the application
/// privileges it asks for. Profile has_privileges checks one request against the distinct role sets of up
/// to thousands of profiles; only [`PreparedCheck::evaluate`] depends on the permissions.
pub(crate) struct PreparedCheck<'a> {
    cluster: Vec<(&'a str, ClusterGrant)>,
    index: Vec<PreparedIndexPattern<'a>>,
    application: Vec<PreparedApplication<'a>>,
    definitions: &'a [ApplicationPrivilegeDefinition],
}

/// One requested index pattern and its privilege names. `covered` is what the pattern covers outside the
/// restricted indices with each privilege's actions, in order; `None` when it covers nothing, and then the
/// privileges are not resolved (as in Elasticsearch).
struct PreparedIndexPattern<'a> {
    pattern: &'a str,
    privileges: Vec<&'a str>,
    covered: Option<(Language, Vec<Language>)>,
}

/// One requested application with its `(resource, privilege)` pairs in request order.
struct PreparedApplication<'a> {
    name: &'a str,
    checks: Vec<PreparedApplicationCheck<'a>>,
}

struct PreparedApplicationCheck<'a> {
    resource: &'a str,
    resource_pattern: Arc<PatternSet>,
    privilege: &'a str,
    requested: Vec<ApplicationPrivilege>,
}

impl<'a> PreparedCheck<'a> {
    /// Resolves the request. Unknown cluster or index privilege names fail with Elasticsearch's
    /// `illegal_argument_exception`, in request order.
    pub(crate) fn new(
        request: &'a PrivilegesToCheck,
        definitions: &'a [ApplicationPrivilegeDefinition],
    ) -> Result<PreparedCheck<'a>, EsError> {
        let mut cluster = Vec::with_capacity(request.cluster.len());
        for name in &request.cluster {
            cluster.push((name.as_str(), resolve_cluster_privilege(name)?.grant));
        }
        let mut index = Vec::new();
        for entry in &request.index {
            for pattern in unique(&entry.names) {
                index.push(prepare_index_pattern(pattern, entry.allow_restricted_indices, &entry.privileges)?);
            }
        }
        let mut application_names: Vec<&String> = Vec::new();
        for entry in &request.application {
            if !application_names.contains(&&entry.application) {
                application_names.push(&entry.application);
            }
        }
        let mut application = Vec::with_capacity(application_names.len());
        for name in application_names {
            let mut checks = Vec::new();
            for entry in request.application.iter().filter(|entry| &entry.application == name) {
                for resource in unique(&entry.resources) {
                    let resource_pattern = compile_pattern(resource)?;
                    for privilege in unique(&entry.privileges) {
                        let names = BTreeSet::from([privilege.clone()]);
                        checks.push(PreparedApplicationCheck {
                            resource,
                            resource_pattern: Arc::clone(&resource_pattern),
                            privilege,
                            requested: resolve_application_privileges(name, &names, definitions),
                        });
                    }
                }
            }
            application.push(PreparedApplication { name, checks });
        }
        Ok(PreparedCheck { cluster, index, application, definitions })
    }

    /// Checks the request against `permissions` (`RBACEngine.checkPrivileges`).
    pub(crate) fn evaluate(&self, permissions: &Permissions) -> PrivilegesCheckResult {
        let mut all_granted = true;
        let mut cluster = JavaMap::default();
        for (name, grant) in &self.cluster {
            let granted = match grant {
                ClusterGrant::Actions(language) => {
                    permissions.cluster_actions.as_ref().is_some_and(|mine| language.is_subset_of(mine))
                }
                ClusterGrant::ManageOwnApiKey => permissions.manage_own_api_key,
            };
            all_granted &= granted;
            cluster.put(name, granted);
        }
        let mut index = ResourceMap::default();
        for pattern in &self.index {
            all_granted &= pattern.evaluate(permissions, &mut index);
        }
        let permission = permissions.application_permission(self.definitions);
        let mut applications: Vec<(String, Vec<ResourcePrivileges>)> = Vec::with_capacity(self.application.len());
        for application in &self.application {
            let mut resources = ResourceMap::default();
            for check in &application.checks {
                let granted = check
                    .requested
                    .iter()
                    .all(|privilege| permission_grants(&permission, privilege, &check.resource_pattern));
                all_granted &= granted;
                resources.add(check.resource, check.privilege, granted);
            }
            applications.push((application.name.to_string(), resources.build()));
        }
        let application = java_hash_order(
            applications.into_iter().map(|(name, resources)| (java_string_hash(&name), (name, resources))).collect(),
        );
        PrivilegesCheckResult {
            has_all_requested: all_granted,
            cluster: cluster.into_ordered(),
            index: index.build(),
            application,
        }
    }
}

/// Resolves one requested index pattern (`IndicesPermission.checkResourcePrivileges`' request side).
fn prepare_index_pattern<'a>(
    pattern: &'a str,
    allow_restricted_indices: bool,
    privileges: &'a [String],
) -> Result<PreparedIndexPattern<'a>, EsError> {
    let mut checked = Language::of_set(compile_pattern(pattern)?);
    let concrete_restricted =
        !pattern.contains('*') && !is_lucene_regex(pattern) && RESTRICTED_INDICES.matches(pattern);
    if !allow_restricted_indices && !concrete_restricted {
        checked = checked.minus(&RESTRICTED_INDICES);
    }
    let privileges: Vec<&str> = unique(privileges).into_iter().map(String::as_str).collect();
    if checked.is_empty() {
        return Ok(PreparedIndexPattern { pattern, privileges, covered: None });
    }
    let actions = privileges
        .iter()
        .map(|privilege| resolve_index_privilege(privilege).map(|resolved| resolved.actions))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PreparedIndexPattern { pattern, privileges, covered: Some((checked, actions)) })
}

impl PreparedIndexPattern<'_> {
    /// Grants each privilege when, over the groups whose index patterns cover the requested pattern,
    /// the union of the privilege automata covers it.
    fn evaluate(&self, permissions: &Permissions, results: &mut ResourceMap) -> bool {
        let Some((checked, actions)) = &self.covered else {
            for privilege in &self.privileges {
                results.add(self.pattern, privilege, false);
            }
            return false;
        };
        let mut allowed: Option<Language> = None;
        for union in &permissions.index_unions {
            if checked.is_subset_of(&union.indices) {
                allowed = Some(match allowed {
                    Some(allowed) => allowed.union(&union.actions),
                    None => union.actions.clone(),
                });
            }
        }
        let mut all_granted = true;
        for (privilege, actions) in self.privileges.iter().zip(actions) {
            let granted = allowed.as_ref().is_some_and(|union| actions.is_subset_of(union));
            all_granted &= granted;
            results.add(self.pattern, privilege, granted);
        }
        all_granted
    }
}

impl Permissions {
    /// Checks the requested privileges. Unknown cluster or index privilege names fail with
    /// Elasticsearch's `illegal_argument_exception`.
    pub(crate) fn check_privileges(
        &self,
        request: &PrivilegesToCheck,
        application_definitions: &[ApplicationPrivilegeDefinition],
    ) -> Result<PrivilegesCheckResult, EsError> {
        Ok(PreparedCheck::new(request, application_definitions)?.evaluate(self))
    }
}

fn resources_json(resources: &[ResourcePrivileges]) -> Value {
    let mut object = Map::new();
    for resource in resources {
        let privileges: Map<String, Value> =
            resource.privileges.iter().map(|(name, granted)| (name.clone(), Value::Bool(*granted))).collect();
        object.insert(resource.resource.clone(), Value::Object(privileges));
    }
    Value::Object(object)
}

impl PrivilegesCheckResult {
    /// Renders the `POST /_security/user/_has_privileges` response.
    pub(crate) fn to_json(&self, username: &str) -> Value {
        let mut object = Map::new();
        object.insert("username".into(), Value::String(username.to_string()));
        object.insert("has_all_requested".into(), Value::Bool(self.has_all_requested));
        let cluster: Map<String, Value> =
            self.cluster.iter().map(|(name, granted)| (name.clone(), Value::Bool(*granted))).collect();
        object.insert("cluster".into(), Value::Object(cluster));
        object.insert("index".into(), resources_json(&self.index));
        let applications: Map<String, Value> =
            self.application.iter().map(|(name, resources)| (name.clone(), resources_json(resources))).collect();
        object.insert("application".into(), Value::Object(applications));
        Value::Object(object)
    }
}

#[cfg(test)]
#[path = "has_privileges_tests.rs"]
mod tests;
