//! The native users API: `/_security/user/...`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::Router;
use serde_json::{json, Map, Value};

use crate::api::request::{split_names, EsPath, EsRequest};
use crate::api::response::EsJson;
use crate::app::AppState;
use crate::domain::names::validate_username;
use crate::error::EsError;
use crate::service::users::{self, parse_change_password, PutUserRequest};

const PUT_USER: &str = "cluster:admin/xpack/security/user/put";
const GET_USERS: &str = "cluster:admin/xpack/security/user/get";
const DELETE_USER: &str = "cluster:admin/xpack/security/user/delete";
const CHANGE_PASSWORD: &str = "cluster:admin/xpack/security/user/change_password";
const SET_ENABLED: &str = "cluster:admin/xpack/security/user/set_enabled";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/_security/user", get(get_all_users))
        .route("/_security/user/{username}", get(get_users).put(put_user).post(put_user).delete(delete_user))
        .route("/_security/user/_password", put(change_own_password).post(change_own_password))
        .route("/_security/user/{username}/_password", put(change_password).post(change_password))
        .route("/_security/user/{username}/_enable", put(enable_user).post(enable_user))
        .route("/_security/user/{username}/_disable", put(disable_user).post(disable_user))
}

/// Creates or updates a native user (`PUT|POST /_security/user/{username}`).
async fn put_user(
    State(state): State<AppState>,
    EsPath(username): EsPath,
    request: EsRequest,
) -> Result<EsJson, EsError> {
    request.refresh(crate::api::request::Refresh::None)?;
    let body = request.json_body()?;
    let put_request = PutUserRequest::parse(&body)?;
    request.check_params(&["refresh"])?;
    put_request.validate(&username)?;
    state.roles.authorize(&request.auth, PUT_USER).await?;
    let created = users::put_user(&state, &username, put_request).await?;
    Ok(EsJson::ok(json!({ "created": created })))
}

/// Returns every user (`GET /_security/user`).
async fn get_all_users(State(state): State<AppState>, request: EsRequest) -> Result<EsJson, EsError> {
    render_users(&state, &request, &[]).await
}

/// Returns the named users (`GET /_security/user/{username}`, comma-separated); 404 `{}` when none exists.
async fn get_users(
    State(state): State<AppState>,
    EsPath(names): EsPath,
    request: EsRequest,
) -> Result<EsJson, EsError> {
    render_users(&state, &request, &split_names(&names)).await
}

async fn render_users(state: &AppState, request: &EsRequest, names: &[String]) -> Result<EsJson, EsError> {
    let with_profile_uid = request.bool_param("with_profile_uid", false)?;
    request.check_params(&["with_profile_uid"])?;
    state.roles.authorize(&request.auth, GET_USERS).await?;
    let found = users::get_users(state, names).await?;
    let mut body = Map::new();
    for user in &found {
        let mut rendered = user.to_json();
        if with_profile_uid {
            if let (Value::Object(object), Some(uid)) = (&mut rendered, users::profile_uid_of(state, user).await?) {
                object.insert("profile_uid".into(), Value::String(uid));
            }
        }
        body.insert(user.username.clone(), rendered);
    }
    let status = if !names.is_empty() && found.is_empty() { StatusCode::NOT_FOUND } else { StatusCode::OK };
    Ok(EsJson(status, Value::Object(body)))
}

/// Deletes a native user (`DELETE /_security/user/{username}`).
async fn delete_user(
    State(state): State<AppState>,
    EsPath(username): EsPath,
    request: EsRequest,
) -> Result<EsJson, EsError> {
    request.refresh(crate::api::request::Refresh::None)?;
    request.check_params(&["refresh"])?;
    state.roles.authorize(&request.auth, DELETE_USER).await?;
    let found = users::delete_user(&state, &username).await?;
    let status = if found { StatusCode::OK } else { StatusCode::NOT_FOUND };
    Ok(EsJson(status, json!({ "found": found })))
}

/// Changes the caller's own password (`PUT|POST /_security/user/_password`).
async fn change_own_password(State(state): State<AppState>, request: EsRequest) -> Result<EsJson, EsError> {
    let username = request.auth.username().to_string();
    set_password(&state, &username, request).await
}

/// Changes a user's password (`PUT|POST /_security/user/{username}/_password`).
async fn change_password(
    State(state): State<AppState>,
    EsPath(username): EsPath,
    request: EsRequest,
) -> Result<EsJson, EsError> {
    set_password(&state, &username, request).await
}

async fn set_password(state: &AppState, username: &str, request: EsRequest) -> Result<EsJson, EsError> {
    request.refresh(crate::api::request::Refresh::None)?;
    let body = request.json_body()?;
    let password = parse_change_password(&body)?;
    request.check_params(&["refresh"])?;
    // Every user may change their own password, as in Elasticsearch.
    if username != request.auth.username() {
        state.roles.authorize(&request.auth, CHANGE_PASSWORD).await?;
    }
    users::change_password(state, username, password).await?;
    Ok(EsJson::ok(json!({})))
}

/// Enables a user (`PUT|POST /_security/user/{username}/_enable`).
async fn enable_user(
    State(state): State<AppState>,
    EsPath(username): EsPath,
    request: EsRequest,
) -> Result<EsJson, EsError> {
    set_user_enabled(&state, &username, request, true).await
}

/// Disables a user (`PUT|POST /_security/user/{username}/_disable`).
async fn disable_user(
    State(state): State<AppState>,
    EsPath(username): EsPath,
    request: EsRequest,
) -> Result<EsJson, EsError> {
    set_user_enabled(&state, &username, request, false).await
}

async fn set_user_enabled(
    state: &AppState,
    username: &str,
    request: EsRequest,
    enabled: bool,
) -> Result<EsJson, EsError> {
    request.refresh(crate::api::request::Refresh::None)?;
    request.check_params(&["refresh"])?;
    if let Err(message) = validate_username(username, true) {
        return Err(EsError::validation(&[message]));
    }
    state.roles.authorize(&request.auth, SET_ENABLED).await?;
    users::set_enabled(state, request.auth.username(), username, enabled).await?;
    Ok(EsJson::ok(json!({})))
}
