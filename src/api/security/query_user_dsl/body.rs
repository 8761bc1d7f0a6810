//! The request body parser (`query_user_request_payload`, a strict `ConstructingObjectParser`).

use serde_json::Value;

use super::errors::{expected_start_object, failed_to_parse_field, unknown_field, unsupported_value_type};
use super::parse_query::parse_top_level_query;
use super::parse_values::int_value;
use super::query::Query;
use super::sort::{parse_search_after, parse_sort, SortSpec};
use crate::error::EsError;

const PARSER_NAME: &str = "query_user_request_payload";
const BODY_FIELDS: &[&str] = &["query", "from", "size", "sort", "search_after"];

/// The body fields, parsed but not yet validated or translated.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct QueryUserBody {
    pub(crate) query: Option<Query<String>>,
    pub(crate) from: Option<i32>,
    pub(crate) size: Option<i32>,
    pub(crate) sort: Option<Vec<SortSpec>>,
    pub(crate) search_after: Option<Vec<Value>>,
}

/// Parses the body; fields are read in body order and the first failure is reported.
pub(crate) fn parse_body(body: &Value) -> Result<QueryUserBody, EsError> {
    let Value::Object(fields) = body else {
        return Err(expected_start_object(PARSER_NAME, body));
    };
    let mut parsed = QueryUserBody::default();
    for (key, value) in fields {
        let wrap = |cause: EsError| failed_to_parse_field(PARSER_NAME, key, cause);
        match key.as_str() {
            "query" => {
                if !value.is_object() {
                    return Err(unsupported_value_type(PARSER_NAME, key, value));
                }
                parsed.query = Some(parse_top_level_query(value).map_err(wrap)?);
            }
            "from" | "size" => {
                if !matches!(value, Value::Number(_) | Value::String(_)) {
                    return Err(unsupported_value_type(PARSER_NAME, key, value));
                }
                let number = int_value(value).map_err(wrap)?;
                if key == "from" {
                    parsed.from = Some(number);
                } else {
                    parsed.size = Some(number);
                }
            }
            "sort" => {
                if !matches!(value, Value::Object(_) | Value::Array(_)) {
                    return Err(unsupported_value_type(PARSER_NAME, key, value));
                }
                parsed.sort = Some(parse_sort(value).map_err(wrap)?);
            }
            "search_after" => {
                let Value::Array(items) = value else {
                    return Err(unsupported_value_type(PARSER_NAME, key, value));
                };
                parsed.search_after = Some(parse_search_after(items).map_err(wrap)?);
            }
            unknown => return Err(unknown_field(PARSER_NAME, unknown, BODY_FIELDS)),
        }
    }
    Ok(parsed)
}

/// Validates `from` and `size` (`QueryUserRequest.validate`).
pub(crate) fn validate(body: &QueryUserBody) -> Result<(), EsError> {
    let mut messages = Vec::new();
    if let Some(from) = body.from.filter(|from| *from < 0) {
        messages.push(format!("[from] parameter cannot be negative but was [{from}]"));
    }
    if let Some(size) = body.size.filter(|size| *size < 0) {
        messages.push(format!("[size] parameter cannot be negative but was [{size}]"));
    }
    if messages.is_empty() {
        return Ok(());
    }
    Err(EsError::validation(&messages))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn body_errors() {
        let table: Vec<(Value, &str, &str)> = vec![
            (json!({"foo": 1}), "x_content_parse_exception", "[1:2] [query_user_request_payload] unknown field [foo]"),
            (
                json!({"sise": 1}),
                "x_content_parse_exception",
                "[1:2] [query_user_request_payload] unknown field [sise] did you mean [size]?",
            ),
            (
                json!({"query": "x"}),
                "x_content_parse_exception",
                "[1:2] [query_user_request_payload] query doesn't support values of type: VALUE_STRING",
            ),
            (
                json!({"from": true}),
                "x_content_parse_exception",
                "[1:2] [query_user_request_payload] from doesn't support values of type: VALUE_BOOLEAN",
            ),
            (
                json!({"size": null}),
                "x_content_parse_exception",
                "[1:2] [query_user_request_payload] size doesn't support values of type: VALUE_NULL",
            ),
            (
                json!({"from": "abc"}),
                "x_content_parse_exception",
                "[1:2] [query_user_request_payload] failed to parse field [from]",
            ),
            (
                json!({"sort": "username"}),
                "x_content_parse_exception",
                "[1:2] [query_user_request_payload] sort doesn't support values of type: VALUE_STRING",
            ),
            (
                json!({"search_after": "a"}),
                "x_content_parse_exception",
                "[1:2] [query_user_request_payload] search_after doesn't support values of type: VALUE_STRING",
            ),
            (
                json!({"search_after": []}),
                "x_content_parse_exception",
                "[1:2] [query_user_request_payload] failed to parse field [search_after]",
            ),
            (
                json!({"query": {"foo": {}}}),
                "x_content_parse_exception",
                "[1:2] [query_user_request_payload] failed to parse field [query]",
            ),
            (
                json!([]),
                "x_content_parse_exception",
                "[1:2] [query_user_request_payload] Expected START_OBJECT but was: START_ARRAY",
            ),
        ];
        for (body, error_type, reason) in table {
            let error = parse_body(&body).unwrap_err();
            assert_eq!(error.error_type, error_type, "{body}");
            assert_eq!(error.reason, reason, "{body}");
        }
    }

    #[test]
    fn unknown_query_keeps_its_parsing_exception_as_root_cause() {
        let error = parse_body(&json!({"query": {"fuzzzy": {}}})).unwrap_err();
        let rendered = error.to_body_json();
        assert_eq!(rendered["error"]["root_cause"][0]["type"], "parsing_exception");
        assert_eq!(rendered["error"]["root_cause"][0]["reason"], "unknown query [fuzzzy] did you mean [fuzzy]?");
    }

    #[test]
    fn validation_collects_both_messages() {
        let body = parse_body(&json!({"from": -1, "size": -2})).unwrap();
        let error = validate(&body).unwrap_err();
        assert_eq!(
            error.reason,
            "Validation Failed: 1: [from] parameter cannot be negative but was [-1];2: [size] parameter cannot be negative but was [-2];"
        );
    }
}
