//! Unions of "include minus exclude" pattern terms, the shape of every Elasticsearch automaton
//! used for authorization: `manage` is `cluster:*` minus `cluster:admin/xpack/security/*`, an
//! index group is its index patterns minus the restricted indices, a role's cluster permission
//! is the union of its privileges. Each language is compiled (once, lazily) to a single DFA, so
//! containment is one product exploration, exactly as Elasticsearch's `Operations.subsetOf`.

use std::sync::{Arc, OnceLock};

use crate::authz::automaton::{self, Dfa, Formula};
use crate::authz::pattern::{PatternError, PatternSet};

/// One `include ∖ (exclude₁ ∪ exclude₂ ∪ …)` term.
#[derive(Debug, Clone)]
struct Term {
    include: Arc<PatternSet>,
    excludes: Vec<Arc<PatternSet>>,
}

/// A union of terms; the empty union matches nothing.
#[derive(Debug, Clone, Default)]
pub(crate) struct Language {
    terms: Vec<Term>,
    /// The single DFA of the union, built on first use (`None`: too complex to build).
    compiled: OnceLock<Option<Arc<Dfa>>>,
}

impl Language {
    /// Returns the language matching nothing.
    pub(crate) fn empty() -> Language {
        Language::default()
    }

    fn of_terms(terms: Vec<Term>) -> Language {
        Language { terms, compiled: OnceLock::new() }
    }

    /// Returns the language of a compiled pattern set.
    pub(crate) fn of_set(set: Arc<PatternSet>) -> Language {
        Language::of_terms(vec![Term { include: set, excludes: Vec::new() }])
    }

    /// Compiles the union of `patterns` (through the pattern cache).
    pub(crate) fn of_patterns<S: AsRef<str>>(patterns: &[S]) -> Result<Language, PatternError> {
        Ok(Language::of_set(PatternSet::cached(patterns)?))
    }

    /// Compiles `included ∖ excluded`.
    pub(crate) fn of_patterns_minus<S: AsRef<str>>(included: &[S], excluded: &[S]) -> Result<Language, PatternError> {
        let language = Language::of_patterns(included)?;
        if excluded.is_empty() {
            return Ok(language);
        }
        Ok(language.minus(&PatternSet::cached(excluded)?))
    }

    /// Returns this language without the strings of `excluded`.
    pub(crate) fn minus(self, excluded: &Arc<PatternSet>) -> Language {
        let mut terms = self.terms;
        for term in &mut terms {
            term.excludes.push(Arc::clone(excluded));
        }
        Language::of_terms(terms)
    }

    /// Returns the union of two languages.
    pub(crate) fn union(self, other: &Language) -> Language {
        let mut terms = self.terms;
        terms.extend(other.terms.iter().cloned());
        Language::of_terms(terms)
    }

    /// Returns the union of many languages.
    pub(crate) fn union_all<'a>(languages: impl IntoIterator<Item = &'a Language>) -> Language {
        let terms = languages.into_iter().flat_map(|language| language.terms.iter().cloned()).collect();
        Language::of_terms(terms)
    }

    /// Returns whether the language has no terms at all (syntactically empty).
    pub(crate) fn has_no_terms(&self) -> bool {
        self.terms.is_empty()
    }

    /// Adds this language's DFAs to `dfas` and returns the formula of its membership.
    fn formula<'a>(&'a self, dfas: &mut Vec<&'a Dfa>) -> Formula {
        let terms = self
            .terms
            .iter()
            .map(|term| {
                dfas.push(term.include.dfa());
                let mut parts = vec![Formula::Var(dfas.len() - 1)];
                for exclude in &term.excludes {
                    dfas.push(exclude.dfa());
                    parts.push(Formula::Not(Box::new(Formula::Var(dfas.len() - 1))));
                }
                Formula::And(parts)
            })
            .collect();
        Formula::Or(terms)
    }

    /// Returns the single DFA of the language, building it on first use.
    fn dfa(&self) -> Option<&Arc<Dfa>> {
        self.compiled
            .get_or_init(|| {
                if let [Term { include, excludes }] = self.terms.as_slice() {
                    if excludes.is_empty() {
                        return Some(Arc::clone(include.dfa()));
                    }
                }
                let mut dfas = Vec::new();
                let formula = self.formula(&mut dfas);
                automaton::product_dfa(&dfas, &formula).ok().map(Arc::new)
            })
            .as_ref()
    }

    /// Returns whether `text` belongs to the language.
    pub(crate) fn matches(&self, text: &str) -> bool {
        if let Some(dfa) = self.dfa() {
            return dfa.matches(text);
        }
        self.terms
            .iter()
            .any(|term| term.include.matches(text) && !term.excludes.iter().any(|exclude| exclude.matches(text)))
    }

    /// Returns whether every string of `self` belongs to `other` (too complex ⇒ false).
    pub(crate) fn is_subset_of(&self, other: &Language) -> bool {
        if let (Some(mine), Some(theirs)) = (self.dfa(), other.dfa()) {
            return automaton::is_subset(mine, theirs).unwrap_or(false);
        }
        let mut dfas = Vec::new();
        let left = self.formula(&mut dfas);
        let right = other.formula(&mut dfas);
        let formula = Formula::And(vec![left, Formula::Not(Box::new(right))]);
        automaton::is_language_empty(&dfas, &formula).unwrap_or(false)
    }

    /// Returns whether the language holds no string (too complex ⇒ false).
    pub(crate) fn is_empty(&self) -> bool {
        match self.dfa() {
            Some(dfa) => automaton::is_empty(dfa).unwrap_or(false),
            None => false,
        }
    }

    /// Returns whether the language holds every string (too complex ⇒ false).
    pub(crate) fn is_total(&self) -> bool {
        match self.dfa() {
            Some(dfa) => automaton::is_total(dfa).unwrap_or(false),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn language(included: &[&str], excluded: &[&str]) -> Language {
        Language::of_patterns_minus(included, excluded).unwrap()
    }

    #[test]
    fn manage_excludes_security() {
        let manage = language(&["cluster:*", "indices:admin/template/*"], &["cluster:admin/xpack/security/*"]);
        assert!(manage.matches("cluster:monitor/health"));
        assert!(!manage.matches("cluster:admin/xpack/security/profile/activate"));
        let profile = language(&["cluster:admin/xpack/security/profile/*"], &[]);
        assert!(!profile.is_subset_of(&manage));
        let monitor = language(&["cluster:monitor/*"], &[]);
        assert!(monitor.is_subset_of(&manage));
    }

    #[test]
    fn unions_and_emptiness() {
        let read = language(&["a*"], &[]);
        let write = language(&["b*"], &[]);
        let both = read.clone().union(&write);
        assert!(language(&["a1", "b1"], &[]).is_subset_of(&both));
        assert!(!language(&["c"], &[]).is_subset_of(&both));
        assert!(Language::empty().is_empty());
        assert!(Language::empty().is_subset_of(&read));
        assert!(language(&["x*"], &["x*"]).is_empty());
        assert!(language(&["*"], &[]).is_total());
        assert!(!language(&["*"], &["x"]).is_total());
        assert!(!both.matches("c"));
        assert!(both.matches("b2"));
    }
}
