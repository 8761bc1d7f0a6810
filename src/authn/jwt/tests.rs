//! Realm-level tests: tokens minted with real HMAC, RSA and EC keys against realms built from settings.

use std::collections::BTreeMap;
use std::path::Path;

use axum::http::{HeaderMap, HeaderValue};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use super::test_keys::*;
use super::*;
use crate::domain::role_mapping::RoleMapping;
use crate::service::role_mappings::RoleMappingService;
use crate::store::sqlite::SqliteStore;

const ISSUER: &str = "https://issuer.example.com";
const HMAC_SECRET: &str = "an-hmac-secret-that-is-long-enough-for-hs512-signatures-0123456789";
const SHARED_SECRET: &str = "client-shared-secret";

fn realm_config(overrides: &[(&str, &str)]) -> RealmConfig {
    let mut settings: BTreeMap<String, String> = [
        ("order", "3"),
        ("allowed_issuer", ISSUER),
        ("allowed_audiences", "es,other"),
        ("allowed_signature_algorithms", "HS256,HS512,RS256,PS256,ES256,ES384"),
        ("claims.principal", "sub"),
        ("hmac_key", HMAC_SECRET),
        ("client_authentication.type", "none"),
    ]
    .iter()
    .map(|(key, value)| (key.to_string(), value.to_string()))
    .collect();
    for (key, value) in overrides {
        if value.is_empty() {
            settings.remove(*key);
        } else {
            settings.insert(key.to_string(), value.to_string());
        }
    }
    RealmConfig { realm_type: "jwt".into(), name: "jwt1".into(), order: 3, settings }
}

/// Settings of a test realm (shared with the token tests).
pub(super) fn settings(overrides: &[(&str, &str)]) -> JwtSettings {
    JwtSettings::from_config(&realm_config(overrides), Path::new("/nonexistent")).expect("valid settings")
}

struct Fixture {
    realm: JwtRealm,
    store: Arc<dyn Store>,
    dir: tempfile::TempDir,
}

fn fixture(overrides: &[(&str, &str)]) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture_in(dir, overrides)
}

fn fixture_in(dir: tempfile::TempDir, overrides: &[(&str, &str)]) -> Fixture {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("data")).expect("store"));
    let realm = JwtRealm::new(&realm_config(overrides), RealmRef::new("jwt1", "jwt"), dir.path(), Arc::clone(&store))
        .expect("realm");
    Fixture { realm, store, dir }
}

fn now_seconds() -> i64 {
    now_millis() / 1000
}

fn claims(subject: &str) -> Value {
    let now = now_seconds();
    json!({"iss": ISSUER, "aud": "es", "sub": subject, "iat": now, "exp": now + 300, "name": "Joe Bloggs", "email": "joe@example.com", "groups": ["admins", "devs"]})
}

fn mint(algorithm: Algorithm, key: &EncodingKey, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(algorithm);
    header.kid = kid.map(str::to_string);
    jsonwebtoken::encode(&header, claims, key).expect("encode")
}

fn hmac(claims: &Value) -> String {
    mint(Algorithm::HS256, &EncodingKey::from_secret(HMAC_SECRET.as_bytes()), None, claims)
}

fn rsa_key() -> EncodingKey {
    EncodingKey::from_rsa_der(&der(RSA_PRIVATE_KEY))
}

fn rsa_jwk(n: &str, kid: &str) -> Value {
    json!({"kty": "RSA", "n": n, "e": "AQAB", "kid": kid, "use": "sig"})
}

fn write_jwks(dir: &Path, keys: Vec<Value>) {
    // A rename replaces the file in one step, as configuration tools do.
    let temporary = dir.join("jwks.json.tmp");
    std::fs::write(&temporary, json!({ "keys": keys }).to_string()).expect("write jwks");
    std::fs::rename(&temporary, dir.join("jwks.json")).expect("rename jwks");
}

async fn outcome(realm: &JwtRealm, token: &str, headers: &HeaderMap) -> Option<Authentication> {
    match realm.authenticate_bearer(token, headers).await.expect("no hard error") {
        RealmOutcome::Success(authentication) => Some(authentication),
        RealmOutcome::Continue => None,
        RealmOutcome::Terminate(error) => panic!("unexpected terminate: {error}"),
    }
}

async fn accepted(realm: &JwtRealm, token: &str) -> bool {
    outcome(realm, token, &HeaderMap::new()).await.is_some()
}

#[tokio::test]
async fn an_hmac_token_authenticates_with_claims_mapped_to_the_user() {
    let fixture = fixture(&[("claims.name", "name"), ("claims.mail", "email"), ("claims.groups", "groups")]);
    let authentication = outcome(&fixture.realm, &hmac(&claims("joe")), &HeaderMap::new()).await.expect("accepted");
    assert_eq!(authentication.user.username, "joe");
    assert_eq!(authentication.user.full_name.as_deref(), Some("Joe Bloggs"));
    assert_eq!(authentication.user.email.as_deref(), Some("joe@example.com"));
    assert!(authentication.user.roles.is_empty(), "no role mapping yet");
    assert_eq!(authentication.realm.name, "jwt1");
    assert_eq!(authentication.realm.realm_type, "jwt");
    assert_eq!(authentication.authentication_type, "realm");
    let metadata = &authentication.user.metadata;
    assert_eq!(metadata["jwt_token_type"], "id_token");
    assert_eq!(metadata["jwt_claim_sub"], "joe");
    assert_eq!(metadata["jwt_claim_groups"], json!(["admins", "devs"]));
}

#[tokio::test]
async fn roles_come_from_role_mappings_and_follow_their_changes() {
    let fixture = fixture(&[("claims.groups", "groups")]);
    let service = RoleMappingService::new(Arc::clone(&fixture.store));
    let put = |name: &str, body: Value| RoleMapping::parse_request(name, &body.to_string(), &body).expect("mapping");
    service.put(&put("by-group", json!({"roles": ["admin"], "enabled": true, "rules": {"all": [
        {"field": {"groups": "admins"}}, {"field": {"realm.name": "jwt1"}}, {"field": {"metadata.jwt_claim_iss": ISSUER}}
    ]}}))).await.expect("put");
    let token = hmac(&claims("joe"));
    let first = outcome(&fixture.realm, &token, &HeaderMap::new()).await.expect("accepted");
    assert_eq!(first.user.roles, vec!["admin"]);
    service
        .put(&put("by-name", json!({"roles": ["viewer"], "enabled": true, "rules": {"field": {"username": "j*"}}})))
        .await
        .expect("put");
    let second = outcome(&fixture.realm, &token, &HeaderMap::new()).await.expect("accepted from the cache");
    assert_eq!(second.user.roles, vec!["admin", "viewer"]);
    service.delete("by-group").await.expect("delete");
    let third = outcome(&fixture.realm, &token, &HeaderMap::new()).await.expect("accepted");
    assert_eq!(third.user.roles, vec!["viewer"]);
}

#[tokio::test]
async fn issuer_audience_subject_and_type_are_checked() {
    let fixture = fixture(&[("allowed_subjects", "joe,jane"), ("allowed_subject_patterns", "svc-*")]);
    assert!(accepted(&fixture.realm, &hmac(&claims("joe"))).await);
    assert!(accepted(&fixture.realm, &hmac(&claims("svc-backup"))).await);
    assert!(!accepted(&fixture.realm, &hmac(&claims("bob"))).await, "subject not allowed");
    let mut foreign = claims("joe");
    foreign["iss"] = json!("https://elsewhere.example.com");
    assert!(!accepted(&fixture.realm, &hmac(&foreign)).await, "foreign issuer");
    let mut audiences = claims("joe");
    audiences["aud"] = json!(["x", "other"]);
    assert!(accepted(&fixture.realm, &hmac(&audiences)).await, "any audience may match");
    audiences["aud"] = json!(["x"]);
    assert!(!accepted(&fixture.realm, &hmac(&audiences)).await);
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    let typed = jsonwebtoken::encode(&header, &claims("joe"), &EncodingKey::from_secret(HMAC_SECRET.as_bytes()))
        .expect("encode");
    assert!(!accepted(&fixture.realm, &typed).await, "id_token realms accept typ JWT only");
}

#[tokio::test]
async fn dates_are_checked_with_the_clock_skew() {
    let fixture = fixture(&[("allowed_clock_skew", "30s")]);
    let now = now_seconds();
    let with = |changes: Value| {
        let mut token_claims = claims("joe");
        for (key, value) in changes.as_object().expect("object") {
            if value.is_null() {
                token_claims.as_object_mut().expect("object").remove(key);
            } else {
                token_claims[key] = value.clone();
            }
        }
        hmac(&token_claims)
    };
    assert!(accepted(&fixture.realm, &with(json!({"exp": now - 10}))).await, "expired within the skew");
    assert!(!accepted(&fixture.realm, &with(json!({"exp": now - 60}))).await, "expired beyond the skew");
    assert!(accepted(&fixture.realm, &with(json!({"iat": now + 10}))).await, "issued slightly in the future");
    assert!(!accepted(&fixture.realm, &with(json!({"iat": now + 60}))).await);
    assert!(accepted(&fixture.realm, &with(json!({"nbf": now + 10}))).await);
    assert!(!accepted(&fixture.realm, &with(json!({"nbf": now + 60}))).await, "not yet valid");
    assert!(!accepted(&fixture.realm, &with(json!({"auth_time": now + 60}))).await);
    assert!(!accepted(&fixture.realm, &with(json!({"exp": null}))).await, "exp is required");
    assert!(!accepted(&fixture.realm, &with(json!({"iat": null}))).await, "iat is required");
}

#[tokio::test]
async fn algorithms_are_restricted_and_alg_none_is_refused() {
    let fixture = fixture(&[("allowed_signature_algorithms", "HS512")]);
    assert!(!accepted(&fixture.realm, &hmac(&claims("joe"))).await, "HS256 not allowed");
    let hs512 = mint(Algorithm::HS512, &EncodingKey::from_secret(HMAC_SECRET.as_bytes()), None, &claims("joe"));
    assert!(accepted(&fixture.realm, &hs512).await);
    let wrong_key = mint(
        Algorithm::HS512,
        &EncodingKey::from_secret(b"another-secret-that-is-also-long-enough-for-hs512-0123456789abcdef"),
        None,
        &claims("joe"),
    );
    assert!(!accepted(&fixture.realm, &wrong_key).await, "bad signature");
    let parts: Vec<&str> = hs512.split('.').collect();
    let none_header = URL_SAFE_NO_PAD_ENGINE.encode(r#"{"alg":"none","typ":"JWT"}"#);
    assert!(!accepted(&fixture.realm, &format!("{none_header}.{}.", parts[1])).await, "unsigned");
    assert!(
        !accepted(&fixture.realm, &format!("{none_header}.{}.{}", parts[1], parts[2])).await,
        "unsigned with a signature"
    );
    let tampered_claims = URL_SAFE_NO_PAD_ENGINE.encode(
        json!({"iss": ISSUER, "aud": "es", "sub": "admin", "iat": now_seconds(), "exp": now_seconds() + 60})
            .to_string(),
    );
    assert!(
        !accepted(&fixture.realm, &format!("{}.{tampered_claims}.{}", parts[0], parts[2])).await,
        "tampered claims"
    );
}

use base64::engine::general_purpose::URL_SAFE_NO_PAD as URL_SAFE_NO_PAD_ENGINE;
use base64::Engine as _;

#[tokio::test]
async fn rsa_and_ec_tokens_verify_with_the_jwk_set_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_jwks(
        dir.path(),
        vec![
            rsa_jwk(RSA_N, "rsa1"),
            json!({"kty": "EC", "crv": "P-256", "x": EC256_X, "y": EC256_Y, "kid": "ec256"}),
            json!({"kty": "EC", "crv": "P-384", "x": EC384_X, "y": EC384_Y, "kid": "ec384"}),
        ],
    );
    let fixture = fixture_in(dir, &[("pkc_jwkset_path", "jwks.json"), ("hmac_key", "")]);
    assert!(accepted(&fixture.realm, &mint(Algorithm::RS256, &rsa_key(), Some("rsa1"), &claims("joe"))).await);
    assert!(accepted(&fixture.realm, &mint(Algorithm::PS256, &rsa_key(), None, &claims("joe"))).await);
    let ec256 = EncodingKey::from_ec_der(&der(EC256_PRIVATE_KEY));
    assert!(accepted(&fixture.realm, &mint(Algorithm::ES256, &ec256, Some("ec256"), &claims("joe"))).await);
    let ec384 = EncodingKey::from_ec_der(&der(EC384_PRIVATE_KEY));
    assert!(accepted(&fixture.realm, &mint(Algorithm::ES384, &ec384, None, &claims("joe"))).await);
    assert!(
        !accepted(&fixture.realm, &mint(Algorithm::ES256, &ec256, Some("rsa1"), &claims("joe"))).await,
        "kid names another key"
    );
    assert!(!accepted(&fixture.realm, &hmac(&claims("joe"))).await, "no HMAC key configured");
    let rsa2 = EncodingKey::from_rsa_der(&der(RSA2_PRIVATE_KEY));
    assert!(!accepted(&fixture.realm, &mint(Algorithm::RS256, &rsa2, None, &claims("joe"))).await, "unknown key");
}

#[tokio::test]
async fn the_jwk_set_file_is_reloaded_when_it_changes() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_jwks(dir.path(), vec![rsa_jwk(RSA_N, "rsa1")]);
    let fixture = fixture_in(dir, &[("pkc_jwkset_path", "jwks.json"), ("hmac_key", "")]);
    let rsa2 = EncodingKey::from_rsa_der(&der(RSA2_PRIVATE_KEY));
    let old_token = mint(Algorithm::RS256, &rsa_key(), Some("rsa1"), &claims("joe"));
    let new_token = mint(Algorithm::RS256, &rsa2, Some("rsa2"), &claims("joe"));
    assert!(accepted(&fixture.realm, &old_token).await);
    assert!(!accepted(&fixture.realm, &new_token).await);

    write_jwks(fixture.dir.path(), vec![rsa_jwk(RSA_N, "rsa1"), rsa_jwk(RSA2_N, "rsa2")]);
    assert!(accepted(&fixture.realm, &new_token).await, "rotated in");

    write_jwks(fixture.dir.path(), vec![rsa_jwk(RSA2_N, "rsa2")]);
    assert!(!accepted(&fixture.realm, &old_token).await, "rotated out, even though it was cached");
    assert!(accepted(&fixture.realm, &new_token).await);

    std::fs::write(fixture.dir.path().join("jwks.json"), "not json").expect("write");
    assert!(accepted(&fixture.realm, &new_token).await, "a broken file keeps the previous keys");
}

#[tokio::test]
async fn the_shared_secret_must_be_presented() {
    let fixture = fixture(&[
        ("client_authentication.type", "shared_secret"),
        ("client_authentication.shared_secret", SHARED_SECRET),
    ]);
    let token = hmac(&claims("joe"));
    let headers = |value: &str| {
        let mut headers = HeaderMap::new();
        headers.insert("es-client-authentication", HeaderValue::from_str(value).expect("header"));
        headers
    };
    assert!(outcome(&fixture.realm, &token, &HeaderMap::new()).await.is_none(), "missing secret");
    assert!(outcome(&fixture.realm, &token, &headers("SharedSecret wrong")).await.is_none(), "wrong secret");
    assert!(outcome(&fixture.realm, &token, &headers(SHARED_SECRET)).await.is_none(), "no scheme");
    assert!(outcome(&fixture.realm, &token, &headers("Bearer client-shared-secret")).await.is_none(), "wrong scheme");
    assert!(outcome(&fixture.realm, &token, &headers("SharedSecret client-shared-secret")).await.is_some());
    assert!(outcome(&fixture.realm, &token, &headers("sharedsecret  client-shared-secret ")).await.is_some());
}

#[tokio::test]
async fn claim_patterns_and_a_missing_principal() {
    let fixture = fixture(&[
        ("claims.principal", "email"),
        ("claim_patterns.principal", "^([^@]+)@example\\.com$"),
        ("claims.groups", "groups"),
        ("claim_patterns.groups", "^(ad.*)$"),
        ("claims.dn", "dn"),
    ]);
    let mut token_claims = claims("ignored");
    token_claims["dn"] = json!("cn=joe,dc=example,dc=com");
    let authentication = outcome(&fixture.realm, &hmac(&token_claims), &HeaderMap::new()).await.expect("accepted");
    assert_eq!(authentication.user.username, "joe");
    token_claims["email"] = json!("joe@elsewhere.com");
    assert!(!accepted(&fixture.realm, &hmac(&token_claims)).await, "pattern does not match: no principal");
    token_claims["email"] = json!(42);
    assert!(!accepted(&fixture.realm, &hmac(&token_claims)).await, "principal claim of the wrong type");
}

#[tokio::test]
async fn access_tokens_use_fallback_claims() {
    let fixture = fixture(&[
        ("token_type", "access_token"),
        ("allowed_subjects", "service-a"),
        ("fallback_claims.sub", "client_id"),
        ("fallback_claims.aud", "scope"),
        ("claims.principal", "sub"),
    ]);
    let now = now_seconds();
    let token_claims = json!({"iss": ISSUER, "client_id": "service-a", "scope": "es", "iat": now, "exp": now + 60});
    let authentication = outcome(&fixture.realm, &hmac(&token_claims), &HeaderMap::new()).await.expect("accepted");
    assert_eq!(authentication.user.username, "service-a");
    assert_eq!(authentication.user.metadata["jwt_token_type"], "access_token");
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    let typed = jsonwebtoken::encode(&header, &token_claims, &EncodingKey::from_secret(HMAC_SECRET.as_bytes()))
        .expect("encode");
    assert!(accepted(&fixture.realm, &typed).await, "access tokens may be typed at+jwt");
    let other = json!({"iss": ISSUER, "client_id": "service-b", "scope": "es", "iat": now, "exp": now + 60});
    assert!(!accepted(&fixture.realm, &hmac(&other)).await);
}

#[tokio::test]
async fn required_claims_must_match() {
    let fixture = fixture(&[("required_claims.token_use", "id,session")]);
    let mut token_claims = claims("joe");
    assert!(!accepted(&fixture.realm, &hmac(&token_claims)).await, "missing required claim");
    token_claims["token_use"] = json!("session");
    assert!(accepted(&fixture.realm, &hmac(&token_claims)).await);
    token_claims["token_use"] = json!("refresh");
    assert!(!accepted(&fixture.realm, &hmac(&token_claims)).await);
}

#[tokio::test]
async fn tokens_that_are_not_jwts_are_left_to_other_realms() {
    let fixture = fixture(&[]);
    assert!(!accepted(&fixture.realm, "not.a.jwt").await);
    assert!(!accepted(&fixture.realm, "dGVzdA==").await);
}

#[tokio::test]
async fn hmac_jwk_sets_select_keys_by_kid() {
    let jwkset = json!({"keys": [
        {"kty": "oct", "k": URL_SAFE_NO_PAD_ENGINE.encode(HMAC_SECRET), "kid": "h1", "alg": "HS256"},
        {"kty": "oct", "k": URL_SAFE_NO_PAD_ENGINE.encode("x".repeat(64)), "kid": "h2"}
    ]});
    let fixture = fixture(&[("hmac_key", ""), ("hmac_jwkset", &jwkset.to_string())]);
    let key = EncodingKey::from_secret(HMAC_SECRET.as_bytes());
    assert!(accepted(&fixture.realm, &mint(Algorithm::HS256, &key, Some("h1"), &claims("joe"))).await);
    assert!(
        accepted(&fixture.realm, &mint(Algorithm::HS256, &key, None, &claims("joe"))).await,
        "no kid: every key is tried"
    );
    assert!(
        !accepted(&fixture.realm, &mint(Algorithm::HS256, &key, Some("h2"), &claims("joe"))).await,
        "kid names the other key"
    );
    let second = EncodingKey::from_secret("x".repeat(64).as_bytes());
    assert!(accepted(&fixture.realm, &mint(Algorithm::HS512, &second, Some("h2"), &claims("joe"))).await);
}

#[tokio::test]
async fn a_disabled_cache_still_authenticates() {
    let fixture = fixture(&[("jwt.cache.size", "0")]);
    assert!(fixture.realm.cache.is_none());
    let token = hmac(&claims("joe"));
    assert!(accepted(&fixture.realm, &token).await);
    assert!(accepted(&fixture.realm, &token).await);
}
