//! The file realm (Elasticsearch's `users`/`users_roles` files, reloaded on change) and anonymous access.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use base64::Engine;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use profiled::app::{bootstrap_elastic_password, AppState};
use profiled::config::{Config, NodeArgs};
use profiled::store::sqlite::SqliteStore;

/// bcrypt (cost 4) of `s3krit-password`, from wire-compat.md §3.
const BCRYPT4_HASH: &str = "$2a$04$Sv6/XOHqatGPW8Q.Df366OdOJ4K2PjkZRXfNwIl5lnCsF7rEmW4QG";
/// PBKDF2 of `s3krit-password` with salt 00..1f, from wire-compat.md §3.
const PBKDF2_HASH: &str =
    "{PBKDF2}10000$AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=$ci1o45bsnUsZdKkZk2qm24GQuWr3drkFwwiELUJQHBQ=";

async fn app_with_config(dir: &std::path::Path, yaml: &str) -> axum::Router {
    let config_path = dir.join("profiled.yml");
    std::fs::write(&config_path, yaml).expect("config");
    let args = NodeArgs { config: Some(config_path), data: Some(dir.join("data")), ..NodeArgs::default() };
    let config = Config::load(&args).expect("valid config");
    let store = Arc::new(SqliteStore::open(&dir.join("data")).expect("store"));
    let state = AppState::new(config, store, false).await.expect("state");
    bootstrap_elastic_password(&state, Some("changeme".into())).await.expect("bootstrap");
    profiled::api::build_router(state)
}

async fn authenticate(router: &axum::Router, credentials: Option<(&str, &str)>) -> (u16, Value) {
    let mut builder = Request::builder().uri("/_security/_authenticate");
    if let Some((user, password)) = credentials {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        builder = builder.header("authorization", format!("Basic {token}"));
    }
    let response = router.clone().oneshot(builder.body(Body::empty()).expect("request")).await.expect("response");
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    (status, serde_json::from_slice(&bytes).expect("json"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_realm_reads_elasticsearch_files_and_reloads_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("users"), format!("# file users\nfred:{BCRYPT4_HASH}\n")).expect("users");
    std::fs::write(dir.path().join("users_roles"), "viewer:fred\nmonitoring_user:fred\n").expect("roles");
    let router = app_with_config(dir.path(), "node.name: n1\n").await;
    let (status, body) = authenticate(&router, Some(("fred", "s3krit-password"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["authentication_realm"], serde_json::json!({"name": "default_file", "type": "file"}));
    assert_eq!(body["roles"], serde_json::json!(["viewer", "monitoring_user"]));
    assert_eq!(authenticate(&router, Some(("fred", "wrong-password"))).await.0, 401);

    // Replace fred by wilma (another ES hash format); the realm reloads within a few seconds.
    std::fs::write(dir.path().join("users"), format!("wilma:{PBKDF2_HASH}\n")).expect("users");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (wilma_status, _) = authenticate(&router, Some(("wilma", "s3krit-password"))).await;
        let (fred_status, _) = authenticate(&router, Some(("fred", "s3krit-password"))).await;
        if wilma_status == 200 && fred_status == 401 {
            break;
        }
        assert!(Instant::now() < deadline, "file realm did not reload (wilma {wilma_status}, fred {fred_status})");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_access_authenticates_requests_without_credentials() {
    let dir = tempfile::tempdir().expect("tempdir");
    let router =
        app_with_config(dir.path(), "xpack.security.authc.anonymous:\n  username: guest\n  roles: [viewer]\n").await;
    let (status, body) = authenticate(&router, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["username"], "guest");
    assert_eq!(body["roles"], serde_json::json!(["viewer"]));
    assert_eq!(body["authentication_realm"], serde_json::json!({"name": "__anonymous", "type": "__anonymous"}));
    assert_eq!(body["authentication_type"], "anonymous");
    // A wrong password does not fall back to anonymous.
    assert_eq!(authenticate(&router, Some(("elastic", "wrong"))).await.0, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_anonymous_access_credentials_are_required() {
    let dir = tempfile::tempdir().expect("tempdir");
    let router = app_with_config(dir.path(), "").await;
    let (status, body) = authenticate(&router, None).await;
    assert_eq!(status, 401);
    assert_eq!(
        body["error"]["reason"],
        "missing authentication credentials for REST request [/_security/_authenticate]"
    );
}
