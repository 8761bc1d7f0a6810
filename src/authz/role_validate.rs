//! PUT-role validation (`RoleDescriptorRequestValidator`): every problem becomes one numbered
//! message of a 400 `action_request_validation_exception`.

use crate::authz::application::{validate_application_name, validate_privilege_or_action_name};
use crate::authz::index_privilege::{resolve_by_selector, Selector};
use crate::authz::pattern::{parse_pattern, PatternError};
use crate::authz::privilege::resolve_cluster_privilege;
use crate::authz::role::RoleDescriptor;
use crate::error::EsError;

/// The longest role description accepted.
const MAX_DESCRIPTION_LENGTH: usize = 1000;

impl RoleDescriptor {
    /// Returns the validation messages of `PUT /_security/role`, in Elasticsearch's order.
    pub(crate) fn validation_messages(&self) -> Vec<String> {
        let mut messages = Vec::new();
        for privilege in &self.cluster {
            if let Err(error) = resolve_cluster_privilege(privilege) {
                messages.push(error.reason);
            }
        }
        for entry in &self.indices {
            if let Some(message) = index_privileges_problem(&entry.privileges) {
                messages.push(message);
            }
            for name in &entry.names {
                if let Some(message) = index_name_expression_problem(name) {
                    messages.push(message);
                }
            }
        }
        for remote in &self.remote_indices {
            if remote.clusters.iter().any(String::is_empty) {
                messages.push("remote index cluster alias cannot be an empty string".to_string());
            }
            if let Some(duplicate) = duplicate_element(&remote.indices.privileges) {
                messages.push(duplicate);
                continue;
            }
            match resolve_by_selector(&remote.indices.privileges) {
                Ok(privileges) if privileges.iter().any(|privilege| privilege.selector == Selector::Failures) => {
                    messages.push(
                        "remote index privileges cannot contain privileges that grant access to the failure store"
                            .to_string(),
                    );
                }
                Ok(_) => {}
                Err(error) => messages.push(error.reason),
            }
            for name in &remote.indices.names {
                if let Some(message) = index_name_expression_problem(name) {
                    messages.push(message);
                }
            }
        }
        for application in &self.applications {
            if let Err(message) = validate_application_name(&application.application, true) {
                messages.push(message);
            }
            for privilege in &application.privileges {
                if let Err(message) = validate_privilege_or_action_name(privilege) {
                    messages.push(message);
                }
            }
        }
        if self.metadata.keys().any(|key| key.starts_with('_')) {
            messages.push("role descriptor metadata keys may not start with [_]".to_string());
        }
        if self.description.as_ref().is_some_and(|text| text.encode_utf16().count() > MAX_DESCRIPTION_LENGTH) {
            messages.push(format!("Role description must be less than {MAX_DESCRIPTION_LENGTH} characters."));
        }
        messages
    }

    /// Fails with the `action_request_validation_exception` of `PUT /_security/role` if invalid.
    pub(crate) fn validate_for_put(&self) -> Result<(), EsError> {
        let messages = self.validation_messages();
        if messages.is_empty() {
            return Ok(());
        }
        Err(EsError::validation(&messages))
    }
}

/// Java's `Set.of(array)` (used on the privilege names) rejects duplicates before resolution.
fn duplicate_element(values: &[String]) -> Option<String> {
    let mut seen = std::collections::BTreeSet::new();
    values.iter().find(|value| !seen.insert(value.as_str())).map(|value| format!("duplicate element: {value}"))
}

/// Returns the validation message for an entry's index privileges, if they are invalid.
fn index_privileges_problem(privileges: &[String]) -> Option<String> {
    if let Some(duplicate) = duplicate_element(privileges) {
        return Some(duplicate);
    }
    resolve_by_selector(privileges).err().map(|error| error.reason)
}

/// Characters an index or alias name must not contain (`Strings.INVALID_FILENAME_CHARS`).
const INVALID_INDEX_CHARACTERS: &str = "\\/*?\"<>| ,";

/// Returns the validation message for an index name expression, if it is invalid.
fn index_name_expression_problem(expression: &str) -> Option<String> {
    if expression.is_empty() {
        return None;
    }
    if expression.contains("::") {
        return Some(format!("selectors [::] are not allowed in the index name expression [{expression}]"));
    }
    if expression.starts_with('/') {
        return match parse_pattern(expression) {
            Ok(_) => None,
            Err(
                PatternError::UnterminatedRegex(_) | PatternError::InvalidRegex { .. } | PatternError::TooComplex(_),
            ) => Some(format!("invalid regular expression pattern [{expression}]")),
        };
    }
    if expression == "*" {
        return None;
    }
    let stripped = strip_wildcards(expression);
    let invalid = stripped.chars().any(|c| INVALID_INDEX_CHARACTERS.contains(c) || c == '#' || c == ':')
        || stripped.starts_with(['_', '-', '+'])
        || stripped.len() > 255
        || stripped == "."
        || stripped == "..";
    if invalid {
        return Some(format!("invalid index name expression [{expression}]"));
    }
    if stripped.to_lowercase() != stripped {
        return Some(format!("index name must be lowercase [{expression}]"));
    }
    None
}

/// Replaces `*`/`?` by `x` and removes escaping backslashes, as the validator does.
fn strip_wildcards(text: &str) -> String {
    let mut result = String::new();
    let mut characters = text.chars();
    while let Some(character) = characters.next() {
        match character {
            '*' | '?' => result.push('x'),
            '\\' => result.push(characters.next().unwrap_or('\\')),
            other => result.push(other),
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_privileges_fail_like_set_of() {
        let privileges = vec!["read".to_string(), "write".to_string(), "read".to_string()];
        assert_eq!(index_privileges_problem(&privileges).unwrap(), "duplicate element: read");
        assert_eq!(index_privileges_problem(&["read".to_string()]), None);
    }

    #[test]
    fn index_name_expressions() {
        assert_eq!(index_name_expression_problem("logs-*"), None);
        assert_eq!(index_name_expression_problem("*"), None);
        assert_eq!(index_name_expression_problem(".kibana*"), None);
        assert_eq!(index_name_expression_problem("/logs-.*/"), None);
        assert_eq!(index_name_expression_problem("/(/").unwrap(), "invalid regular expression pattern [/(/]");
        assert_eq!(index_name_expression_problem("/abc").unwrap(), "invalid regular expression pattern [/abc]");
        assert_eq!(index_name_expression_problem("Logs").unwrap(), "index name must be lowercase [Logs]");
        assert_eq!(index_name_expression_problem("_logs").unwrap(), "invalid index name expression [_logs]");
        assert_eq!(index_name_expression_problem("a,b").unwrap(), "invalid index name expression [a,b]");
        assert_eq!(
            index_name_expression_problem("logs::failures").unwrap(),
            "selectors [::] are not allowed in the index name expression [logs::failures]"
        );
    }
}
