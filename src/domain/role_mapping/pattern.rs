//! Elasticsearch's string patterns (`Automatons.patterns`): `/lucene regex/` or a wildcard with `*`, `?`
//! and `\` escapes, compiled to an anchored [`regex::Regex`] that matches whole strings only, as a Lucene
//! automaton does.
//!
//! Lucene's `RegExp` syntax differs from Rust's: `^`, `$` and most punctuation are literals, `"..."`
//! quotes a literal string, `@` is any string and `#` the empty language. Intersection (`&`),
//! complement (`~`) and numeric intervals (`<1-10>`) have no regex equivalent and are refused.

use regex::Regex;

/// A compiled pattern.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    regex: Regex,
}

impl Pattern {
    /// Compiles `text` the way `Automatons.pattern` does: `/.../` is a Lucene regex, `*` alone matches
    /// everything, anything else is a wildcard.
    pub(crate) fn compile(text: &str) -> Result<Pattern, String> {
        if let Some(body) = text.strip_prefix('/') {
            let Some(regex_body) = body.strip_suffix('/') else {
                return Err(format!(
                    "invalid pattern [{text}]. patterns starting with '/' indicate regular expression pattern and therefore must also end with '/'. other patterns (those that do not start with '/') will be treated as simple wildcard patterns"
                ));
            };
            return Self::from_translation(&translate_lucene_regex(regex_body)?, text);
        }
        Self::from_translation(&translate_wildcard(text), text)
    }

    fn from_translation(translated: &str, original: &str) -> Result<Pattern, String> {
        Regex::new(&format!(r"\A(?s:{translated})\z"))
            .map(|regex| Pattern { regex })
            .map_err(|_| format!("invalid pattern [{original}]"))
    }

    /// Tells whether the whole of `text` matches.
    pub(crate) fn matches(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }
}

/// Tells whether a rule value is a pattern rather than a literal (`FieldExpression.FieldValue`): it
/// contains `*` (`Regex.isSimpleMatchPattern`) or is a `/regex/`.
pub(crate) fn is_pattern(text: &str) -> bool {
    text.contains('*') || (text.len() > 1 && text.starts_with('/') && text.ends_with('/'))
}

/// Translates a wildcard: `*` any run, `?` one character, `\` escapes the next character.
fn translate_wildcard(text: &str) -> String {
    let mut translated = String::with_capacity(text.len() * 2);
    let mut characters = text.chars();
    while let Some(character) = characters.next() {
        match character {
            '*' => translated.push_str(".*"),
            '?' => translated.push('.'),
            '\\' => match characters.next() {
                Some(escaped) => push_literal(&mut translated, escaped),
                None => push_literal(&mut translated, '\\'),
            },
            literal => push_literal(&mut translated, literal),
        }
    }
    translated
}

fn push_literal(translated: &mut String, character: char) {
    let mut buffer = [0u8; 4];
    translated.push_str(&regex::escape(character.encode_utf8(&mut buffer)));
}

/// Translates a Lucene `RegExp` (all syntax flags) into Rust regex syntax.
fn translate_lucene_regex(source: &str) -> Result<String, String> {
    let characters: Vec<char> = source.chars().collect();
    let mut translated = String::with_capacity(source.len() * 2);
    let mut index = 0;
    while index < characters.len() {
        let character = characters[index];
        match character {
            '\\' => {
                index += 1;
                match characters.get(index) {
                    Some(class @ ('d' | 'D' | 's' | 'S' | 'w' | 'W')) => {
                        translated.push('\\');
                        translated.push(*class);
                    }
                    Some(escaped) => push_literal(&mut translated, *escaped),
                    None => return Err("expected character after '\\'".into()),
                }
            }
            '"' => {
                let Some(length) = characters[index + 1..].iter().position(|quoted| *quoted == '"') else {
                    return Err("expected '\"'".into());
                };
                translated.push_str("(?:");
                for quoted in &characters[index + 1..index + 1 + length] {
                    push_literal(&mut translated, *quoted);
                }
                translated.push(')');
                index += length + 1;
            }
            '[' => index = translate_class(&characters, index, &mut translated)?,
            '{' => {
                let Some(length) = characters[index..].iter().position(|closing| *closing == '}') else {
                    return Err("expected '}'".into());
                };
                let bounds: String = characters[index + 1..index + length].iter().collect();
                let valid = !bounds.is_empty()
                    && bounds.split(',').count() <= 2
                    && bounds.split(',').next().is_some_and(|low| !low.is_empty())
                    && bounds.chars().all(|bound| bound.is_ascii_digit() || bound == ',');
                if !valid {
                    return Err("integer expected".into());
                }
                translated.push('{');
                translated.push_str(&bounds);
                translated.push('}');
                index += length;
            }
            '.' | '(' | ')' | '|' | '*' | '+' | '?' => translated.push(character),
            '@' => translated.push_str(".*"),
            '#' => translated.push_str("[a&&b]"),
            '&' | '~' | '<' => return Err(format!("operator [{character}] is not supported")),
            literal => push_literal(&mut translated, literal),
        }
        index += 1;
    }
    Ok(translated)
}

/// Translates `[...]` starting at `start`; returns the index of the closing `]`.
fn translate_class(characters: &[char], start: usize, translated: &mut String) -> Result<usize, String> {
    let mut index = start + 1;
    translated.push('[');
    if characters.get(index) == Some(&'^') {
        translated.push('^');
        index += 1;
    }
    let mut members = 0;
    loop {
        let Some(&character) = characters.get(index) else {
            return Err("expected ']'".into());
        };
        if character == ']' && members > 0 {
            translated.push(']');
            return Ok(index);
        }
        let (first, after_first) = class_char(characters, index)?;
        push_class_literal(translated, first);
        index = after_first;
        if characters.get(index) == Some(&'-') && characters.get(index + 1).is_some_and(|next| *next != ']') {
            let (last, after_last) = class_char(characters, index + 1)?;
            if last < first {
                return Err("invalid range".into());
            }
            translated.push('-');
            push_class_literal(translated, last);
            index = after_last;
        }
        members += 1;
    }
}

fn class_char(characters: &[char], index: usize) -> Result<(char, usize), String> {
    match characters[index] {
        '\\' => {
            characters.get(index + 1).map(|escaped| (*escaped, index + 2)).ok_or_else(|| "expected ']'".to_string())
        }
        plain => Ok((plain, index + 1)),
    }
}

fn push_class_literal(translated: &mut String, character: char) {
    if character.is_ascii_alphanumeric() {
        translated.push(character);
    } else {
        translated.push_str(&format!("\\x{{{:x}}}", character as u32));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(pattern: &str, text: &str, expected: bool) {
        let compiled = Pattern::compile(pattern).unwrap_or_else(|error| panic!("{pattern}: {error}"));
        assert_eq!(compiled.matches(text), expected, "pattern [{pattern}] on [{text}]");
    }

    #[test]
    fn wildcards_match_whole_strings() {
        check("*", "", true);
        check("*", "anything", true);
        check("jo*", "joe", true);
        check("jo*", "ajoe", false);
        check("j?e", "joe", true);
        check("j?e", "jooe", false);
        check(r"a\*b", "a*b", true);
        check(r"a\*b", "axb", false);
        check("*.example.com", "mail.example.com", true);
        check("*.example.com", "mailxexample.com", false);
        check("(x)*", "(x)yz", true);
    }

    #[test]
    fn lucene_regexes_use_lucene_syntax() {
        check("/jo.*/", "joe", true);
        check("/jo.*/", "ajoe", false);
        check("/(joe|jane)/", "jane", true);
        check("/[a-c]+x/", "abcx", true);
        check("/[^a-c]x/", "dx", true);
        check("/[^a-c]x/", "ax", false);
        check("/a{2,3}/", "aaa", true);
        check("/a{2,3}/", "aaaa", false);
        check("/^a$/", "^a$", true);
        check("/\"a.b\"/", "a.b", true);
        check("/\"a.b\"/", "axb", false);
        check("/a@/", "abc", true);
        check("/a#/", "a", false);
        check(r"/a\.b/", "a.b", true);
        check(r"/\d+/", "123", true);
    }

    #[test]
    fn unsupported_or_broken_patterns_are_refused() {
        assert!(Pattern::compile("/abc").is_err());
        assert!(Pattern::compile("/a&b/").is_err());
        assert!(Pattern::compile("/~a/").is_err());
        assert!(Pattern::compile("/<1-10>/").is_err());
        assert!(Pattern::compile("/(a/").is_err());
        assert!(Pattern::compile("/[a/").is_err());
    }

    #[test]
    fn only_stars_and_slashes_make_patterns() {
        assert!(is_pattern("a*"));
        assert!(is_pattern("/a/"));
        assert!(!is_pattern("a?"), "a question mark alone is a literal, as in Elasticsearch");
        assert!(!is_pattern("/"));
    }
}
