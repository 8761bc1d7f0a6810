//! Parses query clauses (the dispatcher, `bool` and `match_all`) as Elasticsearch's `AbstractQueryBuilder.parseInnerQueryBuilder` and the
//! individual `fromXContent` parsers do, with their error texts.

use serde_json::{Map, Value};

use super::errors::{failed_to_parse_field, parsing, unknown_field, unsupported_value_type};
use super::parse_query_terms::{parse_exists, parse_ids, parse_prefix_or_wildcard, parse_term, parse_terms};
use super::parse_query_text::{parse_match, parse_range, parse_simple_query_string};
use super::parse_values::{bool_value, float_value};
use super::query::{BoolQuery, Query};
use crate::error::EsError;

/// The deepest nesting of query clauses Elasticsearch accepts (`indices.query.bool.max_nested_depth`).
const MAX_NESTED_DEPTH: usize = 30;

/// Query names registered in Elasticsearch (default distribution) that the Query User API refuses after
/// parsing. They are also the candidates of the "did you mean" suggestion for unknown names.
const OTHER_REGISTERED_QUERIES: &[&str] = &[
    "boosting",
    "combined_fields",
    "constant_score",
    "dis_max",
    "distance_feature",
    "field_masking_span",
    "function_score",
    "fuzzy",
    "geo_bounding_box",
    "geo_distance",
    "geo_grid",
    "geo_polygon",
    "geo_shape",
    "has_child",
    "has_parent",
    "intervals",
    "knn",
    "match_bool_prefix",
    "match_none",
    "match_phrase",
    "match_phrase_prefix",
    "more_like_this",
    "multi_match",
    "nested",
    "parent_id",
    "percolate",
    "pinned",
    "query_string",
    "rank_feature",
    "regexp",
    "rule",
    "script",
    "script_score",
    "semantic",
    "shape",
    "span_containing",
    "span_field_masking",
    "span_first",
    "span_multi",
    "span_near",
    "span_not",
    "span_or",
    "span_term",
    "span_within",
    "sparse_vector",
    "terms_set",
    "text_expansion",
    "weighted_tokens",
    "wrapper",
];

/// Query names the Query User API supports.
const SUPPORTED_QUERIES: &[&str] = &[
    "bool",
    "match_all",
    "term",
    "terms",
    "match",
    "prefix",
    "wildcard",
    "exists",
    "range",
    "ids",
    "simple_query_string",
];

/// Parses the value of the top-level `query` field.
pub(crate) fn parse_top_level_query(value: &Value) -> Result<Query<String>, EsError> {
    parse_inner_query(value, 0)
}

/// Parses one query clause `{"<name>": {...}}`; `depth` counts the enclosing clauses.
pub(crate) fn parse_inner_query(value: &Value, depth: usize) -> Result<Query<String>, EsError> {
    let Value::Object(clause) = value else {
        return Err(parsing("[_na] query malformed, must start with start_object"));
    };
    let Some((query_name, body)) = clause.iter().next() else {
        return Err(EsError::illegal_argument(format!(
            "query malformed, empty clause found at [{}]",
            super::errors::LOCATION
        )));
    };
    let Value::Object(body) = body else {
        return Err(parsing(format!("[{query_name}] query malformed, no start_object after query name")));
    };
    if depth + 1 > MAX_NESTED_DEPTH {
        return Err(EsError::illegal_argument(
            "The nested depth of the query exceeds the maximum nested depth for queries set in \
             [indices.query.bool.max_nested_depth]",
        ));
    }
    let query = match query_name.as_str() {
        "bool" => parse_bool(body, depth + 1)?,
        "match_all" => parse_match_all(body)?,
        "term" => parse_term(body)?,
        "terms" => parse_terms(body)?,
        "match" => parse_match(body)?,
        "prefix" => parse_prefix_or_wildcard("prefix", body)?,
        "wildcard" => parse_prefix_or_wildcard("wildcard", body)?,
        "exists" => parse_exists(body)?,
        "range" => parse_range(body)?,
        "ids" => parse_ids(body)?,
        "simple_query_string" => parse_simple_query_string(body)?,
        other if OTHER_REGISTERED_QUERIES.contains(&other) => Query::Unsupported { name: other.to_string() },
        unknown => {
            let candidates: Vec<&str> =
                SUPPORTED_QUERIES.iter().chain(OTHER_REGISTERED_QUERIES.iter()).copied().collect();
            let suggestion = super::errors::did_you_mean(unknown, &candidates);
            return Err(parsing(format!("unknown query [{unknown}]{suggestion}")));
        }
    };
    if clause.len() > 1 {
        return Err(parsing(format!("[{query_name}] malformed query, expected [END_OBJECT] but found [FIELD_NAME]")));
    }
    Ok(query)
}

const BOOL_FIELDS: &[&str] =
    &["must", "should", "must_not", "filter", "adjust_pure_negative", "minimum_should_match", "_name", "boost"];

/// Parses `bool` (an `ObjectParser` named `bool`).
fn parse_bool(body: &Map<String, Value>, depth: usize) -> Result<Query<String>, EsError> {
    let mut bool_query = BoolQuery {
        must: Vec::new(),
        should: Vec::new(),
        must_not: Vec::new(),
        filter: Vec::new(),
        minimum_should_match: None,
        adjust_pure_negative: true,
        boost: 1.0,
    };
    for (key, value) in body {
        match key.as_str() {
            "must" | "should" | "must_not" | "filter" => {
                let clauses = parse_clause_list(key, value, depth)?;
                match key.as_str() {
                    "must" => bool_query.must.extend(clauses),
                    "should" => bool_query.should.extend(clauses),
                    "must_not" => bool_query.must_not.extend(clauses),
                    _ => bool_query.filter.extend(clauses),
                }
            }
            "adjust_pure_negative" => {
                if !matches!(value, Value::Bool(_) | Value::String(_)) {
                    return Err(unsupported_value_type("bool", key, value));
                }
                bool_query.adjust_pure_negative =
                    bool_value(value).map_err(|cause| failed_to_parse_field("bool", key, cause))?;
            }
            "minimum_should_match" => {
                if !matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null) {
                    return Err(unsupported_value_type("bool", key, value));
                }
                bool_query.minimum_should_match = match value {
                    Value::Null => None,
                    other => Some(super::parse_values::text_of(other)),
                };
            }
            "_name" => {
                if !value.is_string() {
                    return Err(unsupported_value_type("bool", key, value));
                }
            }
            "boost" => {
                if !matches!(value, Value::Number(_) | Value::String(_)) {
                    return Err(unsupported_value_type("bool", key, value));
                }
                bool_query.boost = float_value(value).map_err(|cause| failed_to_parse_field("bool", key, cause))?;
            }
            unknown => return Err(unknown_field("bool", unknown, BOOL_FIELDS)),
        }
    }
    Ok(Query::Bool(bool_query))
}

/// Parses a `must`/`should`/`must_not`/`filter` value: one clause, an array of clauses, or null.
fn parse_clause_list(key: &str, value: &Value, depth: usize) -> Result<Vec<Query<String>>, EsError> {
    let wrap = |cause: EsError| failed_to_parse_field("bool", key, cause);
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Object(_) => Ok(vec![parse_inner_query(value, depth).map_err(wrap)?]),
        Value::Array(items) => {
            let mut clauses = Vec::with_capacity(items.len());
            for item in items {
                if item.is_null() {
                    return Err(wrap(EsError::new(
                        500,
                        "illegal_state_exception",
                        "expected value but got [VALUE_NULL]",
                    )));
                }
                clauses.push(parse_inner_query(item, depth).map_err(wrap)?);
            }
            Ok(clauses)
        }
        other => Err(unsupported_value_type("bool", key, other)),
    }
}

/// Parses `match_all` (an `ObjectParser` accepting `boost` and `_name`).
fn parse_match_all(body: &Map<String, Value>) -> Result<Query<String>, EsError> {
    let mut boost = 1.0;
    for (key, value) in body {
        match key.as_str() {
            "boost" => {
                if !matches!(value, Value::Number(_) | Value::String(_)) {
                    return Err(unsupported_value_type("match_all", key, value));
                }
                boost = float_value(value).map_err(|cause| failed_to_parse_field("match_all", key, cause))?;
            }
            "_name" => {
                if !value.is_string() {
                    return Err(unsupported_value_type("match_all", key, value));
                }
            }
            unknown => return Err(unknown_field("match_all", unknown, &["boost", "_name"])),
        }
    }
    Ok(Query::MatchAll { boost })
}

/// Returns `[<query>] query doesn't support multiple fields, found [a] and [b]` when a field was already seen.
pub(crate) fn refuse_second_field(query_name: &str, seen: &Option<String>, current: &str) -> Result<(), EsError> {
    match seen {
        Some(first) => Err(parsing(format!(
            "[{query_name}] query doesn't support multiple fields, found [{first}] and [{current}]"
        ))),
        None => Ok(()),
    }
}

/// Checks a field name given to a single-field query (`BaseTermQueryBuilder` and friends).
pub(crate) fn require_field_name(field: Option<String>) -> Result<String, EsError> {
    match field {
        Some(name) if !name.is_empty() => Ok(name),
        _ => Err(EsError::illegal_argument("field name is null or empty")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn error_of(value: Value) -> EsError {
        parse_top_level_query(&value).unwrap_err()
    }

    #[test]
    fn parses_supported_clauses() {
        let query = parse_top_level_query(&json!({"term": {"username": "jack"}})).unwrap();
        assert_eq!(
            query,
            Query::Term { field: "username".into(), value: json!("jack"), case_insensitive: false, boost: 1.0 }
        );
        let query =
            parse_top_level_query(&json!({"prefix": {"roles": {"value": "adm", "case_insensitive": true}}})).unwrap();
        assert_eq!(
            query,
            Query::Prefix { field: "roles".into(), value: "adm".into(), case_insensitive: true, boost: 1.0 }
        );
        let query = parse_top_level_query(&json!({"terms": {"roles": ["a", "b"], "boost": 2}})).unwrap();
        assert_eq!(query, Query::Terms { field: "roles".into(), values: vec![json!("a"), json!("b")], boost: 2.0 });
        let query = parse_top_level_query(&json!({"ids": {"values": ["user-jack"]}})).unwrap();
        assert_eq!(query, Query::Ids { values: vec!["user-jack".into()], boost: 1.0 });
    }

    #[test]
    fn clause_errors() {
        let table: Vec<(Value, &str, &str)> = vec![
            (json!({"foo": {}}), "parsing_exception", "unknown query [foo]"),
            (
                json!({"match_al": {}}),
                "parsing_exception",
                "unknown query [match_al] did you mean any of [match_all, match, match_none, match_phrase]?",
            ),
            (json!({"term": "x"}), "parsing_exception", "[term] query malformed, no start_object after query name"),
            (json!({}), "illegal_argument_exception", "query malformed, empty clause found at [1:2]"),
            (
                json!({"term": {"a": "b"}, "match_all": {}}),
                "parsing_exception",
                "[term] malformed query, expected [END_OBJECT] but found [FIELD_NAME]",
            ),
            (
                json!({"term": {"a": "b", "c": "d"}}),
                "parsing_exception",
                "[term] query doesn't support multiple fields, found [a] and [c]",
            ),
            (json!({"term": {"a": {"valu": "b"}}}), "parsing_exception", "[term] query does not support [valu]"),
            (json!({"term": {"a": ["b"]}}), "parsing_exception", "[term] query does not support array of values"),
            (json!({"term": {}}), "illegal_argument_exception", "field name is null or empty"),
            (json!({"term": {"a": {"boost": 2}}}), "illegal_argument_exception", "value cannot be null"),
            (json!({"exists": {}}), "parsing_exception", "[exists] must be provided with a [field]"),
            (json!({"exists": {"fields": "a"}}), "parsing_exception", "[exists] query does not support [fields]"),
            (json!({"prefix": {"a": {"x": 1}}}), "parsing_exception", "[prefix] query does not support [x]"),
            (
                json!({"wildcard": {"a": {"value": "x", "y": 1}}}),
                "parsing_exception",
                "[wildcard] query does not support [y]",
            ),
            (
                json!({"terms": {"a": ["x"], "b": ["y"]}}),
                "parsing_exception",
                "[terms] query does not support multiple fields",
            ),
            (json!({"terms": {"a": ["x"], "foo": 1}}), "parsing_exception", "[terms] query does not support [foo]"),
            (json!({"terms": {"a": [null]}}), "parsing_exception", "No value specified for terms query"),
            (json!({"match_all": {"x": 1}}), "x_content_parse_exception", "[1:2] [match_all] unknown field [x]"),
            (
                json!({"ids": {"value": ["a"]}}),
                "x_content_parse_exception",
                "[1:2] [ids] unknown field [value] did you mean [values]?",
            ),
            (
                json!({"bool": {"mustnot": []}}),
                "x_content_parse_exception",
                "[1:2] [bool] unknown field [mustnot] did you mean any of [must_not, must]?",
            ),
            (
                json!({"bool": {"must": "x"}}),
                "x_content_parse_exception",
                "[1:2] [bool] must doesn't support values of type: VALUE_STRING",
            ),
        ];
        for (query, error_type, reason) in table {
            let error = error_of(query.clone());
            assert_eq!(error.error_type, error_type, "{query}");
            assert_eq!(error.reason, reason, "{query}");
        }
    }

    #[test]
    fn bool_wraps_inner_errors() {
        let error = error_of(json!({"bool": {"must": [{"term": {"a": {"nope": 1}}}]}}));
        assert_eq!(error.error_type, "x_content_parse_exception");
        assert_eq!(error.reason, "[1:2] [bool] failed to parse field [must]");
        let cause = error.caused_by.unwrap();
        assert_eq!(cause.reason, "[term] query does not support [nope]");
    }

    #[test]
    fn unsupported_types_parse_then_fail_translation() {
        let query = parse_top_level_query(&json!({"fuzzy": {"username": "x"}})).unwrap();
        assert_eq!(query, Query::Unsupported { name: "fuzzy".into() });
    }

    #[test]
    fn nesting_depth_is_limited() {
        let mut query = json!({"match_all": {}});
        for _ in 0..30 {
            query = json!({"bool": {"must": [query]}});
        }
        let mut error = error_of(query);
        while let Some(cause) = error.caused_by.take() {
            error = *cause;
        }
        assert!(error.reason.starts_with("The nested depth of the query exceeds"));
    }
}
