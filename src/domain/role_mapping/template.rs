//! Role templates (`role_templates`): Mustache templates that compute role names from the user.
//!
//! Elasticsearch evaluates them with its Mustache script engine over the flat model map (`username`,
//! `dn`, `groups`, `metadata.<key>`, `realm.name`). profiled supports the subset role mappings use in
//! practice: `{{name}}` (JSON-escaped), `{{{name}}}` (raw) and `{{#tojson}}name{{/tojson}}`; any other
//! Mustache tag is refused when the mapping is stored.

use serde_json::{Map, Value};

use crate::domain::profile::token_name;

/// How the evaluated template becomes role names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TemplateFormat {
    /// The evaluation is one role name.
    String,
    /// The evaluation is a JSON string or array of strings.
    Json,
}

/// One role template.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RoleTemplate {
    /// The template object as JSON text (rendered as a string, as Elasticsearch does).
    template_text: String,
    /// The Mustache source of the template.
    source: String,
    format: TemplateFormat,
}

enum Segment<'a> {
    Literal(&'a str),
    Escaped(&'a str),
    Raw(&'a str),
    ToJson(&'a str),
}

impl RoleTemplate {
    /// Parses one `role_templates` entry (`role-mapping-template` parser); errors are
    /// `(exception type, reason)`.
    pub(crate) fn parse(value: &Value) -> Result<RoleTemplate, (&'static str, String)> {
        const PARSER: &str = "role-mapping-template";
        let Value::Object(object) = value else {
            return Err((
                "x_content_parse_exception",
                format!("[{PARSER}] Expected START_OBJECT but was: {}", token_name(value)),
            ));
        };
        let mut template = None;
        let mut format = TemplateFormat::String;
        for (field, field_value) in object {
            match (field.as_str(), field_value) {
                ("template", Value::Object(_)) => template = Some(field_value.to_string()),
                ("template", Value::String(text)) => template = Some(text.clone()),
                ("format", Value::String(text)) => {
                    format = match text.to_ascii_lowercase().as_str() {
                        "string" => TemplateFormat::String,
                        "json" => TemplateFormat::Json,
                        _ => {
                            return Err((
                                "illegal_argument_exception",
                                format!(
                                    "No enum constant org.elasticsearch.xpack.core.security.authc.support.mapper.TemplateRoleName.Format.{}",
                                    text.to_uppercase()
                                ),
                            ))
                        }
                    }
                }
                ("template" | "format", other) => {
                    return Err((
                        "x_content_parse_exception",
                        format!("[{PARSER}] {field} doesn't support values of type: {}", token_name(other)),
                    ))
                }
                (other, _) => return Err(("x_content_parse_exception", format!("[{PARSER}] unknown field [{other}]"))),
            }
        }
        let Some(template_text) = template else {
            return Err(("illegal_argument_exception", "Required [template]".to_string()));
        };
        let source = template_source(&template_text)?;
        let parsed = RoleTemplate { template_text, source, format };
        parsed.segments()?;
        Ok(parsed)
    }

    /// Renders the template as `GET /_security/role_mapping` shows it.
    pub(crate) fn to_json(&self) -> Value {
        let format = match self.format {
            TemplateFormat::String => "string",
            TemplateFormat::Json => "json",
        };
        serde_json::json!({ "template": self.template_text, "format": format })
    }

    /// Returns the role names the template gives for the model map (see the module doc).
    pub(crate) fn role_names(&self, model: &Map<String, Value>) -> Vec<String> {
        let Ok(segments) = self.segments() else {
            return Vec::new();
        };
        let mut evaluation = String::new();
        for segment in segments {
            match segment {
                Segment::Literal(text) => evaluation.push_str(text),
                Segment::Raw(name) => evaluation.push_str(&display(lookup(model, name))),
                Segment::Escaped(name) => {
                    let text = display(lookup(model, name));
                    let quoted = Value::String(text).to_string();
                    evaluation.push_str(&quoted[1..quoted.len() - 1]);
                }
                Segment::ToJson(name) => evaluation.push_str(&lookup(model, name).map_or("".into(), Value::to_string)),
            }
        }
        let names = match self.format {
            TemplateFormat::String => vec![evaluation],
            TemplateFormat::Json => match serde_json::from_str::<Value>(&evaluation) {
                Ok(Value::String(single)) => vec![single],
                Ok(Value::Array(items)) => {
                    items.into_iter().filter_map(|item| item.as_str().map(str::to_string)).collect()
                }
                _ => {
                    tracing::warn!("role template evaluated to something other than a JSON string or array; no roles");
                    Vec::new()
                }
            },
        };
        names.into_iter().filter(|name| !name.is_empty()).collect()
    }

    fn segments(&self) -> Result<Vec<Segment<'_>>, (&'static str, String)> {
        let unsupported = || {
            ("illegal_argument_exception", format!("unsupported role template [{}]: profiled supports {{{{name}}}}, {{{{{{name}}}}}} and {{{{#tojson}}}}name{{{{/tojson}}}}", self.source))
        };
        let mut segments = Vec::new();
        let mut rest = self.source.as_str();
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                segments.push(Segment::Literal(&rest[..start]));
            }
            let after = &rest[start..];
            if let Some(inner) = after.strip_prefix("{{{") {
                let end = inner.find("}}}").ok_or_else(unsupported)?;
                segments.push(Segment::Raw(inner[..end].trim()));
                rest = &inner[end + 3..];
            } else if let Some(inner) = after.strip_prefix("{{#tojson}}") {
                let end = inner.find("{{/tojson}}").ok_or_else(unsupported)?;
                segments.push(Segment::ToJson(inner[..end].trim()));
                rest = &inner[end + "{{/tojson}}".len()..];
            } else {
                let inner = &after[2..];
                let end = inner.find("}}").ok_or_else(unsupported)?;
                let name = inner[..end].trim();
                if name.is_empty() || name.starts_with(['#', '/', '^', '!', '>', '&', '=']) {
                    return Err(unsupported());
                }
                segments.push(Segment::Escaped(name));
                rest = &inner[end + 2..];
            }
        }
        if !rest.is_empty() {
            segments.push(Segment::Literal(rest));
        }
        Ok(segments)
    }
}

/// Reads the `source` of a template object given as JSON text (a stored script reference is refused).
fn template_source(template_text: &str) -> Result<String, (&'static str, String)> {
    let parsed: Value = serde_json::from_str(template_text)
        .map_err(|_| ("x_content_parse_exception", format!("failed to parse template [{template_text}]")))?;
    match parsed.get("source") {
        Some(Value::String(source)) => Ok(source.clone()),
        _ => Err((
            "illegal_argument_exception",
            format!("role template [{template_text}] must have a [source]; stored scripts are not supported"),
        )),
    }
}

/// Looks a name up in the flat model map, then as a dotted path.
fn lookup<'a>(model: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(value) = model.get(name) {
        return Some(value);
    }
    let mut segments = name.split('.');
    let mut current = model.get(segments.next()?)?;
    for segment in segments {
        current = current.get(segment)?;
    }
    Some(current)
}

/// Mustache's rendering of a value: strings as-is, lists as Java's `[a, b]`.
fn display(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(items)) => {
            format!("[{}]", items.iter().map(|item| display(Some(item))).collect::<Vec<_>>().join(", "))
        }
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn model() -> Map<String, Value> {
        let Value::Object(map) = json!({
            "username": "joe", "groups": ["admins", "devs"], "realm.name": "jwt1", "metadata.tenant": "acme"
        }) else {
            unreachable!()
        };
        map
    }

    #[test]
    fn string_and_json_templates_give_role_names() {
        let string_template =
            RoleTemplate::parse(&json!({"template": {"source": "_user_{{username}}"}})).expect("valid");
        assert_eq!(string_template.role_names(&model()), vec!["_user_joe"]);
        let json_template =
            RoleTemplate::parse(&json!({"template": {"source": "{{#tojson}}groups{{/tojson}}"}, "format": "json"}))
                .expect("valid");
        assert_eq!(json_template.role_names(&model()), vec!["admins", "devs"]);
        let dotted = RoleTemplate::parse(&json!({"template": "{\"source\":\"{{realm.name}}-{{metadata.tenant}}\"}"}))
            .expect("valid");
        assert_eq!(dotted.role_names(&model()), vec!["jwt1-acme"]);
        assert_eq!(
            json_template.to_json(),
            json!({"template": "{\"source\":\"{{#tojson}}groups{{/tojson}}\"}", "format": "json"})
        );
    }

    #[test]
    fn unsupported_templates_are_refused() {
        assert!(RoleTemplate::parse(&json!({"template": {"source": "{{#groups}}x{{/groups}}"}})).is_err());
        assert!(RoleTemplate::parse(&json!({"template": {"id": "stored"}})).is_err());
        assert!(RoleTemplate::parse(&json!({"format": "json"})).is_err());
        assert!(RoleTemplate::parse(&json!({"template": {"source": "x"}, "format": "yaml"})).is_err());
    }
}
