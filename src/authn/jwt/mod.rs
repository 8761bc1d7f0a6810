//! The JWT realm (Elasticsearch's `jwt` realm type): bearer JWTs signed with an HMAC key or a key of a
//! JWK set file, checked against the realm's issuer, audiences, algorithms, dates and subjects, with the
//! client authenticated by a shared secret (`ES-Client-Authentication: SharedSecret <secret>`).
//!
//! A token this realm does not accept leaves the decision to the next realm (`Continue`), as
//! Elasticsearch's realm answers `unsuccessful` for every JWT failure; the chain then reports its
//! generic 401. Roles come from role mappings, evaluated on every authentication so that a mapping
//! change applies at once; the validated claims of a token are cached (`jwt.cache.*`) by a digest of
//! the token until the token expires. Tokens, secrets and keys are never logged.

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use axum::http::HeaderMap;
use quick_cache::sync::Cache;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::realm::{Realm, RealmOutcome};
use super::{Authentication, RealmRef};
use crate::config::RealmConfig;
use crate::domain::role_mapping::UserData;
use crate::domain::user::UserView;
use crate::error::EsError;
use crate::service::role_mappings::RoleMapper;
use crate::store::Store;

mod keys;
mod settings;
mod token;

use keys::{Jwk, PkcJwkSet};
use settings::JwtSettings;
/// For the realm chain's 401 of a JWT no realm accepts (see `token_principal`).
#[allow(unused_imports)]
pub(crate) use token::token_principal;
use token::ParsedJwt;

/// The header carrying the client's credentials.
const CLIENT_AUTHENTICATION_HEADER: &str = "es-client-authentication";
/// The scheme of a shared-secret client credential.
const SHARED_SECRET_SCHEME: &str = "SharedSecret";

/// What a validated token says about its user (roles are mapped at each authentication).
#[derive(Debug, Clone, PartialEq)]
struct JwtIdentity {
    username: String,
    full_name: Option<String>,
    email: Option<String>,
    dn: Option<String>,
    groups: Vec<String>,
    metadata: Map<String, Value>,
}

#[derive(Debug, Clone)]
struct CachedIdentity {
    identity: Arc<JwtIdentity>,
    /// `exp` plus the allowed clock skew, in epoch milliseconds.
    usable_until_millis: i64,
    inserted_at: Instant,
}

/// Checks tokens against the realm's settings and keys; shared with the blocking pool.
#[derive(Debug)]
struct Validator {
    settings: JwtSettings,
    hmac_keys: Option<Vec<Jwk>>,
    pkc_keys: Option<PkcJwkSet>,
}

impl Validator {
    /// Validates a parsed token completely (claims, then signature) and extracts its user.
    fn validate(&self, jwt: &ParsedJwt, now_millis: i64) -> Result<JwtIdentity, String> {
        jwt.validate_claims(&self.settings, now_millis)?;
        self.verify_signature(jwt)?;
        self.identity(jwt)
    }

    fn verify_signature(&self, jwt: &ParsedJwt) -> Result<(), String> {
        let algorithm = jwt.algorithm.as_str();
        let signing_input = jwt.signing_input.as_bytes();
        if settings::HMAC_ALGORITHMS.contains(&algorithm) {
            let Some(hmac_keys) = &self.hmac_keys else {
                return Err(format!(
                    "algorithm [{algorithm}] is a HMAC signing algorithm, but none of the HMAC JWK settings [{}, {}] is configured",
                    self.settings.key("hmac_key"),
                    self.settings.key("hmac_jwkset")
                ));
            };
            return keys::verify_with(hmac_keys, jwt.kid.as_deref(), algorithm, signing_input, &jwt.signature);
        }
        let Some(pkc_keys) = &self.pkc_keys else {
            return Err(format!(
                "algorithm [{algorithm}] is a PKC signing algorithm, but PKC JWK setting [{}] is not configured",
                self.settings.key("pkc_jwkset_path")
            ));
        };
        let first_attempt =
            keys::verify_with(&pkc_keys.keys(), jwt.kid.as_deref(), algorithm, signing_input, &jwt.signature);
        if first_attempt.is_ok() || !pkc_keys.reload(true) {
            return first_attempt;
        }
        // The key set changed on disk since it was last read: try the new keys once.
        keys::verify_with(&pkc_keys.keys(), jwt.kid.as_deref(), algorithm, signing_input, &jwt.signature)
    }

    fn identity(&self, jwt: &ParsedJwt) -> Result<JwtIdentity, String> {
        let settings = &self.settings;
        let username = jwt
            .claim_value(settings, &settings.principal)?
            .filter(|principal| !principal.trim().is_empty())
            .ok_or_else(|| {
                format!("no principal in claim [{}]", settings.principal.claim.as_deref().unwrap_or_default())
            })?;
        Ok(JwtIdentity {
            username,
            full_name: jwt.claim_value(settings, &settings.name)?,
            email: jwt.claim_value(settings, &settings.mail)?,
            dn: jwt.claim_value(settings, &settings.dn)?,
            groups: jwt.claim_values(settings, &settings.groups)?,
            metadata: jwt.user_metadata(settings),
        })
    }
}

/// A realm of type `jwt`.
pub(crate) struct JwtRealm {
    realm: RealmRef,
    validator: Arc<Validator>,
    /// Validated tokens by SHA-256 of the token; `None` when `jwt.cache.ttl` or `jwt.cache.size` is 0.
    cache: Option<Cache<[u8; 32], CachedIdentity>>,
    role_mapper: RoleMapper,
}

impl std::fmt::Debug for JwtRealm {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("JwtRealm")
            .field("realm", &self.realm)
            .field("settings", &self.validator.settings)
            .finish_non_exhaustive()
    }
}

impl JwtRealm {
    /// Builds the realm from its settings; reads the JWK set file (relative to `config_dir`).
    pub(crate) fn new(
        config: &RealmConfig,
        realm: RealmRef,
        config_dir: &std::path::Path,
        store: Arc<dyn Store>,
    ) -> anyhow::Result<JwtRealm> {
        let settings = JwtSettings::from_config(config, config_dir)?;
        let hmac_keys = keys::hmac_keys(&settings)?;
        let pkc_keys = match &settings.pkc_jwkset_path {
            Some(path) => Some(PkcJwkSet::open(&settings, path.clone())?),
            None => None,
        };
        let has_usable_keys = hmac_keys.as_ref().is_some_and(|keys| !keys.is_empty())
            || pkc_keys.as_ref().is_some_and(|keys| !keys.keys().is_empty());
        if !has_usable_keys {
            tracing::warn!(
                realm = %settings.realm_name,
                "No available JWK and algorithm for HMAC or PKC. JWT realm authentication expected to fail until this is fixed."
            );
        }
        let cache = (!settings.cache_ttl.is_zero() && settings.cache_size > 0).then(|| Cache::new(settings.cache_size));
        Ok(JwtRealm {
            realm,
            validator: Arc::new(Validator { settings, hmac_keys, pkc_keys }),
            cache,
            role_mapper: RoleMapper::new(store),
        })
    }

    /// `JwtUtil.validateClientAuthentication`: with a shared secret configured, the request must carry
    /// `ES-Client-Authentication: SharedSecret <secret>` (scheme case-insensitive), compared in constant time.
    fn check_client_authentication(&self, headers: &HeaderMap) -> Result<(), &'static str> {
        let Some(expected) = &self.validator.settings.shared_secret else {
            return Ok(());
        };
        let presented = headers
            .get(CLIENT_AUTHENTICATION_HEADER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                let scheme_length = SHARED_SECRET_SCHEME.len() + 1;
                let prefix = value.get(..scheme_length)?;
                prefix.eq_ignore_ascii_case("SharedSecret ").then(|| value[scheme_length..].trim())
            })
            .filter(|secret| !secret.is_empty());
        let Some(presented) = presented else {
            return Err("Rejected client. Authentication type is [shared_secret] and secret is missing.");
        };
        let presented_digest = Sha256::digest(presented.as_bytes());
        let expected_digest = Sha256::digest(expected.as_bytes());
        if bool::from(presented_digest.ct_eq(&expected_digest)) {
            Ok(())
        } else {
            Err("Rejected client. Authentication type is [shared_secret] and secret did not match.")
        }
    }

    fn cached(&self, key: &[u8; 32], now_millis: i64) -> Option<Arc<JwtIdentity>> {
        let entry = self.cache.as_ref()?.get(key)?;
        let fresh =
            entry.inserted_at.elapsed() < self.validator.settings.cache_ttl && now_millis < entry.usable_until_millis;
        fresh.then_some(entry.identity)
    }

    async fn authentication(&self, identity: &JwtIdentity) -> Result<Authentication, EsError> {
        let user_data = UserData {
            username: identity.username.clone(),
            dn: identity.dn.clone(),
            groups: identity.groups.clone(),
            metadata: identity.metadata.clone(),
            realm_name: self.realm.name.clone(),
        };
        let roles = self.role_mapper.resolve_roles(&user_data).await?;
        tracing::debug!(realm = %self.realm.name, principal = %identity.username, roles = ?roles, "JWT authenticated");
        Ok(Authentication {
            user: UserView {
                username: identity.username.clone(),
                roles,
                full_name: identity.full_name.clone(),
                email: identity.email.clone(),
                metadata: identity.metadata.clone(),
                enabled: true,
            },
            realm: self.realm.clone(),
            authentication_type: "realm",
        })
    }
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
}

#[async_trait]
impl Realm for JwtRealm {
    fn realm_ref(&self) -> &RealmRef {
        &self.realm
    }

    #[tracing::instrument(level = "debug", skip_all, fields(realm = %self.realm.name))]
    async fn authenticate_bearer(&self, token: &str, headers: &HeaderMap) -> Result<RealmOutcome, EsError> {
        let Some(jwt) = ParsedJwt::parse(token) else {
            return Ok(RealmOutcome::Continue);
        };
        if let Err(reason) = self.check_client_authentication(headers) {
            tracing::debug!(reason, "JWT client authentication failed");
            return Ok(RealmOutcome::Continue);
        }
        if let Some(pkc_keys) = &self.validator.pkc_keys {
            if pkc_keys.reload(false) {
                // New keys may drop old ones: forget what the old keys validated.
                if let Some(cache) = &self.cache {
                    cache.clear();
                }
            }
        }
        let cache_key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let now = now_millis();
        if let Some(identity) = self.cached(&cache_key, now) {
            return self.authentication(&identity).await.map(RealmOutcome::Success);
        }
        let validator = Arc::clone(&self.validator);
        // Signature checks (RSA, ECDSA) and a possible key file reload run off the async workers.
        let validation = tokio::task::spawn_blocking(move || {
            let outcome = validator.validate(&jwt, now);
            (outcome, jwt.expires_at_millis())
        })
        .await
        .map_err(|_| EsError::internal("JWT validation failed"))?;
        let identity = match validation.0 {
            Ok(identity) => Arc::new(identity),
            Err(reason) => {
                tracing::debug!(%reason, "JWT validation failed");
                return Ok(RealmOutcome::Continue);
            }
        };
        if let Some(cache) = &self.cache {
            let skew_millis =
                i64::try_from(self.validator.settings.allowed_clock_skew.as_millis()).unwrap_or(i64::MAX / 2);
            let entry = CachedIdentity {
                identity: Arc::clone(&identity),
                usable_until_millis: validation.1.saturating_add(skew_millis),
                inserted_at: Instant::now(),
            };
            cache.insert(cache_key, entry);
        }
        self.authentication(&identity).await.map(RealmOutcome::Success)
    }
}

#[cfg(test)]
mod test_keys;
#[cfg(test)]
mod tests;
