//! Pure domain types and rules: no HTTP, no storage.

pub(crate) mod lazy_json;
pub(crate) mod names;
pub(crate) mod profile;
pub(crate) mod profile_render;
pub(crate) mod role_mapping;
pub(crate) mod user;
pub(crate) mod xcontent;
