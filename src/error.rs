//! Elasticsearch exceptions as profiled reports them.
//!
//! Every failure that reaches a client is an [`EsError`]: an Elasticsearch exception type
//! (`security_exception`, `parse_exception`, ...), a reason, the HTTP status, and the optional
//! metadata, cause and `WWW-Authenticate` values that Elasticsearch puts in its error envelope.
//! This module knows nothing of HTTP frameworks; `api::response` turns an `EsError` into a response.

use serde_json::{json, Map, Value};

/// The `WWW-Authenticate` challenge of the Basic scheme, as Elasticsearch sends it.
pub const BASIC_CHALLENGE: &str = "Basic realm=\"security\", charset=\"UTF-8\"";
/// The `WWW-Authenticate` challenge of the Bearer scheme (token service and JWT realms).
pub const BEARER_CHALLENGE: &str = "Bearer realm=\"security\"";
/// The `WWW-Authenticate` challenge of the API key scheme.
pub const API_KEY_CHALLENGE: &str = "ApiKey";

/// An Elasticsearch exception with its HTTP status.
#[derive(Debug, Clone, PartialEq)]
pub struct EsError {
    /// HTTP status code of the response.
    pub status: u16,
    /// Elasticsearch exception type, e.g. `illegal_argument_exception`.
    pub error_type: String,
    /// Human-readable reason, exactly as Elasticsearch words it.
    pub reason: String,
    /// Extra fields rendered beside `type` and `reason` (`index`, `shard`, `resource.id`, ...).
    pub metadata: Map<String, Value>,
    /// The nested cause, rendered as `caused_by`.
    pub caused_by: Option<Box<EsError>>,
    /// `WWW-Authenticate` values; rendered in `header` and sent as real response headers.
    pub www_authenticate: Vec<String>,
    /// Router-level errors use the flat form `{"error":"<reason>","status":N}`.
    pub flat: bool,
    /// The `Allow` header of a 405 answer.
    pub allow: Option<String>,
}

impl std::fmt::Display for EsError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{} [{}]: {}", self.status, self.error_type, self.reason)
    }
}

impl std::error::Error for EsError {}

impl EsError {
    /// Returns an exception of the given status, type and reason.
    pub fn new(status: u16, error_type: impl Into<String>, reason: impl Into<String>) -> Self {
        EsError {
            status,
            error_type: error_type.into(),
            reason: reason.into(),
            metadata: Map::new(),
            caused_by: None,
            www_authenticate: Vec::new(),
            flat: false,
            allow: None,
        }
    }

    /// 400 `illegal_argument_exception`.
    pub fn illegal_argument(reason: impl Into<String>) -> Self {
        Self::new(400, "illegal_argument_exception", reason)
    }

    /// 400 `parse_exception` (ElasticsearchParseException).
    pub fn parse(reason: impl Into<String>) -> Self {
        Self::new(400, "parse_exception", reason)
    }

    /// 400 `x_content_parse_exception`, raised by strict object parsers.
    pub fn x_content_parse(reason: impl Into<String>) -> Self {
        Self::new(400, "x_content_parse_exception", reason)
    }

    /// 400 `action_request_validation_exception` with ES's numbered message list:
    /// `Validation Failed: 1: first;2: second;`.
    pub fn validation<S: AsRef<str>>(messages: &[S]) -> Self {
        debug_assert!(!messages.is_empty());
        let mut reason = String::from("Validation Failed: ");
        for (index, message) in messages.iter().enumerate() {
            reason.push_str(&format!("{}: {};", index + 1, message.as_ref()));
        }
        Self::new(400, "action_request_validation_exception", reason)
    }

    /// 403 `security_exception` (authorization failures).
    pub fn forbidden(reason: impl Into<String>) -> Self {
        Self::new(403, "security_exception", reason)
    }

    /// 401 `security_exception` carrying the given `WWW-Authenticate` challenges.
    pub fn unauthenticated(reason: impl Into<String>, challenges: &[&str]) -> Self {
        let mut error = Self::new(401, "security_exception", reason);
        error.www_authenticate = challenges.iter().map(|value| value.to_string()).collect();
        error
    }

    /// 404 `resource_not_found_exception`.
    pub fn resource_not_found(reason: impl Into<String>) -> Self {
        Self::new(404, "resource_not_found_exception", reason)
    }

    /// 500 `exception` (a plain ElasticsearchException).
    pub fn internal(reason: impl Into<String>) -> Self {
        Self::new(500, "exception", reason)
    }

    /// 400 router error in the flat form: `no handler found for uri [..] and method [..]`.
    pub fn no_handler(uri: &str, method: &str) -> Self {
        let mut error = Self::new(
            400,
            "illegal_argument_exception",
            format!("no handler found for uri [{uri}] and method [{method}]"),
        );
        error.flat = true;
        error
    }

    /// 405 router error in the flat form, with the `Allow` header.
    pub fn method_not_allowed(uri: &str, method: &str, allowed: &[&str]) -> Self {
        // The message prints a Java set (`[GET, POST]`); the `Allow` header joins with plain commas.
        let mut error = Self::new(
            405,
            "method_not_allowed",
            format!("Incorrect HTTP method for uri [{uri}] and method [{method}], allowed: [{}]", allowed.join(", ")),
        );
        error.flat = true;
        error.allow = Some(allowed.join(","));
        error
    }

    /// Adds a metadata field rendered beside `type` and `reason`.
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Sets the nested cause, rendered as `caused_by`.
    pub fn with_cause(mut self, cause: EsError) -> Self {
        self.caused_by = Some(Box::new(cause));
        self
    }

    /// Renders the exception object itself: `type`, `reason`, metadata, `caused_by`, `header`.
    /// This is also the form used inside `errors.details` maps.
    pub fn to_detail_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("type".into(), Value::String(self.error_type.clone()));
        object.insert("reason".into(), Value::String(self.reason.clone()));
        for (key, value) in &self.metadata {
            object.insert(key.clone(), value.clone());
        }
        if let Some(cause) = &self.caused_by {
            object.insert("caused_by".into(), cause.to_detail_json());
        }
        // Elasticsearch renders a single-valued header as a string and several values as an array.
        match self.www_authenticate.as_slice() {
            [] => {}
            [single] => {
                object.insert("header".into(), json!({ "WWW-Authenticate": single }));
            }
            several => {
                object.insert("header".into(), json!({ "WWW-Authenticate": several }));
            }
        }
        Value::Object(object)
    }

    /// Renders the full response body: `{"error":{"root_cause":[..],..},"status":N}`,
    /// or the flat router form.
    pub fn to_body_json(&self) -> Value {
        if self.flat {
            return json!({ "error": self.reason, "status": self.status });
        }
        // Elasticsearch descends into causes only from its own exception types; a Java or parser exception
        // (x_content_parse_exception, illegal_argument_exception, ...) is its own root cause.
        // An x_content_parse_exception is unwrapped when its cause is another one or an Elasticsearch exception.
        let mut root_cause = self;
        while let Some(cause) = &root_cause.caused_by {
            let unwraps = is_elasticsearch_exception(&root_cause.error_type)
                || (root_cause.error_type == "x_content_parse_exception"
                    && (cause.error_type == "x_content_parse_exception"
                        || is_elasticsearch_exception(&cause.error_type)));
            if !unwraps {
                break;
            }
            root_cause = cause;
        }
        let mut root = root_cause.to_detail_json();
        if let Value::Object(root_object) = &mut root {
            root_object.remove("caused_by");
        }
        let mut error = Map::new();
        error.insert("root_cause".into(), Value::Array(vec![root]));
        if let Value::Object(detail) = self.to_detail_json() {
            error.extend(detail);
        }
        json!({ "error": Value::Object(error), "status": self.status })
    }
}

/// Tells whether an exception type is an `ElasticsearchException` subclass (whose causes are unwrapped
/// when Elasticsearch looks for root causes), as opposed to a JDK or parser exception.
fn is_elasticsearch_exception(error_type: &str) -> bool {
    matches!(
        error_type,
        "exception"
            | "security_exception"
            | "parse_exception"
            | "parsing_exception"
            | "status_exception"
            | "resource_not_found_exception"
            | "resource_already_exists_exception"
            | "version_conflict_engine_exception"
            | "document_missing_exception"
            | "search_phase_execution_exception"
            | "unavailable_shards_exception"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_message_is_numbered_and_terminated() {
        let error = EsError::validation(&["[grant_type] is required", "second"]);
        assert_eq!(error.reason, "Validation Failed: 1: [grant_type] is required;2: second;");
        assert_eq!(error.error_type, "action_request_validation_exception");
        assert_eq!(error.status, 400);
    }

    #[test]
    fn body_has_root_cause_and_header() {
        let error = EsError::unauthenticated("unable to authenticate user [joe]", &[BASIC_CHALLENGE]);
        let body = error.to_body_json();
        assert_eq!(body["status"], 401);
        assert_eq!(body["error"]["root_cause"][0]["type"], "security_exception");
        assert_eq!(body["error"]["header"]["WWW-Authenticate"], BASIC_CHALLENGE);
        assert_eq!(body["error"]["root_cause"][0]["header"]["WWW-Authenticate"], BASIC_CHALLENGE);
        let several = EsError::unauthenticated("no", &[BASIC_CHALLENGE, BEARER_CHALLENGE]).to_body_json();
        assert_eq!(several["error"]["header"]["WWW-Authenticate"][1], BEARER_CHALLENGE);
    }

    #[test]
    fn root_cause_unwraps_only_elasticsearch_exceptions() {
        let error = EsError::illegal_argument("Failed to parse long parameter [if_seq_no] with value [abc]")
            .with_cause(EsError::new(400, "number_format_exception", "For input string: \"abc\""));
        let body = error.to_body_json();
        assert_eq!(body["error"]["root_cause"][0]["type"], "illegal_argument_exception");
        assert_eq!(body["error"]["caused_by"]["type"], "number_format_exception");
        let wrapped = EsError::parse("failed to parse role [r]").with_cause(EsError::illegal_argument("inner"));
        assert_eq!(wrapped.to_body_json()["error"]["root_cause"][0]["type"], "illegal_argument_exception");
    }

    #[test]
    fn flat_errors_have_string_error() {
        let error = EsError::no_handler("/foo", "GET");
        assert_eq!(
            error.to_body_json(),
            json!({"error": "no handler found for uri [/foo] and method [GET]", "status": 400})
        );
    }
}
