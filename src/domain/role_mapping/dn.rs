//! LDAP distinguished names as role mappings compare them: `CN=Me, DC=Example,DC=com` equals
//! `cn=me,dc=example,dc=com` (the normalized form of the UnboundID `DN` class Elasticsearch uses).

/// Returns the normalized form of `text` (attribute names and values lower-cased, spaces around
/// separators removed, multi-valued RDNs sorted), or `None` when `text` is not a DN.
pub(crate) fn normalize_dn(text: &str) -> Option<String> {
    if text.trim().is_empty() {
        return Some(String::new());
    }
    let mut rdns = Vec::new();
    for rdn_text in split_unescaped(text, &[',', ';']) {
        let mut attribute_values = Vec::new();
        for ava_text in split_unescaped(&rdn_text, &['+']) {
            attribute_values.push(normalize_attribute_value(&ava_text)?);
        }
        attribute_values.sort();
        rdns.push(attribute_values.join("+"));
    }
    Some(rdns.join(","))
}

/// Splits on separators that are neither escaped with `\` nor inside double quotes.
fn split_unescaped(text: &str, separators: &[char]) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut characters = text.chars();
    let mut quoted = false;
    while let Some(character) = characters.next() {
        match character {
            '\\' => {
                current.push(character);
                if let Some(escaped) = characters.next() {
                    current.push(escaped);
                }
            }
            '"' => {
                quoted = !quoted;
                current.push(character);
            }
            separator if !quoted && separators.contains(&separator) => parts.push(std::mem::take(&mut current)),
            other => current.push(other),
        }
    }
    parts.push(current);
    parts
}

fn normalize_attribute_value(text: &str) -> Option<String> {
    let (name, raw_value) = text.split_once('=')?;
    let name = name.trim();
    let is_descriptor = name.chars().next().is_some_and(|first| first.is_ascii_alphabetic())
        && name.chars().all(|character| character.is_ascii_alphanumeric() || character == '-');
    let is_oid = !name.is_empty()
        && name.split('.').all(|arc| !arc.is_empty() && arc.chars().all(|digit| digit.is_ascii_digit()));
    if !is_descriptor && !is_oid {
        return None;
    }
    let value = unescape_value(raw_value.trim())?;
    let collapsed = value.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    Some(format!("{}={}", name.to_ascii_lowercase(), escape_value(&collapsed)))
}

fn unescape_value(text: &str) -> Option<String> {
    if let Some(inner) = text.strip_prefix('"') {
        return inner.strip_suffix('"').map(|quoted| quoted.replace("\\\"", "\""));
    }
    let mut bytes = Vec::with_capacity(text.len());
    let characters: Vec<char> = text.chars().collect();
    let mut index = 0;
    while index < characters.len() {
        let character = characters[index];
        if character == '\\' {
            let next = *characters.get(index + 1)?;
            let hex_pair = characters.get(index + 2).filter(|_| next.is_ascii_hexdigit());
            match hex_pair.and_then(|second| u8::from_str_radix(&format!("{next}{second}"), 16).ok()) {
                Some(byte) => {
                    bytes.push(byte);
                    index += 3;
                }
                None => {
                    let mut buffer = [0u8; 4];
                    bytes.extend_from_slice(next.encode_utf8(&mut buffer).as_bytes());
                    index += 2;
                }
            }
            continue;
        }
        if matches!(character, '"' | '<' | '>' | '=') {
            return None;
        }
        let mut buffer = [0u8; 4];
        bytes.extend_from_slice(character.encode_utf8(&mut buffer).as_bytes());
        index += 1;
    }
    String::from_utf8(bytes).ok()
}

fn escape_value(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for (position, character) in value.chars().enumerate() {
        let needs_escape = matches!(character, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=')
            || (position == 0 && (character == '#' || character == ' '));
        if needs_escape {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equivalent_dns_normalize_alike() {
        let expected = Some("cn=me,dc=example,dc=com".to_string());
        assert_eq!(normalize_dn("CN=Me, DC=Example,DC=com"), expected);
        assert_eq!(normalize_dn("cn=me ,  dc=example , dc=COM"), expected);
        assert_eq!(normalize_dn("cn=\"me\",dc=example,dc=com"), expected);
    }

    #[test]
    fn escapes_and_multi_valued_rdns_are_normalized() {
        assert_eq!(normalize_dn(r"cn=Smith\, John,o=Acme"), Some(r"cn=smith\, john,o=acme".to_string()));
        assert_eq!(normalize_dn(r"cn=J\4fe,o=x"), Some("cn=joe,o=x".to_string()));
        assert_eq!(normalize_dn("uid=b+cn=a,o=x"), normalize_dn("cn=A+uid=B,o=x"));
    }

    #[test]
    fn non_dns_are_refused() {
        assert_eq!(normalize_dn("admins"), None);
        assert_eq!(normalize_dn("cn=a,admins"), None);
        assert_eq!(normalize_dn("=a"), None);
        assert_eq!(normalize_dn(""), Some(String::new()));
    }
}
