//! Suggest user profiles (spec §6): request parsing, validation and execution.

use serde_json::Value;

use crate::app::AppState;
use crate::domain::profile::{parse_data_keys, token_name};
use crate::domain::profile_render::DataFilter;
use crate::error::EsError;
use crate::search::SuggestQuery;

const PARSER: &str = "suggest_profile_request_payload";
/// Elasticsearch's default `index.max_result_window`.
const MAX_RESULT_WINDOW: i64 = 10_000;

/// A parsed suggest request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SuggestRequest {
    pub(crate) name: String,
    pub(crate) size: i64,
    pub(crate) data_keys: Vec<String>,
    pub(crate) hint: Option<Hint>,
}

/// The `hint` object: uids and one label key with its values.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Hint {
    pub(crate) uids: Option<Vec<String>>,
    pub(crate) labels: Option<Vec<(String, Vec<String>)>>,
}

fn unsupported_type(field: &str, value: &Value) -> EsError {
    EsError::x_content_parse(format!("[1:2] [{PARSER}] {field} doesn't support values of type: {}", token_name(value)))
}

fn parse_hint(value: &Value) -> Result<Hint, EsError> {
    let Value::Object(object) = value else {
        return Err(unsupported_type("hint", value));
    };
    let mut hint = Hint::default();
    for (field, field_value) in object {
        match field.as_str() {
            "uids" => {
                let Value::Array(items) = field_value else {
                    return Err(unsupported_type("uids", field_value));
                };
                let uids = items
                    .iter()
                    .map(|item| item.as_str().map(str::to_string).ok_or_else(|| unsupported_type("uids", item)))
                    .collect::<Result<Vec<_>, _>>()?;
                hint.uids = Some(uids);
            }
            "labels" => {
                let Value::Object(labels) = field_value else {
                    return Err(unsupported_type("labels", field_value));
                };
                let mut parsed = Vec::new();
                for (key, label_value) in labels {
                    let values = match label_value {
                        Value::String(text) => vec![text.clone()],
                        Value::Array(items) => items
                            .iter()
                            .map(|item| {
                                item.as_str().map(str::to_string).ok_or_else(|| {
                                    EsError::parse("[labels] hint supports either string value or list of strings")
                                })
                            })
                            .collect::<Result<Vec<_>, _>>()?,
                        _ => {
                            return Err(EsError::parse(
                                "[labels] hint supports either string or list of strings as its value",
                            ))
                        }
                    };
                    parsed.push((key.clone(), values));
                }
                hint.labels = Some(parsed);
            }
            other => return Err(EsError::x_content_parse(format!("[1:2] [hint] unknown field [{other}]"))),
        }
    }
    Ok(hint)
}

impl SuggestRequest {
    /// Returns the search the request asks for (the request must have been validated).
    pub(crate) fn to_query(&self) -> SuggestQuery {
        let hint = self.hint.clone().unwrap_or_default();
        SuggestQuery {
            name: self.name.clone(),
            size: self.size.max(0) as usize,
            hint_uids: hint.uids.unwrap_or_default(),
            hint_label: hint.labels.and_then(|mut labels| labels.pop()),
        }
    }

    /// Parses the optional body and the `data` query parameter.
    pub(crate) fn parse(body: Option<&Value>, data_param: Option<&str>) -> Result<SuggestRequest, EsError> {
        let mut request =
            SuggestRequest { name: String::new(), size: 10, data_keys: parse_data_keys(data_param), hint: None };
        let Some(body) = body else {
            return Ok(request);
        };
        let Value::Object(object) = body else {
            return Err(EsError::x_content_parse(format!(
                "[1:1] [{PARSER}] Expected START_OBJECT but was: {}",
                token_name(body)
            )));
        };
        for (field, value) in object {
            match field.as_str() {
                "name" => {
                    request.name = match value {
                        Value::String(text) => text.clone(),
                        Value::Number(number) => number.to_string(),
                        Value::Bool(flag) => flag.to_string(),
                        other => return Err(unsupported_type("name", other)),
                    }
                }
                "size" => {
                    request.size = match value {
                        Value::Number(number) => number.as_i64().ok_or_else(|| unsupported_type("size", value))?,
                        Value::String(text) => text.trim().parse().map_err(|_| unsupported_type("size", value))?,
                        other => return Err(unsupported_type("size", other)),
                    }
                }
                "data" => {
                    let Value::String(text) = value else {
                        return Err(unsupported_type("data", value));
                    };
                    if data_param.is_some() {
                        return Err(EsError::illegal_argument(
                            "The [data] parameter must be specified in either request body or as query parameter, but not both",
                        ));
                    }
                    request.data_keys = parse_data_keys(Some(text));
                }
                "hint" => request.hint = Some(parse_hint(value)?),
                other => return Err(EsError::x_content_parse(format!("[1:2] [{PARSER}] unknown field [{other}]"))),
            }
        }
        Ok(request)
    }

    /// Elasticsearch's request validation (spec §6.1), accumulated.
    pub(crate) fn validate(&self) -> Result<(), EsError> {
        let mut problems = Vec::new();
        if self.size < 0 {
            problems.push(format!("[size] parameter cannot be negative but was [{}]", self.size));
        }
        if let Some(hint) = &self.hint {
            if hint.uids.is_none() && hint.labels.is_none() {
                problems.push("[hint] parameter cannot be empty".to_string());
            }
            if hint.uids.as_ref().is_some_and(Vec::is_empty) {
                problems.push("[uids] hint cannot be empty".to_string());
            }
            if let Some(labels) = &hint.labels {
                if labels.len() != 1 {
                    let keys: Vec<&str> = labels.iter().map(|(key, _)| key.as_str()).collect();
                    problems.push(format!("[labels] hint supports a single key, got [{}]", keys.join(",")));
                } else {
                    let (key, values) = &labels[0];
                    if key.contains('*') {
                        problems.push("[labels] hint key cannot contain wildcard".to_string());
                    }
                    if values.is_empty() {
                        problems.push("[labels] hint value cannot be empty".to_string());
                    }
                }
            }
        }
        if !problems.is_empty() {
            return Err(EsError::validation(&problems));
        }
        if self.size > MAX_RESULT_WINDOW {
            return Err(EsError::illegal_argument(format!(
                "Result window is too large, from + size must be less than or equal to: [{MAX_RESULT_WINDOW}] but was [{}]. \
                 See the scroll api for a more efficient way to request large data sets. This limit can be set by changing \
                 the [index.max_result_window] index level setting.",
                self.size
            )));
        }
        Ok(())
    }
}

/// Runs the suggestion and renders the response (`took`, `total`, `profiles`).
pub(crate) async fn suggest(state: &AppState, request: SuggestRequest) -> Result<Vec<u8>, EsError> {
    let started = std::time::Instant::now();
    if !crate::service::profiles::profile_index_exists(state).await? {
        return Ok(br#"{"took":0,"total":{"value":0,"relation":"eq"},"profiles":[]}"#.to_vec());
    }
    let result = state.profile_search.suggest(request.to_query()).await?;
    let loaded = crate::service::profiles::load_profiles(state, &result.uids).await?;
    let filter = DataFilter::new(&request.data_keys);
    let mut profiles = Vec::with_capacity(loaded.len() * 512);
    let mut first = true;
    for cached in loaded.into_iter().flatten() {
        // The index may lag a concurrent disable by a moment; never return a disabled profile.
        if cached.enabled {
            if !first {
                profiles.push(b',');
            }
            first = false;
            cached.write_suggest_json(&mut profiles, &filter);
        }
    }
    let relation = if result.total_is_lower_bound { "gte" } else { "eq" };
    let head = format!(
        r#"{{"took":{},"total":{{"value":{},"relation":"{relation}"}},"profiles":["#,
        started.elapsed().as_millis() as u64,
        result.total
    );
    let mut body = Vec::with_capacity(head.len() + profiles.len() + 2);
    body.extend_from_slice(head.as_bytes());
    body.extend_from_slice(&profiles);
    body.extend_from_slice(b"]}");
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn validation_reason(body: Value) -> String {
        let request = SuggestRequest::parse(Some(&body), None).expect("parses");
        request.validate().expect_err("invalid").reason
    }

    #[test]
    fn validation_messages_match_elasticsearch() {
        assert_eq!(
            validation_reason(json!({"size": -1})),
            "Validation Failed: 1: [size] parameter cannot be negative but was [-1];"
        );
        assert_eq!(validation_reason(json!({"hint": {}})), "Validation Failed: 1: [hint] parameter cannot be empty;");
        assert_eq!(
            validation_reason(json!({"hint": {"uids": []}})),
            "Validation Failed: 1: [uids] hint cannot be empty;"
        );
        assert_eq!(
            validation_reason(json!({"hint": {"labels": {"a": "1", "b": "2"}}})),
            "Validation Failed: 1: [labels] hint supports a single key, got [a,b];"
        );
        assert_eq!(
            validation_reason(json!({"hint": {"labels": {}}})),
            "Validation Failed: 1: [labels] hint supports a single key, got [];"
        );
        assert_eq!(
            validation_reason(json!({"hint": {"labels": {"a*": []}}})),
            "Validation Failed: 1: [labels] hint key cannot contain wildcard;2: [labels] hint value cannot be empty;"
        );
    }

    #[test]
    fn parse_errors_match_elasticsearch() {
        let error = SuggestRequest::parse(Some(&json!({"data": "a"})), Some("b")).expect_err("twice");
        assert_eq!(
            error.reason,
            "The [data] parameter must be specified in either request body or as query parameter, but not both"
        );
        let error = SuggestRequest::parse(Some(&json!({"hint": {"labels": {"a": [1]}}})), None).expect_err("bad list");
        assert_eq!(
            (error.error_type.as_str(), error.reason.as_str()),
            ("parse_exception", "[labels] hint supports either string value or list of strings")
        );
        let error = SuggestRequest::parse(Some(&json!({"hint": {"labels": {"a": 1}}})), None).expect_err("bad value");
        assert_eq!(error.reason, "[labels] hint supports either string or list of strings as its value");
        let error = SuggestRequest::parse(Some(&json!({"data": ["a"]})), None).expect_err("array data");
        assert_eq!(error.error_type, "x_content_parse_exception");
        let request = SuggestRequest::parse(None, Some("kibana.*")).expect("no body");
        assert_eq!((request.size, request.data_keys.clone()), (10, vec!["kibana.*".to_string()]));
    }
}
