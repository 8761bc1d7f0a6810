//! The user profile APIs through the router (spec §3–§8).

use axum::http::StatusCode;
use serde_json::json;

use crate::common::{assert_es_error, TestApp};

const JACK_UID: &str = "u_79HkWkwmnBH5gqFKwoxggWPjEBOur1zLPXQPEl1VBW0_0";

async fn app_with_jack() -> TestApp {
    let app = TestApp::start().await;
    app.create_user("jacknich", &["admin", "other_role1"], Some("Jack Nicholson"), Some("jacknich@example.com")).await;
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activate_returns_the_documented_profile() {
    let app = app_with_jack().await;
    let profile = app.activate("jacknich").await;
    assert_eq!(profile["uid"], JACK_UID);
    assert_eq!(profile["enabled"], true);
    assert!(profile["last_synchronized"].as_i64().expect("millis") > 1_600_000_000_000);
    assert_eq!(
        profile["user"],
        json!({"username": "jacknich", "roles": ["admin", "other_role1"], "realm_name": "default_native",
               "email": "jacknich@example.com", "full_name": "Jack Nicholson"})
    );
    assert_eq!(profile["labels"], json!({}));
    assert_eq!(profile["data"], json!({}));
    assert_eq!(profile["_doc"], json!({"_primary_term": 1, "_seq_no": 0}));
    let keys: Vec<&String> = profile.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["uid", "enabled", "last_synchronized", "user", "labels", "data", "_doc"]);
    // The activate response equals a following GET (same _doc).
    let got = app.admin("GET", &format!("/_security/profile/{JACK_UID}"), None).await;
    assert_eq!(got["profiles"][0], profile);
    assert!(got.get("errors").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reactivation_keeps_uid_and_writes_nothing_within_grace() {
    let app = app_with_jack().await;
    let first = app.activate("jacknich").await;
    app.admin(
        "PUT",
        &format!("/_security/profile/{JACK_UID}/_data"),
        Some(json!({"labels": {"kibana": {"spaces": "demo"}}, "data": {"app1": {"a": 1}}})),
    )
    .await;
    let second = app.activate("jacknich").await;
    assert_eq!(second["uid"], first["uid"]);
    // Nothing changed in the user, so the stored document (with its data write) is returned untouched.
    assert_eq!(second["_doc"]["_seq_no"], 1);
    assert_eq!(second["last_synchronized"], first["last_synchronized"]);
    assert_eq!(second["labels"], json!({"kibana": {"spaces": "demo"}}));
    assert_eq!(second["data"], json!({}));
    // A changed user is written at once and keeps labels and data.
    app.admin("PUT", "/_security/user/jacknich", Some(json!({"roles": ["viewer"]}))).await;
    let third = app.activate("jacknich").await;
    assert_eq!(third["user"]["roles"], json!(["viewer"]));
    assert_eq!(third["_doc"]["_seq_no"], 2);
    let got = app.admin("GET", &format!("/_security/profile/{JACK_UID}?data=*"), None).await;
    assert_eq!(got["profiles"][0]["data"], json!({"app1": {"a": 1}}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_activations_share_one_uid() {
    let app = std::sync::Arc::new(app_with_jack().await);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let app = std::sync::Arc::clone(&app);
        tasks.push(tokio::spawn(async move {
            app.call(
                "POST",
                "/_security/profile/_activate",
                Some("elastic"),
                Some(json!({"grant_type": "password", "username": "jacknich", "password": crate::common::PASSWORD})),
            )
            .await
        }));
    }
    for task in tasks {
        let response = task.await.expect("join");
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
        assert_eq!(response.body["uid"], JACK_UID);
    }
    let second_uid = JACK_UID.replace("W0_0", "W0_1");
    let body = app.admin("GET", &format!("/_security/profile/{JACK_UID},{second_uid}"), None).await;
    assert_eq!(body["profiles"].as_array().map(Vec::len), Some(1), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_grant_credentials_are_a_401_with_challenge() {
    let app = app_with_jack().await;
    let response = app
        .call(
            "POST",
            "/_security/profile/_activate",
            Some("elastic"),
            Some(json!({"grant_type": "password", "username": "jacknich", "password": "nope"})),
        )
        .await;
    assert_es_error(
        &response,
        401,
        "security_exception",
        "unable to authenticate user [jacknich] for action [cluster:admin/xpack/security/profile/activate]",
    );
    assert_eq!(
        response.headers.get("www-authenticate").map(|v| v.to_str().unwrap_or("")),
        Some("Basic realm=\"security\", charset=\"UTF-8\"")
    );
    let response = app
        .call(
            "POST",
            "/_security/profile/_activate",
            Some("elastic"),
            Some(json!({"grant_type": "access_token", "access_token": "not-a-token"})),
        )
        .await;
    assert_es_error(
        &response,
        401,
        "security_exception",
        "unable to authenticate user [_bearer_token] for action [cluster:admin/xpack/security/profile/activate]",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activate_validation_and_body_errors() {
    let app = app_with_jack().await;
    let response = app
        .call("POST", "/_security/profile/_activate", Some("elastic"), Some(json!({"grant_type": "password"})))
        .await;
    assert_es_error(&response, 400, "action_request_validation_exception", "Validation Failed: 1: [username] is required for grant_type [password];2: [password] is required for grant_type [password];");
    let response = app.call("POST", "/_security/profile/_activate", Some("elastic"), None).await;
    assert_es_error(&response, 400, "parse_exception", "request body is required");
    let response = app
        .call("POST", "/_security/profile/_activate?foo=bar", Some("elastic"), Some(json!({"grant_type": "password"})))
        .await;
    assert_es_error(
        &response,
        400,
        "illegal_argument_exception",
        "request [/_security/profile/_activate] contains unrecognized parameter: [foo]",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_reports_missing_index_then_missing_documents() {
    let app = app_with_jack().await;
    let body = app.admin("GET", "/_security/profile/u_b,u_a", None).await;
    assert_eq!(
        body,
        json!({"profiles": [], "errors": {"count": 2, "details": {
            "u_a": {"type": "exception", "reason": "profile index does not exist"},
            "u_b": {"type": "exception", "reason": "profile index does not exist"}}}})
    );
    app.activate("jacknich").await;
    let body = app.admin("GET", &format!("/_security/profile/zzz,{JACK_UID},aaa,{JACK_UID}"), None).await;
    assert_eq!(body["profiles"].as_array().map(Vec::len), Some(2));
    let detail_keys: Vec<&String> = body["errors"]["details"].as_object().expect("details").keys().collect();
    assert_eq!(detail_keys, ["aaa", "zzz"]);
    assert_eq!(
        body["errors"]["details"]["aaa"],
        json!({"type": "resource_not_found_exception", "reason": "profile document not found"})
    );
    let response = app.call("GET", "/_security/profile/a,,b", Some("elastic"), None).await;
    assert_es_error(
        &response,
        400,
        "action_request_validation_exception",
        "Validation Failed: 1: Profile UID cannot be empty;",
    );
    // GET on the literal activate path is "get profile" for uid `_activate`, as in Elasticsearch.
    let body = app.admin("GET", "/_security/profile/_activate", None).await;
    assert_eq!(body["errors"]["details"]["_activate"]["type"], "resource_not_found_exception");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_data_merges_filters_and_checks_versions() {
    let app = app_with_jack().await;
    let path = format!("/_security/profile/{JACK_UID}/_data");
    let response = app.call("PUT", &path, Some("elastic"), Some(json!({"data": {"a": 1}}))).await;
    assert_es_error(&response, 404, "document_missing_exception", &format!("[profile_{JACK_UID}]: document missing"));
    assert_eq!(response.body["error"]["index"], ".security-profile-8");
    assert_eq!(response.body["error"]["shard"], "0");
    app.activate("jacknich").await;
    app.admin(
        "PUT",
        &path,
        Some(json!({"data": {"app1": {"name": "app1", "type": "app"}}, "labels": {"tags": ["prod", "east"]}})),
    )
    .await;
    app.admin(
        "POST",
        &path,
        Some(json!({"data": {"app1": {"name": "app1_take2", "active": false}, "app2": {"name": "app2"}}})),
    )
    .await;
    let body = app.admin("GET", &format!("/_security/profile/{JACK_UID}?data=app1,app2"), None).await;
    assert_eq!(
        body["profiles"][0]["data"],
        json!({"app1": {"name": "app1_take2", "type": "app", "active": false}, "app2": {"name": "app2"}})
    );
    assert_eq!(body["profiles"][0]["labels"], json!({"tags": ["prod", "east"]}));
    let seq_no = body["profiles"][0]["_doc"]["_seq_no"].as_i64().expect("seq_no");
    let body = app.admin("GET", &format!("/_security/profile/{JACK_UID}?data=app1.type"), None).await;
    assert_eq!(body["profiles"][0]["data"], json!({"app1": {"type": "app"}}));
    // Optimistic concurrency.
    let stale = app
        .call(
            "PUT",
            &format!("{path}?if_seq_no={}&if_primary_term=1", seq_no - 1),
            Some("elastic"),
            Some(json!({"data": {"x": 1}})),
        )
        .await;
    assert_es_error(&stale, 409, "version_conflict_engine_exception", &format!(
        "[profile_{JACK_UID}]: version conflict, required seqNo [{}], primary term [1]. current document has seqNo [{seq_no}] and primary term [1]", seq_no - 1));
    app.admin("PUT", &format!("{path}?if_seq_no={seq_no}&if_primary_term=1"), Some(json!({"data": {"x": 1}}))).await;
    let response =
        app.call("PUT", &format!("{path}?if_primary_term=1"), Some("elastic"), Some(json!({"data": {"x": 1}}))).await;
    assert_es_error(
        &response,
        400,
        "action_request_validation_exception",
        "Validation Failed: 1: ifSeqNo is unassigned, but primary term is [1];",
    );
    let response =
        app.call("PUT", &format!("{path}?if_seq_no=abc"), Some("elastic"), Some(json!({"data": {"x": 1}}))).await;
    assert_es_error(
        &response,
        400,
        "illegal_argument_exception",
        "Failed to parse long parameter [if_seq_no] with value [abc]",
    );
    assert_eq!(response.body["error"]["caused_by"]["type"], "number_format_exception");
    // Validation and refresh values.
    let response = app.call("PUT", &path, Some("elastic"), Some(json!({"data": {"a.b": 1, "_c": 2}}))).await;
    assert_es_error(&response, 400, "action_request_validation_exception", "Validation Failed: 1: application name must not contain dot, but found [a.b];2: application name must not start with underscore, but found [_c];");
    let response = app.call("PUT", &path, Some("elastic"), Some(json!({}))).await;
    assert_es_error(
        &response,
        400,
        "action_request_validation_exception",
        "Validation Failed: 1: update request is empty;",
    );
    let response =
        app.call("PUT", &format!("{path}?refresh=later"), Some("elastic"), Some(json!({"data": {"x": 1}}))).await;
    assert_es_error(&response, 400, "illegal_argument_exception", "Unknown value for refresh: [later].");
    for refresh in ["true", "false", "wait_for", ""] {
        app.admin("PUT", &format!("{path}?refresh={refresh}"), Some(json!({"data": {"x": 2}}))).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enable_and_disable_toggle_and_404() {
    let app = app_with_jack().await;
    let response = app.call("PUT", "/_security/profile/nope/_disable", Some("elastic"), None).await;
    assert_es_error(&response, 404, "document_missing_exception", "[profile_nope]: document missing");
    app.activate("jacknich").await;
    app.admin("PUT", &format!("/_security/profile/{JACK_UID}/_disable"), None).await;
    let body = app.admin("GET", &format!("/_security/profile/{JACK_UID}"), None).await;
    assert_eq!(body["profiles"][0]["enabled"], false);
    app.admin("POST", &format!("/_security/profile/{JACK_UID}/_enable"), None).await;
    let body = app.admin("GET", &format!("/_security/profile/{JACK_UID}"), None).await;
    assert_eq!(body["profiles"][0]["enabled"], true);
    // Activation re-enables a disabled profile.
    app.admin("PUT", &format!("/_security/profile/{JACK_UID}/_disable"), None).await;
    assert_eq!(app.activate("jacknich").await["enabled"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_profile_uid_shows_the_uid_of_activated_users() {
    let app = app_with_jack().await;
    app.create_user("doe", &[], None, None).await;
    app.activate("jacknich").await;
    let body = app.admin("GET", "/_security/user/jacknich,doe?with_profile_uid=true", None).await;
    assert_eq!(body["jacknich"]["profile_uid"], JACK_UID);
    assert!(body["doe"].get("profile_uid").is_none());
    let body = app.admin("GET", "/_security/user/jacknich", None).await;
    assert!(body["jacknich"].get("profile_uid").is_none());
}

/// Plants a profile of `username` from an LDAP realm (not the caller's) with the given uid.
async fn plant_foreign_profile(store: &dyn profiled::store::Store, username: &str, uid: &str) {
    let source = json!({"user_profile": {
        "uid": uid, "enabled": true, "last_synchronized": 1,
        "user": {"username": username, "roles": [], "realm": {"name": "ldap1", "type": "ldap", "node_name": "n"}, "email": null, "full_name": null},
        "labels": {}, "application_data": {}}});
    let key = Some(username.to_string());
    store
        .update(
            profiled::store::Collection::Profiles,
            &format!("profile_{uid}"),
            Box::new(move |_| Ok(profiled::store::Decision::Put { source, key })),
        )
        .await
        .expect("store")
        .expect("decision");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clashing_uids_bump_the_differentiator_up_to_nine() {
    let app = app_with_jack().await;
    let base = JACK_UID.trim_end_matches("_0");
    for differentiator in 0..3 {
        plant_foreign_profile(app.state_store().as_ref(), "jacknich", &format!("{base}_{differentiator}")).await;
    }
    let profile = app.activate("jacknich").await;
    assert_eq!(profile["uid"], format!("{base}_3"));
    // Activating again finds the same profile (username + native realm), not a new one.
    assert_eq!(app.activate("jacknich").await["uid"], format!("{base}_3"));

    let other = TestApp::start().await;
    other.create_user("jacknich", &[], None, None).await;
    for differentiator in 0..=9 {
        plant_foreign_profile(other.state_store().as_ref(), "jacknich", &format!("{base}_{differentiator}")).await;
    }
    let response = other
        .call(
            "POST",
            "/_security/profile/_activate",
            Some("elastic"),
            Some(json!({"grant_type": "password", "username": "jacknich", "password": crate::common::PASSWORD})),
        )
        .await;
    assert_es_error(
        &response,
        500,
        "exception",
        &format!("profile differentiator value is too high for base Uid [{base}]"),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_over_the_size_limit_are_refused_without_partial_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = profiled::config::Config::for_test(dir.path());
    config.profile_max_size = 2_048;
    let store = std::sync::Arc::new(profiled::store::sqlite::SqliteStore::open(dir.path()).expect("store"));
    let state = profiled::app::AppState::new(config, store, false).await.expect("state");
    profiled::app::bootstrap_elastic_password(&state, Some(crate::common::ELASTIC_PASSWORD.into()))
        .await
        .expect("bootstrap");
    let app = TestApp::from_state(state, dir);
    app.create_user("jacknich", &[], None, None).await;
    app.activate("jacknich").await;
    let path = format!("/_security/profile/{JACK_UID}/_data");
    app.admin("PUT", &path, Some(json!({"data": {"app": {"small": "x"}}}))).await;
    let response =
        app.call("PUT", &path, Some("elastic"), Some(json!({"data": {"app": {"big": "y".repeat(4_000)}}}))).await;
    assert_eq!(response.status.as_u16(), 400, "{}", response.body);
    assert_eq!(response.body["error"]["type"], "illegal_argument_exception");
    assert!(response.body["error"]["reason"].as_str().unwrap_or_default().contains("xpack.security.profile.max_size"));
    let body = app.admin("GET", &format!("/_security/profile/{JACK_UID}?data=app"), None).await;
    assert_eq!(
        body["profiles"][0]["data"],
        json!({"app": {"small": "x"}}),
        "nothing of the refused update was written"
    );
}
