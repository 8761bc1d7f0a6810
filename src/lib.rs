//! profiled: Elasticsearch-compatible user profiles and the security layer they rest on.
//!
//! Layers: `api` (REST, wire conventions) → `service` (operations) → `authn` / `authz` / `domain`
//! (pure rules) → `store` (durable documents).

pub mod api;
pub mod app;
pub mod authn;
pub mod bench;
pub(crate) mod authz;
pub mod cli;
pub mod config;
pub(crate) mod domain;
pub(crate) mod search;
pub mod error;
pub mod service;
pub mod store;
pub mod telemetry;
