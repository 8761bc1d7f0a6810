//! A profile prepared for the read APIs: the JSON of activate, get and suggest is written straight into the
//! response buffer, with no intermediate `serde_json::Value` and no copy of labels or data.
//!
//! The `user` and `labels` objects are rendered once, when the profile is loaded. `data` is kept as a tree
//! of objects whose leaves (strings, numbers, arrays, ...) are already JSON text, so that the include
//! filter of the `data` parameter (spec §4.1) can walk it and copy whole leaves. The output is byte for
//! byte what `Profile::to_api_json` renders (a test checks it).

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::api::response::segment_matches;
use crate::domain::profile::{Profile, ProfileUser};

/// Bytes counted for every entry of an object on top of its key and text: the inline `(Box<str>, RawNode)`
/// pair and two allocation headers.
const ENTRY_OVERHEAD: usize = 56;
/// Bytes counted for every object and list on top of its entries (vector header and allocation).
const NODE_OVERHEAD: usize = 32;

/// A JSON object of `data` with leaves kept as JSON text.
#[derive(Debug, Default)]
pub(crate) struct RawObject {
    entries: Vec<(Box<str>, RawNode)>,
}

#[derive(Debug)]
enum RawNode {
    Object(RawObject),
    /// Any non-object value, as compact JSON.
    Leaf(Box<str>),
}

impl RawObject {
    fn from_map(map: &Map<String, Value>) -> (RawObject, usize) {
        let mut size = NODE_OVERHEAD;
        let entries = map
            .iter()
            .map(|(key, value)| {
                let node = match value {
                    Value::Object(child) => {
                        let (object, child_size) = RawObject::from_map(child);
                        size += child_size;
                        RawNode::Object(object)
                    }
                    other => {
                        let text = serde_json::to_string(other).unwrap_or_else(|_| "null".to_string());
                        size += text.len();
                        RawNode::Leaf(text.into_boxed_str())
                    }
                };
                size += key.len() + ENTRY_OVERHEAD;
                (key.clone().into_boxed_str(), node)
            })
            .collect();
        (RawObject { entries }, size)
    }

    fn write_whole(&self, out: &mut Vec<u8>) {
        out.push(b'{');
        for (index, (key, node)) in self.entries.iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            write_key(out, key);
            node.write_whole(out);
        }
        out.push(b'}');
    }

    /// Writes the entries selected by `patterns` (without braces); returns how many were written.
    fn write_filtered<'a>(&self, out: &mut Vec<u8>, patterns: &[&'a [&'a str]], mut written: usize) -> usize {
        let mut child_patterns: Vec<&'a [&'a str]> = Vec::new();
        for (key, node) in &self.entries {
            let whole = match_key(patterns, key, &mut child_patterns);
            if whole {
                if written > 0 {
                    out.push(b',');
                }
                write_key(out, key);
                node.write_whole(out);
                written += 1;
                continue;
            }
            if child_patterns.is_empty() {
                continue;
            }
            if let RawNode::Object(child) = node {
                // An object left empty by the filter is dropped with its key.
                let mark = out.len();
                if written > 0 {
                    out.push(b',');
                }
                write_key(out, key);
                out.push(b'{');
                let patterns_for_child = child_patterns.clone();
                if child.write_filtered(out, &patterns_for_child, 0) == 0 {
                    out.truncate(mark);
                } else {
                    out.push(b'}');
                    written += 1;
                }
            }
        }
        written
    }
}

impl RawNode {
    fn write_whole(&self, out: &mut Vec<u8>) {
        match self {
            RawNode::Object(object) => object.write_whole(out),
            RawNode::Leaf(text) => out.extend_from_slice(text.as_bytes()),
        }
    }
}

/// Matches `key` against include patterns (dotted paths split into segments, `*` globs, `**` any depth):
/// returns whether the key is included whole, and leaves in `children` the patterns for its children.
pub(crate) fn match_key<'a>(patterns: &[&'a [&'a str]], key: &str, children: &mut Vec<&'a [&'a str]>) -> bool {
    let mut whole = false;
    children.clear();
    for pattern in patterns {
        match pattern.first() {
            None => whole = true,
            Some(&"**") => {
                children.push(pattern);
                if pattern.len() == 1 {
                    whole = true;
                } else if segment_matches(pattern[1], key) {
                    if pattern.len() == 2 {
                        whole = true;
                    } else {
                        children.push(&pattern[2..]);
                    }
                }
            }
            Some(segment) if segment_matches(segment, key) => {
                if pattern.len() == 1 {
                    whole = true;
                } else {
                    children.push(&pattern[1..]);
                }
            }
            Some(_) => {}
        }
    }
    whole
}

/// Writes an integer in decimal.
fn write_integer(out: &mut Vec<u8>, value: i64) {
    use std::io::Write;
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{value}");
}

/// Writes `"key":`.
fn write_key(out: &mut Vec<u8>, key: &str) {
    write_string(out, key);
    out.push(b':');
}

/// Writes a JSON string.
pub(crate) fn write_string(out: &mut Vec<u8>, text: &str) {
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

/// The `data` parameter as include patterns (dotted paths split into segments).
#[derive(Debug)]
pub(crate) struct DataFilter<'a> {
    keys: &'a [String],
    patterns: Vec<Vec<&'a str>>,
}

impl<'a> DataFilter<'a> {
    /// Builds the filter of `keys` (the parsed `data` parameter; empty selects nothing).
    pub(crate) fn new(keys: &'a [String]) -> DataFilter<'a> {
        DataFilter { keys, patterns: keys.iter().map(|key| key.split('.').collect()).collect() }
    }
}

/// The last rendering of a profile, with the `data` keys it was filtered by: the whole answer of a
/// single-profile get (`{"profiles":[…]}`), and where the profile and its `user`, `labels` and `data` lie in it.
///
/// Clients ask for the same keys over and over (Kibana: `kibana.*`, `kibana.avatar`), so repeated reads of a
/// cached profile share these bytes (a single get sends them as they are) instead of walking `data` again.
#[derive(Debug, Clone)]
pub(crate) struct Rendered {
    keys: Arc<[String]>,
    /// `{"profiles":[<profile>]}`.
    pub(crate) response: Bytes,
    profile: Range<usize>,
    user_labels_data: Range<usize>,
}

impl Rendered {
    fn profile(&self) -> &[u8] {
        &self.response[self.profile.clone()]
    }

    fn user_labels_data(&self) -> &[u8] {
        &self.response[self.user_labels_data.clone()]
    }
}

/// What a rendered single-profile answer wraps its profile in.
const RESPONSE_HEAD: &[u8] = b"{\"profiles\":[";
const RESPONSE_TAIL: &[u8] = b"]}";
/// Bytes of a rendering besides `user`, `labels` and `data` (uid, flags, `_doc`, the wrapper), bounded.
const RENDERED_FRAME: usize = 256;

/// A profile ready to be rendered, with the version it was read at.
#[derive(Debug)]
pub(crate) struct CachedProfile {
    pub(crate) seq_no: i64,
    pub(crate) primary_term: i64,
    pub(crate) uid: String,
    pub(crate) enabled: bool,
    pub(crate) last_synchronized: i64,
    /// The stored user (realm and node included): activation compares it with the subject.
    pub(crate) user: ProfileUser,
    /// The user's roles, shared with every cached profile that has the same ones (see [`intern_role_set`]).
    pub(crate) role_set: Arc<[String]>,
    user_json: Box<str>,
    labels_json: Box<str>,
    data: RawObject,
    /// Most recent rendering (kept when at most `rendered_limit` bytes).
    rendered: std::sync::Mutex<Option<Rendered>>,
    /// The largest rendering kept in `rendered`: its share of `weight`.
    rendered_limit: usize,
    /// Approximate bytes held, for the cache's memory bound.
    pub(crate) weight: u64,
}

/// How many distinct role sets [`intern_role_set`] remembers before it starts over.
const INTERNED_ROLE_SETS: usize = 1024;

/// Returns the one shared copy of `roles`. Profiles mostly share a handful of role sets, so that checking
/// the privileges of many profiles can tell equal sets apart by address ([`Arc::ptr_eq`]) before it compares
/// them name by name. Past [`INTERNED_ROLE_SETS`] sets the table starts over: equal sets may then have two
/// copies, which costs only the comparison by name.
pub(crate) fn intern_role_set(roles: &[String]) -> Arc<[String]> {
    static ROLE_SETS: std::sync::LazyLock<std::sync::Mutex<std::collections::HashSet<Arc<[String]>>>> =
        std::sync::LazyLock::new(Default::default);
    let mut sets = ROLE_SETS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(shared) = sets.get(roles) {
        return Arc::clone(shared);
    }
    if sets.len() >= INTERNED_ROLE_SETS {
        sets.clear();
    }
    let shared: Arc<[String]> = Arc::from(roles);
    sets.insert(Arc::clone(&shared));
    shared
}

impl CachedProfile {
    /// Prepares `profile` (read at `seq_no` / `primary_term`) for rendering.
    pub(crate) fn new(profile: Profile, seq_no: i64, primary_term: i64) -> CachedProfile {
        let user_json = serde_json::to_string(&profile.user_json()).unwrap_or_else(|_| "{}".to_string());
        let labels_json = serde_json::to_string(&profile.labels).unwrap_or_else(|_| "{}".to_string());
        let (data, data_size) = RawObject::from_map(&profile.application_data);
        let user = profile.user;
        // Leaves and keys as text plus JSON punctuation: bounds the rendering of the whole profile.
        let rendered_limit = user_json.len() + labels_json.len() + data_size + profile.uid.len() + RENDERED_FRAME;
        let weight = (std::mem::size_of::<CachedProfile>()
            + rendered_limit
            + profile.uid.len()
            + user_json.len()
            + labels_json.len()
            + data_size
            + user.username.len() * 2
            + user.roles.iter().map(|role| role.len() + ENTRY_OVERHEAD).sum::<usize>()
            + user.realm.name.len()
            + user.realm.node_name.len()
            + NODE_OVERHEAD * 4) as u64;
        CachedProfile {
            seq_no,
            primary_term,
            uid: profile.uid,
            enabled: profile.enabled,
            last_synchronized: profile.last_synchronized,
            role_set: intern_role_set(&user.roles),
            user,
            user_json: user_json.into_boxed_str(),
            labels_json: labels_json.into_boxed_str(),
            data,
            rendered: std::sync::Mutex::new(None),
            rendered_limit,
            weight,
        }
    }

    /// The size of the last rendered profile (or a guess before the first): sizes response buffers.
    pub(crate) fn rendered_len_hint(&self) -> usize {
        let rendered =
            self.rendered.lock().ok().and_then(|rendered| rendered.as_ref().map(|rendered| rendered.profile.len()));
        rendered.unwrap_or(1024)
    }

    /// Returns the rendering for `filter`: the last one when it used the same keys, else a new one (kept for
    /// the next reads).
    pub(crate) fn rendered(&self, filter: &DataFilter<'_>) -> Rendered {
        let mut previous_len = None;
        if let Ok(rendered) = self.rendered.lock() {
            if let Some(rendered) = rendered.as_ref() {
                if *rendered.keys == *filter.keys {
                    return rendered.clone();
                }
                previous_len = Some(rendered.response.len());
            }
        }
        let mut out = Vec::with_capacity(previous_len.unwrap_or(1024) + RENDERED_FRAME);
        out.extend_from_slice(RESPONSE_HEAD);
        let profile_start = out.len();
        out.extend_from_slice(b"{\"uid\":");
        write_string(&mut out, &self.uid);
        out.extend_from_slice(if self.enabled { b",\"enabled\":true" } else { b",\"enabled\":false" });
        out.extend_from_slice(b",\"last_synchronized\":");
        write_integer(&mut out, self.last_synchronized);
        let user_labels_data_start = out.len();
        self.render_user_labels_data(&mut out, filter);
        let user_labels_data_end = out.len();
        out.extend_from_slice(b",\"_doc\":{\"_primary_term\":");
        write_integer(&mut out, self.primary_term);
        out.extend_from_slice(b",\"_seq_no\":");
        write_integer(&mut out, self.seq_no);
        out.extend_from_slice(b"}}");
        let profile_end = out.len();
        out.extend_from_slice(RESPONSE_TAIL);
        let rendered = Rendered {
            keys: filter.keys.into(),
            response: Bytes::from(out),
            profile: profile_start..profile_end,
            user_labels_data: user_labels_data_start..user_labels_data_end,
        };
        if rendered.response.len() <= self.rendered_limit {
            if let Ok(mut slot) = self.rendered.lock() {
                *slot = Some(rendered.clone());
            }
        }
        rendered
    }

    /// Writes the profile of activate and get (spec §2.1), `data` filtered.
    pub(crate) fn write_api_json(&self, out: &mut Vec<u8>, filter: &DataFilter<'_>) {
        out.extend_from_slice(self.rendered(filter).profile());
    }

    /// Writes a suggest hit (spec §2.2): no `enabled`, `last_synchronized` or `_doc`.
    pub(crate) fn write_suggest_json(&self, out: &mut Vec<u8>, filter: &DataFilter<'_>) {
        out.extend_from_slice(b"{\"uid\":");
        write_string(out, &self.uid);
        out.extend_from_slice(self.rendered(filter).user_labels_data());
        out.push(b'}');
    }

    /// Writes `,"user":…,"labels":…,"data":{…}`.
    fn render_user_labels_data(&self, out: &mut Vec<u8>, filter: &DataFilter<'_>) {
        out.extend_from_slice(b",\"user\":");
        out.extend_from_slice(self.user_json.as_bytes());
        out.extend_from_slice(b",\"labels\":");
        out.extend_from_slice(self.labels_json.as_bytes());
        out.extend_from_slice(b",\"data\":{");
        if !filter.patterns.is_empty() {
            let patterns: Vec<&[&str]> = filter.patterns.iter().map(Vec::as_slice).collect();
            self.data.write_filtered(out, &patterns, 0);
        }
        out.push(b'}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::profile::{hashed_uid, StoredDomain, StoredRealm, StoredRealmIdentifier};
    use serde_json::json;

    #[test]
    fn equal_role_sets_share_one_copy() {
        let roles = |names: &[&str]| names.iter().map(|name| name.to_string()).collect::<Vec<_>>();
        let first = intern_role_set(&roles(&["interned_a", "interned_b"]));
        let second = intern_role_set(&roles(&["interned_a", "interned_b"]));
        let other = intern_role_set(&roles(&["interned_b", "interned_a"]));
        assert!(Arc::ptr_eq(&first, &second));
        assert!(!Arc::ptr_eq(&first, &other));
        assert_eq!(&*other, &roles(&["interned_b", "interned_a"])[..]);
    }

    fn profile(labels: Value, data: Value, domain: bool) -> Profile {
        Profile {
            uid: hashed_uid("jöe \"q\"", 2),
            enabled: false,
            last_synchronized: 1_700_000_000_123,
            user: ProfileUser {
                username: "jöe \"q\"".into(),
                roles: vec!["a".into(), "b\\c".into()],
                realm: StoredRealm {
                    name: "default_native".into(),
                    realm_type: "native".into(),
                    node_name: "n".into(),
                    domain: domain.then(|| StoredDomain {
                        name: "dom".into(),
                        realms: vec![StoredRealmIdentifier { name: "r".into(), realm_type: "file".into() }],
                    }),
                },
                email: domain.then(|| "j@example.com".to_string()),
                full_name: Some("Jöe\n".into()),
            },
            labels: labels.as_object().cloned().unwrap_or_default(),
            application_data: data.as_object().cloned().unwrap_or_default(),
        }
    }

    fn data() -> Value {
        json!({
            "kibana": {
                "avatar": {"initials": "JQ", "color": "#ff00aa", "imageUrl": null},
                "userSettings": {"darkMode": "dark", "nested": {"deep": [1, 2.5, {"x": "y"}], "empty": {}}},
                "recent": [{"id": "a"}, "b"],
            },
            "app\"x": {"k": true, "n": -3, "f": 1e300},
            "empty": {},
        })
    }

    #[test]
    fn rendering_matches_the_value_renderer_for_every_filter() {
        let filters: &[&[&str]] = &[
            &[],
            &["*"],
            &["kibana.*"],
            &["kibana.avatar"],
            &["kibana.avatar", "app\"x"],
            &["kibana.userSettings.nested.deep"],
            &["kibana.userSettings.nested.empty"],
            &["**.deep"],
            &["**"],
            &["kib*.av*"],
            &["empty"],
            &["empty.none"],
            &["nothing"],
            &["kibana.recent.id"],
            &["kibana", "kibana.avatar"],
        ];
        for domain in [false, true] {
            let profile = profile(json!({"kibana.spaces": ["default", "s\"1"]}), data(), domain);
            let cached = CachedProfile::new(profile.clone(), 42, 3);
            for keys in filters {
                let keys: Vec<String> = keys.iter().map(|key| key.to_string()).collect();
                let filter = DataFilter::new(&keys);
                let mut rendered = Vec::new();
                cached.write_api_json(&mut rendered, &filter);
                let expected = serde_json::to_vec(&profile.to_api_json(42, 3, &keys)).expect("json");
                assert_eq!(
                    String::from_utf8(rendered).expect("utf-8"),
                    String::from_utf8(expected.clone()).expect("utf-8")
                );
                // Read again: the kept rendering, also as the whole answer of a single-profile get.
                let mut again = Vec::new();
                cached.write_api_json(&mut again, &filter);
                assert_eq!(again, expected);
                let response = cached.rendered(&filter).response;
                let expected_response =
                    serde_json::to_vec(&json!({ "profiles": [profile.to_api_json(42, 3, &keys)] })).expect("json");
                assert_eq!(response.as_ref(), expected_response.as_slice());
                let mut rendered = Vec::new();
                cached.write_suggest_json(&mut rendered, &filter);
                let expected = serde_json::to_vec(&profile.to_suggest_json(&keys)).expect("json");
                assert_eq!(String::from_utf8(rendered).expect("utf-8"), String::from_utf8(expected).expect("utf-8"));
            }
        }
    }

    #[test]
    fn weight_grows_with_the_data() {
        let small = CachedProfile::new(profile(json!({}), json!({}), false), 1, 1);
        let large = CachedProfile::new(profile(json!({}), json!({"a": "x".repeat(10_000)}), false), 1, 1);
        assert!(large.weight >= small.weight + 10_000);
    }
}
