//! `sort` and `search_after`: parsing (`FieldSortBuilder`), translation onto the sortable user fields
//! (`username`, `roles`, `enabled`, plus `_doc`), sort values (`_sort`) and the `search_after` cut.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::errors::{
    all_shards_failed, expected_start_object, failed_to_parse_field, parsing, query_shard, shard_illegal_argument,
    unknown_field, unsupported_value_type,
};
use super::index::IndexedUser;
use super::parse_values::text_of;
use super::query::{translate_field, FieldKind, UserField};
use crate::error::EsError;

const FIELD_SORT_FIELDS: &[&str] =
    &["missing", "unmapped_type", "order", "mode", "nested", "numeric_type", "format", "nested_path", "nested_filter"];

/// A sort clause as the client wrote it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SortSpec {
    pub(crate) field: String,
    pub(crate) descending: bool,
    pub(crate) missing: Option<Value>,
    pub(crate) mode: Option<String>,
    pub(crate) has_nested: bool,
}

/// What a sort key sorts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SortTarget {
    /// `_doc`: index order.
    Doc,
    Field(UserField),
}

/// A translated sort key.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SortKey {
    pub(crate) target: SortTarget,
    pub(crate) descending: bool,
    pub(crate) missing: Option<Value>,
    pub(crate) mode: Option<String>,
}

/// One sort value of a user (rendered in `_sort`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SortValue {
    Text(String),
    Long(i64),
    Missing,
}

/// Parses one element of the `sort` array: `"field"` or `{"field": {"order": .., ..}}`.
fn parse_sort_element(element: &Value) -> Result<SortSpec, EsError> {
    match element {
        Value::String(field) => {
            Ok(SortSpec { field: field.clone(), descending: false, missing: None, mode: None, has_nested: false })
        }
        Value::Object(object) => {
            let Some((field, options)) = object.iter().next() else {
                return Err(parsing(
                    "Failed to parse object: expecting token of type [FIELD_NAME] but found [END_OBJECT]",
                ));
            };
            let spec = parse_field_sort(field, options)?;
            if object.len() > 1 {
                return Err(parsing(
                    "Failed to parse object: expecting token of type [END_OBJECT] but found [FIELD_NAME]",
                ));
            }
            Ok(spec)
        }
        _ => Err(EsError::illegal_argument("mal-formatted sort object")),
    }
}

/// Parses the options object of a field sort (an `ObjectParser` named `field_sort`).
fn parse_field_sort(field: &str, options: &Value) -> Result<SortSpec, EsError> {
    let Value::Object(options) = options else {
        return Err(expected_start_object("field_sort", options));
    };
    let mut spec =
        SortSpec { field: field.to_string(), descending: false, missing: None, mode: None, has_nested: false };
    for (key, value) in options {
        let require_string = |value: &Value| -> Result<String, EsError> {
            value.as_str().map(str::to_string).ok_or_else(|| unsupported_value_type("field_sort", key, value))
        };
        match key.as_str() {
            "order" => {
                let order = require_string(value)?;
                spec.descending = match order.to_uppercase().as_str() {
                    "ASC" => false,
                    "DESC" => true,
                    other => {
                        return Err(failed_to_parse_field(
                            "field_sort",
                            key,
                            EsError::illegal_argument(format!(
                                "No enum constant org.elasticsearch.search.sort.SortOrder.{other}"
                            )),
                        ))
                    }
                };
            }
            "mode" => {
                let mode = require_string(value)?;
                if !matches!(mode.to_lowercase().as_str(), "min" | "max" | "sum" | "avg" | "median") {
                    let cause = EsError::illegal_argument(format!("Unknown SortMode [{mode}]"));
                    return Err(failed_to_parse_field("field_sort", key, cause));
                }
                spec.mode = Some(mode.to_lowercase());
            }
            "missing" => {
                if value.is_object() || value.is_array() {
                    return Err(unsupported_value_type("field_sort", key, value));
                }
                spec.missing = Some(value.clone());
            }
            "unmapped_type" | "numeric_type" | "format" => {
                require_string(value)?;
            }
            "nested" => {
                if !value.is_object() {
                    return Err(unsupported_value_type("field_sort", key, value));
                }
                spec.has_nested = true;
            }
            "nested_path" | "nested_filter" => {
                let cause = parsing(format!("[{key}] has been removed in favour of the [nested] parameter"));
                return Err(failed_to_parse_field("field_sort", key, cause));
            }
            unknown => return Err(unknown_field("field_sort", unknown, FIELD_SORT_FIELDS)),
        }
    }
    Ok(spec)
}

/// Parses the `sort` value: one clause object or an array of clauses. Errors are the inner causes; the
/// caller wraps them in `[query_user_request_payload] failed to parse field [sort]`.
pub(crate) fn parse_sort(value: &Value) -> Result<Vec<SortSpec>, EsError> {
    match value {
        Value::Object(_) => Ok(vec![parse_sort_element(value)?]),
        Value::Array(elements) => {
            let mut specs = Vec::with_capacity(elements.len());
            for element in elements {
                if element.is_null() {
                    return Err(EsError::new(500, "illegal_state_exception", "expected value but got [VALUE_NULL]"));
                }
                specs.push(parse_sort_element(element)?);
            }
            Ok(specs)
        }
        other => Err(EsError::illegal_argument(format!("unexpected sort value {}", other))),
    }
}

/// Translates sort clauses: `_doc` passes, other fields must be allowed and sortable.
pub(crate) fn translate_sort(specs: Vec<SortSpec>) -> Result<Vec<SortKey>, EsError> {
    let mut keys = Vec::with_capacity(specs.len());
    for spec in specs {
        if spec.has_nested {
            return Err(EsError::illegal_argument("nested sorting is not currently supported in this context"));
        }
        let target = if spec.field == "_doc" {
            SortTarget::Doc
        } else {
            let is_known_unsortable = UserField::from_name(&spec.field).is_some_and(|field| !field.is_sortable());
            if is_known_unsortable {
                return Err(EsError::illegal_argument(format!("sorting is not supported for field [{}]", spec.field)));
            }
            SortTarget::Field(translate_field(&spec.field)?)
        };
        keys.push(SortKey { target, descending: spec.descending, missing: spec.missing, mode: spec.mode });
    }
    Ok(keys)
}

/// Checks the sort as the shard builds it: string fields only sort by `min` or `max`.
pub(crate) fn build_sort(keys: &[SortKey]) -> Result<(), EsError> {
    for key in keys {
        let is_string_field = matches!(key.target, SortTarget::Field(field) if field.kind() == FieldKind::Keyword);
        let is_numeric_mode = matches!(key.mode.as_deref(), Some("sum" | "avg" | "median"));
        if is_string_field && is_numeric_mode {
            return Err(all_shards_failed(query_shard("we only support AVG, MEDIAN and SUM on number based fields")));
        }
    }
    Ok(())
}

/// Returns a user's sort values for the keys.
pub(crate) fn sort_values(keys: &[SortKey], user: &IndexedUser) -> Vec<SortValue> {
    keys.iter().map(|key| sort_value(key, user)).collect()
}

fn sort_value(key: &SortKey, user: &IndexedUser) -> SortValue {
    let field = match key.target {
        SortTarget::Doc => return SortValue::Long(user.doc_index as i64),
        SortTarget::Field(field) => field,
    };
    let value = match field {
        UserField::Enabled => user.enabled.map(|flag| SortValue::Long(i64::from(flag))),
        UserField::Username => user.username.clone().map(SortValue::Text),
        _ => {
            let use_max = match key.mode.as_deref() {
                Some("max") => true,
                Some("min") => false,
                _ => key.descending,
            };
            let selected = if use_max { user.roles.iter().max() } else { user.roles.iter().min() };
            selected.cloned().map(SortValue::Text)
        }
    };
    match (value, &key.missing) {
        (Some(value), _) => value,
        (None, Some(Value::String(marker))) if marker == "_last" || marker == "_first" => SortValue::Missing,
        (None, Some(custom)) if field.kind() == FieldKind::Keyword => SortValue::Text(text_of(custom)),
        (None, _) => SortValue::Missing,
    }
}

fn missing_first(key: &SortKey) -> bool {
    matches!(&key.missing, Some(Value::String(marker)) if marker == "_first")
}

/// Compares two users' sort values (ties are then broken by index order by the caller).
pub(crate) fn compare_sort_values(keys: &[SortKey], left: &[SortValue], right: &[SortValue]) -> Ordering {
    for (index, key) in keys.iter().enumerate() {
        let ordering = match (&left[index], &right[index]) {
            (SortValue::Missing, SortValue::Missing) => Ordering::Equal,
            (SortValue::Missing, _) => {
                if missing_first(key) {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            (_, SortValue::Missing) => {
                if missing_first(key) {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            (SortValue::Text(left_text), SortValue::Text(right_text)) => {
                direction(key, left_text.as_bytes().cmp(right_text.as_bytes()))
            }
            (SortValue::Long(left_long), SortValue::Long(right_long)) => direction(key, left_long.cmp(right_long)),
            (SortValue::Text(_), SortValue::Long(_)) => Ordering::Less,
            (SortValue::Long(_), SortValue::Text(_)) => Ordering::Greater,
        };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    Ordering::Equal
}

fn direction(key: &SortKey, ordering: Ordering) -> Ordering {
    if key.descending {
        ordering.reverse()
    } else {
        ordering
    }
}

/// Renders sort values as `_sort`.
pub(crate) fn render_sort_values(values: &[SortValue]) -> Value {
    Value::Array(
        values
            .iter()
            .map(|value| match value {
                SortValue::Text(text) => Value::String(text.clone()),
                SortValue::Long(number) => Value::from(*number),
                SortValue::Missing => Value::Null,
            })
            .collect(),
    )
}

/// Converts `search_after` values to sort values, as `SearchAfterBuilder.buildFieldDoc` does on the shard.
pub(crate) fn search_after_values(keys: &[SortKey], after: &[Value]) -> Result<Vec<SortValue>, EsError> {
    if keys.is_empty() {
        return Err(shard_illegal_argument("Sort must contain at least one field."));
    }
    if keys.len() != after.len() {
        return Err(shard_illegal_argument(format!(
            "search_after has {} value(s) but sort has {}.",
            after.len(),
            keys.len()
        )));
    }
    keys.iter().zip(after).map(|(key, value)| search_after_value(key, value)).collect()
}

fn null_pointer(boxed_type: &str, unboxing: &str) -> EsError {
    all_shards_failed(EsError::new(
        500,
        "null_pointer_exception",
        format!("Cannot invoke \"java.lang.{boxed_type}.{unboxing}()\" because \"value\" is null"),
    ))
}

fn search_after_value(key: &SortKey, value: &Value) -> Result<SortValue, EsError> {
    match key.target {
        SortTarget::Doc => match value {
            Value::Null => Err(null_pointer("Integer", "intValue")),
            Value::Number(number) => Ok(SortValue::Long(number.as_f64().unwrap_or(0.0) as i32 as i64)),
            other => text_of(other)
                .trim()
                .parse::<i32>()
                .map(|doc| SortValue::Long(i64::from(doc)))
                .map_err(|_| shard_illegal_argument("Failed to parse search_after value for field [null].")),
        },
        SortTarget::Field(field) if field.kind() == FieldKind::Boolean => match value {
            Value::Null => Err(null_pointer("Long", "longValue")),
            Value::Number(number) => {
                Ok(SortValue::Long(number.as_i64().unwrap_or_else(|| number.as_f64().unwrap_or(0.0) as i64)))
            }
            other => match text_of(other).as_str() {
                "true" => Ok(SortValue::Long(1)),
                "false" => Ok(SortValue::Long(0)),
                text => Err(shard_illegal_argument(format!(
                    "Cannot parse boolean [{text}], expected either [true] or [false]"
                ))),
            },
        },
        SortTarget::Field(_) => match value {
            Value::Null => Ok(SortValue::Missing),
            other => Ok(SortValue::Text(text_of(other))),
        },
    }
}

/// Parses the `search_after` array (scalars or nulls). Errors are the inner causes of the field failure.
pub(crate) fn parse_search_after(items: &[Value]) -> Result<Vec<Value>, EsError> {
    for item in items {
        if item.is_object() || item.is_array() {
            return Err(parsing(format!(
                "Expected [VALUE_STRING] or [VALUE_NUMBER] or [VALUE_BOOLEAN] or [VALUE_NULL] but found [{}] inside search_after.",
                super::errors::token_name(item)
            )));
        }
    }
    if items.is_empty() {
        return Err(EsError::illegal_argument("Values must contains at least one value."));
    }
    Ok(items.to_vec())
}

/// Returns a user object with `_sort` added (before `profile_uid`, as Elasticsearch renders it).
pub(crate) fn with_sort_values(user: &Value, sort_values: Option<Value>) -> Value {
    let Value::Object(fields) = user else { return user.clone() };
    let Some(sort_values) = sort_values else { return user.clone() };
    let mut rendered = Map::new();
    let mut profile_uid_opt = None;
    for (key, value) in fields {
        if key == "profile_uid" {
            profile_uid_opt = Some(value.clone());
            continue;
        }
        rendered.insert(key.clone(), value.clone());
    }
    rendered.insert("_sort".to_string(), sort_values);
    if let Some(profile_uid) = profile_uid_opt {
        rendered.insert("profile_uid".to_string(), profile_uid);
    }
    Value::Object(rendered)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn keys(value: Value) -> Result<Vec<SortKey>, EsError> {
        translate_sort(parse_sort(&value)?)
    }

    #[test]
    fn sort_forms() {
        let parsed = keys(json!(["username", {"roles": {"order": "desc", "mode": "min"}}, "_doc"])).unwrap();
        assert_eq!(parsed[0].target, SortTarget::Field(UserField::Username));
        assert!(!parsed[0].descending);
        assert!(parsed[1].descending);
        assert_eq!(parsed[1].mode.as_deref(), Some("min"));
        assert_eq!(parsed[2].target, SortTarget::Doc);
    }

    #[test]
    fn sort_errors() {
        let table: Vec<(Value, &str, &str)> = vec![
            (json!(["full_name"]), "illegal_argument_exception", "sorting is not supported for field [full_name]"),
            (json!(["email"]), "illegal_argument_exception", "sorting is not supported for field [email]"),
            (
                json!(["password"]),
                "illegal_argument_exception",
                "Field [password] is not allowed for querying or aggregation",
            ),
            (
                json!(["_score"]),
                "illegal_argument_exception",
                "Field [_score] is not allowed for querying or aggregation",
            ),
            (
                json!(["user*"]),
                "illegal_argument_exception",
                "Field name pattern [user*] is not allowed for querying or aggregation",
            ),
            (
                json!([{"username": "desc"}]),
                "x_content_parse_exception",
                "[1:2] [field_sort] Expected START_OBJECT but was: VALUE_STRING",
            ),
            (
                json!([{"username": {"ordr": "desc"}}]),
                "x_content_parse_exception",
                "[1:2] [field_sort] unknown field [ordr] did you mean [order]?",
            ),
            (
                json!([{"username": {"order": "up"}}]),
                "x_content_parse_exception",
                "[1:2] [field_sort] failed to parse field [order]",
            ),
            (
                json!([{"username": {}, "roles": {}}]),
                "parsing_exception",
                "Failed to parse object: expecting token of type [END_OBJECT] but found [FIELD_NAME]",
            ),
            (json!([1]), "illegal_argument_exception", "mal-formatted sort object"),
            (
                json!([{"roles": {"nested": {"path": "x"}}}]),
                "illegal_argument_exception",
                "nested sorting is not currently supported in this context",
            ),
        ];
        for (sort, error_type, reason) in table {
            let error = keys(sort.clone()).unwrap_err();
            assert_eq!(error.error_type, error_type, "{sort}");
            assert_eq!(error.reason, reason, "{sort}");
        }
    }

    #[test]
    fn missing_values_sort_last_in_both_directions() {
        let ascending =
            SortKey { target: SortTarget::Field(UserField::Roles), descending: false, missing: None, mode: None };
        let descending = SortKey { descending: true, ..ascending.clone() };
        let present = [SortValue::Text("a".into())];
        let absent = [SortValue::Missing];
        assert_eq!(compare_sort_values(&[ascending], &present, &absent), Ordering::Less);
        assert_eq!(compare_sort_values(&[descending], &present, &absent), Ordering::Less);
    }

    #[test]
    fn search_after_errors() {
        let username =
            SortKey { target: SortTarget::Field(UserField::Username), descending: false, missing: None, mode: None };
        let error = search_after_values(&[], &[json!("a")]).unwrap_err();
        assert_eq!(error.caused_by.as_ref().unwrap().reason, "Sort must contain at least one field.");
        let error = search_after_values(std::slice::from_ref(&username), &[json!("a"), json!("b")]).unwrap_err();
        assert_eq!(error.caused_by.as_ref().unwrap().reason, "search_after has 2 value(s) but sort has 1.");
        assert_eq!(search_after_values(&[username], &[json!(5)]).unwrap(), vec![SortValue::Text("5".into())]);
        assert_eq!(parse_search_after(&[]).unwrap_err().reason, "Values must contains at least one value.");
    }

    #[test]
    fn sort_values_go_before_profile_uid() {
        let user = json!({"username": "a", "enabled": true, "profile_uid": "u_1"});
        let rendered = with_sort_values(&user, Some(json!(["a"])));
        let keys: Vec<&String> = rendered.as_object().unwrap().keys().collect();
        assert_eq!(keys, vec!["username", "enabled", "_sort", "profile_uid"]);
    }
}
