//! `GET /_security/user/_privileges`: the merged privileges of the caller's roles, rendered in
//! Elasticsearch's shape and order (`RestGetUserPrivilegesAction`): `cluster` (sorted),
//! `global` (one object per configurable privilege), `indices` (names and privileges sorted),
//! `applications`, `run_as`, then `remote_indices`/`remote_cluster` when the roles have them.
//! Orders that come from Java hash sets are reproduced with `java_order`.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use crate::authz::application::{ApplicationPrivilege, ApplicationPrivilegeDefinition};
use crate::authz::java_order::{java_hash_order, java_hash_set_order, java_set_hash, java_string_hash};
use crate::authz::language::Language;
use crate::authz::pattern::PatternSet;
use crate::authz::permissions::{ConfigurablePrivilege, IndexGroup, Permissions};
use crate::authz::role::{ConfigurableClusterPrivileges, FieldSecurity};

fn arrays_hash<'a>(elements: impl IntoIterator<Item = &'a str>) -> i32 {
    elements.into_iter().fold(1i32, |hash, element| hash.wrapping_mul(31).wrapping_add(java_string_hash(element)))
}

fn configurable_hash(privilege: &ConfigurablePrivilege) -> i32 {
    match privilege {
        ConfigurablePrivilege::ManageApplications(names) | ConfigurablePrivilege::WriteProfile(names) => {
            java_set_hash(names.iter().map(String::as_str))
        }
        ConfigurablePrivilege::ManageRoles(groups) => {
            let list_hash = groups.iter().fold(1i32, |hash, group| {
                let names = arrays_hash(group.names.iter().map(String::as_str));
                let privileges = arrays_hash(group.privileges.iter().map(String::as_str));
                let group_hash = 31i32.wrapping_mul(31i32.wrapping_add(names)).wrapping_add(privileges);
                hash.wrapping_mul(31).wrapping_add(group_hash)
            });
            31i32.wrapping_add(list_hash)
        }
    }
}

fn configurable_json(privilege: &ConfigurablePrivilege) -> Value {
    match privilege {
        ConfigurablePrivilege::ManageApplications(names) => {
            json!({"application": ConfigurableClusterPrivileges::manage_applications_json(names)})
        }
        ConfigurablePrivilege::WriteProfile(names) => {
            json!({"profile": ConfigurableClusterPrivileges::write_profile_json(names)})
        }
        ConfigurablePrivilege::ManageRoles(groups) => {
            json!({"role": ConfigurableClusterPrivileges::manage_roles_json(groups)})
        }
    }
}

/// Returns whether the merged field security restricts fields (its automaton is not total).
fn has_field_level_security(groups: &[FieldSecurity]) -> bool {
    let terms = groups.iter().map(|group| {
        let granted: Vec<String> = group.grant.clone().unwrap_or_else(|| vec!["*".to_string()]);
        let language = Language::of_set(PatternSet::cached_lenient(&granted));
        match &group.except {
            Some(except) if !except.is_empty() => language.minus(&PatternSet::cached_lenient(except)),
            _ => language,
        }
    });
    let permitted = terms.fold(Language::empty(), |union, term| union.union(&term));
    !permitted.is_total()
}

fn index_group_json(group: &IndexGroup) -> Value {
    let mut object = Map::new();
    let names: BTreeSet<&String> = group.names.iter().collect();
    object.insert("names".into(), json!(names));
    object.insert("privileges".into(), json!(group.privilege.names));
    let non_empty = |list: &Option<Vec<String>>| list.as_ref().is_some_and(|items| !items.is_empty());
    if has_field_level_security(&group.field_security)
        && group.field_security.iter().any(|g| non_empty(&g.grant) || non_empty(&g.except))
    {
        let mut sorted = group.field_security.clone();
        sorted.sort_by(|left, right| (&left.grant, &left.except).cmp(&(&right.grant, &right.except)));
        let rendered: Vec<Value> = sorted
            .iter()
            .map(|security| {
                let mut fields = Map::new();
                if let Some(grant) = security.grant.as_ref().filter(|grant| !grant.is_empty()) {
                    fields.insert("grant".into(), json!(grant));
                }
                if let Some(except) = security.except.as_ref().filter(|except| !except.is_empty()) {
                    fields.insert("except".into(), json!(except));
                }
                Value::Object(fields)
            })
            .collect();
        object.insert("field_security".into(), Value::Array(rendered));
    }
    if let Some(queries) = &group.queries {
        object.insert("query".into(), json!(queries));
    }
    object.insert("allow_restricted_indices".into(), Value::Bool(group.allow_restricted_indices));
    Value::Object(object)
}

fn application_privilege_hash(privilege: &ApplicationPrivilege) -> i32 {
    let names = java_set_hash(privilege.names.iter().map(String::as_str));
    let patterns = java_hash_set_order(privilege.patterns.iter().cloned());
    let with_application = names.wrapping_mul(31).wrapping_add(java_string_hash(&privilege.application));
    with_application.wrapping_mul(31).wrapping_add(arrays_hash(patterns.iter().map(String::as_str)))
}

/// `(clusters, index names, allow_restricted_indices, privileges)` of a merged remote group.
type RemoteGroup = (BTreeSet<String>, BTreeSet<String>, bool, BTreeSet<String>);

impl Permissions {
    /// Renders `GET /_security/user/_privileges` without stored application privileges.
    pub(crate) fn user_privileges_json(&self) -> Value {
        self.user_privileges_json_with(&[])
    }

    /// Renders `GET /_security/user/_privileges`, resolving application privilege names against
    /// the stored definitions.
    pub(crate) fn user_privileges_json_with(&self, definitions: &[ApplicationPrivilegeDefinition]) -> Value {
        let mut object = Map::new();
        object.insert("cluster".into(), json!(self.cluster_names));
        let global = java_hash_order(
            self.configurable.iter().map(|privilege| (configurable_hash(privilege), privilege)).collect(),
        );
        object.insert("global".into(), Value::Array(global.into_iter().map(configurable_json).collect()));
        object.insert("indices".into(), Value::Array(self.index_groups.iter().map(index_group_json).collect()));
        object.insert("applications".into(), Value::Array(self.applications_json(definitions)));
        object.insert("run_as".into(), json!(java_hash_set_order(self.run_as.iter().cloned())));
        if !self.remote_indices.is_empty() {
            object.insert("remote_indices".into(), Value::Array(self.remote_indices_json()));
        }
        if !self.remote_cluster.is_empty() {
            let groups: Vec<Value> = self
                .remote_cluster
                .iter()
                .map(|group| json!({"privileges": group.privileges, "clusters": group.clusters}))
                .collect();
            object.insert("remote_cluster".into(), Value::Array(groups));
        }
        Value::Object(object)
    }

    fn applications_json(&self, definitions: &[ApplicationPrivilegeDefinition]) -> Vec<Value> {
        let entries = self.application_permission(definitions);
        let applications = java_hash_set_order(entries.iter().map(|entry| entry.privilege.application.clone()));
        let mut rendered: Vec<Value> = Vec::new();
        for application in applications {
            let privileges: Vec<&ApplicationPrivilege> = entries
                .iter()
                .filter(|entry| entry.privilege.application == application)
                .map(|entry| &entry.privilege)
                .collect();
            let ordered = java_hash_order(
                privileges.into_iter().map(|privilege| (application_privilege_hash(privilege), privilege)).collect(),
            );
            for privilege in ordered {
                let resources = java_hash_set_order(
                    entries
                        .iter()
                        .filter(|entry| entry.matches_privilege(privilege))
                        .flat_map(|entry| entry.resource_names.iter().cloned()),
                );
                if resources.is_empty() {
                    continue;
                }
                let names = java_hash_set_order(privilege.names.iter().cloned());
                let value = json!({"application": application, "privileges": names, "resources": resources});
                if !rendered.contains(&value) {
                    rendered.push(value);
                }
            }
        }
        rendered
    }

    fn remote_indices_json(&self) -> Vec<Value> {
        let mut groups: Vec<RemoteGroup> = Vec::new();
        for remote in &self.remote_indices {
            let clusters: BTreeSet<String> = remote.clusters.iter().cloned().collect();
            let names: BTreeSet<String> = remote.indices.names.iter().cloned().collect();
            let allow = remote.indices.allow_restricted_indices;
            let privileges = remote.indices.privileges.iter().map(|privilege| privilege.to_lowercase());
            match groups.iter_mut().find(|(c, n, a, _)| *c == clusters && *n == names && *a == allow) {
                Some((_, _, _, existing)) => existing.extend(privileges),
                None => groups.push((clusters, names, allow, privileges.collect())),
            }
        }
        groups
            .into_iter()
            .map(|(clusters, names, allow, privileges)| {
                json!({"names": names, "privileges": privileges, "allow_restricted_indices": allow, "clusters": clusters})
            })
            .collect()
    }
}
