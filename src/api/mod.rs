//! The REST layer: the one place where Elasticsearch endpoints are registered, and the middleware that
//! gives every response Elasticsearch's wire conventions.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;

use crate::app::AppState;
use crate::error::EsError;

pub(crate) mod cluster;
pub(crate) mod request;
pub(crate) mod response;
pub(crate) mod security;

/// Every route of the server with the transport action that authorizes it, for documentation and the
/// route × privilege test. `None` means "any authenticated user" (self-service actions).
pub const ROUTES: &[(&str, &str, Option<&str>)] = &[
    ("GET", "/", Some("cluster:monitor/main")),
    ("HEAD", "/", Some("cluster:monitor/main")),
    ("GET", "/_cluster/health", Some("cluster:monitor/health")),
    ("GET", "/_security/_authenticate", None),
    ("GET", "/_security/user", Some("cluster:admin/xpack/security/user/get")),
    ("GET", "/_security/user/{username}", Some("cluster:admin/xpack/security/user/get")),
    ("PUT", "/_security/user/{username}", Some("cluster:admin/xpack/security/user/put")),
    ("POST", "/_security/user/{username}", Some("cluster:admin/xpack/security/user/put")),
    ("DELETE", "/_security/user/{username}", Some("cluster:admin/xpack/security/user/delete")),
    ("PUT", "/_security/user/{username}/_password", Some("cluster:admin/xpack/security/user/change_password")),
    ("POST", "/_security/user/{username}/_password", Some("cluster:admin/xpack/security/user/change_password")),
    ("PUT", "/_security/user/_password", None),
    ("POST", "/_security/user/_password", None),
    ("PUT", "/_security/user/{username}/_enable", Some("cluster:admin/xpack/security/user/set_enabled")),
    ("POST", "/_security/user/{username}/_enable", Some("cluster:admin/xpack/security/user/set_enabled")),
    ("PUT", "/_security/user/{username}/_disable", Some("cluster:admin/xpack/security/user/set_enabled")),
    ("POST", "/_security/user/{username}/_disable", Some("cluster:admin/xpack/security/user/set_enabled")),
    ("GET", "/_security/user/_has_privileges", None),
    ("POST", "/_security/user/_has_privileges", None),
    ("GET", "/_security/user/_privileges", None),
    ("GET", "/_security/_query/user", Some("cluster:admin/xpack/security/user/query")),
    ("POST", "/_security/_query/user", Some("cluster:admin/xpack/security/user/query")),
    ("GET", "/_security/role", Some("cluster:admin/xpack/security/role/get")),
    ("GET", "/_security/role/{name}", Some("cluster:admin/xpack/security/role/get")),
    ("PUT", "/_security/role/{name}", Some("cluster:admin/xpack/security/role/put")),
    ("POST", "/_security/role/{name}", Some("cluster:admin/xpack/security/role/put")),
    ("DELETE", "/_security/role/{name}", Some("cluster:admin/xpack/security/role/delete")),
    ("POST", "/_security/profile/_activate", Some("cluster:admin/xpack/security/profile/activate")),
    ("GET", "/_security/profile/_activate", Some("cluster:admin/xpack/security/profile/get")),
    ("GET", "/_security/profile/{uid}", Some("cluster:admin/xpack/security/profile/get")),
    ("PUT", "/_security/profile/{uid}/_data", Some("cluster:admin/xpack/security/profile/put/data")),
    ("POST", "/_security/profile/{uid}/_data", Some("cluster:admin/xpack/security/profile/put/data")),
    ("GET", "/_security/profile/_suggest", Some("cluster:admin/xpack/security/profile/suggest")),
    ("POST", "/_security/profile/_suggest", Some("cluster:admin/xpack/security/profile/suggest")),
    ("PUT", "/_security/profile/{uid}/_enable", Some("cluster:admin/xpack/security/profile/set_enabled")),
    ("POST", "/_security/profile/{uid}/_enable", Some("cluster:admin/xpack/security/profile/set_enabled")),
    ("PUT", "/_security/profile/{uid}/_disable", Some("cluster:admin/xpack/security/profile/set_enabled")),
    ("POST", "/_security/profile/{uid}/_disable", Some("cluster:admin/xpack/security/profile/set_enabled")),
    ("GET", "/_security/profile/_has_privileges", Some("cluster:admin/xpack/security/profile/has_privileges")),
    ("POST", "/_security/profile/_has_privileges", Some("cluster:admin/xpack/security/profile/has_privileges")),
    ("POST", "/_security/oauth2/token", Some("cluster:admin/xpack/security/token/create")),
    ("DELETE", "/_security/oauth2/token", Some("cluster:admin/xpack/security/token/invalidate")),
    ("GET", "/_security/role_mapping", Some("cluster:admin/xpack/security/role_mapping/get")),
    ("GET", "/_security/role_mapping/{name}", Some("cluster:admin/xpack/security/role_mapping/get")),
    ("PUT", "/_security/role_mapping/{name}", Some("cluster:admin/xpack/security/role_mapping/put")),
    ("POST", "/_security/role_mapping/{name}", Some("cluster:admin/xpack/security/role_mapping/put")),
    ("DELETE", "/_security/role_mapping/{name}", Some("cluster:admin/xpack/security/role_mapping/delete")),
];

/// The header the official clients check to tell they talk to Elasticsearch.
const X_ELASTIC_PRODUCT: axum::http::HeaderName = axum::http::HeaderName::from_static("x-elastic-product");

/// Builds the full router with its middleware.
pub fn build_router(state: AppState) -> Router {
    Router::new()
        .merge(cluster::router())
        .merge(security::router())
        .fallback(no_handler_found)
        .layer(middleware::from_fn_with_state(state.clone(), front_door))
        .with_state(state)
}

async fn no_handler_found(method: Method, uri: axum::http::Uri) -> EsError {
    EsError::no_handler(&uri.to_string(), method.as_str())
}

/// What every request goes through, in one layer: the media-type check, authentication before routing (as
/// Elasticsearch does; handlers find the [`crate::authn::Authentication`] in the request extensions), then
/// the response conventions of [`finish_response`].
async fn front_door(State(state): State<AppState>, request: Request, next: Next) -> Response {
    finish_response(request, |request| async move {
        match check_media_types(request) {
            Ok(request) => authenticate(&state, request, next).await,
            Err(error) => error.into_response(),
        }
    })
    .await
}

async fn authenticate(state: &AppState, mut request: Request, next: Next) -> Response {
    match state.realms.authenticate_request(request.headers(), request.uri()).await {
        Ok(authentication) => {
            request.extensions_mut().insert(authentication);
            next.run(request).await
        }
        Err(error) => error.into_response(),
    }
}

/// Rejects media types Elasticsearch rejects: unsupported body types (406) and compatible-with versions
/// other than 8 and 9 (400 `media_type_header_exception`).
fn check_media_types(request: Request) -> Result<Request, EsError> {
    validate_media_types(request.headers()).map(|()| request)
}

fn compatible_version(value: &str) -> Option<&str> {
    value.split(';').skip(1).find_map(|parameter| {
        let (name, version) = parameter.split_once('=')?;
        (name.trim().eq_ignore_ascii_case("compatible-with")).then(|| version.trim())
    })
}

fn validate_media_types(headers: &HeaderMap) -> Result<(), EsError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok());
    let accept = headers.get(header::ACCEPT).and_then(|value| value.to_str().ok());
    let has_body = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|length| length.trim() != "0")
        || headers.contains_key(header::TRANSFER_ENCODING);
    if let (Some(content_type), true) = (content_type, has_body) {
        let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        let supported = essence == "application/json"
            || essence == "application/x-ndjson"
            || (essence.starts_with("application/vnd.elasticsearch+") && essence.ends_with("json"));
        if !supported {
            let mut error = EsError::new(
                406,
                "media_type_header_exception",
                format!("Content-Type header [{content_type}] is not supported"),
            );
            error.flat = true;
            return Err(error);
        }
    }
    let mut cause = None;
    for (header_name, value) in [("Content-Type", content_type), ("Accept", accept)] {
        let Some(value) = value else { continue };
        for media_type in value.split(',') {
            if let Some(version) = compatible_version(media_type) {
                if version != "8" && version != "9" {
                    cause.get_or_insert_with(|| {
                        format!("{header_name} version must be either version 9 or 8, but found {version}. {header_name}={value}")
                    });
                    break;
                }
            }
        }
    }
    if let Some(cause) = cause {
        // Elasticsearch names both headers whichever one carries the bad version.
        return Err(EsError::new(
            400,
            "media_type_header_exception",
            "Invalid media-type value on headers [Content-Type, Accept]",
        )
        .with_cause(EsError::new(400, "status_exception", cause)));
    }
    if let (Some(content_type), Some(accept)) = (content_type, accept) {
        let content_version = compatible_version(content_type);
        let accept_version = accept.split(',').find_map(compatible_version);
        if has_body && content_version.is_some() && accept_version.is_some() && content_version != accept_version {
            return Err(EsError::new(
                400,
                "media_type_header_exception",
                "Invalid media-type value on headers [Content-Type, Accept]",
            )
            .with_cause(EsError::new(
                400,
                "status_exception",
                format!(
                    "A compatible version is required on both Content-Type and Accept headers if either one has \
                         requested a compatible version and the compatible versions must match. Accept={accept}, \
                         Content-Type={content_type}"
                ),
            )));
        }
    }
    Ok(())
}

/// Adds `X-Elastic-Product` to every response, renders axum's bare 405s as Elasticsearch's, and applies
/// the `pretty` and `filter_path` parameters.
async fn finish_response<F, Fut>(request: Request, next: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    let method = request.method().clone();
    let uri = request.uri().clone();
    // Most requests carry neither parameter; only then is the query string decoded here.
    let raw_query = uri.query().unwrap_or("");
    let query = if raw_query.contains("pretty") || raw_query.contains("filter_path") || raw_query.contains('%') {
        request::parse_query(raw_query)
    } else {
        Vec::new()
    };
    let mut response = next(request).await;
    if response.status() == StatusCode::METHOD_NOT_ALLOWED && response.headers().get(header::CONTENT_TYPE).is_none() {
        let allowed = allowed_methods(uri.path());
        response = EsError::method_not_allowed(&uri.to_string(), method.as_str(), &allowed).into_response();
    }
    let pretty = query.iter().any(|(name, value)| name == "pretty" && value != "false");
    let filter_path = query.iter().rev().find(|(name, _)| name == "filter_path").map(|(_, value)| value.clone());
    if pretty || filter_path.is_some() {
        response = reformat_json(response, pretty, filter_path.as_deref()).await;
    }
    response.headers_mut().insert(X_ELASTIC_PRODUCT, HeaderValue::from_static("Elasticsearch"));
    response
}

/// Returns the methods the route table serves for `path` (`{param}` segments match any one segment).
pub(crate) fn allowed_methods(path: &str) -> Vec<&'static str> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let mut methods: Vec<&'static str> = Vec::new();
    for (method, pattern, _) in ROUTES {
        let pattern_segments: Vec<&str> = pattern.trim_end_matches('/').split('/').collect();
        let matches = pattern_segments.len() == segments.len()
            && pattern_segments
                .iter()
                .zip(&segments)
                .all(|(expected, actual)| expected.starts_with('{') || expected == actual);
        if matches && *method != "HEAD" && !methods.contains(method) {
            methods.push(method);
        }
    }
    methods
}

async fn reformat_json(response: Response, pretty: bool, filter_path: Option<&str>) -> Response {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(response::JSON_CONTENT_TYPE.as_bytes()));
    if !is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    if let Some(filter_path) = filter_path {
        value = response::apply_filter_path(&value, filter_path);
    }
    let rendered =
        if pretty { response::to_es_pretty_json(&value) } else { serde_json::to_vec(&value).unwrap_or_default() };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(rendered))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn compatible_with_8_and_9_are_accepted() {
        for version in [
            "application/vnd.elasticsearch+json; compatible-with=8",
            "application/vnd.elasticsearch+json; compatible-with=9",
        ] {
            let map = headers(&[("content-type", version), ("accept", version), ("content-length", "2")]);
            assert!(validate_media_types(&map).is_ok());
        }
        assert!(
            validate_media_types(&headers(&[("content-type", "application/json"), ("content-length", "2")])).is_ok()
        );
    }

    #[test]
    fn compatible_with_7_is_rejected() {
        let map = headers(&[("accept", "application/vnd.elasticsearch+json; compatible-with=7")]);
        let error = validate_media_types(&map).expect_err("rejected");
        assert_eq!(error.error_type, "media_type_header_exception");
        assert_eq!(error.reason, "Invalid media-type value on headers [Content-Type, Accept]");
        assert_eq!(error.to_body_json()["error"]["root_cause"][0]["type"], "media_type_header_exception");
        assert!(error
            .caused_by
            .expect("cause")
            .reason
            .starts_with("Accept version must be either version 9 or 8, but found 7."));
    }

    #[test]
    fn text_plain_body_is_not_acceptable() {
        let map = headers(&[("content-type", "text/plain"), ("content-length", "3")]);
        let error = validate_media_types(&map).expect_err("rejected");
        assert_eq!(error.status, 406);
        assert_eq!(error.reason, "Content-Type header [text/plain] is not supported");
        // Without a body the header does not matter (Node sends it on bodyless requests).
        assert!(validate_media_types(&headers(&[("content-type", "text/plain")])).is_ok());
    }

    #[test]
    fn allowed_methods_come_from_the_route_table() {
        assert_eq!(allowed_methods("/_security/_authenticate"), vec!["GET"]);
        assert_eq!(allowed_methods("/_security/user/joe/_enable"), vec!["PUT", "POST"]);
        assert_eq!(allowed_methods("/_security/user/joe"), vec!["GET", "PUT", "POST", "DELETE"]);
    }

    #[test]
    fn every_route_row_is_unique() {
        let mut seen = std::collections::HashSet::new();
        for (method, path, _) in ROUTES {
            assert!(seen.insert((method, path)), "duplicate route {method} {path}");
        }
    }
}
