//! The one integration-test binary: in-process API tests through the real router.

mod authz_matrix;
mod common;
mod jwt;
mod profile;
mod realms;
mod token;
mod wire;
