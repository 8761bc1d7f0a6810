//! `simple_query_string`: Lucene's `SimpleQueryParser` grammar (`+` and, `|` or, `-` not, `"phrase"`,
//! `prefix*`, `(` `)`, `~N` fuzziness or slop, `\` escape) with Elasticsearch's per-field query building
//! (`most_fields` across fields, leniency for all-field queries).

use serde_json::Value;

use super::analysis::Analyzer;
use super::compile::{
    boolean_value_term, group_by_position, minimum_should_match, position_query, refuse_boolean_field, search_analyzer,
};
use super::compiled::{Compiled, CompiledBool, TermMatcher};
use super::errors::query_shard;
use super::parse_query_text::{
    FLAG_AND, FLAG_ESCAPE, FLAG_FUZZY, FLAG_NEAR, FLAG_NOT, FLAG_OR, FLAG_PHRASE, FLAG_PRECEDENCE, FLAG_PREFIX,
    FLAG_WHITESPACE,
};
use super::query::{FieldKind, Operator, SimpleQueryStringQuery, UserField};
use crate::error::EsError;

/// How a clause joins the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Occur {
    Must,
    Should,
}

/// Builds the leaf queries of one `simple_query_string` over its fields.
struct LeafBuilder<'a> {
    simple: &'a SimpleQueryStringQuery<UserField>,
    analyzer_override: Option<Analyzer>,
}

impl LeafBuilder<'_> {
    fn flag(&self, flag: u32) -> bool {
        self.simple.flags & flag != 0
    }

    fn analyzer(&self, field: UserField) -> Analyzer {
        self.analyzer_override.unwrap_or_else(|| search_analyzer(field))
    }

    /// Combines per-field queries like a `most_fields` multi-match (a sum over the matching fields).
    fn across_fields(
        &self,
        per_field: impl Fn(UserField, f32) -> Result<Option<Compiled>, EsError>,
    ) -> Result<Option<Compiled>, EsError> {
        let mut field_queries = Vec::new();
        for (field, weight) in &self.simple.fields {
            match per_field(*field, *weight) {
                Ok(Some(query)) => field_queries.push(query),
                Ok(None) => {}
                Err(_) if self.simple.lenient => field_queries.push(Compiled::MatchNone),
                Err(error) => return Err(error),
            }
        }
        if field_queries.len() <= 1 {
            return Ok(field_queries.pop());
        }
        Ok(Some(should_of(field_queries)))
    }

    /// A plain term: analysed per field, the positions joined with the default operator.
    fn default_query(&self, text: &str) -> Result<Option<Compiled>, EsError> {
        self.across_fields(|field, weight| {
            if field.kind() == FieldKind::Boolean {
                let term = boolean_value_term(&Value::String(text.to_string()))?;
                return Ok(Some(Compiled::Term { field, term: term.to_string(), boost: weight }));
            }
            let positions = group_by_position(self.analyzer(field).analyze(text));
            let mut clauses: Vec<Compiled> =
                positions.into_iter().map(|(_, terms)| position_query(field, terms, weight)).collect();
            if clauses.len() <= 1 {
                return Ok(clauses.pop());
            }
            Ok(Some(match self.simple.default_operator {
                Operator::Or => should_of(clauses),
                Operator::And => boolean(clauses, Vec::new(), Vec::new()),
            }))
        })
    }

    fn phrase_query(&self, text: &str, slop: u32) -> Result<Option<Compiled>, EsError> {
        self.across_fields(|field, weight| {
            if field.kind() == FieldKind::Boolean {
                let term = boolean_value_term(&Value::String(text.to_string()))?;
                return Ok(Some(Compiled::Term { field, term: term.to_string(), boost: weight }));
            }
            let positions = group_by_position(self.analyzer(field).analyze(text));
            match positions.len() {
                0 => Ok(None),
                1 => Ok(positions.into_iter().next().map(|(_, terms)| position_query(field, terms, weight))),
                _ => Ok(Some(Compiled::Phrase { field, positions, slop, boost: weight })),
            }
        })
    }

    fn prefix_query(&self, text: &str) -> Result<Option<Compiled>, EsError> {
        self.across_fields(|field, weight| {
            refuse_boolean_field(field, "prefix")?;
            let prefix = self.analyzer(field).normalize(text);
            let matcher = TermMatcher::Prefix { prefix, case_insensitive: false };
            Ok(Some(Compiled::MultiTerm { field, matcher, boost: weight }))
        })
    }

    fn fuzzy_query(&self, text: &str, max_edits: u32) -> Result<Option<Compiled>, EsError> {
        self.across_fields(|field, weight| {
            refuse_boolean_field(field, "fuzzy")?;
            Ok(Some(Compiled::Fuzzy {
                field,
                term: self.analyzer(field).normalize(text),
                max_edits,
                prefix_length: self.simple.fuzzy_prefix_length,
                transpositions: self.simple.fuzzy_transpositions,
                boost: weight,
            }))
        })
    }
}

fn boolean(must: Vec<Compiled>, should: Vec<Compiled>, must_not: Vec<Compiled>) -> Compiled {
    Compiled::Bool(CompiledBool {
        must,
        should,
        must_not,
        filter: Vec::new(),
        minimum_should_match: 0,
        adjust_pure_negative: true,
        boost: 1.0,
    })
}

fn should_of(clauses: Vec<Compiled>) -> Compiled {
    boolean(Vec::new(), clauses, Vec::new())
}

/// The parser state of Lucene's `SimpleQueryParser`.
#[derive(Default)]
struct State {
    top: Option<Compiled>,
    current_operation: Option<Occur>,
    previous_operation: Option<Occur>,
    not_count: u32,
}

struct Parser<'a> {
    leaves: LeafBuilder<'a>,
    default_operation: Occur,
}

fn is_whitespace(character: char) -> bool {
    matches!(character, ' ' | '\t' | '\n' | '\r')
}

impl Parser<'_> {
    fn parse_sub_query(&self, data: &[char]) -> Result<Option<Compiled>, EsError> {
        let mut state = State::default();
        let mut index = 0;
        while index < data.len() {
            let character = data[index];
            if character == '(' && self.leaves.flag(FLAG_PRECEDENCE) {
                index = self.consume_sub_query(data, index, &mut state)?;
            } else if character == ')' && self.leaves.flag(FLAG_PRECEDENCE) {
                index += 1;
            } else if character == '"' && self.leaves.flag(FLAG_PHRASE) {
                index = self.consume_phrase(data, index, &mut state)?;
            } else if character == '+' && self.leaves.flag(FLAG_AND) {
                if state.current_operation.is_none() && state.top.is_some() {
                    state.current_operation = Some(Occur::Must);
                }
                index += 1;
            } else if character == '|' && self.leaves.flag(FLAG_OR) {
                if state.current_operation.is_none() && state.top.is_some() {
                    state.current_operation = Some(Occur::Should);
                }
                index += 1;
            } else if character == '-' && self.leaves.flag(FLAG_NOT) {
                state.not_count += 1;
                index += 1;
                continue;
            } else if is_whitespace(character) && self.leaves.flag(FLAG_WHITESPACE) {
                index += 1;
            } else {
                index = self.consume_token(data, index, &mut state)?;
            }
            state.not_count = 0;
        }
        Ok(state.top)
    }

    fn consume_sub_query(&self, data: &[char], open: usize, state: &mut State) -> Result<usize, EsError> {
        let start = open + 1;
        let mut index = start;
        let mut depth = 1;
        let mut escaped = false;
        while index < data.len() {
            if !escaped {
                if data[index] == '\\' && self.leaves.flag(FLAG_ESCAPE) {
                    escaped = true;
                    index += 1;
                    continue;
                } else if data[index] == '(' {
                    depth += 1;
                } else if data[index] == ')' {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
            }
            escaped = false;
            index += 1;
        }
        if index == data.len() {
            return Ok(start);
        }
        if index == start {
            state.current_operation = None;
            return Ok(index + 1);
        }
        let branch = self.parse_sub_query(&data[start..index])?;
        self.build_query_tree(state, branch);
        Ok(index + 1)
    }

    fn consume_phrase(&self, data: &[char], open: usize, state: &mut State) -> Result<usize, EsError> {
        let start = open + 1;
        let mut index = start;
        let mut phrase = String::new();
        let mut escaped = false;
        let mut has_slop = false;
        while index < data.len() {
            if !escaped {
                if data[index] == '\\' && self.leaves.flag(FLAG_ESCAPE) {
                    escaped = true;
                    index += 1;
                    continue;
                } else if data[index] == '"' {
                    if data.len() > index + 1 && data[index + 1] == '~' && self.leaves.flag(FLAG_NEAR) {
                        index += 1;
                        has_slop = data.len() > index + 1;
                    }
                    break;
                }
            }
            escaped = false;
            phrase.push(data[index]);
            index += 1;
        }
        if index == data.len() {
            return Ok(start);
        }
        if index == start {
            state.current_operation = None;
            return Ok(index + 1);
        }
        let slop = if has_slop {
            let (slop, next) = self.parse_fuzziness(data, index);
            index = next;
            slop
        } else {
            0
        };
        let branch = self.leaves.phrase_query(&phrase, slop)?;
        self.build_query_tree(state, branch);
        Ok(index + 1)
    }

    fn token_finished(&self, character: char) -> bool {
        (character == '"' && self.leaves.flag(FLAG_PHRASE))
            || (character == '|' && self.leaves.flag(FLAG_OR))
            || (character == '+' && self.leaves.flag(FLAG_AND))
            || ((character == '(' || character == ')') && self.leaves.flag(FLAG_PRECEDENCE))
            || (is_whitespace(character) && self.leaves.flag(FLAG_WHITESPACE))
    }

    fn consume_token(&self, data: &[char], begin: usize, state: &mut State) -> Result<usize, EsError> {
        let mut index = begin;
        let mut token = String::new();
        let mut escaped = false;
        let mut is_prefix = false;
        let mut is_fuzzy = false;
        while index < data.len() {
            if !escaped {
                if data[index] == '\\' && self.leaves.flag(FLAG_ESCAPE) {
                    escaped = true;
                    is_prefix = false;
                    index += 1;
                    continue;
                } else if self.token_finished(data[index]) {
                    break;
                } else if !token.is_empty() && data[index] == '~' && self.leaves.flag(FLAG_FUZZY) {
                    is_fuzzy = true;
                    break;
                }
                is_prefix = !token.is_empty() && data[index] == '*' && self.leaves.flag(FLAG_PREFIX);
            }
            escaped = false;
            token.push(data[index]);
            index += 1;
        }
        if token.is_empty() {
            return Ok(index);
        }
        let branch = if is_fuzzy {
            let (fuzziness, next) = self.parse_fuzziness(data, index);
            index = next;
            match fuzziness.min(2) {
                0 => self.leaves.default_query(&token)?,
                edits => self.leaves.fuzzy_query(&token, edits)?,
            }
        } else if is_prefix {
            token.pop();
            self.leaves.prefix_query(&token)?
        } else {
            self.leaves.default_query(&token)?
        };
        self.build_query_tree(state, branch);
        Ok(index)
    }

    /// Reads `~N` at `index`; returns the number (2 when absent, 0 when unparsable) and the next index.
    fn parse_fuzziness(&self, data: &[char], mut index: usize) -> (u32, usize) {
        if data.get(index) != Some(&'~') {
            return (0, index);
        }
        let mut digits = String::new();
        while index < data.len() {
            index += 1;
            if index < data.len() {
                if self.token_finished(data[index]) {
                    break;
                }
                digits.push(data[index]);
            }
        }
        let fuzziness = if digits.is_empty() { 2 } else { digits.parse::<i64>().unwrap_or(0).max(0) as u32 };
        (fuzziness, index)
    }

    fn build_query_tree(&self, state: &mut State, branch: Option<Compiled>) {
        let Some(mut branch) = branch else { return };
        if state.not_count % 2 == 1 {
            branch = boolean(Vec::new(), vec![Compiled::MatchAll { boost: 1.0 }], vec![branch]);
        }
        let Some(top) = state.top.take() else {
            state.top = Some(branch);
            state.current_operation = None;
            return;
        };
        let operation = state.current_operation.unwrap_or(self.default_operation);
        let mut tree = if state.previous_operation != Some(operation) { wrap(top, operation) } else { top };
        if let Compiled::Bool(bool_query) = &mut tree {
            match operation {
                Occur::Must => bool_query.must.push(branch),
                Occur::Should => bool_query.should.push(branch),
            }
        }
        state.top = Some(tree);
        state.previous_operation = Some(operation);
        state.current_operation = None;
    }
}

fn wrap(top: Compiled, operation: Occur) -> Compiled {
    match operation {
        Occur::Must => boolean(vec![top], Vec::new(), Vec::new()),
        Occur::Should => should_of(vec![top]),
    }
}

/// Compiles a translated `simple_query_string`.
pub(crate) fn compile_simple_query_string(simple: &SimpleQueryStringQuery<UserField>) -> Result<Compiled, EsError> {
    let analyzer_override = match &simple.analyzer {
        Some(name) => Some(
            Analyzer::from_name(name)
                .ok_or_else(|| query_shard(format!("[simple_query_string] analyzer [{name}] not found")))?,
        ),
        None => None,
    };
    let default_operation = match simple.default_operator {
        Operator::Or => Occur::Should,
        Operator::And => Occur::Must,
    };
    let parser = Parser { leaves: LeafBuilder { simple, analyzer_override }, default_operation };
    let characters: Vec<char> = simple.query.chars().collect();
    let Some(mut query) = parser.parse_sub_query(&characters)? else {
        return Ok(Compiled::MatchNone);
    };
    if let (Some(spec), Compiled::Bool(bool_query)) = (&simple.minimum_should_match, &mut query) {
        bool_query.minimum_should_match = minimum_should_match(bool_query.should.len(), spec)?;
    }
    Ok(Compiled::Bool(CompiledBool {
        must: vec![query],
        should: Vec::new(),
        must_not: Vec::new(),
        filter: Vec::new(),
        minimum_should_match: 0,
        adjust_pure_negative: true,
        boost: simple.boost,
    }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::index::UserIndex;
    use super::super::parse_query_text::ALL_FLAGS;
    use super::*;

    fn simple(query: &str, fields: &[(UserField, f32)], lenient: bool) -> SimpleQueryStringQuery<UserField> {
        SimpleQueryStringQuery {
            query: query.to_string(),
            fields: fields.to_vec(),
            default_operator: Operator::Or,
            flags: ALL_FLAGS,
            lenient,
            minimum_should_match: None,
            analyzer: None,
            fuzzy_prefix_length: 0,
            fuzzy_transpositions: true,
            boost: 1.0,
        }
    }

    fn matching(query: &SimpleQueryStringQuery<UserField>) -> Vec<String> {
        let users = vec![
            json!({"username": "jack", "roles": ["admin"], "full_name": "Jack Nicholson", "email": "jack@example.com", "enabled": true}),
            json!({"username": "jill", "roles": ["viewer"], "full_name": "Jill Valentine", "email": "jill@umbrella.org", "enabled": false}),
            json!({"username": "joe", "roles": ["admin", "viewer"], "full_name": null, "email": null, "enabled": true}),
        ];
        let index = UserIndex::build(&users);
        let compiled = compile_simple_query_string(query).unwrap();
        index
            .users
            .iter()
            .filter(|user| compiled.score(&index, user).is_some())
            .map(|user| user.username.clone().unwrap_or_default())
            .collect()
    }

    const ALL: &[(UserField, f32)] = &[
        (UserField::Username, 1.0),
        (UserField::Roles, 1.0),
        (UserField::Enabled, 1.0),
        (UserField::FullName, 1.0),
        (UserField::Email, 1.0),
    ];

    #[test]
    fn operators_table() {
        let table: &[(&str, &[&str])] = &[
            ("jack", &["jack"]),
            ("jack jill", &["jack", "jill"]),
            ("admin +viewer", &["joe"]),
            ("admin | viewer", &["jack", "jill", "joe"]),
            ("-admin", &["jill"]),
            ("admin -jack", &["jack", "jill", "joe"]),
            ("+admin -jack", &["jack", "jill", "joe"]),
            ("admin +-jack", &["joe"]),
            ("nichol*", &["jack"]),
            ("\"jack nicholson\"", &["jack"]),
            ("\"nicholson jack\"", &[]),
            ("valentin~1", &["jill"]),
            ("(jack | jill) +admin", &["jack"]),
            ("umbrella.org", &["jill"]),
            ("", &[]),
        ];
        for (text, expected) in table {
            assert_eq!(matching(&simple(text, ALL, true)), *expected, "{text}");
        }
    }

    #[test]
    fn boolean_field_needs_leniency() {
        let query = simple("jack", &[(UserField::Enabled, 1.0)], false);
        let error = compile_simple_query_string(&query).unwrap_err();
        assert_eq!(
            error.reason,
            "failed to create query: Can't parse boolean value [jack], expected [true] or [false]"
        );
        assert_eq!(matching(&simple("true", &[(UserField::Enabled, 1.0)], false)), vec!["jack", "joe"]);
    }

    #[test]
    fn default_operator_and() {
        let mut query = simple("jack nicholson", &[(UserField::FullName, 1.0)], false);
        query.default_operator = Operator::And;
        assert_eq!(matching(&query), vec!["jack"]);
        let mut query = simple("jack valentine", &[(UserField::FullName, 1.0)], false);
        query.default_operator = Operator::And;
        assert!(matching(&query).is_empty());
    }
}
