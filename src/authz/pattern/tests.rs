use proptest::prelude::*;

use super::*;

fn set(patterns: &[&str]) -> PatternSet {
    PatternSet::compile(patterns).unwrap()
}

/// Translates a wildcard pattern into an anchored `regex` crate expression.
fn glob_to_regex(pattern: &str) -> regex::Regex {
    let mut translated = String::from("(?s)^");
    let mut characters = pattern.chars();
    while let Some(character) = characters.next() {
        match character {
            '*' => translated.push_str(".*"),
            '?' => translated.push('.'),
            '\\' => translated.push_str(&regex::escape(&characters.next().unwrap_or('\\').to_string())),
            other => translated.push_str(&regex::escape(&other.to_string())),
        }
    }
    translated.push('$');
    regex::Regex::new(&translated).unwrap()
}

/// Every string over `alphabet` up to `max_length` characters.
fn all_strings(alphabet: &[char], max_length: usize) -> Vec<String> {
    let mut result = vec![String::new()];
    let mut frontier = vec![String::new()];
    for _ in 0..max_length {
        let mut next = Vec::new();
        for prefix in &frontier {
            for character in alphabet {
                let mut extended = prefix.clone();
                extended.push(*character);
                next.push(extended);
            }
        }
        result.extend(next.iter().cloned());
        frontier = next;
    }
    result
}

#[test]
fn wildcards_match_like_elasticsearch() {
    let index_prefix = set(&["index1*"]);
    assert!(index_prefix.matches("index1"));
    assert!(index_prefix.matches("index1-x"));
    assert!(!index_prefix.matches("index2"));
    assert!(set(&["a?c"]).matches("abc"));
    assert!(!set(&["a?c"]).matches("ac"));
    assert!(set(&["a\\*"]).matches("a*"));
    assert!(!set(&["a\\*"]).matches("ab"));
    assert!(set(&["a\\"]).matches("a\\"));
    assert!(set(&["*"]).matches(""));
    assert!(!PatternSet::nothing().matches(""));
}

#[test]
fn lucene_regexes_match() {
    let monitoring = set(&["/metrics-(beats|elasticsearch|kibana).*/"]);
    assert!(monitoring.matches("metrics-kibana.stack"));
    assert!(!monitoring.matches("metrics-apm.x"));
    let not_hidden = set(&["/~(([.]|ilm-history-).*)/"]);
    assert!(not_hidden.matches("logs-1"));
    assert!(!not_hidden.matches(".kibana"));
    assert!(!not_hidden.matches("ilm-history-5"));
    let metrics = set(&["/metrics-.*&~(metrics-endpoint\\.metadata_current_default.*)/"]);
    assert!(metrics.matches("metrics-system"));
    assert!(!metrics.matches("metrics-endpoint.metadata_current_default"));
    assert!(set(&["/a{2,3}/"]).matches("aaa"));
    assert!(!set(&["/a{2,3}/"]).matches("a"));
    assert!(set(&["/[^a-c]x/"]).matches("dx"));
    assert!(!set(&["/[^a-c]x/"]).matches("bx"));
    assert!(set(&["/\"a.b\"/"]).matches("a.b"));
    assert!(!set(&["/\"a.b\"/"]).matches("axb"));
    assert!(set(&["/<1-12>/"]).matches("007"));
    assert!(!set(&["/<1-12>/"]).matches("13"));
    assert!(set(&["/<01-12>/"]).matches("07"));
    assert!(!set(&["/<01-12>/"]).matches("7"));
    assert!(set(&["/@/"]).matches("anything"));
    assert!(!set(&["/#/"]).matches(""));
    assert!(set(&["/()/"]).matches(""));
    assert!(set(&["/\\d+/"]).matches("2024"));
}

#[test]
fn invalid_patterns_are_reported() {
    let unterminated = PatternSet::compile(&["/abc"]).unwrap_err();
    assert_eq!(
        unterminated.to_string(),
        "invalid pattern [/abc]. patterns starting with '/' indicate regular expression pattern and therefore must also \
         end with '/'. other patterns (those that do not start with '/') will be treated as simple wildcard patterns"
    );
    assert!(matches!(PatternSet::compile(&["/"]), Err(PatternError::UnterminatedRegex(_))));
    assert!(matches!(PatternSet::compile(&["/(ab/"]), Err(PatternError::InvalidRegex { .. })));
    assert!(matches!(PatternSet::compile(&["/[ab/"]), Err(PatternError::InvalidRegex { .. })));
    assert!(matches!(PatternSet::compile(&["/a{x}/"]), Err(PatternError::InvalidRegex { .. })));
}

#[test]
fn containment_of_index_patterns() {
    let granted = set(&["index1*"]);
    assert!(set(&["index1-x"]).is_subset_of(&granted));
    assert!(set(&["index1*"]).is_subset_of(&granted));
    assert!(!set(&["*"]).is_subset_of(&granted));
    assert!(!set(&["index*"]).is_subset_of(&granted));
    assert!(set(&["index1*", "index2*"]).is_subset_of(&set(&["index*"])));
    assert!(set(&["/index1.*/"]).is_subset_of(&granted));
    assert!(set(&["index1?"]).is_subset_of(&set(&["index1*"])));
    assert!(!set(&["index1*"]).is_subset_of(&set(&["index1?"])));
    assert!(set(&["a*b*c"]).is_subset_of(&set(&["a*c"])));
    assert!(!set(&["a*c"]).is_subset_of(&set(&["a*b*c"])));
    assert!(PatternSet::nothing().is_subset_of(&set(&["x"])));
    assert!(set(&["*"]).is_total());
    assert!(PatternSet::nothing().is_empty());
    assert!(set(&["/~(x)/", "x"]).is_total());
}

fn glob_pattern() -> impl Strategy<Value = String> {
    proptest::collection::vec(prop_oneof![Just('a'), Just('b'), Just('*'), Just('?')], 0..4)
        .prop_map(|characters| characters.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn matching_agrees_with_the_regex_crate(pattern in glob_pattern(), text in "[abc]{0,6}") {
        prop_assert_eq!(set(&[pattern.as_str()]).matches(&text), glob_to_regex(&pattern).is_match(&text));
    }

    #[test]
    fn containment_agrees_with_brute_force(left in glob_pattern(), right in glob_pattern()) {
        let left_set = set(&[left.as_str()]);
        let right_set = set(&[right.as_str()]);
        let counterexample = all_strings(&['a', 'b', 'c'], 7)
            .into_iter()
            .find(|text| left_set.matches(text) && !right_set.matches(text));
        prop_assert_eq!(left_set.is_subset_of(&right_set), counterexample.is_none(), "counterexample {:?}", counterexample);
    }

    #[test]
    fn a_wildcard_pattern_contains_every_string_it_matches(pattern in glob_pattern(), text in "[abc]{0,6}") {
        let pattern_set = set(&[pattern.as_str()]);
        let literal = text.replace('\\', "\\\\").replace('*', "\\*").replace('?', "\\?");
        prop_assert_eq!(set(&[literal.as_str()]).is_subset_of(&pattern_set), pattern_set.matches(&text));
    }
}
