//! The user profile APIs: `/_security/profile/...` (spec §3–§8).

use axum::extract::State;
use axum::routing::{get, post, put};
use axum::Router;
use serde_json::json;

use crate::api::request::{EsPath, EsRequest, Refresh};
use crate::api::response::{EsJson, EsRawJson};
use crate::app::AppState;
use crate::domain::profile::{parse_data_keys, UpdateProfileData};
use crate::domain::profile_render::DataFilter;
use crate::error::EsError;
use crate::service::profile_privileges::{self, ProfileHasPrivilegesRequest};
use crate::service::profile_suggest::{self, SuggestRequest};
use crate::service::profiles::{self, Expected};

pub(crate) const ACTIVATE: &str = "cluster:admin/xpack/security/profile/activate";
pub(crate) const GET: &str = "cluster:admin/xpack/security/profile/get";
pub(crate) const UPDATE_DATA: &str = "cluster:admin/xpack/security/profile/put/data";
pub(crate) const SUGGEST: &str = "cluster:admin/xpack/security/profile/suggest";
pub(crate) const SET_ENABLED: &str = "cluster:admin/xpack/security/profile/set_enabled";
pub(crate) const HAS_PRIVILEGES: &str = "cluster:admin/xpack/security/profile/has_privileges";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        // Elasticsearch falls back to "get profile" for GET on the literal activate path (spec §0).
        .route("/_security/profile/_activate", post(activate_profile).get(get_profile_named_activate))
        .route("/_security/profile/_suggest", get(suggest_profiles).post(suggest_profiles))
        .route(
            "/_security/profile/_has_privileges",
            get(has_privileges_user_profiles).post(has_privileges_user_profiles),
        )
        .route("/_security/profile/{uid}", get(get_profiles))
        .route("/_security/profile/{uid}/_data", put(update_profile_data).post(update_profile_data))
        .route("/_security/profile/{uid}/_enable", put(enable_profile).post(enable_profile))
        .route("/_security/profile/{uid}/_disable", put(disable_profile).post(disable_profile))
}

/// Creates or refreshes the profile of the user named by the grant (`POST /_security/profile/_activate`).
async fn activate_profile(State(state): State<AppState>, request: EsRequest) -> Result<EsRawJson, EsError> {
    let body = request.json_body()?;
    request.check_params(&[])?;
    let grant = profiles::parse_activate_request(&body)?;
    state.roles.authorize(&request.auth, ACTIVATE).await?;
    let authentication = profiles::authenticate_grant(&state, grant).await?;
    let profile = profiles::activate(&state, &authentication).await?;
    let mut body = Vec::with_capacity(512);
    profile.write_api_json(&mut body, &DataFilter::new(&[]));
    Ok(EsRawJson(body.into()))
}

/// Returns profiles by uid, in request order (`GET /_security/profile/{uid}`, comma-separated).
async fn get_profiles(
    State(state): State<AppState>,
    EsPath(uids): EsPath,
    request: EsRequest,
) -> Result<EsRawJson, EsError> {
    render_profiles(&state, &uids, request).await
}

async fn get_profile_named_activate(State(state): State<AppState>, request: EsRequest) -> Result<EsRawJson, EsError> {
    render_profiles(&state, "_activate", request).await
}

async fn render_profiles(state: &AppState, uids_param: &str, request: EsRequest) -> Result<EsRawJson, EsError> {
    let data_keys = parse_data_keys(request.param("data"));
    request.check_params(&["data"])?;
    // Java's String.split: trailing empty pieces are dropped, inner ones kept (spec §4.1).
    let mut uids: Vec<String> = uids_param.split(',').map(str::to_string).collect();
    while uids.last().is_some_and(String::is_empty) {
        uids.pop();
    }
    if uids.is_empty() {
        return Err(EsError::validation(&["profile UIDs must be provided"]));
    }
    if uids.iter().any(|uid| uid.trim().is_empty()) {
        return Err(EsError::validation(&["Profile UID cannot be empty"]));
    }
    state.roles.authorize(&request.auth, GET).await?;
    let lookup = profiles::get_profiles(state, &uids).await?;
    let filter = DataFilter::new(&data_keys);
    if let ([cached], true) = (lookup.found.as_slice(), lookup.errors.is_empty()) {
        // One profile: its kept rendering is the whole answer.
        return Ok(EsRawJson(cached.rendered(&filter).response));
    }
    let mut body = Vec::with_capacity(64 + lookup.found.iter().map(|cached| cached.rendered_len_hint()).sum::<usize>());
    body.extend_from_slice(b"{\"profiles\":[");
    for (index, cached) in lookup.found.iter().enumerate() {
        if index > 0 {
            body.push(b',');
        }
        cached.write_api_json(&mut body, &filter);
    }
    body.push(b']');
    if let Some(errors) = profiles::errors_json(&lookup.errors) {
        body.extend_from_slice(b",\"errors\":");
        serde_json::to_writer(&mut body, &errors).map_err(|_| EsError::internal("cannot render errors"))?;
    }
    body.push(b'}');
    Ok(EsRawJson(body.into()))
}

/// Deep-merges labels and data into a profile (`PUT|POST /_security/profile/{uid}/_data`).
async fn update_profile_data(
    State(state): State<AppState>,
    EsPath(uid): EsPath,
    request: EsRequest,
) -> Result<EsJson, EsError> {
    let refresh = request.refresh(Refresh::WaitFor)?;
    let if_seq_no = request.long_param("if_seq_no")?;
    let if_primary_term = request.long_param("if_primary_term")?;
    let body = request.json_body()?;
    let update = UpdateProfileData::parse(&body)?;
    request.check_params(&["refresh", "if_seq_no", "if_primary_term"])?;
    let problems = update.validation_problems();
    if !problems.is_empty() {
        return Err(EsError::validation(&problems));
    }
    let expected = Expected::from_params(if_seq_no, if_primary_term)?;
    authorize_update_data(&state, &request, &update).await?;
    let write = profiles::update_data(&state, &uid, update, expected).await?;
    finish_write(&state, refresh, &write).await;
    Ok(EsJson::ok(json!({ "acknowledged": true })))
}

/// `manage_user_profile` (or higher), or `profile.write.applications` covering every namespace (spec §5.3).
async fn authorize_update_data(
    state: &AppState,
    request: &EsRequest,
    update: &UpdateProfileData,
) -> Result<(), EsError> {
    let resolved = state.roles.resolve(&request.auth.user.roles).await?;
    let names = update.application_names();
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    if resolved.grants_cluster_action(UPDATE_DATA) || resolved.permissions.grants_profile_write(&name_refs) {
        return Ok(());
    }
    state.roles.authorize(&request.auth, UPDATE_DATA).await.map(|_| ())
}

/// Makes a write visible to suggest as `refresh` asks. Writes that change nothing the index holds are
/// visible at once, because suggest reads everything else from the store.
async fn finish_write(state: &AppState, refresh: Refresh, write: &profiles::ProfileWrite) {
    match refresh {
        Refresh::Immediate | Refresh::WaitFor if write.changes_index => {
            state.profile_search.wait_for(write.seq_no).await
        }
        _ => state.profile_search.notify(),
    }
}

/// Enables a profile (`PUT|POST /_security/profile/{uid}/_enable`).
async fn enable_profile(
    State(state): State<AppState>,
    EsPath(uid): EsPath,
    request: EsRequest,
) -> Result<EsJson, EsError> {
    set_profile_enabled(&state, &uid, request, true).await
}

/// Disables a profile (`PUT|POST /_security/profile/{uid}/_disable`).
async fn disable_profile(
    State(state): State<AppState>,
    EsPath(uid): EsPath,
    request: EsRequest,
) -> Result<EsJson, EsError> {
    set_profile_enabled(&state, &uid, request, false).await
}

async fn set_profile_enabled(
    state: &AppState,
    uid: &str,
    request: EsRequest,
    enabled: bool,
) -> Result<EsJson, EsError> {
    let refresh = request.refresh(Refresh::WaitFor)?;
    request.check_params(&["refresh"])?;
    state.roles.authorize(&request.auth, SET_ENABLED).await?;
    let write = profiles::set_enabled(state, uid, enabled).await?;
    finish_write(state, refresh, &write).await;
    Ok(EsJson::ok(json!({ "acknowledged": true })))
}

/// Suggests enabled profiles by name, boosted by hints (`GET|POST /_security/profile/_suggest`).
async fn suggest_profiles(State(state): State<AppState>, request: EsRequest) -> Result<EsRawJson, EsError> {
    let body = request.optional_json_body()?;
    let suggest_request = SuggestRequest::parse(body.as_ref(), request.param("data"))?;
    request.check_params(&["data"])?;
    suggest_request.validate()?;
    state.roles.authorize(&request.auth, SUGGEST).await?;
    Ok(EsRawJson(profile_suggest::suggest(&state, suggest_request).await?.into()))
}

/// Tells which profiles' users hold the given privileges (`GET|POST /_security/profile/_has_privileges`).
async fn has_privileges_user_profiles(State(state): State<AppState>, request: EsRequest) -> Result<EsRawJson, EsError> {
    let has_privileges_request = match ProfileHasPrivilegesRequest::parse_well_formed(request.body()) {
        Some(parsed) => parsed,
        None => ProfileHasPrivilegesRequest::parse(&request.json_body()?)?,
    };
    request.check_params(&[])?;
    has_privileges_request.validate()?;
    state.roles.authorize(&request.auth, HAS_PRIVILEGES).await?;
    Ok(EsRawJson(profile_privileges::has_privileges(&state, has_privileges_request).await?))
}
