//! Text analysis of the security index's user fields.
//!
//! `full_name` is a `text` field with the standard analyzer (Unicode word segmentation, lowercased).
//! `email` uses the index's custom `email` analyzer: the `uax_url_email` tokenizer (the standard one, but
//! keeping e-mail addresses and URLs whole), a `pattern_capture` filter (`preserve_original`, patterns
//! `([^@]+)`, `(\p{L}+)`, `(\d+)`, `@(.+)`), `lowercase` and `unique`. The word segmentation here is a
//! close approximation of Unicode UAX #29 as Lucene's `StandardTokenizer` implements it.

/// One analysed term and its position in the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) term: String,
    pub(crate) position: u32,
}

/// The analyzers a query may name, plus the security index's own `email` analyzer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Analyzer {
    Standard,
    Simple,
    Whitespace,
    Keyword,
    Stop,
    Email,
}

/// Lucene's default English stop words (the `stop` analyzer).
const ENGLISH_STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not", "of",
    "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was", "will", "with",
];

impl Analyzer {
    /// Returns the analyzer a query names with `analyzer`, if the security index knows it.
    pub(crate) fn from_name(name: &str) -> Option<Analyzer> {
        match name {
            "standard" | "default" => Some(Analyzer::Standard),
            "simple" => Some(Analyzer::Simple),
            "whitespace" => Some(Analyzer::Whitespace),
            "keyword" => Some(Analyzer::Keyword),
            "stop" => Some(Analyzer::Stop),
            "email" => Some(Analyzer::Email),
            _ => None,
        }
    }

    /// Analyses `text` into terms with positions.
    pub(crate) fn analyze(self, text: &str) -> Vec<Token> {
        match self {
            Analyzer::Standard => positioned(standard_words(text).into_iter().map(|word| word.to_lowercase())),
            Analyzer::Simple => positioned(letter_runs(text).into_iter().map(|word| word.to_lowercase())),
            Analyzer::Stop => positioned(
                letter_runs(text)
                    .into_iter()
                    .map(|word| word.to_lowercase())
                    .filter(|word| !ENGLISH_STOP_WORDS.contains(&word.as_str())),
            ),
            Analyzer::Whitespace => positioned(text.split_whitespace().map(str::to_string)),
            Analyzer::Keyword => vec![Token { term: text.to_string(), position: 0 }],
            Analyzer::Email => analyze_email(text),
        }
    }

    /// Normalizes a multi-term (prefix, wildcard, fuzzy) query text: only lowercasing survives.
    pub(crate) fn normalize(self, text: &str) -> String {
        match self {
            Analyzer::Keyword | Analyzer::Whitespace => text.to_string(),
            _ => text.to_lowercase(),
        }
    }
}

/// Numbers terms by position, skipping stop words' positions as Lucene does (position increments).
fn positioned(words: impl Iterator<Item = String>) -> Vec<Token> {
    words.enumerate().map(|(index, term)| Token { term, position: index as u32 }).collect()
}

/// The word-break class of a character (UAX #29, reduced to what matters for names and addresses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WordClass {
    Letter,
    Numeric,
    ExtendNumLet,
    MidLetter,
    MidNumLet,
    MidNum,
    Extend,
    /// Ideographs, Hiragana and similar scripts: one token per character.
    Ideographic,
    Other,
}

fn word_class(character: char) -> WordClass {
    match character {
        '_' | '\u{203F}' | '\u{2040}' | '\u{2054}' | '\u{FE33}' | '\u{FE34}' | '\u{FE4D}'..='\u{FE4F}' | '\u{FF3F}' => {
            WordClass::ExtendNumLet
        }
        ':' | '\u{00B7}' | '\u{0387}' | '\u{05F4}' | '\u{2027}' | '\u{FE13}' | '\u{FE55}' | '\u{FF1A}' => {
            WordClass::MidLetter
        }
        '.' | '\'' | '\u{2018}' | '\u{2019}' | '\u{2024}' | '\u{FE52}' | '\u{FF07}' | '\u{FF0E}' => {
            WordClass::MidNumLet
        }
        ',' | ';' | '\u{037E}' | '\u{0589}' | '\u{060C}' | '\u{060D}' | '\u{066C}' | '\u{07F8}' | '\u{2044}'
        | '\u{FE10}' | '\u{FE14}' | '\u{FE50}' | '\u{FE54}' | '\u{FF0C}' | '\u{FF1B}' => WordClass::MidNum,
        '\u{0300}'..='\u{036F}' | '\u{200C}' | '\u{200D}' | '\u{FE00}'..='\u{FE0F}' => WordClass::Extend,
        '\u{3040}'..='\u{309F}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FFFF}' => WordClass::Ideographic,
        other if other.is_alphabetic() => WordClass::Letter,
        other if other.is_numeric() => WordClass::Numeric,
        _ => WordClass::Other,
    }
}

/// Splits text into words as Lucene's `StandardTokenizer` does (before lowercasing).
pub(crate) fn standard_words(text: &str) -> Vec<String> {
    let characters: Vec<char> = text.chars().collect();
    let classes: Vec<WordClass> = characters.iter().map(|character| word_class(*character)).collect();
    let mut words = Vec::new();
    let mut index = 0;
    while index < characters.len() {
        match classes[index] {
            WordClass::Ideographic => {
                words.push(characters[index].to_string());
                index += 1;
            }
            WordClass::Letter | WordClass::Numeric | WordClass::ExtendNumLet => {
                let start = index;
                index = word_end(&classes, index);
                let word: String = characters[start..index].iter().collect();
                let has_letter_or_digit =
                    classes[start..index].iter().any(|class| matches!(class, WordClass::Letter | WordClass::Numeric));
                if has_letter_or_digit {
                    words.push(word);
                }
            }
            _ => index += 1,
        }
    }
    words
}

/// Returns the index just past the word starting at `start`.
fn word_end(classes: &[WordClass], start: usize) -> usize {
    let mut index = start + 1;
    let mut last_core = classes[start];
    while index < classes.len() {
        let class = classes[index];
        match class {
            WordClass::Letter | WordClass::Numeric | WordClass::ExtendNumLet => {
                last_core = class;
                index += 1;
            }
            WordClass::Extend => index += 1,
            WordClass::MidLetter | WordClass::MidNumLet | WordClass::MidNum => {
                let Some(next) = classes.get(index + 1).copied() else { break };
                let joins_letters = last_core == WordClass::Letter
                    && next == WordClass::Letter
                    && matches!(class, WordClass::MidLetter | WordClass::MidNumLet);
                let joins_digits = last_core == WordClass::Numeric
                    && next == WordClass::Numeric
                    && matches!(class, WordClass::MidNum | WordClass::MidNumLet);
                if !(joins_letters || joins_digits) {
                    break;
                }
                index += 1;
            }
            _ => break,
        }
    }
    index
}

/// Splits text into maximal runs of letters (the `simple` and `stop` analyzers' tokenizer).
fn letter_runs(text: &str) -> Vec<String> {
    text.split(|character: char| !character.is_alphabetic())
        .filter(|word| !word.is_empty())
        .map(str::to_string)
        .collect()
}

/// Returns whether a whitespace-delimited chunk is an e-mail address `uax_url_email` keeps whole.
fn is_email_address(chunk: &str) -> bool {
    let Some((local_part, domain)) = chunk.split_once('@') else { return false };
    let local_part_ok = !local_part.is_empty()
        && local_part
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(character));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty() && label.chars().all(|character| character.is_ascii_alphanumeric() || character == '-')
        })
        && labels
            .last()
            .is_some_and(|top_level| top_level.len() >= 2 && top_level.chars().all(|c| c.is_ascii_alphabetic()));
    local_part_ok && domain_ok
}

/// Returns whether a chunk is a URL with a scheme, kept whole by `uax_url_email`.
fn is_url(chunk: &str) -> bool {
    ["http://", "https://", "ftp://", "file://"].iter().any(|scheme| chunk.to_lowercase().starts_with(scheme))
        && chunk.len() > 8
}

/// The tokens of the `uax_url_email` tokenizer (before filters).
fn url_email_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    for chunk in text.split_whitespace() {
        let trimmed = chunk.trim_matches(|character: char| "()<>[]\"',;".contains(character));
        if is_email_address(trimmed) || is_url(trimmed) {
            words.push(trimmed.to_string());
            continue;
        }
        words.extend(standard_words(chunk));
    }
    words
}

/// The captures of one `pattern_capture` pattern over a token, in order.
fn captures(pattern_index: usize, token: &str) -> Vec<String> {
    match pattern_index {
        0 => token.split('@').filter(|part| !part.is_empty()).map(str::to_string).collect(),
        1 => token
            .split(|character: char| !character.is_alphabetic())
            .filter(|part| !part.is_empty())
            .map(str::to_string)
            .collect(),
        2 => token
            .split(|character: char| !character.is_ascii_digit())
            .filter(|part| !part.is_empty())
            .map(str::to_string)
            .collect(),
        _ => match token.find('@') {
            Some(at) if at + 1 < token.len() => vec![token[at + 1..].to_string()],
            _ => Vec::new(),
        },
    }
}

/// The security index's `email` analyzer.
fn analyze_email(text: &str) -> Vec<Token> {
    let mut tokens: Vec<Token> = Vec::new();
    let mut seen_terms: Vec<String> = Vec::new();
    for (position, word) in url_email_words(text).into_iter().enumerate() {
        let mut variants = vec![word.clone()];
        for pattern_index in 0..4 {
            for capture in captures(pattern_index, &word) {
                if capture != word {
                    variants.push(capture);
                }
            }
        }
        for variant in variants {
            let term = variant.to_lowercase();
            if seen_terms.contains(&term) {
                continue;
            }
            seen_terms.push(term.clone());
            tokens.push(Token { term, position: position as u32 });
        }
    }
    tokens
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn terms(analyzer: Analyzer, text: &str) -> Vec<String> {
        analyzer.analyze(text).into_iter().map(|token| token.term).collect()
    }

    #[test]
    fn standard_analyzer_table() {
        let table: &[(&str, &[&str])] = &[
            ("Jack Nicholson", &["jack", "nicholson"]),
            ("user_foo", &["user_foo"]),
            ("jack.nich", &["jack.nich"]),
            ("O'Neil", &["o'neil"]),
            ("foo-bar", &["foo", "bar"]),
            ("3.14 1,000", &["3.14", "1,000"]),
            ("a@b.com", &["a", "b.com"]),
            ("Super Curious Admin Bar", &["super", "curious", "admin", "bar"]),
            ("end.", &["end"]),
            ("___", &[]),
            ("北京 x", &["北", "京", "x"]),
            ("Élodie Müller", &["élodie", "müller"]),
        ];
        for (text, expected) in table {
            assert_eq!(terms(Analyzer::Standard, text), *expected, "{text}");
        }
    }

    #[test]
    fn email_analyzer_table() {
        let table: &[(&str, &[&str])] = &[
            ("jacknich@example.com", &["jacknich@example.com", "jacknich", "example.com", "example", "com"]),
            ("Batman@Hotmail.com", &["batman@hotmail.com", "batman", "hotmail.com", "hotmail", "com"]),
            ("user42@mail.org", &["user42@mail.org", "user42", "mail.org", "user", "mail", "org", "42"]),
            ("batman", &["batman"]),
            ("not an email", &["not", "an", "email"]),
        ];
        for (text, expected) in table {
            let mut actual = terms(Analyzer::Email, text);
            let mut expected: Vec<String> = expected.iter().map(|term| term.to_string()).collect();
            assert_eq!(actual[0], expected[0], "the original comes first: {text}");
            actual.sort();
            expected.sort();
            assert_eq!(actual, expected, "{text}");
        }
    }

    #[test]
    fn other_analyzers() {
        assert_eq!(terms(Analyzer::Keyword, "Jack N"), vec!["Jack N"]);
        assert_eq!(terms(Analyzer::Whitespace, "Jack  N-x"), vec!["Jack", "N-x"]);
        assert_eq!(terms(Analyzer::Simple, "Jack2N-x"), vec!["jack", "n", "x"]);
        assert_eq!(terms(Analyzer::Stop, "the Jack of all"), vec!["jack", "all"]);
        assert_eq!(Analyzer::Standard.normalize("JaCk"), "jack");
        assert_eq!(Analyzer::Keyword.normalize("JaCk"), "JaCk");
    }

    proptest! {
        #[test]
        fn standard_terms_are_lowercase_and_non_empty(text in "\\PC{0,40}") {
            for token in Analyzer::Standard.analyze(&text) {
                prop_assert!(!token.term.is_empty());
                prop_assert_eq!(token.term.to_lowercase(), token.term.clone());
            }
        }

        #[test]
        fn email_terms_are_unique(text in "[a-zA-Z0-9@. ]{0,40}") {
            let analysed = terms(Analyzer::Email, &text);
            let mut deduplicated = analysed.clone();
            deduplicated.sort();
            deduplicated.dedup();
            prop_assert_eq!(analysed.len(), deduplicated.len());
        }
    }
}
