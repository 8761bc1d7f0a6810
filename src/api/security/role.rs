//! The roles API: `/_security/role/...`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value};

use crate::api::request::{split_names, EsPath, EsRequest, Refresh};
use crate::api::response::EsJson;
use crate::app::AppState;
use crate::authz::{builtin_role, RoleDescriptor};
use crate::domain::names::validate_role_name;
use crate::error::EsError;

const PUT_ROLE: &str = "cluster:admin/xpack/security/role/put";
const GET_ROLES: &str = "cluster:admin/xpack/security/role/get";
const DELETE_ROLE: &str = "cluster:admin/xpack/security/role/delete";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/_security/role", get(get_all_roles))
        .route("/_security/role/{name}", get(get_roles).put(put_role).post(put_role).delete(delete_role))
}

/// Creates or replaces a native role (`PUT|POST /_security/role/{name}`).
async fn put_role(State(state): State<AppState>, EsPath(name): EsPath, request: EsRequest) -> Result<EsJson, EsError> {
    request.refresh(Refresh::None)?;
    let body = request.json_body()?;
    let descriptor = RoleDescriptor::parse(&name, &body)?;
    request.check_params(&["refresh"])?;
    if let Err(message) = validate_role_name(&name, false) {
        return Err(EsError::validation(&[message]));
    }
    state.roles.authorize(&request.auth, PUT_ROLE).await?;
    let created = state.roles.put_role(&name, &descriptor).await?;
    Ok(EsJson::ok(json!({ "role": { "created": created } })))
}

/// Returns every role, built-in ones included (`GET /_security/role`).
async fn get_all_roles(State(state): State<AppState>, request: EsRequest) -> Result<EsJson, EsError> {
    request.check_params(&[])?;
    state.roles.authorize(&request.auth, GET_ROLES).await?;
    let roles = state.roles.list_roles().await?;
    Ok(EsJson::ok(crate::service::roles::roles_to_json(&roles)))
}

/// Returns the named roles (`GET /_security/role/{name}`, comma-separated); 404 `{}` when none exists.
async fn get_roles(
    State(state): State<AppState>,
    EsPath(names): EsPath,
    request: EsRequest,
) -> Result<EsJson, EsError> {
    request.check_params(&[])?;
    state.roles.authorize(&request.auth, GET_ROLES).await?;
    let mut body = Map::new();
    for name in split_names(&names) {
        if let Some(descriptor) = state.roles.get_role(&name).await? {
            body.insert(name, descriptor.to_json());
        }
    }
    let status = if body.is_empty() { StatusCode::NOT_FOUND } else { StatusCode::OK };
    Ok(EsJson(status, Value::Object(body)))
}

/// Deletes a native role (`DELETE /_security/role/{name}`).
async fn delete_role(
    State(state): State<AppState>,
    EsPath(name): EsPath,
    request: EsRequest,
) -> Result<EsJson, EsError> {
    request.refresh(Refresh::None)?;
    request.check_params(&["refresh"])?;
    if builtin_role(&name).is_some() {
        return Err(EsError::illegal_argument(format!("role [{name}] is reserved and cannot be deleted")));
    }
    state.roles.authorize(&request.auth, DELETE_ROLE).await?;
    let found = state.roles.delete_role(&name).await?;
    let status = if found { StatusCode::OK } else { StatusCode::NOT_FOUND };
    Ok(EsJson(status, json!({ "found": found })))
}
