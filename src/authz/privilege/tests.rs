use proptest::prelude::*;

use super::actions::*;
use super::table::DEFINITIONS;
use super::*;

fn named(name: &str) -> ClusterPrivilege {
    resolve_cluster_privilege(name).unwrap()
}

#[test]
fn grants_table() {
    let table: &[(&str, &str, bool)] = &[
        ("all", PROFILE_ACTIVATE, true),
        ("all", "cluster:monitor/health", true),
        ("all", "indices:admin/template/put", true),
        ("all", "indices:data/read/search", false),
        ("manage", "cluster:monitor/health", true),
        ("manage", "cluster:admin/ingest/pipeline/put", true),
        ("manage", PROFILE_ACTIVATE, false),
        ("manage", PROFILE_GET, false),
        ("manage", "cluster:admin/xpack/security/user/put", false),
        ("manage_security", PROFILE_ACTIVATE, true),
        ("manage_security", PROFILE_SET_ENABLED, true),
        ("manage_security", "cluster:admin/xpack/security/delegate_pki", false),
        ("manage_user_profile", PROFILE_ACTIVATE, true),
        ("manage_user_profile", PROFILE_PUT_DATA, true),
        ("manage_user_profile", PROFILE_SET_ENABLED, true),
        ("manage_user_profile", "cluster:admin/xpack/security/user/get", false),
        ("read_security", PROFILE_GET, true),
        ("read_security", PROFILE_SUGGEST, true),
        ("read_security", PROFILE_HAS_PRIVILEGES, true),
        ("read_security", PROFILE_ACTIVATE, false),
        ("read_security", PROFILE_SET_ENABLED, false),
        ("read_security", PROFILE_PUT_DATA, false),
        ("read_security", "cluster:admin/xpack/security/service_account/credential/get[n]", true),
        ("monitor", "cluster:monitor/health", true),
        ("monitor", "indices:admin/template/get", true),
        ("monitor", "cluster:admin/ingest/pipeline/get", false),
        ("manage_api_key", "cluster:admin/xpack/security/api_key/create", true),
        ("manage_own_api_key", "cluster:admin/xpack/security/api_key/create", true),
        ("grant_api_key", "cluster:admin/xpack/security/api_key/grant", true),
        ("manage_token", "cluster:admin/xpack/security/token/create", true),
        ("manage_saml", "cluster:admin/xpack/security/token/refresh", true),
        ("manage_ilm", "cluster:admin/ilm/put", true),
        ("read_ilm", "cluster:admin/ilm/get", true),
        ("read_ilm", "cluster:admin/ilm/put", false),
        ("manage_connector", "cluster:admin/xpack/connector/put", true),
        ("manage_connector", "cluster:admin/xpack/connector/secret/get", false),
        ("cancel_task", "cluster:admin/tasks/cancel", true),
        ("monitor_stats", "cluster:monitor/stats[n]", true),
        ("none", "cluster:monitor/health", false),
        ("manage_data_stream_global_retention", "cluster:admin/data_stream/global_retention/put", false),
        ("cluster:admin/xpack/security/profile/get", PROFILE_GET, true),
        ("cluster:admin/xpack/security/profile/*", PROFILE_ACTIVATE, true),
        ("cluster:*", PROFILE_ACTIVATE, true),
        ("CLUSTER:ADMIN/XPACK/SECURITY/PROFILE/GET", PROFILE_GET, true),
        ("MANAGE_SECURITY", PROFILE_GET, true),
    ];
    for (privilege, action, expected) in table {
        assert_eq!(named(privilege).grants_action(action), *expected, "{privilege} on {action}");
    }
}

#[test]
fn implication_table() {
    let table: &[(&str, &str, bool)] = &[
        ("all", "manage_security", true),
        ("manage_security", "manage_user_profile", true),
        ("manage_security", "read_security", true),
        ("manage_user_profile", "read_security", false),
        ("all", "manage", true),
        ("manage", "manage_security", false),
        ("manage", "monitor", true),
        ("manage", "manage_ilm", true),
        ("monitor", "manage", false),
        ("manage_ilm", "read_ilm", true),
        ("manage_transform", "monitor_transform", true),
        ("all", "manage_own_api_key", false),
        ("manage_api_key", "manage_own_api_key", false),
        ("manage_own_api_key", "manage_own_api_key", true),
        ("manage_own_api_key", "none", false),
        ("monitor", "none", true),
        ("none", "manage_data_stream_global_retention", true),
        ("all", "cluster:admin/xpack/security/profile/get", true),
        ("manage", "cluster:admin/xpack/security/profile/get", false),
        // A raw action privilege is the pattern `<action>*`, which read_security does not cover.
        ("read_security", "cluster:admin/xpack/security/profile/get", false),
        ("cluster:admin/xpack/security/profile/*", "manage_user_profile", true),
    ];
    for (granted, requested, expected) in table {
        assert_eq!(named(granted).implies(&named(requested)), *expected, "{granted} implies {requested}");
    }
}

#[test]
fn names_are_ordered_least_privileged_first() {
    let names: Vec<&str> = cluster_privilege_names().collect();
    assert_eq!(names.len(), DEFINITIONS.len() + 1);
    assert_eq!(
        &names[..4],
        ["manage_own_api_key", "manage_data_stream_global_retention", "monitor_data_stream_global_retention", "none"]
    );
    assert_eq!(names.last(), Some(&"all"));
    let position = |name: &str| names.iter().position(|candidate| *candidate == name).unwrap();
    assert!(position("manage_user_profile") < position("manage_security"));
    assert!(position("read_security") < position("manage_security"));
    assert!(position("monitor") < position("manage"));
    assert!(position("manage_security") < position("all"));
}

#[test]
fn granting_privileges_for_profile_actions() {
    assert_eq!(cluster_privileges_granting(PROFILE_ACTIVATE), ["manage_user_profile", "manage_security", "all"]);
    assert_eq!(cluster_privileges_granting(PROFILE_SET_ENABLED), ["manage_user_profile", "manage_security", "all"]);
    assert_eq!(cluster_privileges_granting(PROFILE_PUT_DATA), ["manage_user_profile", "manage_security", "all"]);
    for action in [PROFILE_GET, PROFILE_SUGGEST, PROFILE_HAS_PRIVILEGES] {
        assert_eq!(
            cluster_privileges_granting(action),
            ["manage_user_profile", "read_security", "manage_security", "all"]
        );
    }
    assert_eq!(cluster_privileges_granting("cluster:monitor/health"), ["monitor", "manage", "all"]);
}

#[test]
fn unknown_privileges_are_rejected_like_elasticsearch() {
    let error = resolve_cluster_privilege("FOO").unwrap_err();
    assert_eq!(error.error_type, "illegal_argument_exception");
    assert!(error.reason.starts_with(
        "unknown cluster privilege [foo]. a privilege must be either one of the predefined cluster privilege names [manage_own_api_key,"
    ));
    assert!(error.reason.ends_with(",all] or a pattern over one of the available cluster actions"));
    assert!(resolve_cluster_privilege("indices:data/read/search").is_err());
    assert!(resolve_cluster_privilege("indices:admin/template/put").is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_wildcard_action_privilege_implies_every_concrete_one(suffix in "[a-z_/]{0,12}") {
        let concrete = named(&format!("cluster:admin/xpack/security/{suffix}"));
        prop_assert!(named("cluster:admin/xpack/security/*").implies(&concrete));
        let covers_delegate_pki = "delegate_pki".starts_with(suffix.as_str());
        prop_assert_eq!(named("manage_security").implies(&concrete), !covers_delegate_pki);
        prop_assert!(named("all").implies(&concrete));
        prop_assert!(!named("manage").implies(&concrete));
    }

    #[test]
    fn implication_agrees_with_grants(left_index in 0usize..72, right_index in 0usize..72, suffix in "[a-z/]{0,8}") {
        let names: Vec<&str> = cluster_privilege_names().collect();
        let left = named(names[left_index % names.len()]);
        let right = named(names[right_index % names.len()]);
        if left.implies(&right) {
            for action in [PROFILE_ACTIVATE, PROFILE_GET, "cluster:monitor/health", "cluster:admin/ilm/get"] {
                let probe = format!("{action}{suffix}");
                if right.grants_action(&probe) {
                    prop_assert!(left.grants_action(&probe), "{} implies {} but not for {}", left.name, right.name, probe);
                }
            }
        }
    }
}
