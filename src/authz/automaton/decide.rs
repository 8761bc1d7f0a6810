//! Decision procedures on DFAs: containment of two automata (a product walk over pairs of
//! states), emptiness and totality, and the joint exploration of many automata under a boolean
//! formula (used to decide or build unions of "include minus exclude" terms).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::{AutomatonError, Dfa, Edge, Formula, MAX_CHAR, MAX_STATES};

/// The dead state of a component in a joint exploration.
const DEAD: usize = usize::MAX;

/// A fast, non-cryptographic hasher for automaton state keys (FxHash's mixing).
#[derive(Default)]
struct StateHasher(u64);

impl Hasher for StateHasher {
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.write_u64(u64::from(*byte));
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = (self.0.rotate_left(5) ^ value).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_usize(&mut self, value: usize) {
        self.write_u64(value as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type StateMap<K, V> = HashMap<K, V, BuildHasherDefault<StateHasher>>;

/// Calls `visit(low, high, successor)` for each maximal interval of the code-point space on
/// which every component of `joint` moves to the same states (`DEAD` when it has no edge).
fn joint_steps(
    dfas: &[&Dfa],
    joint: &[usize],
    cursors: &mut Vec<usize>,
    successor: &mut Vec<usize>,
    mut visit: impl FnMut(u32, u32, &[usize]),
) {
    cursors.clear();
    cursors.resize(dfas.len(), 0);
    let mut position = 0u32;
    while position <= MAX_CHAR {
        successor.clear();
        successor.resize(dfas.len(), DEAD);
        let mut next = MAX_CHAR + 1;
        for (owner, state) in joint.iter().enumerate() {
            if *state == DEAD {
                continue;
            }
            let edges = &dfas[owner].edges[*state];
            let cursor = &mut cursors[owner];
            while *cursor < edges.len() && edges[*cursor].high < position {
                *cursor += 1;
            }
            let Some(edge) = edges.get(*cursor) else {
                continue;
            };
            if edge.low <= position {
                successor[owner] = edge.target;
                next = next.min(edge.high + 1);
            } else {
                next = next.min(edge.low);
            }
        }
        visit(position, next - 1, successor);
        position = next;
    }
}

/// Explores the joint automaton of `dfas` breadth-first, numbering joint states from 0 (the
/// start). `on_state(accepted)` is called for each state, in order, and may stop the
/// exploration by returning `false`; `on_edge(from, low, high, to)` for each transition. A
/// joint state with every component dead is skipped unless `formula` accepts it.
fn explore(
    dfas: &[&Dfa],
    formula: &Formula,
    mut on_state: impl FnMut(bool) -> bool,
    mut on_edge: impl FnMut(usize, u32, u32, usize),
) -> Result<(), AutomatonError> {
    let start: Vec<usize> = dfas.iter().map(|dfa| if dfa.is_void() { DEAD } else { 0 }).collect();
    let mut accepted = vec![false; dfas.len()];
    let all_dead_accepted = formula.evaluate(&accepted);
    let mut index_of: StateMap<Vec<usize>, usize> = StateMap::default();
    index_of.insert(start.clone(), 0);
    let mut states = vec![start];
    let (mut cursors, mut successor) = (Vec::new(), Vec::new());
    let mut next = 0;
    while next < states.len() {
        let joint = std::mem::take(&mut states[next]);
        for (index, state) in joint.iter().enumerate() {
            accepted[index] = *state != DEAD && dfas[index].accepting[*state];
        }
        if !on_state(formula.evaluate(&accepted)) {
            return Ok(());
        }
        joint_steps(dfas, &joint, &mut cursors, &mut successor, |low, high, successor| {
            if !all_dead_accepted && successor.iter().all(|state| *state == DEAD) {
                return;
            }
            let target = match index_of.get(successor) {
                Some(target) => *target,
                None => {
                    index_of.insert(successor.to_vec(), states.len());
                    states.push(successor.to_vec());
                    states.len() - 1
                }
            };
            on_edge(next, low, high, target);
        });
        if states.len() > MAX_STATES {
            return Err(AutomatonError::TooComplex);
        }
        next += 1;
    }
    Ok(())
}

/// Returns whether no string satisfies `formula`, where `Var(i)` means "accepted by `dfas[i]`".
pub(crate) fn is_language_empty(dfas: &[&Dfa], formula: &Formula) -> Result<bool, AutomatonError> {
    let mut empty = true;
    explore(
        dfas,
        formula,
        |accepted| {
            empty &= !accepted;
            empty
        },
        |_, _, _, _| {},
    )?;
    Ok(empty)
}

/// Builds one DFA accepting the strings that satisfy `formula` over `dfas`.
pub(crate) fn product_dfa(dfas: &[&Dfa], formula: &Formula) -> Result<Dfa, AutomatonError> {
    let mut result = Dfa { accepting: Vec::new(), edges: Vec::new() };
    let mut pending_edges: Vec<(usize, Edge)> = Vec::new();
    explore(
        dfas,
        formula,
        |accepted| {
            result.accepting.push(accepted);
            true
        },
        |from, low, high, target| pending_edges.push((from, Edge { low, high, target })),
    )?;
    result.edges = vec![Vec::new(); result.accepting.len()];
    for (from, edge) in pending_edges {
        let edges = &mut result.edges[from];
        match edges.last_mut() {
            Some(last) if last.target == edge.target && last.high + 1 == edge.low => last.high = edge.high,
            _ => edges.push(edge),
        }
    }
    Ok(result)
}

/// Returns whether every string accepted by `subset` is accepted by `superset`: no reachable
/// pair of states has `subset` accepting and `superset` not (dead counts as not accepting).
pub(crate) fn is_subset(subset: &Dfa, superset: &Dfa) -> Result<bool, AutomatonError> {
    if subset.is_void() {
        return Ok(true);
    }
    let start = (0usize, if superset.is_void() { DEAD } else { 0 });
    let mut visited: StateMap<(usize, usize), ()> = StateMap::default();
    visited.insert(start, ());
    let mut stack = vec![start];
    while let Some((left, right)) = stack.pop() {
        if subset.accepting[left] && (right == DEAD || !superset.accepting[right]) {
            return Ok(false);
        }
        let mut push = |pair: (usize, usize)| {
            if visited.insert(pair, ()).is_none() {
                stack.push(pair);
            }
        };
        for edge in &subset.edges[left] {
            if right == DEAD {
                push((edge.target, DEAD));
                continue;
            }
            let mut position = edge.low;
            for other in superset.edges[right].iter().filter(|other| other.high >= edge.low && other.low <= edge.high) {
                if other.low > position {
                    push((edge.target, DEAD));
                }
                push((edge.target, other.target));
                position = other.high.saturating_add(1);
            }
            if position <= edge.high {
                push((edge.target, DEAD));
            }
        }
        if visited.len() > MAX_STATES {
            return Err(AutomatonError::TooComplex);
        }
    }
    Ok(true)
}

/// Returns whether the DFA accepts no string at all.
pub(crate) fn is_empty(dfa: &Dfa) -> Result<bool, AutomatonError> {
    let mut seen = vec![false; dfa.accepting.len()];
    let mut stack = vec![0usize];
    seen[0] = true;
    while let Some(state) = stack.pop() {
        if dfa.accepting[state] {
            return Ok(false);
        }
        for edge in &dfa.edges[state] {
            if !seen[edge.target] {
                seen[edge.target] = true;
                stack.push(edge.target);
            }
        }
    }
    Ok(true)
}

/// Returns whether the DFA accepts every string: every reachable state accepts and has a
/// transition for every code point.
pub(crate) fn is_total(dfa: &Dfa) -> Result<bool, AutomatonError> {
    let mut seen = vec![false; dfa.accepting.len()];
    let mut stack = vec![0usize];
    seen[0] = true;
    while let Some(state) = stack.pop() {
        if !dfa.accepting[state] {
            return Ok(false);
        }
        let mut position = 0u32;
        for edge in &dfa.edges[state] {
            if edge.low != position {
                return Ok(false);
            }
            position = edge.high + 1;
            if !seen[edge.target] {
                seen[edge.target] = true;
                stack.push(edge.target);
            }
        }
        if position != MAX_CHAR + 1 {
            return Ok(false);
        }
    }
    Ok(true)
}
