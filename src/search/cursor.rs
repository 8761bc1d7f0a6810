//! Per-segment iterators over the documents of one resolved clause, with their scores.
//!
//! A clause with a single term streams its postings (skip lists make `seek` cheap, which the
//! MaxScore loop relies on for dense clauses such as one-letter prefixes). A clause with several
//! terms (fuzzy expansions, long prefixes, hint lists) is merged once into a sorted list.

use std::sync::Arc;

use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::{Postings, SegmentPostings, TermInfo};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, DocSet, SegmentReader, TERMINATED};

use crate::search::expand::{Bm25Statistics, ResolvedClause, Scoring, TermSource, BM25_B, BM25_K1};
use crate::search::SearchError;

/// Scores are multiples of this step (2^-14), rounded down.
const SCORE_STEP: f32 = 1.0 / 16_384.0;

/// Rounds a clause's score down to a multiple of [`SCORE_STEP`], so that a document's total (a sum
/// of clause scores, exact on this grid below 1,024) does not depend on the order in which the
/// clauses were added. Without it, two documents with the same clause scores could total one ulp
/// apart depending on which clauses were essential when each was scored, and the top `k` would then
/// not be the first `k` of the exhaustive ranking. Rounding down keeps every maximum score an upper
/// bound. Scores are never negative, so truncating the conversion rounds down (one instruction,
/// where `f32::floor` is a libm call without SSE4.1).
#[inline]
pub(crate) fn on_score_grid(score: f32) -> f32 {
    debug_assert!(score >= 0.0, "negative score {score}");
    ((score * (1.0 / SCORE_STEP)) as u32) as f32 * SCORE_STEP
}

/// BM25 scoring of term frequencies for one segment, with the length part precomputed per
/// fieldnorm id (as tantivy's own scorer does).
#[derive(Clone)]
pub(crate) struct Bm25Scorer {
    weight: f32,
    length_norms: Box<[f32; 256]>,
    fieldnorms: FieldNormReader,
}

impl Bm25Scorer {
    fn new(statistics: Bm25Statistics, fieldnorms: FieldNormReader) -> Bm25Scorer {
        let mut length_norms = Box::new([0f32; 256]);
        for (fieldnorm_id, norm) in length_norms.iter_mut().enumerate() {
            let length = FieldNormReader::id_to_fieldnorm(fieldnorm_id as u8) as f32;
            *norm = BM25_K1 * (1.0 - BM25_B + BM25_B * length / statistics.average_fieldnorm);
        }
        Bm25Scorer { weight: statistics.idf, length_norms, fieldnorms }
    }

    /// Returns `boost` times the BM25 score of `term_frequency` in `doc`, on the score grid.
    fn score(&self, doc: DocId, term_frequency: f32, boost: f32) -> f32 {
        let length_norm = self.length_norms[usize::from(self.fieldnorms.fieldnorm_id(doc))];
        on_score_grid(boost * (self.weight * term_frequency / (term_frequency + length_norm)))
    }
}

/// How a cursor scores its current document.
#[derive(Clone)]
pub(crate) enum ClauseScorer {
    Constant(f32),
    /// Best `boost * BM25(tf)` over the matching terms.
    BestTerm(Bm25Scorer),
    /// BM25 of the summed frequencies of the matching terms.
    SummedTerms(Bm25Scorer),
}

/// One term's postings inside a [`ClauseCursor::Union`].
#[derive(Clone)]
pub(crate) struct UnionMember {
    postings: SegmentPostings,
    boost: f32,
}

/// Documents of one clause in one segment, in increasing doc id order.
#[derive(Clone)]
pub(crate) enum ClauseCursor {
    /// The postings of a single term.
    Postings {
        postings: Box<SegmentPostings>,
        boost: f32,
        scorer: ClauseScorer,
    },
    /// A few terms' postings advanced together.
    Union {
        members: Vec<UnionMember>,
        /// The smallest current document of the streamed members (`members[probed..]`).
        doc: DocId,
        scorer: ClauseScorer,
        /// How the most frequent terms may be probed instead of streamed; see
        /// [`ClauseCursor::allow_probing_frequent_terms`].
        frequent: Option<FrequentTerms>,
    },
    /// Many terms merged once into a sorted list with precomputed scores.
    Merged {
        /// Shared, so that copying the cursor to count the matches copies no list.
        docs: Arc<Vec<DocId>>,
        scores: Arc<Vec<f32>>,
        index: usize,
    },
    AllDocuments {
        doc: DocId,
        max_doc: DocId,
    },
}

/// A synonym clause whose terms each occur at most once per document, so that a document matching
/// only `c` of its terms scores at most `bounds[c]`. While that bound (plus what the clauses that
/// produce no candidates can add) cannot enter the top hits, the `probed` most frequent members
/// produce no candidates of their own: they are only probed for the documents that the other
/// members and the other candidate-producing clauses matched in the window. An e-mail address
/// query thus streams the postings of the address and its local part, not those of its domain.
#[derive(Clone)]
pub(crate) struct FrequentTerms {
    /// `bounds[c]`: the most a document matching at most `c` of the terms can score here.
    bounds: Box<[f32]>,
    /// `members[..probed]` (the most frequent terms) are probed, the others streamed.
    probed: usize,
}

/// Slack added to score bounds computed apart from the scores themselves (float rounding).
const BOUND_SLACK: f32 = 1.0 + 1e-5;

/// Number of consecutive doc ids scored together by [`ClauseCursor::accumulate`].
pub(crate) const WINDOW_SIZE: usize = 4096;

/// One bit per document of a window, with one summary bit per non-zero word, so that sparse
/// windows (a few candidates among 4,096 doc ids) cost per set bit, not per word.
#[derive(Clone)]
pub(crate) struct WindowBits {
    words: Box<[u64; WINDOW_WORDS]>,
    /// Bit `i` is set when `words[i]` may be non-zero.
    summary: u64,
}

const WINDOW_WORDS: usize = WINDOW_SIZE / 64;
const _: () = assert!(WINDOW_WORDS <= 64, "the summary of a window's bits is one u64");

impl WindowBits {
    fn new() -> WindowBits {
        WindowBits { words: Box::new([0; WINDOW_WORDS]), summary: 0 }
    }

    #[inline]
    fn set(&mut self, offset: usize) {
        self.words[offset / 64] |= 1 << (offset % 64);
        self.summary |= 1 << (offset / 64);
    }

    /// Sets the bits of `word` in word `word_index`.
    #[inline]
    fn or_word(&mut self, word_index: usize, word: u64) {
        self.words[word_index] |= word;
        self.summary |= 1 << word_index;
    }

    /// Calls `visit` with the index and the bits of every non-zero word, and clears them.
    #[inline]
    fn drain_words(&mut self, mut visit: impl FnMut(usize, u64)) {
        for word_index in bit_offsets(0, std::mem::take(&mut self.summary)) {
            visit(word_index, std::mem::take(&mut self.words[word_index]));
        }
    }

    fn count(&self) -> u32 {
        self.non_zero_words().map(|(_, word)| word.count_ones()).sum()
    }

    fn non_zero_words(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        bit_offsets(0, self.summary).map(|word_index| (word_index, self.words[word_index]))
    }

    /// Returns the offsets of the set bits, in increasing order.
    fn offsets(&self) -> impl Iterator<Item = usize> + '_ {
        self.non_zero_words().flat_map(|(word_index, word)| bit_offsets(word_index, word))
    }
}

/// Returns the window offsets of the set bits of word `word_index`, in increasing order (with
/// `word_index` 0, the positions of the set bits).
#[inline]
fn bit_offsets(word_index: usize, mut bits: u64) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        if bits == 0 {
            return None;
        }
        let bit = bits.trailing_zeros() as usize;
        bits &= bits - 1;
        Some(word_index * 64 + bit)
    })
}

/// Scores of the documents of one window of doc ids, accumulated clause by clause.
pub(crate) struct Window {
    pub(crate) base: DocId,
    pub(crate) end: DocId,
    /// Summed clause scores per document of the window; only entries whose bit is set in
    /// `matched` or `unmarked` may be non-zero.
    pub(crate) scores: Vec<f32>,
    /// The documents of the window matched by at least one clause.
    matched: WindowBits,
    /// Per-document scratch values of the multi-term clause being accumulated (zero in between).
    clause_values: Vec<f32>,
    /// The documents matched by the clause being accumulated (empty in between).
    clause_matched: WindowBits,
    /// The documents whose scores boost-only clauses wrote (not candidates).
    unmarked: WindowBits,
}

impl Window {
    pub(crate) fn new() -> Window {
        Window {
            base: 0,
            end: 0,
            scores: vec![0.0; WINDOW_SIZE],
            matched: WindowBits::new(),
            clause_values: vec![0.0; WINDOW_SIZE],
            clause_matched: WindowBits::new(),
            unmarked: WindowBits::new(),
        }
    }

    /// Starts a new, empty window at `base`.
    pub(crate) fn reset(&mut self, base: DocId) {
        self.base = base;
        self.end = base.saturating_add(WINDOW_SIZE as DocId);
        let scores = &mut self.scores;
        for bits in [&mut self.matched, &mut self.unmarked] {
            bits.drain_words(|word_index, word| {
                if word & (word - 1) == 0 {
                    scores[word_index * 64 + word.trailing_zeros() as usize] = 0.0;
                } else {
                    scores[word_index * 64..(word_index + 1) * 64].fill(0.0);
                }
            });
        }
    }

    #[inline]
    fn mark(&mut self, offset: usize) {
        self.matched.set(offset);
    }

    /// Returns the number of matched documents.
    pub(crate) fn matched_count(&self) -> u32 {
        self.matched.count()
    }

    /// Returns the offsets of the matched documents, in increasing order.
    pub(crate) fn matched_offsets(&self) -> impl Iterator<Item = usize> + '_ {
        self.matched.offsets()
    }
}

/// Calls `visit(doc, postings)` for each document of `postings` before `end`, leaving `postings` on
/// the first document at or after `end`.
#[inline]
fn for_each_before(postings: &mut SegmentPostings, end: DocId, mut visit: impl FnMut(DocId, &SegmentPostings)) {
    let mut doc = postings.doc();
    while doc < end {
        visit(doc, postings);
        doc = postings.advance();
    }
}

/// Adds to the clause's scratch values the frequencies of `members` (probed, not streamed) for
/// every document of the window that a streamed member or an earlier clause matched.
fn probe_members(members: &mut [UnionMember], window: &mut Window) {
    let Window { base, matched, clause_values, clause_matched, .. } = window;
    let candidates = matched.summary | clause_matched.summary;
    for word_index in bit_offsets(0, candidates) {
        let word = matched.words[word_index] | clause_matched.words[word_index];
        for offset in bit_offsets(word_index, word) {
            let candidate = *base + offset as DocId;
            for member in members.iter_mut() {
                let mut doc = member.postings.doc();
                if doc < candidate {
                    doc = member.postings.seek(candidate);
                }
                if doc == candidate {
                    clause_values[offset] += member.postings.term_freq() as f32;
                    clause_matched.set(offset);
                }
            }
        }
    }
}

/// Clauses with at most this many terms in a segment are streamed; larger ones are merged.
const MAX_STREAMED_TERMS: usize = 16;

fn smallest_member_doc(members: &[UnionMember]) -> DocId {
    members.iter().map(|member| member.postings.doc()).min().unwrap_or(TERMINATED)
}

impl ClauseCursor {
    /// Returns the current document, or `TERMINATED`.
    pub(crate) fn doc(&self) -> DocId {
        match self {
            ClauseCursor::Postings { postings, .. } => postings.doc(),
            ClauseCursor::Union { doc, .. } => *doc,
            ClauseCursor::Merged { docs, index, .. } => docs.get(*index).copied().unwrap_or(TERMINATED),
            ClauseCursor::AllDocuments { doc, .. } => *doc,
        }
    }

    /// Moves to the next document and returns it.
    pub(crate) fn advance(&mut self) -> DocId {
        match self {
            ClauseCursor::Postings { postings, .. } => postings.advance(),
            ClauseCursor::Union { members, doc, frequent, .. } => {
                debug_assert!(frequent.as_ref().is_none_or(|frequent| frequent.probed == 0));
                for member in members.iter_mut() {
                    if member.postings.doc() == *doc {
                        member.postings.advance();
                    }
                }
                *doc = smallest_member_doc(members);
                *doc
            }
            ClauseCursor::Merged { index, .. } => {
                *index += 1;
                self.doc()
            }
            ClauseCursor::AllDocuments { doc, max_doc } => {
                *doc = if *doc + 1 >= *max_doc { TERMINATED } else { *doc + 1 };
                *doc
            }
        }
    }

    /// Moves to the first document at or after `target` and returns it.
    pub(crate) fn seek(&mut self, target: DocId) -> DocId {
        if self.doc() >= target {
            return self.doc();
        }
        match self {
            ClauseCursor::Postings { postings, .. } => postings.seek(target),
            ClauseCursor::Union { members, doc, frequent, .. } => {
                debug_assert!(frequent.as_ref().is_none_or(|frequent| frequent.probed == 0));
                for member in members.iter_mut() {
                    if member.postings.doc() < target {
                        member.postings.seek(target);
                    }
                }
                *doc = smallest_member_doc(members);
                *doc
            }
            ClauseCursor::Merged { docs, index, .. } => {
                *index += docs[*index..].partition_point(|doc| *doc < target);
                self.doc()
            }
            ClauseCursor::AllDocuments { doc, max_doc } => {
                *doc = if target >= *max_doc { TERMINATED } else { target };
                *doc
            }
        }
    }

    /// Returns the score of the current document.
    pub(crate) fn score(&self) -> f32 {
        match self {
            ClauseCursor::Postings { postings, boost, scorer } => match scorer {
                ClauseScorer::Constant(score) => *score,
                ClauseScorer::BestTerm(bm25) | ClauseScorer::SummedTerms(bm25) => {
                    bm25.score(postings.doc(), postings.term_freq() as f32, *boost)
                }
            },
            ClauseCursor::Union { members, doc, scorer, .. } => {
                let current = members.iter().filter(|member| member.postings.doc() == *doc);
                match scorer {
                    ClauseScorer::Constant(score) => *score,
                    ClauseScorer::BestTerm(bm25) => current
                        .map(|member| bm25.score(*doc, member.postings.term_freq() as f32, member.boost))
                        .fold(0.0, f32::max),
                    ClauseScorer::SummedTerms(bm25) => {
                        bm25.score(*doc, current.map(|member| member.postings.term_freq() as f32).sum(), 1.0)
                    }
                }
            }
            ClauseCursor::Merged { scores, index, .. } => scores[*index],
            ClauseCursor::AllDocuments { .. } => 0.0,
        }
    }

    /// Adds the scores of every document in `[window.base, window.end)` to the window and marks
    /// them as matched, leaving the cursor on the first document at or after `window.end`.
    pub(crate) fn accumulate(&mut self, window: &mut Window) {
        let (base, end) = (window.base, window.end);
        match self {
            ClauseCursor::Postings { postings, boost, scorer } => {
                for_each_before(postings, end, |doc, postings| {
                    let offset = (doc - base) as usize;
                    window.scores[offset] += match scorer {
                        ClauseScorer::Constant(score) => *score,
                        ClauseScorer::BestTerm(bm25) | ClauseScorer::SummedTerms(bm25) => {
                            bm25.score(doc, postings.term_freq() as f32, *boost)
                        }
                    };
                    window.mark(offset);
                });
            }
            ClauseCursor::Union { members, doc, scorer, frequent } => {
                let probed = frequent.as_ref().map_or(0, |frequent| frequent.probed);
                // Each member ORs its documents into the clause's bit set (and folds its value
                // into the clause's scratch values); the clause's total per document is then added
                // once. No branch depends on whether a document was already seen.
                match scorer {
                    ClauseScorer::Constant(_) => {
                        for member in members.iter_mut() {
                            for_each_before(&mut member.postings, end, |doc, _| {
                                window.clause_matched.set((doc - base) as usize);
                            });
                        }
                    }
                    ClauseScorer::BestTerm(bm25) => {
                        for UnionMember { postings, boost } in members.iter_mut() {
                            for_each_before(postings, end, |doc, postings| {
                                let offset = (doc - base) as usize;
                                let value = bm25.score(doc, postings.term_freq() as f32, *boost);
                                let slot = &mut window.clause_values[offset];
                                *slot = slot.max(value);
                                window.clause_matched.set(offset);
                            });
                        }
                    }
                    ClauseScorer::SummedTerms(_) => {
                        let (probed_members, streamed_members) = members.split_at_mut(probed);
                        for member in streamed_members {
                            for_each_before(&mut member.postings, end, |doc, postings| {
                                let offset = (doc - base) as usize;
                                window.clause_values[offset] += postings.term_freq() as f32;
                                window.clause_matched.set(offset);
                            });
                        }
                        if !probed_members.is_empty() {
                            probe_members(probed_members, window);
                        }
                    }
                }
                let Window { scores, matched, clause_values, clause_matched, .. } = window;
                clause_matched.drain_words(|word_index, word| {
                    matched.or_word(word_index, word);
                    for offset in bit_offsets(word_index, word) {
                        scores[offset] += match scorer {
                            ClauseScorer::Constant(score) => *score,
                            ClauseScorer::BestTerm(_) => std::mem::take(&mut clause_values[offset]),
                            ClauseScorer::SummedTerms(bm25) => {
                                bm25.score(base + offset as DocId, std::mem::take(&mut clause_values[offset]), 1.0)
                            }
                        };
                    }
                });
                *doc = smallest_member_doc(&members[probed..]);
            }
            ClauseCursor::Merged { docs, scores, index } => {
                while let Some(&doc) = docs.get(*index) {
                    if doc >= end {
                        break;
                    }
                    let offset = (doc - base) as usize;
                    window.scores[offset] += scores[*index];
                    window.mark(offset);
                    *index += 1;
                }
            }
            ClauseCursor::AllDocuments { doc, max_doc } => {
                let last = end.min(*max_doc);
                for current in *doc..last {
                    window.mark((current - base) as usize);
                }
                *doc = if last >= *max_doc { TERMINATED } else { last };
            }
        }
    }

    /// Marks every document of this cursor in `[window.base, window.end)` as matched, without
    /// scores, leaving the cursor on the first document at or after `window.end`.
    pub(crate) fn mark_matches(&mut self, window: &mut Window) {
        let (base, end) = (window.base, window.end);
        let mut mark_postings = |postings: &mut SegmentPostings| {
            for_each_before(postings, end, |doc, _| window.matched.set((doc - base) as usize));
        };
        match self {
            ClauseCursor::Postings { postings, .. } => mark_postings(postings),
            ClauseCursor::Union { members, doc, .. } => {
                for member in members.iter_mut() {
                    mark_postings(&mut member.postings);
                }
                *doc = smallest_member_doc(members);
            }
            ClauseCursor::Merged { .. } | ClauseCursor::AllDocuments { .. } => {
                // Scores are not read back: the window's scores are cleared before every use.
                self.accumulate(window);
            }
        }
    }

    /// Adds the scores of every document in the window without marking any: for boost-only
    /// clauses, whose scores only count for documents that other clauses match.
    pub(crate) fn accumulate_boosts(&mut self, window: &mut Window) {
        std::mem::swap(&mut window.matched, &mut window.unmarked);
        self.accumulate(window);
        std::mem::swap(&mut window.matched, &mut window.unmarked);
    }

    /// Lets this cursor probe its most frequent terms instead of streaming them (see
    /// [`FrequentTerms`]) and returns the most a document can score from it, when it is a synonym
    /// clause over several terms. Only for a field where every term occurs at most once per
    /// document, whose shortest non-empty value in this segment has `min_fieldnorm_id`.
    pub(crate) fn allow_probing_frequent_terms(&mut self, min_fieldnorm_id: u8) -> Option<f32> {
        let ClauseCursor::Union { members, scorer: ClauseScorer::SummedTerms(bm25), frequent, .. } = self else {
            return None;
        };
        let min_length_norm = bm25.length_norms[usize::from(min_fieldnorm_id)];
        let bounds: Box<[f32]> = (0..=members.len())
            .map(|count| {
                let count = count as f32;
                bm25.weight * count / (count + min_length_norm) * BOUND_SLACK
            })
            .collect();
        let max_score = bounds[members.len()];
        *frequent = Some(FrequentTerms { bounds, probed: 0 });
        Some(max_score)
    }

    /// Returns the bounds of [`FrequentTerms`] when this cursor may probe its most frequent terms.
    pub(crate) fn frequent_term_bounds(&self) -> Option<&[f32]> {
        match self {
            ClauseCursor::Union { frequent: Some(frequent), .. } => Some(&frequent.bounds),
            _ => None,
        }
    }

    /// Sets how many of the most frequent terms are probed instead of streamed. Terms streamed again
    /// move to `resume_from`, the first document not processed yet; 0 makes the cursor whole again
    /// (for `seek` and `score`).
    pub(crate) fn set_probed_terms(&mut self, probed: usize, resume_from: DocId) {
        let ClauseCursor::Union { members, doc, frequent: Some(frequent), .. } = self else {
            return;
        };
        let probed = probed.min(members.len());
        for member in &mut members[probed..frequent.probed.max(probed)] {
            if member.postings.doc() < resume_from {
                member.postings.seek(resume_from);
            }
        }
        frequent.probed = probed;
        *doc = smallest_member_doc(&members[probed..]);
    }

    /// Returns a number of documents this cursor certainly matches (deleted ones included).
    pub(crate) fn exact_len_lower_bound(&self) -> u64 {
        match self {
            ClauseCursor::Postings { postings, .. } => u64::from(postings.doc_freq()),
            ClauseCursor::Union { members, .. } => {
                members.iter().map(|member| u64::from(member.postings.doc_freq())).max().unwrap_or(0)
            }
            ClauseCursor::Merged { docs, .. } => docs.len() as u64,
            ClauseCursor::AllDocuments { max_doc, .. } => u64::from(*max_doc),
        }
    }

    /// Returns an estimate of the number of documents left, used to order clauses.
    pub(crate) fn cost(&self) -> u64 {
        match self {
            ClauseCursor::Postings { postings, .. } => u64::from(postings.size_hint()),
            ClauseCursor::Union { members, .. } => {
                members.iter().map(|member| u64::from(member.postings.size_hint())).sum()
            }
            ClauseCursor::Merged { docs, .. } => docs.len() as u64,
            ClauseCursor::AllDocuments { max_doc, .. } => u64::from(*max_doc),
        }
    }
}

/// Opens `clause` on one segment; `None` when no document of the segment can match it.
pub(crate) fn open_cursor(
    clause: &ResolvedClause,
    segment_reader: &SegmentReader,
) -> Result<Option<ClauseCursor>, SearchError> {
    let max_doc = segment_reader.max_doc();
    if max_doc == 0 {
        return Ok(None);
    }
    let inverted_index = segment_reader.inverted_index(clause.field)?;
    let mut term_infos: Vec<(TermInfo, f32)> = Vec::new();
    match &clause.source {
        TermSource::AllDocuments => return Ok(Some(ClauseCursor::AllDocuments { doc: 0, max_doc })),
        TermSource::Terms(terms) => {
            for term in terms {
                if let Some(term_info) = inverted_index.terms().get(&term.bytes)? {
                    term_infos.push((term_info, term.boost));
                }
            }
        }
        TermSource::Prefix(prefix) => {
            let mut stream = inverted_index.terms().range().ge(prefix).into_stream()?;
            while stream.advance() {
                if !stream.key().starts_with(prefix) {
                    break;
                }
                term_infos.push((stream.value().clone(), 1.0));
            }
        }
    }
    if term_infos.is_empty() {
        return Ok(None);
    }
    let record_option = match clause.scoring {
        Scoring::Constant(_) => IndexRecordOption::Basic,
        Scoring::BestTerm(_) | Scoring::SummedTerms(_) => IndexRecordOption::WithFreqs,
    };
    let scorer = match clause.scoring {
        Scoring::Constant(score) => ClauseScorer::Constant(on_score_grid(score)),
        Scoring::BestTerm(statistics) => {
            ClauseScorer::BestTerm(Bm25Scorer::new(statistics, segment_reader.get_fieldnorms_reader(clause.field)?))
        }
        Scoring::SummedTerms(statistics) => {
            ClauseScorer::SummedTerms(Bm25Scorer::new(statistics, segment_reader.get_fieldnorms_reader(clause.field)?))
        }
    };
    if let [(term_info, boost)] = term_infos.as_slice() {
        let postings = inverted_index.read_postings_from_terminfo(term_info, record_option)?;
        return Ok(Some(ClauseCursor::Postings { postings: Box::new(postings), boost: *boost, scorer }));
    }
    if term_infos.len() <= MAX_STREAMED_TERMS {
        let mut members = Vec::with_capacity(term_infos.len());
        for (term_info, boost) in &term_infos {
            let postings = inverted_index.read_postings_from_terminfo(term_info, record_option)?;
            members.push(UnionMember { postings, boost: *boost });
        }
        if let ClauseScorer::SummedTerms(_) = scorer {
            // Most frequent first: those are the ones worth probing instead of streaming.
            members.sort_by_key(|member| std::cmp::Reverse(member.postings.doc_freq()));
        }
        let doc = smallest_member_doc(&members);
        return Ok(Some(ClauseCursor::Union { members, doc, scorer, frequent: None }));
    }
    let mut matches: Vec<TermMatch> = Vec::new();
    for (term_info, boost) in &term_infos {
        let mut postings = inverted_index.read_postings_from_terminfo(term_info, record_option)?;
        let mut doc = postings.doc();
        while doc != TERMINATED {
            let term_frequency = match clause.scoring {
                Scoring::Constant(_) => 1.0,
                Scoring::BestTerm(_) | Scoring::SummedTerms(_) => postings.term_freq() as f32,
            };
            matches.push(TermMatch { doc, term_frequency, boost: *boost });
            doc = postings.advance();
        }
    }
    matches.sort_unstable_by_key(|term_match| term_match.doc);
    let mut docs: Vec<DocId> = Vec::with_capacity(matches.len());
    let mut scores: Vec<f32> = Vec::with_capacity(matches.len());
    merge_by_doc(&matches, &mut docs, &mut scores, |doc, group| match &scorer {
        ClauseScorer::Constant(score) => *score,
        ClauseScorer::BestTerm(bm25) => group
            .iter()
            .map(|term_match| bm25.score(doc, term_match.term_frequency, term_match.boost))
            .fold(0.0, f32::max),
        ClauseScorer::SummedTerms(bm25) => {
            bm25.score(doc, group.iter().map(|term_match| term_match.term_frequency).sum(), 1.0)
        }
    });
    Ok(Some(ClauseCursor::Merged { docs: Arc::new(docs), scores: Arc::new(scores), index: 0 }))
}

/// One posting of one term of a multi-term clause.
#[derive(Debug, Clone, Copy)]
struct TermMatch {
    doc: DocId,
    term_frequency: f32,
    boost: f32,
}

/// Groups matches sorted by doc and scores each group with `score_group`.
fn merge_by_doc(
    matches: &[TermMatch],
    docs: &mut Vec<DocId>,
    scores: &mut Vec<f32>,
    score_group: impl Fn(DocId, &[TermMatch]) -> f32,
) {
    let mut start = 0;
    while start < matches.len() {
        let doc = matches[start].doc;
        let mut end = start;
        while end < matches.len() && matches[end].doc == doc {
            end += 1;
        }
        docs.push(doc);
        scores.push(score_group(doc, &matches[start..end]));
        start = end;
    }
}
