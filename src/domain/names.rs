//! Elasticsearch's rules for native user names, role names and passwords.
//!
//! Mirrors `Validation.Users`, `Validation.Roles` and `NativeRealmValidationUtil` of x-pack core,
//! plus the reserved-user checks of `TransportPutUserAction`. Each function returns the exact
//! message that goes into `Validation Failed: 1: <message>;`.

#![allow(dead_code)]

/// Shortest user or role name.
pub(crate) const MIN_NAME_LENGTH: usize = 1;
/// Longest user or role name in general (`Validation.MAX_NAME_LENGTH`, used by the file realm).
pub(crate) const MAX_NAME_LENGTH: usize = 1024;
/// Longest user or role name in the native realm: the 512-byte document id minus `user-`/`role-`.
pub(crate) const NATIVE_MAX_NAME_LENGTH: usize = 507;
/// Shortest password accepted by the put-user and change-password APIs.
pub(crate) const MIN_PASSWORD_LENGTH: usize = 6;
/// Longest role description.
pub(crate) const MAX_ROLE_DESCRIPTION_LENGTH: usize = 1000;

/// The built-in users of the reserved realm (`ClientReservedRealm.RESERVED_USERNAMES`).
pub(crate) const RESERVED_USERNAMES: &[&str] =
    &["elastic", "kibana", "kibana_system", "logstash_system", "beats_system", "apm_system", "remote_monitoring_user"];

/// The default of `xpack.security.authc.anonymous.username`, reserved even when renamed.
pub(crate) const DEFAULT_ANONYMOUS_USERNAME: &str = "_anonymous";

/// The built-in roles Elasticsearch 9 ships (`ReservedRolesStore`), in its declaration order.
pub(crate) const RESERVED_ROLE_NAMES: &[&str] = &[
    "superuser",
    "transport_client",
    "kibana_admin",
    "kibana_user",
    "monitoring_user",
    "remote_monitoring_agent",
    "remote_monitoring_collector",
    "ingest_admin",
    "reporting_user",
    "kibana_system",
    "logstash_system",
    "beats_admin",
    "beats_system",
    "apm_system",
    "inference_admin",
    "inference_user",
    "machine_learning_user",
    "machine_learning_admin",
    "data_frame_transforms_admin",
    "data_frame_transforms_user",
    "transform_admin",
    "transform_user",
    "watcher_admin",
    "watcher_user",
    "logstash_admin",
    "rollup_user",
    "rollup_admin",
    "snapshot_user",
    "enrich_user",
    "viewer",
    "editor",
];

/// The node settings that decide which user names are reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReservedUserSettings<'a> {
    /// `xpack.security.authc.reserved_realm.enabled` (default `true`).
    pub(crate) reserved_realm_enabled: bool,
    /// `xpack.security.authc.anonymous.username` (default `_anonymous`).
    pub(crate) anonymous_username: &'a str,
}

impl Default for ReservedUserSettings<'_> {
    fn default() -> Self {
        ReservedUserSettings { reserved_realm_enabled: true, anonymous_username: DEFAULT_ANONYMOUS_USERNAME }
    }
}

impl ReservedUserSettings<'_> {
    /// Tells whether the name belongs to a built-in user or to the anonymous user
    /// (`ClientReservedRealm.isReserved`).
    pub(crate) fn is_reserved(&self, username: &str) -> bool {
        if RESERVED_USERNAMES.contains(&username) {
            return self.reserved_realm_enabled;
        }
        self.is_anonymous(username)
    }

    /// Tells whether the name is the configured or the default anonymous user name
    /// (`AnonymousUser.isAnonymousUsername`).
    pub(crate) fn is_anonymous(&self, username: &str) -> bool {
        username == self.anonymous_username || username == DEFAULT_ANONYMOUS_USERNAME
    }
}

/// Validates a native-realm user name with the default settings
/// (`NativeRealmValidationUtil.validateUsername`).
pub(crate) fn validate_username(name: &str, allow_reserved: bool) -> Result<(), String> {
    validate_username_with(name, allow_reserved, NATIVE_MAX_NAME_LENGTH, &ReservedUserSettings::default())
}

/// Validates a user name against a maximum length and the reserved-user settings
/// (`Validation.Users.validateUsername`).
pub(crate) fn validate_username_with(
    name: &str,
    allow_reserved: bool,
    max_length: usize,
    settings: &ReservedUserSettings<'_>,
) -> Result<(), String> {
    if !is_valid_user_or_role_name(name, max_length) {
        return Err(invalid_name_message("User", max_length));
    }
    if !allow_reserved && settings.is_reserved(name) {
        return Err(format!("Username [{name}] is reserved and may not be used."));
    }
    Ok(())
}

/// Validates the user name of a put-user request as `TransportPutUserAction` does: reserved and
/// anonymous users are refused with their own messages, other names get the native-realm rules.
pub(crate) fn validate_put_user_username(name: &str, settings: &ReservedUserSettings<'_>) -> Result<(), String> {
    if settings.is_reserved(name) {
        if settings.is_anonymous(name) {
            return Err(format!("user [{name}] is anonymous and cannot be modified via the API"));
        }
        return Err(format!("user [{name}] is reserved and only the password can be changed"));
    }
    validate_username_with(name, true, NATIVE_MAX_NAME_LENGTH, settings)
}

/// Validates a native-realm role name (`NativeRealmValidationUtil.validateRoleName`). Put-role
/// passes `allow_reserved = false`; the roles listed in a put-user request pass `true`.
pub(crate) fn validate_role_name(name: &str, allow_reserved: bool) -> Result<(), String> {
    validate_role_name_with(name, allow_reserved, NATIVE_MAX_NAME_LENGTH)
}

/// Validates a role name against a maximum length (`Validation.Roles.validateRoleName`).
pub(crate) fn validate_role_name_with(name: &str, allow_reserved: bool, max_length: usize) -> Result<(), String> {
    if !is_valid_user_or_role_name(name, max_length) {
        return Err(invalid_name_message("Role", max_length));
    }
    if !allow_reserved && is_reserved_role_name(name) {
        return Err(format!("Role [{name}] is reserved and may not be used."));
    }
    Ok(())
}

/// Tells whether the name is one of the built-in roles (`ReservedRolesStore.isReserved`).
pub(crate) fn is_reserved_role_name(name: &str) -> bool {
    RESERVED_ROLE_NAMES.contains(&name)
}

/// Validates a role description (`Validation.Roles.validateRoleDescription`).
pub(crate) fn validate_role_description(description: &str) -> Result<(), String> {
    if java_length(description) > MAX_ROLE_DESCRIPTION_LENGTH {
        return Err(format!("Role description must be less than {MAX_ROLE_DESCRIPTION_LENGTH} characters."));
    }
    Ok(())
}

/// Validates a clear-text password of the put-user or change-password API
/// (`Validation.Users.validatePassword`). Length counts UTF-16 units, as Java does.
pub(crate) fn validate_password(password: &str) -> Result<(), String> {
    if java_length(password) < MIN_PASSWORD_LENGTH {
        return Err(format!("passwords must be at least [{MIN_PASSWORD_LENGTH}] characters long"));
    }
    Ok(())
}

/// Applies `Validation.isValidUserOrRoleName`: 1 to `max_length` printable ASCII characters
/// (space to `~`), without a leading or trailing space.
fn is_valid_user_or_role_name(name: &str, max_length: usize) -> bool {
    // every allowed character is ASCII, so bytes and Java characters count the same here
    if name.len() < MIN_NAME_LENGTH || name.len() > max_length {
        return false;
    }
    if !name.bytes().all(|byte| (b' '..=b'~').contains(&byte)) {
        return false;
    }
    !name.starts_with(' ') && !name.ends_with(' ')
}

/// Builds `Validation.INVALID_NAME_MESSAGE` for `User` or `Role`.
fn invalid_name_message(kind: &str, max_length: usize) -> String {
    format!(
        "{kind} names must be at least {MIN_NAME_LENGTH} and no more than {max_length} characters. \
         They can contain alphanumeric characters (a-z, A-Z, 0-9), spaces, punctuation, and printable \
         symbols in the Basic Latin (ASCII) block. Leading or trailing whitespace is not allowed."
    )
}

/// Counts UTF-16 code units, which is what Java's `String.length()` returns.
fn java_length(text: &str) -> usize {
    text.encode_utf16().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NATIVE_USER_MESSAGE: &str =
        "User names must be at least 1 and no more than 507 characters. They can contain \
        alphanumeric characters (a-z, A-Z, 0-9), spaces, punctuation, and printable symbols in the Basic Latin (ASCII) \
        block. Leading or trailing whitespace is not allowed.";
    const NATIVE_ROLE_MESSAGE: &str =
        "Role names must be at least 1 and no more than 507 characters. They can contain \
        alphanumeric characters (a-z, A-Z, 0-9), spaces, punctuation, and printable symbols in the Basic Latin (ASCII) \
        block. Leading or trailing whitespace is not allowed.";

    fn long_name(length: usize) -> String {
        "a".repeat(length)
    }

    #[test]
    fn username_rules() {
        let max_length_name = long_name(507);
        let too_long_name = long_name(508);
        let cases: &[(&str, bool, Result<(), String>)] = &[
            ("jacknich", false, Ok(())),
            ("a", false, Ok(())),
            ("Jack Nicholson", false, Ok(())),
            ("a!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~z", false, Ok(())),
            ("_system", false, Ok(())),
            ("_xpack", false, Ok(())),
            (&max_length_name, false, Ok(())),
            ("", false, Err(NATIVE_USER_MESSAGE.to_owned())),
            (&too_long_name, false, Err(NATIVE_USER_MESSAGE.to_owned())),
            (" jack", false, Err(NATIVE_USER_MESSAGE.to_owned())),
            ("jack ", false, Err(NATIVE_USER_MESSAGE.to_owned())),
            (" ", false, Err(NATIVE_USER_MESSAGE.to_owned())),
            ("jack\tnich", false, Err(NATIVE_USER_MESSAGE.to_owned())),
            ("jack\nnich", false, Err(NATIVE_USER_MESSAGE.to_owned())),
            ("jäck", false, Err(NATIVE_USER_MESSAGE.to_owned())),
            ("jack\u{7f}", false, Err(NATIVE_USER_MESSAGE.to_owned())),
            ("elastic", false, Err("Username [elastic] is reserved and may not be used.".to_owned())),
            ("kibana", false, Err("Username [kibana] is reserved and may not be used.".to_owned())),
            ("kibana_system", false, Err("Username [kibana_system] is reserved and may not be used.".to_owned())),
            ("_anonymous", false, Err("Username [_anonymous] is reserved and may not be used.".to_owned())),
            ("Elastic", false, Ok(())),
            ("elastic", true, Ok(())),
            (" elastic", true, Err(NATIVE_USER_MESSAGE.to_owned())),
        ];
        for (name, allow_reserved, expected) in cases {
            assert_eq!(&validate_username(name, *allow_reserved), expected, "{name:?}");
        }
        for name in RESERVED_USERNAMES {
            assert!(validate_username(name, false).is_err(), "{name}");
            assert!(validate_username(name, true).is_ok(), "{name}");
        }
    }

    #[test]
    fn reserved_usernames_follow_the_settings() {
        let settings = ReservedUserSettings { reserved_realm_enabled: false, anonymous_username: "guest" };
        assert_eq!(validate_username_with("elastic", false, NATIVE_MAX_NAME_LENGTH, &settings), Ok(()));
        for anonymous in ["guest", "_anonymous"] {
            assert_eq!(
                validate_username_with(anonymous, false, NATIVE_MAX_NAME_LENGTH, &settings),
                Err(format!("Username [{anonymous}] is reserved and may not be used."))
            );
        }
        let file_realm_message = invalid_name_message("User", MAX_NAME_LENGTH);
        assert!(file_realm_message.starts_with("User names must be at least 1 and no more than 1024 characters."));
        let settings = ReservedUserSettings::default();
        assert_eq!(validate_username_with(&long_name(1024), false, MAX_NAME_LENGTH, &settings), Ok(()));
        assert_eq!(
            validate_username_with(&long_name(1025), false, MAX_NAME_LENGTH, &settings),
            Err(file_realm_message)
        );
    }

    #[test]
    fn put_user_username_rules() {
        let settings = ReservedUserSettings::default();
        let cases = [
            ("jacknich", Ok(())),
            ("elastic", Err("user [elastic] is reserved and only the password can be changed".to_owned())),
            (
                "remote_monitoring_user",
                Err("user [remote_monitoring_user] is reserved and only the password can be changed".to_owned()),
            ),
            ("_anonymous", Err("user [_anonymous] is anonymous and cannot be modified via the API".to_owned())),
            ("", Err(NATIVE_USER_MESSAGE.to_owned())),
        ];
        for (name, expected) in cases {
            assert_eq!(validate_put_user_username(name, &settings), expected, "{name:?}");
        }
        let renamed = ReservedUserSettings { reserved_realm_enabled: true, anonymous_username: "guest" };
        assert_eq!(
            validate_put_user_username("guest", &renamed),
            Err("user [guest] is anonymous and cannot be modified via the API".to_owned())
        );
    }

    #[test]
    fn role_name_rules() {
        let cases: &[(&str, bool, Result<(), String>)] = &[
            ("my_admin_role", false, Ok(())),
            ("role with spaces", false, Ok(())),
            ("Superuser", false, Ok(())),
            ("superuser", true, Ok(())),
            ("superuser", false, Err("Role [superuser] is reserved and may not be used.".to_owned())),
            ("viewer", false, Err("Role [viewer] is reserved and may not be used.".to_owned())),
            ("editor", false, Err("Role [editor] is reserved and may not be used.".to_owned())),
            ("kibana_admin", false, Err("Role [kibana_admin] is reserved and may not be used.".to_owned())),
            ("", false, Err(NATIVE_ROLE_MESSAGE.to_owned())),
            ("trailing ", true, Err(NATIVE_ROLE_MESSAGE.to_owned())),
            ("rôle", true, Err(NATIVE_ROLE_MESSAGE.to_owned())),
        ];
        for (name, allow_reserved, expected) in cases {
            assert_eq!(&validate_role_name(name, *allow_reserved), expected, "{name:?}");
        }
        assert_eq!(validate_role_name(&long_name(507), false), Ok(()));
        assert_eq!(validate_role_name(&long_name(508), false), Err(NATIVE_ROLE_MESSAGE.to_owned()));
        for name in RESERVED_ROLE_NAMES {
            assert_eq!(validate_role_name(name, false), Err(format!("Role [{name}] is reserved and may not be used.")));
        }
        assert_eq!(RESERVED_ROLE_NAMES.len(), 31);
    }

    #[test]
    fn role_description_rules() {
        assert_eq!(validate_role_description(&long_name(1000)), Ok(()));
        assert_eq!(
            validate_role_description(&long_name(1001)),
            Err("Role description must be less than 1000 characters.".to_owned())
        );
    }

    #[test]
    fn password_rules() {
        let too_short = Err("passwords must be at least [6] characters long".to_owned());
        let cases = [
            ("", too_short.clone()),
            ("12345", too_short.clone()),
            ("ééééé", too_short.clone()),
            ("123456", Ok(())),
            ("ééééé\u{e9}", Ok(())),
            // three astral characters are six UTF-16 units in Java
            ("😀😀😀", Ok(())),
            ("      ", Ok(())),
        ];
        for (password, expected) in cases {
            assert_eq!(validate_password(password), expected, "{password:?}");
        }
    }
}
