//! Top-k collection over one segment with MaxScore pruning.
//!
//! Segments are sorted by `last_synchronized` descending, which is also the tie-break of the
//! suggest sort. So once the best `k` hits are known, a later document of the segment only enters
//! with a strictly higher score, and clauses whose summed maximum scores cannot reach that score
//! stop producing candidates: they are only probed (`seek`) for the candidates of the other
//! clauses. A one-letter prefix over a million profiles thus reads a small part of its postings.
//!
//! Totals are counted apart ([`count_matches`]), exactly up to
//! [`crate::search::TRACK_TOTAL_HITS_UP_TO`] as Elasticsearch's default `track_total_hits` does.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::Arc;

use tantivy::columnar::ColumnValues;
use tantivy::fastfield::AliveBitSet;
use tantivy::schema::Field;
use tantivy::{DocId, TERMINATED};

use crate::search::cursor::{ClauseCursor, Window, WINDOW_SIZE};

/// One candidate hit: its score, its sort value and where it is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hit {
    pub(crate) score: f32,
    pub(crate) last_synchronized: i64,
    pub(crate) segment_ord: u32,
    pub(crate) doc: DocId,
}

impl Hit {
    /// Orders hits best first: score desc, `last_synchronized` desc, then index order.
    fn best_first(&self, other: &Hit) -> Ordering {
        other
            .score
            .total_cmp(&self.score)
            .then_with(|| other.last_synchronized.cmp(&self.last_synchronized))
            .then_with(|| (self.segment_ord, self.doc).cmp(&(other.segment_ord, other.doc)))
    }
}

/// Heap entry whose maximum is the worst kept hit.
struct WorstOnTop(Hit);

impl PartialEq for WorstOnTop {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for WorstOnTop {}
impl PartialOrd for WorstOnTop {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for WorstOnTop {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.best_first(&other.0)
    }
}

/// The best `capacity` hits seen so far.
pub(crate) struct TopHits {
    capacity: usize,
    heap: BinaryHeap<WorstOnTop>,
    /// Incremented whenever the worst kept hit of a full heap changes.
    worst_version: u64,
    /// The score a document must reach to enter: minus infinity until the heap is full, then the
    /// worst kept score (infinity for a capacity of zero). Scores are finite and never negative.
    threshold: f32,
}

impl TopHits {
    pub(crate) fn new(capacity: usize) -> TopHits {
        TopHits {
            capacity,
            heap: BinaryHeap::with_capacity(capacity.min(10_000) + 1),
            worst_version: 0,
            threshold: if capacity == 0 { f32::INFINITY } else { f32::NEG_INFINITY },
        }
    }

    fn worst_changed(&mut self) {
        self.worst_version += 1;
        self.threshold = self.heap.peek().map_or(f32::INFINITY, |worst| worst.0.score);
    }

    fn is_full(&self) -> bool {
        self.heap.len() >= self.capacity
    }

    /// Returns the worst kept hit once the heap is full.
    fn worst(&self) -> Option<&Hit> {
        if self.is_full() {
            self.heap.peek().map(|entry| &entry.0)
        } else {
            None
        }
    }

    /// Tells whether a document scoring at most `score_bound` could still enter. `strict` says
    /// that the document sorts after the worst kept hit on equal scores (it is older, or as old and
    /// later in index order).
    #[inline]
    pub(crate) fn could_enter(&self, score_bound: f32, strict: bool) -> bool {
        score_bound > self.threshold || (score_bound == self.threshold && !strict)
    }

    pub(crate) fn offer(&mut self, hit: Hit) {
        if self.capacity == 0 {
            return;
        }
        if !self.is_full() {
            self.heap.push(WorstOnTop(hit));
            if self.is_full() {
                self.worst_changed();
            }
            return;
        }
        let replaced = match self.heap.peek_mut() {
            Some(mut worst) if hit.best_first(&worst.0) == Ordering::Less => {
                *worst = WorstOnTop(hit);
                true
            }
            _ => false,
        };
        if replaced {
            self.worst_changed();
        }
    }

    /// Returns the kept hits, best first.
    pub(crate) fn into_sorted(self) -> Vec<Hit> {
        let mut hits: Vec<Hit> = self.heap.into_iter().map(|entry| entry.0).collect();
        hits.sort_by(Hit::best_first);
        hits
    }
}

/// A clause cursor with its maximum score.
pub(crate) struct ScoredCursor {
    pub(crate) cursor: ClauseCursor,
    pub(crate) max_score: f32,
    /// The field the clause searches.
    pub(crate) field: Field,
}

/// What one segment contributes to a query.
pub(crate) struct SegmentInput<'a> {
    pub(crate) segment_ord: u32,
    /// A document matches when one of these matches.
    pub(crate) match_cursors: Vec<ScoredCursor>,
    /// These only add to the score of matching documents.
    pub(crate) boost_cursors: Vec<ScoredCursor>,
    pub(crate) alive_bitset: Option<&'a AliveBitSet>,
    /// `last_synchronized` per doc, non-increasing with the doc id (sorted segment).
    pub(crate) last_synchronized: Arc<dyn ColumnValues<i64>>,
}

/// Returns the first doc whose `last_synchronized` is at most `value` (the column is sorted
/// descending).
fn first_doc_not_newer_than(last_synchronized: &dyn ColumnValues<i64>, value: i64) -> DocId {
    let (mut low, mut high) = (0, last_synchronized.num_vals());
    while low < high {
        let middle = low + (high - low) / 2;
        if last_synchronized.get_val(middle) > value {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    low
}

/// Collects the best matches of one segment into `top_hits`.
///
/// Documents are processed in windows of [`crate::search::cursor::WINDOW_SIZE`] doc ids: the essential clauses add their
/// scores into the window clause by clause (cheap per posting), then each matched document is
/// completed by probing the non-essential clauses and the boosts, unless its bound cannot beat the
/// current top hits. A boost with fewer postings in the window than the window has candidates is
/// added to the window's scores in one pass instead of being probed per candidate.
pub(crate) fn collect_segment(input: SegmentInput<'_>, top_hits: &mut TopHits, window: &mut Window) {
    let SegmentInput { segment_ord, mut match_cursors, mut boost_cursors, alive_bitset, last_synchronized } = input;
    // Cheapest-to-skip first: low maximum score, then high cost (dense clauses become probes first).
    match_cursors.sort_by(|left, right| {
        left.max_score.total_cmp(&right.max_score).then_with(|| right.cursor.cost().cmp(&left.cursor.cost()))
    });
    boost_cursors.sort_by_key(|scored| scored.cursor.cost());
    let boost_total: f32 = boost_cursors.iter().map(|scored| scored.max_score).sum();
    // A boost is added to a window's scores in one pass when the window has more candidates than
    // the boost has postings there (on average); otherwise it is probed per candidate.
    let documents = last_synchronized.num_vals().max(1) as f32;
    let window_share = (WINDOW_SIZE as f32 / documents).min(1.0);
    let boost_postings_per_window: Vec<f32> =
        boost_cursors.iter().map(|scored| scored.cursor.cost() as f32 * window_share).collect();
    let mut boost_in_window = vec![false; boost_cursors.len()];
    // bounds[i]: the most a document can get from the boosts and the match clauses 0..=i.
    let mut bounds = Vec::with_capacity(match_cursors.len());
    let mut running_bound = boost_total;
    for scored in &match_cursors {
        running_bound += scored.max_score;
        bounds.push(running_bound);
    }
    let mut first_essential = 0;
    let mut seen_worst_version = u64::MAX;
    let mut strict_from: DocId = TERMINATED;
    let refresh_strictness = |top_hits: &TopHits, seen_worst_version: &mut u64, strict_from: &mut DocId| {
        if *seen_worst_version != top_hits.worst_version {
            *seen_worst_version = top_hits.worst_version;
            *strict_from = top_hits
                .worst()
                .map_or(TERMINATED, |worst| first_doc_not_newer_than(&*last_synchronized, worst.last_synchronized));
        }
    };
    // The one clause that may probe its most frequent terms instead of streaming them (the costliest).
    let probing = (0..match_cursors.len())
        .filter(|index| match_cursors[*index].cursor.frequent_term_bounds().is_some())
        .max_by_key(|index| match_cursors[*index].cursor.cost());
    // Every document before this one has been processed.
    let mut resume_from: DocId = 0;
    loop {
        // Settles which clauses produce candidates and where the next window starts: each pass may
        // make more clauses non-essential, which changes both.
        let window_start = loop {
            if let Some(probing) = probing.filter(|probing| *probing >= first_essential) {
                // A document matching only `probed` of its terms and the non-essential clauses cannot enter.
                let others = if first_essential == 0 { boost_total } else { bounds[first_essential - 1] };
                let frequent_bounds = match_cursors[probing].cursor.frequent_term_bounds().unwrap_or(&[]);
                let probed =
                    frequent_bounds.iter().rposition(|bound| !top_hits.could_enter(others + bound, false)).unwrap_or(0);
                match_cursors[probing].cursor.set_probed_terms(probed, resume_from);
            }
            let window_start =
                match_cursors[first_essential..].iter().map(|scored| scored.cursor.doc()).min().unwrap_or(TERMINATED);
            if window_start == TERMINATED {
                return;
            }
            refresh_strictness(top_hits, &mut seen_worst_version, &mut strict_from);
            let essential_before = first_essential;
            while first_essential < match_cursors.len()
                && !top_hits.could_enter(bounds[first_essential], window_start >= strict_from)
            {
                if probing == Some(first_essential) {
                    match_cursors[first_essential].cursor.set_probed_terms(0, resume_from);
                }
                first_essential += 1;
            }
            if first_essential == match_cursors.len() {
                return;
            }
            if first_essential == essential_before {
                break window_start;
            }
        };
        window.reset(window_start);
        // A probing clause goes last: it probes for the documents every other clause matched.
        for (index, scored) in match_cursors.iter_mut().enumerate().skip(first_essential) {
            if probing != Some(index) {
                scored.cursor.accumulate(window);
            }
        }
        if let Some(probing) = probing.filter(|probing| *probing >= first_essential) {
            match_cursors[probing].cursor.accumulate(window);
        }
        let candidates = if boost_cursors.is_empty() { 0.0 } else { window.matched_count() as f32 };
        for ((scored, in_window), postings) in
            boost_cursors.iter_mut().zip(&mut boost_in_window).zip(&boost_postings_per_window)
        {
            *in_window = candidates > *postings;
            if *in_window && scored.cursor.seek(window.base) < window.end {
                scored.cursor.accumulate_boosts(window);
            }
        }
        for offset in window.matched_offsets() {
            let candidate = window.base + offset as DocId;
            if alive_bitset.is_some_and(|alive| !alive.is_alive(candidate)) {
                continue;
            }
            refresh_strictness(top_hits, &mut seen_worst_version, &mut strict_from);
            let strict = candidate >= strict_from;
            // Boosts first, sparsest first: their exact value tightens the bound for the probes.
            let mut score = window.scores[offset];
            for (scored, _) in boost_cursors.iter_mut().zip(&boost_in_window).filter(|(_, in_window)| !**in_window) {
                if scored.cursor.seek(candidate) == candidate {
                    score += scored.cursor.score();
                }
            }
            let mut pruned = false;
            for index in (0..first_essential).rev() {
                if !top_hits.could_enter(score + bounds[index] - boost_total, strict) {
                    pruned = true;
                    break;
                }
                let scored = &mut match_cursors[index];
                if scored.cursor.seek(candidate) == candidate {
                    score += scored.cursor.score();
                }
            }
            if pruned || !top_hits.could_enter(score, strict) {
                continue;
            }
            let candidate_last_synchronized = last_synchronized.get_val(candidate);
            top_hits.offer(Hit { score, last_synchronized: candidate_last_synchronized, segment_ord, doc: candidate });
        }
        resume_from = window.end;
    }
}

/// Counts the alive documents matched by any of `cursors`, a window of doc ids at a time; once
/// `limit` is reached it stops and returns a count of at least `limit`.
pub(crate) fn count_matches(
    mut cursors: Vec<ClauseCursor>,
    alive_bitset: Option<&AliveBitSet>,
    limit: u64,
    window: &mut Window,
) -> u64 {
    let mut count = 0;
    while count < limit {
        let window_start = cursors.iter().map(ClauseCursor::doc).min().unwrap_or(TERMINATED);
        if window_start == TERMINATED {
            break;
        }
        window.reset(window_start);
        for cursor in &mut cursors {
            cursor.mark_matches(window);
        }
        count += match alive_bitset {
            None => u64::from(window.matched_count()),
            Some(alive) => {
                window.matched_offsets().filter(|offset| alive.is_alive(window.base + *offset as DocId)).count() as u64
            }
        };
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(score: f32, last_synchronized: i64, doc: DocId) -> Hit {
        Hit { score, last_synchronized, segment_ord: 0, doc }
    }

    #[test]
    fn top_hits_keep_best_by_score_then_recency() {
        let mut top_hits = TopHits::new(2);
        top_hits.offer(hit(1.0, 5, 0));
        top_hits.offer(hit(2.0, 1, 1));
        top_hits.offer(hit(1.0, 9, 2));
        top_hits.offer(hit(0.5, 99, 3));
        let docs: Vec<DocId> = top_hits.into_sorted().iter().map(|kept| kept.doc).collect();
        assert_eq!(docs, vec![1, 2]);
    }

    #[test]
    fn could_enter_needs_a_better_score_or_a_non_strict_tie() {
        let mut top_hits = TopHits::new(1);
        assert!(top_hits.could_enter(0.0, true));
        top_hits.offer(hit(1.0, 10, 0));
        assert!(top_hits.could_enter(1.5, true));
        assert!(top_hits.could_enter(1.0, false));
        assert!(!top_hits.could_enter(1.0, true));
        assert!(!top_hits.could_enter(0.5, false));
    }

    #[test]
    fn zero_capacity_keeps_nothing() {
        let mut top_hits = TopHits::new(0);
        assert!(!top_hits.could_enter(100.0, false));
        top_hits.offer(hit(1.0, 1, 0));
        assert!(top_hits.into_sorted().is_empty());
    }

    #[test]
    fn first_doc_not_newer_than_searches_a_descending_column() {
        let column: Arc<dyn ColumnValues<i64>> =
            Arc::new(tantivy::columnar::column_values::VecColumn::from(vec![9i64, 7, 7, 5, 1]));
        assert_eq!(first_doc_not_newer_than(&*column, 7), 1);
        assert_eq!(first_doc_not_newer_than(&*column, 6), 3);
        assert_eq!(first_doc_not_newer_than(&*column, 10), 0);
        assert_eq!(first_doc_not_newer_than(&*column, 0), 5);
    }
}
