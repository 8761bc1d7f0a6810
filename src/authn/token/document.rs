//! The token document (Elasticsearch's `.security-tokens-7` document shape) and the pure rules that decide
//! refreshes, invalidations and expiry on it.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::authn::{Authentication, RealmDomain, RealmRef};
use crate::domain::user::UserView;
use crate::error::EsError;

/// A refresh token (and so its document) lives 24 hours (`ExpiredTokenRemover.MAXIMUM_TOKEN_LIFETIME_HOURS`).
pub(crate) const MAXIMUM_TOKEN_LIFETIME_MILLIS: i64 = 24 * 60 * 60 * 1000;
/// A refreshed refresh token gives the same new pair again within this window (concurrent refreshes).
const REFRESH_REUSE_WINDOW_MILLIS: i64 = 30 * 1000;

/// `error_description`s of Elasticsearch's `invalid_grant` refresh failures.
pub(crate) const COULD_NOT_REFRESH: &str = "could not refresh the requested token";
const DOCUMENT_EXPIRED: &str = "token document has expired";
const REFRESH_INVALIDATED: &str = "token has been invalidated";
const OTHER_CLIENT: &str = "tokens must be refreshed by the creating client";
const REFRESHED_IN_THE_PAST: &str = "token has already been refreshed more than 30 seconds in the past";
const REFRESHED_IN_THE_FUTURE: &str =
    "token has been refreshed more than 30 seconds in the future, clock skew too great";

/// One stored grant: an access token and, optionally, its refresh token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct TokenDoc {
    pub(crate) doc_type: String,
    /// Milliseconds since the epoch.
    pub(crate) creation_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) refresh_token: Option<RefreshTokenState>,
    pub(crate) access_token: AccessTokenState,
}

/// The refresh token half of a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RefreshTokenState {
    /// SHA-256 of the refresh token.
    pub(crate) token: String,
    pub(crate) invalidated: bool,
    pub(crate) refreshed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) refresh_time: Option<i64>,
    /// Base64 salt from which the superseding pair is derived (with the refresh token itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) superseding_salt: Option<String>,
    /// The client that may refresh.
    pub(crate) client: RefreshClient,
}

/// The access token half of a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct AccessTokenState {
    /// SHA-256 of the access token.
    pub(crate) token: String,
    pub(crate) invalidated: bool,
    /// Name of the realm of the token's user (what `realm_name` invalidation matches).
    pub(crate) realm: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) realm_domain: Option<String>,
    pub(crate) user_token: UserToken,
}

/// What the access token stands for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct UserToken {
    /// Milliseconds since the epoch.
    pub(crate) expiration_time: i64,
    pub(crate) authentication: StoredAuthentication,
    #[serde(default)]
    pub(crate) metadata: Map<String, Value>,
}

/// A snapshot of the authentication a token was created for: Elasticsearch tokens keep the user (roles
/// included) as it was at creation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredAuthentication {
    pub(crate) user: StoredUser,
    pub(crate) realm: StoredRealm,
    /// How the grant itself was authenticated (`realm`, `anonymous`, `token`, ...).
    pub(crate) authentication_type: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredUser {
    pub(crate) username: String,
    pub(crate) roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) full_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) email: Option<String>,
    #[serde(default)]
    pub(crate) metadata: Map<String, Value>,
    pub(crate) enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredRealm {
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) realm_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) domain: Option<StoredDomain>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredDomain {
    pub(crate) name: String,
    pub(crate) realms: Vec<StoredRealmIdentifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) literal_suffix: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredRealmIdentifier {
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) realm_type: String,
}

/// The client that created a refresh token (`unassociated_client` in Elasticsearch's documents).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RefreshClient {
    #[serde(rename = "type")]
    pub(crate) client_type: String,
    pub(crate) user: String,
    pub(crate) realm: String,
    pub(crate) realm_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) realm_domain: Option<String>,
}

impl StoredAuthentication {
    /// Takes the snapshot of `authentication`.
    pub(crate) fn of(authentication: &Authentication) -> StoredAuthentication {
        let user = &authentication.user;
        let realm = &authentication.realm;
        StoredAuthentication {
            user: StoredUser {
                username: user.username.clone(),
                roles: user.roles.clone(),
                full_name: user.full_name.clone(),
                email: user.email.clone(),
                metadata: user.metadata.clone(),
                enabled: user.enabled,
            },
            realm: StoredRealm {
                name: realm.name.clone(),
                realm_type: realm.realm_type.clone(),
                domain: realm.domain.as_ref().map(|domain| StoredDomain {
                    name: domain.name.clone(),
                    realms: domain
                        .realms
                        .iter()
                        .map(|(name, realm_type)| StoredRealmIdentifier {
                            name: name.clone(),
                            realm_type: realm_type.clone(),
                        })
                        .collect(),
                    literal_suffix: domain.literal_suffix.clone(),
                }),
            },
            authentication_type: authentication.authentication_type.to_string(),
        }
    }

    /// Returns the authentication of a request carrying the token (`authentication_type: token`).
    pub(crate) fn to_token_authentication(&self) -> Authentication {
        let user = &self.user;
        let domain = self.realm.domain.as_ref().map(|domain| {
            Arc::new(RealmDomain {
                name: domain.name.clone(),
                realms: domain.realms.iter().map(|realm| (realm.name.clone(), realm.realm_type.clone())).collect(),
                literal_suffix: domain.literal_suffix.clone(),
            })
        });
        Authentication {
            user: UserView {
                username: user.username.clone(),
                roles: user.roles.clone(),
                full_name: user.full_name.clone(),
                email: user.email.clone(),
                metadata: user.metadata.clone(),
                enabled: user.enabled,
            },
            realm: RealmRef { name: self.realm.name.clone(), realm_type: self.realm.realm_type.clone(), domain },
            authentication_type: "token",
        }
    }
}

impl RefreshClient {
    /// Returns the identity of the client calling the token API.
    pub(crate) fn of(authentication: &Authentication) -> RefreshClient {
        RefreshClient {
            client_type: "unassociated_client".to_string(),
            user: authentication.user.username.clone(),
            realm: authentication.realm.name.clone(),
            realm_type: authentication.realm.realm_type.clone(),
            realm_domain: authentication.realm.domain.as_ref().map(|domain| domain.name.clone()),
        }
    }

    /// Tells whether `caller` is the client that created the token (Elasticsearch's
    /// `canAccessResourcesOf`): the same user of the same realm, or of a realm of the same domain; the
    /// singleton realm types (file, native, reserved) match by type.
    fn is_same_client(&self, caller: &RefreshClient) -> bool {
        if self.user != caller.user {
            return false;
        }
        if let (Some(own_domain), Some(caller_domain)) = (&self.realm_domain, &caller.realm_domain) {
            return own_domain == caller_domain;
        }
        let singleton = matches!(self.realm_type.as_str(), "file" | "native" | "reserved");
        self.realm_type == caller.realm_type && (singleton || self.realm == caller.realm)
    }
}

/// What a valid refresh request does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RefreshCheck {
    /// First use: mark the refresh token refreshed and mint the superseding pair.
    Refresh,
    /// Repeated within 30 seconds: hand out the superseding pair derived with this salt again.
    ReuseSuperseding { salt: String },
}

impl TokenDoc {
    /// Returns a new document for a grant.
    pub(crate) fn new(
        access_hash: String,
        refresh: Option<(String, RefreshClient)>,
        authentication: StoredAuthentication,
        metadata: Map<String, Value>,
        now_millis: i64,
        expiration_millis: i64,
    ) -> TokenDoc {
        TokenDoc {
            doc_type: "token".to_string(),
            creation_time: now_millis,
            refresh_token: refresh.map(|(refresh_hash, client)| RefreshTokenState {
                token: refresh_hash,
                invalidated: false,
                refreshed: false,
                refresh_time: None,
                superseding_salt: None,
                client,
            }),
            access_token: AccessTokenState {
                token: access_hash,
                invalidated: false,
                realm: authentication.realm.name.clone(),
                realm_domain: authentication.realm.domain.as_ref().map(|domain| domain.name.clone()),
                user_token: UserToken { expiration_time: expiration_millis, authentication, metadata },
            },
        }
    }

    /// Reads a stored document.
    pub(crate) fn from_source(source: &Value) -> Result<TokenDoc, EsError> {
        serde_json::from_value(source.clone())
            .map_err(|_| EsError::new(500, "security_exception", "invalid token document"))
    }

    /// Returns the stored form.
    pub(crate) fn to_source(&self) -> Result<Value, EsError> {
        serde_json::to_value(self).map_err(|_| EsError::internal("cannot serialize the token document"))
    }

    /// The secondary key of the document: the token user's name (invalidation by username).
    pub(crate) fn lookup_key(&self) -> String {
        self.access_token.user_token.authentication.user.username.clone()
    }

    /// Tells whether the access token has expired at `now_millis`.
    pub(crate) fn is_access_expired(&self, now_millis: i64) -> bool {
        now_millis > self.access_token.user_token.expiration_time
    }

    /// Tells whether the document may still hold a usable token: an unexpired valid access token, or a
    /// valid refresh token younger than 24 hours (what realm/username invalidation considers).
    pub(crate) fn is_active(&self, now_millis: i64) -> bool {
        let access_active =
            !self.access_token.invalidated && self.access_token.user_token.expiration_time >= now_millis;
        let refresh_active = self.refresh_token.as_ref().is_some_and(|refresh| !refresh.invalidated)
            && self.creation_time >= now_millis - MAXIMUM_TOKEN_LIFETIME_MILLIS;
        access_active || refresh_active
    }

    /// Decides a refresh by `caller` at `now_millis`, with Elasticsearch's checks in its order; the error
    /// is the `invalid_grant` description.
    pub(crate) fn check_refresh(&self, now_millis: i64, caller: &RefreshClient) -> Result<RefreshCheck, &'static str> {
        let Some(refresh) = &self.refresh_token else {
            return Err(COULD_NOT_REFRESH);
        };
        if now_millis > self.creation_time + MAXIMUM_TOKEN_LIFETIME_MILLIS {
            return Err(DOCUMENT_EXPIRED);
        }
        if refresh.invalidated {
            return Err(REFRESH_INVALIDATED);
        }
        if !refresh.client.is_same_client(caller) {
            return Err(OTHER_CLIENT);
        }
        if !refresh.refreshed {
            return Ok(RefreshCheck::Refresh);
        }
        let (Some(refresh_time), Some(salt)) = (refresh.refresh_time, &refresh.superseding_salt) else {
            return Err(COULD_NOT_REFRESH);
        };
        if now_millis > refresh_time + REFRESH_REUSE_WINDOW_MILLIS {
            return Err(REFRESHED_IN_THE_PAST);
        }
        if now_millis < refresh_time - REFRESH_REUSE_WINDOW_MILLIS {
            return Err(REFRESHED_IN_THE_FUTURE);
        }
        Ok(RefreshCheck::ReuseSuperseding { salt: salt.clone() })
    }

    /// Marks the refresh token used at `now_millis`, remembering the salt of the superseding pair.
    pub(crate) fn mark_refreshed(&mut self, now_millis: i64, salt: String) {
        if let Some(refresh) = &mut self.refresh_token {
            refresh.refreshed = true;
            refresh.refresh_time = Some(now_millis);
            refresh.superseding_salt = Some(salt);
        }
    }

    /// Invalidates the access token; `false` when it already was.
    pub(crate) fn invalidate_access(&mut self) -> bool {
        !std::mem::replace(&mut self.access_token.invalidated, true)
    }

    /// Invalidates the refresh token; `None` without one, `Some(false)` when it already was.
    pub(crate) fn invalidate_refresh(&mut self) -> Option<bool> {
        self.refresh_token.as_mut().map(|refresh| !std::mem::replace(&mut refresh.invalidated, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_700_000_000_000;

    fn authentication(username: &str, realm: RealmRef) -> Authentication {
        Authentication {
            user: UserView {
                username: username.to_string(),
                roles: vec!["viewer".to_string()],
                full_name: Some("Jack".to_string()),
                email: None,
                metadata: Map::new(),
                enabled: true,
            },
            realm,
            authentication_type: "realm",
        }
    }

    fn doc_created_by(client: &Authentication) -> TokenDoc {
        let user = authentication("jack", RealmRef::native());
        TokenDoc::new(
            "access-hash".into(),
            Some(("refresh-hash".into(), RefreshClient::of(client))),
            StoredAuthentication::of(&user),
            Map::new(),
            NOW,
            NOW + 1_200_000,
        )
    }

    #[test]
    fn snapshot_becomes_a_token_authentication() {
        let mut realm = RealmRef::new("ldap1", "ldap");
        realm.domain = Some(Arc::new(RealmDomain {
            name: "corp".into(),
            realms: vec![("ldap1".into(), "ldap".into()), ("default_native".into(), "native".into())],
            literal_suffix: None,
        }));
        let original = authentication("jack", realm);
        let stored = StoredAuthentication::of(&original);
        let round_tripped: StoredAuthentication =
            serde_json::from_value(serde_json::to_value(&stored).expect("json")).expect("parse");
        let token_authentication = round_tripped.to_token_authentication();
        assert_eq!(token_authentication.authentication_type, "token");
        assert_eq!(token_authentication.user, original.user);
        assert_eq!(token_authentication.realm, original.realm);
        assert_eq!(stored.authentication_type, "realm");
    }

    #[test]
    fn document_shape_follows_elasticsearch() {
        let elastic = authentication("elastic", RealmRef::reserved());
        let source = doc_created_by(&elastic).to_source().expect("source");
        assert_eq!(source["doc_type"], "token");
        assert_eq!(source["creation_time"], NOW);
        assert_eq!(
            source["refresh_token"],
            json!({"token": "refresh-hash", "invalidated": false, "refreshed": false,
                   "client": {"type": "unassociated_client", "user": "elastic", "realm": "reserved", "realm_type": "reserved"}})
        );
        assert_eq!(source["access_token"]["realm"], "default_native");
        assert_eq!(source["access_token"]["invalidated"], false);
        assert_eq!(source["access_token"]["user_token"]["expiration_time"], NOW + 1_200_000);
        assert_eq!(TokenDoc::from_source(&source).expect("parse"), doc_created_by(&elastic));
        assert_eq!(
            TokenDoc::from_source(&json!({"doc_type": "token"})).expect_err("corrupt").reason,
            "invalid token document"
        );
    }

    #[test]
    fn refresh_checks_in_elasticsearch_order() {
        let elastic = authentication("elastic", RealmRef::reserved());
        let caller = RefreshClient::of(&elastic);
        let doc = doc_created_by(&elastic);
        assert_eq!(doc.check_refresh(NOW + 1, &caller), Ok(RefreshCheck::Refresh));
        assert_eq!(doc.check_refresh(NOW + MAXIMUM_TOKEN_LIFETIME_MILLIS + 1, &caller), Err(DOCUMENT_EXPIRED));
        let other = RefreshClient::of(&authentication("kibana_system", RealmRef::reserved()));
        assert_eq!(doc.check_refresh(NOW, &other), Err(OTHER_CLIENT));

        let mut refreshed = doc.clone();
        refreshed.mark_refreshed(NOW, "salt".into());
        let salt = RefreshCheck::ReuseSuperseding { salt: "salt".into() };
        assert_eq!(refreshed.check_refresh(NOW + 30_000, &caller), Ok(salt.clone()));
        assert_eq!(refreshed.check_refresh(NOW - 30_000, &caller), Ok(salt));
        assert_eq!(refreshed.check_refresh(NOW + 30_001, &caller), Err(REFRESHED_IN_THE_PAST));
        assert_eq!(refreshed.check_refresh(NOW - 30_001, &caller), Err(REFRESHED_IN_THE_FUTURE));

        let mut invalidated = refreshed.clone();
        assert_eq!(invalidated.invalidate_refresh(), Some(true));
        assert_eq!(invalidated.invalidate_refresh(), Some(false));
        assert_eq!(invalidated.check_refresh(NOW, &caller), Err(REFRESH_INVALIDATED));

        let mut without_refresh = doc;
        without_refresh.refresh_token = None;
        assert_eq!(without_refresh.check_refresh(NOW, &caller), Err(COULD_NOT_REFRESH));
        assert_eq!(without_refresh.invalidate_refresh(), None);
    }

    #[test]
    fn clients_match_by_user_and_realm_or_domain() {
        let native_jack = RefreshClient::of(&authentication("jack", RealmRef::native()));
        let other_native_realm = RefreshClient::of(&authentication("jack", RealmRef::new("native2", "native")));
        let ldap_jack = RefreshClient::of(&authentication("jack", RealmRef::new("ldap1", "ldap")));
        let other_ldap = RefreshClient::of(&authentication("jack", RealmRef::new("ldap2", "ldap")));
        assert!(native_jack.is_same_client(&native_jack));
        assert!(native_jack.is_same_client(&other_native_realm));
        assert!(!native_jack.is_same_client(&ldap_jack));
        assert!(!ldap_jack.is_same_client(&other_ldap));
        let mut ldap_in_domain = ldap_jack.clone();
        ldap_in_domain.realm_domain = Some("corp".into());
        let mut other_ldap_in_domain = other_ldap;
        other_ldap_in_domain.realm_domain = Some("corp".into());
        assert!(ldap_in_domain.is_same_client(&other_ldap_in_domain));
        let mut bob = native_jack.clone();
        bob.user = "bob".into();
        assert!(!native_jack.is_same_client(&bob));
    }

    #[test]
    fn activity_and_expiry() {
        let elastic = authentication("elastic", RealmRef::reserved());
        let mut doc = doc_created_by(&elastic);
        assert!(doc.is_active(NOW));
        assert!(!doc.is_access_expired(NOW + 1_200_000));
        assert!(doc.is_access_expired(NOW + 1_200_001));
        // The refresh token keeps an expired access token's document active for 24 hours.
        assert!(doc.is_active(NOW + 1_200_001));
        assert!(!doc.is_active(NOW + MAXIMUM_TOKEN_LIFETIME_MILLIS + 1));
        assert!(doc.invalidate_access());
        assert!(!doc.invalidate_access());
        assert!(doc.is_active(NOW));
        doc.invalidate_refresh();
        assert!(!doc.is_active(NOW));
    }
}
