//! Parsers of the `match`, `range` and `simple_query_string` clauses.

use serde_json::{Map, Value};

use super::errors::{parsing, token_name};
use super::parse_query::{refuse_second_field, require_field_name};
use super::parse_values::{bool_value, float_value, int_value, is_value_token, scalar_text, text_of};
use super::query::{Fuzziness, MatchQuery, Operator, Query, RangeQuery, SimpleQueryStringQuery};
use crate::error::EsError;

/// Every `simple_query_string` operator flag (`ALL`).
pub(crate) const ALL_FLAGS: u32 = u32::MAX;
pub(crate) const FLAG_AND: u32 = 1;
pub(crate) const FLAG_NOT: u32 = 2;
pub(crate) const FLAG_OR: u32 = 4;
pub(crate) const FLAG_PREFIX: u32 = 8;
pub(crate) const FLAG_PHRASE: u32 = 16;
pub(crate) const FLAG_PRECEDENCE: u32 = 32;
pub(crate) const FLAG_ESCAPE: u32 = 64;
pub(crate) const FLAG_WHITESPACE: u32 = 128;
pub(crate) const FLAG_FUZZY: u32 = 256;
pub(crate) const FLAG_NEAR: u32 = 512;

/// Parses an operator name as Java's `Operator.valueOf(name.toUpperCase())`.
fn parse_operator(text: &str) -> Result<Operator, EsError> {
    match text.to_uppercase().as_str() {
        "OR" => Ok(Operator::Or),
        "AND" => Ok(Operator::And),
        other => {
            Err(EsError::illegal_argument(format!("No enum constant org.elasticsearch.index.query.Operator.{other}")))
        }
    }
}

/// Parses a fuzziness: `AUTO`, `AUTO:low,high`, or an edit distance.
fn parse_fuzziness(value: &Value) -> Result<Fuzziness, EsError> {
    if !matches!(value, Value::String(_) | Value::Number(_)) {
        return Err(EsError::illegal_argument(format!("Can't parse fuzziness on token: [{}]", token_name(value))));
    }
    let text = text_of(value);
    let upper = text.to_uppercase();
    if upper == "AUTO" {
        return Ok(Fuzziness::Auto { low: 3, high: 6 });
    }
    if let Some(bounds) = upper.strip_prefix("AUTO:") {
        let parsed: Option<(usize, usize)> =
            bounds.split_once(',').and_then(|(low, high)| Some((low.trim().parse().ok()?, high.trim().parse().ok()?)));
        return match parsed {
            Some((low, high)) => Ok(Fuzziness::Auto { low, high }),
            None => Err(EsError::parse(format!("failed to find low and high distance values in [{text}]"))),
        };
    }
    match text.trim().parse::<f64>() {
        Ok(distance) if distance >= 0.0 => Ok(Fuzziness::Edits((distance as u32).min(2))),
        _ => Err(super::errors::number_format(&text)),
    }
}

/// Parses `match`: `{"field": "text"}` or `{"field": {"query": .., "operator": .., ..}}`.
pub(crate) fn parse_match(body: &Map<String, Value>) -> Result<Query<String>, EsError> {
    let mut field: Option<String> = None;
    let mut query_value: Option<Value> = None;
    let mut match_query = MatchQuery {
        field: String::new(),
        query: Value::Null,
        operator: Operator::Or,
        analyzer: None,
        fuzziness: None,
        prefix_length: 0,
        fuzzy_transpositions: true,
        lenient: false,
        minimum_should_match: None,
        zero_terms_all: false,
        boost: 1.0,
    };
    for (key, value) in body {
        let Value::Object(options) = value else {
            refuse_second_field("match", &field, key)?;
            field = Some(key.clone());
            query_value = if value.is_null() { None } else { Some(value.clone()) };
            continue;
        };
        refuse_second_field("match", &field, key)?;
        field = Some(key.clone());
        for (option, option_value) in options {
            if !is_value_token(option_value) && !option_value.is_null() {
                return Err(parsing(format!("[match] unknown token [{}] after [{option}]", token_name(option_value))));
            }
            match option.as_str() {
                "query" => query_value = if option_value.is_null() { None } else { Some(option_value.clone()) },
                "analyzer" => match_query.analyzer = Some(scalar_text(option_value)?),
                "boost" => match_query.boost = float_value(option_value)?,
                "fuzziness" => match_query.fuzziness = Some(parse_fuzziness(option_value)?),
                "prefix_length" => match_query.prefix_length = int_value(option_value)?.max(0) as usize,
                "max_expansions" => {
                    int_value(option_value)?;
                }
                "operator" => match_query.operator = parse_operator(&scalar_text(option_value)?)?,
                "minimum_should_match" => {
                    match_query.minimum_should_match =
                        if option_value.is_null() { None } else { Some(text_of(option_value)) }
                }
                "fuzzy_rewrite" | "_name" => {}
                "fuzzy_transpositions" => match_query.fuzzy_transpositions = bool_value(option_value)?,
                "lenient" => match_query.lenient = bool_value(option_value)?,
                "auto_generate_synonyms_phrase_query" => {
                    bool_value(option_value)?;
                }
                "zero_terms_query" => {
                    let zero_terms = scalar_text(option_value)?;
                    match zero_terms.to_lowercase().as_str() {
                        "none" => match_query.zero_terms_all = false,
                        "all" => match_query.zero_terms_all = true,
                        _ => return Err(parsing(format!("Unsupported zero_terms_query value [{zero_terms}]"))),
                    }
                }
                unknown => return Err(parsing(format!("[match] query does not support [{unknown}]"))),
            }
        }
    }
    let Some(query_value) = query_value else {
        return Err(parsing("No text specified for text query"));
    };
    match_query.field = require_field_name(field)?;
    match_query.query = query_value;
    Ok(Query::Match(match_query))
}

/// Parses `range`: `{"field": {"gte": .., "lt": .., ..}}`.
pub(crate) fn parse_range(body: &Map<String, Value>) -> Result<Query<String>, EsError> {
    let mut range = RangeQuery {
        field: String::new(),
        from: None,
        to: None,
        include_lower: true,
        include_upper: true,
        has_relation: false,
        boost: 1.0,
    };
    let mut field: Option<String> = None;
    for (key, value) in body {
        let Value::Object(options) = value else {
            match key.as_str() {
                "boost" if is_value_token(value) => range.boost = float_value(value)?,
                "_name" if is_value_token(value) => {}
                unknown => return Err(parsing(format!("[range] query does not support [{unknown}]"))),
            }
            continue;
        };
        refuse_second_field("range", &field, key)?;
        field = Some(key.clone());
        for (option, bound) in options {
            let bound_opt = if bound.is_null() { None } else { Some(bound.clone()) };
            match option.as_str() {
                "boost" => range.boost = float_value(bound)?,
                "gt" => (range.from, range.include_lower) = (bound_opt, false),
                "gte" => (range.from, range.include_lower) = (bound_opt, true),
                "lt" => (range.to, range.include_upper) = (bound_opt, false),
                "lte" => (range.to, range.include_upper) = (bound_opt, true),
                "from" => range.from = bound_opt,
                "to" => range.to = bound_opt,
                "include_lower" => range.include_lower = bool_value(bound)?,
                "include_upper" => range.include_upper = bool_value(bound)?,
                "time_zone" | "format" | "_name" => {
                    scalar_text(bound)?;
                }
                "relation" => {
                    let relation = scalar_text(bound)?;
                    if !matches!(relation.to_lowercase().as_str(), "intersects" | "disjoint" | "within" | "contains") {
                        return Err(EsError::illegal_argument(format!(
                            "[range] query does not support relation [{relation}]"
                        )));
                    }
                    range.has_relation = true;
                }
                unknown => return Err(parsing(format!("[range] query does not support [{unknown}]"))),
            }
        }
    }
    range.field = require_field_name(field)?;
    Ok(Query::Range(range))
}

/// Parses a `simple_query_string` flags value (`"AND|OR|PREFIX"`, `"ALL"`, `"NONE"` or an int).
fn parse_flags(value: &Value) -> Result<u32, EsError> {
    if let Value::Number(_) = value {
        let flags = int_value(value)?;
        return Ok(if flags < 0 { ALL_FLAGS } else { flags as u32 });
    }
    let text = scalar_text(value)?;
    let mut flags = 0;
    for name in text.split('|') {
        flags |= match name.trim().to_uppercase().as_str() {
            "ALL" => ALL_FLAGS,
            "NONE" => 0,
            "AND" => FLAG_AND,
            "NOT" => FLAG_NOT,
            "OR" => FLAG_OR,
            "PREFIX" => FLAG_PREFIX,
            "PHRASE" => FLAG_PHRASE,
            "PRECEDENCE" => FLAG_PRECEDENCE,
            "ESCAPE" => FLAG_ESCAPE,
            "WHITESPACE" => FLAG_WHITESPACE,
            "FUZZY" => FLAG_FUZZY,
            "NEAR" | "SLOP" => FLAG_NEAR,
            _ => return Err(EsError::illegal_argument(format!("Unknown simple_query_string flag [{name}]"))),
        };
    }
    Ok(flags)
}

/// Parses `field^boost` entries of `fields`.
fn parse_field_weights(items: &[Value]) -> Result<Vec<(String, f32)>, EsError> {
    let mut weights: Vec<(String, f32)> = Vec::new();
    for item in items {
        let entry = scalar_text(item)?;
        let (name, weight) = match entry.split_once('^') {
            Some((name, boost)) => {
                (name.to_string(), boost.trim().parse::<f32>().map_err(|_| super::errors::number_format(boost))?)
            }
            None => (entry, 1.0),
        };
        match weights.iter_mut().find(|(known, _)| *known == name) {
            Some((_, known_weight)) => *known_weight = weight,
            None => weights.push((name, weight)),
        }
    }
    Ok(weights)
}

/// Parses `simple_query_string`.
pub(crate) fn parse_simple_query_string(body: &Map<String, Value>) -> Result<Query<String>, EsError> {
    let mut query_text: Option<String> = None;
    let mut simple = SimpleQueryStringQuery {
        query: String::new(),
        fields: Vec::new(),
        default_operator: Operator::Or,
        flags: ALL_FLAGS,
        lenient: false,
        minimum_should_match: None,
        analyzer: None,
        fuzzy_prefix_length: 0,
        fuzzy_transpositions: true,
        boost: 1.0,
    };
    for (key, value) in body {
        if let Value::Array(items) = value {
            if key != "fields" {
                return Err(parsing(format!("[simple_query_string] query does not support [{key}]")));
            }
            simple.fields = parse_field_weights(items)?;
            continue;
        }
        if !is_value_token(value) {
            return Err(parsing(format!("[simple_query_string] unknown token [{}] after [{key}]", token_name(value))));
        }
        match key.as_str() {
            "query" => query_text = Some(scalar_text(value)?),
            "boost" => simple.boost = float_value(value)?,
            "analyzer" => simple.analyzer = Some(scalar_text(value)?),
            "default_operator" => simple.default_operator = parse_operator(&scalar_text(value)?)?,
            "flags" => simple.flags = parse_flags(value)?,
            "lenient" => simple.lenient = bool_value(value)?,
            "minimum_should_match" => simple.minimum_should_match = Some(text_of(value)),
            "fuzzy_prefix_length" => simple.fuzzy_prefix_length = int_value(value)?.max(0) as usize,
            "fuzzy_transpositions" => simple.fuzzy_transpositions = bool_value(value)?,
            "fuzzy_max_expansions" => {
                int_value(value)?;
            }
            "analyze_wildcard" | "auto_generate_synonyms_phrase_query" => {
                bool_value(value)?;
            }
            "quote_field_suffix" | "_name" | "locale" => {}
            unknown => return Err(parsing(format!("[simple_query_string] unsupported field [{unknown}]"))),
        }
    }
    let Some(query_text) = query_text else {
        return Err(parsing("[simple_query_string] query text missing"));
    };
    simple.query = query_text;
    Ok(Query::SimpleQueryString(simple))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::parse_query::parse_top_level_query;
    use super::*;

    #[test]
    fn match_forms() {
        let Query::Match(short) = parse_top_level_query(&json!({"match": {"full_name": "Jack Nich"}})).unwrap() else {
            panic!("expected match");
        };
        assert_eq!(short.field, "full_name");
        assert_eq!(short.query, json!("Jack Nich"));
        let long = json!({"match": {"email": {"query": "x", "operator": "AND", "fuzziness": "AUTO", "minimum_should_match": 2}}});
        let Query::Match(long) = parse_top_level_query(&long).unwrap() else { panic!("expected match") };
        assert_eq!(long.operator, Operator::And);
        assert_eq!(long.fuzziness, Some(Fuzziness::Auto { low: 3, high: 6 }));
        assert_eq!(long.minimum_should_match.as_deref(), Some("2"));
    }

    #[test]
    fn parse_errors() {
        let table: Vec<(Value, &str)> = vec![
            (json!({"match": {"a": {"slop": 1, "query": "x"}}}), "[match] query does not support [slop]"),
            (json!({"match": {"a": {"operator": "or"}}}), "No text specified for text query"),
            (
                json!({"match": {"a": "x", "b": "y"}}),
                "[match] query doesn't support multiple fields, found [a] and [b]",
            ),
            (
                json!({"match": {"a": {"query": "x", "zero_terms_query": "some"}}}),
                "Unsupported zero_terms_query value [some]",
            ),
            (json!({"range": {"a": {"gt": 1, "foo": 2}}}), "[range] query does not support [foo]"),
            (json!({"range": {"a": 1}}), "[range] query does not support [a]"),
            (
                json!({"range": {"a": {"gt": 1}, "b": {"lt": 2}}}),
                "[range] query doesn't support multiple fields, found [a] and [b]",
            ),
            (json!({"simple_query_string": {"fields": ["a"]}}), "[simple_query_string] query text missing"),
            (json!({"simple_query_string": {"query": "x", "foo": 1}}), "[simple_query_string] unsupported field [foo]"),
            (
                json!({"simple_query_string": {"query": "x", "flags": "AND|BAD"}}),
                "Unknown simple_query_string flag [BAD]",
            ),
            (
                json!({"match": {"a": {"query": "x", "operator": "xor"}}}),
                "No enum constant org.elasticsearch.index.query.Operator.XOR",
            ),
        ];
        for (query, reason) in table {
            let error = parse_top_level_query(&query).unwrap_err();
            assert_eq!(error.reason, reason, "{query}");
        }
    }

    #[test]
    fn range_bounds() {
        let Query::Range(range) =
            parse_top_level_query(&json!({"range": {"username": {"gt": "b", "lte": "d"}}})).unwrap()
        else {
            panic!("expected range");
        };
        assert_eq!((range.from, range.include_lower), (Some(json!("b")), false));
        assert_eq!((range.to, range.include_upper), (Some(json!("d")), true));
    }

    #[test]
    fn simple_query_string_options() {
        let query = json!({"simple_query_string": {"query": "a b", "fields": ["username^2", "full_name"], "flags": "OR|AND", "default_operator": "and"}});
        let Query::SimpleQueryString(simple) = parse_top_level_query(&query).unwrap() else { panic!("expected sqs") };
        assert_eq!(simple.fields, vec![("username".to_string(), 2.0), ("full_name".to_string(), 1.0)]);
        assert_eq!(simple.flags, FLAG_OR | FLAG_AND);
        assert_eq!(simple.default_operator, Operator::And);
    }
}
