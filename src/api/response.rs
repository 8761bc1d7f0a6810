//! The response side of Elasticsearch's REST conventions: JSON bodies, the error envelope with its
//! headers, and the global `pretty` / `filter_path` parameters.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Map, Value};

use crate::error::EsError;

/// A JSON response with a status.
#[derive(Debug)]
pub(crate) struct EsJson(pub(crate) StatusCode, pub(crate) Value);

impl EsJson {
    /// A 200 response.
    pub(crate) fn ok(body: Value) -> EsJson {
        EsJson(StatusCode::OK, body)
    }
}

pub(crate) const JSON_CONTENT_TYPE: &str = "application/json";

/// A 200 response whose JSON body is already rendered (the hot read paths write it directly).
#[derive(Debug)]
pub(crate) struct EsRawJson(pub(crate) Bytes);

impl IntoResponse for EsRawJson {
    fn into_response(self) -> Response {
        let mut response = (StatusCode::OK, self.0).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
        response
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = (status, bytes).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
    response
}

impl IntoResponse for EsJson {
    fn into_response(self) -> Response {
        json_response(self.0, &self.1)
    }
}

impl IntoResponse for EsError {
    fn into_response(self) -> Response {
        if self.status >= 500 {
            tracing::error!(error_type = %self.error_type, reason = %self.reason, "request failed");
        }
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = json_response(status, &self.to_body_json());
        for challenge in &self.www_authenticate {
            if let Ok(value) = HeaderValue::from_str(challenge) {
                response.headers_mut().append(header::WWW_AUTHENTICATE, value);
            }
        }
        if let Some(allow) = &self.allow {
            if let Ok(value) = HeaderValue::from_str(allow) {
                response.headers_mut().insert(header::ALLOW, value);
            }
        }
        response
    }
}

/// Pretty-prints JSON the way Elasticsearch does: two-space indent and `"key" : value`.
pub(crate) fn to_es_pretty_json(value: &Value) -> Vec<u8> {
    let mut output = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut output, EsPrettyFormatter::default());
    let _ = serde::Serialize::serialize(value, &mut serializer);
    output.push(b'\n');
    output
}

/// serde_json's pretty formatter with Elasticsearch's ` : ` between keys and values.
#[derive(Default)]
struct EsPrettyFormatter {
    inner: serde_json::ser::PrettyFormatter<'static>,
}

impl serde_json::ser::Formatter for EsPrettyFormatter {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.inner.begin_array(writer)
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.inner.end_array(writer)
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(&mut self, writer: &mut W, first: bool) -> std::io::Result<()> {
        self.inner.begin_array_value(writer, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.inner.end_array_value(writer)
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.inner.begin_object(writer)
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.inner.end_object(writer)
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(&mut self, writer: &mut W, first: bool) -> std::io::Result<()> {
        self.inner.begin_object_key(writer, first)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        writer.write_all(b" : ")
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.inner.end_object_value(writer)
    }
}

/// Applies Elasticsearch's `filter_path`: comma-separated dotted paths, `*` matches one key (or part of
/// one), `**` any depth, a leading `-` excludes. Returns `{}` when nothing matches.
pub(crate) fn apply_filter_path(body: &Value, filter_path: &str) -> Value {
    let mut includes: Vec<Vec<&str>> = Vec::new();
    let mut excludes: Vec<Vec<&str>> = Vec::new();
    for expression in filter_path.split(',').map(str::trim).filter(|expression| !expression.is_empty()) {
        match expression.strip_prefix('-') {
            Some(excluded) => excludes.push(excluded.split('.').collect()),
            None => includes.push(expression.split('.').collect()),
        }
    }
    let included = if includes.is_empty() {
        body.clone()
    } else {
        let patterns: Vec<&[&str]> = includes.iter().map(Vec::as_slice).collect();
        filter_include(body, &patterns).unwrap_or_else(|| Value::Object(Map::new()))
    };
    if excludes.is_empty() {
        return included;
    }
    let patterns: Vec<&[&str]> = excludes.iter().map(Vec::as_slice).collect();
    filter_exclude(&included, &patterns)
}

/// Glob match of one key against one pattern segment (`*` matches any run of characters).
pub(crate) fn segment_matches(pattern: &str, key: &str) -> bool {
    if !pattern.contains('*') {
        return pattern == key;
    }
    let pieces: Vec<&str> = pattern.split('*').collect();
    let mut remaining = key;
    for (index, piece) in pieces.iter().enumerate() {
        if index == 0 {
            match remaining.strip_prefix(piece) {
                Some(rest) => remaining = rest,
                None => return false,
            }
        } else if index == pieces.len() - 1 {
            return remaining.ends_with(piece);
        } else {
            match remaining.find(piece) {
                Some(position) => remaining = &remaining[position + piece.len()..],
                None => return false,
            }
        }
    }
    remaining.is_empty()
}

/// Keeps the parts of `value` selected by any pattern; `None` when nothing is selected.
fn filter_include(value: &Value, patterns: &[&[&str]]) -> Option<Value> {
    if patterns.iter().any(|pattern| pattern.is_empty()) {
        return Some(value.clone());
    }
    match value {
        Value::Object(object) => {
            let mut kept = Map::new();
            for (key, child) in object {
                let mut child_patterns: Vec<&[&str]> = Vec::new();
                for pattern in patterns {
                    if pattern[0] == "**" {
                        child_patterns.push(pattern);
                        if pattern.len() > 1 && segment_matches(pattern[1], key) {
                            child_patterns.push(&pattern[2..]);
                        }
                    } else if segment_matches(pattern[0], key) {
                        child_patterns.push(&pattern[1..]);
                    }
                }
                if child_patterns.is_empty() {
                    continue;
                }
                if let Some(filtered) = filter_include(child, &child_patterns) {
                    kept.insert(key.clone(), filtered);
                }
            }
            if kept.is_empty() {
                None
            } else {
                Some(Value::Object(kept))
            }
        }
        Value::Array(items) => {
            let kept: Vec<Value> = items.iter().filter_map(|item| filter_include(item, patterns)).collect();
            if kept.is_empty() {
                None
            } else {
                Some(Value::Array(kept))
            }
        }
        _ => None,
    }
}

fn filter_exclude(value: &Value, patterns: &[&[&str]]) -> Value {
    match value {
        Value::Object(object) => {
            let mut kept = Map::new();
            for (key, child) in object {
                let mut child_patterns: Vec<&[&str]> = Vec::new();
                let mut drop = false;
                for pattern in patterns {
                    if pattern.is_empty() {
                        continue;
                    }
                    if segment_matches(pattern[0], key) {
                        if pattern.len() == 1 {
                            drop = true;
                        } else {
                            child_patterns.push(&pattern[1..]);
                        }
                    }
                }
                if drop {
                    continue;
                }
                let filtered =
                    if child_patterns.is_empty() { child.clone() } else { filter_exclude(child, &child_patterns) };
                kept.insert(key.clone(), filtered);
            }
            Value::Object(kept)
        }
        Value::Array(items) => Value::Array(items.iter().map(|item| filter_exclude(item, patterns)).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filter_path_includes_and_excludes() {
        let body = json!({"took": 3, "total": {"value": 1, "relation": "eq"}, "profiles": [{"uid": "a", "data": {}}, {"uid": "b"}]});
        assert_eq!(apply_filter_path(&body, "profiles.uid"), json!({"profiles": [{"uid": "a"}, {"uid": "b"}]}));
        assert_eq!(apply_filter_path(&body, "total.*"), json!({"total": {"value": 1, "relation": "eq"}}));
        assert_eq!(apply_filter_path(&body, "**.relation"), json!({"total": {"relation": "eq"}}));
        assert_eq!(apply_filter_path(&body, "-profiles,-took"), json!({"total": {"value": 1, "relation": "eq"}}));
        assert_eq!(apply_filter_path(&body, "nothing"), json!({}));
        assert_eq!(apply_filter_path(&body, "to*"), json!({"took": 3, "total": {"value": 1, "relation": "eq"}}));
    }

    #[test]
    fn pretty_output_matches_elasticsearch() {
        let text = String::from_utf8(to_es_pretty_json(&json!({"a": [1, {"b": null}], "c": {}}))).expect("utf-8");
        assert_eq!(
            text,
            "{\n  \"a\" : [\n    1,\n    {\n      \"b\" : null\n    }\n  ],\n  \"c\" : { }\n}\n".replace("{ }", "{}")
        );
    }

    #[test]
    fn error_response_carries_challenges() {
        let response =
            EsError::unauthenticated("no", &["Basic realm=\"security\", charset=\"UTF-8\"", "ApiKey"]).into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let challenges: Vec<_> = response.headers().get_all(header::WWW_AUTHENTICATE).iter().collect();
        assert_eq!(challenges.len(), 2);
    }
}
