//! End-to-end tables: request body in, page of users (or Elasticsearch's error) out.

use serde_json::{json, Value};

use super::{execute_query_user, parse_query_user_request, parse_with_profile_uid};
use crate::error::EsError;

fn user(username: &str, roles: &[&str], full_name: Option<&str>, email: Option<&str>, enabled: bool) -> Value {
    json!({"username": username, "roles": roles, "full_name": full_name, "email": email, "metadata": {}, "enabled": enabled})
}

/// Users in index order (the order of their last write).
fn fixture() -> Vec<Value> {
    vec![
        user(
            "mr-prefix1",
            &["master-of-the-universe", "some-other-role"],
            Some("Prefix1"),
            Some("email@something.com"),
            true,
        ),
        user(
            "mr-prefix2",
            &["master-of-the-world", "some-other-role"],
            Some("Prefix2"),
            Some("email@something.com"),
            true,
        ),
        user("batman-official-user", &["bat-cave-admin"], Some("Batman"), Some("batman@hotmail.com"), true),
        user("jacknich", &["admin", "other_role1"], Some("Jack Nicholson"), Some("jacknich@example.com"), false),
        user("no-roles", &[], None, None, true),
    ]
}

fn run(body: Value) -> Result<(u64, Vec<Value>), EsError> {
    let request = parse_query_user_request(Some(&body))?;
    execute_query_user(&request, fixture())
}

fn usernames(body: Value) -> Vec<String> {
    let (_, users) = run(body.clone()).unwrap_or_else(|error| panic!("{body}: {error}"));
    users.iter().map(|user| user["username"].as_str().unwrap_or_default().to_string()).collect()
}

fn error_of(body: Value) -> EsError {
    run(body.clone()).expect_err(&body.to_string())
}

/// Returns the innermost cause, which is what Elasticsearch reports as `root_cause` in these cases.
fn root(error: &EsError) -> &EsError {
    let mut current = error;
    while let Some(cause) = &current.caused_by {
        current = cause;
    }
    current
}

#[test]
fn no_body_matches_every_user_in_index_order_without_sort_values() {
    let request = parse_query_user_request(None).unwrap();
    let (total, users) = execute_query_user(&request, fixture()).unwrap();
    assert_eq!(total, 5);
    assert_eq!(users.len(), 5);
    assert_eq!(users[0]["username"], "mr-prefix1");
    assert!(users.iter().all(|user| user.get("_sort").is_none()));
    assert_eq!(users[0], fixture()[0]);
}

#[test]
fn query_table() {
    let table: Vec<(Value, Vec<&str>)> = vec![
        (
            json!({"query": {"match_all": {}}}),
            vec!["mr-prefix1", "mr-prefix2", "batman-official-user", "jacknich", "no-roles"],
        ),
        (
            json!({"query": {"prefix": {"roles": "master-of-the"}}, "sort": ["username"]}),
            vec!["mr-prefix1", "mr-prefix2"],
        ),
        (
            json!({"query": {"wildcard": {"username": "mr-prefix*"}}, "sort": ["username"]}),
            vec!["mr-prefix1", "mr-prefix2"],
        ),
        (
            json!({"query": {"terms": {"roles": ["some-other-role"]}}, "sort": ["username"]}),
            vec!["mr-prefix1", "mr-prefix2"],
        ),
        (json!({"query": {"terms": {"roles": []}}}), vec![]),
        (json!({"query": {"term": {"full_name": "batman"}}}), vec!["batman-official-user"]),
        (json!({"query": {"term": {"full_name": "Batman"}}}), vec![]),
        (
            json!({"query": {"term": {"full_name": {"value": "Batman", "case_insensitive": true}}}}),
            vec!["batman-official-user"],
        ),
        (json!({"query": {"term": {"email": "batman@hotmail.com"}}}), vec!["batman-official-user"]),
        (json!({"query": {"term": {"email": "hotmail"}}}), vec!["batman-official-user"]),
        (json!({"query": {"term": {"username": "JACKNICH"}}}), vec![]),
        (json!({"query": {"term": {"enabled": false}}}), vec!["jacknich"]),
        (json!({"query": {"term": {"enabled": "false"}}}), vec!["jacknich"]),
        (
            json!({"query": {"exists": {"field": "full_name"}}}),
            vec!["mr-prefix1", "mr-prefix2", "batman-official-user", "jacknich"],
        ),
        (
            json!({"query": {"exists": {"field": "roles"}}, "sort": ["_doc"]}),
            vec!["mr-prefix1", "mr-prefix2", "batman-official-user", "jacknich"],
        ),
        (
            json!({"query": {"exists": {"field": "enabled"}}}),
            vec!["mr-prefix1", "mr-prefix2", "batman-official-user", "jacknich", "no-roles"],
        ),
        (json!({"query": {"range": {"username": {"gte": "j", "lt": "mr-prefix2"}}}}), vec!["mr-prefix1", "jacknich"]),
        (json!({"query": {"range": {"enabled": {"lt": true}}}}), vec!["jacknich"]),
        (json!({"query": {"ids": {"values": ["user-jacknich", "jacknich"]}}}), vec!["jacknich"]),
        (
            json!({"query": {"prefix": {"username": {"value": "MR-", "case_insensitive": true}}}, "sort": ["username"]}),
            vec!["mr-prefix1", "mr-prefix2"],
        ),
        (json!({"query": {"prefix": {"full_name": "nich"}}}), vec!["jacknich"]),
        (json!({"query": {"match": {"full_name": "JACK smith"}}}), vec!["jacknich"]),
        (json!({"query": {"match": {"full_name": {"query": "jack smith", "operator": "and"}}}}), vec![]),
        (json!({"query": {"match": {"full_name": {"query": "jack smith", "minimum_should_match": "100%"}}}}), vec![]),
        (json!({"query": {"match": {"full_name": {"query": "nicholsen", "fuzziness": "AUTO"}}}}), vec!["jacknich"]),
        (json!({"query": {"match": {"username": "jacknich"}}}), vec!["jacknich"]),
        // The email analyzer also emits `example` and `com`: every `.com` address matches, the exact one first.
        (
            json!({"query": {"match": {"email": "example.com"}}}),
            vec!["jacknich", "mr-prefix1", "mr-prefix2", "batman-official-user"],
        ),
        (
            json!({"query": {"match": {"full_name": {"query": "the", "analyzer": "stop", "zero_terms_query": "all"}}}}),
            vec!["mr-prefix1", "mr-prefix2", "batman-official-user", "jacknich", "no-roles"],
        ),
        (
            json!({"query": {"simple_query_string": {"query": "batman | nicholson"}}, "sort": ["username"]}),
            vec!["batman-official-user", "jacknich"],
        ),
        (json!({"query": {"simple_query_string": {"query": "admin", "fields": ["rol*"]}}}), vec!["jacknich"]),
        (json!({"query": {"simple_query_string": {"query": "admin", "fields": ["nope"]}}}), vec![]),
        (
            json!({"query": {"bool": {}}}),
            vec!["mr-prefix1", "mr-prefix2", "batman-official-user", "jacknich", "no-roles"],
        ),
        (
            json!({"query": {"bool": {"must": [{"wildcard": {"username": "batman-official*"}}, {"term": {"enabled": true}}],
                                  "filter": [{"prefix": {"roles": "bat-cave"}}]}}}),
            vec!["batman-official-user"],
        ),
        (
            json!({"query": {"bool": {"should": [{"term": {"roles": "admin"}}, {"term": {"username": "no-roles"}}]}}, "sort": ["username"]}),
            vec!["jacknich", "no-roles"],
        ),
        (
            json!({"query": {"bool": {"must": [{"term": {"enabled": true}}], "should": [{"term": {"roles": "nope"}}]}}}),
            vec!["mr-prefix1", "mr-prefix2", "batman-official-user", "no-roles"],
        ),
        (
            json!({"query": {"bool": {"must": [{"term": {"enabled": true}}], "should": [{"term": {"roles": "nope"}}], "minimum_should_match": 1}}}),
            vec![],
        ),
        (
            json!({"query": {"bool": {"should": [{"prefix": {"username": "mr"}}, {"term": {"roles": "some-other-role"}}, {"term": {"roles": "master-of-the-world"}}],
                                  "minimum_should_match": "3"}}}),
            vec!["mr-prefix2"],
        ),
        (
            json!({"query": {"bool": {"must_not": [{"prefix": {"username": "mr-"}}]}}}),
            vec!["batman-official-user", "jacknich", "no-roles"],
        ),
        (json!({"query": {"bool": {"must_not": [{"exists": {"field": "email"}}]}}}), vec!["no-roles"]),
    ];
    for (body, expected) in table {
        assert_eq!(usernames(body.clone()), expected, "{body}");
    }
}

#[test]
fn relevance_orders_unsorted_hits() {
    let users = vec![
        user("long", &[], Some("Jack Nicholson Senior The Third"), None, true),
        user("other", &[], Some("Someone Else"), None, true),
        user("short", &[], Some("Jack"), None, true),
        user("both", &[], Some("Jack Nicholson"), None, true),
    ];
    let request =
        parse_query_user_request(Some(&json!({"query": {"match": {"full_name": "jack nicholson"}}}))).unwrap();
    let (total, page) = execute_query_user(&request, users).unwrap();
    assert_eq!(total, 3);
    let order: Vec<&str> = page.iter().map(|user| user["username"].as_str().unwrap_or_default()).collect();
    assert_eq!(order, vec!["both", "long", "short"]);
}

#[test]
fn sort_values_and_orders() {
    let (_, page) = run(json!({"sort": [{"username": {"order": "desc"}}], "size": 2})).unwrap();
    assert_eq!(page[0]["username"], "no-roles");
    assert_eq!(page[0]["_sort"], json!(["no-roles"]));
    assert_eq!(page[1]["_sort"], json!(["mr-prefix2"]));

    let (_, page) = run(json!({"sort": [{"roles": {"order": "asc"}}]})).unwrap();
    let sort_values: Vec<Value> = page.iter().map(|user| user["_sort"][0].clone()).collect();
    assert_eq!(
        sort_values,
        vec![
            json!("admin"),
            json!("bat-cave-admin"),
            json!("master-of-the-universe"),
            json!("master-of-the-world"),
            Value::Null
        ]
    );

    let (_, page) = run(json!({"sort": [{"roles": {"order": "desc"}}], "size": 1})).unwrap();
    assert_eq!(page[0]["_sort"], json!(["some-other-role"]));
    assert_eq!(page[0]["username"], "mr-prefix1");

    let (_, page) = run(json!({"sort": ["enabled", "username"], "size": 2})).unwrap();
    assert_eq!(page[0]["_sort"], json!([0, "jacknich"]));
    assert_eq!(page[1]["_sort"], json!([1, "batman-official-user"]));

    let (_, page) = run(json!({"sort": [{"_doc": {"order": "desc"}}], "size": 1})).unwrap();
    assert_eq!(page[0]["_sort"], json!([4]));

    let (_, page) = run(json!({"sort": [{"roles": {"missing": "_first"}}], "size": 1})).unwrap();
    assert_eq!(page[0]["username"], "no-roles");
    assert_eq!(page[0]["_sort"], json!([null]));

    let (_, page) = run(json!({"sort": []})).unwrap();
    assert!(page[0].get("_sort").is_none());
}

#[test]
fn pagination_with_search_after_keeps_the_total() {
    let mut collected = Vec::new();
    let (total, first_page) = run(json!({"size": 2, "sort": ["username"]})).unwrap();
    assert_eq!(total, 5);
    collected.extend(first_page);
    loop {
        let last_sort = collected.last().map(|user| user["_sort"].clone()).unwrap_or_default();
        let (page_total, page) = run(json!({"size": 2, "sort": ["username"], "search_after": last_sort})).unwrap();
        assert_eq!(page_total, 5);
        if page.is_empty() {
            break;
        }
        collected.extend(page);
    }
    let order: Vec<&str> = collected.iter().map(|user| user["username"].as_str().unwrap_or_default()).collect();
    assert_eq!(order, vec!["batman-official-user", "jacknich", "mr-prefix1", "mr-prefix2", "no-roles"]);

    assert_eq!(usernames(json!({"from": 3, "size": 5, "sort": ["username"]})), vec!["mr-prefix2", "no-roles"]);
    let (total, page) = run(json!({"size": 0})).unwrap();
    assert_eq!((total, page.len()), (5, 0));
}

#[test]
fn translation_error_table() {
    let table: Vec<(Value, &str)> = vec![
        (
            json!({"query": {"prefix": {"not_allowed": "ABC"}}}),
            "Field [not_allowed] is not allowed for querying or aggregation",
        ),
        (json!({"query": {"term": {"type": "user"}}}), "Field [type] is not allowed for querying or aggregation"),
        (json!({"query": {"term": {"password": "x"}}}), "Field [password] is not allowed for querying or aggregation"),
        (
            json!({"query": {"exists": {"field": "metadata"}}}),
            "Field [metadata] is not allowed for querying or aggregation",
        ),
        (json!({"query": {"term": {"_id": "user-x"}}}), "Field [_id] is not allowed for querying or aggregation"),
        (
            json!({"query": {"exists": {"field": "user*"}}}),
            "Field name pattern [user*] is not allowed for querying or aggregation",
        ),
        (
            json!({"query": {"span_term": {"username": "X"}}}),
            "Query type [span_term] is not currently supported in this context",
        ),
        (
            json!({"query": {"fuzzy": {"username": "X"}}}),
            "Query type [fuzzy] is not currently supported in this context",
        ),
        (
            json!({"query": {"match_phrase": {"full_name": "x"}}}),
            "Query type [match_phrase] is not currently supported in this context",
        ),
        (
            json!({"query": {"terms": {"roles": {"index": "i", "id": "1", "path": "p"}}}}),
            "terms query with terms lookup is not currently supported in this context",
        ),
        (
            json!({"query": {"range": {"username": {"gte": "a", "relation": "within"}}}}),
            "range query with relation is not currently supported in this context",
        ),
        (json!({"sort": ["full_name"]}), "sorting is not supported for field [full_name]"),
        (json!({"sort": ["invalid"]}), "Field [invalid] is not allowed for querying or aggregation"),
    ];
    for (body, reason) in table {
        let error = error_of(body.clone());
        assert_eq!((error.status, error.error_type.as_str()), (400, "illegal_argument_exception"), "{body}");
        assert_eq!(error.reason, reason, "{body}");
    }
}

#[test]
fn shard_failure_table() {
    let table: Vec<(Value, &str, &str)> = vec![
        (json!({"query": {"term": {"enabled": "yes"}}}), "query_shard_exception",
            "failed to create query: Can't parse boolean value [yes], expected [true] or [false]"),
        (json!({"query": {"wildcard": {"enabled": "t*"}}}), "query_shard_exception",
            "Can only use wildcard queries on keyword, text and wildcard fields - not on [enabled] which is of type [boolean]"),
        (json!({"query": {"match": {"full_name": {"query": "x", "analyzer": "nope"}}}}), "query_shard_exception",
            "[match] analyzer [nope] not found"),
        (json!({"search_after": ["a"]}), "illegal_argument_exception", "Sort must contain at least one field."),
        (json!({"sort": ["username"], "search_after": ["a", "b"]}), "illegal_argument_exception", "search_after has 2 value(s) but sort has 1."),
        (json!({"from": 9995, "size": 10}), "illegal_argument_exception",
            "Result window is too large, from + size must be less than or equal to: [10000] but was [10005]. See the scroll api for a more efficient way to request large data sets. This limit can be set by changing the [index.max_result_window] index level setting."),
        (json!({"sort": [{"roles": {"mode": "avg"}}]}), "query_shard_exception", "we only support AVG, MEDIAN and SUM on number based fields"),
    ];
    for (body, root_type, root_reason) in table {
        let error = error_of(body.clone());
        assert_eq!(error.error_type, "search_phase_execution_exception", "{body}");
        assert_eq!(error.reason, "all shards failed", "{body}");
        assert_eq!(error.status, 400, "{body}");
        let rendered = error.to_body_json();
        assert_eq!(rendered["error"]["root_cause"][0]["type"], root_type, "{body}");
        assert_eq!(rendered["error"]["root_cause"][0]["reason"], root_reason, "{body}");
        assert_eq!(rendered["error"]["failed_shards"][0]["reason"]["reason"], root_reason, "{body}");
    }
}

#[test]
fn validation_errors() {
    let error = error_of(json!({"from": -1}));
    assert_eq!(error.error_type, "action_request_validation_exception");
    assert_eq!(error.reason, "Validation Failed: 1: [from] parameter cannot be negative but was [-1];");
    let error = error_of(json!({"from": 1, "sort": ["username"], "search_after": ["a"]}));
    assert_eq!(error.reason, "Validation Failed: 1: [from] parameter must be set to 0 when [search_after] is used;");
}

#[test]
fn parse_errors_are_wrapped_by_the_payload_parser() {
    let error = error_of(json!({"query": {"bool": {"must": [{"term": {"username": {"valu": "x"}}}]}}}));
    assert_eq!(error.error_type, "x_content_parse_exception");
    assert_eq!(error.reason, "[1:2] [query_user_request_payload] failed to parse field [query]");
    assert_eq!(root(&error).error_type, "parsing_exception");
    assert_eq!(root(&error).reason, "[term] query does not support [valu]");

    let error = error_of(json!({"size": 1, "quer": {}}));
    assert_eq!(error.reason, "[1:2] [query_user_request_payload] unknown field [quer] did you mean [query]?");
}

#[test]
fn profile_uid_follows_sort_values() {
    let users = vec![json!({"username": "a", "roles": [], "full_name": null, "email": null, "metadata": {},
                            "enabled": true, "profile_uid": "u_a_0"})];
    let request = parse_query_user_request(Some(&json!({"sort": ["username"]}))).unwrap();
    let (_, page) = execute_query_user(&request, users).unwrap();
    let keys: Vec<&String> = page[0].as_object().unwrap().keys().collect();
    assert_eq!(keys, vec!["username", "roles", "full_name", "email", "metadata", "enabled", "_sort", "profile_uid"]);
}

#[test]
fn with_profile_uid_parameter() {
    assert!(!parse_with_profile_uid(None).unwrap());
    assert!(parse_with_profile_uid(Some("")).unwrap());
    assert!(parse_with_profile_uid(Some("true")).unwrap());
    assert!(!parse_with_profile_uid(Some("false")).unwrap());
    assert_eq!(
        parse_with_profile_uid(Some("yes")).unwrap_err().reason,
        "Failed to parse value [yes] as only [true] or [false] are allowed."
    );
}

#[test]
fn empty_user_list_still_reports_shard_errors() {
    let request = parse_query_user_request(Some(&json!({"from": 10000}))).unwrap();
    assert!(execute_query_user(&request, Vec::new()).is_err());
    let request = parse_query_user_request(Some(&json!({}))).unwrap();
    assert_eq!(execute_query_user(&request, Vec::new()).unwrap(), (0, Vec::new()));
}

#[test]
fn translation_happens_when_the_request_runs() {
    let request = parse_query_user_request(Some(&json!({"query": {"term": {"password": "x"}}}))).unwrap();
    let error = execute_query_user(&request, Vec::new()).unwrap_err();
    assert_eq!(error.reason, "Field [password] is not allowed for querying or aggregation");
    let error = parse_query_user_request(Some(&json!({"query": {"term": {"password": "x"}}, "size": -1}))).unwrap_err();
    assert_eq!(error.error_type, "action_request_validation_exception");
}
