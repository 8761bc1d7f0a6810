//! The token API: `POST /_security/oauth2/token` (get token) and `DELETE /_security/oauth2/token`
//! (invalidate token), with Elasticsearch's parsers (`token_request`, `invalidate_token`), validation
//! messages and its OAuth2-style error bodies (RFC 6749 §5.2) for token request failures.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use serde_json::{json, Map, Value};

use crate::api::request::EsRequest;
use crate::api::response::EsJson;
use crate::app::AppState;
use crate::authn::token::{kerberos_grant_failure, IssuedTokens, KerberosFailure, RefreshError};
use crate::authn::PasswordCredentials;
use crate::domain::profile::token_name;
use crate::error::EsError;

const CREATE_TOKEN: &str = "cluster:admin/xpack/security/token/create";
const REFRESH_TOKEN: &str = "cluster:admin/xpack/security/token/refresh";
const INVALIDATE_TOKEN: &str = "cluster:admin/xpack/security/token/invalidate";

/// Grant types in the order Elasticsearch lists them (`CreateTokenRequest.SUPPORTED_GRANT_TYPES`).
const SUPPORTED_GRANT_TYPES: &str = "password, _kerberos, refresh_token, client_credentials";
const CREATE_FIELDS: &[&str] = &["grant_type", "username", "password", "kerberos_ticket", "scope", "refresh_token"];
const INVALIDATE_FIELDS: &[&str] = &["token", "refresh_token", "realm_name", "username"];

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/_security/oauth2/token", post(create_token).delete(invalidate_token))
}

/// Issues or refreshes a token (`POST /_security/oauth2/token`).
async fn create_token(State(state): State<AppState>, request: EsRequest) -> Result<EsJson, EsError> {
    let body = request.json_body()?;
    let token_request = CreateTokenRequest::parse(&body)?;
    request.check_params(&[])?;
    let problems = token_request.validate();
    if !problems.is_empty() {
        return Ok(validation_failure(&problems));
    }
    let grant_type = token_request.grant_type.as_deref().unwrap_or_default();
    let action = if grant_type == "refresh_token" { REFRESH_TOKEN } else { CREATE_TOKEN };
    state.roles.authorize(&request.auth, action).await?;
    let issued = match grant_type {
        "password" => {
            let username = token_request.username.clone().unwrap_or_default();
            let credentials = PasswordCredentials {
                username: username.clone(),
                password: token_request.password.clone().unwrap_or_default(),
            };
            let Some(authentication) = state.realms.authenticate_password(&credentials).await? else {
                return Err(EsError::unauthenticated(
                    format!("unable to authenticate user [{username}] for action [{CREATE_TOKEN}]"),
                    state.realms.challenges(),
                ));
            };
            state.tokens.create_tokens(&authentication, &request.auth, true).await?
        }
        "client_credentials" => state.tokens.create_tokens(&request.auth, &request.auth, false).await?,
        "refresh_token" => {
            let refresh_token = token_request.refresh_token.as_deref().unwrap_or_default();
            match state.tokens.refresh(refresh_token, &request.auth).await {
                Ok(issued) => issued,
                Err(RefreshError::InvalidGrant(description)) => return Ok(oauth2_error("invalid_grant", description)),
                Err(RefreshError::Failed(error)) => return Err(error),
            }
        }
        _ => {
            let ticket = token_request.kerberos_ticket.as_deref().unwrap_or_default();
            return match kerberos_grant_failure(ticket, CREATE_TOKEN, state.realms.challenges()) {
                KerberosFailure::Undecodable { error, cause } => Ok(error_with_foreign_cause(error, cause)),
                KerberosFailure::Unauthenticated(error) => Err(error),
            };
        }
    };
    let expires_in = state.tokens.expires_in_seconds();
    Ok(EsJson::ok(token_response(&issued, expires_in, token_request.scope.is_some())))
}

/// Invalidates tokens (`DELETE /_security/oauth2/token`): one access or refresh token (404 when unknown),
/// or every active token of a realm and/or user.
async fn invalidate_token(State(state): State<AppState>, request: EsRequest) -> Result<EsJson, EsError> {
    let body = request.json_body()?;
    let fields = InvalidateFields::parse(&body)?;
    if has_length(&fields.token) && has_length(&fields.refresh_token) {
        // Thrown while building the request object, so wrapped as Elasticsearch's object parser does.
        return Ok(error_with_foreign_cause(
            EsError::x_content_parse("Failed to build [invalidate_token] after last required field arrived"),
            EsError::illegal_argument("only one of [token, refresh_token] may be sent per request"),
        ));
    }
    request.check_params(&[])?;
    let invalidate_request = fields.into_request();
    let problems = invalidate_request.validate();
    if !problems.is_empty() {
        return Err(EsError::validation(&problems));
    }
    state.roles.authorize(&request.auth, INVALIDATE_TOKEN).await?;
    let result = match invalidate_request.target() {
        InvalidateTarget::RealmAndUser => {
            let realm_name = invalidate_request.realm_name.as_deref();
            state.tokens.invalidate_active_tokens(realm_name, invalidate_request.username.as_deref()).await?
        }
        InvalidateTarget::AccessToken(token) => state.tokens.invalidate_access_token(token).await?,
        InvalidateTarget::RefreshToken(token) => state.tokens.invalidate_refresh_token(token).await?,
    };
    let status = StatusCode::from_u16(result.status()).unwrap_or(StatusCode::OK);
    Ok(EsJson(status, result.to_json()))
}

/// Renders the token response (`CreateTokenResponse`), keys in Elasticsearch's order.
fn token_response(issued: &IssuedTokens, expires_in: u64, scope_requested: bool) -> Value {
    let mut body = Map::new();
    body.insert("access_token".into(), Value::String(issued.access_token.clone()));
    body.insert("type".into(), Value::String("Bearer".into()));
    body.insert("expires_in".into(), json!(expires_in));
    if let Some(refresh_token) = &issued.refresh_token {
        body.insert("refresh_token".into(), Value::String(refresh_token.clone()));
    }
    // Elasticsearch supports one scope and names it whenever the request asked for any.
    if scope_requested {
        body.insert("scope".into(), Value::String("full".into()));
    }
    body.insert("authentication".into(), issued.authentication.to_authenticate_json());
    Value::Object(body)
}

/// `{"error": <code>, "error_description": <text>}` with 400, as `RestGetTokenAction` sends token errors.
fn oauth2_error(code: &str, description: &str) -> EsJson {
    EsJson(StatusCode::BAD_REQUEST, json!({ "error": code, "error_description": description }))
}

/// A validation failure of a token request: `unsupported_grant_type` when a message names the grant type,
/// else `invalid_request`.
fn validation_failure(problems: &[String]) -> EsJson {
    let code = if problems.iter().any(|problem| problem.contains("grant_type")) {
        "unsupported_grant_type"
    } else {
        "invalid_request"
    };
    oauth2_error(code, &EsError::validation(problems).reason)
}

/// Renders `error` with `cause` as `caused_by` but `error` itself as the root cause: Elasticsearch stops
/// looking for the root cause at exceptions that are not its own (parser and JDK exceptions).
fn error_with_foreign_cause(error: EsError, cause: EsError) -> EsJson {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let root_cause = error.to_detail_json();
    let mut envelope = Map::new();
    envelope.insert("root_cause".into(), Value::Array(vec![root_cause]));
    if let Value::Object(detail) = error.with_cause(cause).to_detail_json() {
        envelope.extend(detail);
    }
    EsJson(status, json!({ "error": Value::Object(envelope), "status": status.as_u16() }))
}

/// Reads a string field of an `ObjectParser`: any other JSON type (null included) is rejected.
fn string_field(parser: &str, field: &str, value: &Value) -> Result<String, EsError> {
    match value {
        Value::String(text) => Ok(text.clone()),
        other => Err(EsError::x_content_parse(format!(
            "[1:2] [{parser}] {field} doesn't support values of type: {}",
            token_name(other)
        ))),
    }
}

fn object_fields<'a>(parser: &str, body: &'a Value) -> Result<&'a Map<String, Value>, EsError> {
    body.as_object().ok_or_else(|| {
        EsError::x_content_parse(format!("[1:1] [{parser}] Expected START_OBJECT but was: {}", token_name(body)))
    })
}

/// `[parser] unknown field [name]`, with the suggestions of Elasticsearch's object parser.
fn unknown_field(parser: &str, field: &str, candidates: &[&str]) -> EsError {
    let suggestion = crate::domain::xcontent::did_you_mean(field, candidates);
    EsError::x_content_parse(format!("[1:2] [{parser}] unknown field [{field}]{suggestion}"))
}

/// `Strings.hasLength`.
fn has_length(value: &Option<String>) -> bool {
    value.as_deref().is_some_and(|text| !text.is_empty())
}

/// `Strings.hasText`.
fn has_text(value: &Option<String>) -> bool {
    value.as_deref().is_some_and(|text| !text.trim().is_empty())
}

/// Named fields of a request, for the unsupported/required checks of a grant type.
type FieldChecks<'a> = &'a [(&'static str, &'a Option<String>)];

/// The body of a token request (`CreateTokenRequest`); secrets never appear in its `Debug` output.
#[derive(Default)]
struct CreateTokenRequest {
    grant_type: Option<String>,
    username: Option<String>,
    password: Option<String>,
    kerberos_ticket: Option<String>,
    scope: Option<String>,
    refresh_token: Option<String>,
}

impl std::fmt::Debug for CreateTokenRequest {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("CreateTokenRequest")
            .field("grant_type", &self.grant_type)
            .field("username", &self.username)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl CreateTokenRequest {
    /// Parses the body with Elasticsearch's `token_request` parser.
    fn parse(body: &Value) -> Result<CreateTokenRequest, EsError> {
        const PARSER: &str = "token_request";
        let mut request = CreateTokenRequest::default();
        for (field, value) in object_fields(PARSER, body)? {
            let slot = match field.as_str() {
                "grant_type" => &mut request.grant_type,
                "username" => &mut request.username,
                "password" => &mut request.password,
                "kerberos_ticket" => &mut request.kerberos_ticket,
                "scope" => &mut request.scope,
                "refresh_token" => &mut request.refresh_token,
                other => return Err(unknown_field(PARSER, other, CREATE_FIELDS)),
            };
            *slot = Some(string_field(PARSER, field, value)?);
        }
        Ok(request)
    }

    /// Returns the messages of `CreateTokenRequest.validate()`, in its order.
    fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let grant_type = self.grant_type.as_deref().unwrap_or_default();
        let (unsupported, required): (FieldChecks<'_>, FieldChecks<'_>) = match grant_type {
            "password" => (
                &[("kerberos_ticket", &self.kerberos_ticket), ("refresh_token", &self.refresh_token)],
                &[("username", &self.username), ("password", &self.password)],
            ),
            "_kerberos" => (
                &[("username", &self.username), ("password", &self.password), ("refresh_token", &self.refresh_token)],
                &[("kerberos_ticket", &self.kerberos_ticket)],
            ),
            "refresh_token" => (
                &[
                    ("username", &self.username),
                    ("password", &self.password),
                    ("kerberos_ticket", &self.kerberos_ticket),
                ],
                &[("refresh_token", &self.refresh_token)],
            ),
            "client_credentials" => (
                &[
                    ("username", &self.username),
                    ("password", &self.password),
                    ("kerberos_ticket", &self.kerberos_ticket),
                    ("refresh_token", &self.refresh_token),
                ],
                &[],
            ),
            _ => {
                problems.push(format!("grant_type only supports the values: [{SUPPORTED_GRANT_TYPES}]"));
                return problems;
            }
        };
        for (field, value) in unsupported {
            if value.is_some() {
                problems.push(format!("{field} is not supported with the {grant_type} grant_type"));
            }
        }
        for (field, value) in required {
            if !has_length(value) {
                problems.push(format!("{field} is missing"));
            }
        }
        problems
    }
}

/// The raw fields of an invalidate request (`invalidate_token` parser).
#[derive(Default)]
struct InvalidateFields {
    token: Option<String>,
    refresh_token: Option<String>,
    realm_name: Option<String>,
    username: Option<String>,
}

impl std::fmt::Debug for InvalidateFields {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("InvalidateFields")
            .field("realm_name", &self.realm_name)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl InvalidateFields {
    fn parse(body: &Value) -> Result<InvalidateFields, EsError> {
        const PARSER: &str = "invalidate_token";
        let mut fields = InvalidateFields::default();
        for (field, value) in object_fields(PARSER, body)? {
            let slot = match field.as_str() {
                "token" => &mut fields.token,
                "refresh_token" => &mut fields.refresh_token,
                "realm_name" => &mut fields.realm_name,
                "username" => &mut fields.username,
                other => return Err(unknown_field(PARSER, other, INVALIDATE_FIELDS)),
            };
            *slot = Some(string_field(PARSER, field, value)?);
        }
        Ok(fields)
    }

    /// Builds the request as `RestInvalidateTokenAction` does: an empty token counts as absent.
    fn into_request(self) -> InvalidateTokenRequest {
        let (token_string, token_type) = if has_length(&self.token) {
            (self.token, Some(TokenType::Access))
        } else if has_length(&self.refresh_token) {
            (self.refresh_token, Some(TokenType::Refresh))
        } else {
            (None, None)
        };
        InvalidateTokenRequest { token_string, token_type, realm_name: self.realm_name, username: self.username }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenType {
    Access,
    Refresh,
}

/// `InvalidateTokenRequest`; the token never appears in its `Debug` output.
struct InvalidateTokenRequest {
    token_string: Option<String>,
    token_type: Option<TokenType>,
    realm_name: Option<String>,
    username: Option<String>,
}

impl std::fmt::Debug for InvalidateTokenRequest {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("InvalidateTokenRequest")
            .field("token_type", &self.token_type)
            .field("realm_name", &self.realm_name)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

enum InvalidateTarget<'a> {
    AccessToken(&'a str),
    RefreshToken(&'a str),
    RealmAndUser,
}

impl InvalidateTokenRequest {
    /// Returns the messages of `InvalidateTokenRequest.validate()`, in its order.
    fn validate(&self) -> Vec<&'static str> {
        let mut problems = Vec::new();
        if has_text(&self.realm_name) || has_text(&self.username) {
            if has_text(&self.token_string) {
                problems.push("token string must not be provided when realm name or username is specified");
            }
            if self.token_type.is_some() {
                problems.push("token type must not be provided when realm name or username is specified");
            }
        } else if !has_length(&self.token_string) {
            problems.push("token string must be provided when not specifying a realm name or a username");
        } else if self.token_type.is_none() {
            problems.push("token type must be provided when a token string is specified");
        }
        problems
    }

    /// What `TransportInvalidateTokenAction` invalidates (for a validated request).
    fn target(&self) -> InvalidateTarget<'_> {
        if has_text(&self.realm_name) || has_text(&self.username) {
            return InvalidateTarget::RealmAndUser;
        }
        let token = self.token_string.as_deref().unwrap_or_default();
        match self.token_type {
            Some(TokenType::Refresh) => InvalidateTarget::RefreshToken(token),
            _ => InvalidateTarget::AccessToken(token),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create_problems(body: Value) -> Vec<String> {
        CreateTokenRequest::parse(&body).expect("parses").validate()
    }

    #[test]
    fn token_request_validation_matches_elasticsearch() {
        assert!(create_problems(json!({"grant_type": "password", "username": "u", "password": "p", "scope": "x"}))
            .is_empty());
        assert!(create_problems(json!({"grant_type": "client_credentials"})).is_empty());
        assert_eq!(create_problems(json!({"grant_type": "password"})), ["username is missing", "password is missing"]);
        assert_eq!(
            create_problems(json!({"grant_type": "password", "username": "", "password": "p", "refresh_token": ""})),
            ["refresh_token is not supported with the password grant_type", "username is missing"]
        );
        assert_eq!(
            create_problems(json!({"grant_type": "refresh_token", "username": "u"})),
            ["username is not supported with the refresh_token grant_type", "refresh_token is missing"]
        );
        assert_eq!(
            create_problems(json!({"grant_type": "client_credentials", "password": "p", "refresh_token": "r"})),
            [
                "password is not supported with the client_credentials grant_type",
                "refresh_token is not supported with the client_credentials grant_type"
            ]
        );
        assert_eq!(create_problems(json!({"grant_type": "_kerberos"})), ["kerberos_ticket is missing"]);
        let unsupported =
            ["grant_type only supports the values: [password, _kerberos, refresh_token, client_credentials]"];
        assert_eq!(create_problems(json!({"grant_type": "authorization_code"})), unsupported);
        assert_eq!(create_problems(json!({})), unsupported);
    }

    #[test]
    fn token_request_failures_use_oauth2_error_codes() {
        let EsJson(status, body) =
            validation_failure(&create_problems(json!({"grant_type": "password", "password": "p"})));
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!({"error": "invalid_request", "error_description": "Validation Failed: 1: username is missing;"})
        );
        let EsJson(_, body) = validation_failure(&create_problems(json!({"grant_type": "foo"})));
        assert_eq!(body["error"], "unsupported_grant_type");
        // Any message naming the grant type makes it an unsupported grant type, as in Elasticsearch.
        let EsJson(_, body) = validation_failure(&create_problems(
            json!({"grant_type": "password", "username": "u", "password": "p", "refresh_token": "r"}),
        ));
        assert_eq!(body["error"], "unsupported_grant_type");
    }

    #[test]
    fn parsers_reject_unknown_fields_and_wrong_types() {
        let error = CreateTokenRequest::parse(&json!({"grant_type": "password", "usernme": "u"})).expect_err("unknown");
        assert_eq!(error.reason, "[1:2] [token_request] unknown field [usernme] did you mean [username]?");
        let error = CreateTokenRequest::parse(&json!({"grant_type": 1})).expect_err("number");
        assert_eq!(error.reason, "[1:2] [token_request] grant_type doesn't support values of type: VALUE_NUMBER");
        let error = CreateTokenRequest::parse(&json!({"password": null})).expect_err("null");
        assert_eq!(error.reason, "[1:2] [token_request] password doesn't support values of type: VALUE_NULL");
        let error = CreateTokenRequest::parse(&json!([])).expect_err("array");
        assert_eq!(error.reason, "[1:1] [token_request] Expected START_OBJECT but was: START_ARRAY");
        let error = InvalidateFields::parse(&json!({"tokens": "x"})).expect_err("unknown");
        assert_eq!(error.reason, "[1:2] [invalidate_token] unknown field [tokens] did you mean [token]?");
        assert_eq!(error.error_type, "x_content_parse_exception");
    }

    fn invalidate_problems(body: Value) -> Vec<&'static str> {
        InvalidateFields::parse(&body).expect("parses").into_request().validate()
    }

    #[test]
    fn invalidate_request_validation_matches_elasticsearch() {
        assert!(invalidate_problems(json!({"token": "t"})).is_empty());
        assert!(invalidate_problems(json!({"refresh_token": "t"})).is_empty());
        assert!(invalidate_problems(json!({"realm_name": "r", "username": "u"})).is_empty());
        assert_eq!(
            invalidate_problems(json!({})),
            ["token string must be provided when not specifying a realm name or a username"]
        );
        assert_eq!(
            invalidate_problems(json!({"token": "", "realm_name": " "})),
            ["token string must be provided when not specifying a realm name or a username"]
        );
        assert_eq!(
            invalidate_problems(json!({"token": "t", "username": "u"})),
            [
                "token string must not be provided when realm name or username is specified",
                "token type must not be provided when realm name or username is specified"
            ]
        );
        assert_eq!(
            invalidate_problems(json!({"refresh_token": " ", "realm_name": "r"})),
            ["token type must not be provided when realm name or username is specified"]
        );
    }

    #[test]
    fn foreign_causes_are_not_root_causes() {
        let EsJson(status, body) = error_with_foreign_cause(
            EsError::x_content_parse("Failed to build [invalidate_token] after last required field arrived"),
            EsError::illegal_argument("only one of [token, refresh_token] may be sent per request"),
        );
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!({"error": {"root_cause": [{"type": "x_content_parse_exception", "reason": "Failed to build [invalidate_token] after last required field arrived"}],
                             "type": "x_content_parse_exception", "reason": "Failed to build [invalidate_token] after last required field arrived",
                             "caused_by": {"type": "illegal_argument_exception", "reason": "only one of [token, refresh_token] may be sent per request"}},
                   "status": 400})
        );
    }
}
