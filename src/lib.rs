//! profiled: Elasticsearch-compatible user profiles and the security layer they rest on.
//!
//! Layers: `api` (REST, wire conventions) → `service` (operations) → `authn` / `authz` / `domain`
//! (pure rules) → `store` (durable documents).

pub mod api;
pub mod app;
pub mod authn;
pub(crate) mod authz;
pub mod bench;
pub mod cli;
pub mod config;
pub(crate) mod domain;
pub mod error;
pub(crate) mod search;
pub mod service;
pub mod store;
pub mod telemetry;
