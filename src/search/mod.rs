//! Typeahead index behind `GET|POST /_security/profile/_suggest`.
//!
//! [`ProfileIndex`] keeps the enabled profiles in a tantivy index (on disk or in memory) and answers
//! suggest queries the way Elasticsearch answers them on `.security-profile` (spec §6.2): a
//! `multi_match` of type `bool_prefix` with `fuzziness: AUTO` over the `search_as_you_type` fields
//! `user.username` and `user.full_name` (root, `_2gram`, `_3gram`) and the `email`-analysed
//! `user.email`, with the hints as boost-only `should` clauses, sorted by score then
//! `last_synchronized` descending.
//!
//! Layout:
//! - `analyzer`: the `standard`, shingle and `email` analyzers (pure functions);
//! - `schema`: tantivy fields and the conversion of a [`SuggestDocument`] into a tantivy document;
//! - `plan`: the query text turned into per-field clauses, as Elasticsearch builds them;
//! - `expand`: clause terms and BM25 statistics resolved against one searcher;
//! - `cursor` / `collect`: the per-segment top-k loop (MaxScore pruning over segments sorted by
//!   `last_synchronized` descending);
//! - `index`: [`ProfileIndex`] itself (open, apply changes, suggest).

#![allow(dead_code)]

mod analyzer;
#[cfg(test)]
mod bench;
mod collect;
mod cursor;
mod expand;
mod index;
mod plan;
mod schema;
#[cfg(test)]
mod tests;

#[allow(unused_imports)] // used by the API layer once wired
pub(crate) use self::index::ProfileIndex;

/// The fields of a profile that the suggest index needs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SuggestDocument {
    pub(crate) uid: String,
    pub(crate) username: String,
    pub(crate) full_name: Option<String>,
    pub(crate) email: Option<String>,
    /// Disabled profiles are removed from the index: suggest never returns them.
    pub(crate) enabled: bool,
    /// Epoch milliseconds of the last activation.
    pub(crate) last_synchronized: i64,
    /// The profile's `labels` object (searchable application data).
    pub(crate) labels: serde_json::Value,
}

/// One change of the profile store, applied in `seq_no` order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum IndexChange {
    /// Inserts the profile, or replaces the profile with the same uid.
    Upsert(SuggestDocument),
    /// Removes the profile with this uid, if indexed.
    Delete { uid: String },
}

/// A suggest request, already validated by the API layer.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SuggestQuery {
    /// Matched against username, full name and e-mail; empty or blank matches every profile.
    pub(crate) name: String,
    /// Number of uids to return.
    pub(crate) size: usize,
    /// Profiles with these uids rank higher (boost only).
    pub(crate) hint_uids: Vec<String>,
    /// One label key (a dotted path into `labels`) and the values that rank a profile higher.
    pub(crate) hint_label: Option<(String, Vec<String>)>,
}

/// The answer to a [`SuggestQuery`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SuggestResult {
    /// Number of matching profiles, capped at [`TRACK_TOTAL_HITS_UP_TO`].
    pub(crate) total: u64,
    /// True when more than [`TRACK_TOTAL_HITS_UP_TO`] profiles match (`"relation": "gte"`).
    pub(crate) total_is_lower_bound: bool,
    /// The best `size` profile uids, best first.
    pub(crate) uids: Vec<String>,
}

/// Elasticsearch's default `track_total_hits`: totals are exact up to this many hits.
pub(crate) const TRACK_TOTAL_HITS_UP_TO: u64 = 10_000;

/// Errors of the suggest index; all of them are internal server errors for clients.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SearchError {
    #[error("search index error: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("cannot open search index directory: {0}")]
    OpenDirectory(#[from] tantivy::directory::error::OpenDirectoryError),
    #[error("search index i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("search index at {path} was written by an incompatible version and could not be reset: {reason}")]
    Incompatible { path: String, reason: String },
    #[error("search index writer lock poisoned")]
    Poisoned,
}

impl From<SearchError> for crate::error::EsError {
    fn from(error: SearchError) -> Self {
        tracing::error!(error = %error, "suggest index failure");
        crate::error::EsError::internal(error.to_string())
    }
}
