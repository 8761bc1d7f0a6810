use serde_json::json;

use crate::authz::role::RoleDescriptor;

fn parse(body: serde_json::Value) -> RoleDescriptor {
    RoleDescriptor::parse("test", &body).unwrap()
}

fn parse_error(body: serde_json::Value) -> crate::error::EsError {
    RoleDescriptor::parse("test", &body).unwrap_err()
}

#[test]
fn parses_a_full_role_and_renders_it_back() {
    let body = json!({
        "cluster": ["all", "cluster:admin/xpack/security/profile/get"],
        "indices": [
            {"names": "index1", "privileges": ["read"]},
            {"names": ["idx2", "/idx[0-9]+/"], "privileges": ["all"], "allow_restricted_indices": true,
             "field_security": {"grant": ["f1", "f2"], "except": ["f1"]}, "query": {"match": {"title": "foo"}}}
        ],
        "applications": [{"application": "myapp", "privileges": ["admin", "read"], "resources": ["*"]}],
        "global": {"profile": {"write": {"applications": ["kibana*"]}}},
        "run_as": ["other_user"],
        "metadata": {"version": 1},
        "transient_metadata": {"enabled": false},
        "description": "Grants everything."
    });
    let role = parse(body);
    assert_eq!(role.indices[0].names, ["index1"]);
    assert_eq!(role.indices[1].query.as_deref(), Some("{\"match\":{\"title\":\"foo\"}}"));
    assert_eq!(
        role.to_json(),
        json!({
            "cluster": ["all", "cluster:admin/xpack/security/profile/get"],
            "global": {"application": {}, "profile": {"write": {"applications": ["kibana*"]}}, "role": {}},
            "indices": [
                {"names": ["index1"], "privileges": ["read"], "allow_restricted_indices": false},
                {"names": ["idx2", "/idx[0-9]+/"], "privileges": ["all"], "field_security": {"grant": ["f1", "f2"], "except": ["f1"]},
                 "query": "{\"match\":{\"title\":\"foo\"}}", "allow_restricted_indices": true}
            ],
            "applications": [{"application": "myapp", "privileges": ["admin", "read"], "resources": ["*"]}],
            "run_as": ["other_user"],
            "metadata": {"version": 1},
            "transient_metadata": {"enabled": true},
            "description": "Grants everything."
        })
    );
    assert_eq!(parse(json!({"index": [], "cluster": null, "type": "role"})).cluster.len(), 0);
}

#[test]
fn accepts_remote_privileges() {
    let role = parse(json!({
        "remote_indices": [{"names": ["logs-*"], "privileges": ["read"], "clusters": ["eu-*"]}],
        "remote_cluster": [{"privileges": ["monitor_enrich"], "clusters": ["one"]}]
    }));
    let rendered = role.to_json();
    assert_eq!(
        rendered["remote_indices"],
        json!([{"names": ["logs-*"], "privileges": ["read"], "allow_restricted_indices": false, "clusters": ["eu-*"]}])
    );
    assert_eq!(rendered["remote_cluster"], json!([{"privileges": ["monitor_enrich"], "clusters": ["one"]}]));
}

#[test]
fn structural_errors_have_elasticsearch_texts() {
    let cases = [
        (json!({"foo": 1}), "parse_exception", "failed to parse role [test]. unexpected field [foo]"),
        (json!([]), "parse_exception", "failed to parse role [test]. expected an object but found [START_ARRAY] instead"),
        (json!({"transient_metadata": 1}), "parse_exception", "failed to parse role [test]. unexpected field [transient_metadata]"),
        (json!({"restriction": {}}), "parse_exception", "failed to parse role [test]. unexpected field [restriction]"),
        (json!({"metadata": []}), "parse_exception", "expected field [metadata] to be of type object, but found [START_ARRAY] instead"),
        (json!({"cluster": "all"}), "parse_exception", "failed to parse role [test]"),
        (
            json!({"indices": {}}),
            "parse_exception",
            "failed to parse indices privileges for role [test]. expected field [indices] value to be an array, but found [START_OBJECT] instead",
        ),
        (
            json!({"indices": ["x"]}),
            "parse_exception",
            "failed to parse indices privileges for role [test]. expected field [indices] value to be an array of objects, but found an array element of type [VALUE_STRING]",
        ),
        (json!({"indices": [{"privileges": ["read"]}]}), "parse_exception", "failed to parse indices privileges for role [test]. missing required [names] field"),
        (json!({"indices": [{"names": "x"}]}), "parse_exception", "failed to parse indices privileges for role [test]. missing required [privileges] field"),
        (json!({"indices": [{"names": [], "privileges": []}]}), "parse_exception", "failed to parse indices privileges for role [test]. [names] cannot be an empty array"),
        (
            json!({"indices": [{"names": null, "privileges": []}]}),
            "parse_exception",
            "failed to parse indices privileges for role [test]. expected field [names] value to be a string or an array of strings, but found [VALUE_NULL] instead",
        ),
        (json!({"indices": [{"names": "x", "privileges": [], "clusters": []}]}), "parse_exception", "failed to parse indices privileges for role [test]. unexpected field [clusters]"),
        (
            json!({"indices": [{"names": "x", "privileges": [], "field_security": {"except": ["a"]}}]}),
            "parse_exception",
            "failed to parse indices privileges for role [test]. field_security requires grant if except is given",
        ),
        (
            json!({"indices": [{"names": "x", "privileges": [], "field_security": {"grant": ["f1", "f2"], "except": ["f3"]}}]}),
            "parse_exception",
            "failed to parse indices privileges for role [test] - Exceptions for field permissions must be a subset of the granted fields but f3 is not a subset of f1,f2",
        ),
        (
            json!({"remote_indices": [{"names": "x", "privileges": ["read"]}]}),
            "parse_exception",
            "failed to parse remote indices privileges for role [test]. missing required [clusters] field",
        ),
        (
            json!({"remote_cluster": [{"privileges": ["monitor_stats", "read_pipeline"], "clusters": ["*"]}]}),
            "parse_exception",
            "failed to parse remote_cluster for role [test]. [monitor_enrich, monitor_stats] are the only values allowed for [privileges] within [remote_cluster]. Found [monitor_stats, read_pipeline]",
        ),
        (json!({"remote_cluster": [{}]}), "illegal_argument_exception", "remote cluster groups must not be null or empty"),
        (
            json!({"applications": [{"application": "app", "privileges": ["read"]}]}),
            "parse_exception",
            "failed to parse application privileges for role [test]. missing required [resources] field",
        ),
        (json!({"applications": [{"not_supported": true}]}), "x_content_parse_exception", "[application] unknown field [not_supported]"),
        (json!({"applications": [{"application": "myapp", "privileges": [], "resources": ["*"]}]}), "illegal_argument_exception", "application privileges must define at least one privilege"),
    ];
    for (body, error_type, reason) in cases {
        let error = parse_error(body.clone());
        assert_eq!((error.error_type.as_str(), error.reason.as_str()), (error_type, reason), "for {body}");
    }
    let wrapped = parse_error(json!({"cluster": "all"}));
    let cause = wrapped.caused_by.expect("cause");
    assert_eq!(
        cause.reason,
        "could not parse [cluster] field. expected a string array but found [VALUE_STRING] value instead"
    );
    let element = parse_error(json!({"run_as": [1]}));
    assert_eq!(
        element.caused_by.unwrap().reason,
        "could not parse [run_as] field. expected a string array but one of the value in the array is [VALUE_NUMBER]"
    );
}

#[test]
fn put_validation_collects_messages() {
    let error = parse_error(json!({
        "cluster": ["foo"],
        "indices": [{"names": ["Logs"], "privileges": ["bar"]}],
        "applications": [{"application": "a", "privileges": ["bad name"], "resources": ["*"]}],
        "metadata": {"_reserved": true}
    }));
    assert_eq!(error.error_type, "action_request_validation_exception");
    let reason = error.reason;
    assert!(reason.starts_with("Validation Failed: 1: unknown cluster privilege [foo]. a privilege must be either one of the predefined cluster privilege names ["));
    assert!(reason.contains(";2: unknown index privilege [bar]. a privilege must be either one of the predefined fixed indices privileges [all,"));
    assert!(reason.contains(";3: index name must be lowercase [Logs];"));
    assert!(reason.contains(";4: An application name prefix must be at least 3 characters long (found 'a');"));
    assert!(reason.contains(
        ";5: Application privilege names and actions must match the pattern ^\\p{Graph}*$ (found 'bad name');"
    ));
    assert!(reason.ends_with(";6: role descriptor metadata keys may not start with [_];"));
}

#[test]
fn raw_actions_and_regex_names_are_valid() {
    let role = parse(json!({
        "cluster": ["cluster:admin/xpack/security/profile/*", "MANAGE_SECURITY"],
        "indices": [{"names": ["/index[0-9]+/", "logs-*"], "privileges": ["indices:data/read/*", "READ"]}]
    }));
    assert_eq!(role.cluster.len(), 2);
}
