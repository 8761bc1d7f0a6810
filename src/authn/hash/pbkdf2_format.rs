//! The PBKDF2 formats: `{PBKDF2}<iterations>$<salt>$<key>` and `{PBKDF2_STRETCH}…`, with
//! PBKDF2-HMAC-SHA512, a 32-byte salt and a 32-byte key, both in padded standard base64.

use sha2::{Digest as _, Sha512};

use super::encoding::{constant_time_eq, decode_base64, encode_base64, parse_java_int, random_salt};

/// Salt length Elasticsearch generates.
const SALT_LENGTH: usize = 32;
/// Key length Elasticsearch generates (256 bits).
const KEY_LENGTH: usize = 32;
/// Shortest salt Elasticsearch accepts when verifying.
const MIN_SALT_LENGTH: usize = 8;
/// Key lengths must be whole HMAC-SHA512 blocks of 128 bits.
const KEY_BLOCK_BITS: usize = 128;

const ITERATIONS_NOT_FOUND: &str = "The number of iterations could not be determined from the provided PBKDF2 hash.";

/// Reads the iteration count that follows the prefix (`Hasher.parsePbkdf2Iterations`); the
/// error is Elasticsearch's message.
pub(super) fn parse_iterations(after_prefix: &str) -> Result<i64, String> {
    let Some((iterations_text, _)) = after_prefix.split_once('$') else {
        return Err(ITERATIONS_NOT_FOUND.to_owned());
    };
    parse_java_int(iterations_text).map(i64::from).map_err(|_| ITERATIONS_NOT_FOUND.to_owned())
}

/// Returns the lowercase hex SHA-512 of the password, the input of the `_STRETCH` variants.
pub(super) fn stretch(password: &[u8]) -> Vec<u8> {
    hex::encode(Sha512::digest(password)).into_bytes()
}

/// Hashes with a random 32-byte salt into `<prefix><iterations>$<salt>$<key>`.
pub(super) fn hash(input: &[u8], iterations: u32, prefix: &str) -> String {
    hash_with_salt(input, iterations, prefix, &random_salt::<SALT_LENGTH>())
}

/// Hashes with a given salt into `<prefix><iterations>$<salt>$<key>`.
pub(super) fn hash_with_salt(input: &[u8], iterations: u32, prefix: &str, salt: &[u8]) -> String {
    let mut key = [0u8; KEY_LENGTH];
    pbkdf2::pbkdf2_hmac::<Sha512>(input, salt, iterations, &mut key);
    format!("{prefix}{iterations}${}${}", encode_base64(salt), encode_base64(&key))
}

/// Checks an input against a stored PBKDF2 hash the way `Hasher.verifyPbkdf2Hash` does: the
/// hasher's own iteration count is used, the iteration field is skipped, the salt must decode to
/// at least 8 bytes and the key length comes from the length of the stored key.
pub(super) fn verify(input: &[u8], stored_hash: &str, iterations: u32, prefix: &str) -> bool {
    let Some(after_prefix) = stored_hash.strip_prefix(prefix) else {
        return false;
    };
    // Elasticsearch looks for the first `$` from the length of its own iteration count on.
    let iteration_digits = iterations.to_string().len();
    let Some((search_start, _)) = after_prefix.char_indices().nth(iteration_digits) else {
        return false;
    };
    let Some((_, salt_and_key)) = after_prefix[search_start..].split_once('$') else {
        return false;
    };
    let Some((salt_text, key_text)) = salt_and_key.split_once('$') else {
        return false;
    };
    verify_key(input, iterations, salt_text, key_text)
}

/// Derives a key as long as the stored one and compares both base64 texts in constant time.
fn verify_key(input: &[u8], iterations: u32, salt_text: &str, key_text: &str) -> bool {
    if !key_text.is_ascii() {
        return false;
    }
    // base64 length to bytes, rounded down to whole 128-bit blocks: n * 3 / 64 * 128 bits.
    let key_bits = key_text.len() * 3 / 64 * KEY_BLOCK_BITS;
    if key_bits == 0 {
        return false;
    }
    let key_length = key_bits / 8;
    // A derived key of this length encodes to a fixed number of characters; a stored key of
    // any other length can never match, so the costly derivation is skipped.
    if key_length.div_ceil(3) * 4 != key_text.len() {
        return false;
    }
    let Some(salt) = decode_base64(salt_text) else {
        return false;
    };
    if salt.len() < MIN_SALT_LENGTH {
        return false;
    }
    let mut derived_key = vec![0u8; key_length];
    pbkdf2::pbkdf2_hmac::<Sha512>(input, &salt, iterations, &mut derived_key);
    constant_time_eq(encode_base64(&derived_key).as_bytes(), key_text.as_bytes())
}
