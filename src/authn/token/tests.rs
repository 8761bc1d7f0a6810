//! Token service tests over a real store in a temporary directory.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::*;
use crate::authn::RealmRef;
use crate::domain::user::UserView;
use crate::store::sqlite::SqliteStore;

struct Fixture {
    service: TokenService,
    store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

fn fixture_with(configure: impl FnOnce(&mut Config)) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = Config::for_test(dir.path());
    configure(&mut config);
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).expect("store"));
    Fixture { service: TokenService::new(Arc::clone(&store), &config), store, _dir: dir }
}

fn fixture() -> Fixture {
    fixture_with(|_| {})
}

fn user(username: &str, realm: RealmRef) -> Authentication {
    Authentication {
        user: UserView {
            username: username.to_string(),
            roles: vec!["viewer".to_string()],
            full_name: None,
            email: None,
            metadata: Map::new(),
            enabled: true,
        },
        realm,
        authentication_type: "realm",
    }
}

fn jack() -> Authentication {
    user("jack", RealmRef::native())
}

fn elastic() -> Authentication {
    user("elastic", RealmRef::reserved())
}

async fn outcome(fixture: &Fixture, token: &str) -> RealmOutcome {
    fixture.service.authenticate_token(token).await.expect("authenticate")
}

fn invalid_grant(error: RefreshError) -> &'static str {
    match error {
        RefreshError::InvalidGrant(description) => description,
        RefreshError::Failed(error) => panic!("expected invalid_grant, got {error}"),
    }
}

/// Rewrites the stored document of `token` (tests stand in for time passing).
async fn rewrite_doc(fixture: &Fixture, token: &str, change: impl FnOnce(&mut Value) + Send + 'static) {
    let doc_id = RawToken::decode(token).expect("token").doc_id();
    fixture
        .store
        .update(
            Collection::Tokens,
            &doc_id,
            Box::new(move |current| {
                let doc = current.expect("document exists");
                let mut source = doc.source.clone();
                change(&mut source);
                Ok(Decision::Put { source, key: Some("jack".into()) })
            }),
        )
        .await
        .expect("store")
        .expect("update");
}

#[tokio::test]
async fn issued_tokens_authenticate_as_token_until_invalidated() {
    let fixture = fixture();
    let issued = fixture.service.create_tokens(&jack(), &elastic(), true).await.expect("create");
    assert_eq!(issued.authentication, jack());
    let refresh_token = issued.refresh_token.clone().expect("refresh token");
    let RealmOutcome::Success(authentication) = outcome(&fixture, &issued.access_token).await else {
        panic!("token should authenticate");
    };
    assert_eq!(authentication.authentication_type, "token");
    assert_eq!(authentication.user, jack().user);
    assert_eq!(authentication.realm, RealmRef::native());
    // A refresh token is not an access token; strangers and garbage go on down the chain.
    assert!(matches!(outcome(&fixture, &refresh_token).await, RealmOutcome::Continue));
    assert!(matches!(outcome(&fixture, "not-a-token").await, RealmOutcome::Continue));
    let stranger = TokenPair::random(false).access.encode();
    assert!(matches!(outcome(&fixture, &stranger).await, RealmOutcome::Continue));

    let result = fixture.service.invalidate_access_token(&issued.access_token).await.expect("invalidate");
    assert_eq!(
        (result.status(), result.to_json()),
        (200, json!({"invalidated_tokens": 1, "previously_invalidated_tokens": 0, "error_count": 0}))
    );
    let RealmOutcome::Terminate(error) = outcome(&fixture, &issued.access_token).await else {
        panic!("invalidated token should be refused");
    };
    assert_eq!(
        (error.status, error.error_type.as_str(), error.reason.as_str()),
        (401, "security_exception", "token expired")
    );
    assert_eq!(error.www_authenticate, vec![EXPIRED_TOKEN_CHALLENGE.to_string()]);
    let again = fixture.service.invalidate_access_token(&issued.access_token).await.expect("invalidate");
    assert_eq!(again.to_json(), json!({"invalidated_tokens": 0, "previously_invalidated_tokens": 1, "error_count": 0}));
}

#[tokio::test]
async fn stored_documents_hold_hashes_only() {
    let fixture = fixture();
    let issued = fixture.service.create_tokens(&jack(), &elastic(), true).await.expect("create");
    let refresh_token = issued.refresh_token.clone().expect("refresh token");
    let docs = fixture.store.list(Collection::Tokens).await.expect("list");
    assert_eq!(docs.len(), 1);
    let text = docs[0].source.to_string();
    for secret in [&issued.access_token, &refresh_token, &issued.access_token.trim_end_matches('=').to_string()] {
        assert!(!text.contains(secret.as_str()));
    }
    assert_eq!(fixture.store.find_by_key(Collection::Tokens, "jack").await.expect("by key").len(), 1);
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let fixture = fixture();
    let issued = fixture.service.create_tokens(&jack(), &elastic(), false).await.expect("create");
    assert!(issued.refresh_token.is_none());
    rewrite_doc(&fixture, &issued.access_token, |source| {
        source["access_token"]["user_token"]["expiration_time"] = json!(now_millis() - 1);
    })
    .await;
    let RealmOutcome::Terminate(error) = outcome(&fixture, &issued.access_token).await else {
        panic!("expired token should be refused");
    };
    assert_eq!(error.reason, "token expired");
}

#[tokio::test]
async fn refresh_tokens_are_single_use_with_a_30_second_grace() {
    let fixture = fixture();
    let issued = fixture.service.create_tokens(&jack(), &elastic(), true).await.expect("create");
    let refresh_token = issued.refresh_token.clone().expect("refresh token");
    let first = fixture.service.refresh(&refresh_token, &elastic()).await.expect("refresh");
    assert_ne!(first.access_token, issued.access_token);
    assert_eq!(first.authentication.authentication_type, "token");
    assert_eq!(first.authentication.user, jack().user);
    let second = fixture.service.refresh(&refresh_token, &elastic()).await.expect("refresh again");
    assert_eq!((&second.access_token, &second.refresh_token), (&first.access_token, &first.refresh_token));
    assert!(matches!(outcome(&fixture, &first.access_token).await, RealmOutcome::Success(_)));
    // The old access token stays valid until it expires, as in Elasticsearch.
    assert!(matches!(outcome(&fixture, &issued.access_token).await, RealmOutcome::Success(_)));

    rewrite_doc(&fixture, &refresh_token, |source| {
        source["refresh_token"]["refresh_time"] = json!(now_millis() - 50_000);
    })
    .await;
    let error = fixture.service.refresh(&refresh_token, &elastic()).await.expect_err("too late");
    assert_eq!(invalid_grant(error), "token has already been refreshed more than 30 seconds in the past");

    let newest =
        fixture.service.refresh(first.refresh_token.as_deref().expect("refresh"), &elastic()).await.expect("chain");
    assert_ne!(newest.access_token, first.access_token);
}

#[tokio::test]
async fn concurrent_refreshes_get_one_pair() {
    let fixture = Arc::new(fixture());
    let issued = fixture.service.create_tokens(&jack(), &elastic(), true).await.expect("create");
    let refresh_token = issued.refresh_token.expect("refresh token");
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let fixture = Arc::clone(&fixture);
        let refresh_token = refresh_token.clone();
        tasks.push(tokio::spawn(async move {
            let issued = fixture.service.refresh(&refresh_token, &elastic()).await.map_err(|_| "refresh failed")?;
            Ok::<_, &str>((issued.access_token, issued.refresh_token))
        }));
    }
    let mut pairs = Vec::new();
    for task in tasks {
        pairs.push(task.await.expect("join").expect("refresh"));
    }
    pairs.dedup();
    assert_eq!(pairs.len(), 1);
    assert_eq!(fixture.store.count(Collection::Tokens).await.expect("count"), 2);
}

#[tokio::test]
async fn refresh_failures_are_invalid_grants() {
    let fixture = fixture();
    let issued = fixture.service.create_tokens(&jack(), &elastic(), true).await.expect("create");
    let refresh_token = issued.refresh_token.clone().expect("refresh token");
    let kibana = user("kibana_system", RealmRef::reserved());
    let error = fixture.service.refresh(&refresh_token, &kibana).await.expect_err("other client");
    assert_eq!(invalid_grant(error), "tokens must be refreshed by the creating client");
    for unknown in ["garbage", issued.access_token.as_str(), &TokenPair::random(true).refresh.expect("r").encode()] {
        let error = fixture.service.refresh(unknown, &elastic()).await.expect_err("unknown");
        assert_eq!(invalid_grant(error), "could not refresh the requested token");
    }
    let result = fixture.service.invalidate_refresh_token(&refresh_token).await.expect("invalidate");
    assert_eq!(
        result.to_json(),
        json!({"invalidated_tokens": 1, "previously_invalidated_tokens": 0, "error_count": 0})
    );
    let error = fixture.service.refresh(&refresh_token, &elastic()).await.expect_err("invalidated");
    assert_eq!(invalid_grant(error), "token has been invalidated");
    // The access token of the pair is independent.
    assert!(matches!(outcome(&fixture, &issued.access_token).await, RealmOutcome::Success(_)));
    let again = fixture.service.invalidate_refresh_token(&refresh_token).await.expect("invalidate");
    assert_eq!(again.to_json()["previously_invalidated_tokens"], 1);
}

#[tokio::test]
async fn unknown_tokens_are_not_found_once_tokens_exist() {
    let fixture = fixture();
    let well_formed = TokenPair::random(true);
    let refresh = well_formed.refresh.clone().expect("refresh").encode();
    let error = fixture.service.invalidate_access_token(&well_formed.access.encode()).await.expect_err("no tokens yet");
    assert_eq!(
        (error.status, error.error_type.as_str(), error.reason.as_str()),
        (400, "security_exception", "failed to invalidate token")
    );
    assert_eq!(fixture.service.invalidate_refresh_token(&refresh).await.expect_err("no tokens yet").status, 400);
    // Strings that are not tokens at all are simply not found.
    assert_eq!(fixture.service.invalidate_access_token("fooobar").await.expect("garbage").status(), 404);

    fixture.service.create_tokens(&jack(), &elastic(), true).await.expect("create");
    let result = fixture.service.invalidate_access_token(&well_formed.access.encode()).await.expect("unknown");
    assert_eq!(
        (result.status(), result.to_json()),
        (404, json!({"invalidated_tokens": 0, "previously_invalidated_tokens": 0, "error_count": 0}))
    );
    assert_eq!(fixture.service.invalidate_refresh_token(&refresh).await.expect("unknown").status(), 404);
}

#[tokio::test]
async fn realm_and_user_invalidation_counts_both_tokens_of_a_grant() {
    let fixture = fixture();
    let first = fixture.service.create_tokens(&jack(), &elastic(), true).await.expect("create");
    fixture.service.create_tokens(&jack(), &elastic(), true).await.expect("create");
    let client_credentials = fixture.service.create_tokens(&jack(), &jack(), false).await.expect("create");
    let bob = fixture.service.create_tokens(&user("bob", RealmRef::native()), &elastic(), true).await.expect("create");
    let kibana = fixture
        .service
        .create_tokens(&user("kibana_system", RealmRef::reserved()), &elastic(), false)
        .await
        .expect("create");
    fixture.service.invalidate_access_token(&first.access_token).await.expect("invalidate");

    let by_user = fixture.service.invalidate_active_tokens(None, Some("jack")).await.expect("by user");
    assert_eq!(
        (by_user.status(), by_user.to_json()),
        (200, json!({"invalidated_tokens": 4, "previously_invalidated_tokens": 1, "error_count": 0}))
    );
    assert!(matches!(outcome(&fixture, &client_credentials.access_token).await, RealmOutcome::Terminate(_)));
    assert!(matches!(outcome(&fixture, &bob.access_token).await, RealmOutcome::Success(_)));

    let nothing = fixture.service.invalidate_active_tokens(Some("saml1"), None).await.expect("no tokens");
    assert_eq!((nothing.status(), nothing.to_json()["invalidated_tokens"].clone()), (200, json!(0)));
    let by_realm_and_user =
        fixture.service.invalidate_active_tokens(Some("default_native"), Some("kibana_system")).await.expect("x");
    assert_eq!(by_realm_and_user.to_json()["invalidated_tokens"], 0);
    let by_realm = fixture.service.invalidate_active_tokens(Some("default_native"), None).await.expect("by realm");
    assert_eq!(
        by_realm.to_json(),
        json!({"invalidated_tokens": 2, "previously_invalidated_tokens": 0, "error_count": 0})
    );
    assert!(matches!(outcome(&fixture, &bob.access_token).await, RealmOutcome::Terminate(_)));
    assert!(matches!(outcome(&fixture, &kibana.access_token).await, RealmOutcome::Success(_)));
}

#[tokio::test]
async fn disabled_service_issues_nothing_and_authenticates_nothing() {
    let enabled = fixture();
    let issued = enabled.service.create_tokens(&jack(), &elastic(), true).await.expect("create");
    let disabled = TokenService::new(Arc::clone(&enabled.store), &{
        let mut config = Config::for_test(enabled._dir.path());
        config.security.token.enabled = false;
        config
    });
    let error = disabled.create_tokens(&jack(), &elastic(), true).await.expect_err("disabled");
    assert_eq!(
        (error.status, error.error_type.as_str(), error.reason.as_str()),
        (400, "feature_not_enabled_exception", "security tokens are not enabled")
    );
    assert_eq!(error.metadata.get("disabled.feature"), Some(&json!("security_tokens")));
    assert!(matches!(disabled.authenticate_token(&issued.access_token).await.expect("auth"), RealmOutcome::Continue));
}

#[tokio::test]
async fn expires_in_follows_the_timeout_setting() {
    assert_eq!(fixture().service.expires_in_seconds(), 1200);
    let short = fixture_with(|config| config.security.token.timeout = Duration::from_secs(1));
    assert_eq!(short.service.expires_in_seconds(), 1);
    let issued = short.service.create_tokens(&jack(), &elastic(), false).await.expect("create");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(matches!(outcome(&short, &issued.access_token).await, RealmOutcome::Terminate(_)));
}

#[tokio::test]
async fn documents_older_than_a_day_are_removed() {
    let fixture = fixture();
    let old = fixture.service.create_tokens(&jack(), &elastic(), true).await.expect("create");
    let young = fixture.service.create_tokens(&jack(), &elastic(), true).await.expect("create");
    rewrite_doc(&fixture, &old.access_token, |source| {
        source["creation_time"] = json!(now_millis() - MAXIMUM_TOKEN_LIFETIME_MILLIS - 1000);
    })
    .await;
    assert_eq!(remove_expired(fixture.store.as_ref(), now_millis()).await.expect("sweep"), 1);
    assert!(matches!(outcome(&fixture, &old.access_token).await, RealmOutcome::Continue));
    assert!(matches!(outcome(&fixture, &young.access_token).await, RealmOutcome::Success(_)));
}
