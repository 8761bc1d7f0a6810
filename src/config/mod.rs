//! Node settings: command line > environment (`PROFILED_*`) > YAML config file > defaults.
//!
//! The config file uses Elasticsearch's own setting names (nested or flat dotted keys, as
//! `elasticsearch.yml` does), so settings carry over unchanged. Unknown keys stop startup with a
//! message naming the key.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use serde_yaml_ng::Value as YamlValue;

use crate::authn::hash::Hasher;

pub mod security;

pub use security::{AnonymousConfig, DomainConfig, RealmConfig, SecurityConfig, TokenConfig};

/// Settings given on the command line or in the environment; `None` means "not given here".
#[derive(Debug, Default, Clone, clap::Args)]
pub struct NodeArgs {
    /// Data directory (setting `path.data`).
    #[arg(long, global = true, env = "PROFILED_DATA")]
    pub data: Option<PathBuf>,
    /// Address to listen on, `ADDR:PORT` (settings `http.host` and `http.port`).
    #[arg(long, global = true, env = "PROFILED_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// YAML config file with Elasticsearch setting names.
    #[arg(long, global = true, env = "PROFILED_CONFIG")]
    pub config: Option<PathBuf>,
    /// Largest accepted request body, e.g. `100mb` (setting `http.max_content_length`).
    #[arg(long, global = true, env = "PROFILED_MAX_CONTENT_LENGTH")]
    pub max_content_length: Option<String>,
    /// Password hashing algorithm for stored passwords (setting
    /// `xpack.security.authc.password_hashing.algorithm`): bcrypt, bcrypt4..bcrypt14, pbkdf2, pbkdf2_1000, ...
    #[arg(long, global = true, env = "PROFILED_PASSWORD_HASHING_ALGORITHM")]
    pub password_hashing_algorithm: Option<String>,
    /// Node name reported by the APIs (setting `node.name`).
    #[arg(long, global = true, env = "PROFILED_NODE_NAME")]
    pub node_name: Option<String>,
}

/// The resolved settings of a node.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the store and the search index live.
    pub data_dir: PathBuf,
    /// The HTTP listen address.
    pub listen: SocketAddr,
    /// Largest accepted request body in bytes.
    pub max_content_length: usize,
    /// Hashing algorithm for newly stored passwords.
    pub(crate) password_hasher: Hasher,
    /// Node name (reported by `GET /` and stored in profiles).
    pub node_name: String,
    /// Cluster name reported by `GET /`.
    pub cluster_name: String,
    /// How long a successful authentication stays cached.
    pub authentication_cache_ttl: Duration,
    /// How many users the authentication cache holds at most.
    pub authentication_cache_max_users: usize,
    /// Largest profile document (labels + data) in bytes (`xpack.security.profile.max_size`).
    pub profile_max_size: usize,
    /// Realms, domains, anonymous access and the token service.
    pub security: SecurityConfig,
    /// Directory of the config file: where the file realm's `users` and `users_roles` live by default.
    pub config_dir: PathBuf,
}

/// Every setting the config file accepts, with a one-line description (shown by `validate-config`).
const KNOWN_SETTINGS: &[(&str, &str)] = &[
    ("path.data", "data directory"),
    ("http.host", "listen host"),
    ("http.port", "listen port"),
    ("http.max_content_length", "largest request body (e.g. 100mb)"),
    ("node.name", "node name"),
    ("cluster.name", "cluster name"),
    ("xpack.security.enabled", "must be true"),
    ("xpack.security.authc.password_hashing.algorithm", "hash for stored passwords"),
    ("xpack.security.profile.max_size", "largest profile document (e.g. 10mb)"),
];

impl Config {
    /// Resolves the settings from the command line/environment and the optional config file.
    pub fn load(args: &NodeArgs) -> anyhow::Result<Config> {
        let file_settings = match &args.config {
            Some(path) => read_settings_file(path)?,
            None => BTreeMap::new(),
        };
        Self::resolve(args, &file_settings)
    }

    /// Returns settings for tests: data in `dir`, an ephemeral port, cheap password hashing.
    pub fn for_test(dir: &Path) -> Config {
        Config {
            data_dir: dir.to_path_buf(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            max_content_length: 100 * 1024 * 1024,
            password_hasher: Hasher::from_setting("bcrypt4").expect("known hasher"),
            node_name: "node-test".to_string(),
            cluster_name: "profiled".to_string(),
            authentication_cache_ttl: Duration::from_secs(20 * 60),
            authentication_cache_max_users: 100_000,
            profile_max_size: 10 * 1024 * 1024,
            security: SecurityConfig::default(),
            config_dir: dir.to_path_buf(),
        }
    }

    fn resolve(args: &NodeArgs, file: &BTreeMap<String, String>) -> anyhow::Result<Config> {
        let config_dir = args
            .config
            .as_ref()
            .and_then(|path| path.parent().map(Path::to_path_buf))
            .filter(|dir| !dir.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        let setting = |name: &str| file.get(name).map(String::as_str);
        if let Some(enabled) = setting("xpack.security.enabled") {
            if enabled != "true" {
                bail!("setting [xpack.security.enabled] must be true: profiled always enforces security");
            }
        }
        let data_dir = args
            .data
            .clone()
            .or_else(|| setting("path.data").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("./data"));
        let listen = match args.listen {
            Some(listen) => listen,
            None => {
                let host = setting("http.host").unwrap_or("127.0.0.1");
                let port = setting("http.port").unwrap_or("9200");
                format!("{host}:{port}").parse().map_err(|_| {
                    anyhow!("settings [http.host] and [http.port] do not form an address: [{host}:{port}]")
                })?
            }
        };
        let max_content_length_text =
            args.max_content_length.as_deref().or(setting("http.max_content_length")).unwrap_or("100mb");
        let max_content_length = parse_byte_size(max_content_length_text)
            .with_context(|| format!("invalid setting [http.max_content_length]: [{max_content_length_text}]"))?;
        let algorithm = args
            .password_hashing_algorithm
            .as_deref()
            .or(setting("xpack.security.authc.password_hashing.algorithm"))
            .unwrap_or("bcrypt");
        let password_hasher = Hasher::from_setting(algorithm).map_err(|message| {
            anyhow!("invalid setting [xpack.security.authc.password_hashing.algorithm]: {message}")
        })?;
        if !password_hasher.is_allowed_for_stored_passwords() {
            bail!(
                "invalid setting [xpack.security.authc.password_hashing.algorithm]: [{algorithm}] is not allowed for \
                 stored passwords, use a bcrypt or pbkdf2 variant"
            );
        }
        let security = security::resolve_security(file, &|name| std::env::var(name).ok())?;
        let native_settings = security.realms.iter().find(|realm| realm.realm_type == "native");
        let ttl_text = native_settings.and_then(|realm| realm.setting("cache.ttl")).unwrap_or("20m");
        let authentication_cache_ttl = parse_duration(ttl_text)
            .with_context(|| format!("invalid setting [cache.ttl] of the native realm: [{ttl_text}]"))?;
        let max_users_text = native_settings.and_then(|realm| realm.setting("cache.max_users")).unwrap_or("100000");
        let authentication_cache_max_users = max_users_text
            .parse()
            .map_err(|_| anyhow!("invalid setting [cache.max_users] of the native realm: [{max_users_text}]"))?;
        let profile_max_size_text = setting("xpack.security.profile.max_size").unwrap_or("10mb");
        let profile_max_size = parse_byte_size(profile_max_size_text)
            .with_context(|| format!("invalid setting [xpack.security.profile.max_size]: [{profile_max_size_text}]"))?;
        let node_name = args
            .node_name
            .clone()
            .or_else(|| setting("node.name").map(str::to_string))
            .unwrap_or_else(|| "profiled-0".to_string());
        let cluster_name = setting("cluster.name").unwrap_or("profiled").to_string();
        Ok(Config {
            data_dir,
            listen,
            max_content_length,
            password_hasher,
            node_name,
            cluster_name,
            authentication_cache_ttl,
            authentication_cache_max_users,
            profile_max_size,
            security,
            config_dir,
        })
    }
}

/// Reads a YAML settings file into flat dotted keys, rejecting unknown keys.
pub fn read_settings_file(path: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read config file [{}]", path.display()))?;
    let settings = parse_settings_yaml(&text).with_context(|| format!("invalid config file [{}]", path.display()))?;
    Ok(settings)
}

/// Parses YAML settings text into flat dotted keys; nested and dotted forms may be mixed.
pub fn parse_settings_yaml(text: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let document: YamlValue = serde_yaml_ng::from_str(text).context("not valid YAML")?;
    let mut flat = BTreeMap::new();
    match document {
        YamlValue::Null => {}
        YamlValue::Mapping(_) => flatten_yaml("", &document, &mut flat)?,
        _ => bail!("the top level must be a mapping of settings"),
    }
    for key in flat.keys() {
        if !KNOWN_SETTINGS.iter().any(|(known, _)| known == key) && !security::is_security_setting(key) {
            bail!("unknown setting [{key}]");
        }
    }
    Ok(flat)
}

fn flatten_yaml(prefix: &str, value: &YamlValue, flat: &mut BTreeMap<String, String>) -> anyhow::Result<()> {
    match value {
        YamlValue::Mapping(mapping) => {
            for (key, child) in mapping {
                let key_text = match key {
                    YamlValue::String(text) => text.clone(),
                    YamlValue::Number(number) => number.to_string(),
                    YamlValue::Bool(flag) => flag.to_string(),
                    _ => bail!("setting keys must be strings under [{prefix}]"),
                };
                let full_key = if prefix.is_empty() { key_text } else { format!("{prefix}.{key_text}") };
                flatten_yaml(&full_key, child, flat)?;
            }
        }
        YamlValue::String(text) => insert_setting(flat, prefix, text.clone())?,
        YamlValue::Number(number) => insert_setting(flat, prefix, number.to_string())?,
        YamlValue::Bool(flag) => insert_setting(flat, prefix, flag.to_string())?,
        YamlValue::Null => {}
        YamlValue::Sequence(items) => {
            let mut parts = Vec::new();
            for item in items {
                match item {
                    YamlValue::String(text) => parts.push(text.clone()),
                    YamlValue::Number(number) => parts.push(number.to_string()),
                    YamlValue::Bool(flag) => parts.push(flag.to_string()),
                    _ => bail!("setting [{prefix}] must be a list of scalars"),
                }
            }
            insert_setting(flat, prefix, parts.join(","))?;
        }
        YamlValue::Tagged(tagged) => flatten_yaml(prefix, &tagged.value, flat)?,
    }
    Ok(())
}

fn insert_setting(flat: &mut BTreeMap<String, String>, key: &str, value: String) -> anyhow::Result<()> {
    if flat.insert(key.to_string(), value).is_some() {
        bail!("duplicate setting [{key}]");
    }
    Ok(())
}

/// Parses an Elasticsearch byte size: `100mb`, `10kb`, `1gb`, `512b` or plain bytes.
pub fn parse_byte_size(text: &str) -> anyhow::Result<usize> {
    let lower = text.trim().to_ascii_lowercase();
    let units: [(&str, u64); 6] =
        [("pb", 1 << 50), ("tb", 1 << 40), ("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10), ("b", 1)];
    for (suffix, multiplier) in units {
        if let Some(number) = lower.strip_suffix(suffix) {
            let value: f64 = number.trim().parse().map_err(|_| anyhow!("not a byte size"))?;
            if !(value >= 0.0) {
                bail!("byte size must not be negative");
            }
            return Ok((value * multiplier as f64) as usize);
        }
    }
    lower.parse::<usize>().map_err(|_| anyhow!("not a byte size (expected e.g. 100mb)"))
}

/// Parses an Elasticsearch time value: `20m`, `30s`, `1h`, `500ms`, `1d`.
pub fn parse_duration(text: &str) -> anyhow::Result<Duration> {
    let lower = text.trim().to_ascii_lowercase();
    let units: [(&str, f64); 5] = [("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0), ("d", 86400.0)];
    for (suffix, seconds) in units {
        if let Some(number) = lower.strip_suffix(suffix) {
            if suffix == "s" && number.ends_with('m') {
                continue;
            }
            let value: f64 = number.trim().parse().map_err(|_| anyhow!("not a time value"))?;
            if !(value >= 0.0) {
                bail!("time value must not be negative");
            }
            return Ok(Duration::from_secs_f64(value * seconds));
        }
    }
    bail!("not a time value (expected e.g. 20m)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_and_dotted_yaml_flatten_to_the_same_keys() {
        let nested = parse_settings_yaml("http:\n  port: 9201\nxpack.security:\n  enabled: true\n").expect("valid");
        assert_eq!(nested.get("http.port").map(String::as_str), Some("9201"));
        assert_eq!(nested.get("xpack.security.enabled").map(String::as_str), Some("true"));
    }

    #[test]
    fn unknown_setting_is_named() {
        let error = parse_settings_yaml("http.prot: 9200\n").expect_err("unknown");
        assert!(error.to_string().contains("unknown setting [http.prot]"), "{error}");
    }

    #[test]
    fn cli_beats_file_beats_default() {
        let file = parse_settings_yaml("http.port: 9300\nnode.name: from-file\n").expect("valid");
        let from_file = Config::resolve(&NodeArgs::default(), &file).expect("resolve");
        assert_eq!(from_file.listen.port(), 9300);
        assert_eq!(from_file.node_name, "from-file");
        let args = NodeArgs { node_name: Some("from-cli".into()), ..NodeArgs::default() };
        let from_cli = Config::resolve(&args, &file).expect("resolve");
        assert_eq!(from_cli.node_name, "from-cli");
        let defaults = Config::resolve(&NodeArgs::default(), &BTreeMap::new()).expect("resolve");
        assert_eq!(defaults.listen.to_string(), "127.0.0.1:9200");
        assert_eq!(defaults.max_content_length, 100 * 1024 * 1024);
    }

    #[test]
    fn clear_text_hashing_is_refused() {
        let file = parse_settings_yaml("xpack.security.authc.password_hashing.algorithm: noop\n").expect("valid");
        assert!(Config::resolve(&NodeArgs::default(), &file).is_err());
    }

    #[test]
    fn sizes_and_durations_parse() {
        assert_eq!(parse_byte_size("100mb").expect("size"), 100 << 20);
        assert_eq!(parse_byte_size("1kb").expect("size"), 1024);
        assert_eq!(parse_byte_size("42").expect("size"), 42);
        assert!(parse_byte_size("lots").is_err());
        assert_eq!(parse_duration("20m").expect("duration"), Duration::from_secs(1200));
        assert_eq!(parse_duration("500ms").expect("duration"), Duration::from_millis(500));
        assert!(parse_duration("-1s").is_err());
    }
}
