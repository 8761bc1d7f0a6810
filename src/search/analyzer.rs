//! Text analysis that mirrors the Elasticsearch analyzers of the profile index mapping.
//!
//! - [`standard_tokens`]: the `standard` analyzer (Unicode UAX#29 word boundaries, lowercase,
//!   tokens split at 255 characters), used by `user.username` and `user.full_name`.
//! - [`shingles`]: Lucene's fixed-size shingles (`_2gram`, `_3gram` sub-fields).
//! - [`email_tokens`]: the custom `email` analyzer (`uax_url_email` tokenizer, `pattern_capture`
//!   with `preserve_original`, `lowercase`, `unique`).
//!
//! The word segmentation is an approximation of UAX#29 that covers the rules that matter for names
//! and e-mail addresses: letters and digits joined by `_`, letters joined by `.`, `'` and `:`,
//! digits joined by `.`, `,` and `;`, Katakana runs, and one token per Han or Hiragana character.

/// Longest token the standard tokenizer emits; longer words are split (Lucene `maxTokenLength`).
const MAX_TOKEN_CHARS: usize = 255;

/// One analysed token: its text, its position group and where it ends in the input (in bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AnalyzedToken {
    pub(crate) text: String,
    /// Position of the token; tokens sharing a position are synonyms (e-mail captures).
    pub(crate) position: u32,
    /// Byte offset in the input just after the token.
    pub(crate) end_offset: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WordClass {
    Letter,
    Numeric,
    Katakana,
    /// Han ideographs and Hiragana: every character is a token of its own.
    Ideographic,
    ExtendNumLet,
    MidLetter,
    MidNumLet,
    MidNum,
    SingleQuote,
    /// Combining marks and format characters: they stick to the preceding character.
    Extend,
    Other,
}

fn classify(character: char) -> WordClass {
    let code = character as u32;
    match code {
        0x3040..=0x309F | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3FFFF => {
            return WordClass::Ideographic
        }
        0x30A0..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9F => return WordClass::Katakana,
        0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F => {
            return WordClass::Extend
        }
        0xFE00..=0xFE0F | 0x200C | 0x200D | 0x00AD | 0x200E | 0x200F | 0x2060..=0x2064 | 0xFEFF => {
            return WordClass::Extend
        }
        _ => {}
    }
    match character {
        '_' | '\u{203F}' | '\u{2040}' | '\u{2054}' | '\u{FE33}' | '\u{FE34}' | '\u{FE4D}'..='\u{FE4F}' | '\u{FF3F}' => {
            WordClass::ExtendNumLet
        }
        ':' | '\u{00B7}' | '\u{0387}' | '\u{05F4}' | '\u{2027}' | '\u{FE13}' | '\u{FE55}' | '\u{FF1A}' => {
            WordClass::MidLetter
        }
        '.' | '\u{2018}' | '\u{2019}' | '\u{2024}' | '\u{FE52}' | '\u{FF07}' | '\u{FF0E}' => WordClass::MidNumLet,
        ',' | ';' | '\u{037E}' | '\u{0589}' | '\u{060C}' | '\u{060D}' | '\u{066C}' | '\u{07F8}' | '\u{2044}'
        | '\u{FE10}' | '\u{FE14}' | '\u{FE50}' | '\u{FE54}' | '\u{FF0C}' | '\u{FF1B}' => WordClass::MidNum,
        '\'' => WordClass::SingleQuote,
        _ if character.is_numeric() => WordClass::Numeric,
        _ if character.is_alphabetic() => WordClass::Letter,
        _ => WordClass::Other,
    }
}

fn is_word_start(class: WordClass) -> bool {
    matches!(class, WordClass::Letter | WordClass::Numeric | WordClass::Katakana | WordClass::ExtendNumLet)
}

/// Tells whether two word characters are adjacent parts of one word (UAX#29 WB5, WB8-WB10, WB13*).
fn joins_directly(previous: WordClass, next: WordClass) -> bool {
    use WordClass::{ExtendNumLet, Katakana, Letter, Numeric};
    matches!(
        (previous, next),
        (Letter | Numeric, Letter | Numeric)
            | (Katakana, Katakana)
            | (Letter | Numeric | Katakana | ExtendNumLet, ExtendNumLet)
            | (ExtendNumLet, Letter | Numeric | Katakana)
    )
}

/// Tells whether `middle` may sit between two word characters of class `around` (WB6/7, WB11/12).
fn joins_across(around: WordClass, middle: WordClass) -> bool {
    match around {
        WordClass::Letter => matches!(middle, WordClass::MidLetter | WordClass::MidNumLet | WordClass::SingleQuote),
        WordClass::Numeric => matches!(middle, WordClass::MidNum | WordClass::MidNumLet | WordClass::SingleQuote),
        _ => false,
    }
}

/// A word found in the input, as byte offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct WordSpan {
    start: usize,
    end: usize,
}

/// Splits `text` into UAX#29-like words (not lowercased), each at most [`MAX_TOKEN_CHARS`] long.
fn word_spans(text: &str, recognize_emails: bool) -> Vec<WordSpan> {
    let characters: Vec<(usize, char)> = text.char_indices().collect();
    let classes: Vec<WordClass> = characters.iter().map(|(_, character)| classify(*character)).collect();
    let byte_at = |index: usize| characters.get(index).map_or(text.len(), |(offset, _)| *offset);
    let mut spans = Vec::new();
    let mut index = 0;
    while index < characters.len() {
        if recognize_emails {
            if let Some(email_end) = match_email(&characters, index) {
                spans.push(WordSpan { start: byte_at(index), end: byte_at(email_end) });
                index = email_end;
                continue;
            }
        }
        let class = classes[index];
        if class == WordClass::Ideographic {
            let mut end = index + 1;
            while end < characters.len() && classes[end] == WordClass::Extend {
                end += 1;
            }
            spans.push(WordSpan { start: byte_at(index), end: byte_at(end) });
            index = end;
            continue;
        }
        if !is_word_start(class) {
            index += 1;
            continue;
        }
        let start = index;
        let mut last_class = class;
        let mut has_alphanumeric = class != WordClass::ExtendNumLet;
        let mut end = index + 1;
        loop {
            while end < characters.len() && classes[end] == WordClass::Extend {
                end += 1;
            }
            let Some(&next_class) = classes.get(end) else {
                break;
            };
            if joins_directly(last_class, next_class) {
                has_alphanumeric |= next_class != WordClass::ExtendNumLet;
                last_class = next_class;
                end += 1;
                continue;
            }
            let mut after_middle = end + 1;
            while after_middle < characters.len() && classes[after_middle] == WordClass::Extend {
                after_middle += 1;
            }
            let after_class = classes.get(after_middle).copied();
            if joins_across(last_class, next_class) && after_class == Some(last_class) {
                end = after_middle + 1;
                continue;
            }
            break;
        }
        if has_alphanumeric {
            let mut chunk_start = start;
            while chunk_start < end {
                let chunk_end = (chunk_start + MAX_TOKEN_CHARS).min(end);
                spans.push(WordSpan { start: byte_at(chunk_start), end: byte_at(chunk_end) });
                chunk_start = chunk_end;
            }
        }
        index = end;
    }
    spans
}

fn is_email_local_character(character: char) -> bool {
    character.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(character)
}

/// Returns the end (character index) of an e-mail address starting at `start`, if there is one.
///
/// Approximates the `uax_url_email` EMAIL rule: an ASCII local part (dot-separated atoms), `@`,
/// and a domain of at least two dot-separated labels whose last label is alphabetic.
fn match_email(characters: &[(usize, char)], start: usize) -> Option<usize> {
    if start > 0 && is_email_local_character(characters[start - 1].1) {
        return None;
    }
    let mut index = start;
    loop {
        let atom_start = index;
        while index < characters.len() && is_email_local_character(characters[index].1) {
            index += 1;
        }
        if index == atom_start {
            return None;
        }
        match characters.get(index) {
            Some((_, '.')) => index += 1,
            Some((_, '@')) => break,
            _ => return None,
        }
    }
    index += 1;
    let mut label_count = 0;
    let mut end_of_domain = None;
    loop {
        let label_start = index;
        while index < characters.len() && (characters[index].1.is_ascii_alphanumeric() || characters[index].1 == '-') {
            index += 1;
        }
        let label = &characters[label_start..index];
        let valid_label = !label.is_empty() && label.first()?.1 != '-' && label.last()?.1 != '-';
        if !valid_label {
            break;
        }
        label_count += 1;
        if label_count >= 2 && label.len() >= 2 && label.iter().all(|(_, character)| character.is_ascii_alphabetic()) {
            end_of_domain = Some(index);
        }
        if characters.get(index).map(|(_, character)| *character) == Some('.') {
            index += 1;
            continue;
        }
        break;
    }
    end_of_domain
}

/// Lowercases like Lucene's `LowerCaseFilter` (per code point, simple case mapping).
fn lowercase(text: &str) -> String {
    let mut lowered = String::with_capacity(text.len());
    for character in text.chars() {
        if character == '\u{0130}' {
            lowered.push('i');
            continue;
        }
        lowered.extend(character.to_lowercase());
    }
    lowered
}

/// Analyses `text` with the `standard` analyzer: one token per word, lowercased, positions 0, 1, ...
pub(crate) fn standard_tokens(text: &str) -> Vec<AnalyzedToken> {
    word_spans(text, false)
        .into_iter()
        .enumerate()
        .map(|(index, span)| AnalyzedToken {
            text: lowercase(&text[span.start..span.end]),
            position: index as u32,
            end_offset: span.end,
        })
        .collect()
}

/// Builds the fixed-size shingles (`size` consecutive tokens joined by a space) of `tokens`.
pub(crate) fn shingles(tokens: &[AnalyzedToken], size: usize) -> Vec<AnalyzedToken> {
    debug_assert!(size >= 2);
    tokens
        .windows(size)
        .enumerate()
        .map(|(index, window)| AnalyzedToken {
            text: window.iter().map(|token| token.text.as_str()).collect::<Vec<_>>().join(" "),
            position: index as u32,
            end_offset: window[size - 1].end_offset,
        })
        .collect()
}

/// Returns the prefixes of `text` of 1 to `max_chars` characters (edge n-grams).
pub(crate) fn edge_ngrams(text: &str, max_chars: usize) -> impl Iterator<Item = &str> {
    text.char_indices()
        .skip(1)
        .map(|(offset, _)| offset)
        .chain(std::iter::once(text.len()))
        .take(max_chars)
        .map(move |end| &text[..end])
}

/// Returns the `pattern_capture` outputs of the `email` filter for one token, original first.
///
/// Patterns: `([^@]+)`, `(\p{L}+)`, `(\d+)` and `@(.+)`, every match of each.
fn email_captures(token: &str) -> Vec<&str> {
    let mut captures = vec![token];
    captures.extend(token.split('@').filter(|part| !part.is_empty()));
    captures.extend(runs(token, |character| character.is_alphabetic()));
    captures.extend(runs(token, |character| character.is_ascii_digit()));
    if let Some(at_index) = token.find('@') {
        let domain = &token[at_index + 1..];
        if !domain.is_empty() {
            captures.push(domain);
        }
    }
    captures
}

/// Returns the maximal runs of characters accepted by `accepts`.
fn runs(text: &str, accepts: impl Fn(char) -> bool) -> Vec<&str> {
    let mut found = Vec::new();
    let mut run_start = None;
    for (offset, character) in text.char_indices() {
        match (accepts(character), run_start) {
            (true, None) => run_start = Some(offset),
            (false, Some(start)) => {
                found.push(&text[start..offset]);
                run_start = None;
            }
            _ => {}
        }
    }
    if let Some(start) = run_start {
        found.push(&text[start..]);
    }
    found
}

/// Analyses `text` with the profile index's `email` analyzer.
///
/// Captured parts share the position of the token they come from; duplicates anywhere in the
/// stream are dropped (the `unique` filter), and a dropped token does not open a new position.
/// Every term therefore occurs at most once per document, which lets a suggest query probe the
/// frequent terms of an address (its domain) with a bound that assumes a term frequency of one.
pub(crate) fn email_tokens(text: &str) -> Vec<AnalyzedToken> {
    let mut seen = std::collections::HashSet::new();
    let mut tokens: Vec<AnalyzedToken> = Vec::new();
    let mut next_position = 0u32;
    for span in word_spans(text, true) {
        let original = &text[span.start..span.end];
        for (capture_index, capture) in email_captures(original).into_iter().enumerate() {
            let lowered = lowercase(capture);
            if !seen.insert(lowered.clone()) {
                continue;
            }
            let opens_position = capture_index == 0 || tokens.is_empty();
            let position = if opens_position {
                next_position += 1;
                next_position - 1
            } else {
                next_position - 1
            };
            tokens.push(AnalyzedToken { text: lowered, position, end_offset: span.end });
        }
    }
    tokens
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn texts(tokens: &[AnalyzedToken]) -> Vec<&str> {
        tokens.iter().map(|token| token.text.as_str()).collect()
    }

    #[test]
    fn standard_keeps_underscored_and_dotted_words_whole() {
        assert_eq!(texts(&standard_tokens("user_foo")), ["user_foo"]);
        assert_eq!(texts(&standard_tokens("example.org")), ["example.org"]);
        assert_eq!(texts(&standard_tokens("O'Neil 3.14 1,000")), ["o'neil", "3.14", "1,000"]);
        assert_eq!(texts(&standard_tokens("Very Curious User Foo")), ["very", "curious", "user", "foo"]);
    }

    #[test]
    fn standard_splits_at_punctuation_and_at() {
        assert_eq!(texts(&standard_tokens("jack.nich@example.com")), ["jack.nich", "example.com"]);
        assert_eq!(texts(&standard_tokens("a-b (c) d. e")), ["a", "b", "c", "d", "e"]);
        assert_eq!(texts(&standard_tokens("end.")), ["end"]);
        assert_eq!(texts(&standard_tokens("___ _x")), ["_x"]);
    }

    #[test]
    fn standard_handles_unicode() {
        assert_eq!(texts(&standard_tokens("Zoë Çelik")), ["zoë", "çelik"]);
        assert_eq!(texts(&standard_tokens("Łukasz")), ["łukasz"]);
        assert_eq!(texts(&standard_tokens("渡辺 太郎")), ["渡", "辺", "太", "郎"]);
        assert_eq!(texts(&standard_tokens("カタカナ")), ["カタカナ"]);
        assert_eq!(texts(&standard_tokens("Zoe\u{0308}")), ["zoe\u{0308}"]);
    }

    #[test]
    fn standard_records_end_offsets() {
        let tokens = standard_tokens("ab cd ");
        assert_eq!(tokens[0].end_offset, 2);
        assert_eq!(tokens[1].end_offset, 5);
        assert_eq!(tokens[1].position, 1);
    }

    #[test]
    fn long_words_are_split_at_255_characters() {
        let long_word = "a".repeat(300);
        let tokens = standard_tokens(&long_word);
        assert_eq!(tokens.len(), 2);
        assert_eq!(tokens[0].text.len(), 255);
        assert_eq!(tokens[1].text.len(), 45);
    }

    #[test]
    fn shingles_join_consecutive_tokens() {
        let tokens = standard_tokens("Super Curious Admin Bar");
        assert_eq!(texts(&shingles(&tokens, 2)), ["super curious", "curious admin", "admin bar"]);
        assert_eq!(texts(&shingles(&tokens, 3)), ["super curious admin", "curious admin bar"]);
        assert!(shingles(&tokens[..1], 2).is_empty());
    }

    #[test]
    fn edge_ngrams_count_characters() {
        assert_eq!(edge_ngrams("zoë", 8).collect::<Vec<_>>(), ["z", "zo", "zoë"]);
        assert_eq!(edge_ngrams("abcdef", 3).collect::<Vec<_>>(), ["a", "ab", "abc"]);
    }

    #[test]
    fn email_emits_address_local_part_domain_and_runs() {
        let tokens = email_tokens("FooEmail@Example.org");
        assert_eq!(texts(&tokens), ["fooemail@example.org", "fooemail", "example.org", "example", "org"]);
        assert!(tokens.iter().all(|token| token.position == 0));
        let with_digits = email_tokens("joe2@x.io");
        assert_eq!(texts(&with_digits), ["joe2@x.io", "joe2", "x.io", "joe", "x", "io", "2"]);
    }

    #[test]
    fn email_query_text_groups_by_position_and_drops_duplicates() {
        let tokens = email_tokens("Kurious One");
        assert_eq!(texts(&tokens), ["kurious", "one"]);
        assert_eq!(tokens[1].position, 1);
        assert_eq!(texts(&email_tokens("example.org")), ["example.org", "example", "org"]);
        assert_eq!(texts(&email_tokens("bob bob")), ["bob"]);
        assert_eq!(texts(&email_tokens("fooem")), ["fooem"]);
    }

    #[test]
    fn email_recognition_needs_a_real_domain() {
        assert_eq!(texts(&email_tokens("a@localhost")), ["a", "localhost"]);
        assert_eq!(texts(&email_tokens("x.y@b.co")), ["x.y@b.co", "x.y", "b.co", "x", "y", "b", "co"]);
    }

    proptest! {
        #[test]
        fn standard_tokens_are_lowercase_and_nonempty(text in "\\PC{0,40}") {
            for token in standard_tokens(&text) {
                prop_assert!(!token.text.is_empty());
                prop_assert!(token.end_offset <= text.len());
                prop_assert_eq!(token.text.clone(), lowercase(&token.text));
            }
        }

        #[test]
        fn email_tokens_never_panic_and_are_unique(text in "[a-zA-Z0-9@._ -]{0,40}") {
            let tokens = email_tokens(&text);
            let unique: std::collections::HashSet<_> = tokens.iter().map(|token| token.text.clone()).collect();
            prop_assert_eq!(unique.len(), tokens.len());
        }
    }
}
