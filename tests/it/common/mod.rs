//! Test fixtures: an in-process app over a temp-dir store, and request helpers.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use base64::Engine;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use profiled::app::{bootstrap_elastic_password, AppState};
use profiled::config::Config;
use profiled::store::sqlite::SqliteStore;

pub(crate) const ELASTIC_PASSWORD: &str = "changeme";
pub(crate) const PASSWORD: &str = "s3krit-password";

/// A running in-process application with its data directory.
pub(crate) struct TestApp {
    pub(crate) router: axum::Router,
    pub(crate) state: AppState,
    _dir: tempfile::TempDir,
}

/// A response: status, headers and JSON body (`Value::Null` when empty).
#[derive(Debug)]
pub(crate) struct TestResponse {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Value,
}

impl TestApp {
    /// Starts an app with a fresh store and the `elastic` password set.
    pub(crate) async fn start() -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = Config::for_test(dir.path());
        let store = Arc::new(SqliteStore::open(dir.path()).expect("store"));
        let state = AppState::new(config, store, true).await.expect("state");
        bootstrap_elastic_password(&state, Some(ELASTIC_PASSWORD.to_string())).await.expect("bootstrap");
        let router = profiled::api::build_router(state.clone());
        TestApp { router, state, _dir: dir }
    }

    /// Wraps an already built state (custom configurations).
    pub(crate) fn from_state(state: AppState, dir: tempfile::TempDir) -> TestApp {
        let router = profiled::api::build_router(state.clone());
        TestApp { router, state, _dir: dir }
    }

    /// Returns the app's store.
    pub(crate) fn state_store(&self) -> Arc<dyn profiled::store::Store> {
        self.state.store()
    }

    /// Sends a request as `user` (password `PASSWORD`, or `ELASTIC_PASSWORD` for elastic).
    pub(crate) async fn call(&self, method: &str, path: &str, user: Option<&str>, body: Option<Value>) -> TestResponse {
        let mut builder = Request::builder().method(Method::from_bytes(method.as_bytes()).expect("method")).uri(path);
        if let Some(user) = user {
            let password = if user == "elastic" { ELASTIC_PASSWORD } else { PASSWORD };
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            builder = builder.header("authorization", format!("Basic {token}"));
        }
        let request = match body {
            Some(body) => {
                let bytes = serde_json::to_vec(&body).expect("json");
                builder
                    .header("content-type", "application/json")
                    .header("content-length", bytes.len())
                    .body(Body::from(bytes))
                    .expect("request")
            }
            None => builder.body(Body::empty()).expect("request"),
        };
        let response = self.router.clone().oneshot(request).await.expect("response");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).expect("json body") };
        TestResponse { status, headers, body }
    }

    /// Sends a request as `elastic` and asserts 200.
    pub(crate) fn admin<'a>(
        &'a self,
        method: &'a str,
        path: &'a str,
        body: Option<Value>,
    ) -> impl std::future::Future<Output = Value> + 'a {
        async move {
            let response = self.call(method, path, Some("elastic"), body).await;
            assert_eq!(response.status, StatusCode::OK, "{method} {path}: {}", response.body);
            response.body
        }
    }

    /// Creates a native user with password `PASSWORD`.
    pub(crate) async fn create_user(
        &self,
        username: &str,
        roles: &[&str],
        full_name: Option<&str>,
        email: Option<&str>,
    ) {
        let mut body = json!({ "password": PASSWORD, "roles": roles });
        if let Some(full_name) = full_name {
            body["full_name"] = json!(full_name);
        }
        if let Some(email) = email {
            body["email"] = json!(email);
        }
        self.admin("PUT", &format!("/_security/user/{username}"), Some(body)).await;
    }

    /// Activates the profile of `username` as elastic; returns the response body.
    pub(crate) async fn activate(&self, username: &str) -> Value {
        self.admin(
            "POST",
            "/_security/profile/_activate",
            Some(json!({ "grant_type": "password", "username": username, "password": PASSWORD })),
        )
        .await
    }
}

/// Asserts an Elasticsearch error envelope.
#[track_caller]
pub(crate) fn assert_es_error(response: &TestResponse, status: u16, error_type: &str, reason: &str) {
    assert_eq!(response.status.as_u16(), status, "{}", response.body);
    assert_eq!(response.body["status"], status, "{}", response.body);
    assert_eq!(response.body["error"]["type"], error_type, "{}", response.body);
    assert_eq!(response.body["error"]["reason"], reason, "{}", response.body);
    if response.body["error"].get("caused_by").is_none() {
        assert_eq!(response.body["error"]["root_cause"][0]["type"], error_type, "{}", response.body);
    }
    assert_eq!(response.headers.get("x-elastic-product").map(|v| v.to_str().unwrap_or("")), Some("Elasticsearch"));
}
