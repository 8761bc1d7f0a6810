//! The token service: Elasticsearch's OAuth2-style access and refresh tokens (`/_security/oauth2/token`).
//!
//! Tokens are stored hashed in [`Collection::Tokens`], one document per grant (see [`document`] and
//! [`format`]), together with a snapshot of the authentication they stand for, so they survive restarts and
//! keep the user as it was when the token was created, as in Elasticsearch. Every state change (refresh,
//! invalidation) is one atomic [`Store::update`] of that document, so a refresh token is used once and an
//! invalidation takes effect for the very next request. Documents are deleted 24 hours after creation (the
//! refresh token lifetime) by a sweep that runs at most every 30 minutes, started lazily by token requests
//! (Elasticsearch's `ExpiredTokenRemover`).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::realm::RealmOutcome;
use super::{Authentication, TokenAuthenticator};
use crate::config::Config;
use crate::error::EsError;
use crate::store::{Collection, Decision, Store};

mod document;
mod format;
mod kerberos;

pub(crate) use kerberos::{kerberos_grant_failure, KerberosFailure};

use document::{
    RefreshCheck, RefreshClient, StoredAuthentication, TokenDoc, COULD_NOT_REFRESH, MAXIMUM_TOKEN_LIFETIME_MILLIS,
};
use format::{decode_salt, hashes_match, random_salt, RawToken, TokenPair};

/// The `WWW-Authenticate` value of an expired (or invalidated) access token (RFC 6750 §3.1).
pub(crate) const EXPIRED_TOKEN_CHALLENGE: &str =
    "Bearer realm=\"security\", error=\"invalid_token\", error_description=\"The access token expired\"";
/// How often expired documents are swept (`xpack.security.authc.token.delete.interval`).
const DELETE_INTERVAL_MILLIS: i64 = 30 * 60 * 1000;

/// Issues, authenticates, refreshes and invalidates access and refresh tokens.
#[derive(Debug)]
pub struct TokenService {
    store: Arc<dyn Store>,
    enabled: bool,
    timeout: Duration,
    /// When the next expired-token sweep is due (milliseconds since the epoch).
    next_removal_millis: AtomicI64,
}

/// Tokens handed to a client, with the authentication they were issued for.
pub(crate) struct IssuedTokens {
    pub(crate) access_token: String,
    pub(crate) refresh_token: Option<String>,
    pub(crate) authentication: Authentication,
}

impl std::fmt::Debug for IssuedTokens {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("IssuedTokens").field("authentication", &self.authentication).finish_non_exhaustive()
    }
}

/// Why a refresh failed.
#[derive(Debug)]
pub(crate) enum RefreshError {
    /// Rendered by the token endpoint as `{"error":"invalid_grant","error_description":..}` (RFC 6749 §5.2).
    InvalidGrant(&'static str),
    /// Any other failure, rendered as an Elasticsearch error.
    Failed(EsError),
}

impl From<EsError> for RefreshError {
    fn from(error: EsError) -> Self {
        RefreshError::Failed(error)
    }
}

/// The outcome of an invalidation (Elasticsearch's `TokensInvalidationResult`).
#[derive(Debug, Default)]
pub(crate) struct InvalidationResult {
    invalidated: usize,
    previously_invalidated: usize,
    errors: Vec<EsError>,
    /// 404 when a single token was not found, else 200.
    not_found: bool,
}

impl InvalidationResult {
    fn not_found() -> InvalidationResult {
        InvalidationResult { not_found: true, ..InvalidationResult::default() }
    }

    fn count(&mut self, changed: bool) {
        if changed {
            self.invalidated += 1;
        } else {
            self.previously_invalidated += 1;
        }
    }

    /// Returns the HTTP status of the response.
    pub(crate) fn status(&self) -> u16 {
        if self.not_found {
            404
        } else {
            200
        }
    }

    /// Renders `{"invalidated_tokens":N,"previously_invalidated_tokens":M,"error_count":E[,"error_details":[..]]}`.
    pub(crate) fn to_json(&self) -> Value {
        let mut body = json!({
            "invalidated_tokens": self.invalidated,
            "previously_invalidated_tokens": self.previously_invalidated,
            "error_count": self.errors.len(),
        });
        if !self.errors.is_empty() {
            body["error_details"] = Value::Array(self.errors.iter().map(EsError::to_detail_json).collect());
        }
        body
    }
}

fn now_millis() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|elapsed| elapsed.as_millis() as i64).unwrap_or(0)
}

/// The 401 of an expired or invalidated access token (Elasticsearch's `expiredTokenException`).
fn expired_token_error() -> EsError {
    EsError::unauthenticated("token expired", &[EXPIRED_TOKEN_CHALLENGE])
}

/// Runs `decide` on the parsed token document `doc_id` inside one atomic store update. `decide` returns the
/// document to write (if any) and a value handed back to the caller.
async fn update_token_doc<T: Send + 'static>(
    store: &dyn Store,
    doc_id: &str,
    decide: impl FnOnce(Option<TokenDoc>) -> Result<(Option<TokenDoc>, T), EsError> + Send + 'static,
) -> Result<T, EsError> {
    let decided = Arc::new(Mutex::new(None));
    let decided_in_update = Arc::clone(&decided);
    store
        .update(
            Collection::Tokens,
            doc_id,
            Box::new(move |current| {
                let parsed = current.map(|doc| TokenDoc::from_source(&doc.source)).transpose()?;
                let (to_write, value) = decide(parsed)?;
                if let Ok(mut slot) = decided_in_update.lock() {
                    *slot = Some(value);
                }
                Ok(match to_write {
                    Some(doc) => Decision::Put { key: Some(doc.lookup_key()), source: doc.to_source()? },
                    None => Decision::Noop,
                })
            }),
        )
        .await??;
    let value = decided.lock().ok().and_then(|mut slot| slot.take());
    value.ok_or_else(|| EsError::internal("token update did not run"))
}

impl TokenService {
    /// Returns the service over `store`, configured by `xpack.security.authc.token.*`.
    pub(crate) fn new(store: Arc<dyn Store>, config: &Config) -> TokenService {
        TokenService {
            store,
            enabled: config.security.token.enabled,
            timeout: config.security.token.timeout,
            next_removal_millis: AtomicI64::new(0),
        }
    }

    /// Returns the lifetime of access tokens in seconds (`expires_in`).
    pub(crate) fn expires_in_seconds(&self) -> u64 {
        self.timeout.as_secs()
    }

    fn ensure_enabled(&self) -> Result<(), EsError> {
        if self.enabled {
            return Ok(());
        }
        Err(EsError::new(400, "feature_not_enabled_exception", "security tokens are not enabled")
            .with_metadata("disabled.feature", "security_tokens"))
    }

    /// Issues a token for `authentication`, requested by `client`; with a refresh token for the password
    /// grant, without one for `client_credentials`.
    pub(crate) async fn create_tokens(
        &self,
        authentication: &Authentication,
        client: &Authentication,
        with_refresh_token: bool,
    ) -> Result<IssuedTokens, EsError> {
        self.ensure_enabled()?;
        let pair = TokenPair::random(with_refresh_token);
        let stored = StoredAuthentication::of(authentication);
        self.store_pair(&pair, stored, RefreshClient::of(client), Map::new(), false).await?;
        self.maybe_remove_expired();
        Ok(IssuedTokens {
            access_token: pair.access.encode(),
            refresh_token: pair.refresh.as_ref().map(RawToken::encode),
            authentication: authentication.clone(),
        })
    }

    /// Writes the document of a new pair; `only_if_missing` makes re-creating the same pair a no-op.
    async fn store_pair(
        &self,
        pair: &TokenPair,
        authentication: StoredAuthentication,
        client: RefreshClient,
        metadata: Map<String, Value>,
        only_if_missing: bool,
    ) -> Result<(), EsError> {
        let now = now_millis();
        let expiration = now + i64::try_from(self.timeout.as_millis()).unwrap_or(i64::MAX / 2);
        let refresh = pair.refresh.as_ref().map(|refresh| (refresh.hash(), client));
        let doc = TokenDoc::new(pair.access.hash(), refresh, authentication, metadata, now, expiration);
        let key = doc.lookup_key();
        let source = doc.to_source()?;
        self.store
            .update(
                Collection::Tokens,
                &pair.access.doc_id(),
                Box::new(move |current| match current {
                    None => Ok(Decision::Put { source, key: Some(key) }),
                    Some(_) if only_if_missing => Ok(Decision::Noop),
                    Some(_) => Err(EsError::internal("failed to create token document")),
                }),
            )
            .await??;
        Ok(())
    }

    /// Exchanges a refresh token for a new pair (`grant_type: refresh_token`). The refresh token is used
    /// once; repeating the request within 30 seconds returns the same new pair (concurrent refreshes).
    pub(crate) async fn refresh(
        &self,
        refresh_token: &str,
        client: &Authentication,
    ) -> Result<IssuedTokens, RefreshError> {
        self.ensure_enabled()?;
        let Some(presented) = RawToken::decode(refresh_token) else {
            return Err(RefreshError::InvalidGrant(COULD_NOT_REFRESH));
        };
        let presented_hash = presented.hash();
        let caller = RefreshClient::of(client);
        let caller_in_update = caller.clone();
        let fresh_salt = random_salt();
        let now = now_millis();
        let decided = update_token_doc(self.store.as_ref(), &presented.doc_id(), move |current| {
            let Some(mut doc) = current else {
                return Ok((None, Err(COULD_NOT_REFRESH)));
            };
            let owns_refresh_token =
                doc.refresh_token.as_ref().is_some_and(|refresh| hashes_match(&refresh.token, &presented_hash));
            if !owns_refresh_token {
                return Ok((None, Err(COULD_NOT_REFRESH)));
            }
            match doc.check_refresh(now, &caller_in_update) {
                Err(description) => Ok((None, Err(description))),
                Ok(RefreshCheck::Refresh) => {
                    doc.mark_refreshed(now, fresh_salt.clone());
                    Ok((Some(doc.clone()), Ok((fresh_salt, doc))))
                }
                Ok(RefreshCheck::ReuseSuperseding { salt }) => Ok((None, Ok((salt, doc)))),
            }
        })
        .await?;
        let (salt, refreshed_doc) = decided.map_err(RefreshError::InvalidGrant)?;
        let salt_bytes = decode_salt(&salt).ok_or(RefreshError::InvalidGrant(COULD_NOT_REFRESH))?;
        let pair = TokenPair::superseding(&presented, &salt_bytes);
        let user_token = refreshed_doc.access_token.user_token;
        // Also re-creates the superseding document if a crash lost it between the two writes.
        self.store_pair(&pair, user_token.authentication.clone(), caller, user_token.metadata, true).await?;
        Ok(IssuedTokens {
            access_token: pair.access.encode(),
            refresh_token: pair.refresh.as_ref().map(RawToken::encode),
            authentication: user_token.authentication.to_token_authentication(),
        })
    }

    /// Invalidates one access token (`{"token": ..}`): 404 when it is unknown.
    pub(crate) async fn invalidate_access_token(&self, access_token: &str) -> Result<InvalidationResult, EsError> {
        self.ensure_enabled()?;
        self.maybe_remove_expired();
        let Some(presented) = RawToken::decode(access_token) else {
            return Ok(InvalidationResult::not_found());
        };
        self.ensure_tokens_exist().await?;
        let presented_hash = presented.hash();
        let changed = update_token_doc(self.store.as_ref(), &presented.doc_id(), move |current| {
            let Some(mut doc) = current.filter(|doc| hashes_match(&doc.access_token.token, &presented_hash)) else {
                return Ok((None, None));
            };
            let changed = doc.invalidate_access();
            Ok((changed.then_some(doc), Some(changed)))
        })
        .await?;
        Ok(single_result(changed))
    }

    /// Invalidates one refresh token (`{"refresh_token": ..}`): 404 when it is unknown.
    pub(crate) async fn invalidate_refresh_token(&self, refresh_token: &str) -> Result<InvalidationResult, EsError> {
        self.ensure_enabled()?;
        self.maybe_remove_expired();
        let Some(presented) = RawToken::decode(refresh_token) else {
            return Ok(InvalidationResult::not_found());
        };
        self.ensure_tokens_exist().await?;
        let presented_hash = presented.hash();
        let changed = update_token_doc(self.store.as_ref(), &presented.doc_id(), move |current| {
            let Some(mut doc) = current else {
                return Ok((None, None));
            };
            if !doc.refresh_token.as_ref().is_some_and(|refresh| hashes_match(&refresh.token, &presented_hash)) {
                return Ok((None, None));
            }
            let changed = doc.invalidate_refresh();
            Ok((changed.filter(|changed| *changed).map(|_| doc), changed))
        })
        .await?;
        Ok(single_result(changed))
    }

    /// Invalidates every active token of a realm and/or user (`realm_name`, `username`); each grant counts
    /// its refresh token and its access token.
    pub(crate) async fn invalidate_active_tokens(
        &self,
        realm_name: Option<&str>,
        username: Option<&str>,
    ) -> Result<InvalidationResult, EsError> {
        self.ensure_enabled()?;
        self.maybe_remove_expired();
        let realm_name = realm_name.filter(|name| !name.is_empty());
        let username = username.filter(|name| !name.trim().is_empty());
        let candidates = match (realm_name, username) {
            (None, None) => return Err(EsError::illegal_argument("realm name or username must be provided")),
            (None, Some(username)) => self.store.find_by_key(Collection::Tokens, username).await?,
            (Some(_), _) => self.store.list(Collection::Tokens).await?,
        };
        let now = now_millis();
        let mut result = InvalidationResult::default();
        for candidate in candidates {
            let Ok(doc) = TokenDoc::from_source(&candidate.source) else {
                continue;
            };
            let user_matches = username.is_none_or(|username| doc.lookup_key() == username);
            let realm_matches = realm_name.is_none_or(|realm_name| doc.access_token.realm == realm_name);
            if !(user_matches && realm_matches && doc.is_active(now)) {
                continue;
            }
            let changes = update_token_doc(self.store.as_ref(), &candidate.id, |current| {
                let Some(mut doc) = current else {
                    return Ok((None, None));
                };
                let refresh_changed = doc.invalidate_refresh();
                let access_changed = doc.invalidate_access();
                let write = refresh_changed == Some(true) || access_changed;
                Ok((write.then_some(doc), Some((refresh_changed, access_changed))))
            })
            .await;
            match changes {
                Ok(Some((refresh_changed, access_changed))) => {
                    if let Some(refresh_changed) = refresh_changed {
                        result.count(refresh_changed);
                    }
                    result.count(access_changed);
                }
                Ok(None) => {}
                Err(error) => {
                    result.errors.push(EsError::internal("Error invalidating access_token: ").with_cause(error))
                }
            }
        }
        Ok(result)
    }

    /// Elasticsearch answers 400 for a well-formed token before any token was ever created (the tokens
    /// index does not exist yet).
    async fn ensure_tokens_exist(&self) -> Result<(), EsError> {
        if self.store.collection_exists(Collection::Tokens).await? {
            return Ok(());
        }
        Err(EsError::new(400, "security_exception", "failed to invalidate token"))
    }

    /// Starts a sweep of expired documents in the background when one is due.
    fn maybe_remove_expired(&self) {
        let now = now_millis();
        let due = self.next_removal_millis.load(Ordering::Acquire);
        if now < due
            || self
                .next_removal_millis
                .compare_exchange(due, now + DELETE_INTERVAL_MILLIS, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
        {
            return;
        }
        let store = Arc::clone(&self.store);
        tokio::spawn(async move {
            match remove_expired(store.as_ref(), now).await {
                Ok(0) => {}
                Ok(removed) => tracing::debug!(removed, "removed expired token documents"),
                Err(error) => tracing::warn!(reason = %error.reason, "expired token removal failed"),
            }
        });
    }
}

fn single_result(changed: Option<bool>) -> InvalidationResult {
    match changed {
        None => InvalidationResult::not_found(),
        Some(changed) => {
            let mut result = InvalidationResult::default();
            result.count(changed);
            result
        }
    }
}

/// Deletes the documents created more than 24 hours before `now_millis`; returns how many.
async fn remove_expired(store: &dyn Store, now_millis: i64) -> Result<usize, EsError> {
    let cutoff = now_millis - MAXIMUM_TOKEN_LIFETIME_MILLIS;
    let is_removable = move |source: &Value| source["creation_time"].as_i64().is_some_and(|created| created < cutoff);
    let mut removed = 0;
    for doc in store.list(Collection::Tokens).await? {
        if !is_removable(&doc.source) {
            continue;
        }
        let outcome = store
            .update(
                Collection::Tokens,
                &doc.id,
                Box::new(move |current| {
                    Ok(if current.is_some_and(|doc| is_removable(&doc.source)) {
                        Decision::Delete
                    } else {
                        Decision::Noop
                    })
                }),
            )
            .await??;
        if matches!(outcome, crate::store::UpdateOutcome::Deleted(_)) {
            removed += 1;
        }
    }
    Ok(removed)
}

#[async_trait]
impl TokenAuthenticator for TokenService {
    /// Authenticates `Authorization: Bearer <access token>`: strings that are not our tokens (or unknown
    /// ones) are left to the rest of the chain; expired and invalidated tokens end it with `token expired`.
    async fn authenticate_token(&self, token: &str) -> Result<RealmOutcome, EsError> {
        if !self.enabled {
            return Ok(RealmOutcome::Continue);
        }
        let Some(presented) = RawToken::decode(token) else {
            return Ok(RealmOutcome::Continue);
        };
        let Some(stored) = self.store.get(Collection::Tokens, &presented.doc_id()).await? else {
            return Ok(RealmOutcome::Continue);
        };
        let doc = TokenDoc::from_source(&stored.source)?;
        if !hashes_match(&doc.access_token.token, &presented.hash()) {
            return Ok(RealmOutcome::Continue);
        }
        if doc.is_access_expired(now_millis()) || doc.access_token.invalidated {
            return Ok(RealmOutcome::Terminate(expired_token_error()));
        }
        Ok(RealmOutcome::Success(doc.access_token.user_token.authentication.to_token_authentication()))
    }
}

#[cfg(test)]
mod tests;
