//! The tantivy schema of the suggest index and the conversion of profiles into its documents.
//!
//! Each Elasticsearch field of the suggest query has its own tantivy field, filled with tokens that
//! [`crate::search::analyzer`] produces. The tokens are handed to tantivy joined by
//! [`TOKEN_SEPARATOR`] and split again by [`SeparatorTokenizer`] (tantivy's pre-tokenized values
//! are serialised as JSON inside each document, which made indexing several times slower):
//!
//! | tantivy field | content | ES counterpart |
//! |---|---|---|
//! | `username`, `full_name` | standard tokens, freqs + norms | root `search_as_you_type` field |
//! | `*_2gram`, `*_3gram` | 2- and 3-token shingles | `._2gram`, `._3gram` |
//! | `*_prefix` | every token's first 1..=8 characters | `._index_prefix` (prefixes up to 20) |
//! | `email` | `email` analyzer tokens | `user.email` |
//! | `email_prefix` | every e-mail token's first 1..=8 characters | (none: ES expands the prefix) |
//! | `uid` | raw uid, indexed and fast | `uid` keyword |
//! | `labels` | `"<dotted.path>\0<value>"` per leaf | `labels` flattened (keyed) |
//! | `last_synchronized` | i64 fast field; segments sorted by it, descending | `last_synchronized` |
//!
//! Prefixes longer than [`MAX_PREFIX_CHARS`] are answered by expanding the term dictionary of the
//! root field instead, which is what Elasticsearch does past its 20-character prefix limit; both are
//! constant-score matches, so the split is invisible in results.

use std::collections::BTreeSet;

use serde_json::Value;
use tantivy::schema::{Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, STRING};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use tantivy::{Index, TantivyDocument};

use crate::search::analyzer::{edge_ngrams, email_tokens, shingles, standard_tokens};
use crate::search::SuggestDocument;

/// Longest prefix (in characters) that is indexed in the `*_prefix` fields.
pub(crate) const MAX_PREFIX_CHARS: usize = 8;

/// Version of the on-disk layout; an index written with another version is rebuilt.
pub(crate) const INDEX_FORMAT_VERSION: u64 = 1;

/// Name of the fast field the segments are sorted by.
pub(crate) const LAST_SYNCHRONIZED_FIELD: &str = "last_synchronized";

/// Name of the fast field holding the uid.
pub(crate) const UID_FIELD: &str = "uid";

/// Separator between the label path and the label value in the `labels` terms.
const LABEL_PATH_SEPARATOR: char = '\0';

/// Joins analysed tokens in field values; the analyzers never put it inside a token (it is a
/// control character, which is no word character and no e-mail character).
pub(crate) const TOKEN_SEPARATOR: char = '\u{1F}';

/// Name under which [`SeparatorTokenizer`] is registered on the index.
const SEPARATOR_TOKENIZER_NAME: &str = "profiled_separated_tokens";

/// Splits a field value at [`TOKEN_SEPARATOR`]; each piece is one already analysed token.
#[derive(Debug, Clone, Default)]
pub(crate) struct SeparatorTokenizer {
    token: Token,
}

/// The tokens of one value of a [`SeparatorTokenizer`] field.
pub(crate) struct SeparatorTokenStream<'a> {
    remaining: std::str::Split<'a, char>,
    token: &'a mut Token,
    next_offset: usize,
}

impl Tokenizer for SeparatorTokenizer {
    type TokenStream<'a> = SeparatorTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> SeparatorTokenStream<'a> {
        self.token.reset();
        self.token.position = usize::MAX;
        SeparatorTokenStream { remaining: text.split(TOKEN_SEPARATOR), token: &mut self.token, next_offset: 0 }
    }
}

impl TokenStream for SeparatorTokenStream<'_> {
    fn advance(&mut self) -> bool {
        for piece in self.remaining.by_ref() {
            let offset = self.next_offset;
            self.next_offset += piece.len() + TOKEN_SEPARATOR.len_utf8();
            if piece.is_empty() {
                continue;
            }
            self.token.text.clear();
            self.token.text.push_str(piece);
            self.token.offset_from = offset;
            self.token.offset_to = offset + piece.len();
            self.token.position = self.token.position.wrapping_add(1);
            return true;
        }
        false
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

/// Registers the tokenizer the schema's text fields use; needed on every opened [`Index`].
pub(crate) fn register_tokenizers(index: &Index) {
    index.tokenizers().register(SEPARATOR_TOKENIZER_NAME, SeparatorTokenizer::default());
}

/// The fields of one `search_as_you_type` field (root, shingles and prefixes).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SearchAsYouTypeFields {
    pub(crate) root: Field,
    pub(crate) two_gram: Field,
    pub(crate) three_gram: Field,
    pub(crate) prefix: Field,
}

/// Handles to every field of the suggest schema.
#[derive(Debug, Clone)]
pub(crate) struct ProfileFields {
    pub(crate) schema: Schema,
    pub(crate) uid: Field,
    pub(crate) last_synchronized: Field,
    pub(crate) username: SearchAsYouTypeFields,
    pub(crate) full_name: SearchAsYouTypeFields,
    pub(crate) email: Field,
    pub(crate) email_prefix: Field,
    pub(crate) labels: Field,
}

fn scored_text() -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(SEPARATOR_TOKENIZER_NAME)
            .set_index_option(IndexRecordOption::WithFreqs)
            .set_fieldnorms(true),
    )
}

fn prefix_text() -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(SEPARATOR_TOKENIZER_NAME)
            .set_index_option(IndexRecordOption::Basic)
            .set_fieldnorms(false),
    )
}

impl ProfileFields {
    /// Builds the schema of the suggest index.
    pub(crate) fn new() -> ProfileFields {
        let mut builder = Schema::builder();
        let uid = builder.add_text_field(UID_FIELD, STRING | FAST);
        let last_synchronized = builder.add_i64_field(LAST_SYNCHRONIZED_FIELD, FAST);
        let mut search_as_you_type = |name: &str| SearchAsYouTypeFields {
            root: builder.add_text_field(name, scored_text()),
            two_gram: builder.add_text_field(&format!("{name}_2gram"), scored_text()),
            three_gram: builder.add_text_field(&format!("{name}_3gram"), scored_text()),
            prefix: builder.add_text_field(&format!("{name}_prefix"), prefix_text()),
        };
        let username = search_as_you_type("username");
        let full_name = search_as_you_type("full_name");
        let email = builder.add_text_field("email", scored_text());
        let email_prefix = builder.add_text_field("email_prefix", prefix_text());
        let labels = builder.add_text_field("labels", STRING);
        ProfileFields {
            schema: builder.build(),
            uid,
            last_synchronized,
            username,
            full_name,
            email,
            email_prefix,
            labels,
        }
    }

    /// Converts a profile into the tantivy document that indexes it.
    pub(crate) fn to_document(&self, profile: &SuggestDocument) -> TantivyDocument {
        let mut document = TantivyDocument::default();
        document.add_text(self.uid, &profile.uid);
        document.add_i64(self.last_synchronized, profile.last_synchronized);
        add_search_as_you_type(&mut document, &self.username, &profile.username);
        if let Some(full_name) = &profile.full_name {
            add_search_as_you_type(&mut document, &self.full_name, full_name);
        }
        if let Some(email) = &profile.email {
            let tokens: Vec<String> = email_tokens(email).into_iter().map(|token| token.text).collect();
            let prefixes: BTreeSet<&str> =
                tokens.iter().flat_map(|token| edge_ngrams(token, MAX_PREFIX_CHARS)).collect();
            add_tokens(&mut document, self.email_prefix, prefixes.into_iter().map(str::to_string).collect());
            add_tokens(&mut document, self.email, tokens);
        }
        for label_term in label_terms(&profile.labels) {
            document.add_text(self.labels, label_term);
        }
        document
    }
}

fn add_search_as_you_type(document: &mut TantivyDocument, fields: &SearchAsYouTypeFields, text: &str) {
    let tokens = standard_tokens(text);
    let texts = |analyzed: Vec<crate::search::analyzer::AnalyzedToken>| -> Vec<String> {
        analyzed.into_iter().map(|token| token.text).collect()
    };
    let prefixes: BTreeSet<&str> = tokens.iter().flat_map(|token| edge_ngrams(&token.text, MAX_PREFIX_CHARS)).collect();
    add_tokens(document, fields.prefix, prefixes.into_iter().map(str::to_string).collect());
    add_tokens(document, fields.two_gram, texts(shingles(&tokens, 2)));
    add_tokens(document, fields.three_gram, texts(shingles(&tokens, 3)));
    add_tokens(document, fields.root, texts(tokens));
}

/// Adds already analysed tokens as one value of `field` (nothing when there are no tokens).
fn add_tokens(document: &mut TantivyDocument, field: Field, token_texts: Vec<String>) {
    if token_texts.is_empty() {
        return;
    }
    let separator = TOKEN_SEPARATOR.to_string();
    document.add_text(field, token_texts.join(&separator));
}

/// Returns the term that a `labels.<path>` terms query looks for.
pub(crate) fn label_term(path: &str, value: &str) -> String {
    format!("{path}{LABEL_PATH_SEPARATOR}{value}")
}

/// Flattens `labels` like Elasticsearch's keyed `flattened` field: one term per leaf value, keyed
/// by its dotted path (arrays add no path segment, `null` is skipped, scalars become strings).
pub(crate) fn label_terms(labels: &Value) -> Vec<String> {
    let mut terms = Vec::new();
    collect_label_terms(labels, &mut String::new(), &mut terms);
    terms
}

fn collect_label_terms(value: &Value, path: &mut String, terms: &mut Vec<String>) {
    match value {
        Value::Object(entries) => {
            for (key, child) in entries {
                let path_length = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                collect_label_terms(child, path, terms);
                path.truncate(path_length);
            }
        }
        Value::Array(items) => {
            for item in items {
                collect_label_terms(item, path, terms);
            }
        }
        Value::Null => {}
        Value::String(text) if !path.is_empty() => terms.push(label_term(path, text)),
        Value::Bool(_) | Value::Number(_) if !path.is_empty() => terms.push(label_term(path, &value.to_string())),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn labels_flatten_to_dotted_paths() {
        let labels = json!({"kibana": {"spaces": ["a", "b"], "n": 1, "gone": null}, "x.y": true, "top": "v"});
        let terms = label_terms(&labels);
        assert_eq!(
            terms,
            vec![
                label_term("kibana.spaces", "a"),
                label_term("kibana.spaces", "b"),
                label_term("kibana.n", "1"),
                label_term("x.y", "true"),
                label_term("top", "v"),
            ]
        );
    }

    #[test]
    fn separator_tokenizer_splits_and_skips_empty_pieces() {
        let mut tokenizer = SeparatorTokenizer::default();
        let text = format!("ab{TOKEN_SEPARATOR}{TOKEN_SEPARATOR}c d");
        let mut stream = tokenizer.token_stream(&text);
        let mut tokens = Vec::new();
        while stream.advance() {
            tokens.push((stream.token().text.clone(), stream.token().position));
        }
        assert_eq!(tokens, vec![("ab".to_string(), 0), ("c d".to_string(), 1)]);
    }

    #[test]
    fn empty_labels_have_no_terms() {
        assert!(label_terms(&json!({})).is_empty());
        assert!(label_terms(&json!(null)).is_empty());
    }
}
