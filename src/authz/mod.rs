//! TEMPORARY STUB: replaced by the real privilege model.
#![allow(dead_code, unused_variables)]
use serde_json::Value;
use crate::error::EsError;
#[derive(Debug, Clone)]
pub(crate) struct RoleDescriptor;
impl RoleDescriptor {
    pub(crate) fn parse(name: &str, body: &Value) -> Result<RoleDescriptor, EsError> { Ok(RoleDescriptor) }
    pub(crate) fn to_json(&self) -> Value { Value::Null }
}
#[derive(Debug)]
pub(crate) struct Permissions;
impl Permissions {
    pub(crate) fn from_roles(roles: &[&RoleDescriptor]) -> Permissions { Permissions }
    pub(crate) fn grants_cluster_action(&self, action: &str) -> bool { true }
    pub(crate) fn user_privileges_json(&self) -> Value { Value::Null }
    pub(crate) fn check_privileges(&self, r: &PrivilegesToCheck, d: &[()]) -> Result<CheckResult, EsError> { Ok(CheckResult { has_all_requested: true }) }
}
pub(crate) struct PrivilegesToCheck;
pub(crate) struct CheckResult { pub(crate) has_all_requested: bool }
impl CheckResult { pub(crate) fn to_json(&self, u: &str) -> Value { Value::Null } }
pub(crate) fn parse_privileges_to_check(body: &Value, name: &str) -> Result<PrivilegesToCheck, EsError> { Ok(PrivilegesToCheck) }
pub(crate) fn builtin_role(name: &str) -> Option<&'static RoleDescriptor> { None }
pub(crate) fn builtin_role_names() -> impl Iterator<Item = &'static str> { [].into_iter() }
pub(crate) fn unauthorized_message(a: &str, u: &str, r: &[String], m: &[String]) -> String { String::new() }
impl PrivilegesToCheck { pub(crate) fn is_empty(&self) -> bool { false } }
impl std::fmt::Debug for PrivilegesToCheck { fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("P") } }
impl Permissions { pub(crate) fn grants_profile_write(&self, n: &[&str]) -> bool { true } }
