//! Byte helpers shared by the hash formats: base64 the way Java encodes and decodes it,
//! constant-time comparison, random salts and Java's `Integer.parseInt`.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use rand::RngCore as _;
use subtle::ConstantTimeEq as _;

/// Decodes like Java's `Base64.getDecoder()`: standard alphabet, padding optional, unused
/// trailing bits ignored.
const JAVA_BASE64_DECODER: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Encodes like Java's `Base64.getEncoder()`: standard alphabet with padding.
pub(super) fn encode_base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes like Java's `Base64.getDecoder()`; `None` where Java would throw.
pub(super) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    JAVA_BASE64_DECODER.decode(text).ok()
}

/// Compares two byte strings in time independent of their content (their lengths may leak).
pub(super) fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    left.ct_eq(right).into()
}

/// Returns `length` bytes from the operating system's random source.
pub(super) fn random_salt<const LENGTH: usize>() -> [u8; LENGTH] {
    let mut salt = [0u8; LENGTH];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    salt
}

/// Parses like Java's `Integer.parseInt`: optional sign, decimal digits, 32-bit range.
/// The error is the message of Java's `NumberFormatException`.
pub(super) fn parse_java_int(text: &str) -> Result<i32, String> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(format!("For input string: \"{text}\""));
    }
    text.parse::<i32>().map_err(|_| format!("For input string: \"{text}\""))
}
