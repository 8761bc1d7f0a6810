//! The embedded store: SQLite in WAL mode.
//!
//! One writer thread owns the write connection and applies queued updates in batches, each batch one
//! transaction. The log is made durable by syncer threads, not inside the commit: the writer hands every
//! committed batch to the syncer and goes on with the next, and a syncer thread `fdatasync`s the write-ahead
//! log and only then answers the callers of every batch committed before that sync began (group commit). So no
//! caller is answered before its write is durable, and an acknowledged write survives `kill -9` and power
//! loss, but the writer's next batch no longer waits for the disk. (The write connection runs with
//! `synchronous=NORMAL`, which in WAL mode keeps the database consistent and still syncs the log before each
//! checkpoint and the database file after it; durability of commits is the syncer's.) Reads use a small pool
//! of read-only connections, which WAL lets run beside the writer.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::thread;

use async_trait::async_trait;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, ToSql};
use tokio::sync::oneshot;

use super::{
    Change, ChangeSource, Collection, Decision, Doc, RawDecision, RawDoc, RawOutcome, RawUpdateFn, Store, StoreError,
    UpdateFn, UpdateOutcome, Version,
};
use crate::error::EsError;

/// The primary term of every document written by this store.
const PRIMARY_TERM: i64 = 1;
/// How many threads sync the write-ahead log (each sync covers every batch committed before it starts).
const SYNC_THREADS: usize = 3;
/// How many queued updates one transaction takes at most.
const MAX_BATCH: usize = 512;
/// How many reads run at once, each on its own pooled connection (further reads wait for a permit: a burst
/// of reads never opens connections, and their page caches, beyond the pool).
const READ_POOL_SIZE: usize = 32;
/// Page cache of each read connection, in KiB (SQLite's `cache_size` takes negative values as KiB). Memory
/// mapping the file would share the OS cache, but every connection's mapping counts in resident memory. Kept
/// small: a read connection empties its whole cache whenever it starts reading after a commit, page by page,
/// and with 4 MiB caches filled by earlier reads that cost durable updates about a tenth of their rate (the
/// change feed's reads, one per commit, paid it).
const READ_CACHE_KIB: u32 = 1024;
/// Page cache of the write connection, in KiB.
const WRITE_CACHE_KIB: u32 = 16384;
/// Prepared statements each connection keeps (rusqlite keeps 16 by default): the change sequence has a table
/// per collection, and so a statement per collection for each of its uses.
const STATEMENT_CACHE: usize = 64;
/// WAL size (in pages) from which the writer itself checkpoints after its commits. The checkpointer thread
/// normally keeps the log copied; this is what lets the log restart from its beginning under sustained writes,
/// since a log is only reset once it is fully copied (the writer then copies only the little the checkpointer
/// has not yet reached) and bounds it if the checkpointer falls behind. (Checkpointing on the writer every
/// 1,000 pages, SQLite's default, stalled its commits for 20-25 ms each time: the p99 of durable updates.)
const WAL_RESTART_PAGES: u32 = 4096;

/// Sources from this size on are stored compressed (an LZ4 block, as a BLOB), when that makes them smaller.
/// A profile's 1.5-5 KB of JSON shrinks to about half: its row then fits in one page, with no overflow page to
/// read, rewrite and free on every update, and each update writes (and checkpoints) fewer pages. Smaller
/// sources stay JSON text, and text written by older builds is read as it is.
const COMPRESS_FROM_BYTES: usize = 512;

/// The layout version this build writes, kept in SQLite's `user_version`.
const SCHEMA_VERSION: i64 = 5;

/// Documents live in a rowid table with a unique index on `(coll, id)`. (Version 1 keyed a WITHOUT ROWID
/// table by `(coll, id)`: its rows are the whole documents, and a lookup that compares against a row spilling
/// onto overflow pages reads the entire row, so every profile lookup read several KB per b-tree step.) The
/// source is the last column, so reading the version or the key stops before the overflow pages.
///
/// The change sequence is a table per collection ([`changes_table`]): every write appends `(seq_no, id)`, and
/// an entry stays valid while the document's `seq_no` is still its own. Entries a later write superseded are
/// pruned in the background ([`ChangePruner`]). (Version 2 kept an index on `(coll, seq_no)` of `docs`
/// instead: every update then moved the document's entry from a random page of the index to its end, one more
/// page written to the log, and checkpointed again, per update.) Each table is a rowid table keyed by `seq_no`,
/// so that appends take SQLite's quick path: a full last page moves the new entry to a fresh page. (Versions 3
/// and 4 kept one `WITHOUT ROWID` table keyed by `(coll, seq_no)`, an index b-tree, where every append that
/// overflowed the last page rebalanced it with its two neighbours: about four of a commit's 17 log pages were
/// the end of that table, and each rebalance renumbered pages through SQLite's lock page, which made the
/// commit scan the writer's whole page cache.)
///
/// `major_seq_no`, on a document and on each entry, is the seq_no of the document's last major write (see
/// [`RawDecision::Put`]): a reader past it takes a minor write's entry as it is, without reading the document.
/// (Before version 4, the suggest indexer read and parsed every updated profile, two b-tree lookups in a read
/// connection's emptied page cache per update, to find that a data update changed nothing it indexes.) A build
/// from before version 4 writing to the same file would leave `major_seq_no` behind its own writes; processes
/// sharing a data directory must run the same build.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS docs (
    coll TEXT NOT NULL,
    id TEXT NOT NULL,
    seq_no INTEGER NOT NULL,
    primary_term INTEGER NOT NULL,
    key TEXT,
    major_seq_no INTEGER,
    source TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS docs_by_coll_id ON docs (coll, id);
CREATE INDEX IF NOT EXISTS docs_by_coll_key ON docs (coll, key, id);
CREATE TABLE IF NOT EXISTS collections (
    coll TEXT PRIMARY KEY,
    created_at_ms INTEGER NOT NULL
);
";

/// The table holding `collection`'s change sequence (see [`SCHEMA`]).
fn changes_table(collection: Collection) -> &'static str {
    match collection {
        Collection::Users => "changes_users",
        Collection::Roles => "changes_roles",
        Collection::Profiles => "changes_profiles",
        Collection::Tokens => "changes_tokens",
        Collection::RoleMappings => "changes_role_mappings",
    }
}

/// [`SCHEMA`] and the change table of every collection.
fn schema() -> String {
    let mut schema = SCHEMA.to_string();
    for collection in Collection::ALL {
        schema.push_str(&format!(
            "CREATE TABLE IF NOT EXISTS {} (seq_no INTEGER PRIMARY KEY, id TEXT NOT NULL, major_seq_no INTEGER);\n",
            changes_table(collection)
        ));
    }
    schema
}

/// Brings a data directory written by an older build to [`SCHEMA_VERSION`], in one transaction.
fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
    let version: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0)).map_err(backend_error)?;
    if version >= SCHEMA_VERSION {
        return Ok(());
    }
    let transaction = connection.transaction().map_err(backend_error)?;
    let old_docs: Option<String> = transaction
        .query_row("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'docs'", [], |row| row.get(0))
        .optional()
        .map_err(backend_error)?;
    let rebuild = old_docs.as_deref().is_some_and(|sql| sql.to_ascii_uppercase().contains("WITHOUT ROWID"));
    if rebuild {
        // The old indexes go first: renamed along with their table, their names would stop SCHEMA from
        // creating the new table's.
        transaction
            .execute_batch(
                "DROP INDEX IF EXISTS docs_by_key; DROP INDEX IF EXISTS docs_by_coll_key; \
                 DROP INDEX IF EXISTS docs_by_seq; ALTER TABLE docs RENAME TO docs_v1;",
            )
            .map_err(backend_error)?;
    }
    transaction.execute_batch(&schema()).map_err(backend_error)?;
    if rebuild {
        transaction
            .execute_batch(
                "INSERT INTO docs (coll, id, seq_no, primary_term, key, source)
                   SELECT coll, id, seq_no, primary_term, key, source FROM docs_v1 ORDER BY coll, id;
                 DROP TABLE docs_v1;",
            )
            .map_err(backend_error)?;
    }
    // Version 4: the seq_no of each document's last major write, on the document and on each entry. Existing
    // rows keep NULL, which reads as "major": their changes are reported with their source, as before.
    add_column_if_missing(&transaction, "docs", "major_seq_no INTEGER")?;
    let old_changes: bool = transaction
        .query_row("SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'changes'", [], |row| {
            row.get(0)
        })
        .map_err(backend_error)?;
    // Versions 3 and 4 kept every collection's entries in one table (version 3 without `major_seq_no`); before
    // version 3, every document's last write is its entry.
    let entries = if old_changes {
        add_column_if_missing(&transaction, "changes", "major_seq_no INTEGER")?;
        Some(("SELECT seq_no, id, major_seq_no FROM changes", "DROP TABLE changes;"))
    } else if old_docs.is_some() && version < 3 {
        Some(("SELECT seq_no, id, NULL FROM docs", "DROP INDEX IF EXISTS docs_by_seq;"))
    } else {
        None
    };
    if let Some((select, cleanup)) = entries {
        for collection in Collection::ALL {
            transaction
                .execute(
                    &format!(
                        "INSERT INTO {} (seq_no, id, major_seq_no) {select} WHERE coll = ?1 ORDER BY seq_no",
                        changes_table(collection)
                    ),
                    params![collection.name()],
                )
                .map_err(backend_error)?;
        }
        transaction.execute_batch(cleanup).map_err(backend_error)?;
    }
    transaction.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION};")).map_err(backend_error)?;
    transaction.commit().map_err(backend_error)
}

/// Adds `definition` (a column name and its type) to `table` unless the table already has that column.
fn add_column_if_missing(connection: &Connection, table: &str, definition: &str) -> Result<(), StoreError> {
    let name = definition.split_whitespace().next().unwrap_or(definition);
    let present: bool = connection
        .query_row("SELECT COUNT(*) > 0 FROM pragma_table_info(?1) WHERE name = ?2", params![table, name], |row| {
            row.get(0)
        })
        .map_err(backend_error)?;
    if !present {
        connection.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {definition};")).map_err(backend_error)?;
    }
    Ok(())
}

type UpdateReply = oneshot::Sender<Result<Result<UpdateOutcome, EsError>, StoreError>>;
type RawUpdateReply = oneshot::Sender<Result<Result<RawOutcome, EsError>, StoreError>>;

enum WriteJob {
    Update { collection: Collection, id: String, decide: UpdateFn, reply: UpdateReply },
    UpdateRaw { collection: Collection, id: String, decide: RawUpdateFn, reply: RawUpdateReply },
    EnsureCollection { collection: Collection, reply: oneshot::Sender<Result<(), StoreError>> },
    Shutdown { reply: oneshot::Sender<()> },
}

/// SQLite-backed [`Store`].
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Option<mpsc::Sender<WriteJob>>>,
    readers: Arc<Mutex<Vec<Connection>>>,
    /// One permit per pooled read connection.
    read_permits: Arc<tokio::sync::Semaphore>,
    checkpoints: Arc<Shared<CheckpointState>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("SqliteStore").field("path", &self.path).finish()
    }
}

fn backend_error(error: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(error.to_string())
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|duration| duration.as_millis() as i64)
        .unwrap_or_default()
}

impl SqliteStore {
    /// Opens (creating if needed) the database file `profiled.db` in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<SqliteStore, StoreError> {
        SqliteStore::open_with(data_dir, LogSync::of_file)
    }

    /// Opens the store with `log_sync` making the write-ahead log durable, called once per syncer thread (tests
    /// replace the `fdatasync`).
    fn open_with(
        data_dir: &Path,
        log_sync: impl Fn(&Path) -> Result<LogSync, StoreError>,
    ) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(backend_error)?;
        let path = data_dir.join("profiled.db");
        let mut write_connection = Connection::open(&path).map_err(backend_error)?;
        write_connection
            .execute_batch(
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;",
            )
            .map_err(backend_error)?;
        // Every update reads its document first: a page cache far larger than the read connections' keeps
        // those reads (and the pages the write touches) out of the kernel. The checkpointer thread copies the
        // log; the writer's own checkpoints start only at WAL_RESTART_PAGES.
        write_connection
            .execute_batch(&format!(
                "PRAGMA cache_size=-{WRITE_CACHE_KIB}; PRAGMA wal_autocheckpoint={WAL_RESTART_PAGES};"
            ))
            .map_err(backend_error)?;
        write_connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        migrate(&mut write_connection)?;
        let next_seq_nos = load_next_seq_nos(&write_connection)?;
        let mut readers = Vec::with_capacity(READ_POOL_SIZE);
        for _ in 0..4 {
            readers.push(open_reader(&path)?);
        }
        // The log exists from here on: setting WAL mode and the reads above opened it.
        let syncs = (0..SYNC_THREADS).map(|_| log_sync(&path)).collect::<Result<Vec<_>, _>>()?;
        let syncer = Syncer::start(syncs)?;
        let checkpointer = Checkpointer::start(&path)?;
        let checkpoints = Arc::clone(&checkpointer.0.shared);
        let (sender, receiver) = mpsc::channel();
        thread::Builder::new()
            .name("profiled-store-writer".into())
            .spawn(move || run_writer(write_connection, receiver, next_seq_nos, checkpointer, syncer))
            .map_err(backend_error)?;
        Ok(SqliteStore {
            path,
            writer: Mutex::new(Some(sender)),
            readers: Arc::new(Mutex::new(readers)),
            read_permits: Arc::new(tokio::sync::Semaphore::new(READ_POOL_SIZE)),
            checkpoints,
        })
    }

    /// Checkpoints run by the checkpointer thread, and the write-ahead log's size and copied pages after the
    /// last one.
    pub fn checkpoint_stats(&self) -> (u64, (i64, i64)) {
        self.checkpoints.state.lock().map(|state| (state.rounds, state.last)).unwrap_or_default()
    }

    fn send(&self, job: WriteJob) -> Result<(), StoreError> {
        let guard = self.writer.lock().map_err(|_| StoreError::Closed)?;
        let sender = guard.as_ref().ok_or(StoreError::Closed)?;
        sender.send(job).map_err(|_| StoreError::Closed)
    }

    /// Runs `read` on a pooled read connection, off the async workers.
    async fn read<T, F>(&self, read: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let permit = Arc::clone(&self.read_permits).acquire_owned().await.map_err(|_| StoreError::Closed)?;
        let readers = Arc::clone(&self.readers);
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let pooled = readers.lock().map_err(|_| StoreError::Closed)?.pop();
            let connection = match pooled {
                Some(connection) => connection,
                None => open_reader(&path)?,
            };
            let result = read(&connection);
            if let Ok(mut pool) = readers.lock() {
                if pool.len() < READ_POOL_SIZE {
                    pool.push(connection);
                }
            }
            result
        })
        .await
        .map_err(backend_error)?
    }
}

fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )
    .map_err(backend_error)?;
    connection
        .execute_batch(&format!("PRAGMA busy_timeout=5000; PRAGMA cache_size=-{READ_CACHE_KIB};"))
        .map_err(backend_error)?;
    connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(connection)
}

fn load_next_seq_nos(connection: &Connection) -> Result<Sequences, StoreError> {
    let mut next_seq_nos = HashMap::new();
    for collection in Collection::ALL {
        let max_seq_no: Option<i64> = connection
            .query_row(&format!("SELECT MAX(seq_no) FROM {}", changes_table(collection)), [], |row| row.get(0))
            .map_err(backend_error)?;
        next_seq_nos.insert(collection, max_seq_no.map_or(0, |max| max + 1));
    }
    Ok(Sequences { next: next_seq_nos, superseded: Vec::new() })
}

fn row_to_doc(id: String, seq_no: i64, primary_term: i64, source_text: &str) -> Result<Doc, StoreError> {
    let source = serde_json::from_str(source_text).map_err(backend_error)?;
    Ok(Doc { id, seq_no, primary_term, source })
}

/// A document's source as stored: JSON text, or compressed JSON ([`COMPRESS_FROM_BYTES`]).
enum StoredSource<'a> {
    Text(&'a str),
    Compressed(Vec<u8>),
}

impl<'a> StoredSource<'a> {
    fn encode(text: &'a str) -> StoredSource<'a> {
        if text.len() >= COMPRESS_FROM_BYTES {
            let compressed = lz4_flex::compress_prepend_size(text.as_bytes());
            if compressed.len() < text.len() {
                return StoredSource::Compressed(compressed);
            }
        }
        StoredSource::Text(text)
    }
}

impl ToSql for StoredSource<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            StoredSource::Text(text) => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
            StoredSource::Compressed(bytes) => ToSqlOutput::Borrowed(ValueRef::Blob(bytes)),
        })
    }
}

/// Decompresses a stored source. The length it claims is checked against what LZ4 can expand to (at most 255
/// bytes per compressed byte) before anything is allocated: a damaged row fails instead of asking for gigabytes.
fn decompress_source(compressed: &[u8]) -> Result<Vec<u8>, String> {
    let (length, _) = lz4_flex::block::uncompressed_size(compressed).map_err(|error| error.to_string())?;
    if length > compressed.len().saturating_mul(255) {
        return Err(format!("claims {length} bytes from {} compressed", compressed.len()));
    }
    lz4_flex::decompress_size_prepended(compressed).map_err(|error| error.to_string())
}

/// A source column read back as JSON text, whichever way it was stored.
struct SourceText(String);

impl FromSql for SourceText {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<SourceText> {
        let bytes = match value {
            ValueRef::Text(text) => text.to_vec(),
            ValueRef::Blob(compressed) => decompress_source(compressed)
                .map_err(|error| FromSqlError::Other(format!("corrupt compressed source: {error}").into()))?,
            _ => return Err(FromSqlError::InvalidType),
        };
        String::from_utf8(bytes).map(SourceText).map_err(|error| FromSqlError::Other(Box::new(error)))
    }
}

fn read_doc(connection: &Connection, collection: Collection, id: &str) -> Result<Option<Doc>, StoreError> {
    read_row(connection, collection, id)?.map(|row| row.to_doc(id)).transpose()
}

fn read_docs_where(connection: &Connection, sql: &str, parameters: &[&str]) -> Result<Vec<Doc>, StoreError> {
    let mut statement = connection.prepare_cached(sql).map_err(backend_error)?;
    let rows = statement
        .query_map(rusqlite::params_from_iter(parameters.iter()), |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?, row.get::<_, i64>(2)?, row.get::<_, SourceText>(3)?.0))
        })
        .map_err(backend_error)?;
    let mut docs = Vec::new();
    for row in rows {
        let (id, seq_no, primary_term, source_text) = row.map_err(backend_error)?;
        docs.push(row_to_doc(id, seq_no, primary_term, &source_text)?);
    }
    Ok(docs)
}

/// Reads the change sequence after `after_seq_no` (see [`Store::changes_since`]). The entry of a minor write
/// whose last major write the reader has passed is reported as [`ChangeSource::Unchanged`], from the entry
/// alone; any other entry is checked against its document (only a document's last write is reported) and
/// carries the source. The scan stops after `limit` changes, without an SQL `LIMIT`: SQLite prepares a
/// statement again on every run when the value bound to its `LIMIT` changes.
fn read_changes(
    connection: &Connection,
    collection: Collection,
    after_seq_no: i64,
    limit: usize,
) -> Result<Vec<Change>, StoreError> {
    let mut entries = connection
        .prepare_cached(&format!(
            "SELECT seq_no, id, major_seq_no FROM {} WHERE seq_no > ?1 ORDER BY seq_no",
            changes_table(collection)
        ))
        .map_err(backend_error)?;
    let mut document = connection
        .prepare_cached("SELECT seq_no, source FROM docs WHERE coll = ?1 AND id = ?2")
        .map_err(backend_error)?;
    let mut rows = entries.query(params![after_seq_no]).map_err(backend_error)?;
    let mut changes = Vec::new();
    while changes.len() < limit {
        let Some(row) = rows.next().map_err(backend_error)? else {
            break;
        };
        let seq_no: i64 = row.get(0).map_err(backend_error)?;
        let id: String = row.get(1).map_err(backend_error)?;
        let major_seq_no: Option<i64> = row.get(2).map_err(backend_error)?;
        if major_seq_no.is_some_and(|major_seq_no| major_seq_no <= after_seq_no) {
            changes.push(Change { id, seq_no, source: ChangeSource::Unchanged });
            continue;
        }
        let current = document
            .query_row(params![collection.name(), &id], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, Option<SourceText>>(1)?))
            })
            .optional()
            .map_err(backend_error)?;
        // An entry a later write superseded is skipped: that write's own entry follows.
        if let Some((_, source)) = current.filter(|(current_seq_no, _)| *current_seq_no == seq_no) {
            let source = source.map_or(ChangeSource::Deleted, |source| ChangeSource::Document(source.0));
            changes.push(Change { id, seq_no, source });
        }
    }
    Ok(changes)
}

/// Answers a caller once its batch is committed (`Ok`) and durable, or failed.
type Reply = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

fn run_writer(
    mut connection: Connection,
    receiver: mpsc::Receiver<WriteJob>,
    mut sequences: Sequences,
    checkpointer: Checkpointer,
    syncer: Syncer,
) {
    let mut pruner = ChangePruner::default();
    while let Ok(first_job) = receiver.recv() {
        let mut batch = vec![first_job];
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut shutdown_reply = None;
        let mut replies: Vec<Reply> = Vec::with_capacity(batch.len());
        let transaction = match connection.transaction() {
            Ok(transaction) => transaction,
            Err(error) => {
                fail_batch(batch, &error.to_string());
                continue;
            }
        };
        let sequences_before = sequences.clone();
        for job in batch {
            match job {
                WriteJob::Update { collection, id, decide, reply } => {
                    let result = apply_update(&transaction, &mut sequences, collection, &id, decide);
                    replies.push(Box::new(move |commit: Result<(), StoreError>| {
                        let _ = reply.send(commit.and(result));
                    }));
                }
                WriteJob::UpdateRaw { collection, id, decide, reply } => {
                    let result = apply_update_raw(&transaction, &mut sequences, collection, &id, decide);
                    replies.push(Box::new(move |commit: Result<(), StoreError>| {
                        let _ = reply.send(commit.and(result));
                    }));
                }
                WriteJob::EnsureCollection { collection, reply } => {
                    let result = ensure_collection_row(&transaction, collection);
                    replies.push(Box::new(move |commit: Result<(), StoreError>| {
                        let _ = reply.send(commit.and(result));
                    }));
                }
                WriteJob::Shutdown { reply } => shutdown_reply = Some(reply),
            }
        }
        for collection in Collection::ALL {
            let appended = sequences.next_seq_no(collection) - sequences_before.next_seq_no(collection);
            if appended > 0 {
                pruner.step(&transaction, collection, appended as usize);
            }
        }
        match transaction.commit() {
            Ok(()) => {
                pruner.superseded(std::mem::take(&mut sequences.superseded));
                syncer.committed(replies);
                checkpointer.committed();
            }
            Err(error) => {
                sequences = sequences_before;
                let message = error.to_string();
                for reply in replies {
                    reply(Err(StoreError::Backend(message.clone())));
                }
            }
        }
        if let Some(reply) = shutdown_reply {
            // Every committed batch is synced and answered before the log is emptied.
            drop(syncer);
            drop(checkpointer);
            let _ = connection.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);");
            let _ = reply.send(());
            return;
        }
    }
}

/// How many entries of the change sequence a batch's pruning step covers, per entry it appended. Above 1, the
/// pruning goes round faster than entries are appended: the sequence holds at most about twice as many entries
/// as there are documents.
const PRUNE_PER_APPEND: usize = 2;

/// How many appended entries, in the first round after the store opens, pay for checking one entry against
/// its document (two b-tree lookups each, where deleting a known entry is one).
const APPENDS_PER_CHECK: usize = 4;

/// How many entries a collection's sequence gains between two pruning steps. A step changes the few pages of
/// the range it covers; one step per batch (about 10 entries, a fraction of a page) wrote the same pages to the
/// log again in batch after batch, about one page per commit. With 128, a step's range is a few pages, each
/// written once.
const APPENDS_PER_STEP: usize = 128;

/// Removes superseded entries from the change sequence, a little at a time, going round the sequence from its
/// start to its end and over again. Each step covers a range of consecutive entries, so the few pages it
/// changes are neighbours (deleting each entry when its document is written again would change a random page
/// per write).
///
/// The writer knows which entries its own writes superseded, and deletes them as its round reaches them. For
/// the entries superseded before the store opened (or by another process), a second, slower round checks
/// every entry against its document once after each open. Entries still valid are never removed, so readers
/// of the sequence get the same answers with or without pruning.
#[derive(Default)]
struct ChangePruner {
    /// Per collection, the `seq_no` after which the next step deletes known entries.
    after: HashMap<Collection, i64>,
    /// Per collection, the entries this writer superseded that are still to be deleted.
    superseded: HashMap<Collection, BTreeSet<i64>>,
    /// Per collection, the `seq_no` after which the next check starts; gone once the check has gone round.
    checked_after: HashMap<Collection, Option<i64>>,
    /// Per collection, the entries appended since its last step.
    appended: HashMap<Collection, usize>,
}

impl ChangePruner {
    /// Takes the entries a committed batch superseded.
    fn superseded(&mut self, entries: Vec<(Collection, i64)>) {
        for (collection, seq_no) in entries {
            self.superseded.entry(collection).or_default().insert(seq_no);
        }
    }

    /// Counts the entries a batch appended to `collection`, and runs a step for them all once they reach
    /// [`APPENDS_PER_STEP`]. A failure only skips the step: the statement's changes are undone and the batch
    /// goes on.
    fn step(&mut self, connection: &Connection, collection: Collection, appended: usize) {
        let owed = self.appended.entry(collection).or_default();
        *owed += appended;
        if *owed < APPENDS_PER_STEP {
            return;
        }
        let appended = std::mem::take(owed);
        if let Err(error) = self.delete_known(connection, collection, appended * PRUNE_PER_APPEND) {
            tracing::warn!(%error, collection = collection.name(), "pruning the change sequence failed");
        }
        if let Err(error) = self.check(connection, collection, appended.div_ceil(APPENDS_PER_CHECK)) {
            tracing::warn!(%error, collection = collection.name(), "checking the change sequence failed");
        }
    }

    /// Deletes the known superseded entries among the next `count` entries.
    fn delete_known(&mut self, connection: &Connection, collection: Collection, count: usize) -> rusqlite::Result<()> {
        let after = self.after.get(&collection).copied().unwrap_or(-1);
        let last = range_end(connection, collection, after, count)?;
        // Past the end, the next step starts over from the beginning.
        self.after.insert(collection, last.unwrap_or(-1));
        let Some(set) = self.superseded.get_mut(&collection) else { return Ok(()) };
        let known: Vec<i64> = set.range(after + 1..=last.unwrap_or(i64::MAX)).copied().collect();
        let mut statement =
            connection.prepare_cached(&format!("DELETE FROM {} WHERE seq_no = ?1", changes_table(collection)))?;
        for seq_no in known {
            set.remove(&seq_no);
            statement.execute(params![seq_no])?;
        }
        Ok(())
    }

    /// In the first round after the store opens, deletes the superseded entries among the next `count`
    /// entries by checking each against its document.
    fn check(&mut self, connection: &Connection, collection: Collection, count: usize) -> rusqlite::Result<()> {
        let Some(after) = *self.checked_after.entry(collection).or_insert(Some(-1)) else { return Ok(()) };
        let last = range_end(connection, collection, after, count)?;
        let table = changes_table(collection);
        connection
            .prepare_cached(&format!(
                "DELETE FROM {table} WHERE seq_no > ?2 AND seq_no <= ?3 AND NOT EXISTS \
                 (SELECT 1 FROM docs WHERE docs.coll = ?1 AND docs.id = {table}.id AND docs.seq_no = {table}.seq_no)"
            ))?
            .execute(params![collection.name(), after, last.unwrap_or(i64::MAX)])?;
        self.checked_after.insert(collection, last);
        Ok(())
    }
}

/// The `seq_no` of the `count`th entry of `collection`'s change sequence after `after`; `None` when there are
/// fewer.
fn range_end(
    connection: &Connection,
    collection: Collection,
    after: i64,
    count: usize,
) -> rusqlite::Result<Option<i64>> {
    connection
        .prepare_cached(&format!(
            "SELECT seq_no FROM {} WHERE seq_no > ?1 ORDER BY seq_no LIMIT 1 OFFSET ?2",
            changes_table(collection)
        ))?
        .query_row(params![after, count.saturating_sub(1) as i64], |row| row.get(0))
        .optional()
}

/// Makes everything written to the write-ahead log so far durable. Called from several threads at once.
#[derive(Clone)]
pub(crate) struct LogSync(Arc<dyn Fn() -> std::io::Result<()> + Send + Sync>);

impl LogSync {
    /// `fdatasync` of the store's log file, through a descriptor of its own (Linux syncs the file, whichever
    /// descriptor wrote it, and reports a write-back error to every descriptor open before it: each syncer
    /// thread has its own, so that none misses an error another one saw first). The writer connection keeps the
    /// log open, so it stays the same file while the store is open.
    fn of_file(database: &Path) -> Result<LogSync, StoreError> {
        let mut log_path = database.as_os_str().to_owned();
        log_path.push("-wal");
        let log = std::fs::OpenOptions::new().read(true).write(true).open(&log_path).map_err(|error| {
            StoreError::Backend(format!(
                "cannot open the write-ahead log [{}]: {error}",
                Path::new(&log_path).display()
            ))
        })?;
        Ok(LogSync(Arc::new(move || log.sync_data())))
    }
}

/// Threads of the store that wait on their shared state for work, are told to stop when dropped, and are
/// joined then.
struct Background<S> {
    shared: Arc<Shared<S>>,
    threads: Vec<thread::JoinHandle<()>>,
}

/// The state a [`Background`] thread shares with its owner, the condition variable that wakes it, and whether
/// its owner is gone (set under the state's lock, so that no waiting thread misses it).
#[derive(Default)]
struct Shared<S> {
    state: Mutex<S>,
    wake: Condvar,
    stopping: std::sync::atomic::AtomicBool,
}

impl<S: Default + Send + 'static> Background<S> {
    fn start(name: &str, run: impl FnOnce(&Shared<S>) + Send + 'static) -> Result<Background<S>, StoreError> {
        let mut background = Background { shared: Arc::new(Shared::default()), threads: Vec::new() };
        background.also_run(name, run)?;
        Ok(background)
    }

    /// Starts one more thread on the same state.
    fn also_run(&mut self, name: &str, run: impl FnOnce(&Shared<S>) + Send + 'static) -> Result<(), StoreError> {
        let shared = Arc::clone(&self.shared);
        let thread = thread::Builder::new().name(name.into()).spawn(move || run(&shared)).map_err(backend_error)?;
        self.threads.push(thread);
        Ok(())
    }

    /// Hands `value` to the state with `change` and wakes a thread; gives `value` back when the state is
    /// poisoned.
    fn notify<T>(&self, value: T, change: impl FnOnce(&mut S, T)) -> Result<(), T> {
        match self.shared.state.lock() {
            Ok(mut state) => {
                change(&mut state, value);
                self.shared.wake.notify_one();
                Ok(())
            }
            Err(_) => Err(value),
        }
    }
}

impl<S> Drop for Background<S> {
    fn drop(&mut self) {
        if let Ok(_state) = self.shared.state.lock() {
            self.shared.stopping.store(true, std::sync::atomic::Ordering::SeqCst);
            self.shared.wake.notify_all();
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

impl<S> Shared<S> {
    /// Waits until `ready` holds or the owner is gone, and returns the state locked with whether the owner is
    /// gone; `None` when the lock is poisoned.
    fn wait_until(&self, ready: impl Fn(&S) -> bool) -> Option<(std::sync::MutexGuard<'_, S>, bool)> {
        let mut state = self.state.lock().ok()?;
        loop {
            let stopping = self.stopping.load(std::sync::atomic::Ordering::SeqCst);
            if stopping || ready(&state) {
                return Some((state, stopping));
            }
            state = self.wake.wait(state).ok()?;
        }
    }
}

/// Syncs the write-ahead log on threads of their own and answers the callers of the batches each sync covers.
///
/// A sync takes every batch committed before it starts: one `fdatasync` per round, however many batches the
/// writer committed meanwhile. There are [`SYNC_THREADS`] such threads, each with its own descriptor, so a
/// batch committed while a sync runs starts a sync of its own instead of waiting for the running one to end
/// (measured: about 1 ms off the p99 of durable updates). A failed sync fails its batches and every later one
/// (after a failed `fdatasync` the kernel may have dropped the pages, and a later success would not bring them
/// back): the store stops acknowledging writes until it is reopened. Dropping the syncer syncs and answers
/// whatever is pending, then joins the threads.
struct Syncer(Background<SyncState>);

#[derive(Default)]
struct SyncState {
    /// Answers of committed batches the next sync covers.
    pending: Vec<Reply>,
    /// Why a sync failed, once one has.
    failure: Option<String>,
}

impl Syncer {
    /// Starts one syncer thread per `LogSync` (at least one).
    fn start(syncs: Vec<LogSync>) -> Result<Syncer, StoreError> {
        let name = "profiled-store-syncer";
        let mut syncs = syncs.into_iter();
        let first = syncs.next().ok_or_else(|| StoreError::Backend("no log sync".into()))?;
        let mut background = Background::start(name, move |shared| run_syncer(&first, shared))?;
        for sync in syncs {
            background.also_run(name, move |shared| run_syncer(&sync, shared))?;
        }
        Ok(Syncer(background))
    }

    /// Hands over the answers of a committed batch, to be sent once the log is durable.
    fn committed(&self, replies: Vec<Reply>) {
        if let Err(replies) = self.0.notify(replies, |state, replies| state.pending.extend(replies)) {
            for reply in replies {
                reply(Err(StoreError::Backend("the log syncer stopped".into())));
            }
        }
    }
}

fn run_syncer(sync: &LogSync, shared: &Shared<SyncState>) {
    loop {
        let (replies, failed_before) = {
            // Stopping, it still syncs and answers what is pending.
            let Some((mut state, _)) = shared.wait_until(|state| !state.pending.is_empty()) else { return };
            if state.pending.is_empty() {
                return;
            }
            (std::mem::take(&mut state.pending), state.failure.is_some())
        };
        let synced = if failed_before { Ok(()) } else { (sync.0)() };
        // A failure of this sync, or of one running beside it, fails these answers too.
        let failure = {
            let Ok(mut state) = shared.state.lock() else { return };
            if let Err(error) = synced {
                if state.failure.is_none() {
                    tracing::error!(%error, "fdatasync of the write-ahead log failed; writes are no longer acknowledged");
                    state.failure = Some(format!("fdatasync of the write-ahead log failed: {error}"));
                }
            }
            state.failure.clone()
        };
        for reply in replies {
            reply(match &failure {
                None => Ok(()),
                Some(message) => Err(StoreError::Backend(message.clone())),
            });
        }
    }
}

/// Copies the write-ahead log into the database file on a thread of its own (passive checkpoints, which never
/// block the writer or the readers), so that commits do not wait for it. It starts a checkpoint as soon as a
/// commit follows the last one: small, continuous checkpoints keep each database fsync short, where batching
/// them (waiting 2-10 ms for more commits) made the writer's log fsyncs queue behind large flushes of the
/// database file and tripled the p99 of durable updates. Stopped and joined when dropped.
struct Checkpointer(Background<CheckpointState>);

#[derive(Default)]
struct CheckpointState {
    /// Commits happened since the last checkpoint began.
    pending: bool,
    /// Checkpoints run, and the log's size and copied pages after the last one (for tests and diagnostics).
    rounds: u64,
    last: (i64, i64),
}

impl Checkpointer {
    fn start(path: &Path) -> Result<Checkpointer, StoreError> {
        let connection = Connection::open(path).map_err(backend_error)?;
        Background::start("profiled-store-checkpointer", move |shared| run_checkpointer(&connection, shared))
            .map(Checkpointer)
    }

    /// Tells the checkpointer that a transaction committed.
    fn committed(&self) {
        let _ = self.0.notify((), |state, ()| state.pending = true);
    }
}

fn run_checkpointer(connection: &Connection, shared: &Shared<CheckpointState>) {
    loop {
        {
            let Some((mut state, stopping)) = shared.wait_until(|state| state.pending) else { return };
            if stopping {
                return;
            }
            state.pending = false;
        }
        // Busy (the writer is checkpointing) or failed: the next commit brings another attempt.
        let outcome = connection
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| Ok((row.get::<_, i64>(1)?, row.get::<_, i64>(2)?)));
        if let (Ok(last), Ok(mut state)) = (outcome, shared.state.lock()) {
            state.rounds += 1;
            state.last = last;
        }
    }
}

fn fail_batch(batch: Vec<WriteJob>, message: &str) {
    for job in batch {
        match job {
            WriteJob::Update { reply, .. } => {
                let _ = reply.send(Err(StoreError::Backend(message.to_string())));
            }
            WriteJob::UpdateRaw { reply, .. } => {
                let _ = reply.send(Err(StoreError::Backend(message.to_string())));
            }
            WriteJob::EnsureCollection { reply, .. } => {
                let _ = reply.send(Err(StoreError::Backend(message.to_string())));
            }
            WriteJob::Shutdown { reply } => {
                let _ = reply.send(());
            }
        }
    }
}

fn ensure_collection_row(connection: &Connection, collection: Collection) -> Result<(), StoreError> {
    connection
        .prepare_cached("INSERT OR IGNORE INTO collections (coll, created_at_ms) VALUES (?1, ?2)")
        .and_then(|mut statement| statement.execute(params![collection.name(), now_millis()]))
        .map_err(backend_error)?;
    Ok(())
}

/// The stored row of a live document: version, source text and secondary key.
struct StoredRow {
    version: Version,
    source: String,
    key: Option<String>,
    /// The seq_no of the document's last major write (NULL in rows written before version 4).
    major_seq_no: Option<i64>,
}

impl StoredRow {
    fn to_doc(&self, id: &str) -> Result<Doc, StoreError> {
        row_to_doc(id.to_string(), self.version.seq_no, self.version.primary_term, &self.source)
    }
}

fn read_row(connection: &Connection, collection: Collection, id: &str) -> Result<Option<StoredRow>, StoreError> {
    connection
        .prepare_cached(
            "SELECT seq_no, primary_term, source, key, major_seq_no FROM docs \
             WHERE coll = ?1 AND id = ?2 AND source IS NOT NULL",
        )
        .and_then(|mut statement| {
            statement
                .query_row(params![collection.name(), id], |row| {
                    Ok(StoredRow {
                        version: Version { seq_no: row.get(0)?, primary_term: row.get(1)? },
                        source: row.get::<_, SourceText>(2)?.0,
                        key: row.get(3)?,
                        major_seq_no: row.get(4)?,
                    })
                })
                .optional()
        })
        .map_err(backend_error)
}

/// The writer's side of the change sequence: the next `seq_no` of each collection, and the entries the
/// current batch superseded (handed to the [`ChangePruner`] once the batch is committed).
#[derive(Clone)]
struct Sequences {
    next: HashMap<Collection, i64>,
    superseded: Vec<(Collection, i64)>,
}

impl Sequences {
    fn next_seq_no(&self, collection: Collection) -> i64 {
        self.next.get(&collection).copied().unwrap_or(0)
    }

    /// Records that `id` was written at `next_seq_no(collection)`, superseding its entry `previous`, with
    /// `major_seq_no` its last major write: appends the new entry to the change sequence and returns its
    /// `seq_no`.
    fn written(
        &mut self,
        connection: &Connection,
        collection: Collection,
        id: &str,
        previous: Option<i64>,
        major_seq_no: i64,
    ) -> Result<i64, StoreError> {
        let seq_no = self.next_seq_no(collection);
        connection
            .prepare_cached(&format!(
                "INSERT INTO {} (seq_no, id, major_seq_no) VALUES (?1, ?2, ?3)",
                changes_table(collection)
            ))
            .and_then(|mut statement| statement.execute(params![seq_no, id, major_seq_no]))
            .map_err(backend_error)?;
        self.next.insert(collection, seq_no + 1);
        self.superseded.extend(previous.map(|previous| (collection, previous)));
        Ok(seq_no)
    }
}

/// Writes `source` as the next version of `id`; `current` is the live row, if any. A `minor` write keeps the
/// document's last major write (see [`RawDecision::Put`]); creating a document is always major. Returns the
/// new seq_no.
#[allow(clippy::too_many_arguments)]
fn write_source(
    connection: &Connection,
    sequences: &mut Sequences,
    collection: Collection,
    id: &str,
    source: &str,
    key: Option<&str>,
    current: Option<&StoredRow>,
    minor: bool,
) -> Result<i64, StoreError> {
    let seq_no = sequences.next_seq_no(collection);
    let major_seq_no = match current {
        // A row from before version 4 does not know its last major write: its own write is taken as one.
        Some(row) if minor => row.major_seq_no.unwrap_or(row.version.seq_no),
        _ => seq_no,
    };
    let source = StoredSource::encode(source);
    match current {
        // The common update keeps its key: leaving the column alone spares the key index a delete and insert.
        Some(row) if row.key.as_deref() == key => connection
            .prepare_cached(
                "UPDATE docs SET seq_no = ?3, primary_term = ?4, major_seq_no = ?5, source = ?6 \
                 WHERE coll = ?1 AND id = ?2",
            )
            .and_then(|mut statement| {
                statement.execute(params![collection.name(), id, seq_no, PRIMARY_TERM, major_seq_no, source])
            }),
        _ => {
            ensure_collection_row(connection, collection)?;
            connection
                .prepare_cached(
                    "INSERT INTO docs (coll, id, seq_no, primary_term, key, major_seq_no, source)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (coll, id) DO UPDATE SET seq_no = excluded.seq_no,
                       primary_term = excluded.primary_term, key = excluded.key,
                       major_seq_no = excluded.major_seq_no, source = excluded.source",
                )
                .and_then(|mut statement| {
                    statement.execute(params![collection.name(), id, seq_no, PRIMARY_TERM, key, major_seq_no, source])
                })
        }
    }
    .map_err(backend_error)?;
    sequences.written(connection, collection, id, current.map(|row| row.version.seq_no), major_seq_no)
}

fn apply_update_raw(
    connection: &Connection,
    sequences: &mut Sequences,
    collection: Collection,
    id: &str,
    decide: RawUpdateFn,
) -> Result<Result<RawOutcome, EsError>, StoreError> {
    let current = read_row(connection, collection, id)?;
    let decision = match decide(current.as_ref().map(|row| RawDoc { version: row.version, source: &row.source })) {
        Ok(decision) => decision,
        Err(domain_error) => return Ok(Err(domain_error)),
    };
    match decision {
        RawDecision::Noop => Ok(Ok(RawOutcome::Noop(current.map(|row| row.version)))),
        RawDecision::Put { source, key, minor } => {
            let seq_no =
                write_source(connection, sequences, collection, id, &source, key.as_deref(), current.as_ref(), minor)?;
            let version = Version { seq_no, primary_term: PRIMARY_TERM };
            Ok(Ok(if current.is_some() { RawOutcome::Updated(version) } else { RawOutcome::Created(version) }))
        }
    }
}

fn apply_update(
    connection: &Connection,
    sequences: &mut Sequences,
    collection: Collection,
    id: &str,
    decide: UpdateFn,
) -> Result<Result<UpdateOutcome, EsError>, StoreError> {
    let row = read_row(connection, collection, id)?;
    let current = row.as_ref().map(|row| row.to_doc(id)).transpose()?;
    let decision = match decide(current.as_ref()) {
        Ok(decision) => decision,
        Err(domain_error) => return Ok(Err(domain_error)),
    };
    match decision {
        Decision::Noop => Ok(Ok(UpdateOutcome::Noop(current))),
        Decision::Put { source, key } => {
            let source_text = serde_json::to_string(&source).map_err(backend_error)?;
            let seq_no =
                write_source(connection, sequences, collection, id, &source_text, key.as_deref(), row.as_ref(), false)?;
            let doc = Doc { id: id.to_string(), seq_no, primary_term: PRIMARY_TERM, source };
            Ok(Ok(if current.is_some() { UpdateOutcome::Updated(doc) } else { UpdateOutcome::Created(doc) }))
        }
        Decision::Delete => {
            let Some(current_doc) = current else {
                return Ok(Ok(UpdateOutcome::Noop(None)));
            };
            let seq_no = sequences.next_seq_no(collection);
            // A tombstone keeps the deletion in the ordered change sequence.
            connection
                .prepare_cached(
                    "UPDATE docs SET seq_no = ?3, key = NULL, major_seq_no = ?3, source = NULL \
                     WHERE coll = ?1 AND id = ?2",
                )
                .and_then(|mut statement| statement.execute(params![collection.name(), id, seq_no]))
                .map_err(backend_error)?;
            sequences.written(connection, collection, id, Some(current_doc.seq_no), seq_no)?;
            Ok(Ok(UpdateOutcome::Deleted(current_doc)))
        }
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn get(&self, collection: Collection, id: &str) -> Result<Option<Doc>, StoreError> {
        let id = id.to_string();
        self.read(move |connection| read_doc(connection, collection, &id)).await
    }

    async fn multi_get(&self, collection: Collection, ids: &[String]) -> Result<Vec<Option<Doc>>, StoreError> {
        let ids = ids.to_vec();
        self.read(move |connection| ids.iter().map(|id| read_doc(connection, collection, id)).collect()).await
    }

    async fn list(&self, collection: Collection) -> Result<Vec<Doc>, StoreError> {
        self.read(move |connection| {
            read_docs_where(
                connection,
                "SELECT id, seq_no, primary_term, source FROM docs WHERE coll = ?1 AND source IS NOT NULL ORDER BY id",
                &[collection.name()],
            )
        })
        .await
    }

    async fn find_by_key(&self, collection: Collection, key: &str) -> Result<Vec<Doc>, StoreError> {
        let key = key.to_string();
        self.read(move |connection| {
            read_docs_where(
                connection,
                // SQLite otherwise prefers scanning the primary key's `coll` prefix: the whole collection.
                "SELECT id, seq_no, primary_term, source FROM docs INDEXED BY docs_by_coll_key \
                 WHERE coll = ?1 AND key = ?2 AND source IS NOT NULL ORDER BY id",
                &[collection.name(), &key],
            )
        })
        .await
    }

    async fn update(
        &self,
        collection: Collection,
        id: &str,
        decide: UpdateFn,
    ) -> Result<Result<UpdateOutcome, EsError>, StoreError> {
        let (reply, response) = oneshot::channel();
        self.send(WriteJob::Update { collection, id: id.to_string(), decide, reply })?;
        response.await.map_err(|_| StoreError::Closed)?
    }

    async fn update_raw(
        &self,
        collection: Collection,
        id: &str,
        decide: RawUpdateFn,
    ) -> Result<Result<RawOutcome, EsError>, StoreError> {
        let (reply, response) = oneshot::channel();
        self.send(WriteJob::UpdateRaw { collection, id: id.to_string(), decide, reply })?;
        response.await.map_err(|_| StoreError::Closed)?
    }

    async fn changes_since(
        &self,
        collection: Collection,
        after_seq_no: i64,
        limit: usize,
    ) -> Result<Vec<Change>, StoreError> {
        self.read(move |connection| read_changes(connection, collection, after_seq_no, limit)).await
    }

    async fn collection_exists(&self, collection: Collection) -> Result<bool, StoreError> {
        self.read(move |connection| {
            let exists: Option<i64> = connection
                .prepare_cached("SELECT 1 FROM collections WHERE coll = ?1")
                .and_then(|mut statement| statement.query_row(params![collection.name()], |row| row.get(0)).optional())
                .map_err(backend_error)?;
            Ok(exists.is_some())
        })
        .await
    }

    async fn ensure_collection(&self, collection: Collection) -> Result<(), StoreError> {
        let (reply, response) = oneshot::channel();
        self.send(WriteJob::EnsureCollection { collection, reply })?;
        response.await.map_err(|_| StoreError::Closed)?
    }

    async fn count(&self, collection: Collection) -> Result<u64, StoreError> {
        self.read(move |connection| {
            connection
                .prepare_cached("SELECT COUNT(*) FROM docs WHERE coll = ?1 AND source IS NOT NULL")
                .and_then(|mut statement| statement.query_row(params![collection.name()], |row| row.get::<_, i64>(0)))
                .map(|count| count as u64)
                .map_err(backend_error)
        })
        .await
    }

    async fn close(&self) {
        let sender = self.writer.lock().ok().and_then(|mut guard| guard.take());
        if let Some(sender) = sender {
            let (reply, response) = oneshot::channel();
            if sender.send(WriteJob::Shutdown { reply }).is_ok() {
                let _ = response.await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn make_store() -> (tempfile::TempDir, Arc<dyn Store>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(dir.path()).expect("open store");
        (dir, Arc::new(store))
    }

    crate::store_conformance_suite!(make_store);

    /// Commits are copied into the database file by the checkpointer thread, not by the writer (whose own
    /// checkpoints only start once the log reaches WAL_RESTART_PAGES).
    #[tokio::test]
    async fn the_checkpointer_copies_committed_pages_in_the_background() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(dir.path()).expect("open");
        // Random letters, which compression cannot shrink.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut filler = String::with_capacity(3000);
        for _ in 0..3000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            filler.push(char::from(b'a' + (state % 26) as u8));
        }
        for index in 0..50 {
            super::super::conformance::put(
                &store,
                Collection::Profiles,
                &format!("p{index}"),
                serde_json::json!({ "f": filler }),
            )
            .await;
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let (rounds, (log_pages, copied_pages)) = store.checkpoint_stats();
            // The 50 documents (150 KB) are in the database file itself. (The log may have restarted from its
            // beginning on the way, once fully copied: its size counts the pages since.)
            let database_bytes = std::fs::metadata(dir.path().join("profiled.db")).map(|meta| meta.len()).unwrap_or(0);
            if rounds > 0 && log_pages > 0 && copied_pages == log_pages && database_bytes > 150_000 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "log not copied: {rounds} rounds, {log_pages} / {copied_pages}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        store.close().await;
        assert_eq!(std::fs::metadata(dir.path().join("profiled.db-wal")).map(|meta| meta.len()).unwrap_or(0), 0);
    }

    /// Reads beyond the pool wait for a permit instead of opening connections (and page caches) of their own.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_beyond_the_pool_wait_for_a_pooled_connection() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(SqliteStore::open(dir.path()).expect("open"));
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let reads: Vec<_> = (0..READ_POOL_SIZE * 3)
            .map(|_| {
                let (store, running, peak) = (Arc::clone(&store), Arc::clone(&running), Arc::clone(&peak));
                tokio::spawn(async move {
                    store
                        .read(move |_connection| {
                            peak.fetch_max(running.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_millis(20));
                            running.fetch_sub(1, Ordering::SeqCst);
                            Ok(())
                        })
                        .await
                })
            })
            .collect();
        for read in reads {
            read.await.expect("join").expect("read");
        }
        let peak = peak.load(Ordering::SeqCst);
        assert!(peak > 1 && peak <= READ_POOL_SIZE, "{peak} reads ran at once");
        assert!(store.readers.lock().expect("pool").len() <= READ_POOL_SIZE);
        store.close().await;
    }

    /// A connection of its own to the store's database file in `dir`, as another process would have.
    fn inspect(dir: &Path) -> Connection {
        Connection::open(dir.join("profiled.db")).expect("inspect")
    }

    /// The documents table and its indexes as versions 2 and 3 created them.
    const ROWID_DOCS: &str = "CREATE TABLE docs (coll TEXT NOT NULL, id TEXT NOT NULL, seq_no INTEGER NOT NULL,
                       primary_term INTEGER NOT NULL, key TEXT, source TEXT);
                     CREATE UNIQUE INDEX docs_by_coll_id ON docs (coll, id);
                     CREATE INDEX docs_by_coll_key ON docs (coll, key, id);";

    /// A data directory whose database an older build wrote: `sql` creates it.
    fn directory_with(sql: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        inspect(dir.path()).execute_batch(sql).expect("old layout");
        dir
    }

    /// Every row `sql` selects from the database file in `dir`.
    fn select<T>(dir: &Path, sql: &str, row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>) -> Vec<T> {
        let connection = inspect(dir);
        let mut statement = connection.prepare(sql).expect("prepare");
        let rows = statement.query_map([], row).expect("query");
        rows.map(|row| row.expect("row")).collect()
    }

    /// Every entry of the change sequence, collection by collection (in [`Collection::ALL`]'s order).
    fn change_entries(dir: &Path) -> Vec<(String, i64)> {
        let mut entries = Vec::new();
        for collection in Collection::ALL {
            let sql = format!("SELECT id, seq_no FROM {} ORDER BY seq_no", changes_table(collection));
            entries.extend(select(dir, &sql, |row| Ok((row.get(0)?, row.get(1)?))));
        }
        entries
    }

    /// A data directory written by the first layout (documents in a WITHOUT ROWID table) is rebuilt on open,
    /// keeping every document, tombstone, key and the change sequence.
    #[tokio::test]
    async fn opening_a_version_1_directory_migrates_it() {
        let dir = directory_with(
            "CREATE TABLE docs (coll TEXT NOT NULL, id TEXT NOT NULL, seq_no INTEGER NOT NULL,
                       primary_term INTEGER NOT NULL, key TEXT, source TEXT, PRIMARY KEY (coll, id)) WITHOUT ROWID;
                     CREATE INDEX docs_by_coll_key ON docs (coll, key, id);
                     CREATE INDEX docs_by_seq ON docs (coll, seq_no);
                     CREATE TABLE collections (coll TEXT PRIMARY KEY, created_at_ms INTEGER NOT NULL);
                     INSERT INTO collections VALUES ('profiles', 1);
                     INSERT INTO docs VALUES ('profiles', 'a', 0, 1, 'alice', '{\"n\":1}');
                     INSERT INTO docs VALUES ('profiles', 'b', 1, 1, NULL, NULL);
                     INSERT INTO docs VALUES ('profiles', 'c', 2, 1, 'carol', '{\"n\":3}');",
        );
        let store = SqliteStore::open(dir.path()).expect("open migrates");
        let layout: String = inspect(dir.path())
            .query_row("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'docs'", [], |row| row.get(0))
            .expect("docs table");
        assert!(!layout.to_ascii_uppercase().contains("WITHOUT ROWID"), "{layout}");
        let found = store.find_by_key(Collection::Profiles, "carol").await.expect("by key");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].source, serde_json::json!({"n": 3}));
        assert!(store.get(Collection::Profiles, "b").await.expect("get").is_none());
        let changes = store.changes_since(Collection::Profiles, 0, 10).await.expect("changes");
        assert_eq!(changes.iter().map(|change| change.seq_no).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(changes[0].source, ChangeSource::Deleted);
        let next = super::super::conformance::put(&store, Collection::Profiles, "a", serde_json::json!({"n": 4})).await;
        assert_eq!(next.seq_no, 3);
        store.close().await;
        drop(store);
        // Opening again finds the current layout and leaves it alone.
        let store = SqliteStore::open(dir.path()).expect("reopen");
        assert_eq!(store.count(Collection::Profiles).await.expect("count"), 2);
    }

    /// Version 2 kept the change sequence as an index on `docs`: opening builds the change tables from the
    /// documents' last writes and drops the index.
    #[tokio::test]
    async fn opening_a_version_2_directory_builds_the_change_sequence() {
        let dir = directory_with(&format!(
            "{ROWID_DOCS}
                     CREATE INDEX docs_by_seq ON docs (coll, seq_no);
                     CREATE TABLE collections (coll TEXT PRIMARY KEY, created_at_ms INTEGER NOT NULL);
                     INSERT INTO collections VALUES ('profiles', 1);
                     INSERT INTO docs VALUES ('profiles', 'a', 4, 1, 'alice', '{{\"n\":1}}');
                     INSERT INTO docs VALUES ('profiles', 'b', 1, 1, NULL, NULL);
                     INSERT INTO docs VALUES ('roles', 'r', 7, 1, NULL, '{{\"r\":1}}');
                     PRAGMA user_version = 2;"
        ));
        let store = SqliteStore::open(dir.path()).expect("open migrates");
        let indexes: i64 = inspect(dir.path())
            .query_row("SELECT COUNT(*) FROM sqlite_master WHERE name = 'docs_by_seq'", [], |row| row.get(0))
            .expect("indexes");
        assert_eq!(indexes, 0);
        assert_eq!(change_entries(dir.path()), vec![("r".into(), 7), ("b".into(), 1), ("a".into(), 4)]);
        let changes = store.changes_since(Collection::Profiles, -1, 10).await.expect("changes");
        assert_eq!(
            changes.iter().map(|change| (change.id.as_str(), change.seq_no)).collect::<Vec<_>>(),
            [("b", 1), ("a", 4)]
        );
        let next = super::super::conformance::put(&store, Collection::Profiles, "b", serde_json::json!({"n": 2})).await;
        assert_eq!(next.seq_no, 5, "sequences go on from the highest seq_no");
        let next = super::super::conformance::put(&store, Collection::Roles, "s", serde_json::json!({"s": 1})).await;
        assert_eq!(next.seq_no, 8);
    }

    /// Version 3 did not record major writes: opening adds the columns, and a document from before counts its
    /// last write as major, so a minor write to it is reported without its source only to readers past that.
    #[tokio::test]
    async fn opening_a_version_3_directory_records_major_writes_from_then_on() {
        let dir = directory_with(&format!(
            "{ROWID_DOCS}
                     CREATE TABLE changes (coll TEXT NOT NULL, seq_no INTEGER NOT NULL, id TEXT NOT NULL,
                       PRIMARY KEY (coll, seq_no)) WITHOUT ROWID;
                     CREATE TABLE collections (coll TEXT PRIMARY KEY, created_at_ms INTEGER NOT NULL);
                     INSERT INTO collections VALUES ('profiles', 1);
                     INSERT INTO docs VALUES ('profiles', 'a', 4, 1, 'alice', '{{\"n\":1}}');
                     INSERT INTO changes VALUES ('profiles', 4, 'a');
                     PRAGMA user_version = 3;"
        ));
        let store = SqliteStore::open(dir.path()).expect("open migrates");
        let columns = select(
            dir.path(),
            "SELECT 'docs.' || name FROM pragma_table_info('docs') WHERE name = 'major_seq_no' UNION ALL \
             SELECT 'changes_profiles.' || name FROM pragma_table_info('changes_profiles') \
             WHERE name = 'major_seq_no'",
            |row| row.get::<_, String>(0),
        );
        assert_eq!(columns, ["docs.major_seq_no", "changes_profiles.major_seq_no"]);
        let before = store.changes_since(Collection::Profiles, 3, 10).await.expect("changes");
        assert_eq!(before, [Change { id: "a".into(), seq_no: 4, source: ChangeSource::Document(r#"{"n":1}"#.into()) }]);
        let minor = store
            .update_raw(
                Collection::Profiles,
                "a",
                Box::new(|_| {
                    Ok(RawDecision::Put { source: r#"{"n":2}"#.into(), key: Some("alice".into()), minor: true })
                }),
            )
            .await
            .expect("store")
            .expect("accepted");
        assert_eq!(minor, RawOutcome::Updated(Version { seq_no: 5, primary_term: PRIMARY_TERM }));
        let past_old_write = store.changes_since(Collection::Profiles, 4, 10).await.expect("changes");
        assert_eq!(past_old_write, [Change { id: "a".into(), seq_no: 5, source: ChangeSource::Unchanged }]);
        let before_old_write = store.changes_since(Collection::Profiles, 3, 10).await.expect("changes");
        assert_eq!(
            before_old_write.last(),
            Some(&Change { id: "a".into(), seq_no: 5, source: ChangeSource::Document(r#"{"n":2}"#.into()) })
        );
        store.close().await;
        drop(store);
        let store = SqliteStore::open(dir.path()).expect("reopen");
        assert_eq!(store.changes_since(Collection::Profiles, 4, 10).await.expect("changes"), past_old_write);
    }

    /// Version 4 kept every collection's change sequence in one `WITHOUT ROWID` table: opening moves each
    /// collection's entries, with their last major writes, to its own table and drops the old one.
    #[tokio::test]
    async fn opening_a_version_4_directory_splits_the_change_sequence_by_collection() {
        let dir = directory_with(&format!(
            "{ROWID_DOCS}
                     ALTER TABLE docs ADD COLUMN major_seq_no INTEGER;
                     CREATE TABLE changes (coll TEXT NOT NULL, seq_no INTEGER NOT NULL, id TEXT NOT NULL,
                       major_seq_no INTEGER, PRIMARY KEY (coll, seq_no)) WITHOUT ROWID;
                     CREATE TABLE collections (coll TEXT PRIMARY KEY, created_at_ms INTEGER NOT NULL);
                     INSERT INTO collections VALUES ('profiles', 1);
                     INSERT INTO docs VALUES ('profiles', 'a', 6, 1, 'alice', '{{\"n\":2}}', 3);
                     INSERT INTO docs VALUES ('profiles', 'b', 4, 1, NULL, NULL, 4);
                     INSERT INTO docs VALUES ('users', 'u', 2, 1, 'user', '{{\"u\":1}}', 2);
                     INSERT INTO changes VALUES ('profiles', 3, 'a', 3);
                     INSERT INTO changes VALUES ('profiles', 4, 'b', 4);
                     INSERT INTO changes VALUES ('profiles', 6, 'a', 3);
                     INSERT INTO changes VALUES ('users', 2, 'u', 2);
                     PRAGMA user_version = 4;"
        ));
        let store = SqliteStore::open(dir.path()).expect("open migrates");
        let old_tables: i64 = inspect(dir.path())
            .query_row("SELECT COUNT(*) FROM sqlite_master WHERE name = 'changes'", [], |row| row.get(0))
            .expect("tables");
        assert_eq!(old_tables, 0);
        let version: i64 = inspect(dir.path()).query_row("PRAGMA user_version", [], |row| row.get(0)).expect("version");
        assert_eq!(version, SCHEMA_VERSION);
        assert_eq!(
            change_entries(dir.path()),
            vec![("u".into(), 2), ("a".into(), 3), ("b".into(), 4), ("a".into(), 6)]
        );
        // Past `a`'s last major write (3), its minor write 6 is reported without its source; before it, with.
        assert_eq!(
            store.changes_since(Collection::Profiles, 4, 10).await.expect("changes"),
            [Change { id: "a".into(), seq_no: 6, source: ChangeSource::Unchanged }]
        );
        assert_eq!(
            store.changes_since(Collection::Profiles, 2, 10).await.expect("changes"),
            [
                Change { id: "b".into(), seq_no: 4, source: ChangeSource::Deleted },
                Change { id: "a".into(), seq_no: 6, source: ChangeSource::Document(r#"{"n":2}"#.into()) },
            ]
        );
        assert_eq!(
            store.changes_since(Collection::Users, -1, 10).await.expect("changes"),
            [Change { id: "u".into(), seq_no: 2, source: ChangeSource::Document(r#"{"u":1}"#.into()) }]
        );
        let next = super::super::conformance::put(&store, Collection::Profiles, "c", serde_json::json!({"n": 3})).await;
        assert_eq!(next.seq_no, 7, "sequences go on from the highest seq_no");
        let next = super::super::conformance::put(&store, Collection::Users, "v", serde_json::json!({"v": 1})).await;
        assert_eq!(next.seq_no, 3);
    }

    /// Rewriting the same documents over and over keeps the change sequence small: the entries the writes
    /// supersede are pruned, and the sequence still lists every document once, at its last write.
    #[tokio::test]
    async fn superseded_changes_are_pruned() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(dir.path()).expect("open");
        for round in 0..300 {
            for id in ["a", "b", "c"] {
                super::super::conformance::put(&store, Collection::Profiles, id, serde_json::json!({"round": round}))
                    .await;
            }
        }
        // Pruning runs every APPENDS_PER_STEP appends: what is left is about twice the documents, plus the
        // entries appended since the last step.
        let entries = change_entries(dir.path());
        assert!(entries.len() <= APPENDS_PER_STEP + 12, "{} entries left of 900 writes", entries.len());
        let changes = store.changes_since(Collection::Profiles, -1, 100).await.expect("changes");
        assert_eq!(
            changes.iter().map(|change| (change.id.as_str(), change.seq_no)).collect::<Vec<_>>(),
            [("a", 897), ("b", 898), ("c", 899)]
        );
    }

    /// Entries superseded before the store opened (or by another process) are found by checking the sequence
    /// against the documents after each open; valid entries stay.
    #[tokio::test]
    async fn entries_superseded_before_the_store_opened_are_pruned_after_it_opens() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let store = SqliteStore::open(dir.path()).expect("open");
            for id in ["a", "b"] {
                super::super::conformance::put(&store, Collection::Profiles, id, serde_json::json!({"n": 1})).await;
            }
            store.close().await;
        }
        // Another process rewrote `a` at seq_no 10: its entry 0 is stale, and this writer never saw it go.
        inspect(dir.path())
            .execute_batch(
                "UPDATE docs SET seq_no = 10, major_seq_no = 10 WHERE id = 'a'; \
                 INSERT INTO changes_profiles (seq_no, id, major_seq_no) VALUES (10, 'a', 10);",
            )
            .expect("a write elsewhere");
        let store = SqliteStore::open(dir.path()).expect("reopen");
        // Enough writes for a pruning step, which checks the first entries.
        let writes = APPENDS_PER_STEP + 20;
        for round in 0..writes {
            super::super::conformance::put(&store, Collection::Profiles, "c", serde_json::json!({"n": round})).await;
        }
        let entries = change_entries(dir.path());
        assert!(!entries.contains(&("a".into(), 0)), "{entries:?}");
        assert!(entries.contains(&("b".into(), 1)) && entries.contains(&("a".into(), 10)), "{entries:?}");
        assert_eq!(entries.last(), Some(&("c".into(), 10 + writes as i64)));
    }

    /// Large sources are stored compressed and read back as the same JSON; small ones stay text.
    #[tokio::test]
    async fn large_sources_are_stored_compressed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(dir.path()).expect("open");
        let large = serde_json::json!({"items": (0..100).map(|n| format!("item number {n}")).collect::<Vec<_>>()});
        super::super::conformance::put(&store, Collection::Profiles, "large", large.clone()).await;
        super::super::conformance::put(&store, Collection::Profiles, "small", serde_json::json!({"n": 1})).await;
        let kinds: Vec<(String, String, i64)> =
            select(dir.path(), "SELECT id, typeof(source), length(source) FROM docs ORDER BY id", |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            });
        assert_eq!(kinds[0].0, "large");
        assert_eq!(kinds[0].1, "blob");
        assert!((kinds[0].2 as usize) < serde_json::to_string(&large).expect("text").len() / 2, "{kinds:?}");
        assert_eq!((kinds[1].0.as_str(), kinds[1].1.as_str()), ("small", "text"));
        let read = store.get(Collection::Profiles, "large").await.expect("get").expect("found");
        assert_eq!(read.source, large);
        let changes = store.changes_since(Collection::Profiles, -1, 10).await.expect("changes");
        assert_eq!(changes[0].source, ChangeSource::Document(serde_json::to_string(&large).expect("text")));
    }

    /// A damaged compressed source is a read error, never a panic or a huge allocation.
    #[test]
    fn damaged_compressed_sources_fail_to_read() {
        let mut compressed = lz4_flex::compress_prepend_size(b"{\"n\":1}");
        assert_eq!(decompress_source(&compressed).expect("intact"), b"{\"n\":1}");
        compressed[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decompress_source(&compressed).expect_err("claims 4 GB").contains("claims"));
        assert!(decompress_source(&[1, 0]).is_err());
        assert!(decompress_source(&[200, 0, 0, 0, 0xff, 0xff]).is_err());
    }

    async fn put_job(store: &SqliteStore, id: &str) -> Result<Result<UpdateOutcome, EsError>, StoreError> {
        let source = serde_json::json!({"n": 1});
        store.update(Collection::Profiles, id, Box::new(|_| Ok(Decision::Put { source, key: None }))).await
    }

    /// No write is answered before the log sync that covers it has returned: with the sync held back, the
    /// write stays pending (though committed); once the sync goes through, it is answered.
    /// Opens a store whose syncer threads all sync the log with `sync` instead of `fdatasync`.
    fn open_with_sync(dir: &Path, sync: impl Fn() -> std::io::Result<()> + Send + Sync + 'static) -> SqliteStore {
        let sync = LogSync(Arc::new(sync));
        SqliteStore::open_with(dir, move |_| Ok(sync.clone())).expect("open")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_are_answered_only_after_the_log_is_synced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (release, gate) = mpsc::channel::<()>();
        let syncs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = Arc::clone(&syncs);
        let gate = Mutex::new(gate);
        let store = Arc::new(open_with_sync(dir.path(), move || {
            gate.lock().expect("gate").recv().map_err(std::io::Error::other)?;
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        }));
        let writing = tokio::spawn({
            let store = Arc::clone(&store);
            async move { put_job(&store, "p1").await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert!(!writing.is_finished(), "a write was answered before its log sync");
        // Committed, so readers already see it; only the answer waits for durability.
        assert!(store.get(Collection::Profiles, "p1").await.expect("get").is_some());
        release.send(()).expect("release");
        let outcome = writing.await.expect("join").expect("store").expect("decision");
        assert!(matches!(outcome, UpdateOutcome::Created(_)), "{outcome:?}");
        assert_eq!(syncs.load(std::sync::atomic::Ordering::SeqCst), 1);
        drop(release);
        store.close().await;
    }

    /// A write committed while a sync runs gets a sync of its own on another syncer thread, instead of waiting
    /// for the running one (held back here) to end.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_slow_sync_does_not_hold_back_later_writes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (release, gate) = mpsc::channel::<()>();
        let first = std::sync::atomic::AtomicBool::new(true);
        let gate = Mutex::new(gate);
        let store = Arc::new(open_with_sync(dir.path(), move || {
            if first.swap(false, std::sync::atomic::Ordering::SeqCst) {
                gate.lock().expect("gate").recv().map_err(std::io::Error::other)?;
            }
            Ok(())
        }));
        let slow = tokio::spawn({
            let store = Arc::clone(&store);
            async move { put_job(&store, "p1").await }
        });
        while store.get(Collection::Profiles, "p1").await.expect("get").is_none() {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let later = tokio::time::timeout(std::time::Duration::from_secs(10), put_job(&store, "p2")).await;
        assert!(matches!(later, Ok(Ok(Ok(UpdateOutcome::Created(_))))), "{later:?}");
        assert!(!slow.is_finished(), "the held-back sync answered");
        release.send(()).expect("release");
        assert!(matches!(slow.await.expect("join"), Ok(Ok(UpdateOutcome::Created(_)))));
        store.close().await;
    }

    /// A failed log sync fails the writes it covered and every later one: after a failed `fdatasync` a later
    /// success proves nothing.
    #[tokio::test]
    async fn a_failed_log_sync_fails_its_writes_and_all_later_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let store = open_with_sync(dir.path(), move || {
            if counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                Err(std::io::Error::other("injected EIO"))
            } else {
                Ok(())
            }
        });
        for id in ["p1", "p2"] {
            match put_job(&store, id).await {
                Err(StoreError::Backend(message)) => {
                    assert!(message.contains("fdatasync of the write-ahead log failed: injected EIO"), "{message}")
                }
                other => panic!("write acknowledged after a failed sync: {other:?}"),
            }
        }
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1, "no sync after the failed one");
        store.close().await;
    }

    /// Every syncer thread gets a log sync of its own (for the real log: a descriptor of its own, so that a
    /// write-back error reaches each of them).
    #[tokio::test]
    async fn each_syncer_thread_opens_its_own_log_sync() {
        let dir = tempfile::tempdir().expect("tempdir");
        let opened = std::sync::atomic::AtomicUsize::new(0);
        let store = SqliteStore::open_with(dir.path(), |path| {
            opened.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            LogSync::of_file(path)
        })
        .expect("open");
        assert_eq!(opened.load(std::sync::atomic::Ordering::SeqCst), SYNC_THREADS);
        put_job(&store, "p1").await.expect("store").expect("decision");
        store.close().await;
    }

    /// The log syncer's own descriptor is of the store's write-ahead log, which exists once the store is open.
    #[tokio::test]
    async fn the_log_sync_opens_the_write_ahead_log() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(dir.path()).expect("open");
        assert!(dir.path().join("profiled.db-wal").exists());
        put_job(&store, "p1").await.expect("store").expect("decision");
        store.close().await;
        let missing = tempfile::tempdir().expect("tempdir");
        match LogSync::of_file(&missing.path().join("profiled.db")) {
            Err(StoreError::Backend(message)) => {
                assert!(message.contains("cannot open the write-ahead log"), "{message}")
            }
            Ok(_) => panic!("opened a log that does not exist"),
            Err(other) => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn reopened_store_keeps_documents_and_sequence() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let store = SqliteStore::open(dir.path()).expect("open");
            super::super::conformance::put(&store, Collection::Users, "a", serde_json::json!({"n": 1})).await;
            super::super::conformance::put(&store, Collection::Users, "b", serde_json::json!({"n": 2})).await;
            store.close().await;
        }
        let store = SqliteStore::open(dir.path()).expect("reopen");
        let doc = store.get(Collection::Users, "b").await.expect("get").expect("present");
        assert_eq!(doc.seq_no, 1);
        let next = super::super::conformance::put(&store, Collection::Users, "c", serde_json::json!({})).await;
        assert_eq!(next.seq_no, 2);
    }
}
