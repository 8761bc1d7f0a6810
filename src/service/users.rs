//! Native and reserved users: create, update, delete, password, enabled flag, lookup.

use serde_json::{Map, Value};

use crate::app::AppState;
use crate::authn::hash;
use crate::domain::names::{validate_password, validate_put_user_username, validate_username, ReservedUserSettings};
use crate::domain::user::{
    reserved_user_doc_id, reserved_user_roles, ReservedUserState, UserRecord, UserView, RESERVED_USERS,
};
use crate::error::EsError;
use crate::store::{Collection, Decision, Doc, UpdateOutcome};

/// Elasticsearch's `ValidationException` (type `validation_exception`, same "Validation Failed" text).
pub(crate) fn validation_exception(message: impl AsRef<str>) -> EsError {
    let mut error = EsError::validation(&[message]);
    error.error_type = "validation_exception".to_string();
    error
}

/// A password given in clear text or as an Elasticsearch hash. Never printed.
#[derive(Clone)]
pub(crate) enum NewPassword {
    Clear(String),
    Hash(String),
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            NewPassword::Clear(_) => "NewPassword::Clear(..)",
            NewPassword::Hash(_) => "NewPassword::Hash(..)",
        })
    }
}

/// The body of `PUT /_security/user/{username}`.
#[derive(Debug, Default)]
pub(crate) struct PutUserRequest {
    pub(crate) password: Option<NewPassword>,
    pub(crate) roles: Option<Vec<String>>,
    pub(crate) full_name: Option<Option<String>>,
    pub(crate) email: Option<Option<String>>,
    pub(crate) metadata: Option<Map<String, Value>>,
    pub(crate) enabled: Option<bool>,
}

fn user_parse_error(what: &str, reason: String) -> EsError {
    EsError::parse(format!("failed to parse {what} request. {reason}"))
}

fn expect_string(what: &str, field: &str, value: &Value) -> Result<String, EsError> {
    value.as_str().map(str::to_string).ok_or_else(|| {
        user_parse_error(
            what,
            format!("expected field [{field}] to be of type string, but found {} instead", json_kind(value)),
        )
    })
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "[VALUE_NULL]",
        Value::Bool(_) => "[VALUE_BOOLEAN]",
        Value::Number(_) => "[VALUE_NUMBER]",
        Value::String(_) => "[VALUE_STRING]",
        Value::Array(_) => "[START_ARRAY]",
        Value::Object(_) => "[START_OBJECT]",
    }
}

fn optional_string(what: &str, field: &str, value: &Value) -> Result<Option<String>, EsError> {
    if value.is_null() {
        return Ok(None);
    }
    expect_string(what, field, value).map(Some)
}

/// Parses a `password` / `password_hash` pair; `what` names the request in errors.
fn parse_new_password(
    what: &str,
    password: Option<&Value>,
    password_hash: Option<&Value>,
) -> Result<Option<NewPassword>, EsError> {
    match (password, password_hash) {
        (Some(_), Some(_)) => Err(EsError::illegal_argument(format!(
            "failed to parse {what} request. only one of [password, password_hash] can be provided"
        ))),
        (Some(value), None) => {
            let password = expect_string(what, "password", value)?;
            // Elasticsearch's request builder raises a plain `validation_exception` here.
            validate_password(&password).map_err(validation_exception)?;
            Ok(Some(NewPassword::Clear(password)))
        }
        (None, Some(value)) => {
            let password_hash = expect_string(what, "password_hash", value)?;
            // The configured hasher is always a stored-password one, so any bcrypt/PBKDF2 hash is accepted.
            hash::check_password_hash_for_storage(&password_hash, hash::Hasher::BCRYPT)
                .map_err(EsError::illegal_argument)?;
            Ok(Some(NewPassword::Hash(password_hash)))
        }
        (None, None) => Ok(None),
    }
}

impl PutUserRequest {
    /// Parses the body with Elasticsearch's rules and messages.
    pub(crate) fn parse(body: &Value) -> Result<PutUserRequest, EsError> {
        const WHAT: &str = "add user";
        let object = body.as_object().ok_or_else(|| {
            EsError::parse(format!(
                "failed to parse add user request. expected an object but found {} instead",
                json_kind(body)
            ))
        })?;
        let mut request = PutUserRequest::default();
        for (field, value) in object {
            match field.as_str() {
                "password" | "password_hash" | "passwordHash" => {}
                "roles" => {
                    let roles = match value {
                        Value::String(role) => vec![role.clone()],
                        Value::Array(items) => items
                            .iter()
                            .map(|item| expect_string(WHAT, "roles", item))
                            .collect::<Result<Vec<_>, _>>()?,
                        other => {
                            return Err(user_parse_error(
                                WHAT,
                                format!(
                                    "expected field [roles] to be of type array, but found {} instead",
                                    json_kind(other)
                                ),
                            ))
                        }
                    };
                    request.roles = Some(roles);
                }
                "full_name" => request.full_name = Some(optional_string(WHAT, field, value)?),
                "email" => request.email = Some(optional_string(WHAT, field, value)?),
                "metadata" => match value {
                    Value::Object(metadata) => request.metadata = Some(metadata.clone()),
                    Value::Null => request.metadata = Some(Map::new()),
                    other => {
                        return Err(user_parse_error(
                            WHAT,
                            format!(
                                "expected field [metadata] to be of type object, but found {} instead",
                                json_kind(other)
                            ),
                        ))
                    }
                },
                "enabled" => {
                    request.enabled = Some(value.as_bool().ok_or_else(|| {
                        user_parse_error(
                            WHAT,
                            format!(
                                "expected field [enabled] to be of type boolean, but found {} instead",
                                json_kind(value)
                            ),
                        )
                    })?)
                }
                other => return Err(user_parse_error(WHAT, format!("unexpected field [{other}]"))),
            }
        }
        let password_hash = object.get("password_hash").or_else(|| object.get("passwordHash"));
        request.password = parse_new_password(WHAT, object.get("password"), password_hash)?;
        Ok(request)
    }
}

/// Parses the body of a change-password request.
pub(crate) fn parse_change_password(body: &Value) -> Result<NewPassword, EsError> {
    const WHAT: &str = "change password";
    let object = body
        .as_object()
        .ok_or_else(|| EsError::parse("failed to parse change password request. expected an object"))?;
    for field in object.keys() {
        if !matches!(field.as_str(), "password" | "password_hash" | "passwordHash") {
            return Err(user_parse_error(WHAT, format!("unexpected field [{field}]")));
        }
    }
    let password_hash = object.get("password_hash").or_else(|| object.get("passwordHash"));
    parse_new_password(WHAT, object.get("password"), password_hash)?
        .ok_or_else(|| EsError::validation(&["password must be specified"]))
}

async fn hash_password(state: &AppState, password: NewPassword) -> Result<String, EsError> {
    match password {
        NewPassword::Hash(password_hash) => Ok(password_hash),
        NewPassword::Clear(clear) => {
            let hasher = state.config.password_hasher.clone();
            tokio::task::spawn_blocking(move || hasher.hash(clear.as_bytes()))
                .await
                .map_err(|_| EsError::internal("password hashing failed"))
        }
    }
}

fn decode<T: serde::de::DeserializeOwned>(doc: &Doc) -> Result<T, EsError> {
    serde_json::from_value(doc.source.clone()).map_err(|error| {
        tracing::error!(id = %doc.id, %error, "corrupt user document");
        EsError::internal("corrupt user document")
    })
}

fn encode<T: serde::Serialize>(value: &T) -> Result<Value, EsError> {
    serde_json::to_value(value).map_err(|_| EsError::internal("cannot encode user document"))
}

impl PutUserRequest {
    /// Checks the request as Elasticsearch's `PutUserRequest.validate` does (before authorization).
    pub(crate) fn validate(&self, username: &str) -> Result<(), EsError> {
        let mut problems = Vec::new();
        if let Err(message) = validate_put_user_username(username, &ReservedUserSettings::default()) {
            problems.push(message);
        }
        if self.roles.is_none() {
            problems.push("roles are missing".to_string());
        }
        if self.metadata.as_ref().is_some_and(|metadata| metadata.keys().any(|key| key.starts_with('_'))) {
            problems.push("metadata keys may not start with [_]".to_string());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(EsError::validation(&problems))
        }
    }
}

/// Returns the uid of the profile of `user`, if one was activated (`with_profile_uid`).
pub(crate) async fn profile_uid_of(state: &AppState, user: &UserView) -> Result<Option<String>, EsError> {
    let realm_type = if reserved_user_roles(&user.username).is_some() { "reserved" } else { "native" };
    let Some(realm) = state.realms.realm_refs().into_iter().find(|realm| realm.realm_type == realm_type) else {
        return Ok(None);
    };
    let authentication = crate::authn::Authentication { user: user.clone(), realm, authentication_type: "realm" };
    crate::service::profiles::existing_profile_uid(state, &authentication).await
}

/// Creates or updates a native user (the request was validated); returns whether it was created.
pub(crate) async fn put_user(state: &AppState, username: &str, request: PutUserRequest) -> Result<bool, EsError> {
    let password_hash = match request.password.clone() {
        Some(password) => Some(hash_password(state, password).await?),
        None => None,
    };
    let username_owned = username.to_string();
    let outcome = state
        .store
        .update(
            Collection::Users,
            username,
            Box::new(move |current| {
                let existing: Option<UserRecord> = current.map(decode).transpose()?;
                if existing.is_none() && password_hash.is_none() {
                    return Err(validation_exception(
                        "password must be specified unless you are updating an existing user",
                    ));
                }
                let previous = existing.unwrap_or(UserRecord {
                    username: username_owned.clone(),
                    password_hash: None,
                    roles: Vec::new(),
                    full_name: None,
                    email: None,
                    metadata: Map::new(),
                    enabled: true,
                });
                let record = UserRecord {
                    username: username_owned,
                    password_hash: password_hash.or(previous.password_hash),
                    roles: request.roles.unwrap_or(previous.roles),
                    full_name: request.full_name.unwrap_or(previous.full_name),
                    email: request.email.unwrap_or(previous.email),
                    metadata: request.metadata.unwrap_or(previous.metadata),
                    enabled: request.enabled.unwrap_or(previous.enabled),
                };
                Ok(Decision::Put { source: encode(&record)?, key: None })
            }),
        )
        .await??;
    state.realms.invalidate_user(username);
    Ok(matches!(outcome, UpdateOutcome::Created(_)))
}

/// Returns the users with the given names (all users when `names` is empty), reserved users first.
pub(crate) async fn get_users(state: &AppState, names: &[String]) -> Result<Vec<UserView>, EsError> {
    let mut users = Vec::new();
    if names.is_empty() {
        for (username, _) in RESERVED_USERS {
            users.push(reserved_user_view(state, username).await?);
        }
        for doc in state.store.list(Collection::Users).await? {
            if doc.id.starts_with("reserved-user-") {
                continue;
            }
            users.push(UserView::from_record(&decode::<UserRecord>(&doc)?));
        }
        return Ok(users);
    }
    for name in names {
        if reserved_user_roles(name).is_some() {
            users.push(reserved_user_view(state, name).await?);
        } else if let Some(doc) = state.store.get(Collection::Users, name).await? {
            users.push(UserView::from_record(&decode::<UserRecord>(&doc)?));
        }
    }
    Ok(users)
}

async fn reserved_user_state(state: &AppState, username: &str) -> Result<ReservedUserState, EsError> {
    match state.store.get(Collection::Users, &reserved_user_doc_id(username)).await? {
        Some(doc) => decode(&doc),
        None => Ok(ReservedUserState { password_hash: None, enabled: true }),
    }
}

async fn reserved_user_view(state: &AppState, username: &str) -> Result<UserView, EsError> {
    let reserved_state = reserved_user_state(state, username).await?;
    Ok(UserView::reserved(username, reserved_state.enabled))
}

/// Deletes a native user; returns whether it existed.
pub(crate) async fn delete_user(state: &AppState, username: &str) -> Result<bool, EsError> {
    if reserved_user_roles(username).is_some() {
        return Err(EsError::illegal_argument(format!("user [{username}] is reserved and cannot be deleted")));
    }
    let outcome = state.store.update(Collection::Users, username, Box::new(|_| Ok(Decision::Delete))).await??;
    state.realms.invalidate_user(username);
    Ok(matches!(outcome, UpdateOutcome::Deleted(_)))
}

/// Changes the stored state of a user (reserved or native) with `change`.
async fn modify_user(
    state: &AppState,
    username: &str,
    missing_message: &'static str,
    change: impl FnOnce(&mut Option<String>, &mut bool) + Send + 'static,
) -> Result<(), EsError> {
    if reserved_user_roles(username).is_some() {
        state
            .store
            .update(
                Collection::Users,
                &reserved_user_doc_id(username),
                Box::new(move |current| {
                    let mut reserved_state: ReservedUserState = match current {
                        Some(doc) => decode(doc)?,
                        None => ReservedUserState { password_hash: None, enabled: true },
                    };
                    change(&mut reserved_state.password_hash, &mut reserved_state.enabled);
                    Ok(Decision::Put { source: encode(&reserved_state)?, key: None })
                }),
            )
            .await??;
    } else {
        state
            .store
            .update(
                Collection::Users,
                username,
                Box::new(move |current| {
                    let Some(doc) = current else {
                        return Err(validation_exception(missing_message));
                    };
                    let mut record: UserRecord = decode(doc)?;
                    change(&mut record.password_hash, &mut record.enabled);
                    Ok(Decision::Put { source: encode(&record)?, key: None })
                }),
            )
            .await??;
    }
    state.realms.invalidate_user(username);
    Ok(())
}

/// Sets the password of a reserved or native user.
pub(crate) async fn change_password(state: &AppState, username: &str, password: NewPassword) -> Result<(), EsError> {
    if let Err(message) = validate_username(username, true) {
        return Err(EsError::validation(&[message]));
    }
    let password_hash = hash_password(state, password).await?;
    modify_user(state, username, "user must exist in order to change password", move |stored_hash, _| {
        *stored_hash = Some(password_hash);
    })
    .await
}

/// Enables or disables a reserved or native user.
pub(crate) async fn set_enabled(state: &AppState, caller: &str, username: &str, enabled: bool) -> Result<(), EsError> {
    if caller == username {
        return Err(EsError::illegal_argument("users may not update the enabled status of their own account"));
    }
    let missing_message =
        if enabled { "only existing users can be enabled" } else { "only existing users can be disabled" };
    modify_user(state, username, missing_message, move |_, stored_enabled| {
        *stored_enabled = enabled;
    })
    .await
}
