//! The exceptions the Query User API raises, worded and nested as Elasticsearch does.
//!
//! Elasticsearch parses the body with an `ObjectParser` that wraps every failure of a field in an
//! `x_content_parse_exception` ("[parser] failed to parse field [name]"); query clauses raise
//! `parsing_exception`s; failures while the shard builds the Lucene query or reads `search_after` come
//! back wrapped in a `search_phase_execution_exception` ("all shards failed").
//! Elasticsearch prefixes parser messages with the `[line:col]` of the offending token; the body arrives
//! here already parsed, so every such message carries the fixed [`LOCATION_PREFIX`] instead.

use serde_json::{json, Value};

pub(crate) use crate::domain::xcontent::{did_you_mean, token_name};
use crate::error::EsError;

/// The concrete index name Elasticsearch reports in shard failures of the security index.
pub(crate) const SECURITY_INDEX_NAME: &str = ".security-7";
/// The node id reported in `failed_shards`; Elasticsearch reports the id of the node holding the shard.
pub(crate) const SHARD_NODE_ID: &str = "profiled";
/// The index uuid reported by `query_shard_exception`s.
pub(crate) const SECURITY_INDEX_UUID: &str = "_na_";

/// The `line:col` reported where Elasticsearch reports the location of the offending token.
pub(crate) const LOCATION: &str = "1:2";
/// The location prefix of `x_content_parse_exception` reasons (Elasticsearch: `[line:col] `).
pub(crate) const LOCATION_PREFIX: &str = "[1:2] ";

/// A 400 `x_content_parse_exception` with the location prefix.
pub(crate) fn x_content(reason: impl std::fmt::Display) -> EsError {
    EsError::x_content_parse(format!("{LOCATION_PREFIX}{reason}"))
}

/// `[parser] unknown field [name]` with the suggestions of Elasticsearch's `ObjectParser`.
pub(crate) fn unknown_field(parser_name: &str, field: &str, candidates: &[&str]) -> EsError {
    x_content(format!("[{parser_name}] unknown field [{field}]{}", did_you_mean(field, candidates)))
}

/// `[parser] failed to parse field [name]`, wrapping the failure of that field.
pub(crate) fn failed_to_parse_field(parser_name: &str, field: &str, cause: EsError) -> EsError {
    x_content(format!("[{parser_name}] failed to parse field [{field}]")).with_cause(cause)
}

/// `[parser] name doesn't support values of type: TOKEN`, for a value of the wrong JSON type.
pub(crate) fn unsupported_value_type(parser_name: &str, field: &str, value: &Value) -> EsError {
    x_content(format!("[{parser_name}] {field} doesn't support values of type: {}", token_name(value)))
}

/// `[parser] Expected START_OBJECT but was: TOKEN`.
pub(crate) fn expected_start_object(parser_name: &str, value: &Value) -> EsError {
    x_content(format!("[{parser_name}] Expected START_OBJECT but was: {}", token_name(value)))
}

/// A 400 `parsing_exception`, raised by query clause parsers.
pub(crate) fn parsing(reason: impl Into<String>) -> EsError {
    EsError::new(400, "parsing_exception", reason)
}

/// A 400 `number_format_exception` with Java's `For input string: "..."` text.
pub(crate) fn number_format(text: &str) -> EsError {
    EsError::new(400, "number_format_exception", format!("For input string: \"{text}\""))
}

/// A 400 `query_shard_exception` on the security index, raised while the shard builds the query.
pub(crate) fn query_shard(reason: impl Into<String>) -> EsError {
    EsError::new(400, "query_shard_exception", reason)
        .with_metadata("index_uuid", SECURITY_INDEX_UUID)
        .with_metadata("index", SECURITY_INDEX_NAME)
}

/// `failed to create query: <reason>`: an illegal argument met while the shard builds the query.
///
/// Elasticsearch nests the illegal argument below this exception; it is left out here so that the
/// reported root cause stays the `query_shard_exception`, as Elasticsearch reports it.
pub(crate) fn failed_to_create_query(reason: &str) -> EsError {
    query_shard(format!("failed to create query: {reason}"))
}

/// Wraps the failure of the (single) security index shard into `search_phase_execution_exception`.
///
/// The shard failure's cause is reported in `failed_shards` and as `caused_by`; an illegal argument
/// appears twice nested in `caused_by`, as Elasticsearch's guessed root cause wraps it.
pub(crate) fn all_shards_failed(cause: EsError) -> EsError {
    let failed_shard = json!({
        "shard": 0,
        "index": SECURITY_INDEX_NAME,
        "node": SHARD_NODE_ID,
        "reason": cause.to_detail_json(),
    });
    let status = cause.status;
    let caused_by =
        if cause.error_type == "illegal_argument_exception" { cause.clone().with_cause(cause) } else { cause };
    let mut error = EsError::new(status, "search_phase_execution_exception", "all shards failed")
        .with_metadata("phase", "query")
        .with_metadata("grouped", true)
        .with_metadata("failed_shards", Value::Array(vec![failed_shard]));
    error.caused_by = Some(Box::new(caused_by));
    error
}

/// A shard-level illegal argument (e.g. the result window check), wrapped as Elasticsearch reports it.
pub(crate) fn shard_illegal_argument(reason: impl Into<String>) -> EsError {
    all_shards_failed(EsError::illegal_argument(reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_follow_elasticsearch_examples() {
        assert_eq!(did_you_mean("foo", &[]), "");
        assert_eq!(did_you_mean("foo", &["bar", "baz"]), "");
        assert_eq!(did_you_mean("foo", &["bar", "fop"]), " did you mean [fop]?");
        assert_eq!(did_you_mean("foo", &["bar", "fop", "fou", "baz"]), " did you mean any of [fop, fou]?");
        assert_eq!(did_you_mean("fro", &["query", "from", "size", "sort", "search_after"]), " did you mean [from]?");
    }

    #[test]
    fn unknown_field_message() {
        let error = unknown_field("query_user_request_payload", "sise", &["query", "from", "size", "sort"]);
        assert_eq!(error.error_type, "x_content_parse_exception");
        assert_eq!(error.reason, "[1:2] [query_user_request_payload] unknown field [sise] did you mean [size]?");
    }

    #[test]
    fn shard_failure_shape() {
        let error = shard_illegal_argument("Sort must contain at least one field.");
        let body = error.to_body_json();
        assert_eq!(body["status"], 400);
        assert_eq!(body["error"]["type"], "search_phase_execution_exception");
        assert_eq!(body["error"]["reason"], "all shards failed");
        assert_eq!(body["error"]["root_cause"][0]["type"], "illegal_argument_exception");
        assert_eq!(body["error"]["failed_shards"][0]["index"], SECURITY_INDEX_NAME);
        assert_eq!(body["error"]["failed_shards"][0]["reason"]["reason"], "Sort must contain at least one field.");
        assert_eq!(body["error"]["caused_by"]["caused_by"]["type"], "illegal_argument_exception");
    }

    #[test]
    fn query_shard_failure_root_cause() {
        let error =
            all_shards_failed(failed_to_create_query("Can't parse boolean value [x], expected [true] or [false]"));
        let body = error.to_body_json();
        assert_eq!(body["error"]["root_cause"][0]["type"], "query_shard_exception");
        assert_eq!(body["error"]["root_cause"][0]["index"], SECURITY_INDEX_NAME);
    }
}
