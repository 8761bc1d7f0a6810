//! `GET /_security/_authenticate`.

use axum::routing::get;
use axum::Router;

use crate::api::request::EsRequest;
use crate::api::response::EsJson;
use crate::app::AppState;
use crate::error::EsError;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/_security/_authenticate", get(authenticate))
}

/// Returns the caller's user, realms and authentication type (`GET /_security/_authenticate`).
/// Every authenticated user may call it.
async fn authenticate(request: EsRequest) -> Result<EsJson, EsError> {
    request.check_params(&[])?;
    Ok(EsJson::ok(request.auth.to_authenticate_json()))
}
