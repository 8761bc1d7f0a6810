//! JWT realm and role mappings through the real router: a node configured with Elasticsearch's setting
//! names (file + native + jwt realms, optionally in one security domain), JWTs minted with `jsonwebtoken`.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use base64::Engine;
use http_body_util::BodyExt;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use tower::ServiceExt;

use profiled::app::{bootstrap_elastic_password, AppState};
use profiled::config::{Config, NodeArgs};
use profiled::store::sqlite::SqliteStore;

use crate::common::{TestResponse, ELASTIC_PASSWORD, PASSWORD};

const ISSUER: &str = "https://issuer.example.com";
const HMAC_SECRET: &str = "it-hmac-secret-long-enough-for-hs256-0123456789";
const SHARED_SECRET: &str = "it-client-secret";
const FILE_PASSWORD: &str = "file-realm-password";
const ACTIVATE: &str = "/_security/profile/_activate";

/// The RSA test key of the JWK set file, PKCS#1 DER in base64 (generated with openssl for these tests only).
const RSA_PRIVATE_KEY: &str = "\
MIIEpAIBAAKCAQEAsZQK/LrF3hywCC7i7cEmyg8m4YARP4kMt+ZpQJI6Eyw6I40palbT1J6nBny//76fnLjL8+dszpAUJP33\
cMupjrjjpZ0fLFe4GsxawWFYjJI5PaFT5lUJ2tlg9lnLilRmntUbuRIPKw1mCbLwSH/R+XpRr4MX2wkmX1l4vRt40/EsSnja\
5mSXhhUlzCQpmmtuy92th/HAvN+LQJfiqeUz/wGXlclzoQQI2vlru+D6NcpEDQMqbiJhZnRah8wQYlMfudqOpDu35oGLjN2H\
48G1dEFafpBIREKBZtO/hfFx4Z2yzYcqMN5gIbxdikbU7VC0rQFaJtIBlGTA0LFheukMXQIDAQABAoIBAEhpkqtpbEt9Dklf\
+TizlWI7GINHCoGKnO2W3x+uIVF1LQYXR6at3naq9Xg/QboDnSm277A3lFaNSTGmgJL18eAZw/biYfZelNwUrgOCcy3raL0Z\
ftGDpt+f2hrLFiWD8k7dnw7ybs4DCjN1TOd7e//MIeg8wGsYyZWDMimHPNfLqGIxaDYTyLY0NrLSD8L/pL3yHOZqSLXLJc99\
eUha2jk/6rK9uRDB6V4/JzI0MajbtN6YtNkls42YYHxAHO0hZpIXjY0W8RPKUuv+QA1pUC3LNH1lc70ADod5jkSy3c9O3bDC\
9EGWSvKb2y91B2mw7GiIXhKaucn/eLBM5xXsQ+8CgYEA3LEnyY9KhZPanNR0Yfa+utF0goIB1uWdxtxAxo2DeKRMKs5wt0/4\
s58dFT19L+HnQq0b7yNQYIT2Fs4HOXdmWZl/NzulZyklZfeqs5VzY9t3xmN3wZR43P/Nb+tc6DT1oTc6cA/SwQVu5q2Rm3oI\
qKnk6NIYUJTeZEaIRJsH2y8CgYEAzf0WGBpzde3yjE9y8jklHJFtvl2jU4rEpakVNjJdYw1TjLgXq6sG5YT233Q8pC//3FCC\
OpIIJK9lANyH7abRedtO/hEIep9kbQ9YrSipLn4jnaGkMJ9hYuxgUKVBRmv8SNMRpaODk7jH9yTlF9IB1cUsiiHAXn/tVOIe\
9vYtPjMCgYA1c47gaZ0yByJ+s5JQm9OMKejfJx/M7aYuIPBrZqD+GkT8ZS21qF/jGVmQ6GimrT82zfijDdmM1wdHdLUZPQsE\
DoJaXU7tUnDlZnvorPzapbA306WQtCYl2KroPYguEY2gc2Dq/VodN/SpWEaY8pCgUS3JGgGbmsLWZKLigu3/LwKBgQDHM+Nz\
99CE0VHoYsTUfnLnR7SLjl5uYhp94iADQ32QVsjfowAxIboPqCBeRDiIx2p2Et196s85Ou1AggRpzRNy9qVTigFbJF2oIlkt\
S88giRfETxdLdjZlxhX2p3mSssdNXeEJADI0X1PyK5npCUyBAKdsBevU9336wpoTVkq2hQKBgQDKpKl86qahykah5e51gCoR\
Wjl5cpE5eXrBhG6BSp2MfMNRVLe5ZQjnyGeIAbneeWXg6q9pSMbxgQAwiNWhtjZA+Vhf1YELpxnQjLjjfQ5cBgGBAOyUSQY6\
KqBCURt4UTByvLhX9x+noabY5uT07wiwZTKTtPYv7kfg8p2fR+xpMQ==";
const RSA_N: &str = "sZQK_LrF3hywCC7i7cEmyg8m4YARP4kMt-ZpQJI6Eyw6I40palbT1J6nBny__76fnLjL8-dszpAUJP33cMupjrjjpZ0fLFe4GsxawWFYjJI5PaFT5lUJ2tlg9lnLilRmntUbuRIPKw1mCbLwSH_R-XpRr4MX2wkmX1l4vRt40_EsSnja5mSXhhUlzCQpmmtuy92th_HAvN-LQJfiqeUz_wGXlclzoQQI2vlru-D6NcpEDQMqbiJhZnRah8wQYlMfudqOpDu35oGLjN2H48G1dEFafpBIREKBZtO_hfFx4Z2yzYcqMN5gIbxdikbU7VC0rQFaJtIBlGTA0LFheukMXQ";

/// An in-process node started from a YAML config file in its own directory.
struct JwtApp {
    router: axum::Router,
    _state: AppState,
    _dir: tempfile::TempDir,
}

fn config_yaml(with_domain: bool) -> String {
    let domain = if with_domain { "  domains.d1.realms: [default_native, default_file, jwt1]\n" } else { "" };
    format!(
        "\
xpack.security.authc.password_hashing.algorithm: bcrypt4
xpack.security.authc:
  realms:
    file.default_file.order: 0
    native.default_native.order: 1
    jwt.jwt1:
      order: 2
      allowed_issuer: {ISSUER}
      allowed_audiences: [es]
      allowed_signature_algorithms: [HS256, RS256]
      claims.principal: sub
      claims.name: name
      claims.mail: email
      claims.groups: groups
      hmac_key: {HMAC_SECRET}
      pkc_jwkset_path: jwks.json
      client_authentication.type: shared_secret
      client_authentication.shared_secret: {SHARED_SECRET}
{domain}"
    )
}

impl JwtApp {
    async fn start(with_domain: bool) -> JwtApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let config_dir = dir.path().join("config");
        std::fs::create_dir_all(&config_dir).expect("config dir");
        let jwks = json!({"keys": [{"kty": "RSA", "n": RSA_N, "e": "AQAB", "kid": "rsa-it"}]});
        std::fs::write(config_dir.join("jwks.json"), jwks.to_string()).expect("jwks");
        let file_hash = bcrypt::hash(FILE_PASSWORD, 4).expect("bcrypt");
        std::fs::write(config_dir.join("users"), format!("joe:{file_hash}\n")).expect("users");
        std::fs::write(config_dir.join("users_roles"), "viewer:joe\n").expect("users_roles");
        let config_path = config_dir.join("profiled.yml");
        std::fs::write(&config_path, config_yaml(with_domain)).expect("config");
        let data_dir = dir.path().join("data");
        let args = NodeArgs { config: Some(config_path), data: Some(data_dir.clone()), ..NodeArgs::default() };
        let config = Config::load(&args).expect("config loads");
        let store = Arc::new(SqliteStore::open(&data_dir).expect("store"));
        let state = AppState::new(config, store, false).await.expect("state");
        bootstrap_elastic_password(&state, Some(ELASTIC_PASSWORD.to_string())).await.expect("bootstrap");
        let router = profiled::api::build_router(state.clone());
        JwtApp { router, _state: state, _dir: dir }
    }

    async fn send(&self, method: &str, path: &str, headers: &[(&str, String)], body: Option<Value>) -> TestResponse {
        let mut builder = Request::builder().method(Method::from_bytes(method.as_bytes()).expect("method")).uri(path);
        for (name, value) in headers {
            builder = builder.header(*name, value);
        }
        let request = match body {
            Some(body) => {
                builder.header("content-type", "application/json").body(Body::from(body.to_string())).expect("request")
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

    async fn as_elastic(&self, method: &str, path: &str, body: Option<Value>) -> TestResponse {
        self.send(method, path, &[("authorization", basic("elastic", ELASTIC_PASSWORD))], body).await
    }

    async fn with_jwt(&self, token: &str, secret: Option<&str>) -> TestResponse {
        let mut headers = vec![("authorization", format!("Bearer {token}"))];
        if let Some(secret) = secret {
            headers.push(("es-client-authentication", format!("SharedSecret {secret}")));
        }
        self.send("GET", "/_security/_authenticate", &headers, None).await
    }

    async fn activate_jwt(&self, token: &str, secret: Option<&str>) -> TestResponse {
        let mut body = json!({"grant_type": "access_token", "access_token": token});
        if let Some(secret) = secret {
            body["client_authentication"] = json!({"scheme": "SharedSecret", "value": secret});
        }
        self.as_elastic("POST", ACTIVATE, Some(body)).await
    }

    async fn activate_password(&self, username: &str, password: &str) -> TestResponse {
        self.as_elastic(
            "POST",
            ACTIVATE,
            Some(json!({"grant_type": "password", "username": username, "password": password})),
        )
        .await
    }
}

fn basic(username: &str, password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}")))
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs() as i64
}

fn claims(subject: &str) -> Value {
    json!({
        "iss": ISSUER, "aud": "es", "sub": subject, "iat": now(), "exp": now() + 600,
        "name": "Joe Bloggs", "email": "joe@example.com", "groups": ["engineering"]
    })
}

fn hmac_token(claims: &Value) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(HMAC_SECRET.as_bytes()))
        .expect("encode")
}

fn rsa_token(claims: &Value) -> String {
    let der = base64::engine::general_purpose::STANDARD.decode(RSA_PRIVATE_KEY).expect("base64 key");
    let key = EncodingKey::from_rsa_der(&der);
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("rsa-it".into());
    jsonwebtoken::encode(&header, claims, &key).expect("encode")
}

#[track_caller]
fn assert_unauthenticated(response: &TestResponse) {
    assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{}", response.body);
    assert_eq!(response.body["error"]["type"], "security_exception", "{}", response.body);
    assert_eq!(response.body["status"], 401);
    let reason = response.body["error"]["reason"].as_str().unwrap_or_default();
    assert!(reason.starts_with("unable to authenticate"), "{reason}");
    assert!(response.headers.get_all("www-authenticate").iter().count() >= 1, "401 carries WWW-Authenticate");
}

#[tokio::test]
async fn bearer_jwts_authenticate_with_the_jwt_realm() {
    let app = JwtApp::start(true).await;
    for token in [hmac_token(&claims("joe")), rsa_token(&claims("joe"))] {
        let response = app.with_jwt(&token, Some(SHARED_SECRET)).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
        let body = &response.body;
        assert_eq!(body["username"], "joe");
        assert_eq!(body["full_name"], "Joe Bloggs");
        assert_eq!(body["email"], "joe@example.com");
        assert_eq!(body["enabled"], true);
        assert_eq!(body["authentication_realm"], json!({"name": "jwt1", "type": "jwt", "domain": "d1"}));
        assert_eq!(body["authentication_type"], "realm");
        assert_eq!(body["metadata"]["jwt_token_type"], "id_token");
        assert_eq!(body["metadata"]["jwt_claim_iss"], ISSUER);
    }
}

#[tokio::test]
async fn refused_jwts_get_the_chains_401() {
    let app = JwtApp::start(false).await;
    let mut expired = claims("joe");
    expired["exp"] = json!(now() - 3600);
    let mut foreign = claims("joe");
    foreign["iss"] = json!("https://evil.example.com");
    let wrong_key = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims("joe"),
        &EncodingKey::from_secret(b"some-other-hmac-secret-that-is-long-enough"),
    )
    .expect("encode");
    let payload = hmac_token(&claims("joe")).split('.').nth(1).expect("payload").to_string();
    let none_header = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let unsigned = format!("{none_header}.{payload}.");
    for token in [hmac_token(&expired), hmac_token(&foreign), wrong_key, unsigned] {
        assert_unauthenticated(&app.with_jwt(&token, Some(SHARED_SECRET)).await);
    }
    let good = hmac_token(&claims("joe"));
    assert_unauthenticated(&app.with_jwt(&good, None).await);
    assert_unauthenticated(&app.with_jwt(&good, Some("wrong-secret")).await);
    assert_eq!(app.with_jwt(&good, Some(SHARED_SECRET)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn role_mappings_give_jwt_users_their_roles() {
    let app = JwtApp::start(false).await;
    let mapping = json!({
        "roles": ["superuser"], "enabled": true,
        "rules": {"all": [{"field": {"realm.name": "jwt1"}}, {"field": {"groups": "engineering"}}]},
        "metadata": {"origin": "it"}
    });
    let put = app.as_elastic("PUT", "/_security/role_mapping/engineers", Some(mapping)).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(put.body, json!({"role_mapping": {"created": true}}));
    let token = hmac_token(&claims("joe"));
    let me = app.with_jwt(&token, Some(SHARED_SECRET)).await;
    assert_eq!(me.body["roles"], json!(["superuser"]));
    let users = app
        .send(
            "GET",
            "/_security/role_mapping/engineers",
            &[
                ("authorization", format!("Bearer {token}")),
                ("es-client-authentication", format!("SharedSecret {SHARED_SECRET}")),
            ],
            None,
        )
        .await;
    assert_eq!(users.status, StatusCode::OK, "the mapped superuser role authorizes the JWT user: {}", users.body);

    let disabled = json!({"roles": ["superuser"], "enabled": false, "rules": {"field": {"username": "*"}}});
    let replaced = app.as_elastic("POST", "/_security/role_mapping/engineers", Some(disabled)).await;
    assert_eq!(replaced.body, json!({"role_mapping": {"created": false}}));
    assert_eq!(
        app.with_jwt(&token, Some(SHARED_SECRET)).await.body["roles"],
        json!([]),
        "a mapping change applies at once"
    );
}

#[tokio::test]
async fn the_role_mapping_api_speaks_elasticsearch() {
    let app = JwtApp::start(false).await;
    let missing = app.as_elastic("GET", "/_security/role_mapping/nope", None).await;
    assert_eq!((missing.status, &missing.body), (StatusCode::NOT_FOUND, &json!({})));
    let empty = app.as_elastic("GET", "/_security/role_mapping", None).await;
    assert_eq!((empty.status, &empty.body), (StatusCode::OK, &json!({})));

    let body = json!({"roles": ["a", "b"], "enabled": true, "rules": {"any": [{"field": {"username": ["joe", "j*"]}}, {"field": {"dn": "*,dc=example,dc=com"}}]}});
    app.as_elastic("PUT", "/_security/role_mapping/m1", Some(body)).await;
    app.as_elastic("PUT", "/_security/role_mapping/m2", Some(json!({"role_templates": [{"template": {"source": "{{username}}"}}], "enabled": true, "rules": {"field": {"username": "*"}}}))).await;
    let one = app.as_elastic("GET", "/_security/role_mapping/m1,nope", None).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(
        one.body,
        json!({"m1": {"enabled": true, "roles": ["a", "b"], "rules": {"any": [{"field": {"username": ["joe", "j*"]}}, {"field": {"dn": "*,dc=example,dc=com"}}]}, "metadata": {}}})
    );
    let all = app.as_elastic("GET", "/_security/role_mapping/_all", None).await;
    assert_eq!(
        all.body["m2"]["role_templates"],
        json!([{"template": "{\"source\":\"{{username}}\"}", "format": "string"}])
    );

    let invalid = app
        .as_elastic(
            "PUT",
            "/_security/role_mapping/bad",
            Some(json!({"roles": ["a"], "enabled": true, "rules": {"field": {"username": "x"}, "any": []}})),
        )
        .await;
    crate::common::assert_es_error(
        &invalid,
        400,
        "parsing_exception",
        "[1:39] [role-mapping] failed to parse field [rules]",
    );
    assert_eq!(
        invalid.body["error"]["caused_by"]["caused_by"]["reason"],
        "failed to parse rules expression. object [bad] contains multiple fields"
    );
    let missing_rules =
        app.as_elastic("PUT", "/_security/role_mapping/bad", Some(json!({"roles": ["a"], "enabled": true}))).await;
    crate::common::assert_es_error(
        &missing_rules,
        400,
        "parsing_exception",
        "failed to parse role-mapping [bad]. missing field [rules]",
    );
    let no_roles = app
        .as_elastic(
            "PUT",
            "/_security/role_mapping/bad",
            Some(json!({"roles": [], "enabled": true, "rules": {"field": {"username": "*"}}})),
        )
        .await;
    crate::common::assert_es_error(
        &no_roles,
        400,
        "action_request_validation_exception",
        "Validation Failed: 1: role-mapping roles or role-templates are missing;",
    );

    let deleted = app.as_elastic("DELETE", "/_security/role_mapping/m1", None).await;
    assert_eq!((deleted.status, &deleted.body), (StatusCode::OK, &json!({"found": true})));
    let again = app.as_elastic("DELETE", "/_security/role_mapping/m1", None).await;
    assert_eq!((again.status, &again.body), (StatusCode::NOT_FOUND, &json!({"found": false})));
}

#[tokio::test]
async fn activation_by_jwt_needs_the_shared_secret() {
    let app = JwtApp::start(true).await;
    let token = rsa_token(&claims("joe"));
    let profile = app.activate_jwt(&token, Some(SHARED_SECRET)).await;
    assert_eq!(profile.status, StatusCode::OK, "{}", profile.body);
    assert_eq!(profile.body["user"]["username"], "joe");
    assert_eq!(profile.body["user"]["realm_name"], "jwt1");
    assert_eq!(profile.body["user"]["realm_domain"], "d1");
    assert_eq!(profile.body["user"]["email"], "joe@example.com");
    assert_eq!(profile.body["user"]["full_name"], "Joe Bloggs");
    for secret in [None, Some("wrong")] {
        let refused = app.activate_jwt(&token, secret).await;
        crate::common::assert_es_error(
            &refused,
            401,
            "security_exception",
            "unable to authenticate user [_bearer_token] for action [cluster:admin/xpack/security/profile/activate]",
        );
    }
}

#[tokio::test]
async fn a_security_domain_gives_one_profile_across_native_file_and_jwt() {
    let app = JwtApp::start(true).await;
    let created =
        app.as_elastic("PUT", "/_security/user/joe", Some(json!({"password": PASSWORD, "roles": ["viewer"]}))).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let by_file = app.activate_password("joe", FILE_PASSWORD).await;
    assert_eq!(by_file.status, StatusCode::OK, "{}", by_file.body);
    assert_eq!(by_file.body["user"]["realm_name"], "default_file");
    let by_native = app.activate_password("joe", PASSWORD).await;
    assert_eq!(by_native.body["user"]["realm_name"], "default_native");
    let by_jwt = app.activate_jwt(&hmac_token(&claims("joe")), Some(SHARED_SECRET)).await;
    assert_eq!(by_jwt.body["user"]["realm_name"], "jwt1");
    let uid = by_file.body["uid"].as_str().expect("uid");
    assert!(uid.ends_with("_0"), "{uid}");
    for response in [&by_file, &by_native, &by_jwt] {
        assert_eq!(response.body["uid"], uid, "{}", response.body);
        assert_eq!(response.body["user"]["realm_domain"], "d1");
    }
}

#[tokio::test]
async fn without_a_domain_each_realm_gets_its_own_profile() {
    let app = JwtApp::start(false).await;
    let by_file = app.activate_password("joe", FILE_PASSWORD).await;
    let by_jwt = app.activate_jwt(&hmac_token(&claims("joe")), Some(SHARED_SECRET)).await;
    let file_uid = by_file.body["uid"].as_str().expect("uid");
    let jwt_uid = by_jwt.body["uid"].as_str().expect("uid");
    assert!(file_uid.ends_with("_0"), "{file_uid}");
    assert!(jwt_uid.ends_with("_1"), "{jwt_uid}");
    assert_eq!(file_uid.trim_end_matches("_0"), jwt_uid.trim_end_matches("_1"));
    assert!(by_jwt.body["user"].get("realm_domain").is_none());
    let again = app.activate_jwt(&rsa_token(&claims("joe")), Some(SHARED_SECRET)).await;
    assert_eq!(again.body["uid"], jwt_uid, "the same JWT user finds its profile again");
}

#[test]
fn the_config_fixture_is_valid_yaml() {
    let settings = profiled::config::parse_settings_yaml(&config_yaml(true)).expect("valid settings");
    assert_eq!(
        settings.get("xpack.security.authc.domains.d1.realms").map(String::as_str),
        Some("default_native,default_file,jwt1")
    );
}
