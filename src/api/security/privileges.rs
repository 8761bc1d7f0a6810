//! The caller's own privileges: `/_security/user/_has_privileges` and `/_security/user/_privileges`.

use axum::extract::State;
use axum::routing::get;
use axum::Router;

use crate::api::request::EsRequest;
use crate::api::response::EsJson;
use crate::app::AppState;
use crate::authz::parse_privileges_to_check;
use crate::error::EsError;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/_security/user/_has_privileges", get(has_privileges).post(has_privileges))
        .route("/_security/user/_privileges", get(get_user_privileges))
}

/// Tells which of the requested privileges the caller holds (`GET|POST /_security/user/_has_privileges`).
/// Every authenticated user may ask about themselves.
async fn has_privileges(State(state): State<AppState>, request: EsRequest) -> Result<EsJson, EsError> {
    let body = request.json_body()?;
    let username = request.auth.username().to_string();
    let to_check = parse_privileges_to_check(&body, &username)?;
    request.check_params(&[])?;
    let resolved = state.roles.resolve(&request.auth.user.roles).await?;
    let result = resolved.permissions.check_privileges(&to_check, &[])?;
    Ok(EsJson::ok(result.to_json(&username)))
}

/// Returns the caller's effective privileges (`GET /_security/user/_privileges`).
async fn get_user_privileges(State(state): State<AppState>, request: EsRequest) -> Result<EsJson, EsError> {
    request.check_params(&[])?;
    let resolved = state.roles.resolve(&request.auth.user.roles).await?;
    Ok(EsJson::ok(resolved.permissions.user_privileges_json()))
}
