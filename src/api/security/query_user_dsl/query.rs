//! The query clauses the Query User API accepts, and their translation onto the user fields.
//!
//! Parsing yields a [`Query`] naming fields as the client wrote them. [`translate_query`] then applies
//! Elasticsearch's `FieldNameTranslators.USER_FIELD_NAME_TRANSLATORS`: only `username`, `roles`, `enabled`,
//! `full_name` and `email` may be queried; other query types are refused.

use serde_json::Value;

use crate::error::EsError;

/// A user field that may be queried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum UserField {
    Username,
    Roles,
    Enabled,
    FullName,
    Email,
}

/// How the security index maps a user field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldKind {
    /// `keyword`: the whole value is one term.
    Keyword,
    /// `boolean`: indexed as the term `T` or `F`.
    Boolean,
    /// `text` with the standard analyzer.
    Text,
    /// `text` with the security index's custom `email` analyzer.
    Email,
}

impl UserField {
    /// Every queryable field, in the order of Elasticsearch's translator list.
    pub(crate) const ALL: [UserField; 5] =
        [UserField::Username, UserField::Roles, UserField::Enabled, UserField::FullName, UserField::Email];

    /// Returns the field's name in queries and in the user JSON.
    pub(crate) fn name(self) -> &'static str {
        match self {
            UserField::Username => "username",
            UserField::Roles => "roles",
            UserField::Enabled => "enabled",
            UserField::FullName => "full_name",
            UserField::Email => "email",
        }
    }

    /// Returns the field of that exact name.
    pub(crate) fn from_name(name: &str) -> Option<UserField> {
        UserField::ALL.into_iter().find(|field| field.name() == name)
    }

    /// Returns the field's mapping in the security index.
    pub(crate) fn kind(self) -> FieldKind {
        match self {
            UserField::Username | UserField::Roles => FieldKind::Keyword,
            UserField::Enabled => FieldKind::Boolean,
            UserField::FullName => FieldKind::Text,
            UserField::Email => FieldKind::Email,
        }
    }

    /// Returns whether the field can be sorted on (text fields have no doc values).
    pub(crate) fn is_sortable(self) -> bool {
        matches!(self.kind(), FieldKind::Keyword | FieldKind::Boolean)
    }

    /// Returns the mapping type name Elasticsearch prints in errors.
    pub(crate) fn type_name(self) -> &'static str {
        match self.kind() {
            FieldKind::Keyword => "keyword",
            FieldKind::Boolean => "boolean",
            FieldKind::Text | FieldKind::Email => "text",
        }
    }
}

/// A query clause; `F` is the field reference: the raw name before translation, a [`UserField`] after.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Query<F> {
    Bool(BoolQuery<F>),
    MatchAll {
        boost: f32,
    },
    /// Only produced by translation (a `simple_query_string` left without any allowed field).
    MatchNone,
    Term {
        field: F,
        value: Value,
        case_insensitive: bool,
        boost: f32,
    },
    Terms {
        field: F,
        values: Vec<Value>,
        boost: f32,
    },
    /// A `terms` query with a lookup document, which the Query User API refuses.
    TermsLookup,
    Match(MatchQuery<F>),
    Prefix {
        field: F,
        value: String,
        case_insensitive: bool,
        boost: f32,
    },
    Wildcard {
        field: F,
        value: String,
        case_insensitive: bool,
        boost: f32,
    },
    Exists {
        field: F,
        boost: f32,
    },
    Range(RangeQuery<F>),
    Ids {
        values: Vec<String>,
        boost: f32,
    },
    SimpleQueryString(SimpleQueryStringQuery<F>),
    /// A query type Elasticsearch knows but the Query User API refuses.
    Unsupported {
        name: String,
    },
}

/// The `bool` query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BoolQuery<F> {
    pub(crate) must: Vec<Query<F>>,
    pub(crate) should: Vec<Query<F>>,
    pub(crate) must_not: Vec<Query<F>>,
    pub(crate) filter: Vec<Query<F>>,
    pub(crate) minimum_should_match: Option<String>,
    pub(crate) adjust_pure_negative: bool,
    pub(crate) boost: f32,
}

/// The boolean operator between analysed terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operator {
    Or,
    And,
}

/// A fuzziness setting: a fixed edit distance or `AUTO[:low,high]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fuzziness {
    Edits(u32),
    Auto { low: usize, high: usize },
}

impl Fuzziness {
    /// Returns the edit distance allowed for a term of `term_length` characters.
    pub(crate) fn max_edits(self, term_length: usize) -> u32 {
        match self {
            Fuzziness::Edits(edits) => edits.min(2),
            Fuzziness::Auto { low, .. } if term_length < low => 0,
            Fuzziness::Auto { high, .. } if term_length < high => 1,
            Fuzziness::Auto { .. } => 2,
        }
    }
}

/// The `match` query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MatchQuery<F> {
    pub(crate) field: F,
    pub(crate) query: Value,
    pub(crate) operator: Operator,
    pub(crate) analyzer: Option<String>,
    pub(crate) fuzziness: Option<Fuzziness>,
    pub(crate) prefix_length: usize,
    pub(crate) fuzzy_transpositions: bool,
    pub(crate) lenient: bool,
    pub(crate) minimum_should_match: Option<String>,
    pub(crate) zero_terms_all: bool,
    pub(crate) boost: f32,
}

/// The `range` query; bounds are raw JSON values, interpreted per field type by the shard.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RangeQuery<F> {
    pub(crate) field: F,
    pub(crate) from: Option<Value>,
    pub(crate) to: Option<Value>,
    pub(crate) include_lower: bool,
    pub(crate) include_upper: bool,
    pub(crate) has_relation: bool,
    pub(crate) boost: f32,
}

/// The `simple_query_string` query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SimpleQueryStringQuery<F> {
    pub(crate) query: String,
    /// Fields (or name patterns before translation) with their weights.
    pub(crate) fields: Vec<(F, f32)>,
    pub(crate) default_operator: Operator,
    pub(crate) flags: u32,
    pub(crate) lenient: bool,
    pub(crate) minimum_should_match: Option<String>,
    pub(crate) analyzer: Option<String>,
    pub(crate) fuzzy_prefix_length: usize,
    pub(crate) fuzzy_transpositions: bool,
    pub(crate) boost: f32,
}

/// Returns whether a field name is a simple-match pattern (contains `*`), as Elasticsearch's `Regex` checks.
fn is_pattern(name: &str) -> bool {
    name.contains('*')
}

/// Returns whether `name` matches the `*`-pattern (`Regex.simpleMatch`).
pub(crate) fn simple_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let mut remaining = name;
    let first = parts[0];
    let last = parts[parts.len() - 1];
    if !remaining.starts_with(first) {
        return false;
    }
    remaining = &remaining[first.len()..];
    for middle in &parts[1..parts.len() - 1] {
        match remaining.find(middle) {
            Some(position) => remaining = &remaining[position + middle.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
}

/// Translates a query-level field name, refusing patterns and fields outside the allow-list.
pub(crate) fn translate_field(name: &str) -> Result<UserField, EsError> {
    if is_pattern(name) {
        return Err(EsError::illegal_argument(format!(
            "Field name pattern [{name}] is not allowed for querying or aggregation"
        )));
    }
    UserField::from_name(name)
        .ok_or_else(|| EsError::illegal_argument(format!("Field [{name}] is not allowed for querying or aggregation")))
}

/// Translates every field of a parsed query, in Elasticsearch's order (bool: must, should, must_not, filter).
pub(crate) fn translate_query(query: Query<String>) -> Result<Query<UserField>, EsError> {
    let translated = match query {
        Query::Bool(bool_query) => Query::Bool(BoolQuery {
            must: translate_all(bool_query.must)?,
            should: translate_all(bool_query.should)?,
            must_not: translate_all(bool_query.must_not)?,
            filter: translate_all(bool_query.filter)?,
            minimum_should_match: bool_query.minimum_should_match,
            adjust_pure_negative: bool_query.adjust_pure_negative,
            boost: bool_query.boost,
        }),
        Query::MatchAll { boost } => Query::MatchAll { boost },
        Query::MatchNone => Query::MatchNone,
        Query::Ids { values, boost } => Query::Ids { values, boost },
        Query::Term { field, value, case_insensitive, boost } => {
            Query::Term { field: translate_field(&field)?, value, case_insensitive, boost }
        }
        Query::Exists { field, boost } => Query::Exists { field: translate_field(&field)?, boost },
        Query::TermsLookup => {
            return Err(EsError::illegal_argument(
                "terms query with terms lookup is not currently supported in this context",
            ))
        }
        Query::Terms { field, values, boost } => Query::Terms { field: translate_field(&field)?, values, boost },
        Query::Prefix { field, value, case_insensitive, boost } => {
            Query::Prefix { field: translate_field(&field)?, value, case_insensitive, boost }
        }
        Query::Wildcard { field, value, case_insensitive, boost } => {
            Query::Wildcard { field: translate_field(&field)?, value, case_insensitive, boost }
        }
        Query::Match(match_query) => Query::Match(MatchQuery {
            field: translate_field(&match_query.field)?,
            query: match_query.query,
            operator: match_query.operator,
            analyzer: match_query.analyzer,
            fuzziness: match_query.fuzziness,
            prefix_length: match_query.prefix_length,
            fuzzy_transpositions: match_query.fuzzy_transpositions,
            lenient: match_query.lenient,
            minimum_should_match: match_query.minimum_should_match,
            zero_terms_all: match_query.zero_terms_all,
            boost: match_query.boost,
        }),
        Query::Range(range) => {
            if range.has_relation {
                return Err(EsError::illegal_argument(
                    "range query with relation is not currently supported in this context",
                ));
            }
            Query::Range(RangeQuery {
                field: translate_field(&range.field)?,
                from: range.from,
                to: range.to,
                include_lower: range.include_lower,
                include_upper: range.include_upper,
                has_relation: false,
                boost: range.boost,
            })
        }
        Query::SimpleQueryString(simple) => translate_simple_query_string(simple),
        Query::Unsupported { name } => {
            return Err(EsError::illegal_argument(format!(
                "Query type [{name}] is not currently supported in this context"
            )))
        }
    };
    Ok(translated)
}

fn translate_all(queries: Vec<Query<String>>) -> Result<Vec<Query<UserField>>, EsError> {
    queries.into_iter().map(translate_query).collect()
}

/// Expands field patterns to the allowed fields; unknown names are dropped, and a query left without
/// fields matches nothing. Querying all fields (`*`, the default) turns `lenient` on.
fn translate_simple_query_string(simple: SimpleQueryStringQuery<String>) -> Query<UserField> {
    let requested_fields = if simple.fields.is_empty() { vec![("*".to_string(), 1.0)] } else { simple.fields };
    let queries_all_fields = requested_fields.iter().any(|(name, _)| name == "*");
    let mut translated_fields: Vec<(UserField, f32)> = Vec::new();
    for (name_or_pattern, weight) in &requested_fields {
        for field in UserField::ALL {
            if !simple_match(name_or_pattern, field.name()) {
                continue;
            }
            match translated_fields.iter_mut().find(|(known, _)| *known == field) {
                Some((_, known_weight)) => *known_weight *= weight,
                None => translated_fields.push((field, *weight)),
            }
        }
    }
    if translated_fields.is_empty() {
        return Query::MatchNone;
    }
    Query::SimpleQueryString(SimpleQueryStringQuery {
        query: simple.query,
        fields: translated_fields,
        default_operator: simple.default_operator,
        flags: simple.flags,
        lenient: queries_all_fields || simple.lenient,
        minimum_should_match: simple.minimum_should_match,
        analyzer: simple.analyzer,
        fuzzy_prefix_length: simple.fuzzy_prefix_length,
        fuzzy_transpositions: simple.fuzzy_transpositions,
        boost: simple.boost,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_match_patterns() {
        let table = [
            ("*", "username", true),
            ("user*", "username", true),
            ("*name", "full_name", true),
            ("*_*", "full_name", true),
            ("e*l", "email", true),
            ("e*l", "enabled", false),
            ("roles", "roles", true),
            ("role", "roles", false),
            ("**", "email", true),
        ];
        for (pattern, name, expected) in table {
            assert_eq!(simple_match(pattern, name), expected, "{pattern} vs {name}");
        }
    }

    #[test]
    fn translation_errors() {
        let table = [
            ("password", "Field [password] is not allowed for querying or aggregation"),
            ("type", "Field [type] is not allowed for querying or aggregation"),
            ("metadata.a", "Field [metadata.a] is not allowed for querying or aggregation"),
            ("user*", "Field name pattern [user*] is not allowed for querying or aggregation"),
        ];
        for (name, reason) in table {
            let error = translate_field(name).unwrap_err();
            assert_eq!(error.error_type, "illegal_argument_exception");
            assert_eq!(error.reason, reason);
        }
    }

    #[test]
    fn unsupported_types_are_refused_in_clause_order() {
        let query = Query::Bool(BoolQuery {
            must: vec![Query::Unsupported { name: "fuzzy".into() }],
            should: vec![Query::Exists { field: "nope".to_string(), boost: 1.0 }],
            must_not: vec![],
            filter: vec![],
            minimum_should_match: None,
            adjust_pure_negative: true,
            boost: 1.0,
        });
        let error = translate_query(query).unwrap_err();
        assert_eq!(error.reason, "Query type [fuzzy] is not currently supported in this context");
    }

    #[test]
    fn simple_query_string_field_expansion() {
        let simple = SimpleQueryStringQuery {
            query: "x".into(),
            fields: vec![("*name".to_string(), 2.0), ("nope".to_string(), 1.0)],
            default_operator: Operator::Or,
            flags: u32::MAX,
            lenient: false,
            minimum_should_match: None,
            analyzer: None,
            fuzzy_prefix_length: 0,
            fuzzy_transpositions: true,
            boost: 1.0,
        };
        let Query::SimpleQueryString(translated) = translate_simple_query_string(simple.clone()) else {
            panic!("expected a simple_query_string");
        };
        assert_eq!(translated.fields, vec![(UserField::Username, 2.0), (UserField::FullName, 2.0)]);
        assert!(!translated.lenient);
        let only_unknown = SimpleQueryStringQuery { fields: vec![("nope".to_string(), 1.0)], ..simple };
        assert_eq!(translate_simple_query_string(only_unknown), Query::MatchNone);
    }
}
