//! Verification keys: the HMAC key or JWK set of the secure settings, and the public-key JWK set file,
//! which is read again whenever it changes on disk (and once more before a signature is declared bad,
//! as Elasticsearch's `PkcJwtSignatureValidator` does).

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::settings::{JwtSettings, HMAC_ALGORITHMS};

/// The key material of a JWK.
#[derive(Clone)]
enum KeyMaterial {
    Hmac(Vec<u8>),
    Rsa {
        modulus: Vec<u8>,
        exponent: Vec<u8>,
    },
    Ec {
        curve: String,
        x: String,
        y: String,
    },
    /// A key type Elasticsearch parses but never matches an algorithm (`OKP`).
    Other,
}

/// One usable verification key.
#[derive(Clone)]
pub(crate) struct Jwk {
    kid: Option<String>,
    alg: Option<String>,
    material: KeyMaterial,
}

impl std::fmt::Debug for Jwk {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.material {
            KeyMaterial::Hmac(_) => "oct",
            KeyMaterial::Rsa { .. } => "RSA",
            KeyMaterial::Ec { .. } => "EC",
            KeyMaterial::Other => "other",
        };
        formatter.debug_struct("Jwk").field("kid", &self.kid).field("alg", &self.alg).field("kty", &kind).finish()
    }
}

impl Jwk {
    /// The HMAC key of the `hmac_key` setting: its UTF-8 bytes, without kid or alg.
    pub(crate) fn hmac(secret: &str) -> Jwk {
        Jwk { kid: None, alg: None, material: KeyMaterial::Hmac(secret.as_bytes().to_vec()) }
    }

    /// `JwkValidateUtil.isMatch`: the key type fits the algorithm and is strong enough (HMAC keys at
    /// least as long as the hash, RSA keys of 2048 bits or more, EC keys on the algorithm's curve).
    fn fits(&self, algorithm: &str) -> bool {
        match (&self.material, algorithm) {
            (KeyMaterial::Hmac(secret), "HS256") => secret.len() * 8 >= 256,
            (KeyMaterial::Hmac(secret), "HS384") => secret.len() * 8 >= 384,
            (KeyMaterial::Hmac(secret), "HS512") => secret.len() * 8 >= 512,
            (KeyMaterial::Rsa { modulus, .. }, "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512") => {
                rsa_bit_length(modulus) >= 2048
            }
            (KeyMaterial::Ec { curve, .. }, "ES256") => curve == "P-256",
            (KeyMaterial::Ec { curve, .. }, "ES384") => curve == "P-384",
            (KeyMaterial::Ec { curve, .. }, "ES512") => curve == "P-521",
            _ => false,
        }
    }

    fn verifies(&self, algorithm: &str, signing_input: &[u8], signature: &str) -> bool {
        let Ok(parsed_algorithm) = algorithm.parse::<Algorithm>() else {
            return false;
        };
        let key = match &self.material {
            KeyMaterial::Hmac(secret) => DecodingKey::from_secret(secret),
            KeyMaterial::Rsa { modulus, exponent } => DecodingKey::from_rsa_raw_components(modulus, exponent),
            KeyMaterial::Ec { x, y, .. } => match DecodingKey::from_ec_components(x, y) {
                Ok(key) => key,
                Err(_) => return false,
            },
            KeyMaterial::Other => return false,
        };
        jsonwebtoken::crypto::verify(signature, signing_input, &key, parsed_algorithm).unwrap_or(false)
    }
}

/// The bit length of an RSA modulus, rounded up to whole bytes (`computeBitLengthRsa`).
fn rsa_bit_length(modulus: &[u8]) -> usize {
    let significant = modulus.iter().skip_while(|byte| **byte == 0).count();
    significant * 8
}

fn decode_member(object: &serde_json::Map<String, Value>, member: &str) -> Result<Vec<u8>, String> {
    let text = object.get(member).and_then(Value::as_str).ok_or_else(|| format!("missing JWK member [{member}]"))?;
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| format!("invalid base64url in JWK member [{member}]"))
}

/// Parses a JWK set (`{"keys":[...]}`); keys of unknown types are skipped, as Nimbus does.
pub(crate) fn parse_jwk_set(text: &str) -> Result<Vec<Jwk>, String> {
    let document: Value = serde_json::from_str(text).map_err(|error| format!("invalid JSON: {error}"))?;
    let Some(keys) = document.get("keys").and_then(Value::as_array) else {
        return Err("missing required \"keys\" member".into());
    };
    let mut jwks = Vec::with_capacity(keys.len());
    for key in keys {
        let Value::Object(object) = key else {
            return Err("a JWK must be a JSON object".into());
        };
        let text_member = |member: &str| object.get(member).and_then(Value::as_str).map(str::to_string);
        let material = match object.get("kty").and_then(Value::as_str) {
            Some("oct") => KeyMaterial::Hmac(decode_member(object, "k")?),
            Some("RSA") => {
                KeyMaterial::Rsa { modulus: decode_member(object, "n")?, exponent: decode_member(object, "e")? }
            }
            Some("EC") => {
                decode_member(object, "x")?;
                decode_member(object, "y")?;
                KeyMaterial::Ec {
                    curve: text_member("crv").ok_or("missing JWK member [crv]")?,
                    x: text_member("x").unwrap_or_default().trim_end_matches('=').to_string(),
                    y: text_member("y").unwrap_or_default().trim_end_matches('=').to_string(),
                }
            }
            Some("OKP") => KeyMaterial::Other,
            Some(_) => continue,
            None => return Err("missing JWK member [kty]".into()),
        };
        // Only signature keys that may verify are usable (`filterJwksAndAlgorithms`).
        if text_member("use").is_some_and(|usage| usage != "sig") {
            continue;
        }
        if let Some(operations) = object.get("key_ops").and_then(Value::as_array) {
            if !operations.iter().any(|operation| operation == "verify") {
                continue;
            }
        }
        jwks.push(Jwk { kid: text_member("kid"), alg: text_member("alg"), material });
    }
    Ok(jwks)
}

/// Keeps the keys that fit one of `algorithms` (`filterJwksAndAlgorithms`).
fn usable_keys(jwks: Vec<Jwk>, algorithms: &[String]) -> Vec<Jwk> {
    jwks.into_iter().filter(|jwk| algorithms.iter().any(|algorithm| jwk.fits(algorithm))).collect()
}

/// Verifies `signature` over `signing_input` with the keys that fit the token's `kid` and `alg`
/// (`JwtSignatureValidator.validateSignature`).
pub(crate) fn verify_with(
    jwks: &[Jwk],
    kid: Option<&str>,
    algorithm: &str,
    signing_input: &[u8],
    signature: &str,
) -> Result<(), String> {
    if jwks.is_empty() {
        return Err("Signature verification was not attempted since there are not any JWKs available.".into());
    }
    let candidates: Vec<&Jwk> = jwks
        .iter()
        .filter(|jwk| kid.is_none() || jwk.kid.is_none() || jwk.kid.as_deref() == kid)
        .filter(|jwk| jwk.alg.is_none() || jwk.alg.as_deref() == Some(algorithm))
        .filter(|jwk| jwk.fits(algorithm))
        .collect();
    if candidates.is_empty() {
        return Err("Signature verification was not attempted since there are not any JWKs available after filtering for incompatible keys.".into());
    }
    if candidates.iter().any(|jwk| jwk.verifies(algorithm, signing_input, signature)) {
        return Ok(());
    }
    Err("JWT signature verification failed.".into())
}

/// The HMAC keys (from `hmac_key` or `hmac_jwkset`), fixed for the node's life.
pub(crate) fn hmac_keys(settings: &JwtSettings) -> anyhow::Result<Option<Vec<Jwk>>> {
    let algorithms: Vec<String> = settings
        .allowed_algorithms
        .iter()
        .filter(|algorithm| HMAC_ALGORITHMS.contains(&algorithm.as_str()))
        .cloned()
        .collect();
    let jwks = if let Some(jwkset) = &settings.hmac_jwkset {
        parse_jwk_set(jwkset)
            .map_err(|_| anyhow::anyhow!("JWKSet parse failed for setting [{}]", settings.key("hmac_jwkset")))?
    } else if let Some(key) = &settings.hmac_key {
        vec![Jwk::hmac(key)]
    } else {
        return Ok(None);
    };
    let usable = usable_keys(jwks, &algorithms);
    tracing::info!(realm = %settings.realm_name, keys = usable.len(), "usable HMAC JWKs");
    Ok(Some(usable))
}

/// The content of the public-key JWK set file as last read.
#[derive(Debug)]
struct LoadedJwkSet {
    /// Modification time and length when read: a cheap check for changes.
    fingerprint: Option<(SystemTime, u64)>,
    digest: [u8; 32],
    jwks: Arc<Vec<Jwk>>,
}

/// The `pkc_jwkset_path` file, reloaded when it changes.
#[derive(Debug)]
pub(crate) struct PkcJwkSet {
    path: PathBuf,
    setting_key: String,
    algorithms: Vec<String>,
    loaded: RwLock<Arc<LoadedJwkSet>>,
}

fn fingerprint(path: &std::path::Path) -> Option<(SystemTime, u64)> {
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.modified().ok()?, metadata.len()))
}

impl PkcJwkSet {
    /// Reads the file named by `pkc_jwkset_path`; a missing or invalid file stops the node.
    pub(crate) fn open(settings: &JwtSettings, path: PathBuf) -> anyhow::Result<PkcJwkSet> {
        let algorithms = settings
            .allowed_algorithms
            .iter()
            .filter(|algorithm| !HMAC_ALGORITHMS.contains(&algorithm.as_str()))
            .cloned()
            .collect();
        let mut set = PkcJwkSet {
            path,
            setting_key: settings.key("pkc_jwkset_path"),
            algorithms,
            loaded: RwLock::new(Arc::new(LoadedJwkSet {
                fingerprint: None,
                digest: [0; 32],
                jwks: Arc::new(Vec::new()),
            })),
        };
        let loaded = set.load().map_err(|message| anyhow::anyhow!(message))?;
        tracing::info!(realm = %settings.realm_name, keys = loaded.jwks.len(), "usable PKC JWKs");
        set.loaded = RwLock::new(Arc::new(loaded));
        Ok(set)
    }

    fn load(&self) -> Result<LoadedJwkSet, String> {
        let fingerprint = fingerprint(&self.path);
        let bytes = std::fs::read(&self.path).map_err(|_| {
            format!("Failed to read contents for setting [{}] value [{}].", self.setting_key, self.path.display())
        })?;
        let text = String::from_utf8_lossy(&bytes);
        let jwks =
            parse_jwk_set(&text).map_err(|_| format!("JWKSet parse failed for setting [{}]", self.setting_key))?;
        let digest = Sha256::digest(&bytes).into();
        Ok(LoadedJwkSet { fingerprint, digest, jwks: Arc::new(usable_keys(jwks, &self.algorithms)) })
    }

    fn current(&self) -> Arc<LoadedJwkSet> {
        match self.loaded.read() {
            Ok(loaded) => Arc::clone(&loaded),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Returns the current keys.
    pub(crate) fn keys(&self) -> Arc<Vec<Jwk>> {
        Arc::clone(&self.current().jwks)
    }

    /// Reads the file again when it looks changed (`force`: whatever it looks like); returns whether
    /// the keys changed. A file that cannot be read or parsed keeps the previous keys.
    pub(crate) fn reload(&self, force: bool) -> bool {
        let current = self.current();
        if !force && fingerprint(&self.path) == current.fingerprint {
            return false;
        }
        match self.load() {
            Ok(loaded) if loaded.digest != current.digest => {
                tracing::info!(file = %self.path.display(), keys = loaded.jwks.len(), "reloaded the PKC JWK set");
                if let Ok(mut slot) = self.loaded.write() {
                    *slot = Arc::new(loaded);
                }
                true
            }
            Ok(loaded) => {
                // Same content (e.g. touched): remember the new fingerprint only.
                if let Ok(mut slot) = self.loaded.write() {
                    *slot = Arc::new(LoadedJwkSet {
                        fingerprint: loaded.fingerprint,
                        digest: loaded.digest,
                        jwks: Arc::clone(&current.jwks),
                    });
                }
                false
            }
            Err(message) => {
                tracing::warn!(file = %self.path.display(), %message, "cannot reload the PKC JWK set; keeping the previous keys");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwk_sets_parse_and_filter_like_elasticsearch() {
        let short_secret = URL_SAFE_NO_PAD.encode(b"too-short");
        let long_secret = URL_SAFE_NO_PAD.encode([7u8; 64]);
        let text = format!(
            r#"{{"keys":[
                {{"kty":"oct","k":"{short_secret}","kid":"short"}},
                {{"kty":"oct","k":"{long_secret}","kid":"long"}},
                {{"kty":"oct","k":"{long_secret}","kid":"enc","use":"enc"}},
                {{"kty":"oct","k":"{long_secret}","kid":"sign-only","key_ops":["sign"]}},
                {{"kty":"weird","kid":"skipped"}}
            ]}}"#
        );
        let jwks = parse_jwk_set(&text).expect("valid set");
        assert_eq!(jwks.len(), 2, "enc and sign-only keys are dropped, unknown types skipped");
        let usable = usable_keys(jwks, &["HS512".to_string()]);
        assert_eq!(usable.len(), 1);
        assert_eq!(usable[0].kid.as_deref(), Some("long"));
        assert!(parse_jwk_set("{}").is_err());
        assert!(parse_jwk_set(r#"{"keys":[{"kty":"RSA","n":"!!"}]}"#).is_err());
    }

    #[test]
    fn hmac_keys_must_be_as_long_as_the_hash() {
        let key = Jwk::hmac(&"k".repeat(40));
        assert!(key.fits("HS256"));
        assert!(!key.fits("HS384"));
        assert!(!key.fits("RS256"));
    }

    #[test]
    fn rsa_key_length_ignores_leading_zeros() {
        let mut modulus = vec![0u8];
        modulus.extend([0xffu8; 256]);
        assert_eq!(rsa_bit_length(&modulus), 2048);
        assert_eq!(rsa_bit_length(&[0x01; 128]), 1024);
    }
}
