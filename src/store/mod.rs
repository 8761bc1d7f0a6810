//! Durable document storage behind one trait.
//!
//! Every security entity (users, roles, profiles, tokens, ...) is a JSON document in a *collection*, the
//! way Elasticsearch keeps them in its `.security-7` and `.security-profile-8` system indices. Each write
//! gets a monotonic per-collection `_seq_no` and the store's `_primary_term`, and is durable once
//! acknowledged. Read-modify-write goes through [`Store::update`], which runs a caller-supplied decision
//! inside the backend's transaction, so optimistic-concurrency and "create only" rules stay in the domain
//! layer while atomicity stays in the backend.

use std::fmt;

use async_trait::async_trait;
use serde_json::Value;

use crate::error::EsError;

pub(crate) mod conformance;
pub mod sqlite;

/// A named set of documents (the equivalent of an Elasticsearch system index).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Collection {
    /// Native and reserved users (`.security-7`).
    Users,
    /// Native roles (`.security-7`).
    Roles,
    /// User profiles (`.security-profile-8`).
    Profiles,
    /// Token service documents (`.security-tokens-7`).
    Tokens,
    /// Role mappings (`.security-7`).
    RoleMappings,
}

impl Collection {
    /// Every collection, in a fixed order.
    pub const ALL: [Collection; 5] =
        [Collection::Users, Collection::Roles, Collection::Profiles, Collection::Tokens, Collection::RoleMappings];

    /// Returns the stable name used in storage.
    pub fn name(self) -> &'static str {
        match self {
            Collection::Users => "users",
            Collection::Roles => "roles",
            Collection::Profiles => "profiles",
            Collection::Tokens => "tokens",
            Collection::RoleMappings => "role_mappings",
        }
    }

    /// Returns the Elasticsearch index name this collection stands for.
    pub fn index_name(self) -> &'static str {
        match self {
            Collection::Users | Collection::Roles | Collection::RoleMappings => ".security-7",
            Collection::Profiles => ".security-profile-8",
            Collection::Tokens => ".security-tokens-7",
        }
    }
}

/// A stored document with its version-control numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    /// Document id, unique within its collection.
    pub id: String,
    /// Sequence number of the last write to this document.
    pub seq_no: i64,
    /// Primary term of the last write to this document.
    pub primary_term: i64,
    /// The document source.
    pub source: Value,
}

/// An entry of a collection's ordered change sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Document id.
    pub id: String,
    /// Sequence number of the change.
    pub seq_no: i64,
    /// What the change left.
    pub source: ChangeSource,
}

/// What a [`Change`] carries.
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeSource {
    /// The new source as JSON text (readers of the feed parse only what they need).
    Document(String),
    /// The document was deleted.
    Deleted,
    /// A minor write (see [`RawDecision::Put`]) to a document whose last major write is at or before the
    /// reader's position: the reader has seen everything it derives from this document, and the source is
    /// not read.
    Unchanged,
}

/// What an update decision wants written.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Write this source, with this secondary lookup key.
    Put { source: Value, key: Option<String> },
    /// Delete the document.
    Delete,
    /// Write nothing; the current document (if any) is returned unchanged.
    Noop,
}

/// The decision function of [`Store::update`]: sees the current document (if any), decides what to write.
/// Returning an error aborts this update only; nothing is written.
pub type UpdateFn = Box<dyn FnOnce(Option<&Doc>) -> Result<Decision, EsError> + Send>;

/// What [`Store::update`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateOutcome {
    /// A new document was written.
    Created(Doc),
    /// An existing document was replaced.
    Updated(Doc),
    /// The document was deleted; carries the deleted version.
    Deleted(Doc),
    /// Nothing was written; carries the current document, if any.
    Noop(Option<Doc>),
}

/// A document version: sequence number and primary term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    /// Sequence number of the write.
    pub seq_no: i64,
    /// Primary term of the write.
    pub primary_term: i64,
}

/// The current document as [`Store::update_raw`] shows it: its version and its source as JSON text.
#[derive(Debug, Clone, Copy)]
pub struct RawDoc<'a> {
    /// The version of the current document.
    pub version: Version,
    /// The source, as stored.
    pub source: &'a str,
}

/// What a raw update decision wants written.
#[derive(Debug, Clone, PartialEq)]
pub enum RawDecision {
    /// Write this source (JSON text of an object), with this secondary lookup key. A `minor` write changes
    /// nothing that readers of the change sequence derive from the source (for profiles: the fields the
    /// suggest index holds), compared with the version it replaces; readers already past the document's last
    /// major write see its change as [`ChangeSource::Unchanged`]. Creating a document is always major, and so
    /// is every write of a backend that keeps no record of major writes (the default `update_raw`).
    Put { source: String, key: Option<String>, minor: bool },
    /// Write nothing.
    Noop,
}

/// The decision function of [`Store::update_raw`].
pub type RawUpdateFn = Box<dyn FnOnce(Option<RawDoc<'_>>) -> Result<RawDecision, EsError> + Send>;

/// What [`Store::update_raw`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawOutcome {
    /// A new document was written.
    Created(Version),
    /// An existing document was replaced.
    Updated(Version),
    /// Nothing was written; carries the current version, if any.
    Noop(Option<Version>),
}

/// A storage failure that is not a domain error.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend failed (I/O, corruption, connection).
    #[error("storage backend failure: {0}")]
    Backend(String),
    /// The backend is shut down.
    #[error("storage is closed")]
    Closed,
}

impl From<StoreError> for EsError {
    fn from(error: StoreError) -> Self {
        tracing::error!(error = %error, "storage failure");
        EsError::new(500, "exception", "storage failure")
    }
}

/// Durable storage of security documents. One method = one atomic operation.
#[async_trait]
pub trait Store: Send + Sync + fmt::Debug + 'static {
    /// Returns the document with `id`, if present.
    async fn get(&self, collection: Collection, id: &str) -> Result<Option<Doc>, StoreError>;

    /// Returns the documents with the given ids, in order, `None` for missing ones.
    async fn multi_get(&self, collection: Collection, ids: &[String]) -> Result<Vec<Option<Doc>>, StoreError>;

    /// Returns every document of the collection, ordered by id.
    async fn list(&self, collection: Collection) -> Result<Vec<Doc>, StoreError>;

    /// Returns the documents whose secondary key equals `key`, ordered by id.
    async fn find_by_key(&self, collection: Collection, key: &str) -> Result<Vec<Doc>, StoreError>;

    /// Atomically reads the document `id`, runs `decide` on it and writes what it decides.
    /// The outer error is a storage failure; the inner one is the decision's own error.
    async fn update(
        &self,
        collection: Collection,
        id: &str,
        decide: UpdateFn,
    ) -> Result<Result<UpdateOutcome, EsError>, StoreError>;

    /// [`Store::update`] on JSON text: the decision reads the current source as stored and hands over the
    /// text to write, so a backend that keeps text never parses or re-serialises it. The default goes
    /// through `update`; backends override it.
    async fn update_raw(
        &self,
        collection: Collection,
        id: &str,
        decide: RawUpdateFn,
    ) -> Result<Result<RawOutcome, EsError>, StoreError> {
        let outcome = self
            .update(
                collection,
                id,
                Box::new(move |current| {
                    let text = current
                        .map(|doc| serde_json::to_string(&doc.source))
                        .transpose()
                        .map_err(|error| EsError::internal(error.to_string()))?;
                    let raw = current.zip(text.as_deref()).map(|(doc, source)| RawDoc {
                        version: Version { seq_no: doc.seq_no, primary_term: doc.primary_term },
                        source,
                    });
                    match decide(raw)? {
                        RawDecision::Noop => Ok(Decision::Noop),
                        RawDecision::Put { source, key, minor: _ } => {
                            let source =
                                serde_json::from_str(&source).map_err(|error| EsError::internal(error.to_string()))?;
                            Ok(Decision::Put { source, key })
                        }
                    }
                }),
            )
            .await?;
        let version = |doc: &Doc| Version { seq_no: doc.seq_no, primary_term: doc.primary_term };
        Ok(outcome.map(|outcome| match outcome {
            UpdateOutcome::Created(doc) => RawOutcome::Created(version(&doc)),
            UpdateOutcome::Updated(doc) => RawOutcome::Updated(version(&doc)),
            UpdateOutcome::Deleted(doc) => RawOutcome::Noop(Some(version(&doc))),
            UpdateOutcome::Noop(doc) => RawOutcome::Noop(doc.as_ref().map(version)),
        }))
    }

    /// Returns the changes with `seq_no > after_seq_no`, oldest first, at most `limit`.
    /// Only the latest change of each document is kept, except that a change reported as
    /// [`ChangeSource::Unchanged`] may be followed by a later change of the same document.
    async fn changes_since(
        &self,
        collection: Collection,
        after_seq_no: i64,
        limit: usize,
    ) -> Result<Vec<Change>, StoreError>;

    /// Tells whether the collection was ever written to or explicitly created (Elasticsearch creates
    /// system indices lazily, and some APIs answer differently before that).
    async fn collection_exists(&self, collection: Collection) -> Result<bool, StoreError>;

    /// Creates the collection if it does not exist yet.
    async fn ensure_collection(&self, collection: Collection) -> Result<(), StoreError>;

    /// Returns the number of live documents in the collection.
    async fn count(&self, collection: Collection) -> Result<u64, StoreError>;

    /// Flushes and closes the store; later calls fail with [`StoreError::Closed`].
    async fn close(&self);
}
