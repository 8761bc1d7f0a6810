//! Elasticsearch's password hash formats.
//!
//! Mirrors the `Hasher` enum of Elasticsearch's x-pack core: the algorithms that the settings
//! `xpack.security.authc.password_hashing.algorithm` and `cache.hash_algo` accept, the exact
//! string each one produces, and how a stored hash is recognised by its prefix
//! (`Hasher.resolveFromHash`). Every comparison runs in constant time.
//!
//! | prefix                         | format                                              |
//! |--------------------------------|-----------------------------------------------------|
//! | `$2a$`, `$2b$`, `$2y$`         | bcrypt, cost 4 to 14                                |
//! | `{PBKDF2}iter$salt$key`        | PBKDF2-HMAC-SHA512 of the password                  |
//! | `{PBKDF2_STRETCH}iter$salt$key`| PBKDF2-HMAC-SHA512 of the hex SHA-512 of the password |
//! | `{SSHA256}`                    | salted SHA-256 (cache only)                         |
//! | `{SHA}`, `{MD5}`               | legacy unsalted digests (cache only)                |
//! | anything else                  | NOOP: the stored string is the clear-text password  |

#![allow(dead_code)]

mod bcrypt_format;
mod digest_formats;
mod encoding;
mod pbkdf2_format;
#[cfg(test)]
mod tests;

use std::fmt;

const BCRYPT_MIN_COST: u32 = 4;
const BCRYPT_MAX_COST: u32 = 14;
const BCRYPT_DEFAULT_COST: u32 = 10;
/// The PBKDF2 iteration counts Elasticsearch has a hasher for, in its enum order.
const PBKDF2_COSTS: [u32; 6] = [1_000, 10_000, 50_000, 100_000, 500_000, 1_000_000];
const PBKDF2_DEFAULT_COST: u32 = 10_000;

const PBKDF2_PREFIX: &str = "{PBKDF2}";
const PBKDF2_STRETCH_PREFIX: &str = "{PBKDF2_STRETCH}";
const SSHA256_PREFIX: &str = "{SSHA256}";
const SHA1_PREFIX: &str = "{SHA}";
const MD5_PREFIX: &str = "{MD5}";

const BCRYPT_SETTING_NAME: &str = "bcrypt";
const PBKDF2_SETTING_NAME: &str = "pbkdf2";
const PBKDF2_STRETCH_SETTING_NAME: &str = "pbkdf2_stretch";

/// A bcrypt cost that Elasticsearch has a hasher for (4 to 14); only this module creates one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct BcryptCost(u32);

impl BcryptCost {
    /// Returns the cost when Elasticsearch has a `bcrypt<cost>` hasher for it.
    fn new(cost: i64) -> Option<BcryptCost> {
        let cost = u32::try_from(cost).ok()?;
        (BCRYPT_MIN_COST..=BCRYPT_MAX_COST).contains(&cost).then_some(BcryptCost(cost))
    }

    /// Returns the log2 of the number of rounds.
    pub(crate) fn get(self) -> u32 {
        self.0
    }
}

/// A PBKDF2 iteration count that Elasticsearch has a hasher for; only this module creates one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Pbkdf2Cost(u32);

impl Pbkdf2Cost {
    /// Returns the count when Elasticsearch has a `pbkdf2_<count>` hasher for it.
    fn new(iterations: i64) -> Option<Pbkdf2Cost> {
        let iterations = u32::try_from(iterations).ok()?;
        PBKDF2_COSTS.contains(&iterations).then_some(Pbkdf2Cost(iterations))
    }

    /// Returns the number of PBKDF2 iterations.
    pub(crate) fn get(self) -> u32 {
        self.0
    }
}

/// A password hashing algorithm with its cost, as Elasticsearch's `Hasher` enum has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Hasher {
    /// bcrypt (`$2a$NN$`), settings `bcrypt` (cost 10) and `bcrypt4` … `bcrypt14`.
    Bcrypt(BcryptCost),
    /// PBKDF2-HMAC-SHA512 of the password, settings `pbkdf2` (10000) and `pbkdf2_1000` … `pbkdf2_1000000`.
    Pbkdf2(Pbkdf2Cost),
    /// PBKDF2-HMAC-SHA512 of the hex SHA-512 of the password, settings `pbkdf2_stretch` and its variants.
    Pbkdf2Stretch(Pbkdf2Cost),
    /// Salted SHA-256, the default cache hasher.
    Ssha256,
    /// Unsalted SHA-1 (legacy, cache only).
    Sha1,
    /// Unsalted MD5 (legacy, cache only).
    Md5,
    /// No hashing: the stored string is the password itself (settings `noop` and `clear_text`).
    Noop,
}

impl Hasher {
    /// The default of `xpack.security.authc.password_hashing.algorithm`.
    pub(crate) const BCRYPT: Hasher = Hasher::Bcrypt(BcryptCost(BCRYPT_DEFAULT_COST));
    /// PBKDF2 with 10000 iterations.
    pub(crate) const PBKDF2: Hasher = Hasher::Pbkdf2(Pbkdf2Cost(PBKDF2_DEFAULT_COST));
    /// The default hasher of service tokens and API keys.
    pub(crate) const PBKDF2_STRETCH: Hasher = Hasher::Pbkdf2Stretch(Pbkdf2Cost(PBKDF2_DEFAULT_COST));

    /// Resolves a setting value such as `bcrypt12` or `PBKDF2_STRETCH_1000` (case-insensitive,
    /// `Hasher.resolve`); an unknown name gives Elasticsearch's message.
    pub(crate) fn from_setting(name: &str) -> Result<Hasher, String> {
        let lowercase_name = name.to_lowercase();
        let resolved = match lowercase_name.as_str() {
            "ssha256" => Some(Hasher::Ssha256),
            "sha1" => Some(Hasher::Sha1),
            "md5" => Some(Hasher::Md5),
            "noop" | "clear_text" => Some(Hasher::Noop),
            other => resolve_costed_name(other),
        };
        resolved.ok_or_else(|| format!("unknown hash function [{name}]"))
    }

    /// Resolves the value of `xpack.security.authc.password_hashing.algorithm`, which only
    /// accepts the bcrypt and PBKDF2 families, with Elasticsearch's setting validation message.
    pub(crate) fn from_password_hashing_setting(value: &str) -> Result<Hasher, String> {
        let allowed_names = stored_password_algorithm_names();
        if !allowed_names.contains(&value.to_lowercase()) {
            return Err(format!(
                "Invalid algorithm: {value}. Valid values for password hashing are {}",
                java_list(&allowed_names)
            ));
        }
        Hasher::from_setting(value)
    }

    /// Recognises the format of a stored hash by its prefix (`Hasher.resolveFromHash`).
    ///
    /// Anything without a known prefix is [`Hasher::Noop`]. A known prefix with an unreadable or
    /// unsupported cost is an error, with the message of the exception Elasticsearch throws.
    pub(crate) fn resolve_from_hash(stored_hash: &str) -> Result<Hasher, String> {
        if bcrypt_format::has_bcrypt_prefix(stored_hash) {
            let cost = bcrypt_format::parse_cost(stored_hash)?;
            return BcryptCost::new(cost)
                .map(Hasher::Bcrypt)
                .ok_or_else(|| format!("unknown hash function [bcrypt{cost}]"));
        }
        if let Some(rest) = stored_hash.strip_prefix(PBKDF2_STRETCH_PREFIX) {
            let iterations = pbkdf2_format::parse_iterations(rest)?;
            return Pbkdf2Cost::new(iterations)
                .map(Hasher::Pbkdf2Stretch)
                .ok_or_else(|| format!("unknown hash function [pbkdf2_stretch_{iterations}]"));
        }
        if let Some(rest) = stored_hash.strip_prefix(PBKDF2_PREFIX) {
            let iterations = pbkdf2_format::parse_iterations(rest)?;
            return Pbkdf2Cost::new(iterations)
                .map(Hasher::Pbkdf2)
                .ok_or_else(|| format!("unknown hash function [pbkdf2_{iterations}]"));
        }
        if stored_hash.starts_with(SHA1_PREFIX) {
            return Ok(Hasher::Sha1);
        }
        if stored_hash.starts_with(MD5_PREFIX) {
            return Ok(Hasher::Md5);
        }
        if stored_hash.starts_with(SSHA256_PREFIX) {
            return Ok(Hasher::Ssha256);
        }
        Ok(Hasher::Noop)
    }

    /// Returns the lowercase setting name Elasticsearch reports for this hasher.
    pub(crate) fn name(&self) -> String {
        match self {
            Hasher::Bcrypt(cost) if cost.0 == BCRYPT_DEFAULT_COST => BCRYPT_SETTING_NAME.to_owned(),
            Hasher::Bcrypt(cost) => format!("{BCRYPT_SETTING_NAME}{}", cost.0),
            Hasher::Pbkdf2(cost) if cost.0 == PBKDF2_DEFAULT_COST => PBKDF2_SETTING_NAME.to_owned(),
            Hasher::Pbkdf2(cost) => format!("{PBKDF2_SETTING_NAME}_{}", cost.0),
            Hasher::Pbkdf2Stretch(cost) if cost.0 == PBKDF2_DEFAULT_COST => PBKDF2_STRETCH_SETTING_NAME.to_owned(),
            Hasher::Pbkdf2Stretch(cost) => format!("{PBKDF2_STRETCH_SETTING_NAME}_{}", cost.0),
            Hasher::Ssha256 => "ssha256".to_owned(),
            Hasher::Sha1 => "sha1".to_owned(),
            Hasher::Md5 => "md5".to_owned(),
            Hasher::Noop => "noop".to_owned(),
        }
    }

    /// Tells whether `xpack.security.authc.password_hashing.algorithm` may name this hasher
    /// (the bcrypt and PBKDF2 families only).
    pub(crate) fn is_allowed_for_stored_passwords(&self) -> bool {
        matches!(self, Hasher::Bcrypt(_) | Hasher::Pbkdf2(_) | Hasher::Pbkdf2Stretch(_))
    }

    /// Hashes a password into exactly the string Elasticsearch produces, with a fresh random salt.
    ///
    /// [`Hasher::Noop`] returns the password itself (lossily decoded if it is not UTF-8).
    pub(crate) fn hash(&self, password: &[u8]) -> String {
        match self {
            Hasher::Bcrypt(cost) => bcrypt_format::hash(password, cost.0),
            Hasher::Pbkdf2(cost) => pbkdf2_format::hash(password, cost.0, PBKDF2_PREFIX),
            Hasher::Pbkdf2Stretch(cost) => {
                let stretched_password = pbkdf2_format::stretch(password);
                pbkdf2_format::hash(&stretched_password, cost.0, PBKDF2_STRETCH_PREFIX)
            }
            Hasher::Ssha256 => digest_formats::hash_ssha256(password),
            Hasher::Sha1 => digest_formats::hash_sha1(password),
            Hasher::Md5 => digest_formats::hash_md5(password),
            Hasher::Noop => String::from_utf8_lossy(password).into_owned(),
        }
    }

    /// Checks a password against a stored hash the way this particular hasher does
    /// (`Hasher.verify`): a PBKDF2 hasher uses its own iteration count, whatever the hash says.
    /// Malformed hashes give `false`.
    pub(crate) fn verify(&self, password: &[u8], stored_hash: &str) -> bool {
        match self {
            Hasher::Bcrypt(_) => bcrypt_format::verify(password, stored_hash),
            Hasher::Pbkdf2(cost) => pbkdf2_format::verify(password, stored_hash, cost.0, PBKDF2_PREFIX),
            Hasher::Pbkdf2Stretch(cost) => {
                let stretched_password = pbkdf2_format::stretch(password);
                pbkdf2_format::verify(&stretched_password, stored_hash, cost.0, PBKDF2_STRETCH_PREFIX)
            }
            Hasher::Ssha256 => digest_formats::verify_ssha256(password, stored_hash),
            Hasher::Sha1 => digest_formats::verify_sha1(password, stored_hash),
            Hasher::Md5 => digest_formats::verify_md5(password, stored_hash),
            Hasher::Noop => encoding::constant_time_eq(password, stored_hash.as_bytes()),
        }
    }
}

impl fmt::Display for Hasher {
    /// Writes the lowercase setting name.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.name())
    }
}

/// Checks a password against a stored hash whose format is recognised from its prefix
/// (`Hasher.verifyHash`). Unsupported or malformed hashes give `false`, never a panic.
pub(crate) fn verify_hash(password: &[u8], stored_hash: &str) -> bool {
    match Hasher::resolve_from_hash(stored_hash) {
        Ok(hasher) => hasher.verify(password, stored_hash),
        Err(_) => false,
    }
}

/// Tells whether a stored hash has no recognised prefix, so that Elasticsearch would compare it
/// as clear text (the NOOP format). Callers use it to refuse clear-text stored passwords.
pub(crate) fn is_plaintext_hash(stored_hash: &str) -> bool {
    matches!(Hasher::resolve_from_hash(stored_hash), Ok(Hasher::Noop))
}

/// Checks a `password_hash` given to the put-user or change-password API: it must use the
/// configured hasher or any bcrypt/PBKDF2 hasher. Returns the hasher it resolves to, or the
/// message of Elasticsearch's `IllegalArgumentException`.
pub(crate) fn check_password_hash_for_storage(stored_hash: &str, configured_hasher: Hasher) -> Result<Hasher, String> {
    let resolved_hasher = Hasher::resolve_from_hash(stored_hash)?;
    if resolved_hasher != configured_hasher && !resolved_hasher.is_allowed_for_stored_passwords() {
        return Err(format!(
            "The provided password hash is not a hash or it could not be resolved to a supported hash \
             algorithm. The supported password hash algorithms are {}",
            java_list(&stored_password_algorithm_names())
        ));
    }
    Ok(resolved_hasher)
}

/// Returns the lowercase names of the hashers allowed for stored passwords, in Elasticsearch's
/// enum order (`Hasher.getAvailableAlgoStoredPasswordHash`).
pub(crate) fn stored_password_algorithm_names() -> Vec<String> {
    let mut names = vec![BCRYPT_SETTING_NAME.to_owned()];
    names.extend((BCRYPT_MIN_COST..=BCRYPT_MAX_COST).map(|cost| format!("{BCRYPT_SETTING_NAME}{cost}")));
    for family in [PBKDF2_SETTING_NAME, PBKDF2_STRETCH_SETTING_NAME] {
        names.push(family.to_owned());
        names.extend(PBKDF2_COSTS.iter().map(|iterations| format!("{family}_{iterations}")));
    }
    names
}

/// Resolves `bcrypt[N]`, `pbkdf2[_N]` and `pbkdf2_stretch[_N]` names; the cost must be written
/// exactly as Elasticsearch's switch lists it (no leading zeros).
fn resolve_costed_name(lowercase_name: &str) -> Option<Hasher> {
    if let Some(cost_text) = lowercase_name.strip_prefix(BCRYPT_SETTING_NAME) {
        if cost_text.is_empty() {
            return Some(Hasher::BCRYPT);
        }
        let cost = parse_canonical_number(cost_text)?;
        return BcryptCost::new(cost).map(Hasher::Bcrypt);
    }
    if let Some(rest) = lowercase_name.strip_prefix(PBKDF2_STRETCH_SETTING_NAME) {
        return resolve_pbkdf2_suffix(rest).map(Hasher::Pbkdf2Stretch);
    }
    if let Some(rest) = lowercase_name.strip_prefix(PBKDF2_SETTING_NAME) {
        return resolve_pbkdf2_suffix(rest).map(Hasher::Pbkdf2);
    }
    None
}

/// Resolves the `""` or `_<iterations>` suffix of a PBKDF2 setting name.
fn resolve_pbkdf2_suffix(suffix: &str) -> Option<Pbkdf2Cost> {
    if suffix.is_empty() {
        return Some(Pbkdf2Cost(PBKDF2_DEFAULT_COST));
    }
    let iterations = parse_canonical_number(suffix.strip_prefix('_')?)?;
    Pbkdf2Cost::new(iterations)
}

/// Parses a decimal number written without sign or leading zeros.
fn parse_canonical_number(text: &str) -> Option<i64> {
    let number: i64 = text.parse().ok()?;
    (number.to_string() == text).then_some(number)
}

/// Formats names the way Java's `List.toString` does: `[a, b, c]`.
fn java_list(names: &[String]) -> String {
    format!("[{}]", names.join(", "))
}
