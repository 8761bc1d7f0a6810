//! Parsing of a role's `applications` entries (an `ObjectParser` named `application` plus
//! `RoleDescriptor.parseApplicationPrivilege`'s checks) and `remote_cluster` groups.

use serde_json::Value;

use crate::authz::role::{ApplicationPrivileges, RemoteClusterPrivileges};
use crate::authz::role_parse::{role_string_array, token_name};
use crate::error::EsError;

/// Parses an `applications`/`application` array (`RoleDescriptor.parseApplicationPrivileges`).
pub(crate) fn parse_applications(
    role_name: &str,
    field: &str,
    value: &Value,
) -> Result<Vec<ApplicationPrivileges>, EsError> {
    let prefix = format!("failed to parse application privileges for role [{role_name}].");
    let Value::Array(entries) = value else {
        return Err(EsError::parse(format!(
            "{prefix} expected field [{field}] value to be an array, but found [{}] instead",
            token_name(value)
        )));
    };
    let mut result = Vec::new();
    for entry in entries {
        let Value::Object(fields) = entry else {
            return Err(EsError::parse(format!(
                "{prefix} expected field [{field}] value to be an array of objects, but found an array element of type [{}]",
                token_name(entry)
            )));
        };
        let mut application: Option<String> = None;
        let mut privileges: Option<Vec<String>> = None;
        let mut resources: Option<Vec<String>> = None;
        for (name, value) in fields {
            match name.as_str() {
                "application" => match value {
                    Value::String(text) => application = Some(text.clone()),
                    other => {
                        return Err(EsError::x_content_parse(format!(
                            "[application] application doesn't support values of type: {}",
                            token_name(other)
                        )))
                    }
                },
                "privileges" => privileges = Some(lenient_string_list(name, value)?),
                "resources" => resources = Some(lenient_string_list(name, value)?),
                other => return Err(EsError::x_content_parse(format!("[application] unknown field [{other}]"))),
            }
        }
        let resources =
            resources.ok_or_else(|| EsError::parse(format!("{prefix} missing required [resources] field")))?;
        let privileges =
            privileges.ok_or_else(|| EsError::parse(format!("{prefix} missing required [privileges] field")))?;
        let application = application.filter(|name| !name.is_empty());
        let Some(application) = application else {
            return Err(EsError::illegal_argument("application privileges must have an application name"));
        };
        if privileges.is_empty() {
            return Err(EsError::illegal_argument("application privileges must define at least one privilege"));
        }
        if resources.is_empty() {
            return Err(EsError::illegal_argument("application privileges must refer to at least one resource"));
        }
        result.push(ApplicationPrivileges { application, privileges, resources });
    }
    Ok(result)
}

/// `ObjectParser.declareStringArray`: a string, or an array of scalars taken as text.
fn lenient_string_list(field: &str, value: &Value) -> Result<Vec<String>, EsError> {
    let scalar = |item: &Value| match item {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        _ => Err(EsError::x_content_parse(format!("[application] failed to parse field [{field}]"))),
    };
    match value {
        Value::Array(items) => items.iter().map(scalar).collect(),
        Value::String(_) => Ok(vec![scalar(value)?]),
        other => Err(EsError::x_content_parse(format!(
            "[application] {field} doesn't support values of type: {}",
            token_name(other)
        ))),
    }
}

/// The only privileges a `remote_cluster` group may hold.
const REMOTE_CLUSTER_PRIVILEGES: &[&str] = &["monitor_enrich", "monitor_stats"];

pub(crate) fn parse_remote_cluster(
    role_name: &str,
    field: &str,
    value: &Value,
) -> Result<Vec<RemoteClusterPrivileges>, EsError> {
    let prefix = format!("failed to parse remote_cluster for role [{role_name}].");
    let Value::Array(groups) = value else {
        return Err(EsError::parse(format!(
            "{prefix} expected field [{field}] value to be an array, but found [{}] instead",
            token_name(value)
        )));
    };
    let mut result = Vec::new();
    for group in groups {
        let Value::Object(fields) = group else {
            return Err(EsError::parse(format!(
                "{prefix} expected field [{field}] value to be an array of objects, but found an array element of type [{}]",
                token_name(group)
            )));
        };
        let mut privileges: Option<Vec<String>> = None;
        let mut clusters: Option<Vec<String>> = None;
        for (name, value) in fields {
            match name.as_str() {
                "privileges" => privileges = role_string_array(role_name, name, value, false)?,
                "clusters" => clusters = role_string_array(role_name, name, value, false)?,
                other => return Err(EsError::parse(format!("{prefix} unexpected field [{other}]"))),
            }
        }
        match (privileges, clusters) {
            (None, None) => return Err(EsError::illegal_argument("remote cluster groups must not be null or empty")),
            (Some(_), None) => {
                return Err(EsError::parse(format!(
                    "{prefix} [clusters] must be defined when [privileges] are defined"
                )))
            }
            (None, Some(_)) => {
                return Err(EsError::parse(format!(
                    "{prefix} [privileges] must be defined when [clusters] are defined"
                )))
            }
            (Some(privileges), Some(clusters)) => {
                if privileges
                    .iter()
                    .any(|privilege| !REMOTE_CLUSTER_PRIVILEGES.contains(&privilege.to_lowercase().as_str()))
                {
                    return Err(EsError::parse(format!(
                        "{prefix} [{}] are the only values allowed for [privileges] within [remote_cluster]. Found [{}]",
                        REMOTE_CLUSTER_PRIVILEGES.join(", "),
                        privileges.join(", ")
                    )));
                }
                result.push(RemoteClusterPrivileges { privileges, clusters });
            }
        }
    }
    Ok(result)
}
