//! The behaviour every [`Store`] backend must show, as test functions shared by all backends.
//!
//! A backend's test module invokes `store_conformance_suite!(make_store)` where `make_store` is an async
//! function returning `(guard, Arc<dyn Store>)`; the guard (e.g. a temp dir) lives as long as the test.

#![cfg_attr(not(test), allow(dead_code))]

use std::sync::Arc;

use serde_json::{json, Value};

use super::{ChangeSource, Collection, Decision, Doc, RawDecision, RawOutcome, Store, UpdateOutcome, Version};
use crate::error::EsError;

/// Writes `source` as document `id` and returns the written document.
pub(crate) async fn put(store: &dyn Store, collection: Collection, id: &str, source: Value) -> Doc {
    let key = source.get("key").and_then(Value::as_str).map(str::to_string);
    let outcome = store
        .update(collection, id, Box::new(move |_| Ok(Decision::Put { source, key })))
        .await
        .expect("store works")
        .expect("decision accepted");
    match outcome {
        UpdateOutcome::Created(doc) | UpdateOutcome::Updated(doc) => doc,
        other => panic!("unexpected outcome {other:?}"),
    }
}

pub(crate) async fn missing_document_is_none(store: Arc<dyn Store>) {
    assert_eq!(store.get(Collection::Profiles, "nope").await.expect("get"), None);
    assert!(!store.collection_exists(Collection::Profiles).await.expect("exists"));
}

pub(crate) async fn put_then_get_round_trips(store: Arc<dyn Store>) {
    let source = json!({"b": 1, "a": {"z": [1, 2], "y": null}});
    let written = put(store.as_ref(), Collection::Profiles, "p1", source.clone()).await;
    assert_eq!(written.seq_no, 0);
    assert_eq!(written.primary_term, 1);
    let read = store.get(Collection::Profiles, "p1").await.expect("get").expect("present");
    assert_eq!(read, written);
    // Key order of objects is preserved.
    assert_eq!(serde_json::to_string(&read.source).expect("json"), serde_json::to_string(&source).expect("json"));
    assert!(store.collection_exists(Collection::Profiles).await.expect("exists"));
}

pub(crate) async fn seq_no_is_monotonic_per_collection(store: Arc<dyn Store>) {
    let first = put(store.as_ref(), Collection::Users, "u1", json!({})).await;
    let second = put(store.as_ref(), Collection::Users, "u2", json!({})).await;
    let third = put(store.as_ref(), Collection::Users, "u1", json!({"v": 2})).await;
    let other = put(store.as_ref(), Collection::Roles, "r1", json!({})).await;
    assert_eq!((first.seq_no, second.seq_no, third.seq_no), (0, 1, 2));
    assert_eq!(other.seq_no, 0);
}

pub(crate) async fn update_sees_current_document(store: Arc<dyn Store>) {
    put(store.as_ref(), Collection::Users, "u", json!({"count": 1})).await;
    let outcome = store
        .update(
            Collection::Users,
            "u",
            Box::new(|current| {
                let count = current.and_then(|doc| doc.source["count"].as_i64()).unwrap_or(0);
                Ok(Decision::Put { source: json!({"count": count + 1}), key: None })
            }),
        )
        .await
        .expect("store")
        .expect("decision");
    match outcome {
        UpdateOutcome::Updated(doc) => assert_eq!(doc.source["count"], 2),
        other => panic!("unexpected {other:?}"),
    }
}

pub(crate) async fn failed_decision_writes_nothing(store: Arc<dyn Store>) {
    put(store.as_ref(), Collection::Users, "u", json!({"v": 1})).await;
    let result =
        store.update(Collection::Users, "u", Box::new(|_| Err(EsError::illegal_argument("no")))).await.expect("store");
    assert_eq!(result.expect_err("decision error").reason, "no");
    let doc = store.get(Collection::Users, "u").await.expect("get").expect("present");
    assert_eq!((doc.seq_no, doc.source["v"].as_i64()), (0, Some(1)));
}

pub(crate) async fn noop_keeps_version(store: Arc<dyn Store>) {
    let written = put(store.as_ref(), Collection::Users, "u", json!({"v": 1})).await;
    let outcome =
        store.update(Collection::Users, "u", Box::new(|_| Ok(Decision::Noop))).await.expect("store").expect("decision");
    assert_eq!(outcome, UpdateOutcome::Noop(Some(written)));
    let next = put(store.as_ref(), Collection::Users, "w", json!({})).await;
    assert_eq!(next.seq_no, 1, "a no-op consumes no sequence number");
}

pub(crate) async fn delete_removes_and_appears_in_changes(store: Arc<dyn Store>) {
    put(store.as_ref(), Collection::Roles, "a", json!({"x": 1})).await;
    put(store.as_ref(), Collection::Roles, "b", json!({"x": 2})).await;
    let outcome = store
        .update(Collection::Roles, "a", Box::new(|_| Ok(Decision::Delete)))
        .await
        .expect("store")
        .expect("decision");
    assert!(matches!(outcome, UpdateOutcome::Deleted(ref doc) if doc.id == "a"));
    assert_eq!(store.get(Collection::Roles, "a").await.expect("get"), None);
    assert_eq!(store.count(Collection::Roles).await.expect("count"), 1);
    let missing = store
        .update(Collection::Roles, "zzz", Box::new(|_| Ok(Decision::Delete)))
        .await
        .expect("store")
        .expect("decision");
    assert_eq!(missing, UpdateOutcome::Noop(None));
    let changes = store.changes_since(Collection::Roles, -1, 100).await.expect("changes");
    let summary: Vec<(String, i64, bool)> = changes
        .iter()
        .map(|change| (change.id.clone(), change.seq_no, change.source != ChangeSource::Deleted))
        .collect();
    assert_eq!(summary, vec![("b".to_string(), 1, true), ("a".to_string(), 2, false)]);
    // A deleted document can be created again, with a fresh sequence number.
    let again = put(store.as_ref(), Collection::Roles, "a", json!({"x": 3})).await;
    assert_eq!(again.seq_no, 3);
}

pub(crate) async fn changes_since_pages_in_order(store: Arc<dyn Store>) {
    for index in 0..5 {
        put(store.as_ref(), Collection::Profiles, &format!("p{index}"), json!({"i": index})).await;
    }
    put(store.as_ref(), Collection::Profiles, "p1", json!({"i": 10})).await;
    let first_page = store.changes_since(Collection::Profiles, -1, 3).await.expect("changes");
    let ids: Vec<&str> = first_page.iter().map(|change| change.id.as_str()).collect();
    assert_eq!(ids, vec!["p0", "p2", "p3"]);
    let last_seen = first_page.last().expect("non-empty").seq_no;
    let second_page = store.changes_since(Collection::Profiles, last_seen, 10).await.expect("changes");
    let ids: Vec<&str> = second_page.iter().map(|change| change.id.as_str()).collect();
    assert_eq!(ids, vec!["p4", "p1"]);
    let ChangeSource::Document(source) = &second_page[1].source else { panic!("{:?}", second_page[1]) };
    assert_eq!(serde_json::from_str::<serde_json::Value>(source).expect("json"), json!({"i": 10}));
}

pub(crate) async fn find_by_key_and_multi_get(store: Arc<dyn Store>) {
    put(store.as_ref(), Collection::Profiles, "p_b", json!({"key": "joe"})).await;
    put(store.as_ref(), Collection::Profiles, "p_a", json!({"key": "joe"})).await;
    put(store.as_ref(), Collection::Profiles, "p_c", json!({"key": "ann"})).await;
    let found = store.find_by_key(Collection::Profiles, "joe").await.expect("find");
    let ids: Vec<&str> = found.iter().map(|doc| doc.id.as_str()).collect();
    assert_eq!(ids, vec!["p_a", "p_b"]);
    let ids = vec!["p_c".to_string(), "nope".to_string(), "p_c".to_string()];
    let docs = store.multi_get(Collection::Profiles, &ids).await.expect("mget");
    assert_eq!(docs.len(), 3);
    assert!(docs[0].is_some() && docs[1].is_none() && docs[2].is_some());
    let listed = store.list(Collection::Profiles).await.expect("list");
    assert_eq!(listed.len(), 3);
}

pub(crate) async fn ensure_collection_creates_empty_collection(store: Arc<dyn Store>) {
    assert!(!store.collection_exists(Collection::Tokens).await.expect("exists"));
    store.ensure_collection(Collection::Tokens).await.expect("ensure");
    store.ensure_collection(Collection::Tokens).await.expect("ensure twice");
    assert!(store.collection_exists(Collection::Tokens).await.expect("exists"));
    assert_eq!(store.count(Collection::Tokens).await.expect("count"), 0);
}

/// Runs `count` tasks made by `task` at once; returns their outputs in task order.
async fn race<T, F, Fut>(count: usize, task: F) -> Vec<T>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = (0..count).map(|index| tokio::spawn(task(index))).collect();
    let mut outputs = Vec::with_capacity(count);
    for handle in handles {
        outputs.push(handle.await.expect("join"));
    }
    outputs
}

pub(crate) async fn concurrent_updates_are_serialized(store: Arc<dyn Store>) {
    put(store.as_ref(), Collection::Users, "counter", json!({"n": 0})).await;
    race(50, |_| {
        let store = Arc::clone(&store);
        async move {
            store
                .update(
                    Collection::Users,
                    "counter",
                    Box::new(|current| {
                        let value = current.and_then(|doc| doc.source["n"].as_i64()).unwrap_or(0);
                        Ok(Decision::Put { source: json!({"n": value + 1}), key: None })
                    }),
                )
                .await
                .expect("store")
                .expect("decision")
        }
    })
    .await;
    let doc = store.get(Collection::Users, "counter").await.expect("get").expect("present");
    assert_eq!(doc.source["n"], 50);
    assert_eq!(doc.seq_no, 50);
}

/// Raw updates of one document racing each other lose none, each is answered with its own seq_no, and a
/// no-op racing with them reports a version that existed.
pub(crate) async fn concurrent_raw_updates_are_serialized(store: Arc<dyn Store>) {
    let created = store
        .update_raw(
            Collection::Profiles,
            "counter",
            Box::new(|_| Ok(RawDecision::Put { source: r#"{"n":0}"#.into(), key: None, minor: false })),
        )
        .await
        .expect("store")
        .expect("decision");
    let RawOutcome::Created(first) = created else { panic!("unexpected {created:?}") };
    let outcomes = race(60, |task| {
        let store = Arc::clone(&store);
        async move {
            store
                .update_raw(
                    Collection::Profiles,
                    "counter",
                    Box::new(move |current| {
                        let current = current.expect("exists");
                        let value: Value = serde_json::from_str(current.source).expect("json");
                        let n = value["n"].as_i64().expect("n");
                        // Every sixth task only looks: a no-op.
                        if task % 6 == 5 {
                            return Ok(RawDecision::Noop);
                        }
                        Ok(RawDecision::Put { source: json!({"n": n + 1}).to_string(), key: None, minor: n % 2 == 0 })
                    }),
                )
                .await
                .expect("store")
                .expect("decision")
        }
    })
    .await;
    let mut written = Vec::new();
    for outcome in outcomes {
        match outcome {
            RawOutcome::Updated(version) => written.push(version.seq_no),
            RawOutcome::Noop(Some(version)) => {
                assert!(version.seq_no >= first.seq_no && version.seq_no <= first.seq_no + 50, "{version:?}")
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    written.sort_unstable();
    assert_eq!(written, (first.seq_no + 1..=first.seq_no + 50).collect::<Vec<_>>());
    let doc = store.get(Collection::Profiles, "counter").await.expect("get").expect("present");
    assert_eq!((doc.source["n"].as_i64(), doc.seq_no), (Some(50), first.seq_no + 50));
}

pub(crate) async fn closed_store_refuses_writes(store: Arc<dyn Store>) {
    put(store.as_ref(), Collection::Users, "u", json!({})).await;
    store.close().await;
    let result = store.update(Collection::Users, "v", Box::new(|_| Ok(Decision::Noop))).await;
    assert!(result.is_err());
}

pub(crate) async fn raw_updates_see_and_write_text(store: Arc<dyn Store>) {
    let missing = store
        .update_raw(
            Collection::Profiles,
            "r",
            Box::new(|current| {
                assert!(current.is_none());
                Ok(RawDecision::Noop)
            }),
        )
        .await
        .expect("store works");
    assert_eq!(missing.expect("accepted"), RawOutcome::Noop(None));
    let created = store
        .update_raw(
            Collection::Profiles,
            "r",
            Box::new(|_| {
                Ok(RawDecision::Put { source: r#"{"n":1,"key":"k"}"#.into(), key: Some("k".into()), minor: false })
            }),
        )
        .await
        .expect("store works")
        .expect("accepted");
    let RawOutcome::Created(first) = created else { panic!("unexpected {created:?}") };
    let updated = store
        .update_raw(
            Collection::Profiles,
            "r",
            Box::new(move |current| {
                let current = current.expect("exists");
                assert_eq!(current.version, first);
                let value: Value = serde_json::from_str(current.source).expect("json");
                assert_eq!(value, json!({"n": 1, "key": "k"}));
                Ok(RawDecision::Put { source: r#"{"n":2,"key":"k"}"#.into(), key: Some("k".into()), minor: false })
            }),
        )
        .await
        .expect("store works")
        .expect("accepted");
    assert_eq!(updated, RawOutcome::Updated(Version { seq_no: first.seq_no + 1, primary_term: first.primary_term }));
    let doc = store.get(Collection::Profiles, "r").await.expect("get").expect("exists");
    assert_eq!((doc.seq_no, doc.source), (first.seq_no + 1, json!({"n": 2, "key": "k"})));
    assert_eq!(store.find_by_key(Collection::Profiles, "k").await.expect("find").len(), 1);
    let changes = store.changes_since(Collection::Profiles, first.seq_no, 10).await.expect("changes");
    assert_eq!(changes.len(), 1);
    let refused = store
        .update_raw(Collection::Profiles, "r", Box::new(|_| Err(EsError::illegal_argument("no"))))
        .await
        .expect("store works");
    assert!(refused.is_err());
    let noop = store.update_raw(Collection::Profiles, "r", Box::new(|_| Ok(RawDecision::Noop))).await.expect("works");
    assert_eq!(noop.expect("accepted"), RawOutcome::Noop(Some(Version { seq_no: first.seq_no + 1, primary_term: 1 })));
}

/// Writes `source` to `id` through `update_raw`, as a minor write or not; returns the new seq_no.
async fn put_raw(store: &dyn Store, id: &str, source: &str, minor: bool) -> i64 {
    let source = source.to_string();
    let outcome = store
        .update_raw(Collection::Profiles, id, Box::new(move |_| Ok(RawDecision::Put { source, key: None, minor })))
        .await
        .expect("store works")
        .expect("accepted");
    match outcome {
        RawOutcome::Created(version) | RawOutcome::Updated(version) => version.seq_no,
        other => panic!("unexpected {other:?}"),
    }
}

pub(crate) async fn minor_writes_are_reported_without_source_past_the_last_major_write(store: Arc<dyn Store>) {
    // Creating is major even when the decision says minor.
    let created = put_raw(store.as_ref(), "m", r#"{"v":0}"#, true).await;
    let first_minor = put_raw(store.as_ref(), "m", r#"{"v":1}"#, true).await;
    let second_minor = put_raw(store.as_ref(), "m", r#"{"v":2}"#, true).await;
    let document = |text: &str| ChangeSource::Document(text.to_string());
    // A reader that has not seen the last major write gets the current source.
    let from_start = store.changes_since(Collection::Profiles, created - 1, 10).await.expect("changes");
    assert_eq!(
        from_start.last().map(|change| (change.seq_no, &change.source)),
        Some((second_minor, &document(r#"{"v":2}"#)))
    );
    assert!(from_start.iter().all(|change| change.source == document(r#"{"v":2}"#)), "{from_start:?}");
    // Past it, minor writes come without their source, in order; superseded ones may or may not be reported.
    let past_major = store.changes_since(Collection::Profiles, created, 10).await.expect("changes");
    assert!(past_major.iter().all(|change| change.source == ChangeSource::Unchanged), "{past_major:?}");
    assert_eq!(past_major.last().map(|change| change.seq_no), Some(second_minor));
    let past_first_minor = store.changes_since(Collection::Profiles, first_minor, 10).await.expect("changes");
    let summary: Vec<(i64, &ChangeSource)> =
        past_first_minor.iter().map(|change| (change.seq_no, &change.source)).collect();
    assert_eq!(summary, vec![(second_minor, &ChangeSource::Unchanged)]);
    // A major write is reported with its source, to every reader; minor writes after it refer to it.
    let major = put_raw(store.as_ref(), "m", r#"{"v":3}"#, false).await;
    let after_major = store.changes_since(Collection::Profiles, created, 10).await.expect("changes");
    assert_eq!(
        after_major.last().map(|change| (change.seq_no, &change.source)),
        Some((major, &document(r#"{"v":3}"#)))
    );
    let next_minor = put_raw(store.as_ref(), "m", r#"{"v":4}"#, true).await;
    let before_major = store.changes_since(Collection::Profiles, second_minor, 10).await.expect("changes");
    assert_eq!(
        before_major.last().map(|change| (change.seq_no, &change.source)),
        Some((next_minor, &document(r#"{"v":4}"#)))
    );
    let past_new_major = store.changes_since(Collection::Profiles, major, 10).await.expect("changes");
    let summary: Vec<(i64, &ChangeSource)> =
        past_new_major.iter().map(|change| (change.seq_no, &change.source)).collect();
    assert_eq!(summary, vec![(next_minor, &ChangeSource::Unchanged)]);
    // A deletion is major.
    store.update(Collection::Profiles, "m", Box::new(|_| Ok(Decision::Delete))).await.expect("store").expect("deleted");
    let deleted = store.changes_since(Collection::Profiles, next_minor, 10).await.expect("changes");
    assert_eq!(deleted.iter().map(|change| &change.source).collect::<Vec<_>>(), vec![&ChangeSource::Deleted]);
}

/// Expands every conformance test as a `#[tokio::test]` for the backend built by `$make_store`.
#[macro_export]
#[doc(hidden)]
macro_rules! store_conformance_suite {
    ($make_store:ident) => {
        $crate::store_conformance_suite!(@tests $make_store,
            missing_document_is_none, put_then_get_round_trips, seq_no_is_monotonic_per_collection,
            update_sees_current_document, failed_decision_writes_nothing, noop_keeps_version,
            delete_removes_and_appears_in_changes, changes_since_pages_in_order, find_by_key_and_multi_get,
            ensure_collection_creates_empty_collection, concurrent_updates_are_serialized,
            concurrent_raw_updates_are_serialized, closed_store_refuses_writes, raw_updates_see_and_write_text,
            minor_writes_are_reported_without_source_past_the_last_major_write);
    };
    (@tests $make_store:ident, $($name:ident),+) => {
        mod conformance_suite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let (_guard, store) = super::$make_store().await;
                    $crate::store::conformance::$name(store).await;
                }
            )+
        }
    };
}
