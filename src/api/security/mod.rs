//! The `/_security` API family.

use axum::Router;

use crate::app::AppState;

pub(crate) mod authenticate;
pub(crate) mod privileges;
pub(crate) mod profile;
pub(crate) mod query_user;
pub(crate) mod query_user_dsl;
pub(crate) mod role;
pub(crate) mod role_mapping;
pub(crate) mod token;
pub(crate) mod user;

/// Routes of the security APIs.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .merge(authenticate::router())
        .merge(user::router())
        .merge(privileges::router())
        .merge(query_user::router())
        .merge(role::router())
        .merge(profile::router())
        .merge(token::router())
        .merge(role_mapping::router())
}
