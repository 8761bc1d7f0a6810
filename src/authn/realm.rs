//! The realm abstraction and the store-backed realms: reserved (built-in users) and native.

use std::sync::Arc;

use async_trait::async_trait;

use super::{Authentication, PasswordCredentials, RealmRef};
use crate::domain::user::{reserved_user_doc_id, reserved_user_roles, ReservedUserState, UserRecord, UserView};
use crate::error::EsError;
use crate::store::{Collection, Store};

/// What one realm says about a credential.
#[derive(Debug)]
pub(crate) enum RealmOutcome {
    /// The realm does not know the credential; the chain goes on.
    Continue,
    /// The realm authenticated the credential.
    Success(Authentication),
    /// The realm owns the credential but refuses it; the chain stops with this error.
    Terminate(EsError),
}

/// A credential verified by a realm that still needs the (slow) password check, so that the chain can
/// run it off the async workers and cache the result.
#[derive(Debug)]
pub(crate) struct PasswordCandidate {
    /// `None`: the user exists but has no usable password (never authenticates).
    pub(crate) stored_hash: Option<String>,
    pub(crate) authentication: Authentication,
}

/// A source of users: reserved, native, file, JWT, ...
#[async_trait]
pub(crate) trait Realm: Send + Sync + std::fmt::Debug {
    /// The realm's name, type and domain.
    fn realm_ref(&self) -> &RealmRef;

    /// Returns the stored password hash and would-be authentication of `username`, when this realm
    /// holds that user (`Ok(None)`: the chain goes on). The chain verifies the password.
    async fn password_candidate(
        &self,
        credentials: &PasswordCredentials,
    ) -> Result<Option<PasswordCandidate>, EsError> {
        let _ = credentials;
        Ok(None)
    }

    /// Authenticates a bearer token (JWT realms).
    async fn authenticate_bearer(&self, token: &str, headers: &axum::http::HeaderMap) -> Result<RealmOutcome, EsError> {
        let _ = (token, headers);
        Ok(RealmOutcome::Continue)
    }
}

/// The built-in users (`elastic`, `kibana_system`, ...), realm `reserved`; always first in the chain.
#[derive(Debug)]
pub(crate) struct ReservedRealm {
    store: Arc<dyn Store>,
    realm: RealmRef,
}

impl ReservedRealm {
    pub(crate) fn new(store: Arc<dyn Store>) -> ReservedRealm {
        ReservedRealm { store, realm: RealmRef::reserved() }
    }

    async fn state(&self, username: &str) -> Result<Option<ReservedUserState>, EsError> {
        let Some(doc) = self.store.get(Collection::Users, &reserved_user_doc_id(username)).await? else {
            return Ok(None);
        };
        serde_json::from_value(doc.source).map(Some).map_err(|_| EsError::internal("corrupt reserved user document"))
    }
}

#[async_trait]
impl Realm for ReservedRealm {
    fn realm_ref(&self) -> &RealmRef {
        &self.realm
    }

    async fn password_candidate(
        &self,
        credentials: &PasswordCredentials,
    ) -> Result<Option<PasswordCandidate>, EsError> {
        if reserved_user_roles(&credentials.username).is_none() {
            return Ok(None);
        }
        // A reserved user without a stored password cannot log in (only `elastic` is bootstrapped).
        let state = self
            .state(&credentials.username)
            .await?
            .unwrap_or(ReservedUserState { password_hash: None, enabled: true });
        let stored_hash = state.password_hash.filter(|hash| !super::hash::is_plaintext_hash(hash));
        Ok(Some(PasswordCandidate {
            stored_hash,
            authentication: self.authentication(&credentials.username, state.enabled),
        }))
    }
}

impl ReservedRealm {
    fn authentication(&self, username: &str, enabled: bool) -> Authentication {
        Authentication {
            user: UserView::reserved(username, enabled),
            realm: self.realm.clone(),
            authentication_type: "realm",
        }
    }
}

/// Users stored in the security store, realm type `native`.
#[derive(Debug)]
pub(crate) struct NativeRealm {
    store: Arc<dyn Store>,
    realm: RealmRef,
}

impl NativeRealm {
    pub(crate) fn new(store: Arc<dyn Store>, realm: RealmRef) -> NativeRealm {
        NativeRealm { store, realm }
    }

    async fn record(&self, username: &str) -> Result<Option<UserRecord>, EsError> {
        if reserved_user_roles(username).is_some() {
            return Ok(None);
        }
        let Some(doc) = self.store.get(Collection::Users, username).await? else {
            return Ok(None);
        };
        serde_json::from_value(doc.source).map(Some).map_err(|_| EsError::internal("corrupt user document"))
    }
}

#[async_trait]
impl Realm for NativeRealm {
    fn realm_ref(&self) -> &RealmRef {
        &self.realm
    }

    async fn password_candidate(
        &self,
        credentials: &PasswordCredentials,
    ) -> Result<Option<PasswordCandidate>, EsError> {
        let Some(record) = self.record(&credentials.username).await? else {
            return Ok(None);
        };
        let stored_hash = record.password_hash.clone().filter(|hash| !super::hash::is_plaintext_hash(hash));
        let authentication = Authentication {
            user: UserView::from_record(&record),
            realm: self.realm.clone(),
            authentication_type: "realm",
        };
        Ok(Some(PasswordCandidate { stored_hash, authentication }))
    }
}
