//! Authentication: who is calling.
//!
//! The realm chain tries the reserved realm (built-in users such as `elastic`) and then the native realm
//! (`default_native`), as Elasticsearch does with its default configuration. Successful password checks
//! are cached (bounded, with a time to live, invalidated on every change to the user) so that repeated
//! requests do not pay for bcrypt; password hashing itself always runs off the async workers.

use std::sync::Arc;
use std::time::Instant;

use axum::http::HeaderMap;
use base64::Engine;
use serde_json::{json, Value};

use crate::config::Config;
use crate::domain::user::{reserved_user_doc_id, reserved_user_roles, ReservedUserState, UserRecord, UserView};
use crate::error::{EsError, BASIC_CHALLENGE};
use crate::store::{Collection, Store, StoreError};

pub(crate) mod cache;
pub(crate) mod hash;

use cache::CredentialCache;

/// The realm that authenticated (or looked up) a user.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RealmRef {
    /// Realm name, e.g. `default_native`.
    pub name: String,
    /// Realm type, e.g. `native`.
    pub realm_type: String,
}

impl RealmRef {
    /// The reserved realm of the built-in users.
    pub fn reserved() -> RealmRef {
        RealmRef { name: "reserved".into(), realm_type: "reserved".into() }
    }

    /// The default native realm.
    pub fn native() -> RealmRef {
        RealmRef { name: "default_native".into(), realm_type: "native".into() }
    }

    fn to_json(&self) -> Value {
        json!({ "name": self.name, "type": self.realm_type })
    }
}

/// The outcome of a successful authentication.
#[derive(Debug, Clone, PartialEq)]
pub struct Authentication {
    pub(crate) user: UserView,
    pub(crate) realm: RealmRef,
    /// `realm`, `token`, `anonymous`, ... as `_authenticate` reports it.
    pub(crate) authentication_type: &'static str,
}

impl Authentication {
    /// Returns the authenticated username.
    pub fn username(&self) -> &str {
        &self.user.username
    }

    /// Renders the `GET /_security/_authenticate` response.
    pub(crate) fn to_authenticate_json(&self) -> Value {
        let mut body = self.user.to_json();
        if let Value::Object(object) = &mut body {
            object.insert("authentication_realm".into(), self.realm.to_json());
            object.insert("lookup_realm".into(), self.realm.to_json());
            object.insert("authentication_type".into(), Value::String(self.authentication_type.to_string()));
        }
        body
    }
}

/// A username and password taken from a request; the password is never printed.
#[derive(Clone)]
pub(crate) struct PasswordCredentials {
    pub(crate) username: String,
    pub(crate) password: String,
}

impl std::fmt::Debug for PasswordCredentials {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("PasswordCredentials").field("username", &self.username).finish_non_exhaustive()
    }
}

/// Credentials found in the `Authorization` header.
#[derive(Debug)]
pub(crate) enum RequestCredentials {
    Basic(PasswordCredentials),
    Bearer(String),
    Malformed,
    Missing,
}

/// Reads the `Authorization` header.
pub(crate) fn credentials_from_headers(headers: &HeaderMap) -> RequestCredentials {
    let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else {
        return RequestCredentials::Missing;
    };
    let Ok(text) = value.to_str() else {
        return RequestCredentials::Malformed;
    };
    let (scheme, rest) = text.split_once(' ').unwrap_or((text, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(rest.trim()) else {
            return RequestCredentials::Malformed;
        };
        let Ok(decoded_text) = String::from_utf8(decoded) else {
            return RequestCredentials::Malformed;
        };
        let Some((username, password)) = decoded_text.split_once(':') else {
            return RequestCredentials::Malformed;
        };
        return RequestCredentials::Basic(PasswordCredentials {
            username: username.to_string(),
            password: password.to_string(),
        });
    }
    if scheme.eq_ignore_ascii_case("bearer") {
        return RequestCredentials::Bearer(rest.trim().to_string());
    }
    RequestCredentials::Malformed
}

/// The ordered realms of this node.
#[derive(Debug)]
pub struct RealmChain {
    store: Arc<dyn Store>,
    cache: CredentialCache,
}

impl RealmChain {
    /// Returns the chain of the reserved and native realms over `store`.
    pub fn new(store: Arc<dyn Store>, config: &Config) -> RealmChain {
        RealmChain {
            store,
            cache: CredentialCache::new(config.authentication_cache_max_users, config.authentication_cache_ttl),
        }
    }

    /// Returns the `WWW-Authenticate` challenges of the enabled schemes.
    pub(crate) fn challenges(&self) -> &'static [&'static str] {
        &[BASIC_CHALLENGE]
    }

    /// Authenticates the caller of a REST request from its headers.
    pub(crate) async fn authenticate_request(&self, headers: &HeaderMap, uri: &str) -> Result<Authentication, EsError> {
        match credentials_from_headers(headers) {
            RequestCredentials::Basic(credentials) => {
                let username = credentials.username.clone();
                match self.authenticate_password(credentials).await? {
                    Some(authentication) => Ok(authentication),
                    None => Err(EsError::unauthenticated(
                        format!("unable to authenticate user [{username}] for REST request [{uri}]"),
                        self.challenges(),
                    )),
                }
            }
            RequestCredentials::Missing => Err(EsError::unauthenticated(
                format!("missing authentication credentials for REST request [{uri}]"),
                self.challenges(),
            )),
            RequestCredentials::Bearer(_) | RequestCredentials::Malformed => Err(EsError::unauthenticated(
                format!("unable to authenticate with provided credentials and anonymous access is not allowed for this request"),
                self.challenges(),
            )),
        }
    }

    /// Checks a username and password against the realms; `None` when no realm accepts them.
    pub(crate) async fn authenticate_password(
        &self,
        credentials: PasswordCredentials,
    ) -> Result<Option<Authentication>, StoreError> {
        if let Some(authentication) = self.cache.lookup(&credentials.username, credentials.password.as_bytes()) {
            return Ok(Some(authentication));
        }
        let generation_at_load = self.cache.generation();
        let Some((stored_hash, authentication)) = self.load_user(&credentials.username).await? else {
            return Ok(None);
        };
        if !authentication.user.enabled {
            return Ok(None);
        }
        let PasswordCredentials { username, password } = credentials;
        let verified = tokio::task::spawn_blocking(move || {
            let verified = hash::verify_hash(password.as_bytes(), &stored_hash);
            (verified, password)
        })
        .await
        .map_err(|error| StoreError::Backend(error.to_string()))?;
        let (is_valid, password) = verified;
        if !is_valid {
            return Ok(None);
        }
        let authentication = Arc::new(authentication);
        self.cache.insert(&username, password.as_bytes(), Arc::clone(&authentication), Instant::now(), generation_at_load);
        Ok(Some((*authentication).clone()))
    }

    /// Authenticates a bearer token (token service access tokens, JWTs); `None` when no realm accepts it.
    /// The token service and JWT realms plug in here.
    pub(crate) async fn authenticate_bearer(&self, token: &str) -> Result<Option<Authentication>, StoreError> {
        let _ = token;
        Ok(None)
    }

    /// Looks a user up without a password (run-as, profile `with_profile_uid`); `None` when unknown.
    pub(crate) async fn lookup_user(&self, username: &str) -> Result<Option<Authentication>, StoreError> {
        Ok(self.load_user(username).await?.map(|(_, authentication)| authentication))
    }

    /// Loads the stored password hash and the would-be authentication of `username`.
    async fn load_user(&self, username: &str) -> Result<Option<(String, Authentication)>, StoreError> {
        if reserved_user_roles(username).is_some() {
            let Some(doc) = self.store.get(Collection::Users, &reserved_user_doc_id(username)).await? else {
                return Ok(None);
            };
            let state: ReservedUserState =
                serde_json::from_value(doc.source).map_err(|error| StoreError::Backend(error.to_string()))?;
            let Some(password_hash) = state.password_hash.filter(|hash| !hash::is_plaintext_hash(hash)) else {
                return Ok(None);
            };
            let authentication = Authentication {
                user: UserView::reserved(username, state.enabled),
                realm: RealmRef::reserved(),
                authentication_type: "realm",
            };
            return Ok(Some((password_hash, authentication)));
        }
        let Some(doc) = self.store.get(Collection::Users, username).await? else {
            return Ok(None);
        };
        let record: UserRecord =
            serde_json::from_value(doc.source).map_err(|error| StoreError::Backend(error.to_string()))?;
        let Some(password_hash) = record.password_hash.clone().filter(|hash| !hash::is_plaintext_hash(hash)) else {
            return Ok(None);
        };
        let authentication =
            Authentication { user: UserView::from_record(&record), realm: RealmRef::native(), authentication_type: "realm" };
        Ok(Some((password_hash, authentication)))
    }

    /// Forgets any cached authentication of `username` (password change, disable, delete, role change).
    pub(crate) fn invalidate_user(&self, username: &str) {
        self.cache.invalidate(username);
    }

    /// Forgets every cached authentication.
    pub(crate) fn invalidate_all(&self) {
        self.cache.invalidate_all();
    }
}
