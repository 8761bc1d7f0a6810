//! The wire format of access and refresh tokens, and the hashes stored in their place.
//!
//! A token is the standard base64 of `version (1 byte) | pair id (16 bytes) | secret (32 bytes)`. The access
//! and refresh token of one grant share the pair id, as Elasticsearch's tokens share a document-id suffix,
//! so both lead to the same token document: `token_` + base64url(SHA-256(pair id)). The document keeps only
//! the SHA-256 of each whole token, compared in constant time; the tokens themselves are never stored.
//!
//! The tokens that supersede a refreshed refresh token are derived from that refresh token and a stored
//! random salt with HMAC-SHA256, so that a client repeating the refresh within Elasticsearch's 30-second
//! window gets the same pair again while only the holder of the old refresh token can recompute it.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD, URL_SAFE_NO_PAD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The format version, first byte of every token.
const FORMAT_VERSION: u8 = 1;
const PAIR_ID_BYTES: usize = 16;
const SECRET_BYTES: usize = 32;
const RAW_TOKEN_BYTES: usize = 1 + PAIR_ID_BYTES + SECRET_BYTES;
/// Bytes of the salt that derives superseding tokens.
pub(crate) const SALT_BYTES: usize = 32;
/// Prefix of token document ids, as Elasticsearch names them.
const DOC_ID_PREFIX: &str = "token_";

/// Base64 that, like Java's basic decoder, accepts tokens with or without padding.
const LENIENT_STANDARD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A decoded access or refresh token. Its `Debug` output never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct RawToken {
    bytes: [u8; RAW_TOKEN_BYTES],
}

impl std::fmt::Debug for RawToken {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("RawToken(..)")
    }
}

impl RawToken {
    fn from_parts(pair_id: &[u8; PAIR_ID_BYTES], secret: &[u8; SECRET_BYTES]) -> RawToken {
        let mut bytes = [0u8; RAW_TOKEN_BYTES];
        bytes[0] = FORMAT_VERSION;
        bytes[1..=PAIR_ID_BYTES].copy_from_slice(pair_id);
        bytes[1 + PAIR_ID_BYTES..].copy_from_slice(secret);
        RawToken { bytes }
    }

    /// Decodes a token string; `None` when it is not one of ours.
    pub(crate) fn decode(text: &str) -> Option<RawToken> {
        let decoded = LENIENT_STANDARD.decode(text.as_bytes()).ok()?;
        let bytes: [u8; RAW_TOKEN_BYTES] = decoded.try_into().ok()?;
        (bytes[0] == FORMAT_VERSION).then_some(RawToken { bytes })
    }

    /// Returns the string handed to clients.
    pub(crate) fn encode(&self) -> String {
        STANDARD.encode(self.bytes)
    }

    fn pair_id(&self) -> &[u8] {
        &self.bytes[1..=PAIR_ID_BYTES]
    }

    /// Returns the id of the token document shared by the access and refresh token of a pair.
    pub(crate) fn doc_id(&self) -> String {
        format!("{DOC_ID_PREFIX}{}", URL_SAFE_NO_PAD.encode(Sha256::digest(self.pair_id())))
    }

    /// Returns the hash stored in place of the token.
    pub(crate) fn hash(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.bytes))
    }
}

/// An access token and, for the password and refresh grants, its refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenPair {
    pub(crate) access: RawToken,
    pub(crate) refresh: Option<RawToken>,
}

impl TokenPair {
    /// Returns a fresh random pair.
    pub(crate) fn random(with_refresh_token: bool) -> TokenPair {
        let mut rng = rand::rngs::OsRng;
        let mut pair_id = [0u8; PAIR_ID_BYTES];
        rng.fill_bytes(&mut pair_id);
        let mut access_secret = [0u8; SECRET_BYTES];
        rng.fill_bytes(&mut access_secret);
        let refresh = with_refresh_token.then(|| {
            let mut refresh_secret = [0u8; SECRET_BYTES];
            rng.fill_bytes(&mut refresh_secret);
            RawToken::from_parts(&pair_id, &refresh_secret)
        });
        TokenPair { access: RawToken::from_parts(&pair_id, &access_secret), refresh }
    }

    /// Returns the pair that supersedes `refreshed`: the same for the same refresh token and salt.
    pub(crate) fn superseding(refreshed: &RawToken, salt: &[u8]) -> TokenPair {
        let derive = |label: &[u8]| -> [u8; 32] {
            // HMAC accepts keys of any length; the fallback is never taken.
            let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&refreshed.bytes) else {
                return [0u8; 32];
            };
            mac.update(label);
            mac.update(salt);
            mac.finalize().into_bytes().into()
        };
        let pair_id_material = derive(b"profiled token pair id");
        let mut pair_id = [0u8; PAIR_ID_BYTES];
        pair_id.copy_from_slice(&pair_id_material[..PAIR_ID_BYTES]);
        TokenPair {
            access: RawToken::from_parts(&pair_id, &derive(b"profiled access token")),
            refresh: Some(RawToken::from_parts(&pair_id, &derive(b"profiled refresh token"))),
        }
    }
}

/// Returns a random salt for superseding tokens, base64 encoded as stored.
pub(crate) fn random_salt() -> String {
    let mut salt = [0u8; SALT_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    STANDARD.encode(salt)
}

/// Decodes a stored salt.
pub(crate) fn decode_salt(stored: &str) -> Option<Vec<u8>> {
    STANDARD.decode(stored).ok().filter(|salt| salt.len() == SALT_BYTES)
}

/// Compares a stored hash with the hash of a presented token in constant time.
pub(crate) fn hashes_match(stored: &str, presented: &str) -> bool {
    stored.len() == presented.len() && bool::from(stored.as_bytes().ct_eq(presented.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_pairs_share_their_document() {
        let pair = TokenPair::random(true);
        let refresh = pair.refresh.clone().expect("refresh token");
        let access_text = pair.access.encode();
        assert_eq!(RawToken::decode(&access_text).as_ref(), Some(&pair.access));
        assert_eq!(pair.access.doc_id(), refresh.doc_id());
        assert!(pair.access.doc_id().starts_with("token_"));
        assert_ne!(pair.access.hash(), refresh.hash());
        assert!(!access_text.contains(&pair.access.hash()));
        // Without padding it still decodes, as Java's decoder allows.
        assert_eq!(RawToken::decode(access_text.trim_end_matches('=')).as_ref(), Some(&pair.access));
        assert!(TokenPair::random(false).refresh.is_none());
    }

    #[test]
    fn foreign_strings_are_not_tokens() {
        for text in ["", "foo", "!this_is_not_a_base64_string", "10we+might+assume+this+is+valid+old+token", "a.b.c"] {
            assert_eq!(RawToken::decode(text), None, "{text}");
        }
        let mut bytes = RawToken::decode(&TokenPair::random(false).access.encode()).expect("token").bytes;
        bytes[0] = 2;
        assert_eq!(RawToken::decode(&STANDARD.encode(bytes)), None);
    }

    #[test]
    fn superseding_pairs_are_reproducible_only_with_the_same_inputs() {
        let refresh = TokenPair::random(true).refresh.expect("refresh token");
        let salt = decode_salt(&random_salt()).expect("salt");
        let first = TokenPair::superseding(&refresh, &salt);
        assert_eq!(first, TokenPair::superseding(&refresh, &salt));
        let other_salt = decode_salt(&random_salt()).expect("salt");
        assert_ne!(first, TokenPair::superseding(&refresh, &other_salt));
        let other_refresh = TokenPair::random(true).refresh.expect("refresh token");
        assert_ne!(first, TokenPair::superseding(&other_refresh, &salt));
        let new_refresh = first.refresh.expect("refresh token");
        assert_eq!(first.access.doc_id(), new_refresh.doc_id());
        assert_ne!(first.access.doc_id(), refresh.doc_id());
    }

    #[test]
    fn hash_comparison() {
        let token = TokenPair::random(false).access;
        assert!(hashes_match(&token.hash(), &token.hash()));
        assert!(!hashes_match(&token.hash(), &TokenPair::random(false).access.hash()));
        assert!(!hashes_match(&token.hash(), ""));
    }
}
