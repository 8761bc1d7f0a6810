//! TEMPORARY STUB: `/_security/role_mapping/...` (replaced by the real implementation).

use axum::routing::get;
use axum::Router;

use crate::api::request::EsRequest;
use crate::api::response::EsJson;
use crate::app::AppState;
use crate::error::EsError;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/_security/role_mapping", get(not_yet))
        .route("/_security/role_mapping/{name}", get(not_yet).put(not_yet).post(not_yet).delete(not_yet))
}

async fn not_yet(_request: EsRequest) -> Result<EsJson, EsError> {
    Err(EsError::internal("role mappings not implemented yet"))
}
