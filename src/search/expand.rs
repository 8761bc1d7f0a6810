//! Resolves planned clauses against one searcher: fuzzy expansions and BM25 statistics.
//!
//! Scores follow Lucene's BM25 (`k1 = 1.2`, `b = 0.75`, no `(k1 + 1)` factor), so that a whole-term
//! match weighs `idf` (about 1 to 14) against 1.0 for a prefix match, as in Elasticsearch:
//! - fuzzy clauses keep at most [`MAX_FUZZY_EXPANSIONS`] terms, the closest first, all scored with
//!   the idf of the most frequent one (Lucene's blended-frequency rewrite) and weighted by
//!   `1 - edits / min(length)`; unlike Lucene, a document matching several expansions scores the
//!   best one instead of their sum;
//! - synonym clauses (e-mail captures) score the summed frequency with the idf of the most frequent
//!   term (Lucene's `SynonymQuery`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use tantivy::query::{DfaWrapper, FuzzyTermQuery};
use tantivy::schema::Field;
use tantivy::{Searcher, Term};

use crate::search::plan::{Matcher, PlannedClause};
use crate::search::SearchError;

/// Lucene's `FuzzyQuery` default `max_expansions` (also Elasticsearch's default).
pub(crate) const MAX_FUZZY_EXPANSIONS: usize = 50;

/// BM25 term-frequency saturation.
pub(crate) const BM25_K1: f32 = 1.2;
/// BM25 length normalisation.
pub(crate) const BM25_B: f32 = 0.75;

/// One exact term of a clause with its weight.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WeightedTerm {
    pub(crate) bytes: Vec<u8>,
    pub(crate) boost: f32,
}

/// Where the documents of a clause come from, in every segment.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TermSource {
    /// The postings of these exact terms.
    Terms(Vec<WeightedTerm>),
    /// The postings of every term of the field starting with these bytes.
    Prefix(Vec<u8>),
    /// Every document.
    AllDocuments,
}

/// Index-wide BM25 statistics of a clause.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bm25Statistics {
    pub(crate) idf: f32,
    pub(crate) average_fieldnorm: f32,
}

/// How a document matching a clause is scored.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Scoring {
    /// Every matching document scores this.
    Constant(f32),
    /// BM25 of the best matching term (times its boost).
    BestTerm(Bm25Statistics),
    /// BM25 of the summed frequencies of all matching terms.
    SummedTerms(Bm25Statistics),
}

/// A clause ready to be opened on each segment.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ResolvedClause {
    pub(crate) field: Field,
    pub(crate) source: TermSource,
    pub(crate) scoring: Scoring,
}

impl ResolvedClause {
    /// Returns the highest score one document can get from this clause.
    pub(crate) fn max_score(&self) -> f32 {
        match self.scoring {
            Scoring::Constant(score) => score,
            Scoring::BestTerm(statistics) | Scoring::SummedTerms(statistics) => statistics.idf,
        }
    }
}

/// Index-wide numbers shared by every clause of one query.
struct CorpusStatistics<'a> {
    searcher: &'a Searcher,
    document_count: u64,
    /// Levenshtein automata built so far, by text and edits: a query term is usually fuzzy on
    /// several fields.
    automata: RefCell<Vec<(String, u8, Rc<DfaWrapper>)>>,
}

impl CorpusStatistics<'_> {
    fn automaton(&self, field: Field, text: &str, max_edits: u8) -> Result<Rc<DfaWrapper>, SearchError> {
        let mut automata = self.automata.borrow_mut();
        if let Some((_, _, automaton)) =
            automata.iter().find(|(cached, edits, _)| cached == text && *edits == max_edits)
        {
            return Ok(Rc::clone(automaton));
        }
        let automaton = Rc::new(FuzzyTermQuery::new(Term::from_field_text(field, text), max_edits, true).automaton()?);
        automata.push((text.to_string(), max_edits, Rc::clone(&automaton)));
        Ok(automaton)
    }

    fn document_frequency(&self, field: Field, bytes: &[u8]) -> Result<u64, SearchError> {
        let mut frequency = 0u64;
        for segment_reader in self.searcher.segment_readers() {
            let inverted_index = segment_reader.inverted_index(field)?;
            if let Some(term_info) = inverted_index.terms().get(bytes)? {
                frequency += u64::from(term_info.doc_freq);
            }
        }
        Ok(frequency)
    }

    fn bm25(&self, field: Field, max_document_frequency: u64) -> Result<Bm25Statistics, SearchError> {
        let mut total_tokens = 0u64;
        for segment_reader in self.searcher.segment_readers() {
            total_tokens += segment_reader.inverted_index(field)?.total_num_tokens();
        }
        let document_count = self.document_count.max(1) as f32;
        let frequency = max_document_frequency as f32;
        let idf = (1.0 + (document_count - frequency + 0.5) / (frequency + 0.5)).ln();
        Ok(Bm25Statistics { idf, average_fieldnorm: (total_tokens as f32 / document_count).max(1.0) })
    }
}

/// Resolves every clause; clauses whose terms occur nowhere are dropped.
pub(crate) fn resolve_clauses(
    searcher: &Searcher,
    clauses: &[PlannedClause],
) -> Result<Vec<ResolvedClause>, SearchError> {
    let document_count = searcher.segment_readers().iter().map(|reader| u64::from(reader.max_doc())).sum();
    let corpus = CorpusStatistics { searcher, document_count, automata: RefCell::new(Vec::new()) };
    let mut resolved = Vec::with_capacity(clauses.len());
    for clause in clauses {
        if let Some(resolved_clause) = resolve_clause(&corpus, clause)? {
            resolved.push(resolved_clause);
        }
    }
    Ok(resolved)
}

fn exact(text: &str) -> WeightedTerm {
    WeightedTerm { bytes: text.as_bytes().to_vec(), boost: 1.0 }
}

fn resolve_clause(
    corpus: &CorpusStatistics<'_>,
    clause: &PlannedClause,
) -> Result<Option<ResolvedClause>, SearchError> {
    let field = clause.field;
    let resolved = match &clause.matcher {
        Matcher::AllDocuments => {
            ResolvedClause { field, source: TermSource::AllDocuments, scoring: Scoring::Constant(0.0) }
        }
        Matcher::AnyTerm { texts } => ResolvedClause {
            field,
            source: TermSource::Terms(texts.iter().map(|text| exact(text)).collect()),
            scoring: Scoring::Constant(1.0),
        },
        Matcher::Prefix { prefix, edge_ngram_field: Some(edge_ngram_field) } => ResolvedClause {
            field: *edge_ngram_field,
            source: TermSource::Terms(vec![exact(prefix)]),
            scoring: Scoring::Constant(1.0),
        },
        Matcher::Prefix { prefix, edge_ngram_field: None } => ResolvedClause {
            field,
            source: TermSource::Prefix(prefix.as_bytes().to_vec()),
            scoring: Scoring::Constant(1.0),
        },
        Matcher::Synonyms { texts } => {
            let mut present_terms = Vec::new();
            let mut max_frequency = 0;
            for text in texts {
                let frequency = corpus.document_frequency(field, text.as_bytes())?;
                if frequency > 0 {
                    present_terms.push(exact(text));
                    max_frequency = max_frequency.max(frequency);
                }
            }
            if present_terms.is_empty() {
                return Ok(None);
            }
            let statistics = corpus.bm25(field, max_frequency)?;
            ResolvedClause {
                field,
                source: TermSource::Terms(present_terms),
                scoring: Scoring::SummedTerms(statistics),
            }
        }
        Matcher::Fuzzy { text, max_edits } => {
            let expansions = fuzzy_expansions(corpus, field, text, *max_edits)?;
            let Some(max_frequency) = expansions.iter().map(|expansion| expansion.document_frequency).max() else {
                return Ok(None);
            };
            let statistics = corpus.bm25(field, max_frequency)?;
            let terms = expansions.into_iter().map(|expansion| expansion.term).collect();
            ResolvedClause { field, source: TermSource::Terms(terms), scoring: Scoring::BestTerm(statistics) }
        }
    };
    Ok(Some(resolved))
}

/// A term within the allowed edits of a fuzzy query term.
#[derive(Debug, Clone, PartialEq)]
struct FuzzyExpansion {
    term: WeightedTerm,
    edits: u8,
    document_frequency: u64,
}

/// Finds the terms of `field` within `max_edits` of `text` in every segment and keeps the closest
/// [`MAX_FUZZY_EXPANSIONS`] (ties broken by term order, as Lucene's top-terms rewrite does).
fn fuzzy_expansions(
    corpus: &CorpusStatistics<'_>,
    field: Field,
    text: &str,
    max_edits: u8,
) -> Result<Vec<FuzzyExpansion>, SearchError> {
    if max_edits == 0 {
        let document_frequency = corpus.document_frequency(field, text.as_bytes())?;
        if document_frequency == 0 {
            return Ok(Vec::new());
        }
        return Ok(vec![FuzzyExpansion { term: exact(text), edits: 0, document_frequency }]);
    }
    let automaton = corpus.automaton(field, text, max_edits)?;
    let query_characters: Vec<char> = text.chars().collect();
    let mut found: HashMap<Vec<u8>, (u8, u64)> = HashMap::new();
    for segment_reader in corpus.searcher.segment_readers() {
        let inverted_index = segment_reader.inverted_index(field)?;
        let mut stream = inverted_index.terms().search(&*automaton).into_stream()?;
        while stream.advance() {
            let document_frequency = u64::from(stream.value().doc_freq);
            let entry = found.entry(stream.key().to_vec()).or_insert_with_key(|key| {
                let candidate: Vec<char> = String::from_utf8_lossy(key).chars().collect();
                (optimal_string_alignment_distance(&query_characters, &candidate), 0)
            });
            entry.1 += document_frequency;
        }
    }
    let mut expansions: Vec<FuzzyExpansion> = found
        .into_iter()
        .filter(|(_, (edits, _))| *edits <= max_edits)
        .map(|(bytes, (edits, document_frequency))| {
            let candidate_length = String::from_utf8_lossy(&bytes).chars().count();
            let shortest = candidate_length.min(query_characters.len()).max(1) as f32;
            let boost = (1.0 - f32::from(edits) / shortest).max(0.1);
            FuzzyExpansion { term: WeightedTerm { bytes, boost }, edits, document_frequency }
        })
        .collect();
    expansions.sort_by(|left, right| left.edits.cmp(&right.edits).then_with(|| left.term.bytes.cmp(&right.term.bytes)));
    expansions.truncate(MAX_FUZZY_EXPANSIONS);
    Ok(expansions)
}

/// Returns the Damerau (optimal string alignment) distance, the metric of Lucene's fuzzy queries
/// with transpositions.
pub(crate) fn optimal_string_alignment_distance(left: &[char], right: &[char]) -> u8 {
    let width = right.len() + 1;
    let mut table = vec![0usize; (left.len() + 1) * width];
    for (index, cell) in table.iter_mut().enumerate().take(width) {
        *cell = index;
    }
    for row in 0..=left.len() {
        table[row * width] = row;
    }
    for row in 1..=left.len() {
        for column in 1..=right.len() {
            let substitution_cost = usize::from(left[row - 1] != right[column - 1]);
            let mut best = (table[(row - 1) * width + column] + 1)
                .min(table[row * width + column - 1] + 1)
                .min(table[(row - 1) * width + column - 1] + substitution_cost);
            if row > 1 && column > 1 && left[row - 1] == right[column - 2] && left[row - 2] == right[column - 1] {
                best = best.min(table[(row - 2) * width + column - 2] + 1);
            }
            table[row * width + column] = best;
        }
    }
    table[left.len() * width + right.len()].min(usize::from(u8::MAX)) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distance(left: &str, right: &str) -> u8 {
        let left: Vec<char> = left.chars().collect();
        let right: Vec<char> = right.chars().collect();
        optimal_string_alignment_distance(&left, &right)
    }

    #[test]
    fn distance_counts_edits_and_transpositions() {
        assert_eq!(distance("kurious", "curious"), 1);
        assert_eq!(distance("super", "user"), 2);
        assert_eq!(distance("jack", "jakc"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("zoe", "zoë"), 1);
        assert_eq!(distance("same", "same"), 0);
    }
}
