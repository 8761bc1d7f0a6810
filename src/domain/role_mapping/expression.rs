//! The rules of a role mapping: `field`, `any`, `all` and `except` expressions (Elasticsearch's
//! `ExpressionParser`), their JSON form and their evaluation against a [`UserModel`].

use serde_json::{Map, Value};

use super::model::UserModel;
use super::pattern::{is_pattern, Pattern};
use crate::domain::profile::token_name;

/// A rules expression.
#[derive(Debug, Clone)]
pub(crate) enum Expression {
    /// True when any member is (false when empty).
    Any(Vec<Expression>),
    /// True when every member is (true when empty).
    All(Vec<Expression>),
    /// Negation; only allowed directly inside `all`.
    Except(Box<Expression>),
    /// True when the user's field matches any of the values.
    Field { field: String, values: Vec<FieldValue> },
}

/// A value of a `field` expression.
#[derive(Debug, Clone)]
pub(crate) enum FieldValue {
    Null,
    Bool(bool),
    /// Numbers are read as longs, as Elasticsearch's parser does.
    Number(i64),
    /// A string, with its compiled pattern when it contains `*` or is a `/regex/`.
    Text {
        text: String,
        pattern: Option<Pattern>,
    },
}

/// Why a rules expression was refused: the Elasticsearch exception type and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RulesError {
    /// `parse_exception` (ElasticsearchParseException) or `illegal_argument_exception`.
    pub(crate) error_type: &'static str,
    pub(crate) reason: String,
}

impl RulesError {
    fn parse(reason: String) -> RulesError {
        RulesError { error_type: "parse_exception", reason: format!("failed to parse rules expression. {reason}") }
    }

    fn illegal_argument(reason: String) -> RulesError {
        RulesError { error_type: "illegal_argument_exception", reason }
    }
}

impl Expression {
    /// Parses the `rules` object of the mapping `mapping_name` (the name is the outer object's name in
    /// Elasticsearch's messages).
    pub(crate) fn parse(mapping_name: &str, rules: &Value) -> Result<Expression, RulesError> {
        parse_rules_object(mapping_name, rules, false)
    }

    /// Renders the expression as Elasticsearch does (a single field value is not wrapped in an array).
    pub(crate) fn to_json(&self) -> Value {
        let mut object = Map::new();
        match self {
            Expression::Any(members) => {
                object.insert("any".into(), Value::Array(members.iter().map(Expression::to_json).collect()));
            }
            Expression::All(members) => {
                object.insert("all".into(), Value::Array(members.iter().map(Expression::to_json).collect()));
            }
            Expression::Except(inner) => {
                object.insert("except".into(), inner.to_json());
            }
            Expression::Field { field, values } => {
                let rendered = match values.as_slice() {
                    [single] => single.to_json(),
                    many => Value::Array(many.iter().map(FieldValue::to_json).collect()),
                };
                let mut field_object = Map::new();
                field_object.insert(field.clone(), rendered);
                object.insert("field".into(), Value::Object(field_object));
            }
        }
        Value::Object(object)
    }

    /// Evaluates the expression against a user.
    pub(crate) fn matches(&self, user: &UserModel<'_>) -> bool {
        match self {
            Expression::Any(members) => members.iter().any(|member| member.matches(user)),
            Expression::All(members) => members.iter().all(|member| member.matches(user)),
            Expression::Except(inner) => !inner.matches(user),
            Expression::Field { field, values } => values.iter().any(|value| user.field_matches(field, value)),
        }
    }
}

impl FieldValue {
    fn parse(value: &Value) -> Result<FieldValue, RulesError> {
        match value {
            Value::Null => Ok(FieldValue::Null),
            Value::Bool(flag) => Ok(FieldValue::Bool(*flag)),
            Value::Number(number) => Ok(FieldValue::Number(number_as_long(number))),
            Value::String(text) => {
                let pattern = if is_pattern(text) {
                    Some(Pattern::compile(text).map_err(RulesError::illegal_argument)?)
                } else {
                    None
                };
                Ok(FieldValue::Text { text: text.clone(), pattern })
            }
            other => {
                Err(RulesError::parse(format!("expected a field value but found [{}] instead", token_name(other))))
            }
        }
    }

    fn to_json(&self) -> Value {
        match self {
            FieldValue::Null => Value::Null,
            FieldValue::Bool(flag) => Value::Bool(*flag),
            FieldValue::Number(number) => Value::from(*number),
            FieldValue::Text { text, .. } => Value::String(text.clone()),
        }
    }
}

/// Jackson's coercing `longValue()`: fractions are truncated, out-of-range values saturate.
pub(crate) fn number_as_long(number: &serde_json::Number) -> i64 {
    if let Some(long) = number.as_i64() {
        return long;
    }
    if number.as_u64().is_some() {
        return i64::MAX;
    }
    number.as_f64().map_or(0, |float| float as i64)
}

fn parse_rules_object(object_name: &str, value: &Value, allow_except: bool) -> Result<Expression, RulesError> {
    let Value::Object(object) = value else {
        return Err(RulesError::parse(format!(
            "expected [{object_name}] to be an object but found [{}] instead",
            token_name(value)
        )));
    };
    let mut entries = object.iter();
    let Some((field, field_value)) = entries.next() else {
        return Err(RulesError::parse(format!("object [{object_name}] does not contain any fields")));
    };
    let expression = parse_expression(field, field_value, allow_except, object_name)?;
    if entries.next().is_some() {
        return Err(RulesError::parse(format!("object [{object_name}] contains multiple fields")));
    }
    Ok(expression)
}

fn parse_expression(
    field: &str,
    value: &Value,
    allow_except: bool,
    object_name: &str,
) -> Result<Expression, RulesError> {
    match field {
        "any" => Ok(Expression::Any(parse_expression_array("any", value, false)?)),
        "all" => Ok(Expression::All(parse_expression_array("all", value, true)?)),
        "field" => parse_field_expression(value),
        "except" if allow_except => {
            if !value.is_object() {
                return Err(expected_object(value));
            }
            Ok(Expression::Except(Box::new(parse_rules_object("except", value, false)?)))
        }
        "except" => Err(RulesError::parse(format!("field [except] is not allowed within [{object_name}]"))),
        other => Err(RulesError::parse(format!("field [{other}] is not recognised in object [{object_name}]"))),
    }
}

fn parse_expression_array(name: &str, value: &Value, allow_except: bool) -> Result<Vec<Expression>, RulesError> {
    let Value::Array(items) = value else {
        return Err(RulesError::parse(format!("field [{name}] requires an array")));
    };
    items.iter().map(|item| parse_rules_object(name, item, allow_except)).collect()
}

fn expected_object(value: &Value) -> RulesError {
    RulesError::parse(format!("expected an object but found [{}] instead", token_name(value)))
}

fn parse_field_expression(value: &Value) -> Result<Expression, RulesError> {
    let Value::Object(object) = value else {
        return Err(expected_object(value));
    };
    let mut entries = object.iter();
    let Some((field, raw_values)) = entries.next() else {
        return Err(RulesError::parse("object [field] does not contain any fields".into()));
    };
    let values = match raw_values {
        Value::Array(items) => items.iter().map(FieldValue::parse).collect::<Result<Vec<_>, _>>()?,
        single => vec![FieldValue::parse(single)?],
    };
    if entries.next().is_some() {
        return Err(RulesError::parse("object [field] contains multiple fields".into()));
    }
    if field.is_empty() {
        return Err(RulesError::illegal_argument(format!("null or empty field name ({field})")));
    }
    if values.is_empty() {
        return Err(RulesError::illegal_argument("null or empty values ([])".into()));
    }
    Ok(Expression::Field { field: field.clone(), values })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[track_caller]
    fn parse_error(rules: Value) -> String {
        Expression::parse("mapping1", &rules).expect_err("invalid").reason
    }

    #[test]
    fn round_trips_as_elasticsearch_renders_it() {
        let rules = json!({"all": [
            {"field": {"username": ["a*", "bob"]}},
            {"any": [{"field": {"groups": "admins"}}, {"field": {"metadata.level": 3}}]},
            {"except": {"field": {"realm.name": ["jwt1"]}}}
        ]});
        let expression = Expression::parse("m", &rules).expect("valid");
        assert_eq!(
            expression.to_json(),
            json!({"all": [
                {"field": {"username": ["a*", "bob"]}},
                {"any": [{"field": {"groups": "admins"}}, {"field": {"metadata.level": 3}}]},
                {"except": {"field": {"realm.name": "jwt1"}}}
            ]})
        );
    }

    #[test]
    fn numbers_are_read_as_longs() {
        let expression = Expression::parse("m", &json!({"field": {"metadata.x": 1.9}})).expect("valid");
        assert_eq!(expression.to_json(), json!({"field": {"metadata.x": 1}}));
    }

    #[test]
    fn parse_errors_use_elasticsearch_messages() {
        assert_eq!(
            parse_error(json!({})),
            "failed to parse rules expression. object [mapping1] does not contain any fields"
        );
        assert_eq!(
            parse_error(json!({"field": {"a": 1}, "any": []})),
            "failed to parse rules expression. object [mapping1] contains multiple fields"
        );
        assert_eq!(
            parse_error(json!({"foo": {}})),
            "failed to parse rules expression. field [foo] is not recognised in object [mapping1]"
        );
        assert_eq!(
            parse_error(json!({"except": {"field": {"a": 1}}})),
            "failed to parse rules expression. field [except] is not allowed within [mapping1]"
        );
        assert_eq!(
            parse_error(json!({"any": [{"except": {"field": {"a": 1}}}]})),
            "failed to parse rules expression. field [except] is not allowed within [any]"
        );
        assert_eq!(parse_error(json!({"any": {}})), "failed to parse rules expression. field [any] requires an array");
        assert_eq!(
            parse_error(json!({"any": ["x"]})),
            "failed to parse rules expression. expected [any] to be an object but found [VALUE_STRING] instead"
        );
        assert_eq!(
            parse_error(json!({"field": "username"})),
            "failed to parse rules expression. expected an object but found [VALUE_STRING] instead"
        );
        assert_eq!(
            parse_error(json!({"field": {"username": {"a": 1}}})),
            "failed to parse rules expression. expected a field value but found [START_OBJECT] instead"
        );
        assert_eq!(
            parse_error(json!({"field": {}})),
            "failed to parse rules expression. object [field] does not contain any fields"
        );
        assert_eq!(
            parse_error(json!({"field": {"a": 1, "b": 2}})),
            "failed to parse rules expression. object [field] contains multiple fields"
        );
        let empty_values = Expression::parse("m", &json!({"field": {"username": []}})).expect_err("invalid");
        assert_eq!(empty_values.error_type, "illegal_argument_exception");
        assert_eq!(empty_values.reason, "null or empty values ([])");
        let all_with_except = Expression::parse("m", &json!({"all": [{"except": {"field": {"a": 1}}}]}));
        assert!(all_with_except.is_ok());
    }
}
