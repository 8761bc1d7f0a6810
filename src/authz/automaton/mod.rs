//! A small automaton library over Unicode code points, standing in for Lucene's automata.
//!
//! Languages are described by a [`Node`] tree (what glob and Lucene-regex patterns parse into),
//! compiled to an epsilon-NFA whose edges carry code-point ranges and then determinized into a
//! [`Dfa`] (intersection and complement go through subset construction too, so every Lucene
//! operator has an exact meaning). Containment (`A ⊆ B` iff `A ∧ ¬B` is empty), emptiness and
//! totality are decided exactly on DFAs, as Elasticsearch's `Operations.subsetOf` does;
//! [`is_language_empty`] and [`product_dfa`] handle boolean combinations of several DFAs.

use std::collections::BTreeSet;

pub(crate) use self::decide::{is_empty, is_language_empty, is_subset, is_total, product_dfa};
pub(crate) use self::dfa::Dfa;
use self::dfa::{complement, determinize, intersect};

mod decide;
mod dfa;

/// The largest Unicode code point.
pub(crate) const MAX_CHAR: u32 = 0x10FFFF;
/// Upper bound on determinized or jointly explored states (Elasticsearch's default is 100000).
const MAX_STATES: usize = 100_000;
/// Upper bound on the copies a bounded repetition (`x{n,m}`) may expand to.
const MAX_REPEAT: u32 = 1_000;

/// Why an automaton could not be built or explored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AutomatonError {
    /// The automaton needs more states than allowed.
    TooComplex,
}

/// A language expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// The empty language (matches nothing).
    Nothing,
    /// The language holding only the empty string.
    Empty,
    /// One code point out of the given inclusive ranges.
    Chars(Vec<(u32, u32)>),
    /// Every string.
    AnyString,
    Concat(Vec<Node>),
    Union(Vec<Node>),
    Repeat {
        inner: Box<Node>,
        min: u32,
        max: Option<u32>,
    },
    Intersection(Box<Node>, Box<Node>),
    Complement(Box<Node>),
}

impl Node {
    /// Returns the node matching any single code point.
    pub(crate) fn any_char() -> Node {
        Node::Chars(vec![(0, MAX_CHAR)])
    }

    /// Returns the node matching exactly `text`.
    pub(crate) fn literal(text: &str) -> Node {
        Node::Concat(text.chars().map(|c| Node::Chars(vec![(c as u32, c as u32)])).collect())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Edge {
    low: u32,
    high: u32,
    target: usize,
}

#[derive(Debug, Clone, Default)]
struct NfaState {
    accepting: bool,
    epsilons: Vec<usize>,
    edges: Vec<Edge>,
}

/// An epsilon-NFA over code-point ranges.
#[derive(Debug, Clone)]
struct Nfa {
    states: Vec<NfaState>,
    start: usize,
}

/// A boolean combination of the languages of several NFAs (by index).
#[derive(Debug, Clone)]
pub(crate) enum Formula {
    Var(usize),
    Not(Box<Formula>),
    And(Vec<Formula>),
    Or(Vec<Formula>),
}

impl Formula {
    fn evaluate(&self, accepted: &[bool]) -> bool {
        match self {
            Formula::Var(index) => accepted[*index],
            Formula::Not(inner) => !inner.evaluate(accepted),
            Formula::And(parts) => parts.iter().all(|part| part.evaluate(accepted)),
            Formula::Or(parts) => parts.iter().any(|part| part.evaluate(accepted)),
        }
    }
}

/// A piece of NFA under construction with one entry and one exit state.
#[derive(Debug, Clone, Copy)]
struct Fragment {
    start: usize,
    end: usize,
}

#[derive(Default)]
struct Builder {
    states: Vec<NfaState>,
}

impl Builder {
    fn new_state(&mut self) -> usize {
        self.states.push(NfaState::default());
        self.states.len() - 1
    }

    fn epsilon(&mut self, from: usize, to: usize) {
        self.states[from].epsilons.push(to);
    }

    fn fragment(&mut self) -> Fragment {
        Fragment { start: self.new_state(), end: self.new_state() }
    }

    fn build(&mut self, node: &Node) -> Result<Fragment, AutomatonError> {
        if self.states.len() > MAX_STATES {
            return Err(AutomatonError::TooComplex);
        }
        match node {
            Node::Nothing => Ok(self.fragment()),
            Node::Empty => {
                let fragment = self.fragment();
                self.epsilon(fragment.start, fragment.end);
                Ok(fragment)
            }
            Node::Chars(ranges) => {
                let fragment = self.fragment();
                for &(low, high) in ranges {
                    if low <= high {
                        let edge = Edge { low, high, target: fragment.end };
                        self.states[fragment.start].edges.push(edge);
                    }
                }
                Ok(fragment)
            }
            Node::AnyString => self.build(&Node::Repeat { inner: Box::new(Node::any_char()), min: 0, max: None }),
            Node::Concat(parts) => {
                let fragment = self.fragment();
                let mut current = fragment.start;
                for part in parts {
                    let built = self.build(part)?;
                    self.epsilon(current, built.start);
                    current = built.end;
                }
                self.epsilon(current, fragment.end);
                Ok(fragment)
            }
            Node::Union(parts) => {
                let fragment = self.fragment();
                for part in parts {
                    let built = self.build(part)?;
                    self.epsilon(fragment.start, built.start);
                    self.epsilon(built.end, fragment.end);
                }
                Ok(fragment)
            }
            Node::Repeat { inner, min, max } => self.build_repeat(inner, *min, *max),
            Node::Intersection(left, right) => {
                let left_dfa = determinize(&compile(left)?)?;
                let right_dfa = determinize(&compile(right)?)?;
                let product = intersect(&left_dfa, &right_dfa)?;
                Ok(self.embed(&product))
            }
            Node::Complement(inner) => {
                let inner_dfa = determinize(&compile(inner)?)?;
                Ok(self.embed(&complement(&inner_dfa)))
            }
        }
    }

    fn build_repeat(&mut self, inner: &Node, min: u32, max: Option<u32>) -> Result<Fragment, AutomatonError> {
        if min > MAX_REPEAT || max.is_some_and(|max| max > MAX_REPEAT) {
            return Err(AutomatonError::TooComplex);
        }
        let fragment = self.fragment();
        let mut current = fragment.start;
        for _ in 0..min {
            let built = self.build(inner)?;
            self.epsilon(current, built.start);
            current = built.end;
        }
        match max {
            None => {
                let built = self.build(inner)?;
                self.epsilon(current, built.start);
                self.epsilon(built.end, current);
                self.epsilon(current, fragment.end);
            }
            Some(max) => {
                self.epsilon(current, fragment.end);
                for _ in min..max {
                    let built = self.build(inner)?;
                    self.epsilon(current, built.start);
                    current = built.end;
                    self.epsilon(current, fragment.end);
                }
            }
        }
        Ok(fragment)
    }

    /// Copies a DFA into the builder; its accepting states lead to the fragment's exit.
    fn embed(&mut self, dfa: &Dfa) -> Fragment {
        let offset = self.states.len();
        for state in 0..dfa.accepting.len() {
            let edges = dfa.edges[state].iter().map(|edge| Edge { target: edge.target + offset, ..*edge }).collect();
            self.states.push(NfaState { accepting: false, epsilons: Vec::new(), edges });
        }
        let end = self.new_state();
        for (state, accepting) in dfa.accepting.iter().enumerate() {
            if *accepting {
                self.epsilon(state + offset, end);
            }
        }
        Fragment { start: offset, end }
    }
}

/// Compiles a language expression into a DFA.
pub(crate) fn compile_dfa(node: &Node) -> Result<Dfa, AutomatonError> {
    determinize(&compile(node)?)
}

/// Compiles a language expression into an NFA.
fn compile(node: &Node) -> Result<Nfa, AutomatonError> {
    let mut builder = Builder::default();
    let fragment = builder.build(node)?;
    builder.states[fragment.end].accepting = true;
    Ok(Nfa { states: builder.states, start: fragment.start })
}

impl Nfa {
    fn closure(&self, seeds: impl IntoIterator<Item = usize>) -> Vec<usize> {
        let mut seen: BTreeSet<usize> = BTreeSet::new();
        let mut stack: Vec<usize> = seeds.into_iter().collect();
        while let Some(state) = stack.pop() {
            if seen.insert(state) {
                stack.extend(self.states[state].epsilons.iter().copied());
            }
        }
        seen.into_iter().collect()
    }

    fn accepts(&self, set: &[usize]) -> bool {
        set.iter().any(|state| self.states[*state].accepting)
    }
}

/// One elementary interval `[low, high]` and the `(owner, target)` pairs of the edges covering it.
type Step = (u32, u32, Vec<(usize, usize)>);

/// Splits the code-point space at the boundaries of `edges` and returns, per elementary interval
/// (covering the whole space), the targets of the edges covering it (with their owner index).
fn elementary_steps(edges: &[(usize, Edge)]) -> Vec<Step> {
    let mut points: Vec<u32> = vec![0, MAX_CHAR + 1];
    for (_, edge) in edges {
        points.push(edge.low);
        points.push(edge.high + 1);
    }
    points.sort_unstable();
    points.dedup();
    let mut steps: Vec<Step> = points.windows(2).map(|window| (window[0], window[1] - 1, Vec::new())).collect();
    for (owner, edge) in edges {
        let first = points.partition_point(|point| *point < edge.low);
        let last = points.partition_point(|point| *point <= edge.high);
        for step in &mut steps[first..last] {
            step.2.push((*owner, edge.target));
        }
    }
    steps
}

#[cfg(test)]
mod tests;
