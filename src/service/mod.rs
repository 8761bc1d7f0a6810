//! Security services: the operations behind the REST handlers, over the store, realms and roles.

pub mod profile_cache;
pub mod profile_privileges;
pub mod profile_search;
pub mod profile_suggest;
pub mod profiles;
pub mod role_mappings;
pub mod roles;
pub(crate) mod users;
