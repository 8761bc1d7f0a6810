//! The digest formats used by caches and legacy stores: `{SSHA256}`, `{SHA}` and `{MD5}`.

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::encoding::{constant_time_eq, decode_base64, encode_base64, random_salt};
use super::{MD5_PREFIX, SHA1_PREFIX, SSHA256_PREFIX};

/// Length of the base64 salt of `{SSHA256}` (8 bytes, padded).
const SSHA256_SALT_TEXT_LENGTH: usize = 12;

/// Hashes into `{SSHA256}<12-character base64 salt><base64 SHA-256(password ‖ salt)>`.
pub(super) fn hash_ssha256(password: &[u8]) -> String {
    hash_ssha256_with_salt(password, &random_salt::<8>())
}

/// Hashes into the `{SSHA256}` form with a given 8-byte salt.
pub(super) fn hash_ssha256_with_salt(password: &[u8], salt: &[u8; 8]) -> String {
    let digest = salted_sha256(password, salt);
    format!("{SSHA256_PREFIX}{}{}", encode_base64(salt), encode_base64(&digest))
}

/// Checks a password against a `{SSHA256}` hash; malformed hashes give `false`.
pub(super) fn verify_ssha256(password: &[u8], stored_hash: &str) -> bool {
    let Some(salt_and_digest) = stored_hash.strip_prefix(SSHA256_PREFIX) else {
        return false;
    };
    let (Some(salt_text), Some(digest_text)) =
        (salt_and_digest.get(..SSHA256_SALT_TEXT_LENGTH), salt_and_digest.get(SSHA256_SALT_TEXT_LENGTH..))
    else {
        return false;
    };
    let Some(salt) = decode_base64(salt_text) else {
        return false;
    };
    let digest = salted_sha256(password, &salt);
    constant_time_eq(encode_base64(&digest).as_bytes(), digest_text.as_bytes())
}

/// Hashes into `{SHA}<base64 SHA-1>`.
pub(super) fn hash_sha1(password: &[u8]) -> String {
    format!("{SHA1_PREFIX}{}", encode_base64(&Sha1::digest(password)))
}

/// Checks a password against a `{SHA}` hash.
pub(super) fn verify_sha1(password: &[u8], stored_hash: &str) -> bool {
    let Some(digest_text) = stored_hash.strip_prefix(SHA1_PREFIX) else {
        return false;
    };
    constant_time_eq(encode_base64(&Sha1::digest(password)).as_bytes(), digest_text.as_bytes())
}

/// Hashes into `{MD5}<base64 MD5>`.
pub(super) fn hash_md5(password: &[u8]) -> String {
    format!("{MD5_PREFIX}{}", encode_base64(&Md5::digest(password)))
}

/// Checks a password against a `{MD5}` hash.
pub(super) fn verify_md5(password: &[u8], stored_hash: &str) -> bool {
    let Some(digest_text) = stored_hash.strip_prefix(MD5_PREFIX) else {
        return false;
    };
    constant_time_eq(encode_base64(&Md5::digest(password)).as_bytes(), digest_text.as_bytes())
}

fn salted_sha256(password: &[u8], salt: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(password);
    hasher.update(salt);
    hasher.finalize().into()
}
