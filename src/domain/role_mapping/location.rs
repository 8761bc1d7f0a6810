//! Token locations (Jackson's 1-based line and column) of a JSON object's top-level keys and values, for
//! the `[line:col]` prefixes and `line`/`col` fields of Elasticsearch's parse errors.

/// A position in the request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Location {
    pub(crate) line: u64,
    pub(crate) column: u64,
}

impl Default for Location {
    fn default() -> Self {
        Location { line: 1, column: 1 }
    }
}

/// Where the top-level pieces of a JSON document are.
#[derive(Debug, Default)]
pub(crate) struct TopLevelLocations {
    /// The first token of the document.
    pub(crate) first_token: Location,
    /// The `}` closing the top-level object.
    pub(crate) object_end: Location,
    keys: Vec<(String, Location, Location)>,
}

impl TopLevelLocations {
    /// The location of the (last) key `name`.
    pub(crate) fn key(&self, name: &str) -> Location {
        self.keys.iter().rev().find(|(key, _, _)| key == name).map(|(_, key, _)| *key).unwrap_or(self.first_token)
    }

    /// The location of the value of the (last) key `name`.
    pub(crate) fn value(&self, name: &str) -> Location {
        self.keys.iter().rev().find(|(key, _, _)| key == name).map(|(_, _, value)| *value).unwrap_or(self.first_token)
    }
}

/// Scans `raw` (valid JSON) for its top-level locations.
pub(crate) fn locate_top_level(raw: &str) -> TopLevelLocations {
    let mut locations = TopLevelLocations::default();
    let mut line = 1;
    let mut column = 0;
    let mut depth = 0usize;
    let mut seen_first = false;
    let mut in_string = false;
    let mut escaped = false;
    let mut string_start: Option<(usize, Location)> = None;
    let mut pending_key: Option<(String, Location)> = None;
    let mut expecting_key = false;
    let mut awaiting_value: Option<(String, Location)> = None;
    for (offset, character) in raw.char_indices() {
        if character == '\n' {
            line += 1;
            column = 0;
            continue;
        }
        column += 1;
        let here = Location { line, column };
        if in_string {
            if escaped {
                escaped = false;
            } else if character == '\\' {
                escaped = true;
            } else if character == '"' {
                in_string = false;
                if let Some((start, location)) = string_start.take() {
                    let key = serde_json::from_str::<String>(&raw[start..=offset]).unwrap_or_default();
                    pending_key = Some((key, location));
                }
            }
            continue;
        }
        if character.is_whitespace() {
            continue;
        }
        if !seen_first {
            seen_first = true;
            locations.first_token = here;
        }
        if let Some((key, key_location)) = awaiting_value.take() {
            locations.keys.push((key, key_location, here));
        }
        match character {
            '"' => {
                in_string = true;
                if depth == 1 && expecting_key {
                    string_start = Some((offset, here));
                    expecting_key = false;
                }
            }
            ':' if depth == 1 => awaiting_value = pending_key.take(),
            ',' if depth == 1 => expecting_key = true,
            '{' | '[' => {
                depth += 1;
                if depth == 1 && character == '{' {
                    expecting_key = true;
                }
            }
            '}' | ']' => {
                if depth == 1 && character == '}' {
                    locations.object_end = here;
                }
                depth = depth.saturating_sub(1);
            }
            _ => {}
        }
    }
    locations
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_values_and_the_closing_brace() {
        let raw = r#"{"roles":["a"],"rules":{"field":{"x":1}},"enabled":true}"#;
        let locations = locate_top_level(raw);
        assert_eq!(locations.first_token, Location { line: 1, column: 1 });
        assert_eq!(locations.key("roles"), Location { line: 1, column: 2 });
        assert_eq!(locations.value("roles"), Location { line: 1, column: 10 });
        assert_eq!(locations.value("rules"), Location { line: 1, column: 24 });
        assert_eq!(locations.object_end, Location { line: 1, column: raw.len() as u64 });
    }

    #[test]
    fn counts_lines_and_ignores_nested_keys() {
        let raw = "{\n  \"rules\": {\"enabled\": 1},\n  \"enabled\" : true\n}";
        let locations = locate_top_level(raw);
        assert_eq!(locations.key("enabled"), Location { line: 3, column: 3 });
        assert_eq!(locations.value("enabled"), Location { line: 3, column: 15 });
        assert_eq!(locations.object_end, Location { line: 4, column: 1 });
    }
}
