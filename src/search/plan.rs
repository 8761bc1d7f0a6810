//! Turns the suggest `name` into the clauses Elasticsearch would build for it.
//!
//! ES runs `multi_match` with `type: bool_prefix`, `fuzziness: AUTO` over seven fields and sums
//! the field scores (`most_fields`). For each field the text is analysed with the field's search
//! analyzer and `MatchQueryParser` builds (see `createFieldQuery` / `analyzeMultiBoolean`):
//! - one token: a prefix query if the token reaches the end of the text, else a fuzzy term query;
//! - several tokens at a single position (e-mail captures): one synonym query (exact terms);
//! - several positions: per position a fuzzy term query, or a synonym query when the position holds
//!   several tokens; the last position is a prefix query instead when it is a single token that
//!   reaches the end of the text (so `"jack "` with a trailing space has no prefix clause).
//!
//! Prefix queries are constant-score (1.0). Fuzzy queries use `AUTO` edits: 0 up to 2 characters,
//! 1 up to 5, then 2.

use tantivy::schema::Field;

use crate::search::analyzer::{email_tokens, shingles, standard_tokens, AnalyzedToken};
use crate::search::schema::{label_term, ProfileFields, SearchAsYouTypeFields, MAX_PREFIX_CHARS};

/// How one clause matches the terms of its field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Matcher {
    /// Documents with a term starting with `prefix`; constant score 1.0.
    Prefix { prefix: String, edge_ngram_field: Option<Field> },
    /// Documents with a term within `max_edits` edits (Damerau) of `text`; BM25 scored.
    Fuzzy { text: String, max_edits: u8 },
    /// Documents with any of `texts`, scored as one pseudo term (Lucene `SynonymQuery`).
    Synonyms { texts: Vec<String> },
    /// Documents with any of these exact terms; constant score 1.0 (`terms` query).
    AnyTerm { texts: Vec<String> },
    /// Every document; score 0 (the missing `must` clause of a blank name).
    AllDocuments,
}

/// One `should` clause of the suggest query on one tantivy field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PlannedClause {
    pub(crate) field: Field,
    pub(crate) matcher: Matcher,
}

/// The whole suggest query: the name clauses (at least one must match) and the hint clauses.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QueryPlan {
    /// A document matches when one of these matches; scores add up.
    pub(crate) name_clauses: Vec<PlannedClause>,
    /// Boost-only clauses: they add to the score of documents the name clauses matched.
    pub(crate) hint_clauses: Vec<PlannedClause>,
    /// True for a blank name: every profile matches and the total is the number of profiles.
    pub(crate) matches_everything: bool,
}

/// Returns Elasticsearch's `AUTO` fuzziness for a term of `text`.
pub(crate) fn auto_max_edits(text: &str) -> u8 {
    match text.chars().count() {
        0..=2 => 0,
        3..=5 => 1,
        _ => 2,
    }
}

/// Builds the clauses of a suggest query.
pub(crate) fn plan_query(
    fields: &ProfileFields,
    name: &str,
    hint_uids: &[String],
    hint_label: Option<&(String, Vec<String>)>,
) -> QueryPlan {
    let mut hint_clauses = Vec::new();
    if !hint_uids.is_empty() {
        hint_clauses.push(PlannedClause { field: fields.uid, matcher: Matcher::AnyTerm { texts: hint_uids.to_vec() } });
    }
    if let Some((label_path, label_values)) = hint_label {
        let texts = label_values.iter().map(|value| label_term(label_path, value)).collect();
        hint_clauses.push(PlannedClause { field: fields.labels, matcher: Matcher::AnyTerm { texts } });
    }
    if name.trim().is_empty() {
        let all_documents = PlannedClause { field: fields.uid, matcher: Matcher::AllDocuments };
        return QueryPlan { name_clauses: vec![all_documents], hint_clauses, matches_everything: true };
    }
    let mut name_clauses = Vec::new();
    for search_as_you_type in [&fields.username, &fields.full_name] {
        name_clauses.extend(search_as_you_type_clauses(search_as_you_type, name));
    }
    let email_positions = group_by_position(email_tokens(name));
    name_clauses.extend(field_clauses(fields.email, Some(fields.email_prefix), &email_positions, name.len()));
    QueryPlan { name_clauses, hint_clauses, matches_everything: false }
}

fn search_as_you_type_clauses(fields: &SearchAsYouTypeFields, name: &str) -> Vec<PlannedClause> {
    let tokens = standard_tokens(name);
    let mut clauses = field_clauses(fields.root, Some(fields.prefix), &one_per_position(&tokens), name.len());
    for (shingle_size, shingle_field) in [(2, fields.two_gram), (3, fields.three_gram)] {
        let shingle_tokens = shingles(&tokens, shingle_size);
        clauses.extend(field_clauses(shingle_field, None, &one_per_position(&shingle_tokens), name.len()));
    }
    clauses
}

fn one_per_position(tokens: &[AnalyzedToken]) -> Vec<Vec<AnalyzedToken>> {
    tokens.iter().map(|token| vec![token.clone()]).collect()
}

fn group_by_position(tokens: Vec<AnalyzedToken>) -> Vec<Vec<AnalyzedToken>> {
    let mut groups: Vec<Vec<AnalyzedToken>> = Vec::new();
    for token in tokens {
        match groups.last_mut() {
            Some(group) if group[0].position == token.position => group.push(token),
            _ => groups.push(vec![token]),
        }
    }
    groups
}

/// Builds the clauses of one field from its analysed tokens grouped by position.
fn field_clauses(
    field: Field,
    edge_ngram_field: Option<Field>,
    positions: &[Vec<AnalyzedToken>],
    text_length: usize,
) -> Vec<PlannedClause> {
    let token_count: usize = positions.iter().map(Vec::len).sum();
    if token_count == 0 {
        return Vec::new();
    }
    let prefix_or_fuzzy = |token: &AnalyzedToken, may_be_prefix: bool| {
        let matcher = if may_be_prefix && token.end_offset == text_length {
            let edge_ngram_field = edge_ngram_field.filter(|_| token.text.chars().count() <= MAX_PREFIX_CHARS);
            Matcher::Prefix { prefix: token.text.clone(), edge_ngram_field }
        } else {
            Matcher::Fuzzy { text: token.text.clone(), max_edits: auto_max_edits(&token.text) }
        };
        PlannedClause { field, matcher }
    };
    let synonyms = |group: &[AnalyzedToken]| PlannedClause {
        field,
        matcher: Matcher::Synonyms { texts: group.iter().map(|token| token.text.clone()).collect() },
    };
    if token_count == 1 {
        return vec![prefix_or_fuzzy(&positions[0][0], true)];
    }
    if positions.len() == 1 {
        return vec![synonyms(&positions[0])];
    }
    let last_index = positions.len() - 1;
    positions
        .iter()
        .enumerate()
        .map(|(index, group)| match group.as_slice() {
            [single] => prefix_or_fuzzy(single, index == last_index),
            _ => synonyms(group),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matchers_on(plan: &QueryPlan, field: Field) -> Vec<Matcher> {
        plan.name_clauses.iter().filter(|clause| clause.field == field).map(|clause| clause.matcher.clone()).collect()
    }

    fn fuzzy(text: &str, max_edits: u8) -> Matcher {
        Matcher::Fuzzy { text: text.to_string(), max_edits }
    }

    #[test]
    fn auto_fuzziness_follows_term_length() {
        assert_eq!(auto_max_edits("ab"), 0);
        assert_eq!(auto_max_edits("abc"), 1);
        assert_eq!(auto_max_edits("abcde"), 1);
        assert_eq!(auto_max_edits("abcdef"), 2);
        assert_eq!(auto_max_edits("渡辺"), 0);
    }

    #[test]
    fn last_token_is_a_prefix_and_others_fuzzy() {
        let fields = ProfileFields::new();
        let plan = plan_query(&fields, "Super adm", &[], None);
        let root = matchers_on(&plan, fields.full_name.root);
        assert_eq!(
            root,
            vec![
                fuzzy("super", 1),
                Matcher::Prefix { prefix: "adm".to_string(), edge_ngram_field: Some(fields.full_name.prefix) }
            ]
        );
        let two_gram = matchers_on(&plan, fields.full_name.two_gram);
        assert_eq!(two_gram, vec![Matcher::Prefix { prefix: "super adm".to_string(), edge_ngram_field: None }]);
        assert!(matchers_on(&plan, fields.full_name.three_gram).is_empty());
    }

    #[test]
    fn trailing_space_or_punctuation_disables_the_prefix() {
        let fields = ProfileFields::new();
        let plan = plan_query(&fields, "very ", &[], None);
        assert_eq!(matchers_on(&plan, fields.username.root), vec![fuzzy("very", 1)]);
        let plan = plan_query(&fields, "jack.", &[], None);
        assert_eq!(matchers_on(&plan, fields.username.root), vec![fuzzy("jack", 1)]);
    }

    #[test]
    fn long_prefixes_expand_the_root_field() {
        let fields = ProfileFields::new();
        let plan = plan_query(&fields, "nicholson", &[], None);
        assert_eq!(
            matchers_on(&plan, fields.username.root),
            vec![Matcher::Prefix { prefix: "nicholson".to_string(), edge_ngram_field: None }]
        );
    }

    #[test]
    fn email_captures_at_one_position_are_synonyms() {
        let fields = ProfileFields::new();
        let plan = plan_query(&fields, "example.org", &[], None);
        let texts = ["example.org", "example", "org"].map(String::from).to_vec();
        assert_eq!(matchers_on(&plan, fields.email), vec![Matcher::Synonyms { texts }]);
        let plan = plan_query(&fields, "fooem", &[], None);
        assert_eq!(
            matchers_on(&plan, fields.email),
            vec![Matcher::Prefix { prefix: "fooem".to_string(), edge_ngram_field: Some(fields.email_prefix) }]
        );
    }

    #[test]
    fn blank_name_matches_everything_and_keeps_hints() {
        let fields = ProfileFields::new();
        let hint_label = ("kibana.space".to_string(), vec!["s1".to_string()]);
        let plan = plan_query(&fields, "  \t", &["u1".to_string()], Some(&hint_label));
        assert!(plan.matches_everything);
        assert_eq!(plan.name_clauses.len(), 1);
        assert_eq!(plan.hint_clauses.len(), 2);
        assert_eq!(plan.hint_clauses[1].matcher, Matcher::AnyTerm { texts: vec![label_term("kibana.space", "s1")] });
    }
}
