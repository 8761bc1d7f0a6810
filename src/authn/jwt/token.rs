//! A signed JWT and the checks of Elasticsearch's `JwtAuthenticator`: header type, issuer, subject,
//! audiences, algorithm, dates with clock skew and required claims; then the claim parsers that turn
//! the claims into a user (`ClaimParser`, `FallbackableClaim`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

use super::settings::{ClaimSetting, JwtSettings, TokenType};

/// A JWS in compact serialization whose header and claims parsed.
#[derive(Debug, Clone)]
pub(crate) struct ParsedJwt {
    pub(crate) algorithm: String,
    pub(crate) kid: Option<String>,
    typ: Option<String>,
    pub(crate) claims: Map<String, Value>,
    /// `base64url(header) "." base64url(claims)`: what the signature covers.
    pub(crate) signing_input: String,
    pub(crate) signature: String,
}

fn decode_json_object(part: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(object) => Some(object),
        _ => None,
    }
}

impl ParsedJwt {
    /// Parses a token the way Nimbus' `SignedJWT.parse` does; `None` when it is not a signed JWT
    /// (wrong shape, bad base64 or JSON, a JWE, `alg: none`, or registered claims of the wrong type).
    pub(crate) fn parse(token: &str) -> Option<ParsedJwt> {
        let mut parts = token.split('.');
        let (Some(header_part), Some(claims_part), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let header = decode_json_object(header_part)?;
        let algorithm = header.get("alg")?.as_str()?.to_string();
        if algorithm.eq_ignore_ascii_case("none") || header.contains_key("enc") {
            return None;
        }
        let typ = match header.get("typ") {
            None => None,
            Some(Value::String(typ)) => Some(typ.clone()),
            Some(_) => return None,
        };
        let kid = match header.get("kid") {
            None => None,
            Some(Value::String(kid)) => Some(kid.clone()),
            Some(_) => return None,
        };
        let claims = decode_json_object(claims_part)?;
        if !registered_claims_are_well_typed(&claims) {
            return None;
        }
        Some(ParsedJwt {
            algorithm,
            kid,
            typ,
            claims,
            signing_input: format!("{header_part}.{claims_part}"),
            signature: signature.to_string(),
        })
    }

    /// Runs every claim and header check of the realm (not the signature); `now_millis` is the clock.
    pub(crate) fn validate_claims(&self, settings: &JwtSettings, now_millis: i64) -> Result<(), String> {
        self.validate_type(settings.token_type)?;
        self.validate_string_claim(settings, "iss", true, Some(std::slice::from_ref(&settings.allowed_issuer)), &[])?;
        match &settings.allowed_subjects {
            Some((subjects, patterns)) => {
                self.validate_string_claim(settings, "sub", true, Some(subjects), patterns)?
            }
            None => self.validate_string_claim(settings, "sub", true, None, &[])?,
        }
        self.validate_string_claim(settings, "aud", false, Some(&settings.allowed_audiences), &[])?;
        if !settings.allowed_algorithms.contains(&self.algorithm) {
            return Err(format!(
                "invalid JWT algorithm [{}], allowed algorithms are [{}]",
                self.algorithm,
                settings.allowed_algorithms.join(",")
            ));
        }
        let skew_millis =
            i64::try_from(settings.allowed_clock_skew.as_secs()).unwrap_or(i64::MAX / 2).saturating_mul(1000);
        self.validate_date("iat", DateRule::BeforeNow, false, now_millis, skew_millis)?;
        self.validate_date("exp", DateRule::AfterNow, false, now_millis, skew_millis)?;
        if settings.token_type == TokenType::IdToken {
            self.validate_date("nbf", DateRule::BeforeNow, true, now_millis, skew_millis)?;
            self.validate_date("auth_time", DateRule::BeforeNow, true, now_millis, skew_millis)?;
        }
        for (claim, allowed) in &settings.required_claims {
            self.validate_string_claim(settings, claim, false, Some(allowed), &[])?;
        }
        Ok(())
    }

    fn validate_type(&self, token_type: TokenType) -> Result<(), String> {
        let Some(typ) = &self.typ else {
            return Ok(());
        };
        let allowed = typ.eq_ignore_ascii_case("JWT")
            || (token_type == TokenType::AccessToken && typ.eq_ignore_ascii_case("at+jwt"));
        if allowed {
            Ok(())
        } else {
            Err("invalid jwt typ header".into())
        }
    }

    /// `JwtStringClaimValidator`: the claim (or its fallback) must be present, and when values or
    /// patterns are given one of its values must be allowed.
    fn validate_string_claim(
        &self,
        settings: &JwtSettings,
        name: &str,
        single_valued: bool,
        allowed_values: Option<&[String]>,
        allowed_patterns: &[crate::domain::role_mapping::Pattern],
    ) -> Result<(), String> {
        let claim = self.claim_name(settings, name);
        let values = if single_valued {
            self.string_claim(&claim)?.map(|value| vec![value])
        } else {
            self.string_list_claim(&claim)?
        };
        let Some(values) = values else {
            return Err(format!("missing required string claim [{}]", describe_claim(name, &claim)));
        };
        let Some(allowed) = allowed_values else {
            return Ok(());
        };
        let is_allowed = values
            .iter()
            .any(|value| allowed.contains(value) || allowed_patterns.iter().any(|pattern| pattern.matches(value)));
        if is_allowed {
            return Ok(());
        }
        Err(format!(
            "string claim [{}] has value [{}] which does not match allowed claim values [{}]",
            describe_claim(name, &claim),
            values.join(","),
            allowed.join(",")
        ))
    }

    fn validate_date(
        &self,
        name: &str,
        rule: DateRule,
        optional: bool,
        now_millis: i64,
        skew_millis: i64,
    ) -> Result<(), String> {
        let claim_millis = match self.claims.get(name) {
            None | Some(Value::Null) if optional => return Ok(()),
            None | Some(Value::Null) => return Err(format!("missing required date claim [{name}]")),
            Some(Value::Number(seconds)) => seconds_to_millis(seconds),
            Some(_) => return Err(format!("cannot parse date claim [{name}]")),
        };
        let valid = match rule {
            DateRule::BeforeNow => claim_millis < now_millis.saturating_add(skew_millis),
            DateRule::AfterNow => claim_millis > now_millis.saturating_sub(skew_millis),
        };
        if valid {
            return Ok(());
        }
        let relation = match rule {
            DateRule::BeforeNow => "before",
            DateRule::AfterNow => "after",
        };
        Err(format!("date claim [{name}] value [{claim_millis}] must be {relation} now [{now_millis}]"))
    }

    /// The claim actually read for `name`: its fallback when configured and `name` is absent.
    fn claim_name(&self, settings: &JwtSettings, name: &str) -> String {
        match settings.fallback_for(name) {
            Some(fallback) if self.claims.get(name).is_none_or(Value::is_null) => fallback.to_string(),
            _ => name.to_string(),
        }
    }

    fn string_claim(&self, name: &str) -> Result<Option<String>, String> {
        match self.claims.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(_) => Err(format!("cannot parse string claim [{name}] as string")),
        }
    }

    fn string_list_claim(&self, name: &str) -> Result<Option<Vec<String>>, String> {
        match self.claims.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(vec![text.clone()])),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| item.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .map(Some)
                .ok_or_else(|| format!("cannot parse string claim [{name}] as string array")),
            Some(_) => Err(format!("cannot parse string claim [{name}] as string array")),
        }
    }

    /// `ClaimParser.getClaimValues`: the string values of the configured claim (after its pattern's
    /// first group, when a pattern is set); a claim that is neither a string nor strings is an error.
    pub(crate) fn claim_values(&self, settings: &JwtSettings, setting: &ClaimSetting) -> Result<Vec<String>, String> {
        let Some(configured) = &setting.claim else {
            return Ok(Vec::new());
        };
        let claim = self.claim_name(settings, configured);
        let values = match self.claims.get(&claim) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(text)) => vec![text.clone()],
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
                items.iter().filter_map(|item| item.as_str().map(str::to_string)).collect()
            }
            Some(_) => return Err(format!("claim [{claim}] is not a String or a String Array")),
        };
        let Some(pattern) = &setting.pattern else {
            return Ok(values);
        };
        Ok(values
            .iter()
            .filter_map(|value| pattern.captures(value)?.get(1).map(|group| group.as_str().to_string()))
            .filter(|value| !value.is_empty())
            .collect())
    }

    /// The first value of [`ParsedJwt::claim_values`].
    pub(crate) fn claim_value(&self, settings: &JwtSettings, setting: &ClaimSetting) -> Result<Option<String>, String> {
        Ok(self.claim_values(settings, setting)?.into_iter().next())
    }

    /// The user metadata: `jwt_token_type`, and with `populate_user_metadata` every claim whose value is
    /// a string, boolean, number or a list of those, as `jwt_claim_<name>`.
    pub(crate) fn user_metadata(&self, settings: &JwtSettings) -> Map<String, Value> {
        let mut metadata = Map::new();
        metadata.insert("jwt_token_type".into(), Value::String(settings.token_type.value().to_string()));
        if settings.populate_user_metadata {
            for (name, value) in &self.claims {
                if is_metadata_value(value) {
                    metadata.insert(format!("jwt_claim_{name}"), value.clone());
                }
            }
        }
        metadata
    }

    /// The `exp` claim in milliseconds (validated present before this is used).
    pub(crate) fn expires_at_millis(&self) -> i64 {
        match self.claims.get("exp") {
            Some(Value::Number(seconds)) => seconds_to_millis(seconds),
            _ => 0,
        }
    }
}

/// The principal Elasticsearch reports for a JWT no realm accepted (`JwtAuthenticationToken.principal`, used
/// in `unable to authenticate user [<principal>] for REST request [<uri>]`): every claim whose value is a
/// string or a non-empty list of strings, sorted by name, as `'name:value'` (lists comma-joined), space
/// separated. `None` when the token is not a signed JWT.
#[allow(dead_code)] // until the realm chain words its JWT 401 like Elasticsearch
pub(crate) fn token_principal(token: &str) -> Option<String> {
    let jwt = ParsedJwt::parse(token)?;
    let mut names: Vec<&String> = jwt.claims.keys().collect();
    names.sort();
    let mut parts = Vec::new();
    for name in names {
        match &jwt.claims[name.as_str()] {
            Value::String(text) => parts.push(format!("'{name}:{text}'")),
            Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_string) => {
                let joined: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                parts.push(format!("'{name}:{}'", joined.join(",")));
            }
            _ => {}
        }
    }
    Some(if parts.is_empty() { "<unrecognized JWT token>".to_string() } else { parts.join(" ") })
}

#[derive(Debug, Clone, Copy)]
enum DateRule {
    BeforeNow,
    AfterNow,
}

fn describe_claim(name: &str, actual: &str) -> String {
    if name == actual {
        name.to_string()
    } else {
        format!("{actual} (fallback of {name})")
    }
}

/// Seconds since the epoch (fractions truncated, as Nimbus reads them) in milliseconds.
fn seconds_to_millis(seconds: &serde_json::Number) -> i64 {
    let whole = seconds.as_i64().or_else(|| seconds.as_f64().map(|float| float as i64)).unwrap_or(i64::MAX);
    whole.saturating_mul(1000)
}

fn is_metadata_value(value: &Value) -> bool {
    match value {
        Value::String(_) | Value::Bool(_) | Value::Number(_) => true,
        Value::Array(items) => {
            items.iter().all(|item| matches!(item, Value::String(_) | Value::Bool(_) | Value::Number(_)))
        }
        Value::Null | Value::Object(_) => false,
    }
}

/// Nimbus' `JWTClaimsSet.parse` rejects registered claims of the wrong type.
fn registered_claims_are_well_typed(claims: &Map<String, Value>) -> bool {
    let is_optional_string = |name: &str| matches!(claims.get(name), None | Some(Value::Null) | Some(Value::String(_)));
    let is_optional_number = |name: &str| matches!(claims.get(name), None | Some(Value::Null) | Some(Value::Number(_)));
    let audience_ok = match claims.get("aud") {
        None | Some(Value::Null) | Some(Value::String(_)) => true,
        Some(Value::Array(items)) => items.iter().all(Value::is_string),
        Some(_) => false,
    };
    is_optional_string("iss")
        && is_optional_string("sub")
        && is_optional_string("jti")
        && is_optional_number("exp")
        && is_optional_number("nbf")
        && is_optional_number("iat")
        && audience_ok
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn encode(value: &Value) -> String {
        URL_SAFE_NO_PAD.encode(value.to_string())
    }

    fn token(header: Value, claims: Value) -> String {
        format!("{}.{}.c2ln", encode(&header), encode(&claims))
    }

    #[test]
    fn only_signed_jwts_parse() {
        let claims = json!({"iss": "i", "sub": "s"});
        assert!(ParsedJwt::parse(&token(json!({"alg": "HS256"}), claims.clone())).is_some());
        assert!(ParsedJwt::parse(&token(json!({"alg": "none"}), claims.clone())).is_none(), "alg none is not a JWS");
        assert!(ParsedJwt::parse(&token(json!({"alg": "RSA-OAEP", "enc": "A256GCM"}), claims.clone())).is_none());
        assert!(ParsedJwt::parse(&token(json!({"typ": "JWT"}), claims.clone())).is_none(), "alg is required");
        assert!(ParsedJwt::parse(&token(json!({"alg": "HS256"}), json!({"exp": "soon"}))).is_none());
        assert!(ParsedJwt::parse(&token(json!({"alg": "HS256"}), json!({"aud": [1]}))).is_none());
        assert!(ParsedJwt::parse("a.b").is_none());
        assert!(ParsedJwt::parse("a.b.c.d").is_none());
        assert!(ParsedJwt::parse("!!.??.x").is_none());
        let parsed = ParsedJwt::parse(&token(json!({"alg": "HS256", "kid": "k1"}), claims)).expect("parses");
        assert_eq!(parsed.kid.as_deref(), Some("k1"));
        assert_eq!(parsed.signature, "c2ln");
    }

    #[test]
    fn the_token_principal_lists_string_claims_by_name() {
        let jwt = token(
            json!({"alg": "HS256"}),
            json!({"sub": "joe", "iss": "https://i", "aud": ["b", "a"], "exp": 1, "empty": [], "mixed": ["a", 1]}),
        );
        assert_eq!(token_principal(&jwt).as_deref(), Some("'aud:b,a' 'iss:https://i' 'sub:joe'"));
        let numbers_only = token(json!({"alg": "HS256"}), json!({"exp": 1}));
        assert_eq!(token_principal(&numbers_only).as_deref(), Some("<unrecognized JWT token>"));
        assert_eq!(token_principal("not-a-jwt"), None);
    }

    #[test]
    fn metadata_keeps_simple_claims_only() {
        let parsed = ParsedJwt::parse(&token(
            json!({"alg": "HS256"}),
            json!({"sub": "joe", "n": 1, "b": true, "list": ["a", 1], "obj": {"a": 1}, "nested": [["a"]], "nil": null}),
        ))
        .expect("parses");
        let settings = super::super::tests::settings(&[]);
        let metadata = parsed.user_metadata(&settings);
        assert_eq!(
            Value::Object(metadata),
            json!({"jwt_token_type": "id_token", "jwt_claim_sub": "joe", "jwt_claim_n": 1, "jwt_claim_b": true, "jwt_claim_list": ["a", 1]})
        );
    }
}
