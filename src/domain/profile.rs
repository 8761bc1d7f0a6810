//! User profiles: the stored document, the uid algorithm, deep merge, the `data` include filter and the
//! update validation rules of Elasticsearch (spec §1–§5).

use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::domain::lazy_json::LazyObject;
pub(crate) use crate::domain::xcontent::token_name;
use crate::error::EsError;

/// The Elasticsearch index that holds profiles.
pub(crate) const PROFILE_INDEX: &str = ".security-profile-8";
/// How long an unchanged re-activation writes nothing (spec §3.8).
pub(crate) const ACTIVATION_GRACE_MILLIS: i64 = 30_000;
/// The highest differentiator of a hashed uid (spec §3.7).
pub(crate) const MAX_DIFFERENTIATOR: u32 = 9;

/// Returns the hashed uid `u_<base64url(sha256(username))>_<differentiator>`.
pub(crate) fn hashed_uid(username: &str, differentiator: u32) -> String {
    let digest = Sha256::digest(username.as_bytes());
    format!("u_{}_{differentiator}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest))
}

/// Returns the store id of a profile (`profile_<uid>`, as Elasticsearch's document id).
pub(crate) fn doc_id(uid: &str) -> String {
    format!("profile_{uid}")
}

/// The domain a realm belongs to, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredDomain {
    pub(crate) name: String,
    pub(crate) realms: Vec<StoredRealmIdentifier>,
}

/// A realm identifier inside a domain.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) struct StoredRealmIdentifier {
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) realm_type: String,
}

/// The realm of the profiled user, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredRealm {
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) realm_type: String,
    pub(crate) node_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) domain: Option<StoredDomain>,
}

/// The user part of a profile, as stored. `email` and `full_name` are written as explicit nulls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ProfileUser {
    pub(crate) username: String,
    pub(crate) roles: Vec<String>,
    pub(crate) realm: StoredRealm,
    pub(crate) email: Option<String>,
    pub(crate) full_name: Option<String>,
}

/// A profile document (`user_profile` in Elasticsearch's source). Updates read `application_data` as a
/// [`LazyObject`] (see [`ProfileForUpdate`]); everything else reads it whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Profile<Data = Map<String, Value>> {
    pub(crate) uid: String,
    pub(crate) enabled: bool,
    pub(crate) last_synchronized: i64,
    pub(crate) user: ProfileUser,
    pub(crate) labels: Map<String, Value>,
    pub(crate) application_data: Data,
}

/// A profile as the store writer updates it: `data` is parsed only as deep as the update reaches, and the
/// rest is written back as it was read.
pub(crate) type ProfileForUpdate = Profile<LazyObject>;

impl<Data: Serialize + DeserializeOwned> Profile<Data> {
    /// Reads a profile from its stored source in JSON text, with no intermediate `Value` document.
    pub(crate) fn from_source_text(text: &str) -> Result<Profile<Data>, EsError> {
        parse_stored(text)
    }

    /// Returns the stored source `{"user_profile": {...}}` as JSON text (the same bytes as `to_source`).
    pub(crate) fn to_source_text(&self) -> Result<String, EsError> {
        serde_json::to_string(&Stored { user_profile: self }).map_err(|error| EsError::internal(error.to_string()))
    }
}

impl ProfileForUpdate {
    /// Deep-merges `labels` and `data` into the profile (spec §5.4); returns whether it changed.
    pub(crate) fn merge(&mut self, labels: &Map<String, Value>, data: &Map<String, Value>) -> Result<bool, EsError> {
        let labels_changed = deep_merge(&mut self.labels, labels);
        let data_changed = self.application_data.deep_merge(data).map_err(corrupt_document)?;
        Ok(labels_changed || data_changed)
    }
}

impl Profile {
    /// Reads a profile from its stored source `{"user_profile": {...}}`.
    pub(crate) fn from_source(source: &Value) -> Result<Profile, EsError> {
        let inner = source.get("user_profile").unwrap_or(&Value::Null);
        Profile::deserialize(inner).map_err(corrupt_document)
    }

    /// Returns the stored source `{"user_profile": {...}}`.
    pub(crate) fn to_source(&self) -> Value {
        json!({ "user_profile": self })
    }

    /// Renders the `user` object of the APIs: no realm type or node name, `realm_domain` only with a domain,
    /// `email`/`full_name` omitted when null (spec §2.1).
    pub(crate) fn user_json(&self) -> Value {
        let mut user = Map::new();
        user.insert("username".into(), Value::String(self.user.username.clone()));
        user.insert("roles".into(), json!(self.user.roles));
        user.insert("realm_name".into(), Value::String(self.user.realm.name.clone()));
        if let Some(domain) = &self.user.realm.domain {
            user.insert("realm_domain".into(), Value::String(domain.name.clone()));
        }
        if let Some(email) = &self.user.email {
            user.insert("email".into(), Value::String(email.clone()));
        }
        if let Some(full_name) = &self.user.full_name {
            user.insert("full_name".into(), Value::String(full_name.clone()));
        }
        Value::Object(user)
    }

    /// Renders the full profile of activate and get (spec §2.1), with `data` filtered by `data_keys`: the
    /// reference that the direct renderer of `profile_render` is tested against.
    #[cfg(test)]
    pub(crate) fn to_api_json(&self, seq_no: i64, primary_term: i64, data_keys: &[String]) -> Value {
        json!({
            "uid": self.uid,
            "enabled": self.enabled,
            "last_synchronized": self.last_synchronized,
            "user": self.user_json(),
            "labels": self.labels,
            "data": filter_data(&self.application_data, data_keys),
            "_doc": { "_primary_term": primary_term, "_seq_no": seq_no },
        })
    }

    /// Renders a suggest hit (spec §2.2): no `enabled`, `last_synchronized` or `_doc` (test reference).
    #[cfg(test)]
    pub(crate) fn to_suggest_json(&self, data_keys: &[String]) -> Value {
        json!({
            "uid": self.uid,
            "user": self.user_json(),
            "labels": self.labels,
            "data": filter_data(&self.application_data, data_keys),
        })
    }
}

/// The fields of a profile the suggest index holds; reading only these skips `application_data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct IndexedProfile {
    pub(crate) uid: String,
    pub(crate) enabled: bool,
    pub(crate) last_synchronized: i64,
    pub(crate) user: IndexedUser,
    pub(crate) labels: Map<String, Value>,
}

/// The user fields of [`IndexedProfile`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct IndexedUser {
    pub(crate) username: String,
    pub(crate) email: Option<String>,
    pub(crate) full_name: Option<String>,
}

/// The stored document shape `{"user_profile": ...}`, for reading and writing it as JSON text.
#[derive(Serialize, Deserialize)]
struct Stored<T> {
    user_profile: T,
}

/// Parses the `user_profile` of a stored source in JSON text into `T` (fields `T` lacks are skipped).
fn parse_stored<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, EsError> {
    serde_json::from_str::<Stored<T>>(text).map(|stored| stored.user_profile).map_err(corrupt_document)
}

/// A stored profile that does not read back: logged, and answered as an internal error.
fn corrupt_document(error: serde_json::Error) -> EsError {
    tracing::error!(%error, "corrupt profile document");
    EsError::internal("corrupt profile document")
}

impl IndexedProfile {
    /// Reads the indexed fields from a stored source in JSON text.
    pub(crate) fn from_source_text(text: &str) -> Result<IndexedProfile, EsError> {
        parse_stored(text)
    }
}

/// Deep-merges `update` into `target`: objects merge recursively, anything else replaces (spec §5.4).
/// Returns whether `target` changed.
pub(crate) fn deep_merge(target: &mut Map<String, Value>, update: &Map<String, Value>) -> bool {
    let mut changed = false;
    for (key, new_value) in update {
        match (target.get_mut(key), new_value) {
            (Some(Value::Object(existing)), Value::Object(new_object)) => {
                changed |= deep_merge(existing, new_object);
            }
            (Some(existing), _) => {
                if existing != new_value {
                    *existing = new_value.clone();
                    changed = true;
                }
            }
            (None, _) => {
                target.insert(key.clone(), new_value.clone());
                changed = true;
            }
        }
    }
    changed
}

/// Splits the `data` parameter: comma-separated, trimmed, empty pieces dropped (spec §4.1).
pub(crate) fn parse_data_keys(value: Option<&str>) -> Vec<String> {
    value
        .map(|text| text.split(',').map(str::trim).filter(|key| !key.is_empty()).map(str::to_string).collect())
        .unwrap_or_default()
}

/// Applies Elasticsearch's source include filter: dotted paths, `*` globs per segment, `**` any depth
/// (test reference of `profile_render`).
#[cfg(test)]
pub(crate) fn filter_data(data: &Map<String, Value>, keys: &[String]) -> Value {
    if keys.is_empty() {
        return Value::Object(Map::new());
    }
    let patterns: Vec<Vec<&str>> = keys.iter().map(|key| key.split('.').collect()).collect();
    let pattern_refs: Vec<&[&str]> = patterns.iter().map(Vec::as_slice).collect();
    Value::Object(include_object(data, &pattern_refs))
}

#[cfg(test)]
fn include_object(object: &Map<String, Value>, patterns: &[&[&str]]) -> Map<String, Value> {
    let mut kept = Map::new();
    let mut child_patterns: Vec<&[&str]> = Vec::new();
    for (key, value) in object {
        let whole = crate::domain::profile_render::match_key(patterns, key, &mut child_patterns);
        if whole {
            kept.insert(key.clone(), value.clone());
            continue;
        }
        if child_patterns.is_empty() {
            continue;
        }
        if let Value::Object(child) = value {
            let filtered = include_object(child, &child_patterns);
            if !filtered.is_empty() {
                kept.insert(key.clone(), Value::Object(filtered));
            }
        }
    }
    kept
}

/// The body of update-data: `labels` and `data`, both optional objects.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct UpdateProfileData {
    pub(crate) labels: Map<String, Value>,
    pub(crate) data: Map<String, Value>,
}

impl UpdateProfileData {
    /// Parses the strict `update_profile_data_request_payload` body.
    pub(crate) fn parse(body: &Value) -> Result<UpdateProfileData, EsError> {
        const PARSER: &str = "update_profile_data_request_payload";
        let Value::Object(object) = body else {
            return Err(EsError::x_content_parse(format!(
                "[1:1] [{PARSER}] Expected START_OBJECT but was: {}",
                token_name(body)
            )));
        };
        let mut request = UpdateProfileData::default();
        for (field, value) in object {
            let target = match field.as_str() {
                "labels" => &mut request.labels,
                "data" => &mut request.data,
                other => return Err(EsError::x_content_parse(format!("[1:2] [{PARSER}] unknown field [{other}]"))),
            };
            match value {
                Value::Object(map) => *target = map.clone(),
                other => {
                    return Err(EsError::x_content_parse(format!(
                        "[1:2] [{PARSER}] {field} doesn't support values of type: {}",
                        token_name(other)
                    )))
                }
            }
        }
        Ok(request)
    }

    /// Returns the application names: the top-level keys of labels and data, in order, without duplicates.
    pub(crate) fn application_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for key in self.labels.keys().chain(self.data.keys()) {
            if !names.contains(key) {
                names.push(key.clone());
            }
        }
        names
    }

    /// Elasticsearch's validation of the update (spec §5.2); `None` when valid.
    pub(crate) fn validation_problems(&self) -> Vec<String> {
        let names = self.application_names();
        let mut problems = Vec::new();
        if names.is_empty() {
            problems.push("update request is empty".to_string());
        }
        let dotted: Vec<&str> = names.iter().filter(|name| name.contains('.')).map(String::as_str).collect();
        if !dotted.is_empty() {
            problems.push(format!("application name must not contain dot, but found [{}]", dotted.join(",")));
        }
        let underscored: Vec<&str> = names.iter().filter(|name| name.starts_with('_')).map(String::as_str).collect();
        if !underscored.is_empty() {
            problems.push(format!(
                "application name must not start with underscore, but found [{}]",
                underscored.join(",")
            ));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_match_the_elasticsearch_test_vectors() {
        assert_eq!(hashed_uid("joe", 0), "u_eGdcwXYIE3LEOrqz6p-3DHQ4HrAtxuk_ttRNFh2m7rM_0");
        assert_eq!(hashed_uid("doe", 0), "u_eZ75KhGvkY4_t0HfQpNPO1aO0tk6wd908bjUGieTKm8_0");
        assert_eq!(hashed_uid("jacknich", 0), "u_79HkWkwmnBH5gqFKwoxggWPjEBOur1zLPXQPEl1VBW0_0");
        assert_eq!(hashed_uid("jacknich", 3), "u_79HkWkwmnBH5gqFKwoxggWPjEBOur1zLPXQPEl1VBW0_3");
    }

    #[test]
    fn deep_merge_follows_the_spec_example() {
        let mut stored = json!({"app1": {"name": "app1", "type": "app"}}).as_object().cloned().expect("object");
        let update = json!({"app1": {"name": "app1_take2", "active": false}, "app2": {"name": "app2"}});
        assert!(deep_merge(&mut stored, update.as_object().expect("object")));
        assert_eq!(
            Value::Object(stored.clone()),
            json!({"app1": {"name": "app1_take2", "type": "app", "active": false}, "app2": {"name": "app2"}})
        );
        assert!(!deep_merge(&mut stored, json!({"app2": {"name": "app2"}}).as_object().expect("object")));
        deep_merge(&mut stored, json!({"app2": null, "app1": {"type": [1]}}).as_object().expect("object"));
        assert_eq!(stored["app2"], Value::Null);
        assert_eq!(stored["app1"]["type"], json!([1]));
    }

    #[test]
    fn data_filter_supports_paths_and_wildcards() {
        let data = json!({"app1": {"key1": 1, "key2": {"deep": 2}}, "app2": {"x": 1}, "kibana": {"avatar": {"initials": "JN"}, "userSettings": {"darkMode": "dark"}}});
        let data = data.as_object().expect("object");
        let keys = |text: &str| parse_data_keys(Some(text));
        assert_eq!(filter_data(data, &[]), json!({}));
        assert_eq!(filter_data(data, &keys("app1")), json!({"app1": {"key1": 1, "key2": {"deep": 2}}}));
        assert_eq!(filter_data(data, &keys("app1.key1")), json!({"app1": {"key1": 1}}));
        assert_eq!(filter_data(data, &keys("*")), Value::Object(data.clone()));
        assert_eq!(
            filter_data(data, &keys("app*")),
            json!({"app1": {"key1": 1, "key2": {"deep": 2}}, "app2": {"x": 1}})
        );
        assert_eq!(
            filter_data(data, &keys("kibana.*")),
            json!({"kibana": {"avatar": {"initials": "JN"}, "userSettings": {"darkMode": "dark"}}})
        );
        assert_eq!(
            filter_data(data, &keys("kibana.avatar, app2")),
            json!({"app2": {"x": 1}, "kibana": {"avatar": {"initials": "JN"}}})
        );
        assert_eq!(filter_data(data, &keys("**.deep")), json!({"app1": {"key2": {"deep": 2}}}));
        assert_eq!(filter_data(data, &keys("nothing,app1.nothing")), json!({}));
    }

    #[test]
    fn update_validation_messages() {
        let request = UpdateProfileData::parse(&json!({"labels": {}, "data": {}})).expect("valid");
        assert_eq!(request.validation_problems(), vec!["update request is empty"]);
        let request =
            UpdateProfileData::parse(&json!({"labels": {"a.b": 1, "_x": 1}, "data": {"c.d": 1}})).expect("valid");
        assert_eq!(
            request.validation_problems(),
            vec![
                "application name must not contain dot, but found [a.b,c.d]",
                "application name must not start with underscore, but found [_x]"
            ]
        );
        let error = UpdateProfileData::parse(&json!({"foo": {}})).expect_err("unknown field");
        assert_eq!(error.error_type, "x_content_parse_exception");
        assert!(error.reason.ends_with("[update_profile_data_request_payload] unknown field [foo]"));
        assert!(UpdateProfileData::parse(&json!({"data": []})).is_err());
        assert!(UpdateProfileData::parse(&json!({"labels": null})).is_err());
    }

    #[test]
    fn api_json_omits_null_user_fields_and_orders_keys() {
        let profile = Profile {
            uid: hashed_uid("joe", 0),
            enabled: true,
            last_synchronized: 7,
            user: ProfileUser {
                username: "joe".into(),
                roles: vec![],
                realm: StoredRealm {
                    name: "default_native".into(),
                    realm_type: "native".into(),
                    node_name: "n".into(),
                    domain: None,
                },
                email: None,
                full_name: Some("Joe".into()),
            },
            labels: Map::new(),
            application_data: Map::new(),
        };
        let rendered = serde_json::to_string(&profile.to_api_json(3, 1, &[])).expect("json");
        assert_eq!(
            rendered,
            r#"{"uid":"u_eGdcwXYIE3LEOrqz6p-3DHQ4HrAtxuk_ttRNFh2m7rM_0","enabled":true,"last_synchronized":7,"user":{"username":"joe","roles":[],"realm_name":"default_native","full_name":"Joe"},"labels":{},"data":{},"_doc":{"_primary_term":1,"_seq_no":3}}"#
        );
        let stored = profile.to_source();
        assert_eq!(stored["user_profile"]["user"]["email"], Value::Null);
        assert_eq!(Profile::from_source(&stored).expect("round trip"), profile);
        let text = profile.to_source_text().expect("text");
        assert_eq!(text, serde_json::to_string(&stored).expect("json"));
        assert_eq!(Profile::<Map<String, Value>>::from_source_text(&text).expect("round trip"), profile);
        assert_eq!(IndexedProfile::from_source_text(&text).expect("indexed").user.username, "joe");
        assert_eq!(
            Profile::<Map<String, Value>>::from_source_text("{}").expect_err("corrupt").reason,
            "corrupt profile document"
        );
        // The update path writes back what it does not touch byte for byte.
        let mut with_data = profile.clone();
        with_data.application_data = json!({"kibana": {"avatar": {"initials": "J"}, "n": [1, 2.5, "x\u{e9}\"q"]}})
            .as_object()
            .cloned()
            .expect("object");
        let text = with_data.to_source_text().expect("text");
        let for_update = ProfileForUpdate::from_source_text(&text).expect("lazy");
        assert_eq!(for_update.to_source_text().expect("text"), text);
        assert!(ProfileForUpdate::from_source_text(r#"{"user_profile":{"data":[]}}"#).is_err());
    }
}
