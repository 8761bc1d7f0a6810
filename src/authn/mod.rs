//! Authentication: who is calling.
//!
//! The realm chain tries the reserved realm (built-in users such as `elastic`) and then the native realm
//! (`default_native`), as Elasticsearch does with its default configuration. Successful password checks
//! are cached (bounded, with a time to live, invalidated on every change to the user) so that repeated
//! requests do not pay for bcrypt; password hashing itself always runs off the async workers.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::http::HeaderMap;
use base64::Engine;
use serde_json::{json, Value};

use crate::config::Config;
use crate::domain::user::UserView;
use crate::error::{EsError, BASIC_CHALLENGE};
use crate::store::Store;

pub(crate) mod cache;
pub(crate) mod file;
pub(crate) mod hash;
pub(crate) mod jwt;
pub(crate) mod realm;
pub mod token;

use cache::CredentialCache;
use realm::{Realm, RealmOutcome};

/// A security domain as seen from one of its realms.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RealmDomain {
    /// Domain name.
    pub name: String,
    /// Member realms as `(name, type)`, sorted.
    pub realms: Vec<(String, String)>,
    /// Literal-username uid generation suffix, when configured (spec §3.7).
    pub literal_suffix: Option<String>,
}

/// The realm that authenticated (or looked up) a user.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RealmRef {
    /// Realm name, e.g. `default_native`.
    pub name: String,
    /// Realm type, e.g. `native`.
    pub realm_type: String,
    /// The security domain of the realm, if any.
    pub domain: Option<Arc<RealmDomain>>,
}

impl RealmRef {
    /// Returns a realm reference without domain.
    pub fn new(name: &str, realm_type: &str) -> RealmRef {
        RealmRef { name: name.to_string(), realm_type: realm_type.to_string(), domain: None }
    }

    /// The reserved realm of the built-in users.
    pub fn reserved() -> RealmRef {
        RealmRef::new("reserved", "reserved")
    }

    /// The default native realm.
    pub fn native() -> RealmRef {
        RealmRef::new("default_native", "native")
    }

    fn to_json(&self) -> Value {
        let mut realm = json!({ "name": self.name, "type": self.realm_type });
        if let Some(domain) = &self.domain {
            realm["domain"] = Value::String(domain.name.clone());
        }
        realm
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
        let Ok(mut username) = String::from_utf8(decoded) else {
            return RequestCredentials::Malformed;
        };
        let Some(colon) = username.find(':') else {
            return RequestCredentials::Malformed;
        };
        let password = username.split_off(colon + 1);
        username.truncate(colon);
        return RequestCredentials::Basic(PasswordCredentials { username, password });
    }
    if scheme.eq_ignore_ascii_case("bearer") {
        return RequestCredentials::Bearer(rest.trim().to_string());
    }
    RequestCredentials::Malformed
}

/// Authenticates bearer tokens that are not JWTs (the token service).
#[async_trait::async_trait]
pub(crate) trait TokenAuthenticator: Send + Sync + std::fmt::Debug {
    /// Returns the authentication of a valid token, `Terminate` with the token service's error for an
    /// invalid or expired one.
    async fn authenticate_token(&self, token: &str) -> Result<RealmOutcome, EsError>;
}

/// The ordered realms of this node: the reserved realm first, then the configured ones.
#[derive(Debug)]
pub struct RealmChain {
    realms: Vec<Arc<dyn Realm>>,
    cache: Arc<CredentialCache>,
    anonymous: Option<Arc<Authentication>>,
    token_authenticator: std::sync::RwLock<Option<Arc<dyn TokenAuthenticator>>>,
}

/// Builds the domain of every realm named in a domain.
fn realm_domains(config: &Config) -> HashMap<String, Arc<RealmDomain>> {
    let mut domains = HashMap::new();
    for domain in &config.security.domains {
        let mut members: Vec<(String, String)> = domain
            .realms
            .iter()
            .map(|realm_name| {
                let realm_type = config
                    .security
                    .realms
                    .iter()
                    .find(|realm| &realm.name == realm_name)
                    .map(|realm| realm.realm_type.clone())
                    .unwrap_or_else(|| if realm_name == "default_file" { "file".into() } else { "native".into() });
                (realm_name.clone(), realm_type)
            })
            .collect();
        members.sort();
        let realm_domain = Arc::new(RealmDomain {
            name: domain.name.clone(),
            realms: members,
            literal_suffix: domain.literal_username.then(|| domain.suffix.clone()).flatten(),
        });
        for realm_name in &domain.realms {
            domains.insert(realm_name.clone(), Arc::clone(&realm_domain));
        }
    }
    domains
}

impl RealmChain {
    /// Returns the chain configured in `config` over `store`.
    pub fn new(store: Arc<dyn Store>, config: &Config) -> anyhow::Result<RealmChain> {
        let domains = realm_domains(config);
        let cache =
            Arc::new(CredentialCache::new(config.authentication_cache_max_users, config.authentication_cache_ttl));
        let mut realms: Vec<Arc<dyn Realm>> = vec![Arc::new(realm::ReservedRealm::new(Arc::clone(&store)))];
        for realm_config in &config.security.realms {
            let mut realm_ref = RealmRef::new(&realm_config.name, &realm_config.realm_type);
            realm_ref.domain = domains.get(&realm_config.name).cloned();
            let realm: Arc<dyn Realm> = match realm_config.realm_type.as_str() {
                "native" => Arc::new(realm::NativeRealm::new(Arc::clone(&store), realm_ref)),
                "file" => {
                    let file_realm = file::FileRealm::open(realm_config, realm_ref, &config.config_dir)?;
                    file_realm.attach_cache(&cache);
                    Arc::new(file_realm)
                }
                "jwt" => Arc::new(jwt::JwtRealm::new(realm_config, realm_ref, &config.config_dir, Arc::clone(&store))?),
                other => anyhow::bail!("unsupported realm type [{other}]"),
            };
            realms.push(realm);
        }
        let anonymous = config.security.anonymous.as_ref().map(|anonymous| {
            Arc::new(Authentication {
                user: UserView {
                    username: anonymous.username.clone(),
                    roles: anonymous.roles.clone(),
                    full_name: None,
                    email: None,
                    metadata: serde_json::Map::from_iter([("_reserved".to_string(), Value::Bool(true))]),
                    enabled: true,
                },
                realm: RealmRef::new("__anonymous", "__anonymous"),
                authentication_type: "anonymous",
            })
        });
        Ok(RealmChain { realms, cache, anonymous, token_authenticator: std::sync::RwLock::new(None) })
    }

    /// Plugs in the token service.
    pub(crate) fn set_token_authenticator(&self, authenticator: Arc<dyn TokenAuthenticator>) {
        if let Ok(mut slot) = self.token_authenticator.write() {
            *slot = Some(authenticator);
        }
    }

    /// Returns the `WWW-Authenticate` challenges of the enabled schemes.
    pub(crate) fn challenges(&self) -> &'static [&'static str] {
        &[BASIC_CHALLENGE, crate::error::BEARER_CHALLENGE, crate::error::API_KEY_CHALLENGE]
    }

    /// Authenticates the caller of a REST request from its headers.
    /// (`uri` only names the request in error messages.)
    pub(crate) async fn authenticate_request(
        &self,
        headers: &HeaderMap,
        uri: &axum::http::Uri,
    ) -> Result<Arc<Authentication>, EsError> {
        match credentials_from_headers(headers) {
            RequestCredentials::Basic(credentials) => {
                match self.authenticate_password(&credentials).await? {
                    Some(authentication) => Ok(authentication),
                    None => Err(EsError::unauthenticated(
                        format!("unable to authenticate user [{}] for REST request [{uri}]", credentials.username),
                        self.challenges(),
                    )),
                }
            }
            RequestCredentials::Bearer(token) => match self.bearer_outcome(&token, headers).await? {
                RealmOutcome::Success(authentication) => Ok(Arc::new(authentication)),
                RealmOutcome::Terminate(error) => Err(error),
                // A JWT no realm accepted is reported by its claims, as Elasticsearch's realms authenticator does.
                RealmOutcome::Continue => match jwt::token_principal(&token) {
                    Some(principal) => Err(EsError::unauthenticated(
                        format!("unable to authenticate user [{principal}] for REST request [{uri}]"),
                        self.challenges(),
                    )),
                    None => Err(EsError::unauthenticated(
                        "unable to authenticate with provided credentials and anonymous access is not allowed for this request",
                        self.challenges(),
                    )
                    .with_metadata("additional_unsuccessful_credentials", "oauth2 token: invalid token")),
                },
            },
            RequestCredentials::Missing => match &self.anonymous {
                Some(anonymous) => Ok(Arc::clone(anonymous)),
                None => Err(EsError::unauthenticated(
                    format!("missing authentication credentials for REST request [{uri}]"),
                    self.challenges(),
                )),
            },
            RequestCredentials::Malformed => Err(EsError::unauthenticated(
                format!("unable to authenticate with provided credentials and anonymous access is not allowed for this request"),
                self.challenges(),
            )),
        }
    }

    /// Tries a bearer token: JWT realms for JWT-shaped tokens, then the token service.
    async fn bearer_outcome(&self, token: &str, headers: &HeaderMap) -> Result<RealmOutcome, EsError> {
        if token.split('.').count() == 3 {
            for realm in &self.realms {
                match realm.authenticate_bearer(token, headers).await? {
                    RealmOutcome::Continue => continue,
                    decided => return Ok(decided),
                }
            }
        }
        let authenticator = self.token_authenticator.read().ok().and_then(|slot| slot.clone());
        match authenticator {
            Some(authenticator) => authenticator.authenticate_token(token).await,
            None => Ok(RealmOutcome::Continue),
        }
    }

    /// Authenticates a bearer token with the request headers (JWT client authentication).
    pub(crate) async fn authenticate_bearer_with_headers(
        &self,
        token: &str,
        headers: &HeaderMap,
    ) -> Result<Option<Authentication>, EsError> {
        match self.bearer_outcome(token, headers).await? {
            RealmOutcome::Success(authentication) => Ok(Some(authentication)),
            RealmOutcome::Continue => Ok(None),
            RealmOutcome::Terminate(error) => Err(error),
        }
    }

    /// Checks a username and password against the realms in order; `None` when no realm accepts them.
    pub(crate) async fn authenticate_password(
        &self,
        credentials: &PasswordCredentials,
    ) -> Result<Option<Arc<Authentication>>, EsError> {
        if let Some(authentication) = self.cache.lookup(&credentials.username, credentials.password.as_bytes()) {
            return Ok(Some(authentication));
        }
        let generation_at_load = self.cache.generation();
        for realm in &self.realms {
            let Some(candidate) = realm.password_candidate(credentials).await? else {
                continue;
            };
            let is_reserved = realm.realm_ref().realm_type == "reserved";
            let (Some(stored_hash), true) = (candidate.stored_hash, candidate.authentication.user.enabled) else {
                if is_reserved {
                    return Ok(None);
                }
                continue;
            };
            let password = credentials.password.clone();
            let is_valid = tokio::task::spawn_blocking(move || hash::verify_hash(password.as_bytes(), &stored_hash))
                .await
                .map_err(|_| EsError::internal("password verification failed"))?;
            if !is_valid {
                if is_reserved {
                    return Ok(None);
                }
                continue;
            }
            let authentication = Arc::new(candidate.authentication);
            self.cache.insert(
                &credentials.username,
                credentials.password.as_bytes(),
                Arc::clone(&authentication),
                Instant::now(),
                generation_at_load,
            );
            return Ok(Some(authentication));
        }
        Ok(None)
    }

    /// Returns the realm references of the chain (reserved first).
    pub(crate) fn realm_refs(&self) -> Vec<RealmRef> {
        self.realms.iter().map(|realm| realm.realm_ref().clone()).collect()
    }

    /// Forgets any cached authentication of `username` (password change, disable, delete).
    pub(crate) fn invalidate_user(&self, username: &str) {
        self.cache.invalidate(username);
    }
}
