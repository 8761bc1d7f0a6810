//! TEMPORARY STUB: replaced by the query DSL evaluator.
#![allow(dead_code, unused_variables)]
use serde_json::Value;
use crate::error::EsError;
pub(crate) struct QueryUserRequest;
pub(crate) fn parse_query_user_request(body: Option<&Value>) -> Result<QueryUserRequest, EsError> { Ok(QueryUserRequest) }
pub(crate) fn execute_query_user(request: &QueryUserRequest, users: Vec<Value>) -> Result<(u64, Vec<Value>), EsError> { Ok((users.len() as u64, users)) }
