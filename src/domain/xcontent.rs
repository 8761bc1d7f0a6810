//! Pieces of Elasticsearch's XContent parsers that several request parsers share: token names in type
//! errors and the "did you mean" suggestions of unknown names.

use serde_json::Value;

/// Returns the XContent token name of a JSON value, as parser messages print it (`START_OBJECT`, ...).
pub(crate) fn token_name(value: &Value) -> &'static str {
    match value {
        Value::Object(_) => "START_OBJECT",
        Value::Array(_) => "START_ARRAY",
        Value::String(_) => "VALUE_STRING",
        Value::Number(_) => "VALUE_NUMBER",
        Value::Bool(_) => "VALUE_BOOLEAN",
        Value::Null => "VALUE_NULL",
    }
}

/// Returns the ` did you mean ...?` suffix Elasticsearch appends to unknown names, or an empty string.
///
/// Candidates whose Levenshtein similarity (Lucene's `1 - distance / max length`) exceeds 0.5 are listed,
/// the most similar first, ties in name order.
pub(crate) fn did_you_mean(unknown: &str, candidates: &[&str]) -> String {
    let mut scored: Vec<(f32, &str)> = candidates
        .iter()
        .map(|candidate| (levenshtein_similarity(unknown, candidate), *candidate))
        .filter(|(similarity, _)| *similarity > 0.5)
        .collect();
    scored.sort_by(|left, right| right.0.total_cmp(&left.0).then_with(|| left.1.cmp(right.1)));
    match scored.as_slice() {
        [] => String::new(),
        [(_, single)] => format!(" did you mean [{single}]?"),
        many => {
            let names: Vec<&str> = many.iter().map(|(_, name)| *name).collect();
            format!(" did you mean any of [{}]?", names.join(", "))
        }
    }
}

/// Returns Lucene's `LevenshteinDistance.getDistance` over UTF-16 units, as Java computes it:
/// 1 minus the edit distance over the longer length.
pub(crate) fn levenshtein_similarity(target: &str, other: &str) -> f32 {
    let target_chars: Vec<u16> = target.encode_utf16().collect();
    let other_chars: Vec<u16> = other.encode_utf16().collect();
    if target_chars.is_empty() || other_chars.is_empty() {
        return if target_chars.len() == other_chars.len() { 1.0 } else { 0.0 };
    }
    let mut previous_row: Vec<usize> = (0..=target_chars.len()).collect();
    for (other_index, other_char) in other_chars.iter().enumerate() {
        let mut current_row = vec![other_index + 1; target_chars.len() + 1];
        for (target_index, target_char) in target_chars.iter().enumerate() {
            let substitution_cost = usize::from(target_char != other_char);
            current_row[target_index + 1] = (current_row[target_index] + 1)
                .min(previous_row[target_index + 1] + 1)
                .min(previous_row[target_index] + substitution_cost);
        }
        previous_row = current_row;
    }
    let distance = previous_row[target_chars.len()] as f32;
    1.0 - distance / target_chars.len().max(other_chars.len()) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_match_elasticsearch() {
        assert_eq!(did_you_mean("foo", &["bar", "fop"]), " did you mean [fop]?");
        assert_eq!(did_you_mean("foo", &["bar", "fop", "fou", "baz"]), " did you mean any of [fop, fou]?");
        assert_eq!(did_you_mean("fro", &["query", "from", "size", "sort", "search_after"]), " did you mean [from]?");
        assert_eq!(did_you_mean("zzz", &["query"]), "");
    }
}
