//! TEMPORARY STUB: replaced by the tantivy suggest index.
#![allow(dead_code, unused_variables)]
use std::path::Path;
#[derive(Debug, thiserror::Error)]
pub(crate) enum SearchError { #[error("stub")] Stub }
#[derive(Debug, Clone)]
pub(crate) struct SuggestDocument { pub(crate) uid: String, pub(crate) username: String, pub(crate) full_name: Option<String>, pub(crate) email: Option<String>, pub(crate) enabled: bool, pub(crate) last_synchronized: i64, pub(crate) labels: serde_json::Value }
#[derive(Debug, Clone)]
pub(crate) enum IndexChange { Upsert(SuggestDocument), Delete { uid: String } }
#[derive(Debug, Clone)]
pub(crate) struct SuggestQuery { pub(crate) name: String, pub(crate) size: usize, pub(crate) hint_uids: Vec<String>, pub(crate) hint_label: Option<(String, Vec<String>)> }
#[derive(Debug, Clone)]
pub(crate) struct SuggestResult { pub(crate) total: u64, pub(crate) total_is_lower_bound: bool, pub(crate) uids: Vec<String> }
#[derive(Debug)]
pub(crate) struct ProfileIndex;
impl ProfileIndex {
    pub(crate) fn open_in_dir(dir: &Path) -> Result<ProfileIndex, SearchError> { Ok(ProfileIndex) }
    pub(crate) fn open_in_memory() -> Result<ProfileIndex, SearchError> { Ok(ProfileIndex) }
    pub(crate) fn applied_seq_no(&self) -> Option<i64> { None }
    pub(crate) fn apply(&self, changes: Vec<IndexChange>, up_to_seq_no: i64) -> Result<(), SearchError> { Ok(()) }
    pub(crate) fn suggest(&self, query: &SuggestQuery) -> Result<SuggestResult, SearchError> { Ok(SuggestResult { total: 0, total_is_lower_bound: false, uids: vec![] }) }
}
