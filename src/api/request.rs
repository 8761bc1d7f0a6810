//! The request side of Elasticsearch's REST conventions: query parameters with unknown-parameter
//! errors, bodies parsed by us (so every rejection is an ES error), `refresh` and boolean parameters.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use serde_json::Value;

use crate::app::AppState;
use crate::authn::Authentication;
use crate::error::EsError;

/// Parameters every Elasticsearch REST endpoint accepts.
const GLOBAL_PARAMETERS: &[&str] = &["pretty", "human", "error_trace", "filter_path", "source", "source_content_type"];

/// An authenticated REST request with its raw parts.
#[derive(Debug)]
pub(crate) struct EsRequest {
    /// The request target (its path names the endpoint in errors).
    uri: axum::http::Uri,
    /// Decoded query parameters in order of appearance.
    pub(crate) query: Vec<(String, String)>,
    body: Bytes,
    /// The authenticated caller.
    pub(crate) auth: Arc<Authentication>,
}

impl FromRequest<AppState> for EsRequest {
    type Rejection = EsError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let auth = parts
            .extensions
            .get::<Arc<Authentication>>()
            .cloned()
            .ok_or_else(|| EsError::internal("request reached a handler without authentication"))?;
        let limit = state.config.max_content_length;
        let body = if axum::body::HttpBody::is_end_stream(&body) {
            Bytes::new()
        } else {
            axum::body::to_bytes(body, limit).await.map_err(|_| content_too_long(limit))?
        };
        let query = parse_query(parts.uri.query().unwrap_or(""));
        Ok(EsRequest { uri: parts.uri, query, body, auth })
    }
}

/// A single path parameter, with rejections rendered as Elasticsearch errors.
#[derive(Debug)]
pub(crate) struct EsPath(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for EsPath {
    type Rejection = EsError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| EsPath(value))
            .map_err(|rejection| EsError::illegal_argument(rejection.body_text()))
    }
}

/// Splits a comma-separated path parameter the way Elasticsearch does (`Strings.splitStringByCommaToArray`).
pub(crate) fn split_names(value: &str) -> Vec<String> {
    value.split(',').map(str::trim).filter(|name| !name.is_empty()).map(str::to_string).collect()
}

/// 413 for bodies over `http.max_content_length` (Elasticsearch sends an empty 413; we say why).
pub(crate) fn content_too_long(limit: usize) -> EsError {
    EsError::new(
        413,
        "content_too_long_exception",
        format!("request body is larger than the maximum allowed content length [{limit}] (http.max_content_length)"),
    )
}

/// Decodes an `application/x-www-form-urlencoded` query string.
pub(crate) fn parse_query(query: &str) -> Vec<(String, String)> {
    if query.is_empty() {
        return Vec::new();
    }
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    if !text.contains(['%', '+']) {
        return text.to_string();
    }
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if byte == b'+' {
            decoded.push(b' ');
        } else if byte == b'%' && index + 2 < bytes.len() {
            match (hex_value(bytes[index + 1]), hex_value(bytes[index + 2])) {
                (Some(high), Some(low)) => {
                    decoded.push(high * 16 + low);
                    index += 2;
                }
                _ => decoded.push(b'%'),
            }
        } else {
            decoded.push(byte);
        }
        index += 1;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

fn hex_value(byte: u8) -> Option<u8> {
    (byte as char).to_digit(16).map(|digit| digit as u8)
}

/// The `refresh` parameter of write APIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refresh {
    Immediate,
    WaitFor,
    None,
}

impl EsRequest {
    /// Returns the last value of query parameter `name`.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().rev().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// Fails with ES's `unrecognized parameter` error when a parameter is neither in `allowed` nor global.
    pub(crate) fn check_params(&self, allowed: &[&str]) -> Result<(), EsError> {
        let mut unknown: Vec<&str> = Vec::new();
        for (name, _) in &self.query {
            if !allowed.contains(&name.as_str())
                && !GLOBAL_PARAMETERS.contains(&name.as_str())
                && !unknown.contains(&name.as_str())
            {
                unknown.push(name);
            }
        }
        if unknown.is_empty() {
            return Ok(());
        }
        Err(EsError::illegal_argument(unrecognized_parameters_message(self.uri.path(), &unknown, allowed)))
    }

    /// Returns a boolean parameter; ES accepts `true`, `false` and the empty string (true).
    pub(crate) fn bool_param(&self, name: &str, default: bool) -> Result<bool, EsError> {
        match self.param(name) {
            None => Ok(default),
            Some("") | Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(other) => Err(EsError::illegal_argument(format!(
                "Failed to parse value [{other}] only [true] or [false] are allowed."
            ))),
        }
    }

    /// Returns a long parameter, with ES's parse error.
    pub(crate) fn long_param(&self, name: &str) -> Result<Option<i64>, EsError> {
        let Some(text) = self.param(name) else {
            return Ok(None);
        };
        text.parse::<i64>().map(Some).map_err(|_| {
            EsError::illegal_argument(format!("Failed to parse long parameter [{name}] with value [{text}]"))
                .with_cause(EsError::new(400, "number_format_exception", format!("For input string: \"{text}\"")))
        })
    }

    /// Returns the `refresh` parameter (`default` when absent).
    pub(crate) fn refresh(&self, default: Refresh) -> Result<Refresh, EsError> {
        match self.param("refresh") {
            None => Ok(default),
            Some("") | Some("true") => Ok(Refresh::Immediate),
            Some("false") => Ok(Refresh::None),
            Some("wait_for") => Ok(Refresh::WaitFor),
            Some(other) => Err(EsError::illegal_argument(format!("Unknown value for refresh: [{other}]."))),
        }
    }

    /// The raw body (empty when there is none).
    pub(crate) fn body(&self) -> &[u8] {
        &self.body
    }

    /// Parses the JSON body, which must be present.
    pub(crate) fn json_body(&self) -> Result<Value, EsError> {
        self.optional_json_body()?.ok_or_else(|| EsError::parse("request body is required"))
    }

    /// Parses the JSON body if there is one (also from the `source` parameter).
    pub(crate) fn optional_json_body(&self) -> Result<Option<Value>, EsError> {
        let bytes: &[u8] = if !self.body.is_empty() {
            &self.body
        } else if let Some(source) = self.param("source") {
            source.as_bytes()
        } else {
            return Ok(None);
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        parse_json(bytes).map(Some)
    }
}

/// Parses JSON the way Elasticsearch reports failures: `x_content_parse_exception`/`parse_exception` 400s.
pub(crate) fn parse_json(bytes: &[u8]) -> Result<Value, EsError> {
    let text = std::str::from_utf8(bytes).map_err(|error| {
        EsError::x_content_parse(format!("Invalid UTF-8 start byte at byte offset {}", error.valid_up_to()))
    })?;
    serde_json::from_str(text).map_err(|error| {
        EsError::x_content_parse(format!("[{}:{}] {}", error.line(), error.column(), json_error_text(&error)))
            .with_cause(EsError::new(400, "json_parse_exception", json_error_text(&error)))
    })
}

fn json_error_text(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(position) => text[..position].to_string(),
        None => text,
    }
}

fn unrecognized_parameters_message(path: &str, unknown: &[&str], allowed: &[&str]) -> String {
    let mut message =
        format!("request [{path}] contains unrecognized parameter{}: ", if unknown.len() > 1 { "s" } else { "" });
    let candidates: Vec<&str> = allowed.iter().chain(GLOBAL_PARAMETERS.iter()).copied().collect();
    let parts: Vec<String> = unknown
        .iter()
        .map(|name| match crate::domain::xcontent::did_you_mean(name, &candidates) {
            suggestion if suggestion.is_empty() => format!("[{name}]"),
            suggestion => format!("[{name}] ->{suggestion}"),
        })
        .collect();
    message.push_str(&parts.join(", "));
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_decode() {
        assert_eq!(
            parse_query("data=kibana.%2A&refresh=&a+b=c%20d"),
            vec![
                ("data".to_string(), "kibana.*".to_string()),
                ("refresh".to_string(), String::new()),
                ("a b".to_string(), "c d".to_string())
            ]
        );
        assert_eq!(parse_query("x=%zz%4"), vec![("x".to_string(), "%zz%4".to_string())]);
    }

    #[test]
    fn unrecognized_parameter_messages_match_elasticsearch() {
        assert_eq!(
            unrecognized_parameters_message("/_security/profile/_activate", &["foo"], &[]),
            "request [/_security/profile/_activate] contains unrecognized parameter: [foo]"
        );
        assert_eq!(
            unrecognized_parameters_message("/_security/user/x", &["refesh"], &["refresh"]),
            "request [/_security/user/x] contains unrecognized parameter: [refesh] -> did you mean [refresh]?"
        );
        assert_eq!(
            unrecognized_parameters_message("/p", &["a", "b"], &[]),
            "request [/p] contains unrecognized parameters: [a], [b]"
        );
    }

    #[test]
    fn malformed_json_is_an_x_content_parse_exception() {
        let error = parse_json(b"{\"a\":").expect_err("invalid");
        assert_eq!(error.error_type, "x_content_parse_exception");
        assert_eq!(error.status, 400);
        let error = parse_json(&[0xff, 0xfe]).expect_err("invalid utf-8");
        assert_eq!(error.error_type, "x_content_parse_exception");
    }
}
