//! Behaviour tests of [`ProfileIndex`]: the §6.2 examples of Elasticsearch's `ProfileIntegTests`,
//! hints, enabled filtering, persistence and updates.

use std::collections::BTreeSet;

use proptest::prelude::*;
use serde_json::json;

use crate::search::{IndexChange, ProfileIndex, SuggestDocument, SuggestQuery, TRACK_TOTAL_HITS_UP_TO};

pub(crate) fn profile(
    uid: &str,
    username: &str,
    full_name: &str,
    email: &str,
    last_synchronized: i64,
) -> SuggestDocument {
    SuggestDocument {
        uid: uid.to_string(),
        username: username.to_string(),
        full_name: Some(full_name.to_string()).filter(|text| !text.is_empty()),
        email: Some(email.to_string()).filter(|text| !text.is_empty()),
        enabled: true,
        last_synchronized,
        labels: json!({}),
    }
}

fn index_with(profiles: Vec<SuggestDocument>) -> ProfileIndex {
    let index = ProfileIndex::open_in_memory().expect("in-memory index");
    let changes = profiles.into_iter().map(IndexChange::Upsert).collect();
    index.apply(changes, 1).expect("apply");
    index
}

fn named(name: &str) -> SuggestQuery {
    SuggestQuery { name: name.to_string(), size: 10, ..SuggestQuery::default() }
}

fn uids(index: &ProfileIndex, query: &SuggestQuery) -> Vec<String> {
    index.suggest(query).expect("suggest").uids
}

fn uid_set(index: &ProfileIndex, name: &str) -> BTreeSet<String> {
    uids(index, &named(name)).into_iter().collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|item| item.to_string()).collect()
}

/// The four users of Elasticsearch's `testSuggestProfilesWithName` (uid = username).
fn curious_users() -> ProfileIndex {
    index_with(vec![
        profile("user_foo", "user_foo", "Very Curious User Foo", "fooemail@example.org", 4),
        profile("user_bar", "user_bar", "Super Curious Admin Bar", "baremail@example.org", 3),
        profile("user_baz", "user_baz", "Very Anxious User Baz", "bazemail@example.org", 2),
        profile("user_qux", "user_qux", "Super Anxious Admin Qux", "quxemail@example.org", 1),
    ])
}

const ALL_CURIOUS: [&str; 4] = ["user_foo", "user_bar", "user_baz", "user_qux"];

#[test]
fn blank_name_matches_every_profile_newest_first() {
    let index = curious_users();
    for name in ["", "   "] {
        assert_eq!(uids(&index, &named(name)), ["user_foo", "user_bar", "user_baz", "user_qux"]);
    }
    let result = index.suggest(&named("")).expect("suggest");
    assert_eq!((result.total, result.total_is_lower_bound), (4, false));
}

#[test]
fn words_in_any_order_match_the_full_name() {
    let index = curious_users();
    assert_eq!(uid_set(&index, "super admin"), set(&["user_bar", "user_qux"]));
    assert_eq!(uid_set(&index, "admin super"), set(&["user_bar", "user_qux"]));
}

#[test]
fn prefix_matches_a_full_name_word() {
    let index = curious_users();
    assert_eq!(uid_set(&index, "ver"), set(&["user_foo", "user_baz"]));
}

#[test]
fn prefix_matches_usernames_and_more_fields_rank_higher() {
    let index = curious_users();
    let found = uids(&index, &named("user"));
    assert_eq!(found.iter().cloned().collect::<BTreeSet<_>>(), set(&ALL_CURIOUS));
    assert_eq!(found[..2].iter().cloned().collect::<BTreeSet<_>>(), set(&["user_foo", "user_baz"]));
}

#[test]
fn different_terms_match_different_fields() {
    let index = curious_users();
    assert_eq!(uid_set(&index, "admin very"), set(&ALL_CURIOUS));
    assert_eq!(uid_set(&index, "very admin"), set(&ALL_CURIOUS));
}

#[test]
fn email_prefix_and_domain_match() {
    let index = curious_users();
    assert_eq!(uid_set(&index, "fooem"), set(&["user_foo"]));
    assert_eq!(uid_set(&index, "fooemail"), set(&["user_foo"]));
    assert_eq!(uid_set(&index, "example.org"), set(&ALL_CURIOUS));
    let full_address = uids(&index, &named("fooemail@example.org"));
    assert_eq!(full_address.len(), 4);
    assert_eq!(full_address[0], "user_foo");
}

#[test]
fn fuzzy_terms_match_typos() {
    let index = curious_users();
    assert_eq!(uid_set(&index, "Kurious One"), set(&["user_foo", "user_bar"]));
}

#[test]
fn trailing_space_makes_the_last_word_a_whole_term() {
    let index = curious_users();
    assert_eq!(uid_set(&index, "very "), set(&["user_foo", "user_baz"]));
    assert!(uid_set(&index, "ve ").is_empty());
}

#[test]
fn punctuation_only_name_matches_nothing() {
    let index = curious_users();
    let result = index.suggest(&named("...")).expect("suggest");
    assert!(result.uids.is_empty());
    assert_eq!(result.total, 0);
}

#[test]
fn exact_terms_rank_above_fuzzy_ones() {
    let index = index_with(vec![
        profile("smyth", "jsmyth", "Jack Smyth", "", 9),
        profile("smith", "jsmith", "Jack Smith", "", 1),
    ]);
    assert_eq!(uids(&index, &named("smith jack")), ["smith", "smyth"]);
}

/// Five profiles like Elasticsearch's `testSuggestProfilesWithHint`.
fn spaced_users() -> (ProfileIndex, Vec<String>) {
    let spaces = ["space1", "space2", "space3", "space4", "*"];
    let mut profiles = Vec::new();
    for (position, space) in spaces.iter().enumerate() {
        let last_name = format!("abc{space}");
        let mut document = profile(
            &format!("uid{position}"),
            &format!("user_{last_name}"),
            &format!("User {last_name}"),
            &format!("user_{last_name}@example.org"),
            100 + position as i64,
        );
        document.labels = json!({"kibana": {"space": space}});
        profiles.push(document);
    }
    (index_with(profiles), (0..5).map(|position| format!("uid{position}")).collect())
}

#[test]
fn hints_rank_matching_profiles_first_without_filtering() {
    let (index, _) = spaced_users();
    let newest_first = ["uid4", "uid3", "uid2", "uid1", "uid0"];
    assert_eq!(uids(&index, &named("")), newest_first);

    let uid_hint = SuggestQuery { hint_uids: vec!["uid1".to_string()], ..named("user") };
    assert_eq!(uids(&index, &uid_hint), ["uid1", "uid4", "uid3", "uid2", "uid0"]);

    let label_hint =
        SuggestQuery { hint_label: Some(("kibana.space".to_string(), vec!["space3".to_string()])), ..named("user") };
    assert_eq!(uids(&index, &label_hint), ["uid2", "uid4", "uid3", "uid1", "uid0"]);

    let both = SuggestQuery {
        hint_uids: vec!["uid0".to_string(), "uid2".to_string()],
        hint_label: Some(("kibana.space".to_string(), vec!["space1".to_string(), "nope".to_string()])),
        ..named("user")
    };
    assert_eq!(uids(&index, &both), ["uid0", "uid2", "uid4", "uid3", "uid1"]);

    let blank_with_hint = SuggestQuery { hint_uids: vec!["uid0".to_string()], ..named("") };
    assert_eq!(uids(&index, &blank_with_hint), ["uid0", "uid4", "uid3", "uid2", "uid1"]);
}

#[test]
fn hints_never_bring_in_profiles_the_name_does_not_match() {
    let index = curious_users();
    let query = SuggestQuery {
        hint_uids: vec!["user_bar".to_string()],
        hint_label: Some(("any".to_string(), vec!["thing".to_string()])),
        ..named("ver")
    };
    let result = index.suggest(&query).expect("suggest");
    assert_eq!(result.uids, ["user_foo", "user_baz"]);
    assert_eq!(result.total, 2);
}

#[test]
fn disabled_profiles_are_never_returned() {
    let index = curious_users();
    let mut disabled = profile("user_foo", "user_foo", "Very Curious User Foo", "fooemail@example.org", 5);
    disabled.enabled = false;
    index.apply(vec![IndexChange::Upsert(disabled.clone())], 2).expect("apply");
    assert_eq!(uid_set(&index, "very"), set(&["user_baz"]));
    assert_eq!(index.suggest(&named("")).expect("suggest").total, 3);
    disabled.enabled = true;
    index.apply(vec![IndexChange::Upsert(disabled)], 3).expect("apply");
    assert_eq!(uid_set(&index, "very"), set(&["user_foo", "user_baz"]));
}

#[test]
fn delete_removes_and_upsert_replaces() {
    let index = curious_users();
    index.apply(vec![IndexChange::Delete { uid: "user_bar".to_string() }], 2).expect("apply");
    assert_eq!(uid_set(&index, "super"), set(&["user_qux"]));
    let renamed = profile("user_qux", "someone", "Someone Else", "else@example.com", 9);
    index.apply(vec![IndexChange::Upsert(renamed)], 3).expect("apply");
    assert!(uid_set(&index, "super").is_empty());
    assert_eq!(uid_set(&index, "someone"), set(&["user_qux"]));
    assert_eq!(index.suggest(&named("")).expect("suggest").uids.len(), 3);
    assert_eq!(index.applied_seq_no(), Some(3));
}

#[test]
fn repeated_uid_in_one_batch_keeps_the_last_version() {
    let index = index_with(vec![profile("u1", "first", "", "", 1), profile("u1", "second", "", "", 2)]);
    assert!(uid_set(&index, "first").is_empty());
    assert_eq!(uid_set(&index, "second"), set(&["u1"]));
    assert_eq!(index.suggest(&named("")).expect("suggest").total, 1);
}

#[test]
fn size_zero_returns_only_the_total() {
    let index = curious_users();
    let result = index.suggest(&SuggestQuery { size: 0, ..named("user") }).expect("suggest");
    assert!(result.uids.is_empty());
    assert_eq!((result.total, result.total_is_lower_bound), (4, false));
    let size_two = index.suggest(&SuggestQuery { size: 2, ..named("") }).expect("suggest");
    assert_eq!(size_two.uids, ["user_foo", "user_bar"]);
    assert_eq!(size_two.total, 4);
}

#[test]
fn unicode_names_are_found() {
    let index = index_with(vec![
        profile("zoe", "zcelik", "Zoë Çelik", "zoe@example.com", 3),
        profile("lukasz", "lukasz", "Łukasz Nowak", "", 2),
        profile("watanabe", "watanabe", "渡辺 太郎", "", 1),
    ]);
    assert_eq!(uid_set(&index, "zo"), set(&["zoe"]));
    assert_eq!(uid_set(&index, "Çel"), set(&["zoe"]));
    assert_eq!(uid_set(&index, "zoe çelik"), set(&["zoe"]));
    assert_eq!(uid_set(&index, "łuk"), set(&["lukasz"]));
    assert_eq!(uid_set(&index, "ŁUKASZ"), set(&["lukasz"]));
    assert_eq!(uid_set(&index, "渡"), set(&["watanabe"]));
    assert_eq!(uid_set(&index, "渡辺"), set(&["watanabe"]));
}

#[test]
fn persisted_index_reopens_with_its_seq_no() {
    let directory = tempfile::tempdir().expect("tempdir");
    {
        let index = ProfileIndex::open_in_dir(directory.path()).expect("open");
        assert_eq!(index.applied_seq_no(), None);
        index.apply(vec![IndexChange::Upsert(profile("u1", "jacknich", "Jack Nicholson", "", 1))], 41).expect("apply");
        index.apply(vec![IndexChange::Upsert(profile("u2", "jbond", "James Bond", "", 2))], 42).expect("apply");
    }
    let reopened = ProfileIndex::open_in_dir(directory.path()).expect("reopen");
    assert_eq!(reopened.applied_seq_no(), Some(42));
    assert_eq!(uid_set(&reopened, "jack"), set(&["u1"]));
    assert_eq!(uids(&reopened, &named("")), ["u2", "u1"]);
    reopened.apply(vec![IndexChange::Delete { uid: "u1".to_string() }], 43).expect("apply");
    drop(reopened);
    let reopened_again = ProfileIndex::open_in_dir(directory.path()).expect("reopen");
    assert_eq!(reopened_again.applied_seq_no(), Some(43));
    assert_eq!(uids(&reopened_again, &named("")), ["u2"]);
}

#[test]
fn incompatible_directory_is_reset() {
    let directory = tempfile::tempdir().expect("tempdir");
    {
        let other_schema = tantivy::schema::Schema::builder().build();
        tantivy::Index::create_in_dir(directory.path(), other_schema).expect("other index");
    }
    let index = ProfileIndex::open_in_dir(directory.path()).expect("open resets");
    assert_eq!(index.applied_seq_no(), None);
    index.apply(vec![IndexChange::Upsert(profile("u1", "a", "", "", 1))], 1).expect("apply");
    assert_eq!(uid_set(&index, "a"), set(&["u1"]));
}

#[test]
fn totals_above_ten_thousand_are_lower_bounds() {
    let profiles = (0..TRACK_TOTAL_HITS_UP_TO + 5)
        .map(|number| profile(&format!("u{number}"), &format!("member{number}"), "", "", number as i64))
        .collect();
    let index = index_with(profiles);
    let result = index.suggest(&named("mem")).expect("suggest");
    assert_eq!((result.total, result.total_is_lower_bound), (TRACK_TOTAL_HITS_UP_TO, true));
    let newest = format!("u{}", TRACK_TOTAL_HITS_UP_TO + 4);
    assert_eq!(result.uids.first(), Some(&newest));
    let exact = index.suggest(&named("member1000")).expect("suggest");
    assert_eq!((exact.total, exact.total_is_lower_bound), (6, false));
    let blank = index.suggest(&named("")).expect("suggest");
    assert_eq!((blank.total, blank.total_is_lower_bound), (TRACK_TOTAL_HITS_UP_TO, true));
}

/// Builds an index of many small segments (one commit per profile) plus one big batch.
fn fragmented_index() -> ProfileIndex {
    let first_names = ["anna", "andrew", "bob", "berta", "carl", "cathy", "dan", "diana"];
    let last_names = ["smith", "smyth", "jones", "brown", "adams", "baker"];
    let mut profiles = Vec::new();
    for number in 0..600u32 {
        let first = first_names[(number as usize * 7) % first_names.len()];
        let last = last_names[(number as usize * 5 + number as usize / 9) % last_names.len()];
        profiles.push(profile(
            &format!("u{number}"),
            &format!("{}{}{}", &first[..1], last, number % 13),
            &format!("{first} {last}"),
            &format!("{first}.{last}@{}.com", if number % 2 == 0 { "example" } else { "corp" }),
            i64::from((number * 7919) % 1000),
        ));
    }
    let index = ProfileIndex::open_in_memory().expect("index");
    let (batch, singles) = profiles.split_at(500);
    index.apply(batch.iter().cloned().map(IndexChange::Upsert).collect(), 1).expect("apply");
    for (offset, single) in singles.iter().enumerate() {
        index.apply(vec![IndexChange::Upsert(single.clone())], 2 + offset as i64).expect("apply");
    }
    index
}

#[test]
fn pruned_top_k_equals_the_exhaustive_ranking() {
    let index = fragmented_index();
    let queries = [
        "a",
        "b",
        "an",
        "smi",
        "anna sm",
        "dan jones",
        "smyht",
        "example",
        "corp.com",
        "d",
        "xyz",
        "",
        "anna.smith@example.com",
        "dan.jones@corp.com",
        "bob.baker",
    ];
    for name in queries {
        let everything = uids(&index, &SuggestQuery { size: 10_000, ..named(name) });
        for size in [1, 3, 10] {
            let top = uids(&index, &SuggestQuery { size, ..named(name) });
            let expected: Vec<String> = everything.iter().take(size).cloned().collect();
            assert_eq!(top, expected, "query {name:?} size {size}");
        }
        let hinted = SuggestQuery { size: 5, hint_uids: vec!["u7".to_string(), "u555".to_string()], ..named(name) };
        let hinted_everything = uids(&index, &SuggestQuery { size: 10_000, ..hinted.clone() });
        assert_eq!(uids(&index, &hinted), hinted_everything.into_iter().take(5).collect::<Vec<_>>(), "hinted {name:?}");
    }
}

/// An e-mail address query probes its domain's terms (on most profiles) for the candidates of its
/// rarer terms once the best hits are known, instead of streaming them: the ranking stays the
/// exhaustive one, with and without hints and other matching clauses, across windows and segments.
#[test]
fn address_queries_probing_the_domain_rank_like_the_exhaustive_search() {
    let given = ["anna", "berta", "carl", "dora", "emil", "frida", "gustav"];
    let family = ["schmidt", "meier", "schulz", "fischer", "weber"];
    let domain = |number: usize| match number % 10 {
        0..=6 => "firma.de",
        7 | 8 => "firma.pl",
        _ => "example.com",
    };
    let profiles: Vec<SuggestDocument> = (0..9_000)
        .map(|number| {
            let (first, last) = (given[number % given.len()], family[(number / 7) % family.len()]);
            let local = if number % 5 == 0 { format!("{first}.{last}") } else { format!("{first}.{last}{number}") };
            let username =
                if number % 11 == 0 { format!("{first}.{last}") } else { format!("{}{last}{number}", &first[..1]) };
            SuggestDocument {
                labels: json!({ "kibana": { "spaces": [if number % 4 == 0 { "ops" } else { "default" }] } }),
                ..profile(
                    &format!("u{number}"),
                    &username,
                    &format!("{first} {last}"),
                    &format!("{local}@{}", domain(number)),
                    (number as i64 * 7_919) % 5_000,
                )
            }
        })
        .collect();
    let (batch, rest) = profiles.split_at(8_000);
    let index = ProfileIndex::open_in_memory().expect("index");
    index.apply(batch.iter().cloned().map(IndexChange::Upsert).collect(), 1).expect("apply");
    index.apply(rest.iter().cloned().map(IndexChange::Upsert).collect(), 2).expect("apply");
    let queries = [
        "anna.schmidt@firma.de",
        "anna.schmidt35@firma.de",
        "carl.weber@firma.pl",
        "dora.meier@example.com",
        "gustav.fischer8000@firma.de",
        "emil.schulz@nowhere.org",
        "x@firma.de",
        "anna.schmidt firma.de",
    ];
    for name in queries {
        for (hint_uids, hint_label) in [
            (vec![], None),
            (vec!["u77".to_string(), "u8005".to_string()], None),
            (vec![], Some(("kibana.spaces".to_string(), vec!["ops".to_string()]))),
        ] {
            let query = SuggestQuery { hint_uids, hint_label, ..named(name) };
            let everything = uids(&index, &SuggestQuery { size: 10_000, ..query.clone() });
            for size in [1, 5, 10, 20] {
                let top = uids(&index, &SuggestQuery { size, ..query.clone() });
                let expected: Vec<String> = everything.iter().take(size).cloned().collect();
                assert_eq!(
                    top, expected,
                    "query {name:?} size {size} hints {:?} {:?}",
                    query.hint_uids, query.hint_label
                );
            }
        }
    }
}

/// A label hint that most candidates match is added a window at a time instead of probed per
/// candidate; both ways rank the labelled profiles first, newest first, and count every match.
#[test]
fn dense_and_sparse_label_hints_rank_the_labelled_profiles_first() {
    let profiles: Vec<SuggestDocument> = (0..1_200)
        .map(|number| SuggestDocument {
            labels: json!({ "kibana": { "spaces": [if number % 3 == 0 { "rare" } else { "common" }] } }),
            ..profile(&format!("u{number}"), &format!("anna{number}"), "Anna Example", "", number)
        })
        .collect();
    let index = index_with(profiles);
    for (space, labelled) in [("common", 800), ("rare", 400)] {
        let hinted = SuggestQuery {
            size: 20,
            hint_label: Some(("kibana.spaces".to_string(), vec![space.to_string()])),
            ..named("anna")
        };
        let result = index.suggest(&hinted).expect("suggest");
        assert_eq!(result.total, 1_200, "{space}");
        let expected: Vec<String> = (0..1_200)
            .rev()
            .filter(|number| (number % 3 == 0) == (space == "rare"))
            .take(20)
            .map(|n| format!("u{n}"))
            .collect();
        assert_eq!(result.uids, expected, "{space} ({labelled} labelled)");
    }
}

proptest! {
    /// Clause scores on the grid sum to the same total in any order, and the grid never rounds up
    /// (so a clause's maximum score stays an upper bound of its rounded scores).
    #[test]
    fn scores_on_the_grid_sum_in_any_order(scores in proptest::collection::vec(0.0f32..40.0, 1..12)) {
        let rounded: Vec<f32> = scores.iter().map(|score| crate::search::cursor::on_score_grid(*score)).collect();
        for (score, on_grid) in scores.iter().zip(&rounded) {
            prop_assert!(*on_grid <= *score && *score - *on_grid < 1.0 / 16_384.0, "{} -> {}", score, on_grid);
        }
        let forward: f32 = rounded.iter().sum();
        let backward: f32 = rounded.iter().rev().sum();
        let mut shuffled = rounded.clone();
        shuffled.rotate_left(rounded.len() / 2);
        let rotated: f32 = shuffled.iter().sum();
        prop_assert_eq!(forward.to_bits(), backward.to_bits());
        prop_assert_eq!(forward.to_bits(), rotated.to_bits());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn every_prefix_of_a_username_finds_it(username in "[a-zA-Z][a-zA-Z0-9_]{0,14}") {
        let index = index_with(vec![
            profile("target", &username, "", "", 1),
            profile("other", "zzzz_other", "Other Person", "other@example.com", 2),
        ]);
        let characters: Vec<char> = username.chars().collect();
        for length in 1..=characters.len() {
            let prefix: String = characters[..length].iter().collect();
            let found = uids(&index, &named(&prefix));
            prop_assert!(found.contains(&"target".to_string()), "prefix {:?} of {:?} found {:?}", prefix, username, found);
        }
    }
}

/// Merging every segment into one keeps the answers (order included), the deletions and the applied
/// position, and later changes still apply.
#[test]
fn merging_all_segments_keeps_the_answers() {
    let directory = tempfile::tempdir().expect("tempdir");
    let index = ProfileIndex::open_in_dir(directory.path()).expect("open");
    let names = ["Martina Sánchez", "Martin Sanchez", "Mustafa Kaya", "Marta Kay", "Jack Smith", "Jacky Smyth"];
    for (batch, chunk) in names.chunks(2).enumerate() {
        let changes = chunk
            .iter()
            .enumerate()
            .map(|(offset, name)| {
                let number = batch * 2 + offset;
                let username = name.to_lowercase().replace(' ', ".");
                IndexChange::Upsert(profile(
                    &format!("u{number}"),
                    &username,
                    name,
                    &format!("{username}@example.com"),
                    number as i64,
                ))
            })
            .collect();
        index.apply(changes, batch as i64 + 1).expect("apply");
    }
    index.apply(vec![IndexChange::Delete { uid: "u5".to_string() }], 10).expect("delete");
    assert!(index.segment_count() > 1, "one commit per batch makes several segments");
    let queries = ["martina sanchez", "mustafa", "ma", "jack smith", "smyth", "example.com"];
    let before: Vec<_> = queries.iter().map(|query| uids(&index, &named(query))).collect();
    index.merge_all_segments().expect("merge");
    assert_eq!(index.segment_count(), 1);
    let after: Vec<_> = queries.iter().map(|query| uids(&index, &named(query))).collect();
    assert_eq!(before, after);
    assert!(!after[4].contains(&"u5".to_string()), "the deleted profile stays deleted");
    assert_eq!(index.applied_seq_no(), Some(10));
    index.apply(vec![IndexChange::Upsert(profile("u9", "zed", "Zed Zimmer", "", 99))], 11).expect("apply after merge");
    assert_eq!(uids(&index, &named("zimmer")), vec!["u9".to_string()]);
    drop(index);
    let reopened = ProfileIndex::open_in_dir(directory.path()).expect("reopen");
    assert_eq!(reopened.applied_seq_no(), Some(11));
    assert_eq!(uids(&reopened, &named("mustafa")), after[1]);
}
