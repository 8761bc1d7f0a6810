//! The bcrypt format: `$2a$NN$` + 22 salt characters + 31 hash characters.

use super::encoding::{parse_java_int, random_salt};

/// Characters that follow the cost in a bcrypt hash: `$`, 22 salt and 31 hash characters.
const CHARACTERS_AFTER_COST: usize = 54;
/// Length of `$2a$`.
const PREFIX_LENGTH: usize = 4;

/// Tells whether the hash starts with `$2a$`, `$2b$` or `$2y$`, the minors Elasticsearch's
/// bcrypt accepts (not `$2x$`, not a bare `$2$`).
pub(super) fn has_bcrypt_prefix(stored_hash: &str) -> bool {
    let bytes = stored_hash.as_bytes();
    bytes.len() >= PREFIX_LENGTH
        && bytes[0] == b'$'
        && bytes[1] == b'2'
        && matches!(bytes[2], b'a' | b'b' | b'y')
        && bytes[3] == b'$'
}

/// Reads the cost the way `Hasher.resolveFromHash` does: the characters between the prefix and
/// the last 54 characters, parsed as a Java int. Errors carry the message Java throws.
pub(super) fn parse_cost(stored_hash: &str) -> Result<i64, String> {
    let utf16_units: Vec<u16> = stored_hash.encode_utf16().collect();
    let cost_end = utf16_units.len() as i64 - CHARACTERS_AFTER_COST as i64;
    if cost_end < PREFIX_LENGTH as i64 {
        return Err(format!("{PREFIX_LENGTH} > {cost_end}"));
    }
    let cost_text = String::from_utf16_lossy(&utf16_units[PREFIX_LENGTH..cost_end as usize]);
    parse_java_int(&cost_text).map(i64::from)
}

/// Hashes with a random 16-byte salt into the `$2a$` form Elasticsearch writes.
pub(super) fn hash(password: &[u8], cost: u32) -> String {
    hash_with_salt(password, cost, random_salt::<16>())
}

/// Hashes with a given salt into the `$2a$` form.
pub(super) fn hash_with_salt(password: &[u8], cost: u32, salt: [u8; 16]) -> String {
    bcrypt::hash_with_salt(password, cost, salt)
        .expect("bcrypt costs come from BcryptCost, which only holds 4 to 14")
        .format_for_version(bcrypt::Version::TwoA)
}

/// Checks a password against a `$2a$`/`$2b$`/`$2y$` hash, whatever its cost; the bcrypt crate
/// compares the 23 hash bytes in constant time. Malformed hashes give `false`.
pub(super) fn verify(password: &[u8], stored_hash: &str) -> bool {
    if !has_bcrypt_prefix(stored_hash) {
        return false;
    }
    bcrypt::verify(password, stored_hash).unwrap_or(false)
}
