//! The users as the security index holds them: indexed terms per field and the statistics Lucene's
//! BM25 similarity scores with (k1 = 1.2, b = 0.75, lengths quantized to one byte as Lucene's norms are).
//!
//! Elasticsearch computes the statistics over the whole security index shard (which also holds roles,
//! role mappings and reserved-user documents); here they cover the queried users only, so scores, and the
//! default relevance order, are close to but not always exactly Elasticsearch's.

use serde_json::Value;

use super::analysis::{Analyzer, Token};
use super::query::UserField;

const BM25_K1: f32 = 1.2;
const BM25_B: f32 = 0.75;

/// The terms of one field of one user.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct FieldTerms {
    /// Whether the field has a value (what `exists` tests).
    pub(crate) present: bool,
    pub(crate) tokens: Vec<Token>,
    /// The encoded norm (field length, quantized); `None` for fields without norms (keyword, boolean).
    pub(crate) norm: Option<u8>,
}

impl FieldTerms {
    /// Returns how many times `term` occurs in the field.
    pub(crate) fn term_frequency(&self, term: &str) -> u32 {
        self.tokens.iter().filter(|token| token.term == term).count() as u32
    }
}

/// One user, indexed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IndexedUser {
    /// The position of the user in the index (Lucene's doc id; ties are broken by it).
    pub(crate) doc_index: usize,
    /// The document id in the security index: `user-<username>`.
    pub(crate) doc_id: String,
    pub(crate) username: Option<String>,
    pub(crate) roles: Vec<String>,
    pub(crate) enabled: Option<bool>,
    fields: [FieldTerms; 5],
}

fn field_slot(field: UserField) -> usize {
    match field {
        UserField::Username => 0,
        UserField::Roles => 1,
        UserField::Enabled => 2,
        UserField::FullName => 3,
        UserField::Email => 4,
    }
}

/// Returns the term Elasticsearch indexes for a boolean (`T` or `F`).
pub(crate) fn boolean_term(flag: bool) -> &'static str {
    if flag {
        "T"
    } else {
        "F"
    }
}

fn keyword_terms(values: &[String]) -> FieldTerms {
    FieldTerms {
        present: !values.is_empty(),
        tokens: values
            .iter()
            .enumerate()
            .map(|(index, value)| Token { term: value.clone(), position: index as u32 })
            .collect(),
        norm: None,
    }
}

fn text_terms(text: Option<&str>, analyzer: Analyzer) -> FieldTerms {
    let Some(text) = text else { return FieldTerms::default() };
    let tokens = analyzer.analyze(text);
    let mut positions: Vec<u32> = tokens.iter().map(|token| token.position).collect();
    positions.dedup();
    FieldTerms { present: true, tokens, norm: Some(int_to_byte4(positions.len() as u32)) }
}

impl IndexedUser {
    /// Indexes a user rendered as `GET /_security/user` renders it.
    pub(crate) fn from_json(doc_index: usize, user: &Value) -> IndexedUser {
        let username = user.get("username").and_then(Value::as_str).map(str::to_string);
        let roles: Vec<String> = user
            .get("roles")
            .and_then(Value::as_array)
            .map(|roles| roles.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default();
        let enabled = user.get("enabled").and_then(Value::as_bool);
        let full_name = user.get("full_name").and_then(Value::as_str);
        let email = user.get("email").and_then(Value::as_str);
        let fields = [
            keyword_terms(&username.iter().cloned().collect::<Vec<_>>()),
            keyword_terms(&roles),
            keyword_terms(&enabled.iter().map(|flag| boolean_term(*flag).to_string()).collect::<Vec<_>>()),
            text_terms(full_name, Analyzer::Standard),
            text_terms(email, Analyzer::Email),
        ];
        IndexedUser {
            doc_index,
            doc_id: format!("user-{}", username.as_deref().unwrap_or_default()),
            username,
            roles,
            enabled,
            fields,
        }
    }

    /// Returns the indexed terms of a field.
    pub(crate) fn field(&self, field: UserField) -> &FieldTerms {
        &self.fields[field_slot(field)]
    }
}

/// Per-field collection statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct FieldStatistics {
    doc_count: u64,
    sum_total_term_frequency: u64,
}

/// The indexed users with their collection statistics.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct UserIndex {
    pub(crate) users: Vec<IndexedUser>,
    statistics: [FieldStatistics; 5],
}

impl UserIndex {
    /// Indexes users in index order.
    pub(crate) fn build(users: &[Value]) -> UserIndex {
        let users: Vec<IndexedUser> =
            users.iter().enumerate().map(|(index, user)| IndexedUser::from_json(index, user)).collect();
        let mut statistics = [FieldStatistics::default(); 5];
        for field in UserField::ALL {
            let slot = &mut statistics[field_slot(field)];
            for user in &users {
                let terms = user.field(field);
                if !terms.tokens.is_empty() {
                    slot.doc_count += 1;
                    slot.sum_total_term_frequency += terms.tokens.len() as u64;
                }
            }
        }
        UserIndex { users, statistics }
    }

    /// Returns how many users have `term` in `field`.
    pub(crate) fn doc_frequency(&self, field: UserField, term: &str) -> u64 {
        self.users.iter().filter(|user| user.field(field).tokens.iter().any(|token| token.term == term)).count() as u64
    }

    /// Returns the BM25 inverse document frequency of `term` in `field`.
    pub(crate) fn idf(&self, field: UserField, term: &str) -> f32 {
        let doc_count = self.statistics[field_slot(field)].doc_count as f64;
        let doc_frequency = self.doc_frequency(field, term) as f64;
        (1.0 + (doc_count - doc_frequency + 0.5) / (doc_frequency + 0.5)).ln() as f32
    }

    /// Returns the BM25 length normalization `k1 * (1 - b + b * dl / avgdl)` of a user's field.
    fn length_normalization(&self, field: UserField, user: &IndexedUser) -> f32 {
        let statistics = self.statistics[field_slot(field)];
        if statistics.doc_count == 0 {
            return BM25_K1;
        }
        let average_length = statistics.sum_total_term_frequency as f32 / statistics.doc_count as f32;
        let encoded_norm = user.field(field).norm.unwrap_or(1);
        let document_length = byte4_to_int(encoded_norm) as f32;
        BM25_K1 * ((1.0 - BM25_B) + BM25_B * document_length / average_length)
    }

    /// Returns the BM25 score of a term occurring `frequency` times in a user's field, given its idf.
    pub(crate) fn bm25(&self, field: UserField, user: &IndexedUser, idf: f32, frequency: f32, boost: f32) -> f32 {
        if frequency <= 0.0 {
            return 0.0;
        }
        let weight = boost * idf;
        let normalization = self.length_normalization(field, user);
        weight * frequency / (frequency + normalization)
    }

    /// Returns the BM25 score of `term` for a user (0 when the term is absent).
    pub(crate) fn term_score(&self, field: UserField, user: &IndexedUser, term: &str, boost: f32) -> f32 {
        let frequency = user.field(field).term_frequency(term) as f32;
        self.bm25(field, user, self.idf(field, term), frequency, boost)
    }
}

/// Lucene's `SmallFloat.longToInt4`.
fn long_to_int4(value: u64) -> u32 {
    let bit_count = 64 - value.leading_zeros();
    if bit_count < 4 {
        return value as u32;
    }
    let shift = bit_count - 4;
    let mut encoded = (value >> shift) as u32;
    encoded &= 0x07;
    encoded |= (shift + 1) << 3;
    encoded
}

/// Lucene's `SmallFloat.int4ToLong`.
fn int4_to_long(encoded: u32) -> u64 {
    let bits = u64::from(encoded & 0x07);
    let shift = (encoded >> 3) as i32 - 1;
    if shift == -1 {
        bits
    } else {
        (bits | 0x08) << shift
    }
}

/// The number of small lengths Lucene encodes exactly (24).
fn free_values() -> u32 {
    255 - long_to_int4(i32::MAX as u64)
}

/// Lucene's `SmallFloat.intToByte4`: the one-byte norm of a field length.
pub(crate) fn int_to_byte4(length: u32) -> u8 {
    let free = free_values();
    if length < free {
        return length as u8;
    }
    (free + long_to_int4(u64::from(length - free))) as u8
}

/// Lucene's `SmallFloat.byte4ToInt`.
pub(crate) fn byte4_to_int(encoded: u8) -> u32 {
    let value = u32::from(encoded);
    let free = free_values();
    if value < free {
        return value;
    }
    (u64::from(free) + int4_to_long(value - free)) as u32
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn norms_match_lucene() {
        assert_eq!(free_values(), 24);
        for length in 0..24 {
            assert_eq!(byte4_to_int(int_to_byte4(length)), length);
        }
        assert_eq!(byte4_to_int(int_to_byte4(100)), 96);
        assert!(byte4_to_int(int_to_byte4(1000)) <= 1000);
    }

    #[test]
    fn indexes_user_fields() {
        let user = json!({"username": "jack", "roles": ["a", "b"], "full_name": "Jack Nich", "email": null,
                          "metadata": {}, "enabled": true});
        let indexed = IndexedUser::from_json(3, &user);
        assert_eq!(indexed.doc_id, "user-jack");
        assert_eq!(indexed.field(UserField::Enabled).tokens[0].term, "T");
        assert_eq!(indexed.field(UserField::FullName).norm, Some(2));
        assert!(!indexed.field(UserField::Email).present);
        assert!(indexed.field(UserField::Roles).present);
    }

    #[test]
    fn rarer_terms_and_shorter_fields_score_higher() {
        let users = vec![
            json!({"username": "a", "roles": [], "full_name": "Jack", "enabled": true}),
            json!({"username": "b", "roles": [], "full_name": "Jack Nicholson Senior", "enabled": true}),
            json!({"username": "c", "roles": [], "full_name": "Nicholson", "enabled": true}),
        ];
        let index = UserIndex::build(&users);
        let short = index.term_score(UserField::FullName, &index.users[0], "jack", 1.0);
        let long = index.term_score(UserField::FullName, &index.users[1], "jack", 1.0);
        assert!(short > long);
        assert_eq!(index.term_score(UserField::FullName, &index.users[2], "jack", 1.0), 0.0);
        assert!(index.idf(UserField::FullName, "senior") > index.idf(UserField::FullName, "jack"));
    }
}
