//! Native and reserved users as stored, and their public JSON.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// The built-in (reserved) users with the roles they hold, in the order Elasticsearch lists them.
pub(crate) const RESERVED_USERS: &[(&str, &[&str])] = &[
    ("elastic", &["superuser"]),
    ("kibana", &["kibana_system"]),
    ("kibana_system", &["kibana_system"]),
    ("logstash_system", &["logstash_system"]),
    ("beats_system", &["beats_system"]),
    ("apm_system", &["apm_system"]),
    ("remote_monitoring_user", &["remote_monitoring_collector", "remote_monitoring_agent"]),
];

/// Returns the roles of a reserved user, or `None` when `username` is not reserved.
pub(crate) fn reserved_user_roles(username: &str) -> Option<&'static [&'static str]> {
    RESERVED_USERS.iter().find(|(name, _)| *name == username).map(|(_, roles)| *roles)
}

/// Returns the store id of a reserved user's document (password and enabled flag).
pub(crate) fn reserved_user_doc_id(username: &str) -> String {
    format!("reserved-user-{username}")
}

/// A native user as stored. The password hash never leaves the server.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct UserRecord {
    pub(crate) username: String,
    #[serde(default)]
    pub(crate) password_hash: Option<String>,
    #[serde(default)]
    pub(crate) roles: Vec<String>,
    #[serde(default)]
    pub(crate) full_name: Option<String>,
    #[serde(default)]
    pub(crate) email: Option<String>,
    #[serde(default)]
    pub(crate) metadata: Map<String, Value>,
    #[serde(default = "default_true")]
    pub(crate) enabled: bool,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("UserRecord")
            .field("username", &self.username)
            .field("roles", &self.roles)
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

fn default_true() -> bool {
    true
}

/// The stored state of a reserved user: only its password and enabled flag can change.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ReservedUserState {
    #[serde(default)]
    pub(crate) password_hash: Option<String>,
    #[serde(default = "default_true")]
    pub(crate) enabled: bool,
}

impl std::fmt::Debug for ReservedUserState {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("ReservedUserState").field("enabled", &self.enabled).finish_non_exhaustive()
    }
}

/// A user as the security APIs show it (`GET /_security/user`, `_authenticate`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct UserView {
    pub(crate) username: String,
    pub(crate) roles: Vec<String>,
    pub(crate) full_name: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) metadata: Map<String, Value>,
    pub(crate) enabled: bool,
}

impl UserView {
    /// Returns the view of a native user.
    pub(crate) fn from_record(record: &UserRecord) -> UserView {
        UserView {
            username: record.username.clone(),
            roles: record.roles.clone(),
            full_name: record.full_name.clone(),
            email: record.email.clone(),
            metadata: record.metadata.clone(),
            enabled: record.enabled,
        }
    }

    /// Returns the view of a reserved user.
    pub(crate) fn reserved(username: &str, enabled: bool) -> UserView {
        let roles = reserved_user_roles(username).unwrap_or_default();
        let mut metadata = Map::new();
        metadata.insert("_reserved".into(), Value::Bool(true));
        if username == "kibana" {
            metadata.insert("_deprecated".into(), Value::Bool(true));
            metadata.insert(
                "_deprecated_reason".into(),
                Value::String("Please use the [kibana_system] user instead.".into()),
            );
        }
        UserView {
            username: username.to_string(),
            roles: roles.iter().map(|role| role.to_string()).collect(),
            full_name: None,
            email: None,
            metadata,
            enabled,
        }
    }

    /// Renders the user as Elasticsearch does: `full_name` and `email` are always present, possibly null.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "username": self.username,
            "roles": self.roles,
            "full_name": self.full_name,
            "email": self.email,
            "metadata": self.metadata,
            "enabled": self.enabled,
        })
    }
}
