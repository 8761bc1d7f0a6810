use serde_json::json;

use super::*;

#[track_caller]
fn parse(body: Value) -> Result<RoleMapping, EsError> {
    RoleMapping::parse_request("mapping1", &body.to_string(), &body)
}

#[track_caller]
fn parse_error(body: Value) -> EsError {
    parse(body).expect_err("invalid")
}

#[test]
fn a_full_mapping_round_trips() {
    let body = json!({
        "roles": ["user", "viewer"],
        "enabled": true,
        "rules": {"any": [{"field": {"username": "joe"}}, {"field": {"groups": ["admins"]}}]},
        "metadata": {"version": 1}
    });
    let mapping = parse(body).expect("valid");
    assert_eq!(
        mapping.to_json(),
        json!({
            "enabled": true,
            "roles": ["user", "viewer"],
            "rules": {"any": [{"field": {"username": "joe"}}, {"field": {"groups": "admins"}}]},
            "metadata": {"version": 1}
        })
    );
    let stored = RoleMapping::from_stored("mapping1", &mapping.to_json()).expect("stored form parses");
    assert_eq!(stored.to_json(), mapping.to_json());
}

#[test]
fn a_single_role_string_and_string_booleans_are_accepted() {
    let mapping =
        parse(json!({"roles": "user", "enabled": "false", "rules": {"field": {"username": "*"}}})).expect("valid");
    assert_eq!(mapping.roles, vec!["user"]);
    assert!(!mapping.enabled);
    assert_eq!(mapping.to_json()["metadata"], json!({}));
}

#[test]
fn missing_fields_are_parsing_exceptions() {
    let error = parse_error(json!({"roles": ["a"], "enabled": true}));
    assert_eq!(error.status, 400);
    assert_eq!(error.error_type, "parsing_exception");
    assert_eq!(error.reason, "failed to parse role-mapping [mapping1]. missing field [rules]");
    assert_eq!(error.metadata["caused_by"]["type"], "illegal_state_exception");
    let body = error.to_body_json();
    assert_eq!(body["error"]["root_cause"][0]["type"], "parsing_exception");
    assert!(body["error"]["root_cause"][0].get("caused_by").is_none());
    assert_eq!(body["error"]["line"], 1);

    let error = parse_error(json!({"rules": {"field": {"username": "*"}}, "enabled": true}));
    assert_eq!(error.reason, "failed to parse role-mapping [mapping1]. missing field [roles]");
    let error = parse_error(json!({"roles": ["a"], "rules": {"field": {"username": "*"}}}));
    assert_eq!(error.reason, "failed to parse role-mapping [mapping1]. missing field [enabled]");
}

#[test]
fn rule_errors_name_the_rules_field_and_carry_the_cause() {
    let body = json!({"roles": ["a"], "enabled": true, "rules": {"foo": {}}});
    let error = parse_error(body);
    assert_eq!(error.error_type, "parsing_exception");
    assert_eq!(error.reason, "[1:39] [role-mapping] failed to parse field [rules]");
    assert_eq!(error.metadata["caused_by"]["type"], "x_content_parse_exception");
    assert_eq!(error.metadata["caused_by"]["caused_by"]["type"], "parse_exception");
    assert_eq!(
        error.metadata["caused_by"]["caused_by"]["reason"],
        "failed to parse rules expression. field [foo] is not recognised in object [mapping1]"
    );
}

#[test]
fn field_type_and_unknown_field_errors() {
    let error = parse_error(json!({"roles": 5}));
    assert_eq!(error.reason, "[1:10] [role-mapping] roles doesn't support values of type: VALUE_NUMBER");
    let error = parse_error(json!({"rules": []}));
    assert_eq!(error.reason, "[1:10] [role-mapping] rules doesn't support values of type: START_ARRAY");
    let error = parse_error(json!({"enabled": null}));
    assert_eq!(error.reason, "[1:12] [role-mapping] enabled doesn't support values of type: VALUE_NULL");
    let error = parse_error(json!({"role": ["a"]}));
    assert_eq!(error.reason, "[1:2] [role-mapping] unknown field [role] did you mean any of [roles, rules]?");
    let error = parse_error(json!({"zzz": 1}));
    assert_eq!(error.reason, "[1:2] [role-mapping] unknown field [zzz]");
    let error = parse_error(json!(["a"]));
    assert_eq!(error.reason, "[1:1] [role-mapping] Expected START_OBJECT but was: START_ARRAY");
}

#[test]
fn validation_follows_put_role_mapping_request() {
    let error = parse_error(json!({"roles": [], "enabled": true, "rules": {"field": {"username": "*"}}}));
    assert_eq!(error.error_type, "action_request_validation_exception");
    assert_eq!(error.reason, "Validation Failed: 1: role-mapping roles or role-templates are missing;");
    let error = parse_error(json!({
        "roles": ["a"], "role_templates": [{"template": {"source": "b"}}], "enabled": true,
        "rules": {"field": {"username": "*"}}, "metadata": {"_x": 1}
    }));
    assert_eq!(
        error.reason,
        "Validation Failed: 1: role-mapping cannot have both roles and role-templates;2: metadata keys may not start with [_];"
    );
}

#[test]
fn mapped_roles_combine_enabled_matching_mappings() {
    let mapping = |roles: Value, enabled: bool, rules: Value| {
        parse(json!({"roles": roles, "enabled": enabled, "rules": rules})).expect("valid")
    };
    let mappings = vec![
        mapping(json!(["b", "a"]), true, json!({"field": {"username": "joe"}})),
        mapping(json!(["c"]), false, json!({"field": {"username": "*"}})),
        mapping(json!(["a", "d"]), true, json!({"field": {"realm.name": "jwt1"}})),
        mapping(json!(["e"]), true, json!({"field": {"username": "other"}})),
    ];
    let user = UserData { username: "joe".into(), realm_name: "jwt1".into(), ..UserData::default() };
    assert_eq!(mapped_roles(&mappings, &user), vec!["a", "b", "d"]);
}

#[test]
fn role_templates_give_roles() {
    let mapping = parse(json!({
        "role_templates": [{"template": {"source": "{{#tojson}}groups{{/tojson}}"}, "format": "json"}],
        "enabled": true,
        "rules": {"field": {"realm.name": "jwt1"}}
    }))
    .expect("valid");
    let user = UserData {
        username: "joe".into(),
        groups: vec!["g1".into()],
        realm_name: "jwt1".into(),
        ..UserData::default()
    };
    assert_eq!(mapped_roles([&mapping], &user), vec!["g1"]);
    let stored = RoleMapping::from_stored("m", &mapping.to_json()).expect("stored form parses");
    assert_eq!(mapped_roles([&stored], &user), vec!["g1"]);
}
