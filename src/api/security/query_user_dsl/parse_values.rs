//! Scalar readers with the coercions of Elasticsearch's XContent parser (`floatValue`, `booleanValue`, ...).

use serde_json::Value;

use super::errors::{number_format, token_name, x_content};
use crate::error::EsError;

/// Returns Jackson's token name, used in its "not numeric" / "not of boolean type" messages.
fn jackson_token_name(value: &Value) -> &'static str {
    match value {
        Value::Bool(true) => "VALUE_TRUE",
        Value::Bool(false) => "VALUE_FALSE",
        Value::Number(number) if number.is_f64() => "VALUE_NUMBER_FLOAT",
        Value::Number(_) => "VALUE_NUMBER_INT",
        other => token_name(other),
    }
}

/// Reads a float the way `parser.floatValue()` does: numbers, or strings Java's `Float.parseFloat` accepts.
pub(crate) fn float_value(value: &Value) -> Result<f32, EsError> {
    match value {
        Value::Number(number) => Ok(number.as_f64().unwrap_or(0.0) as f32),
        Value::String(text) => text.trim().parse::<f32>().map_err(|_| number_format(text)),
        other => Err(x_content(format!(
            "Current token ({}) not numeric, can not use numeric value accessors",
            jackson_token_name(other)
        ))),
    }
}

/// Reads an int the way `parser.intValue()` does (coercing floats and numeric strings).
pub(crate) fn int_value(value: &Value) -> Result<i32, EsError> {
    let as_double = match value {
        Value::Number(number) => {
            if let Some(integer) = number.as_i64() {
                return i32::try_from(integer).map_err(|_| {
                    x_content(format!("Numeric value ({integer}) out of range of int (-2147483648 - 2147483647)"))
                });
            }
            number.as_f64().unwrap_or(f64::MAX)
        }
        Value::String(text) => text.trim().parse::<f64>().map_err(|_| number_format(text))?,
        other => {
            return Err(x_content(format!(
                "Current token ({}) not numeric, can not use numeric value accessors",
                jackson_token_name(other)
            )))
        }
    };
    if as_double < f64::from(i32::MIN) || as_double > f64::from(i32::MAX) {
        return Err(EsError::illegal_argument(format!("Value [{}] is out of range for an integer", text_of(value))));
    }
    Ok(as_double as i32)
}

/// Reads a boolean the way `parser.booleanValue()` does: JSON booleans or the strings `true`/`false`.
pub(crate) fn bool_value(value: &Value) -> Result<bool, EsError> {
    match value {
        Value::Bool(flag) => Ok(*flag),
        Value::String(text) if text == "true" => Ok(true),
        Value::String(text) if text == "false" => Ok(false),
        Value::String(text) => Err(EsError::illegal_argument(format!(
            "Failed to parse value [{text}] as only [true] or [false] are allowed."
        ))),
        other => Err(x_content(format!("Current token ({}) not of boolean type", jackson_token_name(other)))),
    }
}

/// Returns the text of a scalar as `parser.text()` does (numbers and booleans in their JSON form).
pub(crate) fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Reads text where Elasticsearch accepts any scalar (`parser.text()`); objects and arrays are refused.
pub(crate) fn scalar_text(value: &Value) -> Result<String, EsError> {
    match value {
        Value::Object(_) | Value::Array(_) | Value::Null => {
            Err(EsError::illegal_argument(format!("Expected text but found {}", token_name(value))))
        }
        other => Ok(text_of(other)),
    }
}

/// Returns whether a value is an XContent "value" token (string, number or boolean; not null).
pub(crate) fn is_value_token(value: &Value) -> bool {
    matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn float_coercions() {
        assert_eq!(float_value(&json!(2)).unwrap(), 2.0);
        assert_eq!(float_value(&json!("1.5")).unwrap(), 1.5);
        assert_eq!(float_value(&json!("x")).unwrap_err().reason, "For input string: \"x\"");
        assert_eq!(
            float_value(&json!(true)).unwrap_err().reason,
            "[1:2] Current token (VALUE_TRUE) not numeric, can not use numeric value accessors"
        );
    }

    #[test]
    fn int_coercions() {
        assert_eq!(int_value(&json!(7)).unwrap(), 7);
        assert_eq!(int_value(&json!(7.9)).unwrap(), 7);
        assert_eq!(int_value(&json!("12")).unwrap(), 12);
        assert_eq!(int_value(&json!("abc")).unwrap_err().error_type, "number_format_exception");
        assert!(int_value(&json!(3_000_000_000_i64)).is_err());
    }

    #[test]
    fn bool_coercions() {
        assert!(bool_value(&json!("true")).unwrap());
        assert!(!bool_value(&json!(false)).unwrap());
        assert_eq!(
            bool_value(&json!("yes")).unwrap_err().reason,
            "Failed to parse value [yes] as only [true] or [false] are allowed."
        );
    }
}
