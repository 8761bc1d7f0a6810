//! The `_kerberos` grant. profiled has no Kerberos realm, so the grant fails the way Elasticsearch fails it
//! without one: a ticket that Java's base64 decoder rejects is a 500 `unsupported_operation_exception`, any
//! other ticket is not authenticated by any realm (401).

use crate::error::EsError;

/// The principal Elasticsearch reports for a Kerberos ticket before authentication.
const KERBEROS_PRINCIPAL: &str = "<Kerberos Token>";

/// How a `_kerberos` grant fails.
#[derive(Debug)]
pub(crate) enum KerberosFailure {
    /// The ticket is not base64: the error, and its cause (which Elasticsearch does not report as the root
    /// cause, as the cause is not one of its own exceptions).
    Undecodable { error: EsError, cause: EsError },
    /// No realm authenticates the ticket.
    Unauthenticated(EsError),
}

/// Returns the failure of a `_kerberos` grant with `ticket`, for the token `action`.
pub(crate) fn kerberos_grant_failure(ticket: &str, action: &str, challenges: &[&str]) -> KerberosFailure {
    match java_base64_error(ticket) {
        Some(reason) => KerberosFailure::Undecodable {
            error: EsError::new(
                500,
                "unsupported_operation_exception",
                format!("could not decode base64 kerberos ticket {ticket}"),
            ),
            cause: EsError::illegal_argument(reason),
        },
        None => KerberosFailure::Unauthenticated(EsError::unauthenticated(
            format!("unable to authenticate user [{KERBEROS_PRINCIPAL}] for action [{action}]"),
            challenges,
        )),
    }
}

/// Returns the message of the `IllegalArgumentException` that `java.util.Base64.getDecoder().decode(String)`
/// throws for `text`, or `None` when it decodes (a port of the JDK's `Decoder.decode0`).
fn java_base64_error(text: &str) -> Option<String> {
    // `decode(String)` reads the string as ISO-8859-1: other characters become '?'.
    let bytes: Vec<u8> = text.chars().map(|character| u8::try_from(u32::from(character)).unwrap_or(b'?')).collect();
    if bytes.is_empty() {
        return None;
    }
    if bytes.len() < 2 {
        return Some("Input byte[] should at least have 2 bytes for base64 bytes".to_string());
    }
    let value_of = |byte: u8| -> Option<u8> {
        match byte {
            b'A'..=b'Z' => Some(byte - b'A'),
            b'a'..=b'z' => Some(byte - b'a' + 26),
            b'0'..=b'9' => Some(byte - b'0' + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    };
    let mut position = 0;
    let mut shift_to = 18;
    while position < bytes.len() {
        let byte = bytes[position];
        position += 1;
        if value_of(byte).is_some() {
            shift_to -= 6;
            if shift_to < 0 {
                shift_to = 18;
            }
            continue;
        }
        if byte != b'=' {
            // Java prints the signed byte in hexadecimal.
            return Some(format!("Illegal base64 character {}", java_signed_hex(byte)));
        }
        let second_padding_missing = shift_to == 6 && {
            let missing = position == bytes.len() || bytes[position] != b'=';
            if position < bytes.len() {
                position += 1;
            }
            missing
        };
        if second_padding_missing || shift_to == 18 {
            return Some("Input byte array has wrong 4-byte ending unit".to_string());
        }
        break;
    }
    if shift_to == 12 {
        return Some("Last unit does not have enough valid bits".to_string());
    }
    if position < bytes.len() {
        return Some(format!("Input byte array has incorrect ending byte at {position}"));
    }
    None
}

fn java_signed_hex(byte: u8) -> String {
    let signed = byte as i8;
    if signed < 0 {
        format!("-{:x}", -i16::from(signed))
    } else {
        format!("{signed:x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_errors_are_worded_as_java_does() {
        assert_eq!(java_base64_error("dGVzdA=="), None);
        assert_eq!(java_base64_error("dGVzdA"), None);
        assert_eq!(java_base64_error("dGVzdDE="), None);
        assert_eq!(java_base64_error("YQ"), None);
        assert_eq!(java_base64_error("not base64!").as_deref(), Some("Illegal base64 character 20"));
        assert_eq!(java_base64_error("ab-c").as_deref(), Some("Illegal base64 character 2d"));
        assert_eq!(java_base64_error("abcé").as_deref(), Some("Illegal base64 character -17"));
        assert_eq!(
            java_base64_error("a").as_deref(),
            Some("Input byte[] should at least have 2 bytes for base64 bytes")
        );
        assert_eq!(java_base64_error("abcde").as_deref(), Some("Last unit does not have enough valid bits"));
        assert_eq!(java_base64_error("ab=c").as_deref(), Some("Input byte array has wrong 4-byte ending unit"));
        assert_eq!(java_base64_error("abcd=").as_deref(), Some("Input byte array has wrong 4-byte ending unit"));
        assert_eq!(java_base64_error("abc=d").as_deref(), Some("Input byte array has incorrect ending byte at 4"));
    }

    #[test]
    fn decodable_tickets_are_not_authenticated() {
        let action = "cluster:admin/xpack/security/token/create";
        let KerberosFailure::Unauthenticated(error) = kerberos_grant_failure("dGVzdA==", action, &["Negotiate"]) else {
            panic!("expected a 401");
        };
        assert_eq!(error.status, 401);
        assert_eq!(
            error.reason,
            "unable to authenticate user [<Kerberos Token>] for action [cluster:admin/xpack/security/token/create]"
        );
        let KerberosFailure::Undecodable { error, cause } = kerberos_grant_failure("!!", action, &[]) else {
            panic!("expected a 500");
        };
        assert_eq!((error.status, error.error_type.as_str()), (500, "unsupported_operation_exception"));
        assert_eq!(error.reason, "could not decode base64 kerberos ticket !!");
        assert_eq!(cause.reason, "Illegal base64 character 21");
    }
}
