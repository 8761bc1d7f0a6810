//! [`ProfileIndex`]: opening, updating and querying the suggest index.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use serde::{Deserialize, Serialize};
use tantivy::columnar::{Cardinality, ColumnValues, StrColumn};
use tantivy::directory::MmapDirectory;
use tantivy::index::SegmentId;
use tantivy::indexer::{IndexWriterOptions, LogMergePolicy};
use tantivy::store::Compressor;
use tantivy::{
    Index, IndexReader, IndexSettings, IndexSortByField, IndexWriter, Order, ReloadPolicy, Searcher, SegmentReader,
    Term,
};

use crate::search::collect::{collect_segment, count_matches, ScoredCursor, SegmentInput, TopHits};
use crate::search::cursor::{open_cursor, Window};
use crate::search::expand::{resolve_clauses, ResolvedClause};
use crate::search::plan::plan_query;
use crate::search::schema::{
    register_tokenizers, ProfileFields, INDEX_FORMAT_VERSION, LAST_SYNCHRONIZED_FIELD, UID_FIELD,
};
use crate::search::{IndexChange, SearchError, SuggestQuery, SuggestResult, TRACK_TOTAL_HITS_UP_TO};

/// Memory the single indexing thread may buffer before it writes a segment.
const WRITER_MEMORY_BUDGET_BYTES: usize = 64_000_000;

/// What each commit records next to its segments.
#[derive(Debug, Serialize, Deserialize)]
struct CommitPayload {
    format_version: u64,
    applied_seq_no: Option<i64>,
}

/// The suggest index: shared by every request thread (`Send + Sync`), written by [`Self::apply`].
///
/// Every `apply` is one tantivy commit: the changed documents and the store `seq_no` they bring
/// the index up to are persisted atomically (the seq_no is the commit payload), then the reader is
/// reloaded so that the next `suggest` sees the changes.
///
/// Cost of a commit: a fixed part of about 10-15 ms of CPU (tantivy allocates a 4 MB term hash
/// table and builds one term dictionary per field for the new segment), plus, on disk, one fsync
/// per written file (about 150 ms on the 2-core development VM). One change or a thousand cost
/// about the same, so a caller fed by a change sequence should pass every pending change to one
/// `apply` (drain the sequence, apply, repeat): under hundreds of changes per second each commit
/// then carries many changes, and a change becomes visible within about one commit time (the
/// same order as Elasticsearch's 1 s refresh interval).
pub(crate) struct ProfileIndex {
    fields: ProfileFields,
    reader: IndexReader,
    /// `None` only while [`Self::merge_all_segments`] replaces the writer (or after it failed to).
    writer: Mutex<Option<IndexWriter>>,
    applied_seq_no: RwLock<Option<i64>>,
    /// The fast-field columns of the searched segments, opened once per segment (opening one
    /// decodes all its block headers, which cost more than a short suggestion itself).
    columns: RwLock<HashMap<SegmentId, SegmentColumns>>,
}

/// The fast-field columns a suggestion reads in one segment.
#[derive(Clone)]
struct SegmentColumns {
    last_synchronized: Arc<dyn ColumnValues<i64>>,
    uids: Option<StrColumn>,
    /// The fieldnorm id of the segment's shortest e-mail (`None` without any e-mail).
    email_min_fieldnorm_id: Option<u8>,
}

impl std::fmt::Debug for ProfileIndex {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("ProfileIndex").field("applied_seq_no", &self.applied_seq_no()).finish_non_exhaustive()
    }
}

fn index_settings() -> IndexSettings {
    IndexSettings {
        sort_by_field: Some(IndexSortByField { field: LAST_SYNCHRONIZED_FIELD.to_string(), order: Order::Desc }),
        docstore_compression: Compressor::None,
        ..IndexSettings::default()
    }
}

impl ProfileIndex {
    /// Opens the index persisted in `dir`, or creates it. The directory belongs to the index: an
    /// index written by an incompatible version is erased and recreated empty (its
    /// `applied_seq_no` is then `None`, so the caller replays every change).
    pub(crate) fn open_in_dir(dir: &Path) -> Result<ProfileIndex, SearchError> {
        std::fs::create_dir_all(dir)?;
        let fields = ProfileFields::new();
        let directory = MmapDirectory::open(dir)?;
        let exists = Index::exists(&directory).map_err(|error| SearchError::Io(std::io::Error::other(error)))?;
        if exists {
            let index = Index::open(directory)?;
            if is_compatible(&index, &fields)? {
                return ProfileIndex::from_index(index, fields);
            }
            drop(index);
            erase_directory_files(dir)?;
        }
        let index = Index::builder().schema(fields.schema.clone()).settings(index_settings()).create_in_dir(dir)?;
        ProfileIndex::from_index(index, fields)
    }

    /// Creates an empty index held in memory (tests, or a server without a data directory).
    pub(crate) fn open_in_memory() -> Result<ProfileIndex, SearchError> {
        let fields = ProfileFields::new();
        let index = Index::builder().schema(fields.schema.clone()).settings(index_settings()).create_in_ram()?;
        ProfileIndex::from_index(index, fields)
    }

    fn from_index(index: Index, fields: ProfileFields) -> Result<ProfileIndex, SearchError> {
        register_tokenizers(&index);
        let applied_seq_no = read_payload(&index)?.and_then(|payload| payload.applied_seq_no);
        let writer = new_writer(&index)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::OnCommitWithDelay).try_into()?;
        Ok(ProfileIndex {
            fields,
            reader,
            writer: Mutex::new(Some(writer)),
            applied_seq_no: RwLock::new(applied_seq_no),
            columns: RwLock::new(HashMap::new()),
        })
    }

    /// Returns how many segments the searcher reads.
    pub(crate) fn segment_count(&self) -> usize {
        self.reader.searcher().segment_readers().len()
    }

    /// Merges every segment into one (Elasticsearch's force merge to one segment), waiting for the merges
    /// in flight first. Each segment has its own term dictionary, and a fuzzy term is expanded by running its
    /// automaton over every one of them: after a bulk build (a million profiles indexed at the first open)
    /// the merge policy leaves about twenty segments, which made a full-name suggestion several times
    /// slower. Later changes go to new small segments, which the merge policy merges as usual.
    pub(crate) fn merge_all_segments(&self) -> Result<(), SearchError> {
        let mut guard = self.writer.lock().map_err(|_| SearchError::Poisoned)?;
        let writer = guard.take().ok_or(SearchError::Poisoned)?;
        let index = writer.index().clone();
        writer.wait_merging_threads()?;
        let mut writer = new_writer(&index)?;
        let segment_ids = index.searchable_segment_ids()?;
        let merged = if segment_ids.len() > 1 { writer.merge(&segment_ids).wait().map(|_| ()) } else { Ok(()) };
        *guard = Some(writer);
        merged?;
        self.reader.reload()?;
        Ok(())
    }

    /// Returns the highest store `seq_no` whose changes the index holds (persisted with them).
    pub(crate) fn applied_seq_no(&self) -> Option<i64> {
        self.applied_seq_no.read().map_or(None, |guard| *guard)
    }

    /// Applies `changes` in order (upsert by uid, delete by uid; disabled profiles are removed),
    /// commits them together with `up_to_seq_no`, and makes them visible to `suggest`.
    pub(crate) fn apply(&self, changes: Vec<IndexChange>, up_to_seq_no: i64) -> Result<(), SearchError> {
        let mut guard = self.writer.lock().map_err(|_| SearchError::Poisoned)?;
        let writer = guard.as_mut().ok_or(SearchError::Poisoned)?;
        let index_was_empty = self.reader.searcher().num_docs() == 0;
        match self.write_changes(&writer, changes, index_was_empty) {
            Ok(()) => {}
            Err(error) => {
                writer.rollback()?;
                return Err(error);
            }
        }
        let applied_seq_no = self.applied_seq_no().map_or(up_to_seq_no, |previous| previous.max(up_to_seq_no));
        let payload = CommitPayload { format_version: INDEX_FORMAT_VERSION, applied_seq_no: Some(applied_seq_no) };
        let payload_json = serde_json::to_string(&payload).map_err(|error| SearchError::Io(error.into()))?;
        let mut prepared_commit = writer.prepare_commit()?;
        prepared_commit.set_payload(&payload_json);
        prepared_commit.commit()?;
        self.reader.reload()?;
        if let Ok(mut guard) = self.applied_seq_no.write() {
            *guard = Some(applied_seq_no);
        }
        Ok(())
    }

    fn write_changes(
        &self,
        writer: &IndexWriter,
        changes: Vec<IndexChange>,
        index_was_empty: bool,
    ) -> Result<(), SearchError> {
        // On an empty index (first seeding) a uid needs deleting only if this batch added it.
        let mut added_in_batch: HashSet<String> = HashSet::new();
        let delete_uid = |uid: &str, added_in_batch: &HashSet<String>| {
            if !index_was_empty || added_in_batch.contains(uid) {
                writer.delete_term(Term::from_field_text(self.fields.uid, uid));
            }
        };
        for change in changes {
            match change {
                IndexChange::Upsert(profile) => {
                    delete_uid(&profile.uid, &added_in_batch);
                    if !profile.enabled {
                        continue;
                    }
                    writer.add_document(self.fields.to_document(&profile))?;
                    if index_was_empty {
                        added_in_batch.insert(profile.uid);
                    }
                }
                IndexChange::Delete { uid } => delete_uid(&uid, &added_in_batch),
            }
        }
        Ok(())
    }

    /// Returns the uids of the best matching enabled profiles and the number of matches.
    pub(crate) fn suggest(&self, query: &SuggestQuery) -> Result<SuggestResult, SearchError> {
        let searcher = self.reader.searcher();
        let plan = plan_query(&self.fields, &query.name, &query.hint_uids, query.hint_label.as_ref());
        let name_clauses = resolve_clauses(&searcher, &plan.name_clauses)?;
        let hint_clauses = resolve_clauses(&searcher, &plan.hint_clauses)?;
        let mut segments = Vec::with_capacity(searcher.segment_readers().len());
        for (segment_ord, segment_reader) in searcher.segment_readers().iter().enumerate() {
            let match_cursors = open_cursors(&name_clauses, segment_reader)?;
            if !match_cursors.is_empty() {
                segments.push((segment_ord as u32, segment_reader, match_cursors));
            }
        }
        // The window is a thread's scratch space, reused across queries (`reset` clears what the last one wrote).
        let mut window = WINDOW.with(|cell| cell.borrow_mut().take()).unwrap_or_else(Window::new);
        let (total, total_is_lower_bound) = if plan.matches_everything {
            let total = searcher.num_docs();
            (total.min(TRACK_TOTAL_HITS_UP_TO), total > TRACK_TOTAL_HITS_UP_TO)
        } else {
            count_total(&segments, &mut window)
        };
        let mut top_hits = TopHits::new(query.size);
        // The uid column of each segment that may hold hits, by segment ordinal.
        let mut uid_columns: Vec<Option<StrColumn>> = vec![None; searcher.segment_readers().len()];
        if query.size > 0 && total > 0 {
            for (segment_ord, segment_reader, mut match_cursors) in segments {
                let columns = self.segment_columns(&searcher, segment_reader)?;
                uid_columns[segment_ord as usize] = columns.uids;
                // Every e-mail term occurs once per document (the analyzer drops repeats), so an
                // address query may probe its frequent terms (the domain's) instead of streaming them.
                if let Some(min_fieldnorm_id) = columns.email_min_fieldnorm_id {
                    for scored in match_cursors.iter_mut().filter(|scored| scored.field == self.fields.email) {
                        if let Some(max_score) = scored.cursor.allow_probing_frequent_terms(min_fieldnorm_id) {
                            scored.max_score = scored.max_score.min(max_score);
                        }
                    }
                }
                let mut boost_cursors = open_cursors(&hint_clauses, segment_reader)?;
                if plan.matches_everything {
                    match_cursors.append(&mut boost_cursors);
                }
                let input = SegmentInput {
                    segment_ord,
                    match_cursors,
                    boost_cursors,
                    alive_bitset: segment_reader.alive_bitset(),
                    last_synchronized: columns.last_synchronized,
                };
                collect_segment(input, &mut top_hits, &mut window);
            }
        }
        WINDOW.with(|cell| *cell.borrow_mut() = Some(window));
        let mut uids = Vec::new();
        for hit in top_hits.into_sorted() {
            let Some(uid_column) = &uid_columns[hit.segment_ord as usize] else {
                continue;
            };
            let mut uid = String::new();
            let ordinal_opt = uid_column.term_ords(hit.doc).next();
            if let Some(ordinal) = ordinal_opt {
                uid_column.ord_to_str(ordinal, &mut uid)?;
                uids.push(uid);
            }
        }
        Ok(SuggestResult { total, total_is_lower_bound, uids })
    }
}

impl ProfileIndex {
    /// Describes how `query` is answered, for profiling: the time of each phase and, per resolved
    /// clause, its field, terms, scoring, maximum score and postings per segment.
    pub(crate) fn explain(&self, query: &SuggestQuery) -> Result<Vec<String>, SearchError> {
        let started = std::time::Instant::now();
        let searcher = self.reader.searcher();
        let plan = plan_query(&self.fields, &query.name, &query.hint_uids, query.hint_label.as_ref());
        let name_clauses = resolve_clauses(&searcher, &plan.name_clauses)?;
        let hint_clauses = resolve_clauses(&searcher, &plan.hint_clauses)?;
        let resolved = started.elapsed();
        let mut lines = vec![format!("resolve {resolved:?}; {} segments", searcher.segment_readers().len())];
        for (kind, clauses) in [("name", &name_clauses), ("hint", &hint_clauses)] {
            for clause in clauses {
                let source = match &clause.source {
                    crate::search::expand::TermSource::Terms(terms) => {
                        let texts: Vec<String> = terms
                            .iter()
                            .take(4)
                            .map(|term| String::from_utf8_lossy(&term.bytes).into_owned())
                            .collect();
                        format!("{} terms {texts:?}", terms.len())
                    }
                    crate::search::expand::TermSource::Prefix(prefix) => {
                        format!("prefix {:?}", String::from_utf8_lossy(prefix))
                    }
                    crate::search::expand::TermSource::AllDocuments => "all".to_string(),
                };
                let mut costs = Vec::new();
                for segment_reader in searcher.segment_readers() {
                    costs.push(open_cursor(clause, segment_reader)?.map_or(0, |cursor| cursor.cost()));
                }
                lines.push(format!(
                    "{kind} {} {source} {:?} max {:.2} postings {costs:?}",
                    searcher.schema().get_field_name(clause.field),
                    clause.scoring,
                    clause.max_score()
                ));
            }
        }
        let started = std::time::Instant::now();
        self.suggest(query)?;
        lines.push(format!("whole suggest {:?}", started.elapsed()));
        Ok(lines)
    }

    /// Returns the columns of `segment_reader` (a segment of `searcher`), opening them on first use
    /// and forgetting those of segments the searcher no longer has.
    fn segment_columns(
        &self,
        searcher: &Searcher,
        segment_reader: &SegmentReader,
    ) -> Result<SegmentColumns, SearchError> {
        let segment_id = segment_reader.segment_id();
        if let Some(columns) = self.columns.read().map_err(|_| SearchError::Poisoned)?.get(&segment_id) {
            return Ok(columns.clone());
        }
        let email_fieldnorms = segment_reader.get_fieldnorms_reader(self.fields.email)?;
        let columns = SegmentColumns {
            last_synchronized: last_synchronized_values(segment_reader)?,
            uids: segment_reader.fast_fields().str(UID_FIELD)?,
            email_min_fieldnorm_id: (0..segment_reader.max_doc())
                .map(|doc| email_fieldnorms.fieldnorm_id(doc))
                .filter(|fieldnorm_id| *fieldnorm_id > 0)
                .min(),
        };
        let mut cache = self.columns.write().map_err(|_| SearchError::Poisoned)?;
        let live: HashSet<SegmentId> = searcher.segment_readers().iter().map(SegmentReader::segment_id).collect();
        cache.retain(|id, _| live.contains(id));
        cache.insert(segment_id, columns.clone());
        Ok(columns)
    }
}

thread_local! {
    static WINDOW: std::cell::RefCell<Option<Window>> = const { std::cell::RefCell::new(None) };
}

/// Opens the index's single writer: one indexing thread, one merge thread, the log merge policy.
fn new_writer(index: &Index) -> Result<IndexWriter, SearchError> {
    let options = IndexWriterOptions::builder()
        .num_worker_threads(1)
        .num_merge_threads(1)
        .memory_budget_per_thread(WRITER_MEMORY_BUDGET_BYTES)
        .build();
    let writer: IndexWriter = index.writer_with_options(options)?;
    let mut merge_policy = LogMergePolicy::default();
    merge_policy.set_del_docs_ratio_before_merge(0.3);
    writer.set_merge_policy(Box::new(merge_policy));
    Ok(writer)
}

/// Returns the `last_synchronized` values of a segment, reading the values directly when every
/// document has one (always, for documents this module writes).
fn last_synchronized_values(segment_reader: &SegmentReader) -> Result<Arc<dyn ColumnValues<i64>>, SearchError> {
    let column = segment_reader.fast_fields().i64(LAST_SYNCHRONIZED_FIELD)?;
    if column.get_cardinality() == Cardinality::Full {
        return Ok(column.values);
    }
    Ok(column.first_or_default_col(i64::MIN))
}

/// Counts the profiles matched by the opened cursors, exactly up to [`TRACK_TOTAL_HITS_UP_TO`].
///
/// When the largest single clause of each segment already proves more than the limit (its
/// document count minus the segment's deleted documents), nothing is iterated; otherwise copies
/// of the cursors are iterated.
fn count_total(segments: &[(u32, &SegmentReader, Vec<ScoredCursor>)], window: &mut Window) -> (u64, bool) {
    let mut proven_minimum = 0u64;
    for (_, segment_reader, cursors) in segments {
        let largest = cursors.iter().map(|scored| scored.cursor.exact_len_lower_bound()).max().unwrap_or(0);
        proven_minimum += largest.saturating_sub(u64::from(segment_reader.num_deleted_docs()));
    }
    if proven_minimum > TRACK_TOTAL_HITS_UP_TO {
        return (TRACK_TOTAL_HITS_UP_TO, true);
    }
    let mut total = 0u64;
    for (_, segment_reader, cursors) in segments {
        let copies = cursors.iter().map(|scored| scored.cursor.clone()).collect();
        let remaining = TRACK_TOTAL_HITS_UP_TO + 1 - total;
        total += count_matches(copies, segment_reader.alive_bitset(), remaining, window);
        if total > TRACK_TOTAL_HITS_UP_TO {
            return (TRACK_TOTAL_HITS_UP_TO, true);
        }
    }
    (total, false)
}

fn open_cursors(clauses: &[ResolvedClause], segment_reader: &SegmentReader) -> Result<Vec<ScoredCursor>, SearchError> {
    let mut cursors = Vec::with_capacity(clauses.len());
    for clause in clauses {
        if let Some(cursor) = open_cursor(clause, segment_reader)? {
            cursors.push(ScoredCursor { cursor, max_score: clause.max_score(), field: clause.field });
        }
    }
    Ok(cursors)
}

fn read_payload(index: &Index) -> Result<Option<CommitPayload>, SearchError> {
    let metas = index.load_metas()?;
    Ok(metas.payload.as_deref().and_then(|payload| serde_json::from_str(payload).ok()))
}

/// Tells whether an existing index has our schema and format (a never-committed index has no
/// payload yet and is compatible when its schema is).
fn is_compatible(index: &Index, fields: &ProfileFields) -> Result<bool, SearchError> {
    if index.schema() != fields.schema {
        return Ok(false);
    }
    let Some(payload_text) = index.load_metas()?.payload else {
        return Ok(true);
    };
    let payload: Option<CommitPayload> = serde_json::from_str(&payload_text).ok();
    Ok(payload.is_some_and(|payload| payload.format_version == INDEX_FORMAT_VERSION))
}

/// Removes the files (not the sub-directories) of an index directory before recreating it.
fn erase_directory_files(dir: &Path) -> Result<(), SearchError> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

#[allow(dead_code)]
fn assert_send_sync() {
    fn is_send_sync<T: Send + Sync>() {}
    is_send_sync::<ProfileIndex>();
    is_send_sync::<Arc<ProfileIndex>>();
}
