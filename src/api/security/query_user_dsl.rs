//! The Query User API (`GET|POST /_security/_query/user`, Elasticsearch 8.14+) evaluated in memory.
//!
//! Elasticsearch runs the request as a search on the security index:
//! `bool { must: [<translated query>], filter: [term type=user] }`, with `track_total_hits`, the
//! request's `from`/`size` (defaults 0/10), its translated `sort` and `search_after`. Consequences kept here:
//! - only native users are searched: reserved users (`elastic`, `kibana_system`, ...) are stored as
//!   `reserved-user` documents and are never returned, even after their password changed;
//! - without `sort`, hits come by relevance (BM25 score, descending), ties in index order, and carry no
//!   `_sort`; with a sort, ties are broken by index order and every user carries `_sort`;
//! - `total` counts every matching user, regardless of `from`, `size` and `search_after`.
//!
//! Errors follow Elasticsearch's phases. [`parse_query_user_request`]: body parsing
//! (`x_content_parse_exception`, `parsing_exception`) and request validation
//! (`action_request_validation_exception`), both before authorization. [`execute_query_user`]: field
//! translation (`illegal_argument_exception`, raised by the transport action after authorization),
//! then the search's failures (`search_phase_execution_exception`, and the search request's own
//! validation of `from` with `search_after`). When the security index does not exist Elasticsearch
//! answers `{"total":0,"count":0,"users":[]}` after translation but without the search's checks.

use serde_json::Value;

use crate::error::EsError;

mod analysis;
mod body;
mod compile;
mod compiled;
mod errors;
mod index;
mod parse_query;
mod parse_query_terms;
mod parse_query_text;
mod parse_values;
mod query;
mod simple_query_string;
mod sort;
#[cfg(test)]
mod tests;

use self::index::UserIndex;
use self::query::{translate_query, Query};
use self::sort::{SortKey, SortSpec, SortValue};

/// Elasticsearch's default `index.max_result_window`.
const MAX_RESULT_WINDOW: i64 = 10_000;
/// The page size when the request gives none.
const DEFAULT_SIZE: i32 = 10;

/// A parsed and validated Query User request (fields are translated when it runs).
#[allow(dead_code)] // wired by the REST handler
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QueryUserRequest {
    query: Option<Query<String>>,
    from: Option<i32>,
    size: Option<i32>,
    sort: Option<Vec<SortSpec>>,
    search_after: Option<Vec<Value>>,
}

/// Parses the request body (absent body: match all users) and validates `from`/`size`, with
/// Elasticsearch's errors (REST layer, then `ActionRequest.validate`, both before authorization).
#[allow(dead_code)] // wired by the REST handler
pub(crate) fn parse_query_user_request(body: Option<&Value>) -> Result<QueryUserRequest, EsError> {
    let Some(body) = body else {
        return Ok(QueryUserRequest { query: None, from: None, size: None, sort: None, search_after: None });
    };
    let parsed = body::parse_body(body)?;
    body::validate(&parsed)?;
    Ok(QueryUserRequest {
        query: parsed.query,
        from: parsed.from,
        size: parsed.size,
        sort: parsed.sort,
        search_after: parsed.search_after,
    })
}

/// Reads the `with_profile_uid` query parameter (`paramAsBoolean`: absent is false, empty is true).
#[allow(dead_code)] // wired by the REST handler
pub(crate) fn parse_with_profile_uid(raw_value: Option<&str>) -> Result<bool, EsError> {
    match raw_value {
        None => Ok(false),
        Some("") | Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(EsError::illegal_argument(format!(
            "Failed to parse value [{other}] as only [true] or [false] are allowed."
        ))),
    }
}

/// Runs the request over `users` (native users only, rendered as `GET /_security/user` renders them,
/// possibly with `profile_uid`, in index order: oldest write first). Returns the total number of
/// matching users and the requested page, each user with `_sort` when the request sorts.
///
/// Field translation errors come first (Elasticsearch raises them in the transport action, after
/// authorization), then the search's own failures.
#[allow(dead_code)] // wired by the REST handler
pub(crate) fn execute_query_user(request: &QueryUserRequest, users: Vec<Value>) -> Result<(u64, Vec<Value>), EsError> {
    let query_opt = request.query.clone().map(translate_query).transpose()?;
    let sort_keys = request.sort.clone().map(sort::translate_sort).transpose()?.unwrap_or_default();
    let from = request.from.unwrap_or(0);
    let size = request.size.unwrap_or(DEFAULT_SIZE);
    if request.search_after.is_some() && from > 0 {
        return Err(EsError::validation(&["[from] parameter must be set to 0 when [search_after] is used"]));
    }
    let compiled_opt = query_opt.as_ref().map(compile::compile_query).transpose()?;
    sort::build_sort(&sort_keys)?;
    let after_opt = match &request.search_after {
        Some(after) => Some(sort::search_after_values(&sort_keys, after)?),
        None => None,
    };
    check_result_window(from, size)?;
    let page = SearchPage { from: from.max(0) as usize, size: size.max(0) as usize, sort_keys: &sort_keys };
    Ok(page.collect(compiled_opt.as_ref(), after_opt.as_deref(), &users))
}

/// Refuses pages ending past `index.max_result_window`, as the shard does.
fn check_result_window(from: i32, size: i32) -> Result<(), EsError> {
    let result_window = i64::from(from) + i64::from(size);
    if result_window <= MAX_RESULT_WINDOW {
        return Ok(());
    }
    Err(errors::shard_illegal_argument(format!(
        "Result window is too large, from + size must be less than or equal to: [{MAX_RESULT_WINDOW}] but was \
         [{result_window}]. See the scroll api for a more efficient way to request large data sets. This limit \
         can be set by changing the [index.max_result_window] index level setting."
    )))
}

/// A matching user: its index position, score and sort values.
struct Hit {
    doc_index: usize,
    score: f32,
    sort_values: Vec<SortValue>,
}

/// The page a request asks for.
struct SearchPage<'a> {
    from: usize,
    size: usize,
    sort_keys: &'a [SortKey],
}

impl SearchPage<'_> {
    /// Matches, orders and pages the users; returns the total number of matches and the rendered page.
    fn collect(
        &self,
        compiled_opt: Option<&compiled::Compiled>,
        after_opt: Option<&[SortValue]>,
        users: &[Value],
    ) -> (u64, Vec<Value>) {
        let index = UserIndex::build(users);
        let mut hits: Vec<Hit> = Vec::new();
        for user in &index.users {
            let score_opt = match compiled_opt {
                Some(compiled) => compiled.score(&index, user),
                None => Some(0.0),
            };
            if let Some(score) = score_opt {
                let sort_values = sort::sort_values(self.sort_keys, user);
                hits.push(Hit { doc_index: user.doc_index, score, sort_values });
            }
        }
        let total = hits.len() as u64;
        if self.sort_keys.is_empty() {
            hits.sort_by(|left, right| right.score.total_cmp(&left.score).then(left.doc_index.cmp(&right.doc_index)));
        } else {
            hits.sort_by(|left, right| {
                sort::compare_sort_values(self.sort_keys, &left.sort_values, &right.sort_values)
                    .then(left.doc_index.cmp(&right.doc_index))
            });
        }
        if let Some(after) = after_opt {
            hits.retain(|hit| sort::compare_sort_values(self.sort_keys, &hit.sort_values, after).is_gt());
        }
        let page = hits
            .into_iter()
            .skip(self.from)
            .take(self.size)
            .map(|hit| {
                let rendered_sort = (!self.sort_keys.is_empty()).then(|| sort::render_sort_values(&hit.sort_values));
                sort::with_sort_values(&users[hit.doc_index], rendered_sort)
            })
            .collect();
        (total, page)
    }
}
