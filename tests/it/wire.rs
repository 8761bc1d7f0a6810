//! Elasticsearch wire conventions through the router.

use serde_json::json;

use crate::common::{assert_es_error, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_the_product_header() {
    let app = TestApp::start().await;
    for (method, path, user) in [
        ("GET", "/", Some("elastic")),
        ("GET", "/_security/_authenticate", None),
        ("GET", "/_nope", Some("elastic")),
        ("DELETE", "/_security/_authenticate", Some("elastic")),
        ("GET", "/_security/user/nobody", Some("elastic")),
    ] {
        let response = app.call(method, path, user, None).await;
        assert_eq!(
            response.headers.get("x-elastic-product").map(|v| v.to_str().unwrap_or("")),
            Some("Elasticsearch"),
            "{method} {path}"
        );
        assert_eq!(response.headers.get("content-type").map(|v| v.to_str().unwrap_or("")), Some("application/json"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_comes_before_routing() {
    let app = TestApp::start().await;
    let response = app.call("GET", "/_nope?x=1", None, None).await;
    assert_es_error(
        &response,
        401,
        "security_exception",
        "missing authentication credentials for REST request [/_nope?x=1]",
    );
    let response = app.call("GET", "/_security/_authenticate", Some("ghost"), None).await;
    assert_es_error(
        &response,
        401,
        "security_exception",
        "unable to authenticate user [ghost] for REST request [/_security/_authenticate]",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_errors_use_the_flat_form() {
    let app = TestApp::start().await;
    let response = app.call("GET", "/_nope", Some("elastic"), None).await;
    assert_eq!(response.body, json!({"error": "no handler found for uri [/_nope] and method [GET]", "status": 400}));
    let response = app.call("DELETE", "/_security/profile/u_1/_enable", Some("elastic"), None).await;
    assert_eq!(response.status.as_u16(), 405);
    assert_eq!(
        response.body,
        json!({"error": "Incorrect HTTP method for uri [/_security/profile/u_1/_enable] and method [DELETE], allowed: [PUT, POST]", "status": 405})
    );
    assert_eq!(response.headers.get("allow").map(|v| v.to_str().unwrap_or("")), Some("PUT,POST"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pretty_and_filter_path_apply_to_any_response() {
    let app = TestApp::start().await;
    let response = app
        .call("GET", "/_security/_authenticate?filter_path=username,authentication_realm.name", Some("elastic"), None)
        .await;
    assert_eq!(response.body, json!({"username": "elastic", "authentication_realm": {"name": "reserved"}}));
    let response = app.call("GET", "/?pretty", Some("elastic"), None).await;
    assert_eq!(response.body["tagline"], "You Know, for Search");
}
