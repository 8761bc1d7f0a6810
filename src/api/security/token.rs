//! TEMPORARY STUB: `POST|DELETE /_security/oauth2/token` (replaced by the real implementation).

use axum::routing::post;
use axum::Router;

use crate::api::request::EsRequest;
use crate::api::response::EsJson;
use crate::app::AppState;
use crate::error::EsError;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/_security/oauth2/token", post(create_token).delete(invalidate_token))
}

async fn create_token(_request: EsRequest) -> Result<EsJson, EsError> {
    Err(EsError::internal("token service not implemented yet"))
}

async fn invalidate_token(_request: EsRequest) -> Result<EsJson, EsError> {
    Err(EsError::internal("token service not implemented yet"))
}
