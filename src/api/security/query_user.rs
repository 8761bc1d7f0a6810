//! `GET|POST /_security/_query/user`: search native users with a query DSL subset.

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use crate::api::request::EsRequest;
use crate::api::response::EsJson;
use crate::api::security::query_user_dsl::{execute_query_user, parse_query_user_request};
use crate::app::AppState;
use crate::error::EsError;
use crate::service::users;

const QUERY_USERS: &str = "cluster:admin/xpack/security/user/query";

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/_security/_query/user", get(query_users).post(query_users))
}

/// Searches users (`GET|POST /_security/_query/user`).
async fn query_users(State(state): State<AppState>, request: EsRequest) -> Result<EsJson, EsError> {
    let body = request.optional_json_body()?;
    let query = parse_query_user_request(body.as_ref())?;
    let with_profile_uid = request.bool_param("with_profile_uid", false)?;
    request.check_params(&["with_profile_uid"])?;
    state.roles.authorize(&request.auth, QUERY_USERS).await?;
    let mut rendered_users = Vec::new();
    for user in users::get_users(&state, &[]).await? {
        if user.metadata.get("_reserved") == Some(&Value::Bool(true)) {
            continue;
        }
        let mut rendered = user.to_json();
        if with_profile_uid {
            if let (Value::Object(object), Some(uid)) = (&mut rendered, users::profile_uid_of(&state, &user).await?) {
                object.insert("profile_uid".into(), Value::String(uid));
            }
        }
        rendered_users.push(rendered);
    }
    let (total, page) = execute_query_user(&query, rendered_users)?;
    Ok(EsJson::ok(json!({ "total": total, "count": page.len(), "users": page })))
}
