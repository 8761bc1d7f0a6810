//! Parsers of the term-level clauses: `term`, `terms`, `prefix`, `wildcard`, `exists` and `ids`.

use serde_json::{Map, Value};

use super::errors::{failed_to_parse_field, parsing, token_name, unknown_field, unsupported_value_type};
use super::parse_query::{refuse_second_field, require_field_name};
use super::parse_values::{bool_value, float_value, is_value_token, scalar_text};
use super::query::Query;
use crate::error::EsError;

/// Parses `term`: `{"field": value}` or `{"field": {"value": .., "case_insensitive": .., "boost": ..}}`.
pub(crate) fn parse_term(body: &Map<String, Value>) -> Result<Query<String>, EsError> {
    let mut field: Option<String> = None;
    let mut term_value: Option<Value> = None;
    let mut case_insensitive = false;
    let mut boost = 1.0;
    for (key, value) in body {
        match value {
            Value::Object(options) => {
                refuse_second_field("term", &field, key)?;
                field = Some(key.clone());
                for (option, option_value) in options {
                    match option.as_str() {
                        "term" | "value" => {
                            if option == "value" && option_value.is_array() {
                                return Err(parsing(
                                    "[term] query does not support arrays for value - use a bool query with multiple \
                                     term clauses in the should section or use a Terms query if scoring is not required",
                                ));
                            }
                            term_value = if option_value.is_null() { None } else { Some(option_value.clone()) };
                        }
                        "_name" => {}
                        "boost" => boost = float_value(option_value)?,
                        "case_insensitive" => case_insensitive = bool_value(option_value)?,
                        unknown => return Err(parsing(format!("[term] query does not support [{unknown}]"))),
                    }
                }
            }
            Value::Array(_) => return Err(parsing("[term] query does not support array of values")),
            scalar if is_value_token(scalar) => {
                refuse_second_field("term", &field, key)?;
                field = Some(key.clone());
                term_value = Some(scalar.clone());
            }
            _ => {}
        }
    }
    let field = require_field_name(field)?;
    let Some(term_value) = term_value else {
        return Err(EsError::illegal_argument("value cannot be null"));
    };
    Ok(Query::Term { field, value: term_value, case_insensitive, boost })
}

/// Parses `terms`: `{"field": [values..], "boost": ..}`; an object value is a (refused) terms lookup.
pub(crate) fn parse_terms(body: &Map<String, Value>) -> Result<Query<String>, EsError> {
    let mut field: Option<String> = None;
    let mut values: Vec<Value> = Vec::new();
    let mut is_lookup = false;
    let mut boost = 1.0;
    for (key, value) in body {
        match value {
            Value::Array(items) => {
                if field.is_some() {
                    return Err(parsing("[terms] query does not support multiple fields"));
                }
                field = Some(key.clone());
                for item in items {
                    if item.is_null() {
                        return Err(parsing("No value specified for terms query"));
                    }
                    values.push(item.clone());
                }
            }
            Value::Object(_) => {
                if let Some(first) = &field {
                    return Err(parsing(format!(
                        "[terms] query does not support more than one field. Already got: [{first}] but also found [{key}]"
                    )));
                }
                field = Some(key.clone());
                is_lookup = true;
            }
            scalar if is_value_token(scalar) => match key.as_str() {
                "boost" => boost = float_value(scalar)?,
                "_name" => {}
                unknown => return Err(parsing(format!("[terms] query does not support [{unknown}]"))),
            },
            other => return Err(parsing(format!("[terms] unknown token [{}] after [{key}]", token_name(other)))),
        }
    }
    let Some(field) = field else {
        return Err(parsing(
            "[terms] query requires a field name, followed by array of terms or a document lookup specification",
        ));
    };
    if field.is_empty() {
        return Err(EsError::illegal_argument("field name cannot be null."));
    }
    if is_lookup {
        return Ok(Query::TermsLookup);
    }
    Ok(Query::Terms { field, values, boost })
}

/// Parses `prefix` and `wildcard`, which share their shape.
pub(crate) fn parse_prefix_or_wildcard(query_name: &str, body: &Map<String, Value>) -> Result<Query<String>, EsError> {
    let mut field: Option<String> = None;
    let mut pattern: Option<String> = None;
    let mut case_insensitive = false;
    let mut boost = 1.0;
    for (key, value) in body {
        if let Value::Object(options) = value {
            refuse_second_field(query_name, &field, key)?;
            field = Some(key.clone());
            for (option, option_value) in options {
                match option.as_str() {
                    "value" => pattern = text_or_null(option_value)?,
                    "wildcard" if query_name == "wildcard" => pattern = text_or_null(option_value)?,
                    "boost" => boost = float_value(option_value)?,
                    "rewrite" | "_name" => {}
                    "case_insensitive" => case_insensitive = bool_value(option_value)?,
                    unknown => return Err(parsing(format!("[{query_name}] query does not support [{unknown}]"))),
                }
            }
        } else {
            refuse_second_field(query_name, &field, key)?;
            field = Some(key.clone());
            pattern = text_or_null(value)?;
        }
    }
    let field = require_field_name(field)?;
    let Some(value) = pattern else {
        return Err(EsError::illegal_argument("value cannot be null"));
    };
    if query_name == "prefix" {
        return Ok(Query::Prefix { field, value, case_insensitive, boost });
    }
    Ok(Query::Wildcard { field, value, case_insensitive, boost })
}

/// Reads `parser.textOrNull()`: null gives `None`, scalars their text.
fn text_or_null(value: &Value) -> Result<Option<String>, EsError> {
    match value {
        Value::Null => Ok(None),
        other => Ok(Some(scalar_text(other)?)),
    }
}

/// Parses `exists`: `{"field": "<name>"}`.
pub(crate) fn parse_exists(body: &Map<String, Value>) -> Result<Query<String>, EsError> {
    let mut field: Option<String> = None;
    let mut boost = 1.0;
    for (key, value) in body {
        if !is_value_token(value) {
            return Err(parsing(format!("[exists] unknown token [{}] after [{key}]", token_name(value))));
        }
        match key.as_str() {
            "field" => field = Some(scalar_text(value)?),
            "_name" => {}
            "boost" => boost = float_value(value)?,
            unknown => return Err(parsing(format!("[exists] query does not support [{unknown}]"))),
        }
    }
    let Some(field) = field else {
        return Err(parsing("[exists] must be provided with a [field]"));
    };
    Ok(Query::Exists { field, boost })
}

/// Parses `ids` (an `ObjectParser` named `ids`): `{"values": ["user-<username>", ..]}`.
pub(crate) fn parse_ids(body: &Map<String, Value>) -> Result<Query<String>, EsError> {
    let mut ids: Vec<String> = Vec::new();
    let mut boost = 1.0;
    for (key, value) in body {
        match key.as_str() {
            "values" => {
                let items = match value {
                    Value::Array(items) => items.clone(),
                    Value::String(_) => vec![value.clone()],
                    other => return Err(unsupported_value_type("ids", key, other)),
                };
                for item in &items {
                    match item {
                        Value::String(id) => ids.push(id.clone()),
                        other => {
                            return Err(failed_to_parse_field(
                                "ids",
                                key,
                                EsError::illegal_argument(format!("Expected text but found {}", token_name(other))),
                            ))
                        }
                    }
                }
            }
            "boost" => {
                if !matches!(value, Value::Number(_) | Value::String(_)) {
                    return Err(unsupported_value_type("ids", key, value));
                }
                boost = float_value(value).map_err(|cause| failed_to_parse_field("ids", key, cause))?;
            }
            "_name" => {
                if !value.is_string() {
                    return Err(unsupported_value_type("ids", key, value));
                }
            }
            unknown => return Err(unknown_field("ids", unknown, &["values", "boost", "_name"])),
        }
    }
    Ok(Query::Ids { values: ids, boost })
}
