//! Cluster privileges (`ClusterPrivilegeResolver`): names, action patterns and their ordering.
//!
//! Every named privilege grants `included ∖ excluded` action patterns. A name matching
//! `cluster:*`, `indices:admin/template/*` or `indices:admin/index_template/*` is a raw action
//! privilege granting `<name>*`. `manage_own_api_key` is special: its grant depends on the
//! request (only the caller's own keys) and it is implied by nothing but itself. Privileges are
//! listed "least privileged first": by how many other privileges each implies, then by name.

use std::sync::LazyLock;

use self::table::{ALL_CLUSTER, DEFINITIONS};
use crate::authz::language::Language;
use crate::error::EsError;

mod table;

const SECURITY: &str = "cluster:admin/xpack/security/";
/// The action pattern granted (for own keys) by `manage_own_api_key`.
pub(crate) const MANAGE_OWN_API_KEY_PATTERN: &str = "cluster:admin/xpack/security/api_key/*";
pub(crate) const MANAGE_OWN_API_KEY: &str = "manage_own_api_key";

/// Action names used by several privileges.
pub(crate) mod actions {
    pub(crate) const PROFILE_ACTIVATE: &str = "cluster:admin/xpack/security/profile/activate";
    pub(crate) const PROFILE_GET: &str = "cluster:admin/xpack/security/profile/get";
    pub(crate) const PROFILE_SUGGEST: &str = "cluster:admin/xpack/security/profile/suggest";
    pub(crate) const PROFILE_HAS_PRIVILEGES: &str = "cluster:admin/xpack/security/profile/has_privileges";
    pub(crate) const PROFILE_PUT_DATA: &str = "cluster:admin/xpack/security/profile/put/data";
    pub(crate) const PROFILE_SET_ENABLED: &str = "cluster:admin/xpack/security/profile/set_enabled";
    pub(crate) const USER_HAS_PRIVILEGES: &str = "cluster:admin/xpack/security/user/has_privileges";
    pub(crate) const USER_LIST_PRIVILEGES: &str = "cluster:admin/xpack/security/user/list_privileges";
    pub(crate) const USER_AUTHENTICATE: &str = "cluster:admin/xpack/security/user/authenticate";
    pub(crate) const MANAGE_APPLICATION_PRIVILEGES: &str = "cluster:admin/xpack/security/privilege/*";
}

/// What a resolved cluster privilege grants.
#[derive(Debug, Clone)]
pub(crate) enum ClusterGrant {
    /// A set of actions, independent of the request.
    Actions(Language),
    /// `manage_own_api_key`: API key actions on the caller's own keys.
    ManageOwnApiKey,
}

/// A resolved cluster privilege: a predefined name or a raw action pattern.
#[derive(Debug, Clone)]
pub(crate) struct ClusterPrivilege {
    /// The canonical (lowercase) name.
    pub(crate) name: String,
    pub(crate) grant: ClusterGrant,
}

impl ClusterPrivilege {
    /// Returns whether the privilege grants `action` (own API keys assumed for `manage_own_api_key`).
    pub(crate) fn grants_action(&self, action: &str) -> bool {
        match &self.grant {
            ClusterGrant::Actions(language) => language.matches(action),
            ClusterGrant::ManageOwnApiKey => OWN_API_KEY_LANGUAGE.matches(action),
        }
    }

    /// Returns whether this privilege implies `other` (Elasticsearch's `ClusterPermission.implies`).
    pub(crate) fn implies(&self, other: &ClusterPrivilege) -> bool {
        match (&self.grant, &other.grant) {
            (ClusterGrant::Actions(mine), ClusterGrant::Actions(theirs)) => theirs.is_subset_of(mine),
            (ClusterGrant::ManageOwnApiKey, ClusterGrant::ManageOwnApiKey) => true,
            _ => false,
        }
    }
}

static OWN_API_KEY_LANGUAGE: LazyLock<Language> =
    LazyLock::new(|| Language::of_patterns(&[MANAGE_OWN_API_KEY_PATTERN]).expect("valid pattern"));

static ACTION_MATCHER: LazyLock<Language> =
    LazyLock::new(|| Language::of_patterns(ALL_CLUSTER).expect("valid patterns"));

/// The predefined privileges, least privileged first.
static NAMED: LazyLock<Vec<ClusterPrivilege>> = LazyLock::new(|| {
    let mut privileges: Vec<ClusterPrivilege> = DEFINITIONS
        .iter()
        .map(|(name, included, excluded)| ClusterPrivilege {
            name: name.to_string(),
            grant: ClusterGrant::Actions(Language::of_patterns_minus(included, excluded).expect("valid patterns")),
        })
        .collect();
    privileges.push(ClusterPrivilege { name: MANAGE_OWN_API_KEY.to_string(), grant: ClusterGrant::ManageOwnApiKey });
    let implied_counts: Vec<usize> = privileges
        .iter()
        .enumerate()
        .map(|(index, privilege)| {
            privileges
                .iter()
                .enumerate()
                .filter(|(other_index, other)| *other_index != index && privilege.implies(other))
                .count()
        })
        .collect();
    let mut ordered: Vec<(usize, ClusterPrivilege)> = implied_counts.into_iter().zip(privileges).collect();
    ordered.sort_by(|(left_count, left), (right_count, right)| {
        left_count.cmp(right_count).then_with(|| left.name.cmp(&right.name))
    });
    ordered.into_iter().map(|(_, privilege)| privilege).collect()
});

/// Returns whether `name` is a raw cluster action (or action pattern) usable as a privilege.
pub(crate) fn is_cluster_action(name: &str) -> bool {
    ACTION_MATCHER.matches(name)
}

/// Returns the predefined cluster privilege names, least privileged first.
pub(crate) fn cluster_privilege_names() -> impl Iterator<Item = &'static str> {
    NAMED.iter().map(|privilege| privilege.name.as_str())
}

/// Returns the predefined privilege called `name` (case-insensitive).
pub(crate) fn named_cluster_privilege(name: &str) -> Option<&'static ClusterPrivilege> {
    let lowercase = name.to_lowercase();
    NAMED.iter().find(|privilege| privilege.name == lowercase)
}

/// Returns the message of Elasticsearch's `IllegalArgumentException` for an unknown name.
pub(crate) fn unknown_cluster_privilege_message(name: &str) -> String {
    format!(
        "unknown cluster privilege [{}]. a privilege must be either one of the predefined cluster privilege names [{}] \
         or a pattern over one of the available cluster actions",
        name.to_lowercase(),
        cluster_privilege_names().collect::<Vec<_>>().join(",")
    )
}

/// Resolves a cluster privilege name or raw action (`ClusterPrivilegeResolver.resolve`).
pub(crate) fn resolve_cluster_privilege(name: &str) -> Result<ClusterPrivilege, EsError> {
    let lowercase = name.to_lowercase();
    if is_cluster_action(&lowercase) {
        let pattern = format!("{lowercase}*");
        let language =
            Language::of_patterns(&[pattern]).map_err(|error| EsError::illegal_argument(error.to_string()))?;
        return Ok(ClusterPrivilege { name: lowercase, grant: ClusterGrant::Actions(language) });
    }
    match named_cluster_privilege(&lowercase) {
        Some(privilege) => Ok(privilege.clone()),
        None => Err(EsError::illegal_argument(unknown_cluster_privilege_message(name))),
    }
}

/// Returns the predefined privileges granting `action`, least privileged first, as Elasticsearch
/// lists them in 403 messages (`this action is granted by the cluster privileges [...]`).
pub(crate) fn cluster_privileges_granting(action: &str) -> Vec<&'static str> {
    NAMED.iter().filter(|privilege| privilege.grants_action(action)).map(|privilege| privilege.name.as_str()).collect()
}

/// Returns whether `action` is a security action (excluded from `manage`).
pub(crate) fn is_security_action(action: &str) -> bool {
    action.starts_with(SECURITY)
}

#[cfg(test)]
mod tests;
