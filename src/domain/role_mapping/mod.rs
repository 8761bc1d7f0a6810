//! Role mappings: named rules that give roles to users of realms without roles of their own (JWT).
//!
//! Parsing follows Elasticsearch's `ExpressionRoleMapping` object parser (`role-mapping`), whose failures
//! surface as `parsing_exception`s with a line and column, then `PutRoleMappingRequest.validate`.

use serde_json::{Map, Value};

use crate::domain::profile::token_name;
use crate::error::EsError;

mod dn;
mod expression;
mod location;
mod model;
mod pattern;
mod template;

pub(crate) use expression::Expression;
pub(crate) use model::{UserData, UserModel};
pub(crate) use pattern::Pattern;
pub(crate) use template::RoleTemplate;

use location::{locate_top_level, Location};

const PARSER: &str = "role-mapping";
const FIELDS: &[&str] = &["roles", "role_templates", "rules", "metadata", "enabled", "doc_type", "type"];

/// A role mapping as stored and returned by `GET /_security/role_mapping`.
#[derive(Debug, Clone)]
pub(crate) struct RoleMapping {
    pub(crate) name: String,
    pub(crate) enabled: bool,
    pub(crate) roles: Vec<String>,
    pub(crate) role_templates: Vec<RoleTemplate>,
    pub(crate) rules: Expression,
    pub(crate) metadata: Map<String, Value>,
}

impl RoleMapping {
    /// Parses a `PUT /_security/role_mapping/{name}` body (`raw` is its text, for error locations) and
    /// validates it as `PutRoleMappingRequest.validate` does.
    pub(crate) fn parse_request(name: &str, raw: &str, body: &Value) -> Result<RoleMapping, EsError> {
        let mapping = Self::parse(name, raw, body)?;
        let mut problems = Vec::new();
        if mapping.roles.is_empty() && mapping.role_templates.is_empty() {
            problems.push("role-mapping roles or role-templates are missing");
        }
        if !mapping.roles.is_empty() && !mapping.role_templates.is_empty() {
            problems.push("role-mapping cannot have both roles and role-templates");
        }
        if mapping.metadata.keys().any(|key| key.starts_with('_')) {
            problems.push("metadata keys may not start with [_]");
        }
        if !problems.is_empty() {
            return Err(EsError::validation(&problems));
        }
        Ok(mapping)
    }

    /// Reads a stored mapping back.
    pub(crate) fn from_stored(name: &str, source: &Value) -> Result<RoleMapping, EsError> {
        Self::parse(name, &source.to_string(), source)
    }

    fn parse(name: &str, raw: &str, body: &Value) -> Result<RoleMapping, EsError> {
        let locations = locate_top_level(raw);
        let Value::Object(object) = body else {
            let reason = format!("[{PARSER}] Expected START_OBJECT but was: {}", token_name(body));
            return Err(parsing_exception(locations.first_token, &reason, "x_content_parse_exception", None));
        };
        let mut roles = None;
        let mut role_templates = None;
        let mut rules = None;
        let mut metadata = Map::new();
        let mut enabled = None;
        for (field, value) in object {
            let key_location = locations.key(field);
            let value_location = locations.value(field);
            let unsupported = || {
                let reason = format!("[{PARSER}] {field} doesn't support values of type: {}", token_name(value));
                parsing_exception(value_location, &reason, "x_content_parse_exception", None)
            };
            let failed = |cause_type: &str, cause_reason: &str| {
                let reason = format!("[{PARSER}] failed to parse field [{field}]");
                parsing_exception(
                    value_location,
                    &reason,
                    "x_content_parse_exception",
                    Some((cause_type, cause_reason)),
                )
            };
            match field.as_str() {
                "roles" => {
                    let items = match value {
                        Value::Array(items) => items.as_slice(),
                        Value::String(_) => std::slice::from_ref(value),
                        _ => return Err(unsupported()),
                    };
                    let mut names = Vec::with_capacity(items.len());
                    for item in items {
                        match item {
                            Value::String(text) => names.push(text.clone()),
                            Value::Number(number) => names.push(number.to_string()),
                            Value::Bool(flag) => names.push(flag.to_string()),
                            other => {
                                return Err(failed(
                                    "illegal_state_exception",
                                    &format!("Can't get text on a {}", token_name(other)),
                                ))
                            }
                        }
                    }
                    roles = Some(names);
                }
                "role_templates" => {
                    let items = match value {
                        Value::Array(items) => items.as_slice(),
                        Value::Object(_) => std::slice::from_ref(value),
                        _ => return Err(unsupported()),
                    };
                    let mut templates = Vec::with_capacity(items.len());
                    for item in items {
                        templates.push(
                            RoleTemplate::parse(item)
                                .map_err(|(cause_type, cause_reason)| failed(cause_type, &cause_reason))?,
                        );
                    }
                    role_templates = Some(templates);
                }
                "rules" => {
                    if !value.is_object() {
                        return Err(unsupported());
                    }
                    let expression =
                        Expression::parse(name, value).map_err(|error| failed(error.error_type, &error.reason))?;
                    rules = Some(expression);
                }
                "metadata" => match value {
                    Value::Object(map) => metadata = map.clone(),
                    _ => return Err(unsupported()),
                },
                "enabled" => match value {
                    Value::Bool(flag) => enabled = Some(*flag),
                    Value::String(text) if text == "true" || text == "false" => enabled = Some(text == "true"),
                    Value::String(text) => {
                        return Err(failed(
                            "illegal_argument_exception",
                            &format!("Failed to parse value [{text}] as only [true] or [false] are allowed."),
                        ))
                    }
                    _ => return Err(unsupported()),
                },
                // Written by the Elasticsearch index format and the 5.x upgrade API; ignored.
                "doc_type" | "type" => {
                    if !value.is_string() {
                        return Err(unsupported());
                    }
                }
                unknown => {
                    let reason = format!("[{PARSER}] unknown field [{unknown}]{}", did_you_mean(unknown));
                    return Err(parsing_exception(key_location, &reason, "x_content_parse_exception", None));
                }
            }
        }
        let missing = |field: &str| {
            let reason = format!("failed to parse role-mapping [{name}]. missing field [{field}]");
            parsing_exception(locations.object_end, &reason, "illegal_state_exception", None)
        };
        if roles.is_none() && role_templates.is_none() {
            return Err(missing("roles"));
        }
        let Some(rules) = rules else {
            return Err(missing("rules"));
        };
        let Some(enabled) = enabled else {
            return Err(missing("enabled"));
        };
        Ok(RoleMapping {
            name: name.to_string(),
            enabled,
            roles: roles.unwrap_or_default(),
            role_templates: role_templates.unwrap_or_default(),
            rules,
            metadata,
        })
    }

    /// Renders the mapping as Elasticsearch does (also the stored form).
    pub(crate) fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("enabled".into(), Value::Bool(self.enabled));
        if !self.roles.is_empty() {
            object.insert("roles".into(), Value::from(self.roles.clone()));
        }
        if !self.role_templates.is_empty() {
            object.insert(
                "role_templates".into(),
                Value::Array(self.role_templates.iter().map(RoleTemplate::to_json).collect()),
            );
        }
        object.insert("rules".into(), self.rules.to_json());
        object.insert("metadata".into(), Value::Object(self.metadata.clone()));
        Value::Object(object)
    }

    /// Returns the roles this mapping gives `user` (none when disabled or not matching).
    pub(crate) fn roles_for(&self, user: &UserModel<'_>, template_model: &Map<String, Value>) -> Vec<String> {
        if !self.enabled || !self.rules.matches(user) {
            return Vec::new();
        }
        let mut roles = self.roles.clone();
        for template in &self.role_templates {
            roles.extend(template.role_names(template_model));
        }
        roles
    }
}

/// Returns the roles every mapping in `mappings` gives `user`, sorted and without duplicates
/// (Elasticsearch collects them in a set).
pub(crate) fn mapped_roles<'a>(mappings: impl IntoIterator<Item = &'a RoleMapping>, user: &UserData) -> Vec<String> {
    let model = UserModel::new(user);
    let template_model = template_model(user);
    let mut roles: Vec<String> =
        mappings.into_iter().flat_map(|mapping| mapping.roles_for(&model, &template_model)).collect();
    roles.sort();
    roles.dedup();
    roles
}

/// The flat map role templates are evaluated over (`ExpressionModel.asMap`).
fn template_model(user: &UserData) -> Map<String, Value> {
    let mut model = Map::new();
    model.insert("username".into(), Value::String(user.username.clone()));
    model.insert("dn".into(), user.dn.clone().map_or(Value::Null, Value::String));
    model.insert("groups".into(), Value::from(user.groups.clone()));
    for (key, value) in &user.metadata {
        model.insert(format!("metadata.{key}"), value.clone());
    }
    model.insert("realm.name".into(), Value::String(user.realm_name.clone()));
    model
}

/// A `parsing_exception` wrapping the parser's own exception, as `ExpressionRoleMapping.parse` throws it.
/// The root cause is the `parsing_exception` itself (its causes are not Elasticsearch exceptions).
fn parsing_exception(location: Location, reason: &str, cause_type: &str, inner_cause: Option<(&str, &str)>) -> EsError {
    let located_reason = if cause_type == "x_content_parse_exception" {
        format!("[{}:{}] {reason}", location.line, location.column)
    } else {
        reason.to_string()
    };
    let mut cause = Map::new();
    cause.insert("type".into(), Value::String(cause_type.to_string()));
    cause.insert("reason".into(), Value::String(located_reason.clone()));
    if let Some((inner_type, inner_reason)) = inner_cause {
        cause.insert("caused_by".into(), serde_json::json!({ "type": inner_type, "reason": inner_reason }));
    }
    EsError::new(400, "parsing_exception", located_reason)
        .with_metadata("line", location.line)
        .with_metadata("col", location.column)
        .with_metadata("caused_by", Value::Object(cause))
}

/// The ` did you mean [...]?` suffix of unknown-field errors (similarity above 0.5).
fn did_you_mean(unknown: &str) -> String {
    crate::domain::xcontent::did_you_mean(unknown, FIELDS)
}

#[cfg(test)]
mod tests;
