//! `GET /` (cluster info) and `GET /_cluster/health`, for clients and test harnesses.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use serde_json::json;

use crate::api::request::EsRequest;
use crate::api::response::EsJson;
use crate::app::AppState;
use crate::error::EsError;

/// The Elasticsearch version profiled reports; its APIs match this version's.
pub(crate) const COMPATIBLE_VERSION: &str = "9.1.0";
const MINIMUM_WIRE_COMPATIBILITY_VERSION: &str = "8.19.0";
const MINIMUM_INDEX_COMPATIBILITY_VERSION: &str = "8.0.0";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(get_cluster_info).head(head_cluster_info))
        .route("/_cluster/health", get(get_cluster_health))
}

/// Returns the node and version information (`GET /`).
async fn get_cluster_info(State(state): State<AppState>, request: EsRequest) -> Result<EsJson, EsError> {
    request.check_params(&[])?;
    state.roles.authorize(&request.auth, "cluster:monitor/main").await?;
    Ok(EsJson::ok(json!({
        "name": state.config.node_name,
        "cluster_name": state.config.cluster_name,
        "cluster_uuid": cluster_uuid(&state.config.cluster_name),
        "version": {
            "number": COMPATIBLE_VERSION,
            "build_flavor": "default",
            "build_type": "profiled",
            "build_hash": env!("CARGO_PKG_VERSION"),
            "build_date": "2026-01-01T00:00:00.000Z",
            "build_snapshot": false,
            "lucene_version": "10.2.2",
            "minimum_wire_compatibility_version": MINIMUM_WIRE_COMPATIBILITY_VERSION,
            "minimum_index_compatibility_version": MINIMUM_INDEX_COMPATIBILITY_VERSION
        },
        "tagline": "You Know, for Search"
    })))
}

/// Answers `HEAD /` with 200 and no body.
async fn head_cluster_info(State(state): State<AppState>, request: EsRequest) -> Result<StatusCode, EsError> {
    state.roles.authorize(&request.auth, "cluster:monitor/main").await?;
    Ok(StatusCode::OK)
}

fn cluster_uuid(cluster_name: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha256::digest(cluster_name.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// Returns a green single-node health (`GET /_cluster/health`); wait parameters are satisfied at once.
async fn get_cluster_health(State(state): State<AppState>, request: EsRequest) -> Result<EsJson, EsError> {
    request.check_params(&[
        "wait_for_status",
        "timeout",
        "master_timeout",
        "level",
        "local",
        "wait_for_nodes",
        "wait_for_events",
        "wait_for_no_relocating_shards",
        "wait_for_no_initializing_shards",
        "wait_for_active_shards",
        "expand_wildcards",
    ])?;
    if let Some(status) = request.param("wait_for_status") {
        if !matches!(status, "green" | "yellow" | "red") {
            return Err(EsError::illegal_argument(format!("unknown cluster health status [{status}]")));
        }
    }
    state.roles.authorize(&request.auth, "cluster:monitor/health").await?;
    Ok(EsJson::ok(json!({
        "cluster_name": state.config.cluster_name,
        "status": "green",
        "timed_out": false,
        "number_of_nodes": 1,
        "number_of_data_nodes": 1,
        "active_primary_shards": 0,
        "active_shards": 0,
        "relocating_shards": 0,
        "initializing_shards": 0,
        "unassigned_shards": 0,
        "unassigned_primary_shards": 0,
        "delayed_unassigned_shards": 0,
        "number_of_pending_tasks": 0,
        "number_of_in_flight_fetch": 0,
        "task_max_waiting_in_queue_millis": 0,
        "active_shards_percent_as_number": 100.0
    })))
}
