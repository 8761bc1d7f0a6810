//! The settings of one JWT realm, read and checked as Elasticsearch's `JwtRealmSettings` and `JwtRealm`
//! constructor do, with their messages (a bad setting stops the node at startup).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail};
use regex::Regex;

use crate::config::{parse_duration, RealmConfig};
use crate::domain::role_mapping::Pattern;

/// Every signature algorithm of Elasticsearch's JWT realms, in its order.
pub(crate) const SUPPORTED_ALGORITHMS: &[&str] =
    &["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"];
/// The HMAC algorithms.
pub(crate) const HMAC_ALGORITHMS: &[&str] = &["HS256", "HS384", "HS512"];
/// Algorithms Elasticsearch supports that profiled's crypto does not.
const UNSUPPORTED_ALGORITHMS: &[&str] = &["ES512"];
/// Registered claims (RFC 7519 §4.1) that a fallback claim may not point to.
const REGISTERED_CLAIMS: &[&str] = &["iss", "sub", "aud", "exp", "nbf", "iat", "jti"];

/// `token_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenType {
    IdToken,
    AccessToken,
}

impl TokenType {
    /// The setting value, also shown as user metadata `jwt_token_type`.
    pub(crate) fn value(self) -> &'static str {
        match self {
            TokenType::IdToken => "id_token",
            TokenType::AccessToken => "access_token",
        }
    }
}

/// `claims.<name>` with its optional `claim_patterns.<name>`: the claim that holds a user property, and
/// a regex whose first group extracts the value.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClaimSetting {
    pub(crate) claim: Option<String>,
    pub(crate) pattern: Option<Regex>,
}

/// The realm's settings, checked.
#[derive(Clone)]
pub(crate) struct JwtSettings {
    pub(crate) realm_name: String,
    pub(crate) token_type: TokenType,
    pub(crate) allowed_issuer: String,
    pub(crate) allowed_audiences: Vec<String>,
    pub(crate) allowed_algorithms: Vec<String>,
    pub(crate) allowed_clock_skew: Duration,
    /// `Some` when the `sub` claim is restricted (always for access tokens).
    pub(crate) allowed_subjects: Option<(Vec<String>, Vec<Pattern>)>,
    /// `fallback_claims.sub` / `.aud` (access tokens only).
    pub(crate) fallback_sub: Option<String>,
    pub(crate) fallback_aud: Option<String>,
    pub(crate) required_claims: Vec<(String, Vec<String>)>,
    pub(crate) principal: ClaimSetting,
    pub(crate) groups: ClaimSetting,
    pub(crate) dn: ClaimSetting,
    pub(crate) mail: ClaimSetting,
    pub(crate) name: ClaimSetting,
    pub(crate) populate_user_metadata: bool,
    /// `Some(secret)` for `client_authentication.type: shared_secret`.
    pub(crate) shared_secret: Option<String>,
    pub(crate) hmac_key: Option<String>,
    pub(crate) hmac_jwkset: Option<String>,
    pub(crate) pkc_jwkset_path: Option<PathBuf>,
    pub(crate) cache_ttl: Duration,
    pub(crate) cache_size: usize,
}

impl std::fmt::Debug for JwtSettings {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("JwtSettings")
            .field("realm_name", &self.realm_name)
            .field("token_type", &self.token_type)
            .field("allowed_issuer", &self.allowed_issuer)
            .field("allowed_audiences", &self.allowed_audiences)
            .field("allowed_algorithms", &self.allowed_algorithms)
            .field("pkc_jwkset_path", &self.pkc_jwkset_path)
            .finish_non_exhaustive()
    }
}

struct Reader<'a> {
    config: &'a RealmConfig,
}

impl Reader<'_> {
    fn key(&self, setting: &str) -> String {
        format!("xpack.security.authc.realms.{}.{}.{setting}", self.config.realm_type, self.config.name)
    }

    fn text(&self, setting: &str) -> Option<&str> {
        self.config.setting(setting)
    }

    /// A secure setting: blank counts as absent, as Elasticsearch's `Strings.hasText` does.
    fn secret(&self, setting: &str) -> Option<String> {
        self.text(setting).filter(|value| !value.trim().is_empty()).map(str::to_string)
    }

    fn list(&self, setting: &str) -> Option<Vec<String>> {
        self.text(setting)
            .map(|value| value.split(',').map(str::trim).filter(|item| !item.is_empty()).map(str::to_string).collect())
    }

    fn non_empty_list(&self, setting: &str, allowed: Option<&[&str]>) -> anyhow::Result<Vec<String>> {
        let values = self.list(setting).unwrap_or_default();
        let allowed_text =
            allowed.map(|values| format!(" Allowed values are [{}].", values.join(", "))).unwrap_or_default();
        if values.is_empty() {
            bail!("Invalid empty list for [{}].{allowed_text}", self.key(setting));
        }
        if let Some(allowed) = allowed {
            if let Some(bad) = values.iter().find(|value| !allowed.contains(&value.as_str())) {
                bail!("Invalid value [{bad}] for [{}].{allowed_text}", self.key(setting));
            }
        }
        Ok(values)
    }

    fn duration(&self, setting: &str, default: Duration) -> anyhow::Result<Duration> {
        match self.text(setting) {
            None => Ok(default),
            Some(text) => parse_duration(text).map_err(|error| {
                anyhow!("failed to parse setting [{}] with value [{text}]: {error}", self.key(setting))
            }),
        }
    }

    fn boolean(&self, setting: &str, default: bool) -> anyhow::Result<bool> {
        match self.text(setting) {
            None => Ok(default),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(other) => bail!(
                "Failed to parse value [{other}] as only [true] or [false] are allowed. ([{}])",
                self.key(setting)
            ),
        }
    }

    fn claim(&self, name: &str, required: bool) -> anyhow::Result<ClaimSetting> {
        let claim_key = format!("claims.{name}");
        let pattern_key = format!("claim_patterns.{name}");
        let claim = self.text(&claim_key);
        let pattern_text = self.text(&pattern_key).filter(|pattern| !pattern.is_empty());
        let Some(claim) = claim else {
            if required {
                bail!("Setting [{}] is required", self.key(&claim_key));
            }
            if pattern_text.is_some() {
                bail!(
                    "Setting [{}] cannot be set unless [{}] is also set",
                    self.key(&pattern_key),
                    self.key(&claim_key)
                );
            }
            return Ok(ClaimSetting::default());
        };
        if claim.is_empty() {
            bail!("Invalid null or empty claim name for [{}].", self.key(&claim_key));
        }
        let pattern = match pattern_text {
            Some(text) => Some(
                Regex::new(text)
                    .map_err(|_| anyhow!("Invalid claim value regex pattern for [{}].", self.key(&pattern_key)))?,
            ),
            None => None,
        };
        Ok(ClaimSetting { claim: Some(claim.to_string()), pattern })
    }
}

impl JwtSettings {
    /// Reads the realm's settings; relative `pkc_jwkset_path`s are resolved against `config_dir`.
    pub(crate) fn from_config(config: &RealmConfig, config_dir: &Path) -> anyhow::Result<JwtSettings> {
        let reader = Reader { config };
        if config.setting("authorization_realms").is_some() {
            bail!(
                "setting [{}] (delegated authorization) is not supported by profiled",
                reader.key("authorization_realms")
            );
        }
        let allowed_clock_skew = reader.duration("allowed_clock_skew", Duration::from_secs(60))?;
        let populate_user_metadata = reader.boolean("populate_user_metadata", true)?;
        let shared_secret = client_authentication(&reader)?;
        let cache_ttl = reader.duration("jwt.cache.ttl", Duration::from_secs(20 * 60))?;
        let cache_size = match reader.text("jwt.cache.size") {
            None => 100_000,
            Some(text) => text.parse::<usize>().map_err(|_| {
                anyhow!("Failed to parse value [{text}] for setting [{}] must be >= 0", reader.key("jwt.cache.size"))
            })?,
        };
        let token_type = match reader.text("token_type").map(str::to_ascii_lowercase).as_deref() {
            None | Some("id_token") => TokenType::IdToken,
            Some("access_token") => TokenType::AccessToken,
            Some(_) => bail!(
                "Invalid value [{}] for [{}], allowed values are [id_token,access_token]",
                reader.text("token_type").unwrap_or_default(),
                reader.key("token_type")
            ),
        };
        let allowed_issuer = reader.text("allowed_issuer").unwrap_or_default().to_string();
        if allowed_issuer.is_empty() {
            bail!("Invalid empty value for [{}].", reader.key("allowed_issuer"));
        }
        let (fallback_sub, fallback_aud) = fallback_claims(&reader, token_type)?;
        let allowed_subjects = allowed_subjects(&reader, token_type)?;
        let allowed_audiences = reader.non_empty_list("allowed_audiences", None)?;
        let allowed_algorithms = match reader.text("allowed_signature_algorithms") {
            None => vec!["RS256".to_string()],
            Some(_) => reader.non_empty_list("allowed_signature_algorithms", Some(SUPPORTED_ALGORITHMS))?,
        };
        if let Some(unsupported) =
            allowed_algorithms.iter().find(|algorithm| UNSUPPORTED_ALGORITHMS.contains(&algorithm.as_str()))
        {
            bail!(
                "signature algorithm [{unsupported}] in [{}] is not supported by profiled",
                reader.key("allowed_signature_algorithms")
            );
        }
        let required_claims = required_claims(&reader)?;
        let hmac_key = reader.secret("hmac_key");
        let hmac_jwkset = reader.secret("hmac_jwkset");
        let pkc_jwkset_path = pkc_path(&reader, config_dir)?;
        if hmac_key.is_none() && hmac_jwkset.is_none() && pkc_jwkset_path.is_none() {
            bail!(
                "At least one of [{}] or [{}] or [{}] must be set",
                reader.key("hmac_key"),
                reader.key("hmac_jwkset"),
                reader.key("pkc_jwkset_path")
            );
        }
        if hmac_key.is_some() && hmac_jwkset.is_some() {
            bail!(
                "Settings [{}] and [{}] are not allowed at the same time.",
                reader.key("hmac_jwkset"),
                reader.key("hmac_key")
            );
        }
        Ok(JwtSettings {
            realm_name: config.name.clone(),
            token_type,
            allowed_issuer,
            allowed_audiences,
            allowed_algorithms,
            allowed_clock_skew,
            allowed_subjects,
            fallback_sub,
            fallback_aud,
            required_claims,
            principal: reader.claim("principal", true)?,
            groups: reader.claim("groups", false)?,
            dn: reader.claim("dn", false)?,
            mail: reader.claim("mail", false)?,
            name: reader.claim("name", false)?,
            populate_user_metadata,
            shared_secret,
            hmac_key,
            hmac_jwkset,
            pkc_jwkset_path,
            cache_ttl,
            cache_size,
        })
    }

    /// The full name of a setting of this realm, for messages.
    pub(crate) fn key(&self, setting: &str) -> String {
        format!("xpack.security.authc.realms.jwt.{}.{setting}", self.realm_name)
    }

    /// The claim actually read for `name` (`FallbackableClaim`): the fallback when `name` is absent.
    pub(crate) fn fallback_for(&self, name: &str) -> Option<&str> {
        match name {
            "sub" => self.fallback_sub.as_deref(),
            "aud" => self.fallback_aud.as_deref(),
            _ => None,
        }
    }
}

fn client_authentication(reader: &Reader<'_>) -> anyhow::Result<Option<String>> {
    let type_key = reader.key("client_authentication.type");
    let secret_key = reader.key("client_authentication.shared_secret");
    let secret = reader.secret("client_authentication.shared_secret");
    match reader.text("client_authentication.type").map(str::to_ascii_lowercase).as_deref() {
        None | Some("shared_secret") => match secret {
            Some(secret) => Ok(Some(secret)),
            None => {
                bail!("Missing setting for [{secret_key}]. It is required when setting [{type_key}] is [shared_secret]")
            }
        },
        Some("none") => {
            if secret.is_some() {
                bail!("Setting [{secret_key}] is not supported, because setting [{type_key}] is [none]");
            }
            tracing::warn!(
                setting = %type_key,
                "Setting [{type_key}] value [none] may not be secure. Unauthorized clients may be able to submit JWTs from the same issuer."
            );
            Ok(None)
        }
        Some(_) => bail!(
            "Invalid value [{}] for [{type_key}], allowed values are [none,shared_secret]",
            reader.text("client_authentication.type").unwrap_or_default()
        ),
    }
}

fn fallback_claims(reader: &Reader<'_>, token_type: TokenType) -> anyhow::Result<(Option<String>, Option<String>)> {
    let mut fallbacks = [None, None];
    for (slot, claim) in fallbacks.iter_mut().zip(["sub", "aud"]) {
        let setting = format!("fallback_claims.{claim}");
        let configured = reader.text(&setting);
        if token_type == TokenType::IdToken {
            if configured.is_some() {
                bail!(
                    "fallback claim setting [{}] is not allowed when JWT realm [{}] is [id_token] type",
                    reader.key(&setting),
                    reader.config.name
                );
            }
            continue;
        }
        let fallback = configured.unwrap_or(claim);
        if fallback.is_empty() {
            bail!("Invalid empty value for [{}].", reader.key(&setting));
        }
        if fallback != claim && REGISTERED_CLAIMS.contains(&fallback) {
            bail!(
                "Invalid fallback claims setting [{}]. Claim [{claim}] cannot fallback to a registered claim [{fallback}]",
                reader.key(&setting)
            );
        }
        *slot = Some(fallback.to_string());
    }
    let [sub, aud] = fallbacks;
    Ok((sub, aud))
}

fn allowed_subjects(reader: &Reader<'_>, token_type: TokenType) -> anyhow::Result<Option<(Vec<String>, Vec<Pattern>)>> {
    let subjects = reader.list("allowed_subjects");
    let patterns = reader.list("allowed_subject_patterns");
    if token_type == TokenType::IdToken && subjects.is_none() && patterns.is_none() {
        return Ok(None);
    }
    let subjects = subjects.unwrap_or_default();
    let pattern_texts = patterns.unwrap_or_default();
    if subjects.is_empty() && pattern_texts.is_empty() {
        bail!(
            "One of either [{}] or [{}] must be specified and not be empty.",
            reader.key("allowed_subjects"),
            reader.key("allowed_subject_patterns")
        );
    }
    let mut compiled = Vec::with_capacity(pattern_texts.len());
    for text in &pattern_texts {
        compiled.push(
            Pattern::compile(text)
                .map_err(|error| anyhow!("{error} ([{}])", reader.key("allowed_subject_patterns")))?,
        );
    }
    Ok(Some((subjects, compiled)))
}

fn required_claims(reader: &Reader<'_>) -> anyhow::Result<Vec<(String, Vec<String>)>> {
    const NOT_REQUIRABLE: &[&str] = &["iss", "sub", "aud", "exp", "nbf", "iat"];
    let mut required = Vec::new();
    for setting in reader.config.settings.keys() {
        let Some(claim) = setting.strip_prefix("required_claims.") else {
            continue;
        };
        let full_key = reader.key(setting);
        if NOT_REQUIRABLE.contains(&claim) {
            bail!("required claim [{full_key}] cannot be one of [{}]", NOT_REQUIRABLE.join(","));
        }
        let values = reader.list(setting).unwrap_or_default();
        if values.is_empty() {
            bail!("required claim [{full_key}] cannot be empty");
        }
        required.push((claim.to_string(), values));
    }
    Ok(required)
}

fn pkc_path(reader: &Reader<'_>, config_dir: &Path) -> anyhow::Result<Option<PathBuf>> {
    let Some(path) = reader.text("pkc_jwkset_path").filter(|path| !path.trim().is_empty()) else {
        return Ok(None);
    };
    if path.starts_with("https") {
        bail!(
            "[{}] is an HTTPS URL [{path}]: profiled reads JWK sets from local files only",
            reader.key("pkc_jwkset_path")
        );
    }
    if path.starts_with("http") {
        bail!("Not allowed to use HTTP URI [{path}]. Only HTTPS is supported.");
    }
    Ok(Some(config_dir.join(path)))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn config(settings: &[(&str, &str)]) -> RealmConfig {
        let mut map: BTreeMap<String, String> = [
            ("order", "2"),
            ("allowed_issuer", "https://issuer.example.com"),
            ("allowed_audiences", "es"),
            ("claims.principal", "sub"),
            ("hmac_key", "a-very-long-hmac-key-of-at-least-32-bytes!!"),
            ("client_authentication.type", "none"),
        ]
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect();
        for (key, value) in settings {
            if value.is_empty() {
                map.remove(*key);
            } else {
                map.insert(key.to_string(), value.to_string());
            }
        }
        RealmConfig { realm_type: "jwt".into(), name: "jwt1".into(), order: 2, settings: map }
    }

    #[track_caller]
    fn error(settings: &[(&str, &str)]) -> String {
        JwtSettings::from_config(&config(settings), Path::new("/etc/es")).expect_err("invalid").to_string()
    }

    #[test]
    fn defaults_follow_elasticsearch() {
        let settings = JwtSettings::from_config(&config(&[]), Path::new("/etc/es")).expect("valid");
        assert_eq!(settings.token_type, TokenType::IdToken);
        assert_eq!(settings.allowed_algorithms, vec!["RS256"]);
        assert_eq!(settings.allowed_clock_skew, Duration::from_secs(60));
        assert!(settings.populate_user_metadata);
        assert!(settings.allowed_subjects.is_none());
        assert_eq!(settings.cache_ttl, Duration::from_secs(1200));
        assert_eq!(settings.cache_size, 100_000);
        let access = JwtSettings::from_config(
            &config(&[
                ("token_type", "access_token"),
                ("allowed_subjects", "a,b"),
                ("fallback_claims.sub", "client_id"),
            ]),
            Path::new("/etc/es"),
        )
        .expect("valid");
        assert_eq!(access.fallback_for("sub"), Some("client_id"));
        assert_eq!(access.fallback_for("aud"), Some("aud"));
    }

    #[test]
    fn invalid_settings_use_elasticsearch_messages() {
        let prefix = "xpack.security.authc.realms.jwt.jwt1";
        assert_eq!(error(&[("claims.principal", "")]), format!("Setting [{prefix}.claims.principal] is required"));
        assert_eq!(error(&[("allowed_issuer", "")]), format!("Invalid empty value for [{prefix}.allowed_issuer]."));
        assert_eq!(
            error(&[("allowed_audiences", "")]),
            format!("Invalid empty list for [{prefix}.allowed_audiences].")
        );
        assert!(error(&[("allowed_signature_algorithms", "HS256,XX1")]).starts_with(&format!(
            "Invalid value [XX1] for [{prefix}.allowed_signature_algorithms]. Allowed values are [HS256, HS384,"
        )));
        assert_eq!(
            error(&[("client_authentication.type", "")]),
            format!("Missing setting for [{prefix}.client_authentication.shared_secret]. It is required when setting [{prefix}.client_authentication.type] is [shared_secret]")
        );
        assert_eq!(
            error(&[("client_authentication.shared_secret", "s")]),
            format!("Setting [{prefix}.client_authentication.shared_secret] is not supported, because setting [{prefix}.client_authentication.type] is [none]")
        );
        assert_eq!(
            error(&[("hmac_key", "")]),
            format!("At least one of [{prefix}.hmac_key] or [{prefix}.hmac_jwkset] or [{prefix}.pkc_jwkset_path] must be set")
        );
        assert_eq!(
            error(&[("hmac_jwkset", "{\"keys\":[]}")]),
            format!("Settings [{prefix}.hmac_jwkset] and [{prefix}.hmac_key] are not allowed at the same time.")
        );
        assert_eq!(
            error(&[("fallback_claims.sub", "client_id")]),
            format!("fallback claim setting [{prefix}.fallback_claims.sub] is not allowed when JWT realm [jwt1] is [id_token] type")
        );
        assert_eq!(
            error(&[("token_type", "access_token")]),
            format!("One of either [{prefix}.allowed_subjects] or [{prefix}.allowed_subject_patterns] must be specified and not be empty.")
        );
        assert_eq!(
            error(&[("token_type", "access_token"), ("allowed_subjects", "a"), ("fallback_claims.aud", "iss")]),
            format!("Invalid fallback claims setting [{prefix}.fallback_claims.aud]. Claim [aud] cannot fallback to a registered claim [iss]")
        );
        assert_eq!(
            error(&[("token_type", "refresh")]),
            format!("Invalid value [refresh] for [{prefix}.token_type], allowed values are [id_token,access_token]")
        );
        assert_eq!(
            error(&[("claim_patterns.groups", "^(.*)$")]),
            format!(
                "Setting [{prefix}.claim_patterns.groups] cannot be set unless [{prefix}.claims.groups] is also set"
            )
        );
        assert_eq!(
            error(&[("required_claims.iss", "x")]),
            format!("required claim [{prefix}.required_claims.iss] cannot be one of [iss,sub,aud,exp,nbf,iat]")
        );
        assert!(error(&[("allowed_signature_algorithms", "ES512")]).contains("not supported by profiled"));
    }

    #[test]
    fn pkc_paths_are_relative_to_the_config_dir() {
        let settings = JwtSettings::from_config(&config(&[("pkc_jwkset_path", "jwks.json")]), Path::new("/etc/es"))
            .expect("valid");
        assert_eq!(settings.pkc_jwkset_path, Some(PathBuf::from("/etc/es/jwks.json")));
        assert!(error(&[("pkc_jwkset_path", "http://example.com/jwks")]).contains("Only HTTPS is supported"));
    }
}
