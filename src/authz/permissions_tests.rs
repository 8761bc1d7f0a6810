use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::authz::builtin::builtin_role;
use crate::authz::privilege::actions::*;

fn role(body: serde_json::Value) -> RoleDescriptor {
    RoleDescriptor::parse("test", &body).unwrap()
}

#[test]
fn cluster_action_grants() {
    let manage = role(json!({"cluster": ["manage"]}));
    let permissions = Permissions::from_roles(&[&manage]);
    assert!(permissions.grants_cluster_action("cluster:monitor/health"));
    assert!(!permissions.grants_cluster_action(PROFILE_ACTIVATE));
    let profile = role(json!({"cluster": ["manage_user_profile"]}));
    let read = role(json!({"cluster": ["read_security"]}));
    assert!(Permissions::from_roles(&[&profile]).grants_cluster_action(PROFILE_SET_ENABLED));
    let readers = Permissions::from_roles(&[&read]);
    assert!(readers.grants_cluster_action(PROFILE_GET));
    assert!(readers.grants_cluster_action(PROFILE_SUGGEST));
    assert!(readers.grants_cluster_action(PROFILE_HAS_PRIVILEGES));
    assert!(!readers.grants_cluster_action(PROFILE_ACTIVATE));
    assert!(!Permissions::from_roles(&[]).grants_cluster_action(PROFILE_GET));
}

#[test]
fn kibana_system_profile_actions() {
    let kibana = builtin_role("kibana_system").unwrap();
    let permissions = Permissions::from_roles(&[kibana]);
    for action in [PROFILE_ACTIVATE, PROFILE_GET, PROFILE_SUGGEST, PROFILE_HAS_PRIVILEGES] {
        assert!(permissions.grants_cluster_action(action), "{action}");
    }
    assert!(!permissions.grants_cluster_action(PROFILE_SET_ENABLED));
    assert!(!permissions.grants_cluster_action(PROFILE_PUT_DATA));
    assert!(permissions.grants_profile_write(&["kibana"]));
    assert!(permissions.grants_profile_write(&["kibana-foo", "kibana"]));
    assert!(!permissions.grants_profile_write(&["kibana", "app1"]));
    assert!(permissions.grants_manage_application_privileges(&["kibana-.kibana"]));
    assert!(!permissions.grants_manage_application_privileges(&[]));
}

#[test]
fn profile_write_needs_one_privilege_covering_all_names() {
    let first = role(json!({"global": {"profile": {"write": {"applications": ["app1"]}}}}));
    let second = role(json!({"global": {"profile": {"write": {"applications": ["/app[0-9]/", "other*"]}}}}));
    let permissions = Permissions::from_roles(&[&first, &second]);
    assert!(permissions.grants_profile_write(&["app1", "app2", "otherwise"]));
    let only_first = Permissions::from_roles(&[&first]);
    assert!(!only_first.grants_profile_write(&["app1", "app2"]));
    assert!(only_first.grants_profile_write(&["app1"]));
}

#[test]
fn run_as_patterns() {
    let runner = role(json!({"run_as": ["jacknich", "svc-*", "/adm[0-9]+/"]}));
    let permissions = Permissions::from_roles(&[&runner]);
    assert!(permissions.grants_run_as("jacknich"));
    assert!(permissions.grants_run_as("svc-backup"));
    assert!(permissions.grants_run_as("adm42"));
    assert!(!permissions.grants_run_as("root"));
    assert!(!Permissions::from_roles(&[]).grants_run_as("jacknich"));
}

#[test]
fn user_privileges_shape() {
    let first = role(json!({
        "cluster": ["monitor", "MANAGE_SECURITY", "cluster:admin/xpack/security/profile/get"],
        "indices": [{"names": ["b", "a"], "privileges": ["write", "read"], "field_security": {"grant": ["f1"]}, "query": "{\"term\":{\"x\":1}}"}],
        "run_as": ["bob"]
    }));
    let second = role(json!({
        "cluster": ["monitor"],
        "indices": [{"names": ["a", "b"], "privileges": ["monitor"]}, {"names": ["x"], "privileges": ["all"], "allow_restricted_indices": true}],
        "global": {"application": {"manage": {"applications": ["kibana-*"]}}},
        "run_as": ["alice"]
    }));
    let rendered = Permissions::from_roles(&[&first, &second]).user_privileges_json();
    let keys: Vec<&String> = rendered.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["cluster", "global", "indices", "applications", "run_as"]);
    assert_eq!(rendered["cluster"], json!(["cluster:admin/xpack/security/profile/get", "manage_security", "monitor"]));
    assert_eq!(rendered["global"], json!([{"application": {"manage": {"applications": ["kibana-*"]}}}]));
    assert_eq!(
        rendered["indices"],
        json!([
            // The second role's entry has neither FLS nor DLS, so the merged group has neither.
            {"names": ["a", "b"], "privileges": ["monitor", "read", "write"], "allow_restricted_indices": false},
            {"names": ["x"], "privileges": ["all"], "allow_restricted_indices": true}
        ])
    );
    let mut run_as: Vec<String> = serde_json::from_value(rendered["run_as"].clone()).unwrap();
    run_as.sort();
    assert_eq!(run_as, ["alice", "bob"]);
}

#[test]
fn field_and_document_level_security_are_listed() {
    let secured = role(json!({
        "indices": [
            {"names": ["a"], "privileges": ["read"], "field_security": {"grant": ["f*"], "except": ["f2"]}, "query": "{\"term\":{\"x\":1}}"},
            {"names": ["a"], "privileges": ["read"], "field_security": {"grant": ["b1"]}, "query": {"match_all": {}}}
        ]
    }));
    let rendered = Permissions::from_roles(&[&secured]).user_privileges_json();
    assert_eq!(
        rendered["indices"],
        json!([{
            "names": ["a"],
            "privileges": ["read"],
            "field_security": [{"grant": ["b1"]}, {"grant": ["f*"], "except": ["f2"]}],
            "query": ["{\"term\":{\"x\":1}}", "{\"match_all\":{}}"],
            "allow_restricted_indices": false
        }])
    );
}

#[test]
fn superuser_privileges() {
    let superuser = builtin_role("superuser").unwrap();
    let rendered = Permissions::from_roles(&[superuser]).user_privileges_json();
    assert_eq!(rendered["cluster"], json!(["all"]));
    assert_eq!(rendered["global"], json!([]));
    assert_eq!(
        rendered["indices"],
        json!([
            {"names": ["*"], "privileges": ["all"], "allow_restricted_indices": false},
            {"names": ["*"], "privileges": ["monitor", "read", "read_cross_cluster", "view_index_metadata"], "allow_restricted_indices": true}
        ])
    );
    assert_eq!(rendered["applications"], json!([{"application": "*", "privileges": ["*"], "resources": ["*"]}]));
    assert_eq!(rendered["run_as"], json!(["*"]));
    assert_eq!(
        rendered["remote_cluster"],
        json!([{"privileges": ["monitor_enrich", "monitor_stats"], "clusters": ["*"]}])
    );
}

#[test]
fn explicit_denial_is_ignored() {
    let denial = role(json!({"indices": [{"names": ["*"], "privileges": ["none"]}]}));
    assert!(Permissions::from_roles(&[&denial]).index_groups.is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn a_wildcard_index_grant_implies_every_concrete_index(suffix in "[a-z0-9-]{0,10}") {
        let granted = role(json!({"indices": [{"names": ["logs-*"], "privileges": ["read"]}]}));
        let permissions = Permissions::from_roles(&[&granted]);
        let name = format!("logs-{suffix}");
        prop_assert!(permissions.grants_index_action(&name, "indices:data/read/search"));
        let check = crate::authz::has_privileges::parse_privileges_to_check(&json!({"index": [{"names": [name], "privileges": ["read"]}]}), "u").unwrap();
        prop_assert!(permissions.check_privileges(&check, &[]).unwrap().has_all_requested);
    }

    #[test]
    fn a_wildcard_cluster_grant_implies_every_concrete_action(suffix in "[a-z_/]{0,10}") {
        let granted = role(json!({"cluster": ["manage_user_profile"]}));
        let permissions = Permissions::from_roles(&[&granted]);
        let action = format!("cluster:admin/xpack/security/profile/{suffix}");
        prop_assert!(permissions.grants_cluster_action(&action));
        let check = crate::authz::has_privileges::parse_privileges_to_check(&json!({"cluster": [action]}), "u").unwrap();
        prop_assert!(permissions.check_privileges(&check, &[]).unwrap().has_all_requested);
    }
}
