//! Tests of the hash formats against Elasticsearch-generated vectors (wire-compat.md §3).

use proptest::prelude::*;

use super::*;

const PASSWORD: &[u8] = b"s3krit-password";
const WRONG_PASSWORD: &[u8] = b"s3krit-passwore";

/// (setting name, hash produced by Elasticsearch for `s3krit-password`).
const ELASTICSEARCH_VECTORS: &[(&str, &str)] = &[
    ("bcrypt", "$2a$10$hZ210etBMp4qDibBlYuM5OMol9kWfxP8l/q45N.DHeFHDglItKFHK"),
    ("bcrypt4", "$2a$04$Sv6/XOHqatGPW8Q.Df366OdOJ4K2PjkZRXfNwIl5lnCsF7rEmW4QG"),
    ("pbkdf2", "{PBKDF2}10000$Kunhs+UPALZQdZn+Iq/6M0jxKUUANssq/grvaBWiKHc=$/5kC6Og8RBEViABk8Vl4VzGg+w903kJ9QOGIH/poOpw="),
    ("pbkdf2_1000", "{PBKDF2}1000$idJWd5jKMv2otaSQPeiqfuwQwKlLePd9MO5WH3Lb1Bg=$cMO+qjwSOCu+h9KT3mIOCjPu2Tt48YlruvFmakowF/4="),
    ("pbkdf2_stretch", "{PBKDF2_STRETCH}10000$fa/OMR9ivnHVbXeOeyaeNi3lKw+h8XAOw04o7TKFHYw=$JDqJy6mzYHjs7kKVWsMMb89QfhScANwVZL45nNjLkyw="),
    ("pbkdf2_stretch_1000", "{PBKDF2_STRETCH}1000$MUvgyTjislA73wFYwTS2GUIcttvr6v1n+0zgs7rJpEk=$Jq7hTBGbI5iXTeQXWql0iWYnHk5d6+5hSOeqbPRLoPw="),
    ("ssha256", "{SSHA256}g5fsEj+h2s8=ygoZe/JmUmcvk5TeI4A6JKrKwvJUgMxnK9DV9VwJjA4="),
    ("sha1", "{SHA}5ao9QuIU/NaNLOngdov8X0sciUY="),
    ("md5", "{MD5}XWO4TJXI8qtAxHqO/5ejXQ=="),
    ("noop", "s3krit-password"),
];

const SALT_00_TO_1F_PBKDF2: &str =
    "{PBKDF2}10000$AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=$ci1o45bsnUsZdKkZk2qm24GQuWr3drkFwwiELUJQHBQ=";
const SALT_00_TO_1F_PBKDF2_STRETCH: &str =
    "{PBKDF2_STRETCH}10000$AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=$qOZSEVLWUAK6+12YwRoKSxLLqVFDeirZGOYV66dQIPg=";
/// The ES test fixture service token secret and its stored hash.
const SERVICE_TOKEN_SECRET: &[u8] = b"r5wdbdboQSe9vGOKwaJGAw";
const SERVICE_TOKEN_HASH: &str =
    "{PBKDF2_STRETCH}10000$8QN+eThJEaCd18sCP0nfzxJq2D9yhmSZgI20TDooYcE=$+0ELfqW4D2+/SlHvm/885dzv67qO2SMJg32Mv/9epXk=";

fn salt_00_to_1f() -> Vec<u8> {
    (0u8..32).collect()
}

#[test]
fn every_elasticsearch_vector_verifies_and_rejects_a_wrong_password() {
    for (setting_name, stored_hash) in ELASTICSEARCH_VECTORS {
        assert!(verify_hash(PASSWORD, stored_hash), "{setting_name} should verify");
        assert!(!verify_hash(WRONG_PASSWORD, stored_hash), "{setting_name} accepted a wrong password");
        let resolved = Hasher::resolve_from_hash(stored_hash).unwrap();
        assert_eq!(resolved, Hasher::from_setting(setting_name).unwrap(), "{setting_name}");
        assert!(resolved.verify(PASSWORD, stored_hash), "{setting_name} via its own hasher");
    }
}

#[test]
fn deterministic_pbkdf2_vectors_are_reproduced_exactly() {
    let salt = salt_00_to_1f();
    let pbkdf2 = pbkdf2_format::hash_with_salt(PASSWORD, 10_000, PBKDF2_PREFIX, &salt);
    assert_eq!(pbkdf2, SALT_00_TO_1F_PBKDF2);
    let stretched = pbkdf2_format::stretch(PASSWORD);
    assert_eq!(stretched.len(), 128);
    let stretch = pbkdf2_format::hash_with_salt(&stretched, 10_000, PBKDF2_STRETCH_PREFIX, &salt);
    assert_eq!(stretch, SALT_00_TO_1F_PBKDF2_STRETCH);
    assert!(verify_hash(PASSWORD, SALT_00_TO_1F_PBKDF2));
    assert!(verify_hash(PASSWORD, SALT_00_TO_1F_PBKDF2_STRETCH));
    assert!(!verify_hash(WRONG_PASSWORD, SALT_00_TO_1F_PBKDF2_STRETCH));
}

#[test]
fn elasticsearch_service_token_fixture_verifies() {
    assert!(verify_hash(SERVICE_TOKEN_SECRET, SERVICE_TOKEN_HASH));
    assert!(!verify_hash(b"r5wdbdboQSe9vGOKwaJGAx", SERVICE_TOKEN_HASH));
}

#[test]
fn rehashing_with_the_vector_salt_reproduces_bcrypt_and_ssha256_vectors() {
    let bcrypt_vector = "$2a$04$Sv6/XOHqatGPW8Q.Df366OdOJ4K2PjkZRXfNwIl5lnCsF7rEmW4QG";
    let parts: bcrypt::HashParts = bcrypt_vector.parse().unwrap();
    let rehashed = bcrypt_format::hash_with_salt(PASSWORD, 4, parts.get_salt_raw());
    assert_eq!(rehashed, bcrypt_vector);

    let ssha256_vector = "{SSHA256}g5fsEj+h2s8=ygoZe/JmUmcvk5TeI4A6JKrKwvJUgMxnK9DV9VwJjA4=";
    let salt: [u8; 8] = encoding::decode_base64("g5fsEj+h2s8=").unwrap().try_into().unwrap();
    assert_eq!(digest_formats::hash_ssha256_with_salt(PASSWORD, &salt), ssha256_vector);
}

#[test]
fn bcrypt_minors_b_and_y_verify_but_x_is_clear_text() {
    let vector = "$2a$04$Sv6/XOHqatGPW8Q.Df366OdOJ4K2PjkZRXfNwIl5lnCsF7rEmW4QG";
    for minor in ["$2b$", "$2y$"] {
        let stored_hash = format!("{minor}{}", &vector[4..]);
        assert!(verify_hash(PASSWORD, &stored_hash), "{minor}");
    }
    let stored_hash = format!("$2x${}", &vector[4..]);
    assert_eq!(Hasher::resolve_from_hash(&stored_hash), Ok(Hasher::Noop));
    assert!(!verify_hash(PASSWORD, &stored_hash));
    assert!(verify_hash(stored_hash.as_bytes(), &stored_hash));
}

#[test]
fn hash_then_verify_round_trips_for_every_cheap_algorithm() {
    let hashers = ["bcrypt4", "bcrypt5", "pbkdf2_1000", "pbkdf2_stretch_1000", "ssha256", "sha1", "md5", "noop"];
    for setting_name in hashers {
        let hasher = Hasher::from_setting(setting_name).unwrap();
        let stored_hash = hasher.hash(PASSWORD);
        assert!(verify_hash(PASSWORD, &stored_hash), "{setting_name}: {stored_hash}");
        assert!(!verify_hash(WRONG_PASSWORD, &stored_hash), "{setting_name}");
        assert_eq!(Hasher::resolve_from_hash(&stored_hash), Ok(hasher), "{setting_name}");
    }
}

#[test]
fn default_cost_hashes_have_elasticsearch_shapes() {
    let bcrypt = Hasher::BCRYPT.hash(PASSWORD);
    assert!(bcrypt.starts_with("$2a$10$") && bcrypt.len() == 60, "{bcrypt}");
    assert!(verify_hash(PASSWORD, &bcrypt));

    for (hasher, prefix) in [(Hasher::PBKDF2, "{PBKDF2}10000$"), (Hasher::PBKDF2_STRETCH, "{PBKDF2_STRETCH}10000$")] {
        let stored_hash = hasher.hash(PASSWORD);
        let rest = stored_hash.strip_prefix(prefix).unwrap();
        let (salt, key) = rest.split_once('$').unwrap();
        assert_eq!((salt.len(), key.len()), (44, 44), "{stored_hash}");
        assert_eq!(encoding::decode_base64(salt).unwrap().len(), 32);
        assert!(verify_hash(PASSWORD, &stored_hash));
    }
    let ssha256 = Hasher::Ssha256.hash(PASSWORD);
    assert_eq!(ssha256.len(), "{SSHA256}".len() + 12 + 44);
}

#[test]
fn salts_are_random() {
    assert_ne!(
        Hasher::from_setting("pbkdf2_1000").unwrap().hash(PASSWORD),
        Hasher::from_setting("pbkdf2_1000").unwrap().hash(PASSWORD)
    );
    assert_ne!(Hasher::Ssha256.hash(PASSWORD), Hasher::Ssha256.hash(PASSWORD));
}

#[test]
fn a_pbkdf2_hasher_uses_its_own_iteration_count_like_elasticsearch() {
    let vector_1000 = ELASTICSEARCH_VECTORS[3].1;
    assert!(Hasher::from_setting("pbkdf2_1000").unwrap().verify(PASSWORD, vector_1000));
    assert!(!Hasher::PBKDF2.verify(PASSWORD, vector_1000));
    assert!(!Hasher::PBKDF2_STRETCH.verify(PASSWORD, SALT_00_TO_1F_PBKDF2));
}

#[test]
fn pbkdf2_key_length_comes_from_the_stored_key() {
    let salt = salt_00_to_1f();
    let mut long_key = [0u8; 64];
    pbkdf2::pbkdf2_hmac::<sha2::Sha512>(PASSWORD, &salt, 1000, &mut long_key);
    let stored_hash =
        format!("{{PBKDF2}}1000${}${}", encoding::encode_base64(&salt), encoding::encode_base64(&long_key));
    assert!(verify_hash(PASSWORD, &stored_hash));
    let short_salt = format!("{{PBKDF2}}1000${}${}", encoding::encode_base64(&salt[..8]), "x");
    assert!(!verify_hash(PASSWORD, &short_salt));
    // an unpadded salt decodes the way Java's decoder accepts it
    let unpadded = SALT_00_TO_1F_PBKDF2.replacen("Hh8=$", "Hh8$", 1);
    assert!(verify_hash(PASSWORD, &unpadded));
}

#[test]
fn malformed_hashes_are_rejected_without_panic() {
    let vector = ELASTICSEARCH_VECTORS[3].1;
    let seven_byte_salt = pbkdf2_format::hash_with_salt(PASSWORD, 1000, PBKDF2_PREFIX, &[7u8; 7]);
    let malformed = [
        // truncated
        "$2a$10$hZ210etBMp4qDibBlYuM5OMol9kWfxP8l/q45N.DHeFHDglItKFH",
        "$2a$",
        "$2a$10$",
        "{PBKDF2}",
        "{PBKDF2}1000",
        "{PBKDF2}1000$",
        "{PBKDF2}1000$idJWd5jKMv2otaSQPeiqfuwQwKlLePd9MO5WH3Lb1Bg=",
        "{PBKDF2}1000$idJWd5jKMv2otaSQPeiqfuwQwKlLePd9MO5WH3Lb1Bg=$",
        "{PBKDF2}1000$idJWd5jKMv2otaSQPeiqfuwQwKlLePd9MO5WH3Lb1Bg=$cMO+qjwSOCu+h9KT3mIOCjPu2Tt48YlruvFmakowF/",
        "{SSHA256}g5fsEj+h2s8",
        "{SSHA256}",
        "{SHA}",
        "{MD5}XWO4TJXI8qtAxHqO/5ejXQ=",
        // bad base64
        "{PBKDF2}1000$idJWd5jKMv2o*aSQPeiqfuwQwKlLePd9MO5WH3Lb1Bg=$cMO+qjwSOCu+h9KT3mIOCjPu2Tt48YlruvFmakowF/4=",
        "{PBKDF2}1000$idJWd5jKMv2otaSQPeiqfuwQwKlLePd9MO5WH3Lb1Bg=$cMO+qjwSOCu+h9KT3mIOCjPu2Tt48YlruvFmakow!/4=",
        "{SSHA256}g5fsEj+h2s*=ygoZe/JmUmcvk5TeI4A6JKrKwvJUgMxnK9DV9VwJjA4=",
        "$2a$04$Sv6/XOHqatGPW8Q.Df366OdOJ4K2PjkZRXfNwIl5lnCsF7rEmW4Q!",
        // salt shorter than 8 bytes
        seven_byte_salt.as_str(),
        // non-numeric, zero, negative, unsupported or overflowing iterations and costs
        "{PBKDF2}abc$idJWd5jKMv2otaSQPeiqfuwQwKlLePd9MO5WH3Lb1Bg=$cMO+qjwSOCu+h9KT3mIOCjPu2Tt48YlruvFmakowF/4=",
        "{PBKDF2}0$idJWd5jKMv2otaSQPeiqfuwQwKlLePd9MO5WH3Lb1Bg=$cMO+qjwSOCu+h9KT3mIOCjPu2Tt48YlruvFmakowF/4=",
        "{PBKDF2}-1000$idJWd5jKMv2otaSQPeiqfuwQwKlLePd9MO5WH3Lb1Bg=$cMO+qjwSOCu+h9KT3mIOCjPu2Tt48YlruvFmakowF/4=",
        "{PBKDF2}2000$idJWd5jKMv2otaSQPeiqfuwQwKlLePd9MO5WH3Lb1Bg=$cMO+qjwSOCu+h9KT3mIOCjPu2Tt48YlruvFmakowF/4=",
        "{PBKDF2}99999999999$idJWd5jKMv2otaSQPeiqfuwQwKlLePd9MO5WH3Lb1Bg=$cMO+qjwSOCu+h9KT3mIOCjPu2Tt48YlruvFmakowF/4=",
        "{PBKDF2_STRETCH}$$",
        "$2a$15$hZ210etBMp4qDibBlYuM5OMol9kWfxP8l/q45N.DHeFHDglItKFHK",
        "$2a$03$hZ210etBMp4qDibBlYuM5OMol9kWfxP8l/q45N.DHeFHDglItKFHK",
        "$2a$xx$hZ210etBMp4qDibBlYuM5OMol9kWfxP8l/q45N.DHeFHDglItKFHK",
        "$2a$10$hZ210etBMp4qDibBlYuM5OMol9kWfxP8l/q45N.DHeFHDglItKFHKé",
        "{PBKDF2}1000$é$é",
    ];
    assert!(verify_hash(PASSWORD, vector));
    for stored_hash in malformed {
        assert!(!verify_hash(PASSWORD, stored_hash), "{stored_hash}");
        assert!(!is_plaintext_hash(stored_hash) || !stored_hash.starts_with('{'), "{stored_hash}");
    }
}

#[test]
fn resolving_malformed_hashes_gives_elasticsearch_messages() {
    let cases = [
        ("{PBKDF2}abc$x$y", "The number of iterations could not be determined from the provided PBKDF2 hash."),
        ("{PBKDF2}1000", "The number of iterations could not be determined from the provided PBKDF2 hash."),
        ("{PBKDF2}2000$x$y", "unknown hash function [pbkdf2_2000]"),
        ("{PBKDF2}0$x$y", "unknown hash function [pbkdf2_0]"),
        ("{PBKDF2_STRETCH}5$x$y", "unknown hash function [pbkdf2_stretch_5]"),
        ("$2a$15$hZ210etBMp4qDibBlYuM5OMol9kWfxP8l/q45N.DHeFHDglItKFHK", "unknown hash function [bcrypt15]"),
        ("$2a$xx$hZ210etBMp4qDibBlYuM5OMol9kWfxP8l/q45N.DHeFHDglItKFHK", "For input string: \"xx\""),
        ("$2a$", "4 > -50"),
    ];
    for (stored_hash, message) in cases {
        assert_eq!(Hasher::resolve_from_hash(stored_hash), Err(message.to_owned()), "{stored_hash}");
    }
    assert_eq!(
        Hasher::resolve_from_hash("{PBKDF2}010000$x$y"),
        Ok(Hasher::PBKDF2),
        "Java's parseInt accepts leading zeros"
    );
}

#[test]
fn plaintext_detection_follows_resolve_from_hash() {
    for stored_hash in ["s3krit-password", "", "$2$10$abc", "{pbkdf2}1000$a$b", "{SHA256}abc", "$2x$10$abc"] {
        assert!(is_plaintext_hash(stored_hash), "{stored_hash}");
    }
    for (_, stored_hash) in &ELASTICSEARCH_VECTORS[..9] {
        assert!(!is_plaintext_hash(stored_hash), "{stored_hash}");
    }
}

#[test]
fn setting_names_resolve_case_insensitively_like_elasticsearch() {
    let cases = [
        ("bcrypt", "bcrypt"),
        ("BCRYPT", "bcrypt"),
        ("bcrypt10", "bcrypt"),
        ("BCrypt4", "bcrypt4"),
        ("bcrypt14", "bcrypt14"),
        ("pbkdf2", "pbkdf2"),
        ("pbkdf2_10000", "pbkdf2"),
        ("PBKDF2_1000000", "pbkdf2_1000000"),
        ("pbkdf2_stretch", "pbkdf2_stretch"),
        ("pbkdf2_stretch_500000", "pbkdf2_stretch_500000"),
        ("SSHA256", "ssha256"),
        ("sha1", "sha1"),
        ("md5", "md5"),
        ("noop", "noop"),
        ("clear_text", "noop"),
    ];
    for (setting, name) in cases {
        assert_eq!(Hasher::from_setting(setting).map(|hasher| hasher.name()), Ok(name.to_owned()), "{setting}");
    }
    for unknown in [
        "bcrypt3",
        "bcrypt15",
        "bcrypt04",
        "bcrypt+4",
        "pbkdf2_2000",
        "pbkdf2_",
        "pbkdf2_01000",
        "sha256",
        "",
        "Argon2",
    ] {
        assert_eq!(Hasher::from_setting(unknown), Err(format!("unknown hash function [{unknown}]")));
    }
}

#[test]
fn only_bcrypt_and_pbkdf2_families_are_allowed_for_stored_passwords() {
    let names = stored_password_algorithm_names();
    assert_eq!(names.len(), 12 + 7 + 7);
    assert_eq!(&names[..3], ["bcrypt", "bcrypt4", "bcrypt5"]);
    assert_eq!(names[12], "pbkdf2");
    assert_eq!(names[25], "pbkdf2_stretch_1000000");
    for name in &names {
        assert!(Hasher::from_setting(name).unwrap().is_allowed_for_stored_passwords(), "{name}");
        assert!(Hasher::from_password_hashing_setting(name).is_ok(), "{name}");
    }
    for name in ["ssha256", "sha1", "md5", "noop", "clear_text"] {
        assert!(!Hasher::from_setting(name).unwrap().is_allowed_for_stored_passwords());
    }
    let message = Hasher::from_password_hashing_setting("SSHA256").unwrap_err();
    assert!(
        message.starts_with("Invalid algorithm: SSHA256. Valid values for password hashing are [bcrypt, bcrypt4, "),
        "{message}"
    );
    assert!(message.ends_with(", pbkdf2_stretch_500000, pbkdf2_stretch_1000000]"), "{message}");
    assert_eq!(Hasher::from_password_hashing_setting("PBKDF2_STRETCH"), Ok(Hasher::PBKDF2_STRETCH));
}

#[test]
fn password_hashes_for_storage_must_be_bcrypt_or_pbkdf2() {
    for (_, stored_hash) in &ELASTICSEARCH_VECTORS[..6] {
        assert!(check_password_hash_for_storage(stored_hash, Hasher::BCRYPT).is_ok(), "{stored_hash}");
    }
    for (_, stored_hash) in &ELASTICSEARCH_VECTORS[6..] {
        let message = check_password_hash_for_storage(stored_hash, Hasher::BCRYPT).unwrap_err();
        assert!(
            message.starts_with(
                "The provided password hash is not a hash or it could not be resolved to a supported hash algorithm. \
             The supported password hash algorithms are [bcrypt, bcrypt4,"
            ),
            "{message}"
        );
    }
    assert_eq!(
        check_password_hash_for_storage("{PBKDF2}7$a$b", Hasher::BCRYPT),
        Err("unknown hash function [pbkdf2_7]".to_owned())
    );
}

#[test]
fn java_int_parsing_matches_integer_parse_int() {
    assert_eq!(encoding::parse_java_int("+10"), Ok(10));
    assert_eq!(encoding::parse_java_int("-10"), Ok(-10));
    assert_eq!(encoding::parse_java_int("0010"), Ok(10));
    for bad in ["", "+", "-", "1_0", " 1", "2147483648", "1e3"] {
        assert_eq!(encoding::parse_java_int(bad), Err(format!("For input string: \"{bad}\"")));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn bcrypt4_and_pbkdf2_1000_verify_what_they_hash(password in proptest::collection::vec(any::<u8>(), 0..80)) {
        for setting_name in ["bcrypt4", "pbkdf2_1000", "pbkdf2_stretch_1000"] {
            let hasher = Hasher::from_setting(setting_name).unwrap();
            let stored_hash = hasher.hash(&password);
            prop_assert!(verify_hash(&password, &stored_hash), "{} {}", setting_name, stored_hash);
            let mut other_password = password.clone();
            other_password.push(b'x');
            // bcrypt only reads the first 72 bytes, so a longer suffix change is invisible to it
            if password.len() < 72 {
                prop_assert!(!verify_hash(&other_password, &stored_hash), "{}", setting_name);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_stored_hashes_never_panic(
        prefix in prop::sample::select(vec!["", "$2a$", "$2y$04$", "{PBKDF2}", "{PBKDF2}1000$", "{PBKDF2_STRETCH}1000$", "{SSHA256}", "{SHA}", "{MD5}"]),
        rest in "\\PC{0,70}",
    ) {
        let stored_hash = format!("{prefix}{rest}");
        let _ = verify_hash(PASSWORD, &stored_hash);
        let _ = is_plaintext_hash(&stored_hash);
        let _ = Hasher::resolve_from_hash(&stored_hash);
    }
}
