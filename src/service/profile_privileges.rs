//! Has-privileges for profiles (spec §8): which profiles' users hold the requested privileges.

use serde_json::{json, Value};

use crate::app::AppState;
use crate::authz::{parse_privileges_to_check, PreparedCheck, PrivilegesToCheck};
use crate::error::EsError;
use crate::service::profiles::{errors_json, get_profiles};

const PARSER: &str = "profile_has_privileges_request";

/// A parsed `profile_has_privileges_request`.
#[derive(Debug)]
pub(crate) struct ProfileHasPrivilegesRequest {
    uids: Vec<String>,
    privileges: PrivilegesToCheck,
}

impl ProfileHasPrivilegesRequest {
    /// Parses the strict body: `uids` (strings) and `privileges` (cluster/index/application), both required.
    pub(crate) fn parse(body: &Value) -> Result<ProfileHasPrivilegesRequest, EsError> {
        let Value::Object(object) = body else {
            return Err(EsError::x_content_parse(format!("[1:1] [{PARSER}] Expected START_OBJECT")));
        };
        let mut uids = None;
        let mut privileges = None;
        for (field, value) in object {
            match field.as_str() {
                "uids" => {
                    let Value::Array(items) = value else {
                        return Err(EsError::x_content_parse(format!(
                            "[1:2] [{PARSER}] uids doesn't support values of type: {}",
                            crate::domain::profile::token_name(value)
                        )));
                    };
                    let parsed = items
                        .iter()
                        .map(|item| {
                            item.as_str().map(str::to_string).ok_or_else(|| {
                                EsError::x_content_parse(format!(
                                    "[1:2] [{PARSER}] uids doesn't support values of type: {}",
                                    crate::domain::profile::token_name(item)
                                ))
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    uids = Some(parsed);
                }
                "privileges" => {
                    let parsed = parse_privileges_to_check(value, PARSER).map_err(|cause| {
                        EsError::x_content_parse(format!("[1:2] [{PARSER}] failed to parse field [privileges]"))
                            .with_cause(cause)
                    })?;
                    privileges = Some(parsed);
                }
                other => return Err(EsError::x_content_parse(format!("[1:2] [{PARSER}] unknown field [{other}]"))),
            }
        }
        match (uids, privileges) {
            (Some(uids), Some(privileges)) => Ok(ProfileHasPrivilegesRequest { uids, privileges }),
            (uids, privileges) => {
                let mut missing = Vec::new();
                if uids.is_none() {
                    missing.push("uids");
                }
                if privileges.is_none() {
                    missing.push("privileges");
                }
                Err(EsError::illegal_argument(format!("Required [{}]", missing.join(", "))))
            }
        }
    }

    /// Elasticsearch's request validation.
    pub(crate) fn validate(&self) -> Result<(), EsError> {
        let mut problems = Vec::new();
        if self.uids.is_empty() {
            problems.push("profile uids list must not be empty".to_string());
        }
        if self.privileges.is_empty() {
            problems.push("must specify at least one privilege".to_string());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(EsError::validation(&problems))
        }
    }
}

/// Checks the privileges of every enabled profile's stored roles against live role definitions.
pub(crate) async fn has_privileges(state: &AppState, request: ProfileHasPrivilegesRequest) -> Result<Value, EsError> {
    let lookup = get_profiles(state, &request.uids).await?;
    if !lookup.index_exists {
        return Ok(json!({ "has_privilege_uids": [] }));
    }
    let prepared = PreparedCheck::new(&request.privileges, &[]);
    let mut has_privilege_uids = Vec::new();
    let mut errors = lookup.errors;
    // Profiles mostly share a handful of role sets: each distinct set is checked once per request, and
    // a short list compares faster than hashing every profile's roles.
    let mut checked: Vec<(&[String], Result<bool, EsError>)> = Vec::new();
    for cached in &lookup.found {
        if !cached.enabled {
            continue;
        }
        let roles = cached.user.roles.as_slice();
        let outcome = match checked.iter().find(|(known, _)| *known == roles) {
            Some((_, outcome)) => outcome.clone(),
            None => {
                let outcome = match &prepared {
                    Ok(prepared) => {
                        Ok(prepared.evaluate(&state.roles.resolve(roles).await?.permissions).has_all_requested)
                    }
                    Err(error) => Err(error.clone()),
                };
                checked.push((roles, outcome.clone()));
                outcome
            }
        };
        match outcome {
            Ok(true) => has_privilege_uids.push(cached.uid.clone()),
            Ok(false) => {}
            Err(error) => errors.push((cached.uid.clone(), error)),
        }
    }
    let mut body = json!({ "has_privilege_uids": has_privilege_uids });
    if let Some(errors) = errors_json(&errors) {
        body["errors"] = errors;
    }
    Ok(body)
}
