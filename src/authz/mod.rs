//! The privilege model of profiled: roles, cluster/index/application privileges, name patterns
//! and permission checks, as Elasticsearch defines them. Everything here is pure (no I/O).
//!
//! - [`pattern`], [`automaton`], [`language`]: Elasticsearch name patterns (wildcards and Lucene
//!   `/regex/`) compiled to automata, with exact containment (`Operations.subsetOf`).
//! - [`privilege`], [`index_privilege`], [`application`]: privilege names → action patterns.
//! - [`role`], [`role_parse`], [`role_global`], [`role_validate`]: role descriptors, their JSON
//!   and the PUT-role parsing/validation rules; [`builtin`] the reserved roles.
//! - [`permissions`], [`user_privileges`], [`has_privileges`], [`has_privileges_check`]: the merged
//!   permissions of a user's roles and the two privilege APIs; [`denial`] the 403 reason.
#![allow(dead_code)]

pub(crate) mod application;
pub(crate) mod application_permission;
pub(crate) mod automaton;
pub(crate) mod builtin;
pub(crate) mod builtin_kibana;
pub(crate) mod denial;
pub(crate) mod has_privileges;
pub(crate) mod has_privileges_check;
pub(crate) mod index_privilege;
pub(crate) mod java_order;
pub(crate) mod language;
pub(crate) mod pattern;
pub(crate) mod permissions;
pub(crate) mod privilege;
pub(crate) mod role;
pub(crate) mod role_global;
pub(crate) mod role_parse;
pub(crate) mod role_parse_entries;
pub(crate) mod role_validate;
pub(crate) mod user_privileges;

#[allow(unused_imports)]
pub(crate) use application::ApplicationPrivilegeDefinition;
#[allow(unused_imports)]
pub(crate) use builtin::{builtin_role, builtin_role_names, is_builtin_role};
#[allow(unused_imports)]
pub(crate) use denial::unauthorized_message;
#[allow(unused_imports)]
pub(crate) use has_privileges::{
    parse_privileges_to_check, ApplicationResourcePrivileges, IndexPrivilegesToCheck, PrivilegesToCheck,
};
#[allow(unused_imports)]
pub(crate) use has_privileges_check::{PreparedCheck, PrivilegesCheckResult, ResourcePrivileges};
#[allow(unused_imports)]
pub(crate) use permissions::Permissions;
#[allow(unused_imports)]
pub(crate) use privilege::{cluster_privileges_granting, is_cluster_action};
#[allow(unused_imports)]
pub(crate) use role::{
    ApplicationPrivileges, ConfigurableClusterPrivileges, FieldSecurity, IndicesPrivileges, RoleDescriptor,
};

/// The has-privileges result under the name the API layer uses.
pub(crate) type CheckResult = PrivilegesCheckResult;
