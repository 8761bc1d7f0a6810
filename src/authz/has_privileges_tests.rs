use serde_json::json;

use crate::authz::application::ApplicationPrivilegeDefinition;
use crate::authz::has_privileges::{parse_privileges_to_check, PrivilegesToCheck};
use crate::authz::permissions::Permissions;
use crate::authz::role::RoleDescriptor;

fn role(body: serde_json::Value) -> RoleDescriptor {
    RoleDescriptor::parse("test", &body).unwrap()
}

fn request(body: serde_json::Value) -> PrivilegesToCheck {
    parse_privileges_to_check(&body, "joe").unwrap()
}

fn has_all(roles: &[&RoleDescriptor], body: serde_json::Value) -> bool {
    Permissions::from_roles(roles).check_privileges(&request(body), &[]).unwrap().has_all_requested
}

/// `user_profile/40_has_privileges.yml`: role1 = all on index1*, read on index2*; role2 the reverse.
#[test]
fn profile_has_privileges_yaml_scenarios() {
    let role1 = role(
        json!({"indices": [{"names": ["index1*"], "privileges": ["all"]}, {"names": ["index2*"], "privileges": ["read"]}]}),
    );
    let role2 = role(
        json!({"indices": [{"names": ["index2*"], "privileges": ["all"]}, {"names": ["index1*"], "privileges": ["read"]}]}),
    );
    let read_both = json!({"index": [{"names": ["index1*", "index2*"], "privileges": ["read"]}]});
    assert!(has_all(&[&role1], read_both.clone()));
    assert!(has_all(&[&role2], read_both));
    let all_both = json!({"index": [{"names": ["index1*", "index2*"], "privileges": ["all", "read"]}]});
    assert!(!has_all(&[&role1], all_both.clone()));
    assert!(!has_all(&[&role2], all_both));
    let mixed = json!({"index": [
        {"names": ["index1*"], "privileges": ["all", "read"]},
        {"names": ["index1*", "index2*"], "privileges": ["read"]}
    ]});
    assert!(has_all(&[&role1], mixed.clone()));
    assert!(!has_all(&[&role2], mixed));
}

#[test]
fn index_pattern_containment() {
    let role1 = role(json!({"indices": [{"names": ["index1*"], "privileges": ["all"]}]}));
    assert!(has_all(&[&role1], json!({"index": [{"names": ["index1-x"], "privileges": ["read"]}]})));
    assert!(has_all(
        &[&role1],
        json!({"index": [{"names": ["index1*"], "privileges": ["write", "indices:data/read/search"]}]})
    ));
    assert!(!has_all(&[&role1], json!({"index": [{"names": ["*"], "privileges": ["read"]}]})));
    assert!(!has_all(&[&role1], json!({"index": [{"names": ["index2"], "privileges": ["read"]}]})));
    let reader = role(json!({"indices": [{"names": ["logs-*"], "privileges": ["read"]}]}));
    assert!(!has_all(&[&reader], json!({"index": [{"names": ["logs-1"], "privileges": ["write"]}]})));
    assert!(has_all(
        &[&reader, &role1],
        json!({"index": [{"names": ["logs-1"], "privileges": ["read"]}, {"names": ["index1"], "privileges": ["manage"]}]})
    ));
}

#[test]
fn restricted_indices_need_the_flag() {
    let everything = role(json!({"indices": [{"names": ["*"], "privileges": ["all"]}]}));
    assert!(has_all(&[&everything], json!({"index": [{"names": ["*"], "privileges": ["read"]}]})));
    assert!(!has_all(
        &[&everything],
        json!({"index": [{"names": ["*"], "privileges": ["read"], "allow_restricted_indices": true}]})
    ));
    assert!(!has_all(&[&everything], json!({"index": [{"names": [".security-7"], "privileges": ["read"]}]})));
    // Entirely inside the restricted namespace: the checked automaton is empty, so not granted.
    assert!(!has_all(&[&everything], json!({"index": [{"names": [".security-*"], "privileges": ["read"]}]})));
    assert!(has_all(&[&everything], json!({"index": [{"names": [".securityx*"], "privileges": ["read"]}]})));
    let restricted =
        role(json!({"indices": [{"names": ["*"], "privileges": ["read"], "allow_restricted_indices": true}]}));
    assert!(has_all(&[&restricted], json!({"index": [{"names": [".security-7"], "privileges": ["read"]}]})));
}

#[test]
fn cluster_privileges_and_errors() {
    let security = role(json!({"cluster": ["manage_security"]}));
    let permissions = Permissions::from_roles(&[&security]);
    let result = permissions
        .check_privileges(&request(json!({"cluster": ["manage_user_profile", "read_security", "manage", "cluster:admin/xpack/security/*"]})), &[])
        .unwrap();
    let granted: std::collections::BTreeMap<&str, bool> =
        result.cluster.iter().map(|(name, granted)| (name.as_str(), *granted)).collect();
    assert!(granted["manage_user_profile"]);
    assert!(granted["read_security"]);
    assert!(!granted["manage"]);
    assert!(!granted["cluster:admin/xpack/security/*"], "delegate_pki is excluded from manage_security");
    assert!(!result.has_all_requested);
    let error = permissions.check_privileges(&request(json!({"cluster": ["foo"]})), &[]).unwrap_err();
    assert_eq!(error.error_type, "illegal_argument_exception");
    assert!(error.reason.starts_with(
        "unknown cluster privilege [foo]. a privilege must be either one of the predefined cluster privilege names ["
    ));
    let index_error = permissions
        .check_privileges(&request(json!({"index": [{"names": ["x"], "privileges": ["bar"]}]})), &[])
        .unwrap_err();
    assert!(index_error.reason.starts_with("unknown index privilege [bar]."));
    let nothing = Permissions::from_roles(&[]);
    assert!(!nothing.check_privileges(&request(json!({"cluster": ["none"]})), &[]).unwrap().has_all_requested);
    let all = role(json!({"cluster": ["all"]}));
    assert!(has_all(&[&all], json!({"cluster": ["none", "manage", "manage_security", "monitor"]})));
    assert!(!has_all(&[&all], json!({"cluster": ["manage_own_api_key"]})), "only manage_own_api_key implies itself");
}

#[test]
fn application_privileges() {
    let viewer =
        role(json!({"applications": [{"application": "kibana-.kibana", "privileges": ["read"], "resources": ["*"]}]}));
    assert!(has_all(
        &[&viewer],
        json!({"application": [{"application": "kibana-.kibana", "privileges": ["read"], "resources": ["space:default"]}]})
    ));
    assert!(!has_all(
        &[&viewer],
        json!({"application": [{"application": "kibana-.kibana", "privileges": ["all"], "resources": ["space:default"]}]})
    ));
    let superuser = role(json!({"applications": [{"application": "*", "privileges": ["*"], "resources": ["*"]}]}));
    assert!(has_all(
        &[&superuser],
        json!({"application": [{"application": "app-1", "privileges": ["read", "data:write/x"], "resources": ["res/1"]}]})
    ));
    let definitions = vec![
        ApplicationPrivilegeDefinition { application: "app-1".into(), name: "all".into(), actions: vec!["*".into()] },
        ApplicationPrivilegeDefinition {
            application: "app-1".into(),
            name: "read".into(),
            actions: vec!["data:read/*".into()],
        },
    ];
    let admin =
        role(json!({"applications": [{"application": "app-*", "privileges": ["all"], "resources": ["res/*"]}]}));
    let permissions = Permissions::from_roles(&[&admin]);
    let check = request(
        json!({"application": [{"application": "app-1", "privileges": ["read", "data:read/x"], "resources": ["res/1", "other"]}]}),
    );
    let result = permissions.check_privileges(&check, &definitions).unwrap();
    assert!(!result.has_all_requested);
    assert_eq!(result.application[0].0, "app-1");
    let resources: Vec<&str> = result.application[0].1.iter().map(|resource| resource.resource.as_str()).collect();
    assert_eq!(resources, ["other", "res/1"]);
    assert!(result.application[0].1[1].privileges.iter().all(|(_, granted)| *granted));
    assert!(result.application[0].1[0].privileges.iter().all(|(_, granted)| !*granted));
}

#[test]
fn response_shape() {
    let role1 = role(
        json!({"cluster": ["monitor"], "indices": [{"names": ["suppliers", "products"], "privileges": ["read"]}]}),
    );
    let result = Permissions::from_roles(&[&role1])
        .check_privileges(
            &request(json!({
                "cluster": ["monitor", "manage"],
                "index": [{"names": ["suppliers", "products"], "privileges": ["read"]}, {"names": ["inventory"], "privileges": ["read", "write"]}],
                "application": [{"application": "inventory_manager", "privileges": ["read", "data:write/inventory"], "resources": ["product/1852563"]}]
            })),
            &[],
        )
        .unwrap();
    let rendered = result.to_json("rdeniro");
    assert_eq!(
        rendered,
        json!({
            "username": "rdeniro",
            "has_all_requested": false,
            "cluster": {"monitor": true, "manage": false},
            "index": {"inventory": {"read": false, "write": false}, "products": {"read": true}, "suppliers": {"read": true}},
            "application": {"inventory_manager": {"product/1852563": {"read": false, "data:write/inventory": false}}}
        })
    );
    let keys: Vec<&String> = rendered.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["username", "has_all_requested", "cluster", "index", "application"]);
    let index_keys: Vec<&String> = rendered["index"].as_object().unwrap().keys().collect();
    assert_eq!(index_keys, ["inventory", "products", "suppliers"]);
}

/// One prepared request checked against several role sets answers as a fresh check of each would,
/// and keeps each role set's application permission for the next check.
#[test]
fn a_prepared_check_is_reusable_across_permissions() {
    use crate::authz::has_privileges_check::PreparedCheck;
    let body = json!({
        "cluster": ["monitor"],
        "index": [{"names": ["logs-*", ".security"], "privileges": ["read"]}],
        "application": [{"application": "kibana-.kibana", "resources": ["space:default"], "privileges": ["login:"]}],
    });
    let to_check = request(body);
    let prepared = PreparedCheck::new(&to_check, &[]).unwrap();
    let roles = [
        role(json!({"cluster": ["monitor"], "indices": [{"names": ["logs-*"], "privileges": ["read"]}]})),
        role(
            json!({"cluster": ["all"], "indices": [{"names": ["*"], "privileges": ["all"], "allow_restricted_indices": true}],
            "applications": [{"application": "kibana-.kibana", "resources": ["*"], "privileges": ["*"]}]}),
        ),
        role(
            json!({"applications": [{"application": "kibana-*", "resources": ["space:*"], "privileges": ["login:", "feature_x.read"]}]}),
        ),
    ];
    for role in &roles {
        let permissions = Permissions::from_roles(&[role]);
        let fresh = Permissions::from_roles(&[role]).check_privileges(&to_check, &[]).unwrap();
        assert_eq!(prepared.evaluate(&permissions), fresh);
        assert_eq!(prepared.evaluate(&permissions), fresh, "the kept application permission answers the same");
    }
    let granted: Vec<bool> =
        roles.iter().map(|role| prepared.evaluate(&Permissions::from_roles(&[role])).has_all_requested).collect();
    assert_eq!(granted, [false, true, false]);
    let unknown = request(json!({"index": [{"names": ["x"], "privileges": ["read", "bar"]}], "cluster": ["monitor"]}));
    assert!(PreparedCheck::new(&unknown, &[]).err().unwrap().reason.starts_with("unknown index privilege [bar]."));
}
