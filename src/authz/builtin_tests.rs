use serde_json::json;

use super::*;

#[test]
fn expected_roles_exist_and_are_reserved() {
    for name in [
        "superuser",
        "kibana_system",
        "viewer",
        "editor",
        "kibana_admin",
        "kibana_user",
        "monitoring_user",
        "remote_monitoring_agent",
        "logstash_system",
        "beats_system",
        "apm_system",
        "ingest_admin",
    ] {
        let role = builtin_role(name).unwrap_or_else(|| panic!("missing {name}"));
        assert_eq!(role.metadata.get("_reserved"), Some(&json!(true)), "{name}");
        assert!(role.description.is_some(), "{name}");
    }
    assert!(builtin_role("nope").is_none());
    let names: Vec<&str> = builtin_role_names().collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);
    assert_eq!(builtin_role("kibana_user").unwrap().metadata.get("_deprecated"), Some(&json!(true)));
}

#[test]
fn builtin_roles_are_valid_and_round_trip() {
    for name in builtin_role_names() {
        let role = builtin_role(name).unwrap();
        let messages: Vec<String> = role
            .validation_messages()
            .into_iter()
            .filter(|message| message != "role descriptor metadata keys may not start with [_]")
            .collect();
        assert!(messages.is_empty(), "{name}: {messages:?}");
        let reparsed = RoleDescriptor::parse_body(name, &role.to_json()).unwrap();
        assert_eq!(&reparsed, role, "{name}");
    }
}

#[test]
fn kibana_system_json() {
    let rendered = builtin_role("kibana_system").unwrap().to_json();
    assert_eq!(
        rendered["global"],
        json!({"application": {"manage": {"applications": ["kibana-*"]}}, "profile": {"write": {"applications": ["kibana*"]}}, "role": {}})
    );
    let cluster: Vec<String> = serde_json::from_value(rendered["cluster"].clone()).unwrap();
    assert!(cluster.contains(&"cluster:admin/xpack/security/profile/activate".to_string()));
    assert!(!cluster.iter().any(|privilege| privilege.ends_with("set_enabled")));
    let keys: Vec<&String> = rendered.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "cluster",
            "global",
            "indices",
            "applications",
            "run_as",
            "metadata",
            "transient_metadata",
            "remote_indices",
            "remote_cluster",
            "description"
        ]
    );
}
