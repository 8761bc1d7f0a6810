//! Deterministic automata: subset construction, complement and intersection, used to compile
//! Lucene's `~` and `&` operators exactly.

use std::collections::HashMap;

use super::{elementary_steps, AutomatonError, Edge, Nfa, MAX_CHAR, MAX_STATES};

/// A deterministic automaton starting in state 0; missing transitions lead to an implicit dead
/// state; edges are sorted and disjoint.
#[derive(Debug, Clone)]
pub(crate) struct Dfa {
    pub(super) accepting: Vec<bool>,
    pub(super) edges: Vec<Vec<Edge>>,
}

impl Dfa {
    /// Returns whether the start state can neither accept nor move (the empty language).
    pub(super) fn is_void(&self) -> bool {
        !self.accepting[0] && self.edges[0].is_empty()
    }

    /// Returns whether the automaton accepts `text`.
    pub(crate) fn matches(&self, text: &str) -> bool {
        let mut state = 0usize;
        for character in text.chars() {
            let code = character as u32;
            let edges = &self.edges[state];
            let position = edges.partition_point(|edge| edge.high < code);
            match edges.get(position) {
                Some(edge) if edge.low <= code => state = edge.target,
                _ => return false,
            }
        }
        self.accepting[state]
    }
}

/// Determinizes an NFA by subset construction; the empty subset is left implicit (dead).
pub(super) fn determinize(nfa: &Nfa) -> Result<Dfa, AutomatonError> {
    let start = nfa.closure([nfa.start]);
    let mut index_of: HashMap<Vec<usize>, usize> = HashMap::from([(start.clone(), 0)]);
    let mut subsets = vec![start];
    let mut dfa = Dfa { accepting: Vec::new(), edges: Vec::new() };
    let mut next = 0;
    while next < subsets.len() {
        let subset = subsets[next].clone();
        let owned_edges: Vec<(usize, Edge)> =
            subset.iter().flat_map(|state| nfa.states[*state].edges.iter().map(|edge| (0, *edge))).collect();
        let mut edges: Vec<Edge> = Vec::new();
        for (low, high, targets) in elementary_steps(&owned_edges) {
            if targets.is_empty() {
                continue;
            }
            let target_set = nfa.closure(targets.into_iter().map(|(_, target)| target));
            let target = match index_of.get(&target_set) {
                Some(index) => *index,
                None => {
                    if subsets.len() >= MAX_STATES {
                        return Err(AutomatonError::TooComplex);
                    }
                    index_of.insert(target_set.clone(), subsets.len());
                    subsets.push(target_set);
                    subsets.len() - 1
                }
            };
            match edges.last_mut() {
                Some(last) if last.target == target && last.high + 1 == low => last.high = high,
                _ => edges.push(Edge { low, high, target }),
            }
        }
        dfa.accepting.push(nfa.accepts(&subset));
        dfa.edges.push(edges);
        next += 1;
    }
    Ok(dfa)
}

/// Returns the complement of a DFA (made complete with an explicit dead state first).
pub(super) fn complement(dfa: &Dfa) -> Dfa {
    let dead = dfa.accepting.len();
    let mut result = Dfa { accepting: dfa.accepting.iter().map(|accepting| !accepting).collect(), edges: Vec::new() };
    result.accepting.push(true);
    for edges in &dfa.edges {
        let mut complete = Vec::new();
        let mut cursor = 0u32;
        for edge in edges {
            if edge.low > cursor {
                complete.push(Edge { low: cursor, high: edge.low - 1, target: dead });
            }
            complete.push(*edge);
            cursor = edge.high + 1;
        }
        if cursor <= MAX_CHAR {
            complete.push(Edge { low: cursor, high: MAX_CHAR, target: dead });
        }
        result.edges.push(complete);
    }
    result.edges.push(vec![Edge { low: 0, high: MAX_CHAR, target: dead }]);
    result
}

/// Returns the product automaton accepting the intersection of two DFAs.
pub(super) fn intersect(left: &Dfa, right: &Dfa) -> Result<Dfa, AutomatonError> {
    let mut index_of: HashMap<(usize, usize), usize> = HashMap::from([((0, 0), 0)]);
    let mut pairs = vec![(0usize, 0usize)];
    let mut result = Dfa { accepting: Vec::new(), edges: Vec::new() };
    let mut next = 0;
    while next < pairs.len() {
        let (left_state, right_state) = pairs[next];
        let mut edges = Vec::new();
        for left_edge in &left.edges[left_state] {
            for right_edge in &right.edges[right_state] {
                let low = left_edge.low.max(right_edge.low);
                let high = left_edge.high.min(right_edge.high);
                if low > high {
                    continue;
                }
                let pair = (left_edge.target, right_edge.target);
                let target = match index_of.get(&pair) {
                    Some(index) => *index,
                    None => {
                        if pairs.len() >= MAX_STATES {
                            return Err(AutomatonError::TooComplex);
                        }
                        index_of.insert(pair, pairs.len());
                        pairs.push(pair);
                        pairs.len() - 1
                    }
                };
                edges.push(Edge { low, high, target });
            }
        }
        edges.sort_by_key(|edge| edge.low);
        result.accepting.push(left.accepting[left_state] && right.accepting[right_state]);
        result.edges.push(edges);
        next += 1;
    }
    Ok(result)
}
