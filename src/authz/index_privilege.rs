//! Index privileges (`IndexPrivilege`): names, action patterns, selectors and ordering.
//!
//! A name matching `indices:*` or `internal:transport/proxy/indices:*` is a raw action privilege
//! granting `<name>*`. The failure-store privileges (`read_failure_store`, `manage_failure_store`)
//! grant access to the `::failures` selector only and are listed first; `all` grants every selector.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use crate::authz::language::Language;
use crate::error::EsError;

/// Which index components a privilege gives access to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Selector {
    Data,
    DataAndFailures,
    Failures,
    All,
}

impl Selector {
    /// Returns whether the privilege grants access to regular data.
    pub(crate) fn grants_data(self) -> bool {
        self != Selector::Failures
    }
}

const RESOLVE_INDEX: &str = "indices:admin/resolve/index";
const RESOLVE_CLUSTER: &str = "indices:admin/resolve/cluster";
const CLUSTER_SEARCH_SHARDS: &str = "indices:admin/shards/search_shards";
const SEARCH_SHARDS: &str = "indices:admin/search/search_shards";
const AUTO_PUT_MAPPING: &str = "indices:admin/mapping/auto_put";
const AUTO_CREATE: &str = "indices:admin/auto_create";
const MANAGE: &[&str] = &[
    "indices:monitor/*",
    "indices:admin/*",
    "indices:data/read/field_caps*",
    "indices:data/read/xpack/rollup/get/index/caps*",
];

/// `(name, action patterns, selector)`; failure-store privileges first, as Elasticsearch keeps them.
const DEFINITIONS: &[(&str, &[&str], Selector)] = &[
    ("read_failure_store", &["indices:data/read/*", RESOLVE_INDEX], Selector::Failures),
    ("manage_failure_store", MANAGE, Selector::Failures),
    ("none", &[], Selector::Data),
    ("all", &["indices:*", "internal:transport/proxy/indices:*"], Selector::All),
    ("read", &["indices:data/read/*", RESOLVE_INDEX, RESOLVE_CLUSTER], Selector::Data),
    (
        "read_cross_cluster",
        &[
            "internal:transport/proxy/indices:data/read/*",
            CLUSTER_SEARCH_SHARDS,
            SEARCH_SHARDS,
            RESOLVE_CLUSTER,
            "indices:data/read/esql",
            "indices:data/read/esql/compute",
        ],
        Selector::Data,
    ),
    (
        "create",
        &["indices:data/write/index*", "indices:data/write/bulk*", "indices:data/write/simulate/bulk*"],
        Selector::Data,
    ),
    (
        "index",
        &[
            "indices:data/write/index*",
            "indices:data/write/bulk*",
            "indices:data/write/update*",
            "indices:data/write/simulate/bulk*",
        ],
        Selector::Data,
    ),
    ("delete", &["indices:data/write/delete*", "indices:data/write/bulk*"], Selector::Data),
    ("write", &["indices:data/write/*", AUTO_PUT_MAPPING], Selector::Data),
    (
        "create_doc",
        &[
            "indices:data/write/index",
            "indices:data/write/index[*",
            "indices:data/write/index:op_type/create",
            "indices:data/write/bulk*",
            "indices:data/write/simulate/bulk*",
        ],
        Selector::Data,
    ),
    ("monitor", &["indices:monitor/*"], Selector::Data),
    ("manage", MANAGE, Selector::DataAndFailures),
    ("delete_index", &["indices:admin/delete", "indices:admin/data_stream/delete"], Selector::Data),
    ("create_index", &["indices:admin/create", AUTO_CREATE, "indices:admin/data_stream/create"], Selector::Data),
    (
        "view_index_metadata",
        &[
            "indices:admin/aliases/get",
            "indices:admin/get",
            "indices:admin/mappings/fields/get*",
            "indices:admin/mappings/get",
            CLUSTER_SEARCH_SHARDS,
            SEARCH_SHARDS,
            "indices:admin/validate/query*",
            "indices:monitor/settings/get",
            "indices:admin/ilm/explain",
            "indices:admin/data_stream/lifecycle/get",
            "indices:admin/data_stream/lifecycle/explain",
            "indices:admin/data_stream/get",
            RESOLVE_INDEX,
            RESOLVE_CLUSTER,
            "indices:data/read/field_caps*",
            "indices:data/read/xpack/rollup/get/index/caps*",
            "indices:internal/transform/checkpoint*",
            "indices:monitor/get/metering/stats",
            "indices:admin/get/metering/stats",
        ],
        Selector::Data,
    ),
    (
        "manage_follow_index",
        &[
            "indices:admin/xpack/ccr/put_follow",
            "indices:admin/xpack/ccr/unfollow",
            "indices:admin/close*",
            "indices:admin/data_stream/promote",
            "indices:admin/rollover",
        ],
        Selector::Data,
    ),
    ("manage_leader_index", &["indices:admin/xpack/ccr/forget_follower*"], Selector::Data),
    ("manage_ilm", &["indices:admin/ilm/*"], Selector::Data),
    ("manage_data_stream_lifecycle", &["indices:admin/data_stream/lifecycle/*"], Selector::DataAndFailures),
    (
        "maintenance",
        &["indices:admin/refresh*", "indices:admin/flush*", "indices:admin/synced_flush", "indices:admin/forcemerge*"],
        Selector::Data,
    ),
    ("auto_configure", &[AUTO_PUT_MAPPING, AUTO_CREATE], Selector::Data),
    (
        "cross_cluster_replication",
        &[
            "indices:data/read/xpack/ccr/shard_changes*",
            "indices:monitor/stats*",
            "indices:admin/seq_no/add_retention_lease*",
            "indices:admin/seq_no/remove_retention_lease*",
            "indices:admin/seq_no/renew_retention_lease*",
        ],
        Selector::Data,
    ),
    (
        "cross_cluster_replication_internal",
        &[
            "indices:internal/admin/ccr/restore/session/clear*",
            "indices:internal/admin/ccr/restore/file_chunk/get*",
            "indices:internal/admin/ccr/restore/session/put*",
            "internal:transport/proxy/indices:internal/admin/ccr/restore/session/clear*",
            "internal:transport/proxy/indices:internal/admin/ccr/restore/file_chunk/get*",
        ],
        Selector::Data,
    ),
];

/// A resolved index privilege (possibly the union of several names).
#[derive(Debug, Clone)]
pub(crate) struct IndexPrivilege {
    /// The lowercase names it was resolved from.
    pub(crate) names: BTreeSet<String>,
    pub(crate) actions: Language,
    pub(crate) selector: Selector,
}

struct NamedIndexPrivilege {
    name: &'static str,
    actions: Language,
    selector: Selector,
}

/// The predefined privileges in Elasticsearch's order (failure store first, then least privileged first).
static NAMED: LazyLock<Vec<NamedIndexPrivilege>> = LazyLock::new(|| {
    let compiled: Vec<NamedIndexPrivilege> = DEFINITIONS
        .iter()
        .map(|(name, patterns, selector)| NamedIndexPrivilege {
            name,
            actions: Language::of_patterns(patterns).expect("valid patterns"),
            selector: *selector,
        })
        .collect();
    let (failures, others): (Vec<_>, Vec<_>) =
        compiled.into_iter().partition(|privilege| privilege.selector == Selector::Failures);
    let mut ordered = sort_by_access_level(failures);
    ordered.extend(sort_by_access_level(others));
    ordered
});

/// Sorts by how many other privileges each one is a subset of (descending), then by name.
fn sort_by_access_level(privileges: Vec<NamedIndexPrivilege>) -> Vec<NamedIndexPrivilege> {
    let counts: Vec<usize> = privileges
        .iter()
        .enumerate()
        .map(|(index, privilege)| {
            privileges
                .iter()
                .enumerate()
                .filter(|(other_index, other)| *other_index != index && privilege.actions.is_subset_of(&other.actions))
                .count()
        })
        .collect();
    let mut ordered: Vec<(usize, NamedIndexPrivilege)> = counts.into_iter().zip(privileges).collect();
    ordered.sort_by(|(left_count, left), (right_count, right)| {
        right_count.cmp(left_count).then_with(|| left.name.cmp(right.name))
    });
    ordered.into_iter().map(|(_, privilege)| privilege).collect()
}

static ACTION_MATCHER: LazyLock<Language> = LazyLock::new(|| {
    Language::of_patterns(&["indices:*", "internal:transport/proxy/indices:*"]).expect("valid patterns")
});

/// Returns whether `name` is a raw index action (or action pattern).
pub(crate) fn is_index_action(name: &str) -> bool {
    ACTION_MATCHER.matches(name)
}

/// Returns the predefined index privilege names in Elasticsearch's order.
pub(crate) fn index_privilege_names() -> impl Iterator<Item = &'static str> {
    NAMED.iter().map(|privilege| privilege.name)
}

/// Returns the message of Elasticsearch's `IllegalArgumentException` for an unknown name.
pub(crate) fn unknown_index_privilege_message(lowercase_name: &str) -> String {
    let mut names: Vec<&str> = index_privilege_names().collect();
    names.sort_unstable();
    format!(
        "unknown index privilege [{lowercase_name}]. a privilege must be either one of the predefined fixed indices \
         privileges [{}] or a pattern over one of the available index actions",
        names.join(",")
    )
}

/// Resolves one name or raw action (`IndexPrivilege.get`).
pub(crate) fn resolve_index_privilege(name: &str) -> Result<IndexPrivilege, EsError> {
    let mut resolved = resolve_by_selector(&[name])?;
    Ok(resolved.remove(0))
}

/// Resolves a set of names, split by selector like `IndexPrivilege.resolveBySelectorAccess`:
/// data-selector names and raw actions, then data-and-failures names, then failures-only names;
/// with `all` among them, everything is one privilege granting every selector.
pub(crate) fn resolve_by_selector<S: AsRef<str>>(names: &[S]) -> Result<Vec<IndexPrivilege>, EsError> {
    let lowercase: BTreeSet<String> = names.iter().map(|name| name.as_ref().to_lowercase()).collect();
    if lowercase.is_empty() {
        return Ok(vec![IndexPrivilege {
            names: BTreeSet::from(["none".to_string()]),
            actions: Language::empty(),
            selector: Selector::Data,
        }]);
    }
    let mut groups: Vec<(Selector, BTreeSet<String>, Language)> = Vec::new();
    let contains_all = lowercase.contains("all");
    for name in &lowercase {
        let (selector, language) = if is_index_action(name) {
            let pattern = format!("{name}*");
            (
                Selector::Data,
                Language::of_patterns(&[pattern]).map_err(|error| EsError::illegal_argument(error.to_string()))?,
            )
        } else {
            let named = NAMED
                .iter()
                .find(|privilege| privilege.name == name)
                .ok_or_else(|| EsError::illegal_argument(unknown_index_privilege_message(name)))?;
            (named.selector, named.actions.clone())
        };
        let selector = if contains_all { Selector::All } else { selector };
        match groups.iter_mut().find(|(group_selector, _, _)| *group_selector == selector) {
            Some((_, group_names, group_language)) => {
                group_names.insert(name.clone());
                *group_language = group_language.clone().union(&language);
            }
            None => groups.push((selector, BTreeSet::from([name.clone()]), language)),
        }
    }
    groups.sort_by_key(|(selector, _, _)| *selector);
    Ok(groups.into_iter().map(|(selector, names, actions)| IndexPrivilege { names, actions, selector }).collect())
}

/// Returns the data-selector privileges granting `action`, least privileged first (403 messages).
pub(crate) fn index_privileges_granting(action: &str) -> Vec<&'static str> {
    NAMED
        .iter()
        .filter(|privilege| privilege.selector.grants_data() && privilege.actions.matches(action))
        .map(|privilege| privilege.name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn privilege(name: &str) -> IndexPrivilege {
        resolve_index_privilege(name).unwrap()
    }

    fn implies(granted: &str, requested: &str) -> bool {
        privilege(requested).actions.is_subset_of(&privilege(granted).actions)
    }

    #[test]
    fn implication_table() {
        let table: &[(&str, &str, bool)] = &[
            ("all", "read", true),
            ("all", "write", true),
            ("all", "manage", true),
            ("write", "index", true),
            ("write", "create", true),
            ("write", "create_doc", true),
            ("write", "delete", true),
            ("index", "create", true),
            ("create", "create_doc", true),
            ("create_doc", "create", false),
            ("read", "write", false),
            ("write", "read", false),
            ("manage", "monitor", true),
            ("manage", "create_index", true),
            ("manage", "delete_index", true),
            ("manage", "maintenance", true),
            ("manage", "manage_ilm", true),
            ("manage", "read", false),
            ("read", "read_failure_store", true),
            ("read", "indices:data/read/search", true),
            ("indices:data/read/*", "read", false),
            ("none", "read", false),
            ("read", "none", true),
        ];
        for (granted, requested, expected) in table {
            assert_eq!(implies(granted, requested), *expected, "{granted} implies {requested}");
        }
    }

    #[test]
    fn order_and_messages() {
        let names: Vec<&str> = index_privilege_names().collect();
        assert_eq!(&names[..3], ["manage_failure_store", "read_failure_store", "none"]);
        assert_eq!(names.last(), Some(&"all"));
        assert_eq!(index_privileges_granting("indices:data/read/search"), ["read", "all"]);
        assert_eq!(
            index_privileges_granting("indices:data/write/index"),
            ["create_doc", "create", "index", "write", "all"]
        );
        let error = resolve_index_privilege("Foo").unwrap_err();
        assert_eq!(
            error.reason,
            "unknown index privilege [foo]. a privilege must be either one of the predefined fixed indices privileges \
             [all,auto_configure,create,create_doc,create_index,cross_cluster_replication,cross_cluster_replication_internal,\
             delete,delete_index,index,maintenance,manage,manage_data_stream_lifecycle,manage_failure_store,manage_follow_index,\
             manage_ilm,manage_leader_index,monitor,none,read,read_cross_cluster,read_failure_store,view_index_metadata,write] \
             or a pattern over one of the available index actions"
        );
    }

    #[test]
    fn selector_split() {
        let split = resolve_by_selector(&["read", "read_failure_store", "manage"]).unwrap();
        let selectors: Vec<Selector> = split.iter().map(|privilege| privilege.selector).collect();
        assert_eq!(selectors, [Selector::Data, Selector::DataAndFailures, Selector::Failures]);
        let with_all = resolve_by_selector(&["all", "read_failure_store"]).unwrap();
        assert_eq!(with_all.len(), 1);
        assert_eq!(with_all[0].selector, Selector::All);
        assert!(resolve_by_selector(&["indices:data/read/search"]).unwrap()[0]
            .actions
            .matches("indices:data/read/search[phase/query]"));
    }
}
