//! Elasticsearch name patterns (`Automatons.pattern`): simple wildcards and Lucene `/regex/`.
//!
//! A pattern starting with `/` must end with `/` and is a Lucene regular expression (all
//! optional syntax enabled: `&` intersection, `~` complement, `#` empty language, `@` any string,
//! `<n-m>` numeric intervals, `"..."` literals). `*` alone matches everything. Anything else is a
//! wildcard pattern: `*` any string, `?` any one character, `\` escapes the next character.
//! A [`PatternSet`] is the union of several patterns, compiled once to an NFA.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, LazyLock, Mutex};

use self::lucene_regex::RegexParser;
use crate::authz::automaton::{self, AutomatonError, Dfa, Node};

mod lucene_regex;

/// Why a pattern could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PatternError {
    /// A `/` pattern without its closing `/` (Elasticsearch's exact message).
    UnterminatedRegex(String),
    /// The Lucene regular expression has a syntax error.
    InvalidRegex { pattern: String, reason: String },
    /// The automaton would be too large.
    TooComplex(String),
}

impl fmt::Display for PatternError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatternError::UnterminatedRegex(pattern) => write!(
                formatter,
                "invalid pattern [{pattern}]. patterns starting with '/' indicate regular expression pattern and therefore \
                 must also end with '/'. other patterns (those that do not start with '/') will be treated as simple \
                 wildcard patterns"
            ),
            PatternError::InvalidRegex { pattern, reason } => write!(formatter, "invalid regular expression pattern [{pattern}]: {reason}"),
            PatternError::TooComplex(pattern) => write!(formatter, "pattern [{pattern}] is too complex to evaluate"),
        }
    }
}

/// Returns whether `text` is a Lucene regex pattern (`/.../`, at least two characters).
pub(crate) fn is_lucene_regex(text: &str) -> bool {
    text.len() > 1 && text.starts_with('/') && text.ends_with('/')
}

/// Parses one Elasticsearch pattern into a language expression.
pub(crate) fn parse_pattern(pattern: &str) -> Result<Node, PatternError> {
    if let Some(rest) = pattern.strip_prefix('/') {
        let Some(regex) = rest.strip_suffix('/') else {
            return Err(PatternError::UnterminatedRegex(pattern.to_string()));
        };
        return RegexParser::new(regex)
            .parse()
            .map_err(|reason| PatternError::InvalidRegex { pattern: pattern.to_string(), reason });
    }
    if pattern == "*" {
        return Ok(Node::AnyString);
    }
    Ok(parse_wildcard(pattern))
}

fn parse_wildcard(pattern: &str) -> Node {
    let mut parts = Vec::new();
    let mut characters = pattern.chars();
    while let Some(character) = characters.next() {
        match character {
            '*' => parts.push(Node::AnyString),
            '?' => parts.push(Node::any_char()),
            // A trailing backslash is kept as a literal, as Elasticsearch does.
            '\\' => {
                let escaped = characters.next().unwrap_or('\\');
                parts.push(single(escaped));
            }
            other => parts.push(single(other)),
        }
    }
    Node::Concat(parts)
}

fn single(character: char) -> Node {
    Node::Chars(vec![(character as u32, character as u32)])
}

/// Compiled pattern sets by source patterns; cleared when full.
static CACHE: LazyLock<Mutex<HashMap<Vec<String>, Arc<PatternSet>>>> = LazyLock::new(|| Mutex::new(HashMap::new()));
const CACHE_CAPACITY: usize = 10_000;

/// The union of several patterns, compiled once.
#[derive(Debug, Clone)]
pub(crate) struct PatternSet {
    patterns: Vec<String>,
    dfa: Arc<Dfa>,
}

impl PatternSet {
    /// Compiles the union of `patterns` (an empty list matches nothing).
    pub(crate) fn compile<S: AsRef<str>>(patterns: &[S]) -> Result<PatternSet, PatternError> {
        let nodes = patterns.iter().map(|pattern| parse_pattern(pattern.as_ref())).collect::<Result<Vec<_>, _>>()?;
        let joined = patterns.iter().map(|pattern| pattern.as_ref()).collect::<Vec<_>>().join("|");
        let dfa = automaton::compile_dfa(&Node::Union(nodes)).map_err(|_| PatternError::TooComplex(joined))?;
        Ok(PatternSet {
            patterns: patterns.iter().map(|pattern| pattern.as_ref().to_string()).collect(),
            dfa: Arc::new(dfa),
        })
    }

    /// Returns the compiled union of `patterns` from a process-wide cache (like Elasticsearch's
    /// automaton cache), compiling it on first use.
    pub(crate) fn cached<S: AsRef<str>>(patterns: &[S]) -> Result<Arc<PatternSet>, PatternError> {
        let key: Vec<String> = patterns.iter().map(|pattern| pattern.as_ref().to_string()).collect();
        if let Some(found) = CACHE.lock().ok().and_then(|cache| cache.get(&key).cloned()) {
            return Ok(found);
        }
        let compiled = Arc::new(PatternSet::compile(&key)?);
        if let Ok(mut cache) = CACHE.lock() {
            if cache.len() >= CACHE_CAPACITY {
                cache.clear();
            }
            cache.insert(key, Arc::clone(&compiled));
        }
        Ok(compiled)
    }

    /// Like [`PatternSet::cached`], treating invalid patterns as matching nothing.
    pub(crate) fn cached_lenient<S: AsRef<str>>(patterns: &[S]) -> Arc<PatternSet> {
        PatternSet::cached(patterns).unwrap_or_else(|_| Arc::new(PatternSet::compile_lenient(patterns)))
    }

    /// Compiles the union of `patterns`, treating invalid ones as matching nothing.
    pub(crate) fn compile_lenient<S: AsRef<str>>(patterns: &[S]) -> PatternSet {
        let valid: Vec<&str> = patterns
            .iter()
            .map(|pattern| pattern.as_ref())
            .filter(|pattern| PatternSet::compile(&[*pattern]).is_ok())
            .collect();
        PatternSet::compile(&valid).unwrap_or_else(|_| PatternSet::nothing())
    }

    /// Returns the set matching nothing.
    pub(crate) fn nothing() -> PatternSet {
        let empty: [&str; 0] = [];
        PatternSet::compile(&empty).expect("the empty union always compiles")
    }

    /// Returns the source patterns.
    pub(crate) fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Returns the compiled automaton.
    pub(crate) fn dfa(&self) -> &Arc<Dfa> {
        &self.dfa
    }

    /// Returns whether `text` matches one of the patterns.
    pub(crate) fn matches(&self, text: &str) -> bool {
        self.dfa.matches(text)
    }

    /// Returns whether every string matched by `self` is matched by `other` (too complex ⇒ false).
    pub(crate) fn is_subset_of(&self, other: &PatternSet) -> bool {
        automaton::is_subset(&self.dfa, &other.dfa).unwrap_or(false)
    }

    /// Returns whether the set matches no string at all.
    pub(crate) fn is_empty(&self) -> bool {
        automaton::is_empty(&self.dfa).unwrap_or(false)
    }

    /// Returns whether the set matches every string.
    pub(crate) fn is_total(&self) -> bool {
        automaton::is_total(&self.dfa).unwrap_or(false)
    }
}

impl From<AutomatonError> for PatternError {
    fn from(_: AutomatonError) -> PatternError {
        PatternError::TooComplex(String::new())
    }
}

#[cfg(test)]
mod tests;
