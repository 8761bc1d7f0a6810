//! The effective permissions of a set of roles (Elasticsearch's `Role`, as `CompositeRolesStore`
//! builds it): cluster privileges merged into one action automaton, index groups collated by
//! index names, application entries, run-as patterns and configurable privileges.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock, OnceLock};

use crate::authz::application::ApplicationPrivilegeDefinition;
use crate::authz::application_permission::{build_application_permission, ApplicationPermissionEntry};
use crate::authz::index_privilege::{resolve_by_selector, IndexPrivilege};
use crate::authz::java_order::{java_hash_order, java_set_hash};
use crate::authz::language::Language;
use crate::authz::pattern::PatternSet;
use crate::authz::privilege::{resolve_cluster_privilege, ClusterGrant, ClusterPrivilege};
use crate::authz::role::{
    FieldSecurity, ManageRolesIndexGroup, RemoteClusterPrivileges, RemoteIndicesPrivileges, RoleDescriptor,
};

/// System indices that index patterns only cover with `allow_restricted_indices: true`
/// (an approximation of Elasticsearch's `RestrictedIndices`, built from system index descriptors).
pub(crate) const RESTRICTED_INDEX_PATTERNS: &[&str] = &[
    ".security",
    ".security-*",
    ".kibana_*",
    ".reporting-*",
    ".apm-agent-configuration*",
    ".apm-custom-link*",
    ".apm-source-map*",
    ".async-search*",
    ".fleet-*",
    ".tasks",
    ".geoip_databases",
    ".watches*",
    ".triggered_watches*",
    ".ml-config*",
    ".ml-meta*",
    ".ml-inference-*",
    ".transform-internal-*",
    ".logstash*",
    ".synonyms*",
    ".snapshot-blob-cache*",
    ".enrich-*",
];

pub(crate) static RESTRICTED_INDICES: LazyLock<Arc<PatternSet>> =
    LazyLock::new(|| Arc::new(PatternSet::compile(RESTRICTED_INDEX_PATTERNS).expect("valid patterns")));

/// One configurable (`global`) privilege held by the roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ConfigurablePrivilege {
    ManageApplications(Vec<String>),
    WriteProfile(Vec<String>),
    ManageRoles(Vec<ManageRolesIndexGroup>),
}

/// One index permission group.
#[derive(Debug, Clone)]
pub(crate) struct IndexGroup {
    pub(crate) names: Vec<String>,
    pub(crate) privilege: IndexPrivilege,
    pub(crate) allow_restricted_indices: bool,
    pub(crate) field_security: Vec<FieldSecurity>,
    /// `None` when at least one merged entry had no query (no document level security).
    pub(crate) queries: Option<Vec<String>>,
    pub(crate) index_language: Language,
}

/// The union of the index groups sharing one privilege (by name set).
#[derive(Debug, Clone)]
pub(crate) struct IndexUnion {
    pub(crate) privilege_names: BTreeSet<String>,
    pub(crate) actions: Language,
    pub(crate) indices: Language,
}

/// One `(application, resources) → privilege names` entry, resolved against definitions on use.
#[derive(Debug, Clone)]
pub(crate) struct ApplicationEntry {
    pub(crate) application: String,
    pub(crate) resources: Vec<String>,
    pub(crate) privileges: BTreeSet<String>,
}

/// The merged permissions of a user's roles.
#[derive(Debug, Clone, Default)]
pub(crate) struct Permissions {
    pub(crate) role_count: usize,
    /// Canonical names of the named and raw-action cluster privileges.
    pub(crate) cluster_names: BTreeSet<String>,
    /// The union of the action-based cluster privileges; `None` when there is none.
    pub(crate) cluster_actions: Option<Language>,
    pub(crate) manage_own_api_key: bool,
    pub(crate) configurable: Vec<ConfigurablePrivilege>,
    pub(crate) index_groups: Vec<IndexGroup>,
    /// Per privilege name set: its actions and the union of the index patterns it is granted on
    /// (`IndicesPermission.indexGroupAutomatons`), compiled lazily and reused across checks.
    pub(crate) index_unions: Vec<IndexUnion>,
    pub(crate) applications: Vec<ApplicationEntry>,
    /// `applications` resolved without stored application privileges, built on first use.
    application_permission: OnceLock<Vec<ApplicationPermissionEntry>>,
    pub(crate) run_as: Vec<String>,
    run_as_matcher: Option<Arc<PatternSet>>,
    pub(crate) remote_indices: Vec<RemoteIndicesPrivileges>,
    pub(crate) remote_cluster: Vec<RemoteClusterPrivileges>,
}

/// Index entries collated by their set of index names (`MergeableIndicesPrivilege`).
struct MergedIndices {
    key: BTreeSet<String>,
    names: Vec<String>,
    privileges: Vec<String>,
    field_security: Vec<FieldSecurity>,
    queries: Option<Vec<String>>,
}

impl Permissions {
    /// Builds the permissions of `roles` (unknown privilege names are ignored).
    pub(crate) fn from_roles(roles: &[&RoleDescriptor]) -> Permissions {
        let mut permissions = Permissions { role_count: roles.len(), ..Permissions::default() };
        let mut actions: Vec<Language> = Vec::new();
        let mut unrestricted: Vec<MergedIndices> = Vec::new();
        let mut restricted: Vec<MergedIndices> = Vec::new();
        for role in roles {
            for name in &role.cluster {
                let Ok(ClusterPrivilege { name, grant }) = resolve_cluster_privilege(name) else {
                    continue;
                };
                match grant {
                    ClusterGrant::Actions(language) => actions.push(language),
                    ClusterGrant::ManageOwnApiKey => permissions.manage_own_api_key = true,
                }
                permissions.cluster_names.insert(name);
            }
            permissions.collect_configurable(role);
            for user in &role.run_as {
                if !permissions.run_as.contains(user) {
                    permissions.run_as.push(user.clone());
                }
            }
            let explicit_denial = role.indices.len() == 1
                && role.indices[0].privileges.first().is_some_and(|privilege| privilege.eq_ignore_ascii_case("none"));
            if !explicit_denial {
                for entry in &role.indices {
                    let target = if entry.allow_restricted_indices { &mut restricted } else { &mut unrestricted };
                    collate(
                        target,
                        entry.names.clone(),
                        &entry.privileges,
                        entry.field_security.clone(),
                        entry.query.clone(),
                    );
                }
            }
            for entry in &role.applications {
                permissions.add_application_entry(&entry.application, &entry.resources, &entry.privileges);
            }
            permissions.remote_indices.extend(role.remote_indices.iter().cloned());
            for group in &role.remote_cluster {
                if !permissions.remote_cluster.contains(group) {
                    permissions.remote_cluster.push(group.clone());
                }
            }
        }
        if !actions.is_empty() {
            permissions.cluster_actions = Some(Language::union_all(&actions));
        }
        for (merged, allow_restricted) in [(unrestricted, false), (restricted, true)] {
            let ordered = java_hash_order(
                merged.into_iter().map(|group| (java_set_hash(group.key.iter().map(String::as_str)), group)).collect(),
            );
            for group in ordered {
                permissions.add_index_groups(group, allow_restricted);
            }
        }
        permissions.index_unions = index_unions(&permissions.index_groups);
        if !permissions.run_as.is_empty() {
            permissions.run_as_matcher = Some(PatternSet::cached_lenient(&permissions.run_as));
        }
        permissions
    }

    fn collect_configurable(&mut self, role: &RoleDescriptor) {
        let candidates = [
            role.global.manage_applications.clone().map(ConfigurablePrivilege::ManageApplications),
            role.global.write_profile_applications.clone().map(ConfigurablePrivilege::WriteProfile),
            role.global.manage_roles.clone().map(ConfigurablePrivilege::ManageRoles),
        ];
        for privilege in candidates.into_iter().flatten() {
            if !self.configurable.contains(&privilege) {
                self.configurable.push(privilege);
            }
        }
    }

    fn add_application_entry(&mut self, application: &str, resources: &[String], privileges: &[String]) {
        let resource_set: BTreeSet<&String> = resources.iter().collect();
        let existing = self.applications.iter_mut().find(|entry| {
            entry.application == application && entry.resources.iter().collect::<BTreeSet<_>>() == resource_set
        });
        match existing {
            Some(entry) => entry.privileges.extend(privileges.iter().cloned()),
            None => self.applications.push(ApplicationEntry {
                application: application.to_string(),
                resources: resources.to_vec(),
                privileges: privileges.iter().cloned().collect(),
            }),
        }
    }

    fn add_index_groups(&mut self, merged: MergedIndices, allow_restricted_indices: bool) {
        let Ok(privileges) = resolve_by_selector(&merged.privileges) else {
            return;
        };
        let mut index_language = Language::of_set(PatternSet::cached_lenient(&merged.names));
        if !allow_restricted_indices {
            index_language = index_language.minus(&RESTRICTED_INDICES);
        }
        for privilege in privileges {
            self.index_groups.push(IndexGroup {
                names: merged.names.clone(),
                privilege,
                allow_restricted_indices,
                field_security: merged.field_security.clone(),
                queries: merged.queries.clone(),
                index_language: index_language.clone(),
            });
        }
    }

    /// The application permission (`ApplicationPermission`) of these roles against the stored
    /// application privileges. Without any, it is built once and kept: a has-privileges check reuses it.
    pub(crate) fn application_permission(
        &self,
        definitions: &[ApplicationPrivilegeDefinition],
    ) -> Cow<'_, [ApplicationPermissionEntry]> {
        if definitions.is_empty() {
            Cow::Borrowed(
                self.application_permission.get_or_init(|| build_application_permission(&self.applications, &[])),
            )
        } else {
            Cow::Owned(build_application_permission(&self.applications, definitions))
        }
    }

    /// Returns whether a request-independent cluster privilege grants `action`
    /// (`manage_own_api_key` is request-dependent; see [`Permissions::grants_own_api_key_action`]).
    pub(crate) fn grants_cluster_action(&self, action: &str) -> bool {
        self.cluster_actions.as_ref().is_some_and(|language| language.matches(action))
    }

    /// Returns whether `manage_own_api_key` applies to `action` (for the caller's own keys).
    pub(crate) fn grants_own_api_key_action(&self, action: &str) -> bool {
        self.manage_own_api_key
            && action.starts_with("cluster:admin/xpack/security/api_key/")
            && !action.contains("/grant")
    }

    /// Returns whether a single `profile.write.applications` privilege covers every name, as
    /// `WriteProfileDataPrivileges` checks `update_profile_data` requests.
    pub(crate) fn grants_profile_write(&self, application_names: &[&str]) -> bool {
        self.configurable.iter().any(|privilege| match privilege {
            ConfigurablePrivilege::WriteProfile(patterns) => {
                let matcher = PatternSet::cached_lenient(patterns);
                application_names.iter().all(|name| matcher.matches(name))
            }
            _ => false,
        })
    }

    /// Returns whether a single `application.manage.applications` privilege covers every name
    /// (an empty list needs the `*` pattern), as `ManageApplicationPrivileges` checks requests.
    pub(crate) fn grants_manage_application_privileges(&self, application_names: &[&str]) -> bool {
        self.configurable.iter().any(|privilege| match privilege {
            ConfigurablePrivilege::ManageApplications(patterns) if application_names.is_empty() => {
                patterns.iter().any(|p| p == "*")
            }
            ConfigurablePrivilege::ManageApplications(patterns) => {
                let matcher = PatternSet::cached_lenient(patterns);
                application_names.iter().all(|name| matcher.matches(name))
            }
            _ => false,
        })
    }

    /// Returns whether the roles allow running as `username`.
    pub(crate) fn grants_run_as(&self, username: &str) -> bool {
        self.run_as_matcher.as_ref().is_some_and(|matcher| matcher.matches(username))
    }

    /// Returns whether the roles grant `action` on index `index_name` (data selector).
    pub(crate) fn grants_index_action(&self, index_name: &str, action: &str) -> bool {
        self.index_groups.iter().any(|group| {
            group.privilege.selector.grants_data()
                && group.privilege.actions.matches(action)
                && group.index_language.matches(index_name)
        })
    }
}

fn index_unions(groups: &[IndexGroup]) -> Vec<IndexUnion> {
    let mut unions: Vec<IndexUnion> = Vec::new();
    for group in groups {
        match unions.iter_mut().find(|union| union.privilege_names == group.privilege.names) {
            Some(union) => union.indices = union.indices.clone().union(&group.index_language),
            None => unions.push(IndexUnion {
                privilege_names: group.privilege.names.clone(),
                actions: group.privilege.actions.clone(),
                indices: group.index_language.clone(),
            }),
        }
    }
    unions
}

fn collate(
    target: &mut Vec<MergedIndices>,
    names: Vec<String>,
    privileges: &[String],
    field_security: Option<FieldSecurity>,
    query: Option<String>,
) {
    let key: BTreeSet<String> = names.iter().cloned().collect();
    let field_security = field_security.unwrap_or_default();
    match target.iter_mut().find(|group| group.key == key) {
        Some(group) => {
            for privilege in privileges {
                if !group.privileges.contains(privilege) {
                    group.privileges.push(privilege.clone());
                }
            }
            if !group.field_security.contains(&field_security) {
                group.field_security.push(field_security);
            }
            group.queries = match (group.queries.take(), query) {
                (Some(mut queries), Some(query)) => {
                    if !queries.contains(&query) {
                        queries.push(query);
                    }
                    Some(queries)
                }
                _ => None,
            };
        }
        None => target.push(MergedIndices {
            key,
            names,
            privileges: privileges.to_vec(),
            field_security: vec![field_security],
            queries: query.map(|query| vec![query]),
        }),
    }
}

#[cfg(test)]
#[path = "permissions_tests.rs"]
mod tests;
