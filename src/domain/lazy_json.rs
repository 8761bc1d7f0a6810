//! A JSON object parsed one level at a time, for deep-merging a small update into a large stored object.
//!
//! A profile update (`{"data": {"kibana": {"userSettings": {...}}}}`) touches a few leaves of a `data` object
//! that holds kilobytes (avatars, recently accessed lists). Parsing all of it into [`Value`]s and serialising
//! it again was most of the store writer's work per update. A [`LazyObject`] keeps each member as the JSON
//! text it was read from until a merge needs to look inside, and writes untouched members back verbatim.
//! [`LazyObject::deep_merge`] follows the rules of [`crate::domain::profile::deep_merge`] exactly.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// A JSON object whose members are parsed only when a merge reaches them; members keep their order.
#[derive(Debug, Default, Clone)]
pub(crate) struct LazyObject {
    members: Vec<(String, LazyValue)>,
}

#[derive(Debug, Clone)]
enum LazyValue {
    /// The member as read, not parsed.
    Raw(Box<RawValue>),
    /// An object a merge went into.
    Object(LazyObject),
    /// A value a merge wrote.
    Value(Value),
}

impl LazyValue {
    /// Returns the object this value is, parsed one level, or `None` when it is not an object.
    fn as_object(&mut self) -> Result<Option<&mut LazyObject>, serde_json::Error> {
        if let LazyValue::Raw(raw) = self {
            if raw.get().trim_start().starts_with('{') {
                *self = LazyValue::Object(serde_json::from_str(raw.get())?);
            }
        }
        if let LazyValue::Value(Value::Object(map)) = self {
            let object = LazyObject::from_map(std::mem::take(map));
            *self = LazyValue::Object(object);
        }
        Ok(match self {
            LazyValue::Object(object) => Some(object),
            _ => None,
        })
    }

    /// Returns whether this value equals `other` (JSON equality, as [`Value`]'s).
    fn equals(&self, other: &Value) -> Result<bool, serde_json::Error> {
        Ok(match self {
            LazyValue::Raw(raw) => serde_json::from_str::<Value>(raw.get())? == *other,
            LazyValue::Object(object) => match other {
                Value::Object(other) => object.to_value()? == Value::Object(other.clone()),
                _ => false,
            },
            LazyValue::Value(value) => value == other,
        })
    }
}

impl LazyObject {
    fn from_map(map: Map<String, Value>) -> LazyObject {
        LazyObject { members: map.into_iter().map(|(key, value)| (key, LazyValue::Value(value))).collect() }
    }

    fn to_value(&self) -> Result<Value, serde_json::Error> {
        serde_json::to_value(self)
    }

    /// Deep-merges `update` into this object: objects merge recursively, anything else replaces
    /// (spec §5.4). Returns whether the object changed.
    pub(crate) fn deep_merge(&mut self, update: &Map<String, Value>) -> Result<bool, serde_json::Error> {
        let mut changed = false;
        for (key, new_value) in update {
            let Some(position) = self.members.iter().position(|(existing, _)| existing == key) else {
                self.members.push((key.clone(), LazyValue::Value(new_value.clone())));
                changed = true;
                continue;
            };
            let existing = &mut self.members[position].1;
            if let Value::Object(new_object) = new_value {
                if let Some(existing_object) = existing.as_object()? {
                    changed |= existing_object.deep_merge(new_object)?;
                    continue;
                }
            }
            if !existing.equals(new_value)? {
                *existing = LazyValue::Value(new_value.clone());
                changed = true;
            }
        }
        Ok(changed)
    }
}

impl Serialize for LazyObject {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.members.len()))?;
        for (key, value) in &self.members {
            match value {
                LazyValue::Raw(raw) => map.serialize_entry(key, raw)?,
                LazyValue::Object(object) => map.serialize_entry(key, object)?,
                LazyValue::Value(value) => map.serialize_entry(key, value)?,
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for LazyObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<LazyObject, D::Error> {
        struct ObjectVisitor;

        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = LazyObject;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<LazyObject, A::Error> {
                let mut members: Vec<(String, LazyValue)> = Vec::with_capacity(access.size_hint().unwrap_or(0));
                while let Some((key, raw)) = access.next_entry::<String, Box<RawValue>>()? {
                    // A repeated key keeps its first position and its last value, as `serde_json::Map` does.
                    match members.iter_mut().find(|(existing, _)| *existing == key) {
                        Some(member) => member.1 = LazyValue::Raw(raw),
                        None => members.push((key, LazyValue::Raw(raw))),
                    }
                }
                Ok(LazyObject { members })
            }
        }

        deserializer.deserialize_map(ObjectVisitor)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::domain::profile::deep_merge;

    /// Merges `update` into `target` both ways; asserts the same result, change flag and member order.
    fn merge_both(target: &Value, update: &Value) -> (Value, bool) {
        let (Value::Object(target_map), Value::Object(update_map)) = (target, update) else { panic!("objects") };
        let mut eager = target_map.clone();
        let eager_changed = deep_merge(&mut eager, update_map);
        let mut lazy: LazyObject = serde_json::from_str(&target.to_string()).expect("lazy parse");
        let lazy_changed = lazy.deep_merge(update_map).expect("lazy merge");
        let lazy_text = serde_json::to_string(&lazy).expect("serialise");
        assert_eq!(lazy_text, Value::Object(eager.clone()).to_string(), "same bytes, same member order");
        assert_eq!(lazy_changed, eager_changed);
        (Value::Object(eager), eager_changed)
    }

    #[test]
    fn merges_like_deep_merge() {
        let stored = json!({
            "kibana": {"avatar": {"initials": "JD", "color": "#ff0000"}, "userSettings": {"darkMode": "dark"},
                       "recentlyAccessed": [{"id": "1"}, {"id": "2"}]},
            "other": 1.5,
        });
        let (merged, changed) =
            merge_both(&stored, &json!({"kibana": {"userSettings": {"darkMode": "light", "n": 3}}}));
        assert!(changed);
        assert_eq!(merged["kibana"]["userSettings"], json!({"darkMode": "light", "n": 3}));
        assert!(!merge_both(&stored, &json!({"kibana": {"userSettings": {"darkMode": "dark"}}})).1, "same value");
        assert!(!merge_both(&stored, &json!({"kibana": {}})).1, "an empty object changes nothing");
        assert!(merge_both(&stored, &json!({"kibana": {"avatar": null}})).1, "null replaces");
        assert!(merge_both(&stored, &json!({"other": {"x": 1}})).1, "an object replaces a scalar");
        assert!(merge_both(&stored, &json!({"kibana": 1})).1, "a scalar replaces an object");
        assert!(!merge_both(&stored, &json!({"other": 1.5})).1);
        assert!(merge_both(&json!({}), &json!({"new": {"a": [1, 2]}})).1);
        // Values a merge wrote can be merged into again.
        let mut lazy: LazyObject = serde_json::from_str(r#"{"a": 1}"#).expect("parse");
        assert!(lazy.deep_merge(json!({"b": {"c": 1}}).as_object().expect("object")).expect("merge"));
        assert!(lazy.deep_merge(json!({"b": {"d": 2}}).as_object().expect("object")).expect("merge"));
        assert!(!lazy.deep_merge(json!({"b": {"c": 1}}).as_object().expect("object")).expect("merge"));
        assert_eq!(serde_json::to_string(&lazy).expect("text"), r#"{"a":1,"b":{"c":1,"d":2}}"#);
    }

    #[test]
    fn repeated_keys_keep_the_last_value_at_the_first_position() {
        let lazy: LazyObject = serde_json::from_str(r#"{"a": 1, "b": 2, "a": 3}"#).expect("parse");
        assert_eq!(serde_json::to_string(&lazy).expect("text"), r#"{"a":3,"b":2}"#);
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (0i64..4).prop_map(|number| json!(number)),
            "[ab]{0,2}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                prop::collection::vec(("[abc]", inner), 0..4)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    fn json_object() -> impl Strategy<Value = Value> {
        prop::collection::vec(("[abc]", json_value()), 0..4)
            .prop_map(|members| Value::Object(members.into_iter().collect()))
    }

    proptest! {
        #[test]
        fn any_merge_matches_deep_merge(target in json_object(), update in json_object()) {
            merge_both(&target, &update);
        }
    }
}
