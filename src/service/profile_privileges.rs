//! Has-privileges for profiles (spec §8): which profiles' users hold the requested privileges.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use crate::app::AppState;
use crate::authz::{parse_privileges_to_check, PreparedCheck, PrivilegesToCheck};
use crate::error::EsError;
use crate::service::profiles::{errors_json, load_profiles, profile_index_exists, profile_not_found};

const PARSER: &str = "profile_has_privileges_request";

/// A parsed `profile_has_privileges_request`.
#[derive(Debug)]
pub(crate) struct ProfileHasPrivilegesRequest {
    uids: Vec<String>,
    privileges: PrivilegesToCheck,
}

/// A body with exactly the two fields, each once, `uids` all strings: what clients send.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WellFormedBody {
    uids: Vec<String>,
    privileges: Value,
}

impl ProfileHasPrivilegesRequest {
    /// Parses a well-formed body straight from its bytes, without building a JSON tree of the uids; `None`
    /// for any other body (also an empty one), which [`ProfileHasPrivilegesRequest::parse`] then parses
    /// and reports on. Every body this accepts, `parse` reads the same way.
    pub(crate) fn parse_well_formed(body: &[u8]) -> Option<ProfileHasPrivilegesRequest> {
        let WellFormedBody { uids, privileges } = serde_json::from_slice(body).ok()?;
        let privileges = parse_privileges_to_check(&privileges, PARSER).ok()?;
        Some(ProfileHasPrivilegesRequest { uids, privileges })
    }

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

/// Checks the privileges of every enabled profile's stored roles against live role definitions. Answers
/// `{"has_privilege_uids": [...]}`, with `errors` when some profiles are missing or could not be checked.
pub(crate) async fn has_privileges(
    state: &AppState,
    request: ProfileHasPrivilegesRequest,
) -> Result<bytes::Bytes, EsError> {
    if !profile_index_exists(state).await? {
        return Ok(bytes::Bytes::from_static(br#"{"has_privilege_uids":[]}"#));
    }
    let profiles = load_profiles(state, &request.uids).await?;
    let prepared = PreparedCheck::new(&request.privileges, &[]);
    let mut has_privilege_uids: Vec<&str> = Vec::new();
    let mut errors = Vec::new();
    // Profiles mostly share a handful of role sets: each distinct set is checked once per request. Cached
    // profiles share one copy of equal sets, so a set is found by address first, then by name.
    let mut checked: Vec<(Arc<[String]>, Result<bool, EsError>)> = Vec::new();
    for (uid, cached) in request.uids.iter().zip(&profiles) {
        let Some(cached) = cached else {
            errors.push((uid.clone(), profile_not_found()));
            continue;
        };
        if !cached.enabled {
            continue;
        }
        let roles = &cached.role_set;
        let known = checked
            .iter()
            .position(|(known, _)| Arc::ptr_eq(known, roles))
            .or_else(|| checked.iter().position(|(known, _)| known[..] == roles[..]));
        let outcome = match known {
            Some(position) => &checked[position].1,
            None => {
                let outcome = match &prepared {
                    Ok(prepared) => {
                        Ok(prepared.evaluate(&state.roles.resolve(roles).await?.permissions).has_all_requested)
                    }
                    Err(error) => Err(error.clone()),
                };
                checked.push((Arc::clone(roles), outcome));
                &checked[checked.len() - 1].1
            }
        };
        match outcome {
            Ok(true) => has_privilege_uids.push(uid),
            Ok(false) => {}
            Err(error) => errors.push((uid.clone(), error.clone())),
        }
    }
    let mut body = Vec::with_capacity(32 + has_privilege_uids.iter().map(|uid| uid.len() + 3).sum::<usize>());
    body.extend_from_slice(br#"{"has_privilege_uids":"#);
    serde_json::to_writer(&mut body, &has_privilege_uids).map_err(|error| EsError::internal(error.to_string()))?;
    if let Some(errors) = errors_json(&errors) {
        body.extend_from_slice(br#","errors":"#);
        serde_json::to_writer(&mut body, &errors).map_err(|error| EsError::internal(error.to_string()))?;
    }
    body.push(b'}');
    Ok(body.into())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn both(body: &Value) -> (Option<ProfileHasPrivilegesRequest>, Result<ProfileHasPrivilegesRequest, EsError>) {
        let bytes = serde_json::to_vec(body).expect("serialises");
        (ProfileHasPrivilegesRequest::parse_well_formed(&bytes), ProfileHasPrivilegesRequest::parse(body))
    }

    #[test]
    fn a_well_formed_body_parses_as_the_strict_parser_reads_it() {
        for body in [
            json!({"uids": ["u_a_0", "u_b_0"], "privileges": {"cluster": ["monitor"]}}),
            json!({"privileges": {"application": [{"application": "kibana-.kibana", "resources": ["*"], "privileges": ["login:"]}]}, "uids": []}),
            json!({"uids": ["u_a_0"], "privileges": {"index": [{"names": "logs", "privileges": ["read"]}], "cluster": []}}),
        ] {
            let (fast, strict) = both(&body);
            let (fast, strict) = (fast.expect("well formed"), strict.expect("valid"));
            assert_eq!(format!("{fast:?}"), format!("{strict:?}"));
        }
    }

    #[test]
    fn any_other_body_is_left_to_the_strict_parser() {
        let duplicate = br#"{"uids": ["u_a_0"], "uids": ["u_b_0"], "privileges": {"cluster": ["monitor"]}}"#;
        assert!(ProfileHasPrivilegesRequest::parse_well_formed(duplicate).is_none());
        assert!(ProfileHasPrivilegesRequest::parse_well_formed(b"").is_none());
        assert!(ProfileHasPrivilegesRequest::parse_well_formed(b"{\"uids\": [").is_none());
        for (body, error_type, reason) in [
            (json!({"uids": ["u_a_0"]}), "illegal_argument_exception", "Required [privileges]"),
            (json!({}), "illegal_argument_exception", "Required [uids, privileges]"),
            (
                json!({"uids": ["u_a_0", 1], "privileges": {"cluster": ["monitor"]}}),
                "x_content_parse_exception",
                "[1:2] [profile_has_privileges_request] uids doesn't support values of type: VALUE_NUMBER",
            ),
            (
                json!({"uids": "u_a_0", "privileges": {"cluster": ["monitor"]}}),
                "x_content_parse_exception",
                "[1:2] [profile_has_privileges_request] uids doesn't support values of type: VALUE_STRING",
            ),
            (
                json!({"uids": ["u_a_0"], "privileges": {"cluster": ["monitor"]}, "size": 1}),
                "x_content_parse_exception",
                "[1:2] [profile_has_privileges_request] unknown field [size]",
            ),
            (
                json!({"uids": ["u_a_0"], "privileges": {"indices": []}}),
                "x_content_parse_exception",
                "[1:2] [profile_has_privileges_request] failed to parse field [privileges]",
            ),
        ] {
            let (fast, strict) = both(&body);
            assert!(fast.is_none(), "{body}");
            let error = strict.expect_err("invalid");
            assert_eq!((error.error_type.as_str(), error.reason.as_str()), (error_type, reason), "{body}");
        }
    }
}
