//! profiled: Elasticsearch-compatible user profiles and the security layer they rest on.

pub mod error;
pub mod store;
