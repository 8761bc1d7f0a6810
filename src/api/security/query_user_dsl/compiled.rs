//! The query as the shard runs it (Lucene's view): term-level matchers over indexed terms, and the
//! boolean combination with Lucene's matching and scoring rules.

use super::index::{IndexedUser, UserIndex};
use super::query::UserField;

/// A matcher over the indexed terms of a field, scored as a constant.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TermMatcher {
    /// Any of these exact terms (`terms`).
    AnyOf(Vec<String>),
    /// The term, ignoring case (`case_insensitive: true`).
    CaseInsensitive(String),
    Prefix {
        prefix: String,
        case_insensitive: bool,
    },
    /// A wildcard pattern: `*` any run, `?` one character, `\` escapes.
    Wildcard {
        pattern: String,
        case_insensitive: bool,
    },
    /// Terms in a byte-order range.
    Range {
        lower: Option<String>,
        upper: Option<String>,
        include_lower: bool,
        include_upper: bool,
    },
}

/// A boolean combination with Lucene's semantics.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CompiledBool {
    pub(crate) must: Vec<Compiled>,
    pub(crate) should: Vec<Compiled>,
    pub(crate) must_not: Vec<Compiled>,
    pub(crate) filter: Vec<Compiled>,
    /// How many `should` clauses must match (0 = optional, unless there are no required clauses).
    pub(crate) minimum_should_match: usize,
    /// Pure negative queries match everything not excluded (Elasticsearch's `adjust_pure_negative`).
    pub(crate) adjust_pure_negative: bool,
    pub(crate) boost: f32,
}

/// A query ready to run against indexed users.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Compiled {
    MatchAll {
        boost: f32,
    },
    MatchNone,
    /// A scored term query (BM25).
    Term {
        field: UserField,
        term: String,
        boost: f32,
    },
    /// Terms at the same position (analysis synonyms): matches any, scored as the best of them.
    Synonyms {
        field: UserField,
        terms: Vec<String>,
        boost: f32,
    },
    /// A constant-score multi-term query.
    MultiTerm {
        field: UserField,
        matcher: TermMatcher,
        boost: f32,
    },
    Exists {
        field: UserField,
        boost: f32,
    },
    Ids {
        ids: Vec<String>,
        boost: f32,
    },
    Fuzzy {
        field: UserField,
        term: String,
        max_edits: u32,
        prefix_length: usize,
        transpositions: bool,
        boost: f32,
    },
    /// A phrase: alternatives per relative position, in order.
    Phrase {
        field: UserField,
        positions: Vec<(u32, Vec<String>)>,
        slop: u32,
        boost: f32,
    },
    Bool(CompiledBool),
}

impl Compiled {
    /// Returns the user's score when the query matches it, `None` otherwise.
    pub(crate) fn score(&self, index: &UserIndex, user: &IndexedUser) -> Option<f32> {
        match self {
            Compiled::MatchAll { boost } => Some(*boost),
            Compiled::MatchNone => None,
            Compiled::Term { field, term, boost } => {
                let frequency = user.field(*field).term_frequency(term);
                (frequency > 0).then(|| index.term_score(*field, user, term, *boost))
            }
            Compiled::Synonyms { field, terms, boost } => terms
                .iter()
                .filter(|term| user.field(*field).term_frequency(term) > 0)
                .map(|term| index.term_score(*field, user, term, *boost))
                .reduce(f32::max),
            Compiled::MultiTerm { field, matcher, boost } => {
                user.field(*field).tokens.iter().any(|token| matcher.matches(&token.term)).then_some(*boost)
            }
            Compiled::Exists { field, boost } => user.field(*field).present.then_some(*boost),
            Compiled::Ids { ids, boost } => ids.contains(&user.doc_id).then_some(*boost),
            Compiled::Fuzzy { field, term, max_edits, prefix_length, transpositions, boost } => {
                fuzzy_score(index, user, *field, term, *max_edits, *prefix_length, *transpositions, *boost)
            }
            Compiled::Phrase { field, positions, slop, boost } => {
                phrase_score(index, user, *field, positions, *slop, *boost)
            }
            Compiled::Bool(bool_query) => bool_query.score(index, user),
        }
    }
}

impl CompiledBool {
    fn score(&self, index: &UserIndex, user: &IndexedUser) -> Option<f32> {
        let mut total = 0.0_f32;
        for clause in &self.must {
            total += clause.score(index, user)?;
        }
        for clause in &self.filter {
            clause.score(index, user)?;
        }
        if self.must_not.iter().any(|clause| clause.score(index, user).is_some()) {
            return None;
        }
        let has_required = !self.must.is_empty() || !self.filter.is_empty();
        let is_pure_negative = !has_required && self.should.is_empty();
        if is_pure_negative {
            return (self.adjust_pure_negative && !self.must_not.is_empty()).then_some(0.0);
        }
        let mut matched_should = 0;
        for clause in &self.should {
            if let Some(clause_score) = clause.score(index, user) {
                matched_should += 1;
                total += clause_score;
            }
        }
        let required_should = if has_required { self.minimum_should_match } else { self.minimum_should_match.max(1) };
        if matched_should < required_should {
            return None;
        }
        Some(total * self.boost)
    }
}

impl TermMatcher {
    /// Returns whether an indexed term matches.
    pub(crate) fn matches(&self, term: &str) -> bool {
        match self {
            TermMatcher::AnyOf(terms) => terms.iter().any(|candidate| candidate == term),
            TermMatcher::CaseInsensitive(expected) => expected.to_lowercase() == term.to_lowercase(),
            TermMatcher::Prefix { prefix, case_insensitive: false } => term.starts_with(prefix.as_str()),
            TermMatcher::Prefix { prefix, case_insensitive: true } => {
                term.to_lowercase().starts_with(&prefix.to_lowercase())
            }
            TermMatcher::Wildcard { pattern, case_insensitive } => {
                let (pattern_chars, term_chars): (Vec<char>, Vec<char>) = if *case_insensitive {
                    (pattern.to_lowercase().chars().collect(), term.to_lowercase().chars().collect())
                } else {
                    (pattern.chars().collect(), term.chars().collect())
                };
                wildcard_matches(&pattern_chars, &term_chars)
            }
            TermMatcher::Range { lower, upper, include_lower, include_upper } => {
                let above_lower = match lower {
                    None => true,
                    Some(bound) => term > bound.as_str() || (*include_lower && term == bound),
                };
                let below_upper = match upper {
                    None => true,
                    Some(bound) => term < bound.as_str() || (*include_upper && term == bound),
                };
                above_lower && below_upper
            }
        }
    }
}

/// Matches Lucene wildcard syntax: `*` any run, `?` any one character, `\` escapes the next character.
pub(crate) fn wildcard_matches(pattern: &[char], text: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some(('*', rest)) => (0..=text.len()).any(|skip| wildcard_matches(rest, &text[skip..])),
        Some(('?', rest)) => !text.is_empty() && wildcard_matches(rest, &text[1..]),
        Some(('\\', rest)) if !rest.is_empty() => {
            text.first() == Some(&rest[0]) && wildcard_matches(&rest[1..], &text[1..])
        }
        Some((literal, rest)) => text.first() == Some(literal) && wildcard_matches(rest, &text[1..]),
    }
}

/// Returns the edit distance (with adjacent transpositions counted as one edit when allowed).
pub(crate) fn edit_distance(left: &[char], right: &[char], transpositions: bool) -> u32 {
    let mut table = vec![vec![0_u32; right.len() + 1]; left.len() + 1];
    for (row, cells) in table.iter_mut().enumerate() {
        cells[0] = row as u32;
    }
    for (column, cell) in table[0].iter_mut().enumerate() {
        *cell = column as u32;
    }
    for row in 1..=left.len() {
        for column in 1..=right.len() {
            let substitution = u32::from(left[row - 1] != right[column - 1]);
            let mut best = (table[row - 1][column] + 1)
                .min(table[row][column - 1] + 1)
                .min(table[row - 1][column - 1] + substitution);
            let is_transposition = transpositions
                && row > 1
                && column > 1
                && left[row - 1] == right[column - 2]
                && left[row - 2] == right[column - 1];
            if is_transposition {
                best = best.min(table[row - 2][column - 2] + 1);
            }
            table[row][column] = best;
        }
    }
    table[left.len()][right.len()]
}

#[allow(clippy::too_many_arguments)]
fn fuzzy_score(
    index: &UserIndex,
    user: &IndexedUser,
    field: UserField,
    term: &str,
    max_edits: u32,
    prefix_length: usize,
    transpositions: bool,
    boost: f32,
) -> Option<f32> {
    let query_chars: Vec<char> = term.chars().collect();
    let mut seen_terms: Vec<&str> = Vec::new();
    let mut total: Option<f32> = None;
    for token in &user.field(field).tokens {
        if seen_terms.contains(&token.term.as_str()) {
            continue;
        }
        seen_terms.push(&token.term);
        let token_chars: Vec<char> = token.term.chars().collect();
        let prefix = prefix_length.min(query_chars.len());
        if token_chars.len() < prefix || token_chars[..prefix] != query_chars[..prefix] {
            continue;
        }
        let edits = edit_distance(&query_chars[prefix..], &token_chars[prefix..], transpositions);
        if edits > max_edits {
            continue;
        }
        let shorter_length = query_chars.len().min(token_chars.len()).max(1) as f32;
        let similarity = (1.0 - edits as f32 / shorter_length).max(0.0);
        let term_score = index.term_score(field, user, &token.term, boost * similarity);
        total = Some(total.unwrap_or(0.0) + term_score);
    }
    total
}

fn phrase_score(
    index: &UserIndex,
    user: &IndexedUser,
    field: UserField,
    positions: &[(u32, Vec<String>)],
    slop: u32,
    boost: f32,
) -> Option<f32> {
    let tokens = &user.field(field).tokens;
    let (first_offset, first_terms) = positions.first()?;
    let has_term_at = |position: i64, terms: &[String]| {
        tokens.iter().any(|token| i64::from(token.position) == position && terms.contains(&token.term))
    };
    let mut phrase_frequency = 0_u32;
    for start in tokens.iter().filter(|token| first_terms.contains(&token.term)).map(|token| token.position) {
        let mut displacement_left = i64::from(slop);
        let mut previous = i64::from(start);
        let mut previous_offset = i64::from(*first_offset);
        let mut all_found = true;
        for (offset, terms) in &positions[1..] {
            let expected = previous + (i64::from(*offset) - previous_offset);
            let found = (0..=displacement_left).find(|shift| has_term_at(expected + shift, terms));
            match found {
                Some(shift) => {
                    displacement_left -= shift;
                    previous = expected + shift;
                    previous_offset = i64::from(*offset);
                }
                None => {
                    all_found = false;
                    break;
                }
            }
        }
        if all_found {
            phrase_frequency += 1;
        }
    }
    if phrase_frequency == 0 {
        return None;
    }
    let idf_sum: f32 =
        positions.iter().map(|(_, terms)| terms.iter().map(|term| index.idf(field, term)).fold(0.0, f32::max)).sum();
    Some(index.bm25(field, user, idf_sum, phrase_frequency as f32, boost))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(text: &str) -> Vec<char> {
        text.chars().collect()
    }

    #[test]
    fn wildcard_table() {
        let table = [
            ("mr-prefix*", "mr-prefix1", true),
            ("*prefix*", "mr-prefix1", true),
            ("m?-*", "mr-x", true),
            ("m?-*", "m-x", false),
            ("a\\*", "a*", true),
            ("a\\*", "ab", false),
            ("*", "", true),
            ("abc", "abcd", false),
        ];
        for (pattern, text, expected) in table {
            assert_eq!(wildcard_matches(&chars(pattern), &chars(text)), expected, "{pattern} ~ {text}");
        }
    }

    #[test]
    fn edit_distance_table() {
        assert_eq!(edit_distance(&chars("kurious"), &chars("curious"), true), 1);
        assert_eq!(edit_distance(&chars("ab"), &chars("ba"), true), 1);
        assert_eq!(edit_distance(&chars("ab"), &chars("ba"), false), 2);
        assert_eq!(edit_distance(&chars(""), &chars("abc"), true), 3);
    }

    #[test]
    fn range_matcher() {
        let matcher = TermMatcher::Range {
            lower: Some("b".into()),
            upper: Some("d".into()),
            include_lower: false,
            include_upper: true,
        };
        assert!(!matcher.matches("b"));
        assert!(matcher.matches("ba"));
        assert!(matcher.matches("d"));
        assert!(!matcher.matches("da"));
    }
}
