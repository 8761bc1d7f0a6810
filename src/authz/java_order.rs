//! Emulation of Java hash-collection iteration order.
//!
//! Elasticsearch builds several response maps and sets with `java.util.HashMap`/`HashSet`
//! (the `cluster` map of has-privileges, per-resource privilege maps, `run_as` of the user
//! privileges API, ...). Their JSON order is the iteration order of those collections: buckets in
//! ascending index (`(h ^ (h >>> 16)) & (capacity - 1)`), insertion order inside a bucket. This
//! module reproduces that order so our JSON matches byte for byte.

/// Returns Java's `String.hashCode()` of `text` (UTF-16 code units, wrapping arithmetic).
pub(crate) fn java_string_hash(text: &str) -> i32 {
    text.encode_utf16().fold(0i32, |hash, unit| hash.wrapping_mul(31).wrapping_add(i32::from(unit)))
}

/// Returns Java's `Set.hashCode()` of a set of strings: the wrapping sum of the element hashes.
pub(crate) fn java_set_hash<'a>(elements: impl IntoIterator<Item = &'a str>) -> i32 {
    elements.into_iter().fold(0i32, |sum, element| sum.wrapping_add(java_string_hash(element)))
}

/// Returns the table capacity of a default-constructed `HashMap` holding `entry_count` entries
/// (initial 16, doubled whenever the size exceeds three quarters of the capacity).
fn default_capacity(entry_count: usize) -> usize {
    let mut capacity = 16usize;
    while entry_count > capacity / 4 * 3 {
        capacity *= 2;
    }
    capacity
}

/// Returns the bucket index of a hash in a table of `capacity` slots (`HashMap.hash` spreading).
fn bucket_index(hash: i32, capacity: usize) -> usize {
    let spread = (hash as u32) ^ ((hash as u32) >> 16);
    (spread as usize) & (capacity - 1)
}

/// Orders entries `(hash, value)`, given in insertion order, as a Java `HashMap` iterates them.
pub(crate) fn java_hash_order<T>(entries: Vec<(i32, T)>) -> Vec<T> {
    let capacity = default_capacity(entries.len());
    let mut indexed: Vec<(usize, usize, T)> = entries
        .into_iter()
        .enumerate()
        .map(|(position, (hash, value))| (bucket_index(hash, capacity), position, value))
        .collect();
    indexed.sort_by_key(|(bucket, position, _)| (*bucket, *position));
    indexed.into_iter().map(|(_, _, value)| value).collect()
}

/// Deduplicates strings (first insertion wins) and orders them as a Java `HashSet<String>`.
pub(crate) fn java_hash_set_order<I, S>(strings: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let mut unique: Vec<String> = Vec::new();
    for text in strings {
        let text = text.into();
        if !unique.contains(&text) {
            unique.push(text);
        }
    }
    let entries = unique.into_iter().map(|text| (java_string_hash(&text), text)).collect();
    java_hash_order(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_hash_matches_java() {
        // Values computed with Java's String.hashCode().
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("a"), 97);
        assert_eq!(java_string_hash("read"), 3_496_342);
        assert_eq!(java_string_hash("hello world"), 1_794_106_052);
        assert_eq!(java_string_hash("cluster:admin/xpack/security/profile/activate"), {
            let mut hash = 0i32;
            for byte in "cluster:admin/xpack/security/profile/activate".bytes() {
                hash = hash.wrapping_mul(31).wrapping_add(i32::from(byte));
            }
            hash
        });
    }

    #[test]
    fn hash_set_order_follows_buckets() {
        // "read" hashes to 3496342, bucket 3496342 ^ (3496342 >>> 16) & 15.
        let ordered = java_hash_set_order(["write", "read", "all", "read"]);
        assert_eq!(ordered.len(), 3);
        let mut buckets: Vec<usize> = ordered.iter().map(|text| bucket_index(java_string_hash(text), 16)).collect();
        let sorted = {
            let mut copy = buckets.clone();
            copy.sort();
            copy
        };
        assert_eq!(buckets, sorted);
        buckets.dedup();
    }

    #[test]
    fn capacity_grows_like_java() {
        assert_eq!(default_capacity(0), 16);
        assert_eq!(default_capacity(12), 16);
        assert_eq!(default_capacity(13), 32);
        assert_eq!(default_capacity(25), 64);
    }
}
