//! Security settings in Elasticsearch's names: realms, security domains, anonymous access, the token service.
//!
//! Realm settings live under `xpack.security.authc.realms.<type>.<name>.<setting>`, domains under
//! `xpack.security.authc.domains.<domain>.<setting>`. Secure settings (`hmac_key`, `hmac_jwkset`,
//! `client_authentication.shared_secret`) may be inline or in the environment as
//! `PROFILED_SECURE_<SETTING NAME IN UPPER CASE WITH DOTS AS UNDERSCORES>`; they are never printed.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{anyhow, bail};

use super::parse_duration;

/// The realm types profiled implements.
pub(crate) const REALM_TYPES: &[&str] = &["native", "file", "jwt"];

const COMMON_REALM_SETTINGS: &[&str] =
    &["order", "enabled", "cache.ttl", "cache.max_users", "cache.hash_algo", "authorization_realms"];
const FILE_REALM_SETTINGS: &[&str] = &["files.users", "files.users_roles"];
const JWT_REALM_SETTINGS: &[&str] = &[
    "token_type",
    "allowed_issuer",
    "allowed_audiences",
    "allowed_signature_algorithms",
    "allowed_subjects",
    "allowed_subject_patterns",
    "allowed_clock_skew",
    "claims.principal",
    "claims.groups",
    "claims.name",
    "claims.mail",
    "claims.dn",
    "claim_patterns.principal",
    "claim_patterns.groups",
    "claim_patterns.name",
    "claim_patterns.mail",
    "claim_patterns.dn",
    "fallback_claims.sub",
    "fallback_claims.aud",
    "pkc_jwkset_path",
    "client_authentication.type",
    "client_authentication.shared_secret",
    "client_authentication.rotation_grace_period",
    "hmac_key",
    "hmac_jwkset",
    "populate_user_metadata",
    "jwt.cache.ttl",
    "jwt.cache.size",
    "http.connect_timeout",
    "http.socket_timeout",
    "ssl.verification_mode",
];
/// Settings whose values are secrets: accepted inline or from the environment, never printed.
pub(crate) const SECURE_REALM_SETTINGS: &[&str] = &["hmac_key", "hmac_jwkset", "client_authentication.shared_secret"];

/// One configured realm.
#[derive(Clone)]
pub struct RealmConfig {
    /// Realm type: `native`, `file` or `jwt`.
    pub realm_type: String,
    /// Realm name, unique across types.
    pub name: String,
    /// Position in the chain (lower first).
    pub order: i64,
    /// Realm-specific settings (keys relative to the realm prefix), secure ones included.
    pub settings: BTreeMap<String, String>,
}

impl std::fmt::Debug for RealmConfig {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let visible: BTreeMap<&String, &str> = self
            .settings
            .iter()
            .map(|(key, value)| {
                (key, if SECURE_REALM_SETTINGS.contains(&key.as_str()) { "<secret>" } else { value.as_str() })
            })
            .collect();
        formatter
            .debug_struct("RealmConfig")
            .field("realm_type", &self.realm_type)
            .field("name", &self.name)
            .field("order", &self.order)
            .field("settings", &visible)
            .finish()
    }
}

impl RealmConfig {
    /// Returns a realm setting.
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings.get(key).map(String::as_str)
    }
}

/// A security domain: realms whose users share one profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainConfig {
    /// Domain name.
    pub name: String,
    /// Names of the member realms.
    pub realms: Vec<String>,
    /// `uid_generation.literal_username`.
    pub literal_username: bool,
    /// `uid_generation.suffix`.
    pub suffix: Option<String>,
}

/// Anonymous access (off unless roles are configured).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnonymousConfig {
    /// `xpack.security.authc.anonymous.username` (default `_anonymous`).
    pub username: String,
    /// `xpack.security.authc.anonymous.roles`.
    pub roles: Vec<String>,
    /// `xpack.security.authc.anonymous.authz_exception` (default true: 403 rather than 401).
    pub authz_exception: bool,
}

/// The token service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenConfig {
    /// `xpack.security.authc.token.enabled` (default true).
    pub enabled: bool,
    /// `xpack.security.authc.token.timeout` (default 20m, at most 1h).
    pub timeout: Duration,
}

/// All security settings.
#[derive(Debug, Clone)]
pub struct SecurityConfig {
    /// Realms in chain order (the reserved realm always comes first and is not listed).
    pub realms: Vec<RealmConfig>,
    /// Security domains.
    pub domains: Vec<DomainConfig>,
    /// Anonymous access, when enabled.
    pub anonymous: Option<AnonymousConfig>,
    /// The token service.
    pub token: TokenConfig,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            realms: default_realms(),
            domains: Vec::new(),
            anonymous: None,
            token: TokenConfig { enabled: true, timeout: Duration::from_secs(20 * 60) },
        }
    }
}

fn default_realms() -> Vec<RealmConfig> {
    vec![
        RealmConfig {
            realm_type: "file".into(),
            name: "default_file".into(),
            order: i64::from(i32::MIN),
            settings: BTreeMap::new(),
        },
        RealmConfig {
            realm_type: "native".into(),
            name: "default_native".into(),
            order: i64::from(i32::MIN) + 1,
            settings: BTreeMap::new(),
        },
    ]
}

/// Tells whether `key` is a security setting this module reads (so the generic check accepts it).
pub(crate) fn is_security_setting(key: &str) -> bool {
    key.starts_with("xpack.security.authc.realms.")
        || key.starts_with("xpack.security.authc.domains.")
        || key.starts_with("xpack.security.authc.anonymous.")
        || key.starts_with("xpack.security.authc.token.")
}

fn split_list(value: &str) -> Vec<String> {
    value.split(',').map(str::trim).filter(|item| !item.is_empty()).map(str::to_string).collect()
}

fn parse_bool(key: &str, value: &str) -> anyhow::Result<bool> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        other => bail!("invalid setting [{key}]: [{other}] is not a boolean (true or false)"),
    }
}

/// Environment name of a secure setting: `PROFILED_SECURE_` + upper-case key with `.` as `_`.
pub fn secure_setting_env_name(key: &str) -> String {
    format!("PROFILED_SECURE_{}", key.to_ascii_uppercase().replace(['.', '-'], "_"))
}

/// Reads the security settings from flat settings; `environment` looks secure settings up.
pub(crate) fn resolve_security(
    flat: &BTreeMap<String, String>,
    environment: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<SecurityConfig> {
    let mut realms: BTreeMap<(String, String), RealmConfig> = BTreeMap::new();
    let mut domains: BTreeMap<String, DomainConfig> = BTreeMap::new();
    let mut anonymous_username = None;
    let mut anonymous_roles = None;
    let mut anonymous_authz_exception = true;
    let mut token = SecurityConfig::default().token;
    for (key, value) in flat {
        if let Some(rest) = key.strip_prefix("xpack.security.authc.realms.") {
            let mut parts = rest.splitn(3, '.');
            let (Some(realm_type), Some(name), Some(setting)) = (parts.next(), parts.next(), parts.next()) else {
                bail!("unknown setting [{key}]");
            };
            if !REALM_TYPES.contains(&realm_type) {
                bail!("unsupported realm type [{realm_type}] in setting [{key}]: profiled supports {REALM_TYPES:?}");
            }
            let allowed = COMMON_REALM_SETTINGS.contains(&setting)
                || (realm_type == "file" && FILE_REALM_SETTINGS.contains(&setting))
                || (realm_type == "jwt"
                    && (JWT_REALM_SETTINGS.contains(&setting) || setting.starts_with("required_claims.")));
            if !allowed {
                bail!("unknown setting [{key}]");
            }
            let realm = realms.entry((realm_type.to_string(), name.to_string())).or_insert_with(|| RealmConfig {
                realm_type: realm_type.to_string(),
                name: name.to_string(),
                order: i64::MAX,
                settings: BTreeMap::new(),
            });
            if setting == "order" {
                realm.order =
                    value.parse().map_err(|_| anyhow!("invalid setting [{key}]: [{value}] is not an integer"))?;
            }
            realm.settings.insert(setting.to_string(), value.clone());
        } else if let Some(rest) = key.strip_prefix("xpack.security.authc.domains.") {
            let Some((domain_name, setting)) = rest.split_once('.') else {
                bail!("unknown setting [{key}]");
            };
            let domain = domains.entry(domain_name.to_string()).or_insert_with(|| DomainConfig {
                name: domain_name.to_string(),
                realms: Vec::new(),
                literal_username: false,
                suffix: None,
            });
            match setting {
                "realms" => domain.realms = split_list(value),
                "uid_generation.literal_username" => domain.literal_username = parse_bool(key, value)?,
                "uid_generation.suffix" => domain.suffix = Some(value.clone()),
                _ => bail!("unknown setting [{key}]"),
            }
        } else if let Some(setting) = key.strip_prefix("xpack.security.authc.anonymous.") {
            match setting {
                "username" => anonymous_username = Some(value.clone()),
                "roles" => anonymous_roles = Some(split_list(value)),
                "authz_exception" => anonymous_authz_exception = parse_bool(key, value)?,
                _ => bail!("unknown setting [{key}]"),
            }
        } else if let Some(setting) = key.strip_prefix("xpack.security.authc.token.") {
            match setting {
                "enabled" => token.enabled = parse_bool(key, value)?,
                "timeout" => {
                    let timeout = parse_duration(value).map_err(|error| anyhow!("invalid setting [{key}]: {error}"))?;
                    if timeout > Duration::from_secs(3600) || timeout < Duration::from_secs(1) {
                        bail!("invalid setting [{key}]: [{value}] must be at least 1s and at most 1h");
                    }
                    token.timeout = timeout;
                }
                _ => bail!("unknown setting [{key}]"),
            }
        }
    }
    // Secure settings from the environment.
    for realm in realms.values_mut() {
        for secure in SECURE_REALM_SETTINGS {
            let full_key = format!("xpack.security.authc.realms.{}.{}.{secure}", realm.realm_type, realm.name);
            if let Some(value) = environment(&secure_setting_env_name(&full_key)) {
                realm.settings.insert(secure.to_string(), value);
            }
        }
    }
    let mut realm_list: Vec<RealmConfig> = realms.into_values().collect();
    for realm in &realm_list {
        if realm.order == i64::MAX && realm.setting("enabled") != Some("false") {
            bail!("missing required setting [xpack.security.authc.realms.{}.{}.order]", realm.realm_type, realm.name);
        }
    }
    let mut names = std::collections::HashSet::new();
    for realm in &realm_list {
        if !names.insert(realm.name.clone()) {
            bail!("Found multiple realms configured with the same name: [{}]", realm.name);
        }
    }
    realm_list.retain(|realm| realm.setting("enabled") != Some("false"));
    for (realm_type, limit) in [("file", 1), ("native", 1)] {
        if realm_list.iter().filter(|realm| realm.realm_type == realm_type).count() > limit {
            bail!("multiple [{realm_type}] realms are configured. [{realm_type}] is an internal realm and therefore there can only be one such realm configured");
        }
    }
    if realm_list.is_empty() {
        realm_list = default_realms();
    }
    realm_list.sort_by(|a, b| a.order.cmp(&b.order).then(a.name.cmp(&b.name)));
    let domain_list = validate_domains(domains.into_values().collect(), &realm_list)?;
    let anonymous = match (anonymous_roles, anonymous_username) {
        (Some(roles), username) if !roles.is_empty() => Some(AnonymousConfig {
            username: username.unwrap_or_else(|| "_anonymous".to_string()),
            roles,
            authz_exception: anonymous_authz_exception,
        }),
        _ => None,
    };
    Ok(SecurityConfig { realms: realm_list, domains: domain_list, anonymous, token })
}

fn validate_domains(domains: Vec<DomainConfig>, realms: &[RealmConfig]) -> anyhow::Result<Vec<DomainConfig>> {
    let mut realm_owner: BTreeMap<String, String> = BTreeMap::new();
    for domain in &domains {
        if domain.name.starts_with('_') {
            bail!("Security domain name must not start with \"_\": [{}]", domain.name);
        }
        if domain.realms.is_empty() {
            bail!("missing required setting [xpack.security.authc.domains.{}.realms]", domain.name);
        }
        for realm_name in &domain.realms {
            let known = realms.iter().any(|realm| &realm.name == realm_name)
                || realm_name == "default_native"
                || realm_name == "default_file";
            if !known {
                bail!("Undefined realms {:?} cannot be referred to by domain [{}]", [realm_name], domain.name);
            }
            if let Some(other) = realm_owner.insert(realm_name.clone(), domain.name.clone()) {
                bail!(
                    "Realms can only belong to one domain. Realm [{realm_name}] belongs to domains [{other}] and [{}]",
                    domain.name
                );
            }
        }
        match (domain.literal_username, &domain.suffix) {
            (true, None) => bail!(
                "[xpack.security.authc.domains.{}.uid_generation.suffix] must be configured when [xpack.security.authc.domains.{}.uid_generation.literal_username] is set to [true]",
                domain.name, domain.name
            ),
            (false, Some(_)) => bail!(
                "[xpack.security.authc.domains.{}.uid_generation.suffix] must not be configured when [xpack.security.authc.domains.{}.uid_generation.literal_username] is set to [false]",
                domain.name, domain.name
            ),
            (true, Some(suffix)) => {
                let valid = suffix.len() <= 10
                    && suffix.chars().next().is_some_and(|first| first.is_ascii_alphabetic())
                    && suffix.chars().all(|character| character.is_ascii_alphanumeric());
                if !valid {
                    bail!("Invalid value for [xpack.security.authc.domains.{}.uid_generation.suffix], the suffix must begin with a letter and followed by up to 9 alphanumeric characters", domain.name);
                }
            }
            (false, None) => {}
        }
    }
    Ok(domains)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_settings_yaml;

    fn resolve(yaml: &str) -> anyhow::Result<SecurityConfig> {
        resolve_security(&parse_settings_yaml(yaml)?, &|_| None)
    }

    #[test]
    fn defaults_are_file_then_native() {
        let security = resolve("").expect("valid");
        let names: Vec<&str> = security.realms.iter().map(|realm| realm.name.as_str()).collect();
        assert_eq!(names, ["default_file", "default_native"]);
        assert!(security.anonymous.is_none());
        assert_eq!(security.token.timeout, Duration::from_secs(1200));
    }

    #[test]
    fn realms_are_ordered_and_validated() {
        let yaml = "xpack.security.authc.realms:\n  jwt.jwt1:\n    order: 2\n    allowed_issuer: iss\n    claims.principal: sub\n  native.native1.order: 1\n  file.file1.order: 0\n";
        let security = resolve(yaml).expect("valid");
        let names: Vec<&str> = security.realms.iter().map(|realm| realm.name.as_str()).collect();
        assert_eq!(names, ["file1", "native1", "jwt1"]);
        assert_eq!(security.realms[2].setting("claims.principal"), Some("sub"));
        assert!(resolve("xpack.security.authc.realms.jwt.jwt1.bogus: 1\n")
            .expect_err("unknown")
            .to_string()
            .contains("unknown setting [xpack.security.authc.realms.jwt.jwt1.bogus]"));
        assert!(resolve("xpack.security.authc.realms.ldap.l1.order: 1\n")
            .expect_err("type")
            .to_string()
            .contains("unsupported realm type [ldap]"));
        assert!(resolve("xpack.security.authc.realms.jwt.jwt1.allowed_issuer: x\n")
            .expect_err("order")
            .to_string()
            .contains("order"));
    }

    #[test]
    fn secure_settings_come_from_the_environment_and_are_never_printed() {
        let flat = parse_settings_yaml("xpack.security.authc.realms.jwt.jwt1.order: 1\n").expect("valid");
        let security = resolve_security(&flat, &|name| {
            (name == "PROFILED_SECURE_XPACK_SECURITY_AUTHC_REALMS_JWT_JWT1_HMAC_KEY").then(|| "topsecret".to_string())
        })
        .expect("valid");
        assert_eq!(security.realms[0].setting("hmac_key"), Some("topsecret"));
        assert!(!format!("{:?}", security).contains("topsecret"));
    }

    #[test]
    fn domains_are_validated() {
        let ok = resolve("xpack.security.authc.domains.d1.realms: [default_native, default_file]\n").expect("valid");
        assert_eq!(ok.domains[0].realms, ["default_native", "default_file"]);
        assert!(resolve("xpack.security.authc.domains._d.realms: [default_native]\n").is_err());
        assert!(resolve("xpack.security.authc.domains.d.realms: [nope]\n").is_err());
        assert!(resolve("xpack.security.authc.domains.d.realms: [default_native]\nxpack.security.authc.domains.e.realms: [default_native]\n").is_err());
        assert!(resolve("xpack.security.authc.domains.d.realms: [default_native]\nxpack.security.authc.domains.d.uid_generation.literal_username: true\n").is_err());
        let literal = resolve("xpack.security.authc.domains.d.realms: [default_native]\nxpack.security.authc.domains.d.uid_generation.literal_username: true\nxpack.security.authc.domains.d.uid_generation.suffix: abc1\n").expect("valid");
        assert_eq!(literal.domains[0].suffix.as_deref(), Some("abc1"));
    }

    #[test]
    fn anonymous_and_token_settings() {
        let security =
            resolve("xpack.security.authc.anonymous.roles: [viewer]\nxpack.security.authc.token.timeout: 5m\n")
                .expect("valid");
        let anonymous = security.anonymous.expect("enabled");
        assert_eq!(
            (anonymous.username.as_str(), anonymous.roles.as_slice()),
            ("_anonymous", &["viewer".to_string()][..])
        );
        assert_eq!(security.token.timeout, Duration::from_secs(300));
        assert!(resolve("xpack.security.authc.token.timeout: 2h\n").is_err());
    }
}
