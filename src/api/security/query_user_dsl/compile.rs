//! Builds the runnable query from the translated clauses, as the shard's `toQuery` does: values are
//! read per field type and query text is analysed. Failures are shard failures
//! (`search_phase_execution_exception`), like Elasticsearch's.

use serde_json::Value;

use super::analysis::{Analyzer, Token};
use super::compiled::{Compiled, CompiledBool, TermMatcher};
use super::errors::{all_shards_failed, failed_to_create_query, query_shard};
use super::index::boolean_term;
use super::parse_values::text_of;
use super::query::{FieldKind, MatchQuery, Operator, Query, RangeQuery, UserField};
use super::simple_query_string::compile_simple_query_string;
use crate::error::EsError;

/// Builds the runnable form of a translated query.
pub(crate) fn compile_query(query: &Query<UserField>) -> Result<Compiled, EsError> {
    compile(query).map_err(all_shards_failed)
}

/// The analyzer a field is searched with.
pub(crate) fn search_analyzer(field: UserField) -> Analyzer {
    match field.kind() {
        FieldKind::Keyword | FieldKind::Boolean => Analyzer::Keyword,
        FieldKind::Text => Analyzer::Standard,
        FieldKind::Email => Analyzer::Email,
    }
}

/// Reads a value as a boolean field term (`BooleanFieldType.indexedValueForSearch`).
pub(crate) fn boolean_value_term(value: &Value) -> Result<&'static str, EsError> {
    match value {
        Value::Bool(flag) => Ok(boolean_term(*flag)),
        Value::String(text) if text == "true" => Ok("T"),
        Value::String(text) if text == "false" => Ok("F"),
        other => Err(failed_to_create_query(&format!(
            "Can't parse boolean value [{}], expected [true] or [false]",
            text_of(other)
        ))),
    }
}

/// Returns the indexed term a query value stands for on a field (strings as is, booleans as `T`/`F`).
pub(crate) fn value_term(field: UserField, value: &Value) -> Result<String, EsError> {
    if field.kind() == FieldKind::Boolean {
        return boolean_value_term(value).map(str::to_string);
    }
    Ok(text_of(value))
}

fn compile(query: &Query<UserField>) -> Result<Compiled, EsError> {
    let compiled = match query {
        Query::Bool(bool_query) => {
            let clause_count =
                bool_query.must.len() + bool_query.should.len() + bool_query.must_not.len() + bool_query.filter.len();
            if clause_count == 0 {
                return Ok(Compiled::MatchAll { boost: bool_query.boost });
            }
            let minimum_should_match = match &bool_query.minimum_should_match {
                Some(spec) => minimum_should_match(bool_query.should.len(), spec)?,
                None => 0,
            };
            Compiled::Bool(CompiledBool {
                must: compile_all(&bool_query.must)?,
                should: compile_all(&bool_query.should)?,
                must_not: compile_all(&bool_query.must_not)?,
                filter: compile_all(&bool_query.filter)?,
                minimum_should_match,
                adjust_pure_negative: bool_query.adjust_pure_negative,
                boost: bool_query.boost,
            })
        }
        Query::MatchAll { boost } => Compiled::MatchAll { boost: *boost },
        Query::MatchNone | Query::TermsLookup | Query::Unsupported { .. } => Compiled::MatchNone,
        Query::Term { field, value, case_insensitive, boost } => {
            let term = value_term(*field, value)?;
            if *case_insensitive {
                Compiled::MultiTerm { field: *field, matcher: TermMatcher::CaseInsensitive(term), boost: *boost }
            } else {
                Compiled::Term { field: *field, term, boost: *boost }
            }
        }
        Query::Terms { field, values, boost } => {
            if values.is_empty() {
                return Ok(Compiled::MatchNone);
            }
            let terms = values.iter().map(|value| value_term(*field, value)).collect::<Result<Vec<_>, _>>()?;
            Compiled::MultiTerm { field: *field, matcher: TermMatcher::AnyOf(terms), boost: *boost }
        }
        Query::Prefix { field, value, case_insensitive, boost } => {
            refuse_boolean_field(*field, "prefix")?;
            let matcher = TermMatcher::Prefix { prefix: value.clone(), case_insensitive: *case_insensitive };
            Compiled::MultiTerm { field: *field, matcher, boost: *boost }
        }
        Query::Wildcard { field, value, case_insensitive, boost } => {
            refuse_boolean_field(*field, "wildcard")?;
            let matcher = TermMatcher::Wildcard { pattern: value.clone(), case_insensitive: *case_insensitive };
            Compiled::MultiTerm { field: *field, matcher, boost: *boost }
        }
        Query::Exists { field, boost } => Compiled::Exists { field: *field, boost: *boost },
        Query::Ids { values, boost } => Compiled::Ids { ids: values.clone(), boost: *boost },
        Query::Range(range) => compile_range(range)?,
        Query::Match(match_query) => compile_match(match_query)?,
        Query::SimpleQueryString(simple) => compile_simple_query_string(simple)?,
    };
    Ok(compiled)
}

fn compile_all(queries: &[Query<UserField>]) -> Result<Vec<Compiled>, EsError> {
    queries.iter().map(compile).collect()
}

/// Refuses prefix/wildcard/fuzzy queries on the boolean field, with Elasticsearch's text.
pub(crate) fn refuse_boolean_field(field: UserField, query_kind: &str) -> Result<(), EsError> {
    if field.kind() != FieldKind::Boolean {
        return Ok(());
    }
    let supported = if query_kind == "fuzzy" { "keyword and text" } else { "keyword, text and wildcard" };
    Err(query_shard(format!(
        "Can only use {query_kind} queries on {supported} fields - not on [{}] which is of type [{}]",
        field.name(),
        field.type_name()
    )))
}

fn compile_range(range: &RangeQuery<UserField>) -> Result<Compiled, EsError> {
    let bound = |value: &Option<Value>| -> Result<Option<String>, EsError> {
        value.as_ref().map(|value| value_term(range.field, value)).transpose()
    };
    let matcher = TermMatcher::Range {
        lower: bound(&range.from)?,
        upper: bound(&range.to)?,
        include_lower: range.include_lower,
        include_upper: range.include_upper,
    };
    Ok(Compiled::MultiTerm { field: range.field, matcher, boost: range.boost })
}

/// Groups analysed tokens by position (tokens sharing a position are synonyms).
pub(crate) fn group_by_position(tokens: Vec<Token>) -> Vec<(u32, Vec<String>)> {
    let mut groups: Vec<(u32, Vec<String>)> = Vec::new();
    for token in tokens {
        match groups.last_mut() {
            Some((position, terms)) if *position == token.position => terms.push(token.term),
            _ => groups.push((token.position, vec![token.term])),
        }
    }
    groups
}

/// The query for one analysed position: a term, or its synonyms.
pub(crate) fn position_query(field: UserField, terms: Vec<String>, boost: f32) -> Compiled {
    if terms.len() == 1 {
        let term = terms.into_iter().next().unwrap_or_default();
        return Compiled::Term { field, term, boost };
    }
    Compiled::Synonyms { field, terms, boost }
}

fn compile_match(match_query: &MatchQuery<UserField>) -> Result<Compiled, EsError> {
    let field = match_query.field;
    let analyzer = match &match_query.analyzer {
        Some(name) => {
            Analyzer::from_name(name).ok_or_else(|| query_shard(format!("[match] analyzer [{name}] not found")))?
        }
        None => search_analyzer(field),
    };
    let text = text_of(&match_query.query);
    let lenient = |error: EsError| if match_query.lenient { Ok(Compiled::MatchNone) } else { Err(error) };
    if field.kind() == FieldKind::Boolean {
        if match_query.fuzziness.is_some() {
            return refuse_boolean_field(field, "fuzzy").map(|_| Compiled::MatchNone).or_else(lenient);
        }
        return match boolean_value_term(&Value::String(text)) {
            Ok(term) => Ok(Compiled::Term { field, term: term.to_string(), boost: match_query.boost }),
            Err(error) => lenient(error),
        };
    }
    let positions = group_by_position(analyzer.analyze(&text));
    if positions.is_empty() {
        return Ok(if match_query.zero_terms_all { Compiled::MatchAll { boost: 1.0 } } else { Compiled::MatchNone });
    }
    let clauses: Vec<Compiled> = positions
        .into_iter()
        .map(|(_, terms)| match match_query.fuzziness {
            Some(fuzziness) if terms.len() == 1 => {
                let term = terms.into_iter().next().unwrap_or_default();
                Compiled::Fuzzy {
                    field,
                    max_edits: fuzziness.max_edits(term.chars().count()),
                    term,
                    prefix_length: match_query.prefix_length,
                    transpositions: match_query.fuzzy_transpositions,
                    boost: 1.0,
                }
            }
            _ => position_query(field, terms, 1.0),
        })
        .collect();
    if clauses.len() == 1 {
        return Ok(boost_single(clauses.into_iter().next().unwrap_or(Compiled::MatchNone), match_query.boost));
    }
    let should_count = clauses.len();
    let (must, should) = match match_query.operator {
        Operator::And => (clauses, Vec::new()),
        Operator::Or => (Vec::new(), clauses),
    };
    let minimum_should_match = match (&match_query.minimum_should_match, match_query.operator) {
        (Some(spec), Operator::Or) => minimum_should_match(should_count, spec)?,
        _ => 0,
    };
    Ok(Compiled::Bool(CompiledBool {
        must,
        should,
        must_not: Vec::new(),
        filter: Vec::new(),
        minimum_should_match,
        adjust_pure_negative: true,
        boost: match_query.boost,
    }))
}

/// Applies a query boost to a single clause.
pub(crate) fn boost_single(clause: Compiled, boost: f32) -> Compiled {
    match clause {
        Compiled::Term { field, term, boost: inner } => Compiled::Term { field, term, boost: inner * boost },
        Compiled::Synonyms { field, terms, boost: inner } => Compiled::Synonyms { field, terms, boost: inner * boost },
        Compiled::Fuzzy { field, term, max_edits, prefix_length, transpositions, boost: inner } => {
            Compiled::Fuzzy { field, term, max_edits, prefix_length, transpositions, boost: inner * boost }
        }
        other => other,
    }
}

/// Lucene/Elasticsearch `Queries.calculateMinShouldMatch`: `3`, `-1`, `75%`, `-25%`, `3<90%`, `2<-25% 9<-3`.
pub(crate) fn minimum_should_match(optional_clauses: usize, spec: &str) -> Result<usize, EsError> {
    let optional = optional_clauses as i64;
    let spec = spec.trim();
    let parse_int = |text: &str| -> Result<i64, EsError> {
        text.trim().parse::<i64>().map_err(|_| failed_to_create_query(&format!("For input string: \"{text}\"")))
    };
    if spec.contains('<') {
        let normalized = spec.split('<').map(str::trim).collect::<Vec<_>>().join("<");
        let mut result = optional;
        for condition in normalized.split_whitespace() {
            let Some((upper_bound, nested_spec)) = condition.split_once('<') else {
                return Err(failed_to_create_query(&format!("Index 1 out of bounds for length 1: {condition}")));
            };
            if optional <= parse_int(upper_bound)? {
                return Ok(result.max(0) as usize);
            }
            result = minimum_should_match(optional_clauses, nested_spec)? as i64;
        }
        return Ok(result.max(0) as usize);
    }
    let result = if let Some(percent_text) = spec.strip_suffix('%') {
        let percent = parse_int(percent_text)?;
        let calculated = (optional * percent) as f32 * (1.0 / 100.0);
        if calculated < 0.0 {
            optional + calculated as i64
        } else {
            calculated as i64
        }
    } else {
        let calculated = parse_int(spec)?;
        if calculated < 0 {
            optional + calculated
        } else {
            calculated
        }
    };
    Ok(result.max(0) as usize)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn minimum_should_match_table() {
        let table = [
            (4, "3", 3),
            (4, "-1", 3),
            (4, "75%", 3),
            (4, "-25%", 3),
            (3, "50%", 1),
            (3, "-50%", 2),
            (2, "3<90%", 2),
            (5, "3<90%", 4),
            (10, "2<-25% 9<-3", 7),
            (3, "2<-25% 9<-3", 3),
            (0, "1", 1),
            (2, "-5", 0),
        ];
        for (optional, spec, expected) in table {
            assert_eq!(minimum_should_match(optional, spec).unwrap(), expected, "{spec} of {optional}");
        }
        let error = minimum_should_match(2, "abc").unwrap_err();
        assert_eq!(error.reason, "failed to create query: For input string: \"abc\"");
    }

    #[test]
    fn boolean_values() {
        assert_eq!(boolean_value_term(&json!(true)).unwrap(), "T");
        assert_eq!(boolean_value_term(&json!("false")).unwrap(), "F");
        let error = boolean_value_term(&json!(1)).unwrap_err();
        assert_eq!(error.error_type, "query_shard_exception");
        assert_eq!(error.reason, "failed to create query: Can't parse boolean value [1], expected [true] or [false]");
    }

    #[test]
    fn boolean_field_refuses_multi_term_queries() {
        let query = Query::Prefix { field: UserField::Enabled, value: "t".into(), case_insensitive: false, boost: 1.0 };
        let error = compile_query(&query).unwrap_err();
        assert_eq!(error.error_type, "search_phase_execution_exception");
        assert_eq!(
            error.caused_by.unwrap().reason,
            "Can only use prefix queries on keyword, text and wildcard fields - not on [enabled] which is of type [boolean]"
        );
    }
}
