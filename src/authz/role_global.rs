//! Parsing of a role's `global` object (`ConfigurableClusterPrivileges.parse`).
//!
//! Accepted shapes: `{"application":{"manage":{"applications":[..]}}}`,
//! `{"profile":{"write":{"applications":[..]}}}` and
//! `{"role":{"manage":{"indices":[{"names":[..],"privileges":[..]}]}}}`. Deviations raise
//! `x_content_parse_exception`s `failed to parse privilege. expected ... but found ... instead`.

use serde_json::{Map, Value};

use crate::authz::index_privilege::resolve_index_privilege;
use crate::authz::role::{ConfigurableClusterPrivileges, ManageRolesIndexGroup};
use crate::authz::role_parse::{string_array, token_name};
use crate::error::EsError;

fn unexpected_token(expected: &str, found: &str) -> EsError {
    EsError::x_content_parse(format!("failed to parse privilege. expected [{expected}] but found [{found}] instead"))
}

fn expect_object(value: &Value) -> Result<&Map<String, Value>, EsError> {
    match value {
        Value::Object(fields) => Ok(fields),
        other => Err(unexpected_token("START_OBJECT", token_name(other))),
    }
}

fn unexpected_field(expected: &[&str], found: &str) -> EsError {
    let kind = if expected.len() == 1 { "field name" } else { "one of" };
    EsError::x_content_parse(format!(
        "failed to parse privilege. expected {kind} [{}] but found [{found}] instead",
        expected.join(",")
    ))
}

/// Parses `{"<verb>": {"<list field>": [..]}}` with exactly those fields, returning the list.
fn single_list(category: &Map<String, Value>, verb: &str, list_field: &str) -> Result<Option<Vec<String>>, EsError> {
    let mut result = None;
    for (name, value) in category {
        if name != verb {
            return Err(unexpected_field(&[verb], name));
        }
        let body = expect_object(value)?;
        let mut entries = body.iter();
        let Some((field, list)) = entries.next() else {
            return Err(unexpected_token("FIELD_NAME", "END_OBJECT"));
        };
        if field != list_field {
            return Err(unexpected_field(&[list_field], field));
        }
        if !list.is_array() {
            return Err(unexpected_token("START_ARRAY", token_name(list)));
        }
        result = string_array(list_field, list, false)?;
        if entries.next().is_some() {
            return Err(unexpected_token("END_OBJECT", "FIELD_NAME"));
        }
    }
    Ok(result)
}

/// Parses the `global` object of a role.
pub(crate) fn parse_global(value: &Value) -> Result<ConfigurableClusterPrivileges, EsError> {
    let categories = expect_object(value)?;
    let mut privileges = ConfigurableClusterPrivileges::default();
    for (name, category) in categories {
        match name.as_str() {
            "application" => {
                if let Some(names) = single_list(expect_object(category)?, "manage", "applications")? {
                    privileges.manage_applications = Some(deduplicated(names));
                }
            }
            "profile" => {
                if let Some(names) = single_list(expect_object(category)?, "write", "applications")? {
                    privileges.write_profile_applications = Some(deduplicated(names));
                }
            }
            "role" => {
                if let Some(groups) = parse_manage_roles(expect_object(category)?)? {
                    privileges.manage_roles = Some(groups);
                }
            }
            other => return Err(unexpected_field(&["application", "profile", "role"], other)),
        }
    }
    Ok(privileges)
}

/// Keeps the first occurrence of each name (Elasticsearch stores a `LinkedHashSet`).
fn deduplicated(names: Vec<String>) -> Vec<String> {
    let mut unique: Vec<String> = Vec::new();
    for name in names {
        if !unique.contains(&name) {
            unique.push(name);
        }
    }
    unique
}

fn parse_manage_roles(category: &Map<String, Value>) -> Result<Option<Vec<ManageRolesIndexGroup>>, EsError> {
    let mut result = None;
    for (name, value) in category {
        if name != "manage" {
            return Err(unexpected_field(&["manage"], name));
        }
        let body = expect_object(value)?;
        let mut entries = body.iter();
        let Some((field, list)) = entries.next() else {
            return Err(unexpected_token("FIELD_NAME", "END_OBJECT"));
        };
        if field != "indices" {
            return Err(unexpected_field(&["indices"], field));
        }
        let Value::Array(groups) = list else {
            return Err(unexpected_token("START_ARRAY", token_name(list)));
        };
        let parsed = groups.iter().map(parse_manage_roles_group).collect::<Result<Vec<_>, _>>()?;
        if entries.next().is_some() {
            return Err(unexpected_token("END_OBJECT", "FIELD_NAME"));
        }
        result = Some(parsed);
    }
    Ok(result)
}

fn parse_manage_roles_group(group: &Value) -> Result<ManageRolesIndexGroup, EsError> {
    let fields = expect_object(group)?;
    let mut names = None;
    let mut privileges = None;
    for (position, (field, value)) in fields.iter().enumerate() {
        if position >= 2 {
            return Err(unexpected_token("END_OBJECT", "FIELD_NAME"));
        }
        if field != "names" && field != "privileges" {
            return Err(EsError::x_content_parse(format!(
                "failed to parse privilege. expected one of [names, privileges] but found [{field}] instead"
            )));
        }
        if !value.is_array() {
            return Err(unexpected_token("START_ARRAY", token_name(value)));
        }
        let list = string_array(field, value, false)?;
        if field == "names" {
            names = list;
        } else {
            privileges = list;
        }
    }
    if fields.len() < 2 {
        return Err(unexpected_token("FIELD_NAME", "END_OBJECT"));
    }
    let names = names.unwrap_or_default();
    let privileges = privileges.unwrap_or_default();
    if names.is_empty() {
        return Err(EsError::illegal_argument(
            "Indices privileges must refer to at least one index name or index name pattern",
        ));
    }
    if privileges.is_empty() {
        return Err(EsError::illegal_argument("Indices privileges must define at least one privilege"));
    }
    for privilege in &privileges {
        resolve_index_privilege(privilege)?;
    }
    Ok(ManageRolesIndexGroup { names, privileges })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn parses_every_category() {
        let parsed = parse_global(&json!({
            "application": {"manage": {"applications": ["kibana-*", "kibana-*"]}},
            "profile": {"write": {"applications": ["kibana*"]}},
            "role": {"manage": {"indices": [{"names": ["logs-*"], "privileges": ["read"]}]}}
        }))
        .unwrap();
        assert_eq!(parsed.manage_applications, Some(vec!["kibana-*".to_string()]));
        assert_eq!(parsed.write_profile_applications, Some(vec!["kibana*".to_string()]));
        assert_eq!(parsed.manage_roles.as_ref().map(Vec::len), Some(1));
        assert!(parse_global(&json!({"profile": {}})).unwrap().is_empty());
    }

    #[test]
    fn rejects_malformed_globals() {
        let cases = [
            (json!("x"), "failed to parse privilege. expected [START_OBJECT] but found [VALUE_STRING] instead"),
            (
                json!({"foo": {}}),
                "failed to parse privilege. expected one of [application,profile,role] but found [foo] instead",
            ),
            (
                json!({"profile": {"read": {}}}),
                "failed to parse privilege. expected field name [write] but found [read] instead",
            ),
            (
                json!({"profile": {"write": {}}}),
                "failed to parse privilege. expected [FIELD_NAME] but found [END_OBJECT] instead",
            ),
            (
                json!({"profile": {"write": {"apps": []}}}),
                "failed to parse privilege. expected field name [applications] but found [apps] instead",
            ),
            (
                json!({"profile": {"write": {"applications": "x"}}}),
                "failed to parse privilege. expected [START_ARRAY] but found [VALUE_STRING] instead",
            ),
            (
                json!({"application": {"manage": {"applications": [], "x": 1}}}),
                "failed to parse privilege. expected [END_OBJECT] but found [FIELD_NAME] instead",
            ),
        ];
        for (body, reason) in cases {
            let error = parse_global(&body).unwrap_err();
            assert_eq!(error.error_type, "x_content_parse_exception");
            assert_eq!(error.reason, reason);
        }
        let nested = parse_global(&json!({"profile": {"write": {"applications": [1]}}})).unwrap_err();
        assert_eq!(nested.error_type, "parse_exception");
        assert_eq!(nested.reason, "could not parse [applications] field. expected a string array but one of the value in the array is [VALUE_NUMBER]");
    }
}
