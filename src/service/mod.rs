//! Security services: the operations behind the REST handlers, over the store, realms and roles.

pub mod roles;
pub(crate) mod users;
