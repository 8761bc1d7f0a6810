//! The token service through the router: `POST|DELETE /_security/oauth2/token` and `Authorization: Bearer`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use base64::Engine;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use profiled::app::{bootstrap_elastic_password, AppState};
use profiled::config::{AnonymousConfig, Config};
use profiled::store::sqlite::SqliteStore;
use profiled::store::{Collection, Decision, Store};

use crate::common::{assert_es_error, TestApp, TestResponse, ELASTIC_PASSWORD, PASSWORD};

const TOKEN_PATH: &str = "/_security/oauth2/token";
const EXPIRED_CHALLENGE: &str =
    "Bearer realm=\"security\", error=\"invalid_token\", error_description=\"The access token expired\"";

/// How a request authenticates.
#[derive(Clone, Copy)]
enum Caller<'a> {
    Basic(&'a str),
    Bearer(&'a str),
    Nobody,
}

/// Sends a request through `router`; `Basic(user)` uses `PASSWORD` (`ELASTIC_PASSWORD` for elastic).
async fn send(
    router: &axum::Router,
    method: &str,
    path: &str,
    caller: Caller<'_>,
    body: Option<Value>,
) -> TestResponse {
    let mut builder = Request::builder().method(Method::from_bytes(method.as_bytes()).expect("method")).uri(path);
    match caller {
        Caller::Basic(user) => {
            let password = if user == "elastic" { ELASTIC_PASSWORD } else { PASSWORD };
            let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            builder = builder.header("authorization", format!("Basic {encoded}"));
        }
        Caller::Bearer(token) => builder = builder.header("authorization", format!("Bearer {token}")),
        Caller::Nobody => {}
    }
    let request = match body {
        Some(body) => {
            let bytes = serde_json::to_vec(&body).expect("json");
            builder.header("content-type", "application/json").body(Body::from(bytes)).expect("request")
        }
        None => builder.body(Body::empty()).expect("request"),
    };
    let response = router.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).expect("json body") };
    TestResponse { status, headers, body }
}

/// An app whose config and store the test controls (token timeout, anonymous access, restarts).
struct CustomApp {
    router: axum::Router,
    store: Arc<SqliteStore>,
}

impl CustomApp {
    async fn start(dir: &Path, configure: impl FnOnce(&mut Config)) -> CustomApp {
        let mut config = Config::for_test(dir);
        configure(&mut config);
        let store = Arc::new(SqliteStore::open(dir).expect("store"));
        let state = AppState::new(config, Arc::clone(&store) as Arc<dyn Store>, false).await.expect("state");
        bootstrap_elastic_password(&state, Some(ELASTIC_PASSWORD.to_string())).await.expect("bootstrap");
        CustomApp { router: profiled::api::build_router(state), store }
    }

    async fn stop(self) {
        self.store.close().await;
    }

    async fn send(&self, method: &str, path: &str, caller: Caller<'_>, body: Option<Value>) -> TestResponse {
        send(&self.router, method, path, caller, body).await
    }

    async fn create_user(&self, username: &str, roles: &[&str]) {
        let response = self
            .send(
                "PUT",
                &format!("/_security/user/{username}"),
                Caller::Basic("elastic"),
                Some(json!({"password": PASSWORD, "roles": roles})),
            )
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    }
}

fn password_grant(username: &str) -> Value {
    json!({"grant_type": "password", "username": username, "password": PASSWORD})
}

/// Asserts a 200 token response and returns `(access_token, refresh_token)`.
#[track_caller]
fn tokens_of(response: &TestResponse) -> (String, Option<String>) {
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["type"], "Bearer");
    let access_token = response.body["access_token"].as_str().expect("access_token").to_string();
    (access_token, response.body["refresh_token"].as_str().map(str::to_string))
}

#[track_caller]
fn assert_oauth2_error(response: &TestResponse, error: &str, description: &str) {
    assert_eq!(response.status, StatusCode::BAD_REQUEST, "{}", response.body);
    assert_eq!(response.body, json!({"error": error, "error_description": description}));
}

#[track_caller]
fn assert_token_expired(response: &TestResponse) {
    assert_es_error(response, 401, "security_exception", "token expired");
    let challenges: Vec<&str> =
        response.headers.get_all("www-authenticate").iter().filter_map(|value| value.to_str().ok()).collect();
    assert_eq!(challenges, [EXPIRED_CHALLENGE]);
}

fn invalidation(invalidated: u64, previously_invalidated: u64) -> Value {
    json!({"invalidated_tokens": invalidated, "previously_invalidated_tokens": previously_invalidated, "error_count": 0})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_grant_token_authenticates_as_the_user() {
    let app = TestApp::start().await;
    app.create_user("jacknich", &["viewer"], Some("Jack Nicholson"), Some("jacknich@example.com")).await;
    let response = app.call("POST", TOKEN_PATH, Some("elastic"), Some(password_grant("jacknich"))).await;
    let (access_token, refresh_token) = tokens_of(&response);
    assert!(refresh_token.is_some());
    let keys: Vec<&String> = response.body.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["access_token", "type", "expires_in", "refresh_token", "authentication"]);
    assert_eq!(response.body["expires_in"], 1200);
    // The grant's authentication, as `_authenticate` shows it for the user's own password.
    let by_password = app.call("GET", "/_security/_authenticate", Some("jacknich"), None).await;
    assert_eq!(response.body["authentication"], by_password.body);
    assert_eq!(response.body["authentication"]["authentication_type"], "realm");

    let by_token = send(&app.router, "GET", "/_security/_authenticate", Caller::Bearer(&access_token), None).await;
    assert_eq!(by_token.status, StatusCode::OK, "{}", by_token.body);
    let mut expected = by_password.body.clone();
    expected["authentication_type"] = json!("token");
    assert_eq!(by_token.body, expected);
    assert_eq!(by_token.body["authentication_realm"], json!({"name": "default_native", "type": "native"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_grant_issues_no_refresh_token() {
    let app = TestApp::start().await;
    let response = app
        .call(
            "POST",
            TOKEN_PATH,
            Some("elastic"),
            Some(json!({"grant_type": "client_credentials", "scope": "anything"})),
        )
        .await;
    let (access_token, refresh_token) = tokens_of(&response);
    assert_eq!(refresh_token, None);
    assert_eq!(response.body["scope"], "full");
    let keys: Vec<&String> = response.body.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["access_token", "type", "expires_in", "scope", "authentication"]);
    assert_eq!(response.body["authentication"]["username"], "elastic");
    let me = send(&app.router, "GET", "/_security/_authenticate", Caller::Bearer(&access_token), None).await;
    assert_eq!(
        (me.body["username"].clone(), me.body["authentication_type"].clone()),
        (json!("elastic"), json!("token"))
    );
    assert_eq!(me.body["authentication_realm"], json!({"name": "reserved", "type": "reserved"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_request_errors_match_elasticsearch() {
    let app = TestApp::start().await;
    app.create_user("jacknich", &["viewer"], None, None).await;
    let call = |body: Value| app.call("POST", TOKEN_PATH, Some("elastic"), Some(body));

    let missing = call(json!({"grant_type": "password", "password": PASSWORD})).await;
    assert_oauth2_error(&missing, "invalid_request", "Validation Failed: 1: username is missing;");
    assert_eq!(
        missing.headers.get("x-elastic-product").map(|value| value.to_str().unwrap_or("")),
        Some("Elasticsearch")
    );
    let unsupported = call(json!({"grant_type": "authorization_code"})).await;
    assert_oauth2_error(
        &unsupported,
        "unsupported_grant_type",
        "Validation Failed: 1: grant_type only supports the values: [password, _kerberos, refresh_token, client_credentials];",
    );
    let mixed = call(json!({"grant_type": "refresh_token", "username": "u", "password": "p"})).await;
    assert_oauth2_error(
        &mixed,
        "unsupported_grant_type",
        "Validation Failed: 1: username is not supported with the refresh_token grant_type;2: password is not supported with the refresh_token grant_type;3: refresh_token is missing;",
    );

    let wrong_password = call(json!({"grant_type": "password", "username": "jacknich", "password": "nope-nope"})).await;
    assert_es_error(
        &wrong_password,
        401,
        "security_exception",
        "unable to authenticate user [jacknich] for action [cluster:admin/xpack/security/token/create]",
    );
    assert_eq!(wrong_password.headers.get_all("www-authenticate").iter().count(), 3);

    let unknown_field = call(json!({"grant_type": "password", "usernme": "jacknich"})).await;
    assert_es_error(
        &unknown_field,
        400,
        "x_content_parse_exception",
        "[1:2] [token_request] unknown field [usernme] did you mean [username]?",
    );
    let no_body = app.call("POST", TOKEN_PATH, Some("elastic"), None).await;
    assert_es_error(&no_body, 400, "parse_exception", "request body is required");
    let unknown_parameter = app
        .call(
            "POST",
            &format!("{TOKEN_PATH}?foo=1"),
            Some("elastic"),
            Some(json!({"grant_type": "client_credentials"})),
        )
        .await;
    assert_es_error(
        &unknown_parameter,
        400,
        "illegal_argument_exception",
        "request [/_security/oauth2/token] contains unrecognized parameter: [foo]",
    );

    let kerberos = call(json!({"grant_type": "_kerberos", "kerberos_ticket": "dGVzdA=="})).await;
    assert_es_error(
        &kerberos,
        401,
        "security_exception",
        "unable to authenticate user [<Kerberos Token>] for action [cluster:admin/xpack/security/token/create]",
    );
    let garbage_ticket = call(json!({"grant_type": "_kerberos", "kerberos_ticket": "not base64!"})).await;
    assert_eq!(garbage_ticket.status.as_u16(), 500, "{}", garbage_ticket.body);
    assert_eq!(
        garbage_ticket.body,
        json!({"error": {"root_cause": [{"type": "unsupported_operation_exception", "reason": "could not decode base64 kerberos ticket not base64!"}],
                         "type": "unsupported_operation_exception", "reason": "could not decode base64 kerberos ticket not base64!",
                         "caused_by": {"type": "illegal_argument_exception", "reason": "Illegal base64 character 20"}},
               "status": 500})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_tokens_are_single_use_with_a_30_second_grace() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = CustomApp::start(dir.path(), |_| {}).await;
    app.create_user("jacknich", &["superuser"]).await;
    let created = app.send("POST", TOKEN_PATH, Caller::Basic("elastic"), Some(password_grant("jacknich"))).await;
    let (first_access, first_refresh) = tokens_of(&created);
    let first_refresh = first_refresh.expect("refresh token");
    let refresh_body = json!({"grant_type": "refresh_token", "refresh_token": first_refresh});

    let refreshed = app.send("POST", TOKEN_PATH, Caller::Basic("elastic"), Some(refresh_body.clone())).await;
    let (second_access, second_refresh) = tokens_of(&refreshed);
    assert_ne!(second_access, first_access);
    assert_ne!(second_refresh.as_deref(), Some(first_refresh.as_str()));
    let keys: Vec<&String> = refreshed.body.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["access_token", "type", "expires_in", "refresh_token", "authentication"]);
    assert_eq!(refreshed.body["authentication"]["username"], "jacknich");
    assert_eq!(refreshed.body["authentication"]["authentication_type"], "token");
    // Within 30 seconds the same refresh token gives the same pair (concurrent refreshes).
    let repeated = app.send("POST", TOKEN_PATH, Caller::Basic("elastic"), Some(refresh_body.clone())).await;
    assert_eq!(tokens_of(&repeated), (second_access.clone(), second_refresh.clone()));
    let me = app.send("GET", "/_security/_authenticate", Caller::Bearer(&second_access), None).await;
    assert_eq!(me.body["username"], "jacknich", "{}", me.body);

    // Refresh tokens belong to the client that created them.
    let other_client = app
        .send(
            "POST",
            TOKEN_PATH,
            Caller::Basic("jacknich"),
            Some(json!({"grant_type": "refresh_token", "refresh_token": second_refresh})),
        )
        .await;
    assert_oauth2_error(&other_client, "invalid_grant", "tokens must be refreshed by the creating client");

    // Later than 30 seconds after the first refresh, the old refresh token is refused.
    let stored = app.store.list(Collection::Tokens).await.expect("list");
    let refreshed_doc =
        stored.iter().find(|doc| doc.source["refresh_token"]["refreshed"] == true).expect("refreshed document");
    let mut source = refreshed_doc.source.clone();
    source["refresh_token"]["refresh_time"] =
        json!(source["refresh_token"]["refresh_time"].as_i64().expect("time") - 50_000);
    app.store
        .update(
            Collection::Tokens,
            &refreshed_doc.id,
            Box::new(move |_| Ok(Decision::Put { source, key: Some("jacknich".into()) })),
        )
        .await
        .expect("store")
        .expect("update");
    let too_late = app.send("POST", TOKEN_PATH, Caller::Basic("elastic"), Some(refresh_body)).await;
    assert_oauth2_error(
        &too_late,
        "invalid_grant",
        "token has already been refreshed more than 30 seconds in the past",
    );

    let garbage = app
        .send(
            "POST",
            TOKEN_PATH,
            Caller::Basic("elastic"),
            Some(json!({"grant_type": "refresh_token", "refresh_token": "foo"})),
        )
        .await;
    assert_oauth2_error(&garbage, "invalid_grant", "could not refresh the requested token");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalidation_takes_effect_immediately() {
    let app = TestApp::start().await;
    app.create_user("jacknich", &["viewer"], None, None).await;
    let bearer_me = |token: String| {
        let router = app.router.clone();
        async move { send(&router, "GET", "/_security/_authenticate", Caller::Bearer(&token), None).await }
    };
    let invalidate = |body: Value| app.call("DELETE", TOKEN_PATH, Some("elastic"), Some(body));

    let (access_token, refresh_token) =
        tokens_of(&app.call("POST", TOKEN_PATH, Some("elastic"), Some(password_grant("jacknich"))).await);
    let refresh_token = refresh_token.expect("refresh token");
    assert_eq!(bearer_me(access_token.clone()).await.status, StatusCode::OK);
    let first = invalidate(json!({"token": access_token})).await;
    assert_eq!((first.status, first.body.clone()), (StatusCode::OK, invalidation(1, 0)));
    assert_token_expired(&bearer_me(access_token.clone()).await);
    let again = invalidate(json!({"token": access_token})).await;
    assert_eq!((again.status, again.body.clone()), (StatusCode::OK, invalidation(0, 1)));

    // The refresh token of the pair is independent of its access token.
    let by_refresh = invalidate(json!({"refresh_token": refresh_token})).await;
    assert_eq!((by_refresh.status, by_refresh.body.clone()), (StatusCode::OK, invalidation(1, 0)));
    let refused = app
        .call(
            "POST",
            TOKEN_PATH,
            Some("elastic"),
            Some(json!({"grant_type": "refresh_token", "refresh_token": refresh_token})),
        )
        .await;
    assert_oauth2_error(&refused, "invalid_grant", "token has been invalidated");

    // Unknown tokens: 404 with the same body shape.
    let (other_access, _) = tokens_of(
        &app.call("POST", TOKEN_PATH, Some("elastic"), Some(json!({"grant_type": "client_credentials"}))).await,
    );
    let mut unknown = other_access.clone().into_bytes();
    unknown[10] = if unknown[10] == b'A' { b'B' } else { b'A' };
    let unknown = String::from_utf8(unknown).expect("ascii");
    for body in [json!({"token": unknown}), json!({"refresh_token": unknown}), json!({"token": "fooobar"})] {
        let missing = invalidate(body).await;
        assert_eq!((missing.status, missing.body.clone()), (StatusCode::NOT_FOUND, invalidation(0, 0)));
    }
    assert_eq!(bearer_me(other_access).await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalidation_by_user_and_realm_counts_both_tokens_of_a_grant() {
    let app = TestApp::start().await;
    app.create_user("jacknich", &["viewer"], None, None).await;
    app.create_user("bob", &["viewer"], None, None).await;
    let create = |body: Value| app.call("POST", TOKEN_PATH, Some("elastic"), Some(body));
    let (jack_first, _) = tokens_of(&create(password_grant("jacknich")).await);
    let (jack_second, _) = tokens_of(&create(password_grant("jacknich")).await);
    let (bob_token, _) = tokens_of(&create(password_grant("bob")).await);
    let (elastic_token, _) = tokens_of(&create(json!({"grant_type": "client_credentials"})).await);
    let invalidate = |body: Value| app.call("DELETE", TOKEN_PATH, Some("elastic"), Some(body));

    let by_user = invalidate(json!({"username": "jacknich"})).await;
    assert_eq!((by_user.status, by_user.body.clone()), (StatusCode::OK, invalidation(4, 0)));
    for token in [&jack_first, &jack_second] {
        assert_token_expired(&send(&app.router, "GET", "/_security/_authenticate", Caller::Bearer(token), None).await);
    }
    let nothing_left = invalidate(json!({"username": "jacknich"})).await;
    assert_eq!((nothing_left.status, nothing_left.body.clone()), (StatusCode::OK, invalidation(0, 0)));
    let other_realm = invalidate(json!({"realm_name": "saml1"})).await;
    assert_eq!((other_realm.status, other_realm.body.clone()), (StatusCode::OK, invalidation(0, 0)));
    let by_realm_and_user = invalidate(json!({"realm_name": "default_native", "username": "bob"})).await;
    assert_eq!(by_realm_and_user.body, invalidation(2, 0));
    assert_token_expired(&send(&app.router, "GET", "/_security/_authenticate", Caller::Bearer(&bob_token), None).await);
    let by_realm = invalidate(json!({"realm_name": "reserved"})).await;
    assert_eq!(by_realm.body, invalidation(1, 0));
    assert_token_expired(
        &send(&app.router, "GET", "/_security/_authenticate", Caller::Bearer(&elastic_token), None).await,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalidate_request_errors_match_elasticsearch() {
    let app = TestApp::start().await;
    let invalidate = |body: Value| app.call("DELETE", TOKEN_PATH, Some("elastic"), Some(body));
    let empty = invalidate(json!({})).await;
    assert_es_error(
        &empty,
        400,
        "action_request_validation_exception",
        "Validation Failed: 1: token string must be provided when not specifying a realm name or a username;",
    );
    let mixed = invalidate(json!({"token": "abc", "username": "jacknich"})).await;
    assert_es_error(
        &mixed,
        400,
        "action_request_validation_exception",
        "Validation Failed: 1: token string must not be provided when realm name or username is specified;2: token type must not be provided when realm name or username is specified;",
    );
    let both = invalidate(json!({"token": "abc", "refresh_token": "def"})).await;
    assert_eq!(both.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        both.body,
        json!({"error": {"root_cause": [{"type": "x_content_parse_exception", "reason": "Failed to build [invalidate_token] after last required field arrived"}],
                         "type": "x_content_parse_exception", "reason": "Failed to build [invalidate_token] after last required field arrived",
                         "caused_by": {"type": "illegal_argument_exception", "reason": "only one of [token, refresh_token] may be sent per request"}},
               "status": 400})
    );
    let unknown_field = invalidate(json!({"tokens": "abc"})).await;
    assert_es_error(
        &unknown_field,
        400,
        "x_content_parse_exception",
        "[1:2] [invalidate_token] unknown field [tokens] did you mean [token]?",
    );
    let no_body = app.call("DELETE", TOKEN_PATH, Some("elastic"), None).await;
    assert_es_error(&no_body, 400, "parse_exception", "request body is required");
    // Before any token exists, a well-formed token cannot be checked (the tokens index does not exist).
    let well_formed = base64::engine::general_purpose::STANDARD.encode([1u8; 49]);
    let before_any = invalidate(json!({"token": well_formed})).await;
    assert_es_error(&before_any, 400, "security_exception", "failed to invalidate token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_tokens_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = CustomApp::start(dir.path(), |config| config.security.token.timeout = Duration::from_secs(1)).await;
    let created =
        app.send("POST", TOKEN_PATH, Caller::Basic("elastic"), Some(json!({"grant_type": "client_credentials"}))).await;
    let (access_token, _) = tokens_of(&created);
    assert_eq!(created.body["expires_in"], 1);
    assert_eq!(
        app.send("GET", "/_security/_authenticate", Caller::Bearer(&access_token), None).await.status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_token_expired(&app.send("GET", "/_security/_authenticate", Caller::Bearer(&access_token), None).await);
    // An expired access token can still be invalidated (it is not yet deleted).
    let invalidated =
        app.send("DELETE", TOKEN_PATH, Caller::Basic("elastic"), Some(json!({"token": access_token}))).await;
    assert_eq!(invalidated.body, invalidation(1, 0));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = CustomApp::start(dir.path(), |_| {}).await;
    app.create_user("jacknich", &["viewer"]).await;
    let (kept, refresh_token) =
        tokens_of(&app.send("POST", TOKEN_PATH, Caller::Basic("elastic"), Some(password_grant("jacknich"))).await);
    let (revoked, _) =
        tokens_of(&app.send("POST", TOKEN_PATH, Caller::Basic("elastic"), Some(password_grant("jacknich"))).await);
    let invalidated = app.send("DELETE", TOKEN_PATH, Caller::Basic("elastic"), Some(json!({"token": revoked}))).await;
    assert_eq!(invalidated.body, invalidation(1, 0));
    app.stop().await;

    let restarted = CustomApp::start(dir.path(), |_| {}).await;
    let me = restarted.send("GET", "/_security/_authenticate", Caller::Bearer(&kept), None).await;
    assert_eq!((me.status, me.body["username"].clone()), (StatusCode::OK, json!("jacknich")));
    assert_token_expired(&restarted.send("GET", "/_security/_authenticate", Caller::Bearer(&revoked), None).await);
    let refreshed = restarted
        .send(
            "POST",
            TOKEN_PATH,
            Caller::Basic("elastic"),
            Some(json!({"grant_type": "refresh_token", "refresh_token": refresh_token})),
        )
        .await;
    tokens_of(&refreshed);
    restarted.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_tokens_activate_profiles() {
    let app = TestApp::start().await;
    app.create_user("jacknich", &["viewer"], Some("Jack Nicholson"), None).await;
    let (access_token, _) =
        tokens_of(&app.call("POST", TOKEN_PATH, Some("elastic"), Some(password_grant("jacknich"))).await);
    let activate = |token: String| {
        app.call(
            "POST",
            "/_security/profile/_activate",
            Some("elastic"),
            Some(json!({"grant_type": "access_token", "access_token": token})),
        )
    };
    let by_token = activate(access_token.clone()).await;
    assert_eq!(by_token.status, StatusCode::OK, "{}", by_token.body);
    assert_eq!(by_token.body["user"]["username"], "jacknich");
    assert_eq!(by_token.body["user"]["realm_name"], "default_native");
    // The same profile as a password activation.
    assert_eq!(app.activate("jacknich").await["uid"], by_token.body["uid"]);

    app.admin("DELETE", TOKEN_PATH, Some(json!({"token": access_token}))).await;
    assert_token_expired(&activate(access_token).await);
    let unknown = activate("foo".to_string()).await;
    assert_es_error(
        &unknown,
        401,
        "security_exception",
        "unable to authenticate user [_bearer_token] for action [cluster:admin/xpack/security/profile/activate]",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_tokens_authenticate_as_the_anonymous_user() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = CustomApp::start(dir.path(), |config| {
        config.security.anonymous = Some(AnonymousConfig {
            username: "_anonymous".into(),
            roles: vec!["superuser".into()],
            authz_exception: true,
        });
    })
    .await;
    let created = app.send("POST", TOKEN_PATH, Caller::Nobody, Some(json!({"grant_type": "client_credentials"}))).await;
    let (access_token, refresh_token) = tokens_of(&created);
    assert_eq!(refresh_token, None);
    assert_eq!(created.body["authentication"]["username"], "_anonymous");
    assert_eq!(created.body["authentication"]["authentication_type"], "anonymous");

    let me = app.send("GET", "/_security/_authenticate", Caller::Bearer(&access_token), None).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["username"], "_anonymous");
    assert_eq!(me.body["authentication_realm"], json!({"name": "__anonymous", "type": "__anonymous"}));
    assert_eq!(me.body["authentication_type"], "token");

    let activated = app
        .send(
            "POST",
            "/_security/profile/_activate",
            Caller::Basic("elastic"),
            Some(json!({"grant_type": "access_token", "access_token": access_token})),
        )
        .await;
    assert_eq!(activated.status, StatusCode::OK, "{}", activated.body);
    assert_eq!(activated.body["user"]["username"], "_anonymous");
    assert_eq!(activated.body["user"]["realm_name"], "__anonymous");

    // A bearer token that is not ours does not fall back to anonymous access.
    let garbage = app.send("GET", "/_security/_authenticate", Caller::Bearer("foo"), None).await;
    assert_es_error(
        &garbage,
        401,
        "security_exception",
        "unable to authenticate with provided credentials and anonymous access is not allowed for this request",
    );
    app.stop().await;
}
