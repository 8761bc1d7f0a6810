//! The `privileges` object of the has-privileges APIs (`RoleDescriptor.parsePrivilegesToCheck`)
//! and its request validation.
//!
//! `POST /_security/user/_has_privileges` passes the username as parser name and
//! `POST /_security/profile/_has_privileges` passes `profile_has_privileges_request`; the name
//! appears in messages such as `failed to parse privileges check [<name>]. unexpected field [f]`.

use serde_json::Value;

use crate::authz::application::validate_application_name;
use crate::authz::role::ApplicationPrivileges;
use crate::authz::role_parse::{parse_indices, role_string_array, token_name};
use crate::authz::role_parse_entries::parse_applications;
use crate::error::EsError;

/// One requested `index` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IndexPrivilegesToCheck {
    pub(crate) names: Vec<String>,
    pub(crate) privileges: Vec<String>,
    pub(crate) allow_restricted_indices: bool,
}

/// One requested `application` entry (same shape as a role's application entry).
pub(crate) type ApplicationResourcePrivileges = ApplicationPrivileges;

/// The privileges a has-privileges request asks about.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct PrivilegesToCheck {
    pub(crate) cluster: Vec<String>,
    pub(crate) index: Vec<IndexPrivilegesToCheck>,
    pub(crate) application: Vec<ApplicationResourcePrivileges>,
}

impl PrivilegesToCheck {
    /// Returns whether no privilege at all is requested.
    pub(crate) fn is_empty(&self) -> bool {
        self.cluster.is_empty() && self.index.is_empty() && self.application.is_empty()
    }

    /// Returns the request validation messages: invalid application names (no wildcards allowed),
    /// then `must specify at least one privilege` when every list is empty.
    pub(crate) fn validation_messages(&self) -> Vec<String> {
        let mut messages: Vec<String> = self
            .application
            .iter()
            .filter_map(|entry| validate_application_name(&entry.application, false).err())
            .collect();
        if self.is_empty() {
            messages.push("must specify at least one privilege".to_string());
        }
        messages
    }

    /// Fails with an `action_request_validation_exception` when the request is invalid.
    pub(crate) fn validate(&self) -> Result<(), EsError> {
        let messages = self.validation_messages();
        if messages.is_empty() {
            return Ok(());
        }
        Err(EsError::validation(&messages))
    }
}

/// Parses a `privileges` object with Elasticsearch's rules and messages.
pub(crate) fn parse_privileges_to_check(body: &Value, parser_name: &str) -> Result<PrivilegesToCheck, EsError> {
    let Value::Object(fields) = body else {
        return Err(EsError::parse(format!(
            "failed to parse privileges check [{parser_name}]. expected an object but found [{}] instead",
            token_name(body)
        )));
    };
    let mut cluster: Option<Vec<String>> = None;
    let mut index = None;
    let mut application = None;
    for (field, value) in fields {
        match field.as_str() {
            "index" => index = Some(parse_indices(parser_name, field, value)?),
            "cluster" => cluster = role_string_array(parser_name, field, value, true)?,
            "application" | "applications" => application = Some(parse_applications(parser_name, field, value)?),
            _ => {
                return Err(EsError::parse(format!(
                    "failed to parse privileges check [{parser_name}]. unexpected field [{field}]"
                )))
            }
        }
    }
    if cluster.is_none() && index.is_none() && application.is_none() {
        return Err(EsError::parse(format!(
            "failed to parse privileges check [{parser_name}]. All privilege fields [cluster,index,applications] are missing"
        )));
    }
    let index = index.unwrap_or_default();
    if index.iter().any(|entry| entry.uses_field_level_security()) {
        return Err(EsError::parse("Field [field_security] is not supported in a has_privileges request"));
    }
    if index.iter().any(|entry| entry.query.is_some()) {
        return Err(EsError::parse("Field [query] is not supported in a has_privileges request"));
    }
    Ok(PrivilegesToCheck {
        cluster: cluster.unwrap_or_default(),
        index: index
            .into_iter()
            .map(|entry| IndexPrivilegesToCheck {
                names: entry.names,
                privileges: entry.privileges,
                allow_restricted_indices: entry.allow_restricted_indices,
            })
            .collect(),
        application: application.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const PROFILE: &str = "profile_has_privileges_request";

    #[test]
    fn parses_all_sections() {
        let parsed = parse_privileges_to_check(
            &json!({
                "cluster": ["monitor", "cluster:monitor/health"],
                "index": [{"names": "index1*", "privileges": ["read"], "allow_restricted_indices": true}],
                "applications": [{"application": "app-1", "privileges": ["read", "data:write/x"], "resources": ["res/1"]}]
            }),
            PROFILE,
        )
        .unwrap();
        assert_eq!(parsed.cluster, ["monitor", "cluster:monitor/health"]);
        assert_eq!(parsed.index[0].names, ["index1*"]);
        assert!(parsed.index[0].allow_restricted_indices);
        assert_eq!(parsed.application[0].resources, ["res/1"]);
        assert!(parse_privileges_to_check(&json!({"application": []}), PROFILE).is_ok());
    }

    #[test]
    fn errors_match_elasticsearch() {
        let cases = [
            (json!({"foo": []}), "failed to parse privileges check [profile_has_privileges_request]. unexpected field [foo]"),
            (json!({"indices": []}), "failed to parse privileges check [profile_has_privileges_request]. unexpected field [indices]"),
            (json!({}), "failed to parse privileges check [profile_has_privileges_request]. All privilege fields [cluster,index,applications] are missing"),
            (json!({"cluster": null}), "failed to parse privileges check [profile_has_privileges_request]. All privilege fields [cluster,index,applications] are missing"),
            (
                json!({"index": [{"names": ["a"], "privileges": ["read"], "field_security": {"grant": ["f"]}}]}),
                "Field [field_security] is not supported in a has_privileges request",
            ),
            (json!({"index": [{"names": ["a"], "privileges": ["read"], "query": {"match_all": {}}}]}), "Field [query] is not supported in a has_privileges request"),
            (json!([]), "failed to parse privileges check [profile_has_privileges_request]. expected an object but found [START_ARRAY] instead"),
        ];
        for (body, reason) in cases {
            let error = parse_privileges_to_check(&body, PROFILE).unwrap_err();
            assert_eq!(error.error_type, "parse_exception");
            assert_eq!(error.reason, reason);
        }
        let star_grant =
            json!({"index": [{"names": ["a"], "privileges": ["read"], "field_security": {"grant": ["*"]}}]});
        assert!(parse_privileges_to_check(&star_grant, PROFILE).is_ok());
        let username_named =
            parse_privileges_to_check(&json!({"index": [{"privileges": ["read"]}]}), "joe").unwrap_err();
        assert_eq!(
            username_named.reason,
            "failed to parse indices privileges for role [joe]. missing required [names] field"
        );
    }

    #[test]
    fn validation_messages() {
        let empty = PrivilegesToCheck::default();
        assert_eq!(empty.validate().unwrap_err().reason, "Validation Failed: 1: must specify at least one privilege;");
        let wildcard = PrivilegesToCheck {
            application: vec![ApplicationPrivileges::new("kibana-*", &["read"], &["*"])],
            ..PrivilegesToCheck::default()
        };
        assert_eq!(
            wildcard.validate().unwrap_err().reason,
            "Validation Failed: 1: Application names may not contain '*' (found 'kibana-*');"
        );
    }
}
