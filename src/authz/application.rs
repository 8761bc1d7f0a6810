//! Application privileges (`ApplicationPrivilege`): name validation and resolution.
//!
//! A privilege name matching `^[a-z][a-zA-Z0-9_.-]*$` refers to a stored definition (its actions
//! become the automaton; no definition means the empty automaton, so such a privilege is only
//! granted by an identical privilege). Anything else is used directly as an action pattern.

use std::collections::BTreeSet;

use crate::authz::language::Language;
use crate::authz::pattern::PatternSet;

/// A stored application privilege (`PUT /_security/privilege`): application, name and actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApplicationPrivilegeDefinition {
    pub(crate) application: String,
    pub(crate) name: String,
    pub(crate) actions: Vec<String>,
}

/// A resolved application privilege.
#[derive(Debug, Clone)]
pub(crate) struct ApplicationPrivilege {
    /// The concrete application, or the role's wildcard application when nothing matched it.
    pub(crate) application: String,
    pub(crate) names: BTreeSet<String>,
    pub(crate) patterns: BTreeSet<String>,
    pub(crate) actions: Language,
}

impl ApplicationPrivilege {
    /// Returns whether both have the same application, names and patterns (Java `equals`).
    pub(crate) fn same_as(&self, other: &ApplicationPrivilege) -> bool {
        self.application == other.application && self.names == other.names && self.patterns == other.patterns
    }
}

/// Returns whether `name` is a privilege name (as opposed to an action pattern).
pub(crate) fn is_valid_privilege_name(name: &str) -> bool {
    let mut characters = name.chars();
    characters.next().is_some_and(|first| first.is_ascii_lowercase())
        && characters.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Java's `[\v\h]`: vertical and horizontal whitespace.
fn is_java_whitespace(character: char) -> bool {
    matches!(
        character,
        '\n' | '\u{0B}'
            | '\u{0C}'
            | '\r'
            | '\u{85}'
            | '\u{2028}'
            | '\u{2029}'
            | ' '
            | '\t'
            | '\u{A0}'
            | '\u{1680}'
            | '\u{180E}'
            | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

const INVALID_FILENAME_CHARACTERS: &str = "\\/*?\"<>| ,";

/// Validates an application name (`ApplicationPrivilege.validateApplicationName[OrWildcard]`),
/// returning Elasticsearch's `IllegalArgumentException` message on failure.
pub(crate) fn validate_application_name(application: &str, allow_wildcard: bool) -> Result<(), String> {
    if application.is_empty() {
        return Err("Application names cannot be blank".to_string());
    }
    let asterisk = application.find('*');
    if let Some(position) = asterisk {
        if !allow_wildcard {
            return Err(format!("Application names may not contain '*' (found '{application}')"));
        }
        if application == "*" {
            return Ok(());
        }
        if position != application.len() - 1 {
            return Err(format!("Application name patterns only support trailing wildcards (found '{application}')"));
        }
    }
    if application.chars().any(is_java_whitespace) {
        return Err(format!("Application names may not contain whitespace (found '{application}')"));
    }
    let (prefix, suffix) = match application.find(['_', '-']) {
        Some(position) => (&application[..position], Some(&application[position + 1..])),
        None => (application, None),
    };
    let prefix = prefix.strip_suffix('*').unwrap_or(prefix);
    let mut prefix_characters = prefix.chars();
    let valid_prefix = prefix_characters.next().is_some_and(|first| first.is_ascii_lowercase())
        && prefix_characters.all(|c| c.is_ascii_alphanumeric());
    if !valid_prefix {
        return Err(format!(
            "An application name prefix must match the pattern ^[a-z][A-Za-z0-9]*$ (found '{prefix}')"
        ));
    }
    if prefix.len() < 3 && asterisk.is_none() {
        return Err(format!("An application name prefix must be at least 3 characters long (found '{prefix}')"));
    }
    if let Some(suffix) = suffix {
        let suffix = if allow_wildcard { suffix.strip_suffix('*').unwrap_or(suffix) } else { suffix };
        if suffix.chars().any(|c| INVALID_FILENAME_CHARACTERS.contains(c)) {
            return Err(format!(
                "An application name suffix may not contain any of the characters '{INVALID_FILENAME_CHARACTERS}' (found '{suffix}')"
            ));
        }
    }
    Ok(())
}

/// Validates a privilege name or action (`^\p{Graph}*$`: printable, visible ASCII).
pub(crate) fn validate_privilege_or_action_name(name: &str) -> Result<(), String> {
    if name.chars().all(|c| c.is_ascii_graphic()) {
        return Ok(());
    }
    Err(format!("Application privilege names and actions must match the pattern ^\\p{{Graph}}*$ (found '{name}')"))
}

/// Resolves privilege names for one application (`ApplicationPrivilege.get`). A wildcard
/// application expands to every defined application it matches (or stays as is if none does).
pub(crate) fn resolve_application_privileges(
    application: &str,
    names: &BTreeSet<String>,
    definitions: &[ApplicationPrivilegeDefinition],
) -> Vec<ApplicationPrivilege> {
    if names.is_empty() {
        let none = BTreeSet::from(["none".to_string()]);
        return vec![ApplicationPrivilege {
            application: application.to_string(),
            names: none,
            patterns: BTreeSet::new(),
            actions: Language::empty(),
        }];
    }
    if !application.contains('*') {
        return vec![resolve_one(application, names, definitions)];
    }
    let matcher = PatternSet::cached_lenient(&[application]);
    let mut applications: Vec<&str> = Vec::new();
    for definition in definitions {
        if matcher.matches(&definition.application) && !applications.contains(&definition.application.as_str()) {
            applications.push(&definition.application);
        }
    }
    if applications.is_empty() {
        return vec![resolve_one(application, names, &[])];
    }
    applications.into_iter().map(|concrete| resolve_one(concrete, names, definitions)).collect()
}

fn resolve_one(
    application: &str,
    names: &BTreeSet<String>,
    definitions: &[ApplicationPrivilegeDefinition],
) -> ApplicationPrivilege {
    let mut patterns = BTreeSet::new();
    for name in names {
        if is_valid_privilege_name(name) {
            let defined = definitions
                .iter()
                .filter(|definition| definition.application == application && &definition.name == name);
            for definition in defined {
                patterns.extend(definition.actions.iter().cloned());
            }
        } else {
            patterns.insert(name.clone());
        }
    }
    let pattern_list: Vec<&String> = patterns.iter().collect();
    let actions = Language::of_set(PatternSet::cached_lenient(&pattern_list));
    ApplicationPrivilege { application: application.to_string(), names: names.clone(), patterns, actions }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn application_name_validation() {
        assert_eq!(validate_application_name("kibana-.kibana", false), Ok(()));
        assert_eq!(validate_application_name("app-1", false), Ok(()));
        assert_eq!(validate_application_name("kibana-*", true), Ok(()));
        assert_eq!(validate_application_name("*", true), Ok(()));
        assert_eq!(validate_application_name("", false).unwrap_err(), "Application names cannot be blank");
        assert_eq!(
            validate_application_name("kibana-*", false).unwrap_err(),
            "Application names may not contain '*' (found 'kibana-*')"
        );
        assert_eq!(
            validate_application_name("ki*bana", true).unwrap_err(),
            "Application name patterns only support trailing wildcards (found 'ki*bana')"
        );
        assert_eq!(
            validate_application_name("Kibana", false).unwrap_err(),
            "An application name prefix must match the pattern ^[a-z][A-Za-z0-9]*$ (found 'Kibana')"
        );
        assert_eq!(
            validate_application_name("ab", false).unwrap_err(),
            "An application name prefix must be at least 3 characters long (found 'ab')"
        );
        assert_eq!(validate_application_name("ab*", true), Ok(()));
        assert_eq!(
            validate_application_name("my app", false).unwrap_err(),
            "Application names may not contain whitespace (found 'my app')"
        );
        assert_eq!(
            validate_application_name("app-a/b", false).unwrap_err(),
            "An application name suffix may not contain any of the characters '\\/*?\"<>| ,' (found 'a/b')"
        );
    }

    #[test]
    fn privilege_names_and_actions() {
        assert!(is_valid_privilege_name("read"));
        assert!(is_valid_privilege_name("feature_discover.all"));
        assert!(!is_valid_privilege_name("data:read/*"));
        assert!(!is_valid_privilege_name("*"));
        assert_eq!(validate_privilege_or_action_name("data:read/*"), Ok(()));
        assert!(validate_privilege_or_action_name("bad name").is_err());
    }

    #[test]
    fn resolution_uses_definitions() {
        let definitions = vec![ApplicationPrivilegeDefinition {
            application: "app-1".to_string(),
            name: "read".to_string(),
            actions: vec!["data:read/*".to_string()],
        }];
        let names = BTreeSet::from(["read".to_string()]);
        let resolved = resolve_application_privileges("app-1", &names, &definitions);
        assert!(resolved[0].actions.matches("data:read/x"));
        let undefined = resolve_application_privileges("app-2", &names, &definitions);
        assert!(undefined[0].patterns.is_empty());
        let expanded = resolve_application_privileges("app-*", &names, &definitions);
        assert_eq!(expanded.len(), 1);
        assert_eq!(expanded[0].application, "app-1");
        let action = resolve_application_privileges("app-1", &BTreeSet::from(["data:write/*".to_string()]), &[]);
        assert!(action[0].actions.matches("data:write/1"));
    }
}
