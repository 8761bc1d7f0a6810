//! The role mapping API: `/_security/role_mapping/...`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value};

use crate::api::request::{split_names, EsPath, EsRequest, Refresh};
use crate::api::response::EsJson;
use crate::app::AppState;
use crate::domain::role_mapping::RoleMapping;
use crate::error::EsError;
use crate::service::role_mappings::RoleMappingService;

const PUT_ROLE_MAPPING: &str = "cluster:admin/xpack/security/role_mapping/put";
const GET_ROLE_MAPPINGS: &str = "cluster:admin/xpack/security/role_mapping/get";
const DELETE_ROLE_MAPPING: &str = "cluster:admin/xpack/security/role_mapping/delete";

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/_security/role_mapping", get(get_all_role_mappings)).route(
        "/_security/role_mapping/{name}",
        get(get_role_mappings).put(put_role_mapping).post(put_role_mapping).delete(delete_role_mapping),
    )
}

fn service(state: &AppState) -> RoleMappingService {
    RoleMappingService::new(Arc::clone(&state.store))
}

/// Creates or replaces a role mapping (`PUT|POST /_security/role_mapping/{name}`); always 200 with
/// `{"role_mapping":{"created":bool}}`.
async fn put_role_mapping(
    State(state): State<AppState>,
    EsPath(name): EsPath,
    request: EsRequest,
) -> Result<EsJson, EsError> {
    request.refresh(Refresh::Immediate)?;
    let body = request.json_body()?;
    // The body's compact form: the locations in parse errors match clients that send compact JSON.
    let mapping = RoleMapping::parse_request(&name, &body.to_string(), &body)?;
    request.check_params(&["refresh"])?;
    state.roles.authorize(&request.auth, PUT_ROLE_MAPPING).await?;
    let created = service(&state).put(&mapping).await?;
    Ok(EsJson::ok(json!({ "role_mapping": { "created": created } })))
}

/// Returns every role mapping (`GET /_security/role_mapping`).
async fn get_all_role_mappings(State(state): State<AppState>, request: EsRequest) -> Result<EsJson, EsError> {
    request.check_params(&[])?;
    state.roles.authorize(&request.auth, GET_ROLE_MAPPINGS).await?;
    let mappings = service(&state).get(&[]).await?;
    Ok(EsJson::ok(mappings_to_json(&mappings)))
}

/// Returns the named role mappings (`GET /_security/role_mapping/{name}`, comma-separated, `_all` or `*`
/// for every one); 404 `{}` when names were given and none exists.
async fn get_role_mappings(
    State(state): State<AppState>,
    EsPath(names): EsPath,
    request: EsRequest,
) -> Result<EsJson, EsError> {
    request.check_params(&[])?;
    state.roles.authorize(&request.auth, GET_ROLE_MAPPINGS).await?;
    let mut requested = split_names(&names);
    if requested.len() == 1 && (requested[0] == "_all" || requested[0] == "*") {
        requested.clear();
    }
    let mappings = service(&state).get(&requested).await?;
    let status = if !requested.is_empty() && mappings.is_empty() { StatusCode::NOT_FOUND } else { StatusCode::OK };
    Ok(EsJson(status, mappings_to_json(&mappings)))
}

/// Deletes a role mapping (`DELETE /_security/role_mapping/{name}`): `{"found":bool}`, 404 when absent.
async fn delete_role_mapping(
    State(state): State<AppState>,
    EsPath(name): EsPath,
    request: EsRequest,
) -> Result<EsJson, EsError> {
    request.refresh(Refresh::Immediate)?;
    request.check_params(&["refresh"])?;
    state.roles.authorize(&request.auth, DELETE_ROLE_MAPPING).await?;
    let found = service(&state).delete(&name).await?;
    let status = if found { StatusCode::OK } else { StatusCode::NOT_FOUND };
    Ok(EsJson(status, json!({ "found": found })))
}

fn mappings_to_json(mappings: &[RoleMapping]) -> Value {
    let mut body = Map::new();
    for mapping in mappings {
        body.insert(mapping.name.clone(), mapping.to_json());
    }
    Value::Object(body)
}
