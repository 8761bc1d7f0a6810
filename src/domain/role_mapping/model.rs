//! The user as role-mapping rules see it (Elasticsearch's `UserRoleMapper.UserData` and
//! `ExpressionModel`): `username`, `dn`, `groups`, `metadata.<key>` and `realm.name`.

use serde_json::{Map, Value};

use super::dn::normalize_dn;
use super::expression::FieldValue;

/// The authenticated user whose roles are being mapped.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct UserData {
    pub(crate) username: String,
    /// Distinguished name, when the realm knows one.
    pub(crate) dn: Option<String>,
    pub(crate) groups: Vec<String>,
    /// Realm-provided metadata, matched as `metadata.<key>`.
    pub(crate) metadata: Map<String, Value>,
    pub(crate) realm_name: String,
}

/// A [`UserData`] prepared for evaluation: DNs are normalized once.
#[derive(Debug)]
pub(crate) struct UserModel<'a> {
    user: &'a UserData,
    dn: Option<DnValue<'a>>,
    groups: Vec<DnValue<'a>>,
}

/// A string that may be a DN (`DistinguishedNamePredicate`).
#[derive(Debug)]
struct DnValue<'a> {
    text: &'a str,
    normalized: Option<String>,
}

impl<'a> UserModel<'a> {
    /// Prepares `user` for evaluating rules.
    pub(crate) fn new(user: &'a UserData) -> UserModel<'a> {
        let mut groups: Vec<DnValue<'a>> = Vec::with_capacity(user.groups.len());
        for group in &user.groups {
            if !groups.iter().any(|known| known.text == group) {
                groups.push(DnValue::new(group));
            }
        }
        UserModel { user, dn: user.dn.as_deref().map(DnValue::new), groups }
    }

    /// Tells whether the user's `field` matches `value`; unknown fields only match `null`.
    pub(crate) fn field_matches(&self, field: &str, value: &FieldValue) -> bool {
        match field {
            "username" => value_matches(&Value::String(self.user.username.clone()), value),
            "realm.name" => value_matches(&Value::String(self.user.realm_name.clone()), value),
            "dn" => match &self.dn {
                Some(dn) => dn.matches(value),
                None => matches!(value, FieldValue::Null),
            },
            "groups" => self.groups.iter().any(|group| group.matches(value)),
            other => match other.strip_prefix("metadata.").and_then(|key| self.user.metadata.get(key)) {
                Some(metadata_value) => value_matches(metadata_value, value),
                None => matches!(value, FieldValue::Null),
            },
        }
    }
}

impl<'a> DnValue<'a> {
    fn new(text: &'a str) -> DnValue<'a> {
        DnValue { text, normalized: normalize_dn(text) }
    }

    fn matches(&self, value: &FieldValue) -> bool {
        match value {
            FieldValue::Text { text: pattern_text, pattern: Some(pattern) } => {
                if pattern.matches(self.text)
                    || self.normalized.as_deref().is_some_and(|normalized| pattern.matches(normalized))
                    || pattern.matches(&self.text.to_lowercase())
                    || pattern.matches(&self.text.to_uppercase())
                {
                    return true;
                }
                let Some(normalized) = &self.normalized else {
                    return false;
                };
                // `*,dc=example,dc=com` asks for the sub-tree under that DN.
                match pattern_text.strip_prefix("*,") {
                    Some(suffix) if !suffix.contains('*') => {
                        normalize_dn(suffix).is_some_and(|parent| is_descendant(normalized, &parent))
                    }
                    _ => false,
                }
            }
            FieldValue::Text { text, pattern: None } => {
                if equals_ignore_case(text, self.text) {
                    return true;
                }
                let Some(normalized) = &self.normalized else {
                    return false;
                };
                match normalize_dn(text) {
                    Some(text_normalized) => &text_normalized == normalized,
                    None => equals_ignore_case(text, normalized),
                }
            }
            _ => false,
        }
    }
}

fn is_descendant(normalized: &str, parent: &str) -> bool {
    normalized.ends_with(&format!(",{parent}")) || (parent.is_empty() && !normalized.is_empty())
}

fn equals_ignore_case(left: &str, right: &str) -> bool {
    left.to_lowercase() == right.to_lowercase()
}

/// `ExpressionModel.buildPredicate`: how a model value of each JSON type matches a rule value.
fn value_matches(model_value: &Value, rule_value: &FieldValue) -> bool {
    match model_value {
        Value::Null => matches!(rule_value, FieldValue::Null),
        Value::Bool(flag) => matches!(rule_value, FieldValue::Bool(rule_flag) if rule_flag == flag),
        Value::Number(number) => match rule_value {
            FieldValue::Number(rule_number) => match number.as_i64() {
                Some(long) if !number.is_f64() => long == *rule_number,
                _ => number.as_f64() == Some(*rule_number as f64),
            },
            _ => false,
        },
        Value::String(text) => match rule_value {
            FieldValue::Text { pattern: Some(pattern), .. } => pattern.matches(text),
            FieldValue::Text { text: rule_text, pattern: None } => rule_text == text,
            _ => false,
        },
        Value::Array(items) => items.iter().any(|item| value_matches(item, rule_value)),
        Value::Object(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::expression::Expression;
    use super::*;

    fn joe() -> UserData {
        let mut metadata = Map::new();
        metadata.insert("level".into(), json!(3));
        metadata.insert("ratio".into(), json!(1.5));
        metadata.insert("active".into(), json!(true));
        metadata.insert("tags".into(), json!(["blue", "green"]));
        metadata.insert("empty".into(), json!([]));
        metadata.insert("nothing".into(), Value::Null);
        UserData {
            username: "joe".into(),
            dn: Some("CN=Joe,OU=People,DC=Example,DC=com".into()),
            groups: vec!["cn=admins,ou=groups,dc=example,dc=com".into(), "devs".into()],
            metadata,
            realm_name: "jwt1".into(),
        }
    }

    /// The rules evaluation table: (rules, expected) for user `joe`.
    #[test]
    fn rules_evaluate_like_elasticsearch() {
        let table = [
            (json!({"field": {"username": "joe"}}), true),
            (json!({"field": {"username": "Joe"}}), false),
            (json!({"field": {"username": "j*"}}), true),
            (json!({"field": {"username": "j?e"}}), false),
            (json!({"field": {"username": "j?e*"}}), true),
            (json!({"field": {"username": "/j.e/"}}), true),
            (json!({"field": {"username": ["x", "y", "joe"]}}), true),
            (json!({"field": {"username": null}}), false),
            (json!({"field": {"realm.name": "jwt1"}}), true),
            (json!({"field": {"realm.name": "jwt*"}}), true),
            (json!({"field": {"dn": "cn=joe,ou=people,dc=example,dc=com"}}), true),
            (json!({"field": {"dn": "cn=joe, ou=people, dc=example, dc=com"}}), true),
            (json!({"field": {"dn": "*,ou=people,dc=example,dc=com"}}), true),
            (json!({"field": {"dn": "*,ou=other,dc=example,dc=com"}}), false),
            (json!({"field": {"dn": "*,dc=example,dc=com"}}), true),
            (json!({"field": {"groups": "CN=Admins,OU=Groups,DC=Example,DC=com"}}), true),
            (json!({"field": {"groups": "devs"}}), true),
            (json!({"field": {"groups": "DEVS"}}), true),
            (json!({"field": {"groups": "ops"}}), false),
            (json!({"field": {"groups": "*,ou=groups,dc=example,dc=com"}}), true),
            (json!({"field": {"metadata.level": 3}}), true),
            (json!({"field": {"metadata.level": "3"}}), false),
            (json!({"field": {"metadata.ratio": 1}}), false),
            (json!({"field": {"metadata.active": true}}), true),
            (json!({"field": {"metadata.active": "true"}}), false),
            (json!({"field": {"metadata.tags": "green"}}), true),
            (json!({"field": {"metadata.tags": "g*"}}), true),
            (json!({"field": {"metadata.empty": null}}), false),
            (json!({"field": {"metadata.nothing": null}}), true),
            (json!({"field": {"metadata.missing": null}}), true),
            (json!({"field": {"metadata.missing": "x"}}), false),
            (json!({"field": {"unknown": null}}), true),
            (json!({"any": []}), false),
            (json!({"all": []}), true),
            (json!({"any": [{"field": {"username": "x"}}, {"field": {"groups": "devs"}}]}), true),
            (json!({"all": [{"field": {"username": "joe"}}, {"field": {"groups": "ops"}}]}), false),
            (json!({"all": [{"field": {"username": "joe"}}, {"except": {"field": {"groups": "ops"}}}]}), true),
            (json!({"all": [{"field": {"username": "joe"}}, {"except": {"field": {"groups": "devs"}}}]}), false),
        ];
        let user = joe();
        let model = UserModel::new(&user);
        for (rules, expected) in table {
            let expression = Expression::parse("m", &rules).unwrap_or_else(|error| panic!("{rules}: {error:?}"));
            assert_eq!(expression.matches(&model), expected, "{rules}");
        }
    }

    #[test]
    fn a_user_without_dn_matches_null_dn_only() {
        let user = UserData { username: "joe".into(), realm_name: "r".into(), ..UserData::default() };
        let model = UserModel::new(&user);
        let matches = |rules: Value| Expression::parse("m", &rules).expect("valid").matches(&model);
        assert!(matches(json!({"field": {"dn": null}})));
        assert!(!matches(json!({"field": {"dn": "*"}})));
        assert!(!matches(json!({"field": {"groups": "*"}})), "no groups never match");
    }
}
