//! Parsing of role bodies with `RoleDescriptor.parse`'s rules and exact error texts.
//!
//! Structural errors are `parse_exception`s (`failed to parse role [x]. ...`); string-array
//! errors are wrapped as `failed to parse role [x]` with the detail as `caused_by`; the `global`
//! object and application entries use strict object parsers (`x_content_parse_exception`, shown
//! here without Elasticsearch's `[line:col]` prefix, which a parsed JSON value cannot know).

use serde_json::{Map, Value};

use crate::authz::pattern::PatternSet;
use crate::authz::role::{FieldSecurity, IndicesPrivileges, RemoteIndicesPrivileges, RoleDescriptor};
use crate::authz::role_global::parse_global;
use crate::authz::role_parse_entries::{parse_applications, parse_remote_cluster};
pub(crate) use crate::domain::xcontent::token_name;
use crate::error::EsError;

/// Reads a string array like `XContentUtils.readStringArray` (errors are bare parse exceptions).
pub(crate) fn string_array(field: &str, value: &Value, allow_null: bool) -> Result<Option<Vec<String>>, EsError> {
    match value {
        Value::Null if allow_null => Ok(None),
        Value::Null => Err(EsError::parse(format!(
            "could not parse [{field}] field. expected a string array but found null value instead"
        ))),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(text) => Ok(text.clone()),
                other => Err(EsError::parse(format!(
                    "could not parse [{field}] field. expected a string array but one of the value in the array is [{}]",
                    token_name(other)
                ))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        other => Err(EsError::parse(format!(
            "could not parse [{field}] field. expected a string array but found [{}] value instead",
            token_name(other)
        ))),
    }
}

/// Reads a string array, wrapping failures as `failed to parse role [<name>]` (with the cause).
pub(crate) fn role_string_array(
    role_name: &str,
    field: &str,
    value: &Value,
    allow_null: bool,
) -> Result<Option<Vec<String>>, EsError> {
    string_array(field, value, allow_null)
        .map_err(|cause| EsError::parse(format!("failed to parse role [{role_name}]")).with_cause(cause))
}

impl RoleDescriptor {
    /// Parses a role body as `PUT /_security/role/{name}` does, then applies the PUT validation
    /// (unknown privileges, names, metadata; see `role_validate`).
    pub(crate) fn parse(role_name: &str, body: &Value) -> Result<RoleDescriptor, EsError> {
        let role = RoleDescriptor::parse_body(role_name, body)?;
        role.validate_for_put()?;
        Ok(role)
    }

    /// Parses a role body without the PUT validation (structure and types only).
    pub(crate) fn parse_body(role_name: &str, body: &Value) -> Result<RoleDescriptor, EsError> {
        let Value::Object(fields) = body else {
            return Err(EsError::parse(format!(
                "failed to parse role [{role_name}]. expected an object but found [{}] instead",
                token_name(body)
            )));
        };
        let mut role = RoleDescriptor::default();
        for (field, value) in fields {
            match field.as_str() {
                "index" | "indices" => role.indices = parse_indices(role_name, field, value)?,
                "run_as" => role.run_as = role_string_array(role_name, field, value, true)?.unwrap_or_default(),
                "cluster" => role.cluster = role_string_array(role_name, field, value, true)?.unwrap_or_default(),
                "applications" | "application" => role.applications = parse_applications(role_name, field, value)?,
                "global" => role.global = parse_global(value)?,
                "metadata" => role.metadata = parse_metadata(field, value)?,
                "transient_metadata" if value.is_object() => {}
                "remote_indices" => role.remote_indices = parse_remote_indices(role_name, field, value)?,
                "remote_cluster" => role.remote_cluster = parse_remote_cluster(role_name, field, value)?,
                "description" => role.description = parse_description(role_name, field, value)?,
                "type" => {}
                _ => {
                    return Err(EsError::parse(format!(
                        "failed to parse role [{role_name}]. unexpected field [{field}]"
                    )))
                }
            }
        }
        Ok(role)
    }
}

fn parse_metadata(field: &str, value: &Value) -> Result<Map<String, Value>, EsError> {
    match value {
        Value::Object(metadata) => Ok(metadata.clone()),
        other => Err(EsError::parse(format!(
            "expected field [{field}] to be of type object, but found [{}] instead",
            token_name(other)
        ))),
    }
}

fn parse_description(role_name: &str, field: &str, value: &Value) -> Result<Option<String>, EsError> {
    match value {
        Value::String(text) => Ok(Some(text.clone())),
        Value::Null => Ok(None),
        other => Err(EsError::parse(format!(
            "failed to parse role [{role_name}]. expected field [{field}] to be of type string, but found [{}] instead",
            token_name(other)
        ))),
    }
}

/// Parses an `indices`/`index` array (`RoleDescriptor.parseIndices`).
pub(crate) fn parse_indices(role_name: &str, field: &str, value: &Value) -> Result<Vec<IndicesPrivileges>, EsError> {
    let Value::Array(entries) = value else {
        return Err(EsError::parse(format!(
            "failed to parse indices privileges for role [{role_name}]. expected field [{field}] value to be an array, but found [{}] instead",
            token_name(value)
        )));
    };
    entries.iter().map(|entry| parse_index_entry(role_name, field, entry, false).map(|(indices, _)| indices)).collect()
}

fn parse_remote_indices(role_name: &str, field: &str, value: &Value) -> Result<Vec<RemoteIndicesPrivileges>, EsError> {
    let Value::Array(entries) = value else {
        return Err(EsError::parse(format!(
            "failed to parse remote indices privileges for role [{role_name}]. expected field [{field}] value to be an array, but found [{}] instead",
            token_name(value)
        )));
    };
    entries
        .iter()
        .map(|entry| {
            let (indices, clusters) = parse_index_entry(role_name, field, entry, true)?;
            let clusters = clusters.ok_or_else(|| {
                EsError::parse(format!("failed to parse remote indices privileges for role [{role_name}]. missing required [clusters] field"))
            })?;
            Ok(RemoteIndicesPrivileges { indices, clusters })
        })
        .collect()
}

fn parse_index_entry(
    role_name: &str,
    field: &str,
    entry: &Value,
    allow_clusters: bool,
) -> Result<(IndicesPrivileges, Option<Vec<String>>), EsError> {
    let prefix = format!("failed to parse indices privileges for role [{role_name}].");
    let Value::Object(fields) = entry else {
        return Err(EsError::parse(format!(
            "{prefix} expected field [{field}] value to be an array of objects, but found an array element of type [{}]",
            token_name(entry)
        )));
    };
    let mut names: Option<Vec<String>> = None;
    let mut privileges: Option<Vec<String>> = None;
    let mut field_security: Option<FieldSecurity> = None;
    let mut query: Option<String> = None;
    let mut allow_restricted_indices = false;
    let mut clusters: Option<Vec<String>> = None;
    for (name, value) in fields {
        match name.as_str() {
            "names" => {
                names = Some(match value {
                    Value::String(text) => vec![text.clone()],
                    Value::Array(_) => {
                        let list = role_string_array(role_name, name, value, false)?.unwrap_or_default();
                        if list.is_empty() {
                            return Err(EsError::parse(format!("{prefix} [{name}] cannot be an empty array")));
                        }
                        list
                    }
                    other => {
                        return Err(EsError::parse(format!(
                            "{prefix} expected field [{name}] value to be a string or an array of strings, but found [{}] instead",
                            token_name(other)
                        )))
                    }
                })
            }
            "allow_restricted_indices" => match value {
                Value::Bool(allowed) => allow_restricted_indices = *allowed,
                other => {
                    return Err(EsError::parse(format!(
                        "{prefix} expected field [{name}] value to be a boolean, but found [{}] instead",
                        token_name(other)
                    )))
                }
            },
            "query" => {
                query = match value {
                    Value::Object(_) => Some(value.to_string()),
                    Value::String(text) if text.is_empty() => None,
                    Value::String(text) => Some(text.clone()),
                    Value::Null => None,
                    other => {
                        return Err(EsError::parse(format!(
                            "{prefix} expected field [{name}] value to be null, a string, an array, or an object, but found [{}] instead",
                            token_name(other)
                        )))
                    }
                }
            }
            "field_security" => field_security = Some(parse_field_security(role_name, value)?),
            "privileges" => privileges = role_string_array(role_name, name, value, true)?,
            "fields" => {
                return Err(EsError::parse(format!(
                    "[\"fields\": [...]] format has changed for field permissions in role [{role_name}], use [\"field_security\": {{\"grant\":[...],\"except\":[...]}}] instead"
                )))
            }
            "transient_metadata" => {
                if !value.is_object() {
                    return Err(EsError::parse(format!(
                        "failed to parse transient metadata for role [{role_name}]. expected START_OBJECT but got {} in \"transient_metadata\".",
                        token_name(value)
                    )));
                }
            }
            "clusters" if allow_clusters => clusters = role_string_array(role_name, name, value, false)?,
            _ => return Err(EsError::parse(format!("{prefix} unexpected field [{name}]"))),
        }
    }
    let names = names.ok_or_else(|| EsError::parse(format!("{prefix} missing required [names] field")))?;
    let privileges =
        privileges.ok_or_else(|| EsError::parse(format!("{prefix} missing required [privileges] field")))?;
    if let Some(security) = &field_security {
        check_field_security(role_name, security)?;
    }
    let indices = IndicesPrivileges { names, privileges, field_security, query, allow_restricted_indices };
    Ok((indices, clusters))
}

fn parse_field_security(role_name: &str, value: &Value) -> Result<FieldSecurity, EsError> {
    let prefix = format!("failed to parse indices privileges for role [{role_name}].");
    let Value::Object(fields) = value else {
        return Err(EsError::parse(format!(
            "{prefix} expected START_OBJECT but got {} in \"field_security\".",
            token_name(value)
        )));
    };
    if fields.is_empty() {
        return Err(EsError::parse(format!("{prefix} \"field_security\" must not be empty.")));
    }
    let mut security = FieldSecurity::default();
    for (name, value) in fields {
        let list = || -> Result<Vec<String>, EsError> {
            role_string_array(role_name, name, value, true)?
                .ok_or_else(|| EsError::parse(format!("{prefix} {name} must not be null.")))
        };
        match name.as_str() {
            "grant" => security.grant = Some(list()?),
            "except" => security.except = Some(list()?),
            other => {
                return Err(EsError::parse(format!(
                    "{prefix} \"field_security\" only accepts options grant and except, but got: {other}"
                )))
            }
        }
    }
    Ok(security)
}

/// Checks `FieldPermissions.buildPermittedFieldsAutomaton`'s rules on grant/except.
fn check_field_security(role_name: &str, security: &FieldSecurity) -> Result<(), EsError> {
    let prefix = format!("failed to parse indices privileges for role [{role_name}]");
    let Some(except) = &security.except else {
        return Ok(());
    };
    let Some(grant) = &security.grant else {
        return Err(EsError::parse(format!("{prefix}. field_security requires grant if except is given")));
    };
    let granted = PatternSet::compile_lenient(grant);
    let denied = PatternSet::compile_lenient(except);
    if denied.is_subset_of(&granted) {
        return Ok(());
    }
    let detail = format!(
        "Exceptions for field permissions must be a subset of the granted fields but {} is not a subset of {}",
        except.join(","),
        grant.join(",")
    );
    Err(EsError::parse(format!("{prefix} - {detail}")).with_cause(EsError::new(500, "security_exception", detail)))
}

#[cfg(test)]
#[path = "role_parse_tests.rs"]
mod tests;
