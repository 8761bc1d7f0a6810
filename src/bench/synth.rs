//! Synthetic users and profiles: names from several languages and scripts, emails, roles, a few KB of
//! `kibana.*` data and labels. Everything is a pure function of the user's index, so any part of the
//! harness can regenerate user `i` without keeping a million of them in memory.

use base64::Engine;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};

use crate::domain::profile::hashed_uid;

/// The password of every synthetic user.
pub(crate) const USER_PASSWORD: &str = "bench-Passw0rd!";
/// Seed of the whole synthetic population.
const POPULATION_SEED: u64 = 0x5eed_0f_u64 << 20;

/// The native roles the synthetic users hold, created through the role API before the workloads run.
pub(crate) const BENCH_ROLES: &[(&str, &str)] = &[
    (
        "bench_kibana_user",
        r#"{"cluster":[],"applications":[{"application":"kibana-.kibana","privileges":["login:","version:8.15.0"],"resources":["*"]}]}"#,
    ),
    (
        "bench_kibana_space",
        r#"{"applications":[{"application":"kibana-.kibana","privileges":["login:"],"resources":["space:default","space:marketing"]}]}"#,
    ),
    ("bench_monitoring", r#"{"cluster":["monitor"],"indices":[{"names":["metrics-*"],"privileges":["read"]}]}"#),
];

/// How a language writes a full name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameOrder {
    /// "Given Family".
    GivenFirst,
    /// "FamilyGiven" (Chinese, Korean).
    FamilyFirstJoined,
    /// "Family Given" (Japanese).
    FamilyFirstSpaced,
}

/// A language's names as `(native spelling, ASCII romanisation)`.
#[derive(Debug)]
struct Language {
    email_domain: &'static str,
    order: NameOrder,
    given: &'static [(&'static str, &'static str)],
    family: &'static [(&'static str, &'static str)],
}

const LANGUAGES: &[Language] = &[
    Language {
        email_domain: "example.com",
        order: NameOrder::GivenFirst,
        given: &[
            ("James", "james"),
            ("Mary", "mary"),
            ("Robert", "robert"),
            ("Patricia", "patricia"),
            ("Jennifer", "jennifer"),
            ("Michael", "michael"),
            ("Linda", "linda"),
            ("David", "david"),
            ("Elizabeth", "elizabeth"),
            ("Susan", "susan"),
        ],
        family: &[
            ("Smith", "smith"),
            ("Johnson", "johnson"),
            ("Williams", "williams"),
            ("Brown", "brown"),
            ("Jones", "jones"),
            ("Miller", "miller"),
            ("Davis", "davis"),
            ("Wilson", "wilson"),
            ("Taylor", "taylor"),
            ("Anderson", "anderson"),
        ],
    },
    Language {
        email_domain: "firma.de",
        order: NameOrder::GivenFirst,
        given: &[
            ("Jürgen", "juergen"),
            ("Lukas", "lukas"),
            ("Sophie", "sophie"),
            ("Maximilian", "maximilian"),
            ("Anna", "anna"),
            ("Felix", "felix"),
            ("Jörg", "joerg"),
            ("Katharina", "katharina"),
            ("Björn", "bjoern"),
            ("Lena", "lena"),
        ],
        family: &[
            ("Müller", "mueller"),
            ("Schmidt", "schmidt"),
            ("Schneider", "schneider"),
            ("Fischer", "fischer"),
            ("Weber", "weber"),
            ("Meyer", "meyer"),
            ("Wagner", "wagner"),
            ("Becker", "becker"),
            ("Schäfer", "schaefer"),
            ("Köhler", "koehler"),
        ],
    },
    Language {
        email_domain: "societe.fr",
        order: NameOrder::GivenFirst,
        given: &[
            ("Élodie", "elodie"),
            ("Léa", "lea"),
            ("Chloé", "chloe"),
            ("Hugo", "hugo"),
            ("Théo", "theo"),
            ("Camille", "camille"),
            ("François", "francois"),
            ("Inès", "ines"),
            ("Zoé", "zoe"),
            ("Mathéo", "matheo"),
        ],
        family: &[
            ("Martin", "martin"),
            ("Bernard", "bernard"),
            ("Dubois", "dubois"),
            ("Lefèvre", "lefevre"),
            ("Moreau", "moreau"),
            ("Laurent", "laurent"),
            ("Girard", "girard"),
            ("Rousseau", "rousseau"),
            ("Fontaine", "fontaine"),
            ("Bélanger", "belanger"),
        ],
    },
    Language {
        email_domain: "empresa.es",
        order: NameOrder::GivenFirst,
        given: &[
            ("José", "jose"),
            ("María", "maria"),
            ("Lucía", "lucia"),
            ("Javier", "javier"),
            ("Sofía", "sofia"),
            ("Alejandro", "alejandro"),
            ("Carmen", "carmen"),
            ("Ángel", "angel"),
            ("Martina", "martina"),
            ("Pablo", "pablo"),
        ],
        family: &[
            ("García", "garcia"),
            ("Fernández", "fernandez"),
            ("González", "gonzalez"),
            ("Rodríguez", "rodriguez"),
            ("López", "lopez"),
            ("Martínez", "martinez"),
            ("Sánchez", "sanchez"),
            ("Pérez", "perez"),
            ("Núñez", "nunez"),
            ("Jiménez", "jimenez"),
        ],
    },
    Language {
        email_domain: "firma.pl",
        order: NameOrder::GivenFirst,
        given: &[
            ("Łukasz", "lukasz"),
            ("Małgorzata", "malgorzata"),
            ("Krzysztof", "krzysztof"),
            ("Agnieszka", "agnieszka"),
            ("Paweł", "pawel"),
            ("Zofia", "zofia"),
            ("Tomasz", "tomasz"),
            ("Michał", "michal"),
        ],
        family: &[
            ("Nowak", "nowak"),
            ("Kowalski", "kowalski"),
            ("Wiśniewski", "wisniewski"),
            ("Wójcik", "wojcik"),
            ("Kamiński", "kaminski"),
            ("Lewandowski", "lewandowski"),
            ("Zieliński", "zielinski"),
            ("Woźniak", "wozniak"),
        ],
    },
    Language {
        email_domain: "kompaniya.ru",
        order: NameOrder::GivenFirst,
        given: &[
            ("Дмитрий", "dmitry"),
            ("Анна", "anna"),
            ("Сергей", "sergey"),
            ("Мария", "maria"),
            ("Алексей", "alexey"),
            ("Ольга", "olga"),
            ("Иван", "ivan"),
            ("Наталья", "natalya"),
            ("Андрей", "andrey"),
            ("Екатерина", "ekaterina"),
        ],
        family: &[
            ("Иванов", "ivanov"),
            ("Смирнов", "smirnov"),
            ("Кузнецов", "kuznetsov"),
            ("Попов", "popov"),
            ("Васильев", "vasiliev"),
            ("Петров", "petrov"),
            ("Соколов", "sokolov"),
            ("Михайлов", "mikhailov"),
            ("Новиков", "novikov"),
            ("Фёдоров", "fedorov"),
        ],
    },
    Language {
        email_domain: "etaireia.gr",
        order: NameOrder::GivenFirst,
        given: &[
            ("Γιώργος", "giorgos"),
            ("Μαρία", "maria"),
            ("Νίκος", "nikos"),
            ("Ελένη", "eleni"),
            ("Δημήτρης", "dimitris"),
            ("Κατερίνα", "katerina"),
            ("Κώστας", "kostas"),
            ("Σοφία", "sofia"),
        ],
        family: &[
            ("Παπαδόπουλος", "papadopoulos"),
            ("Παπαδάκης", "papadakis"),
            ("Γεωργίου", "georgiou"),
            ("Οικονόμου", "oikonomou"),
            ("Βασιλείου", "vasileiou"),
            ("Νικολάου", "nikolaou"),
        ],
    },
    Language {
        email_domain: "gongsi.cn",
        order: NameOrder::FamilyFirstJoined,
        given: &[
            ("伟", "wei"),
            ("芳", "fang"),
            ("娜", "na"),
            ("秀英", "xiuying"),
            ("敏", "min"),
            ("静", "jing"),
            ("丽", "li"),
            ("强", "qiang"),
            ("磊", "lei"),
            ("军", "jun"),
        ],
        family: &[
            ("王", "wang"),
            ("李", "li"),
            ("张", "zhang"),
            ("刘", "liu"),
            ("陈", "chen"),
            ("杨", "yang"),
            ("黄", "huang"),
            ("赵", "zhao"),
            ("吴", "wu"),
            ("周", "zhou"),
        ],
    },
    Language {
        email_domain: "kaisha.co.jp",
        order: NameOrder::FamilyFirstSpaced,
        given: &[
            ("花子", "hanako"),
            ("太郎", "taro"),
            ("陽翔", "haruto"),
            ("結衣", "yui"),
            ("蓮", "ren"),
            ("美咲", "misaki"),
            ("大輝", "daiki"),
            ("さくら", "sakura"),
        ],
        family: &[
            ("佐藤", "sato"),
            ("鈴木", "suzuki"),
            ("高橋", "takahashi"),
            ("田中", "tanaka"),
            ("伊藤", "ito"),
            ("渡辺", "watanabe"),
            ("山本", "yamamoto"),
            ("中村", "nakamura"),
        ],
    },
    Language {
        email_domain: "hoesa.kr",
        order: NameOrder::FamilyFirstJoined,
        given: &[
            ("민준", "minjun"),
            ("서연", "seoyeon"),
            ("지호", "jiho"),
            ("하은", "haeun"),
            ("도윤", "doyun"),
            ("수아", "sua"),
        ],
        family: &[("김", "kim"), ("이", "lee"), ("박", "park"), ("최", "choi"), ("정", "jung"), ("강", "kang")],
    },
    Language {
        email_domain: "sharika.ae",
        order: NameOrder::GivenFirst,
        given: &[
            ("محمد", "mohammed"),
            ("فاطمة", "fatima"),
            ("أحمد", "ahmed"),
            ("مريم", "maryam"),
            ("علي", "ali"),
            ("نور", "nour"),
            ("عمر", "omar"),
            ("ليلى", "layla"),
        ],
        family: &[
            ("العلي", "alali"),
            ("حداد", "haddad"),
            ("منصور", "mansour"),
            ("خوري", "khoury"),
            ("سالم", "salem"),
            ("ناصر", "nasser"),
        ],
    },
    Language {
        email_domain: "sanstha.in",
        order: NameOrder::GivenFirst,
        given: &[
            ("राहुल", "rahul"),
            ("प्रिया", "priya"),
            ("अमित", "amit"),
            ("अनन्या", "ananya"),
            ("विक्रम", "vikram"),
            ("पूजा", "pooja"),
            ("अर्जुन", "arjun"),
            ("दीपिका", "deepika"),
        ],
        family: &[
            ("शर्मा", "sharma"),
            ("वर्मा", "verma"),
            ("गुप्ता", "gupta"),
            ("पटेल", "patel"),
            ("सिंह", "singh"),
            ("कुमार", "kumar"),
        ],
    },
    Language {
        email_domain: "sirket.com.tr",
        order: NameOrder::GivenFirst,
        given: &[
            ("Mehmet", "mehmet"),
            ("Ayşe", "ayse"),
            ("Mustafa", "mustafa"),
            ("Fatma", "fatma"),
            ("Emre", "emre"),
            ("Zeynep", "zeynep"),
            ("Çağlar", "caglar"),
            ("Gülşen", "gulsen"),
        ],
        family: &[
            ("Yılmaz", "yilmaz"),
            ("Kaya", "kaya"),
            ("Demir", "demir"),
            ("Şahin", "sahin"),
            ("Çelik", "celik"),
            ("Öztürk", "ozturk"),
        ],
    },
];

const SPACES: &[&str] = &["default", "marketing", "security", "observability", "sales", "engineering"];
const DARK_MODES: &[&str] = &["", "system", "dark", "light"];
const AVATAR_COLORS: &[&str] =
    &["#54B399", "#6092C0", "#D36086", "#9170B8", "#CA8EAE", "#D6BF57", "#B9A888", "#DA8B45"];
const APPS: &[(&str, &str)] = &[
    ("dashboards", "Dashboard"),
    ("discover", "Discover session"),
    ("lens", "Visualization"),
    ("security", "Case"),
    ("observability", "SLO"),
    ("maps", "Map"),
];

/// One synthetic user: what the native user document and the profile are built from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SyntheticUser {
    pub(crate) index: usize,
    pub(crate) username: String,
    pub(crate) full_name: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) roles: Vec<String>,
    /// The given name as written natively (a suggest query source).
    pub(crate) given_name: String,
    /// The family name as written natively.
    pub(crate) family_name: String,
    /// The romanised family name (typo queries are made from it).
    pub(crate) family_roman: String,
    pub(crate) enabled: bool,
}

fn rng_for(index: usize, stream: u64) -> StdRng {
    StdRng::seed_from_u64(POPULATION_SEED ^ (index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ stream)
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}

/// Returns synthetic user number `index` (the same every time).
pub(crate) fn synthetic_user(index: usize) -> SyntheticUser {
    let mut rng = rng_for(index, 1);
    let language = pick(&mut rng, LANGUAGES);
    let (given_native, given_roman) = *pick(&mut rng, language.given);
    let (family_native, family_roman) = *pick(&mut rng, language.family);
    let full_name_text = match language.order {
        NameOrder::GivenFirst => format!("{given_native} {family_native}"),
        NameOrder::FamilyFirstJoined => format!("{family_native}{given_native}"),
        NameOrder::FamilyFirstSpaced => format!("{family_native} {given_native}"),
    };
    let initial = &given_roman[..1];
    let username = match rng.gen_range(0..3) {
        0 => format!("{given_roman}.{family_roman}{index}"),
        1 => format!("{initial}{family_roman}{index}"),
        _ => format!("{family_roman}.{given_roman}{index}"),
    };
    let full_name = (rng.gen_range(0..100) >= 4).then_some(full_name_text);
    let email =
        (rng.gen_range(0..100) >= 3).then(|| format!("{given_roman}.{family_roman}{index}@{}", language.email_domain));
    let roles = match rng.gen_range(0..10) {
        0..=5 => vec!["bench_kibana_user".to_string()],
        6 => vec!["bench_kibana_user".to_string(), "bench_monitoring".to_string()],
        7 | 8 => vec!["bench_kibana_space".to_string()],
        _ => vec!["bench_monitoring".to_string()],
    };
    let enabled = rng.gen_range(0..100) != 0;
    SyntheticUser {
        index,
        username,
        full_name,
        email,
        roles,
        given_name: given_native.to_string(),
        family_name: family_native.to_string(),
        family_roman: family_roman.to_string(),
        enabled,
    }
}

/// Returns the profile uid of synthetic user `index` (spec §3.7, differentiator 0).
pub(crate) fn synthetic_uid(index: usize) -> String {
    hashed_uid(&synthetic_user(index).username, 0)
}

fn random_base64(rng: &mut StdRng, bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    rng.fill(raw.as_mut_slice());
    base64::engine::general_purpose::STANDARD.encode(raw)
}

fn random_hex(rng: &mut StdRng, bytes: usize) -> String {
    (0..bytes).map(|_| format!("{:02x}", rng.gen::<u8>())).collect()
}

/// Returns the profile's `application_data`: Kibana's namespace with an avatar (a fifth of the users have
/// an uploaded picture), user settings and recently accessed objects, 1.5–5 KB in all.
pub(crate) fn application_data(user: &SyntheticUser) -> Map<String, Value> {
    let mut rng = rng_for(user.index, 2);
    let initials: String = user
        .full_name
        .as_deref()
        .unwrap_or(&user.username)
        .split_whitespace()
        .filter_map(|word| word.chars().next())
        .take(2)
        .collect();
    let mut avatar = json!({ "initials": initials, "color": pick(&mut rng, AVATAR_COLORS) });
    if rng.gen_range(0..5) == 0 {
        let picture_bytes = rng.gen_range(1200..2400);
        avatar["imageUrl"] = Value::String(format!("data:image/png;base64,{}", random_base64(&mut rng, picture_bytes)));
    }
    let recent_count = rng.gen_range(8..20);
    let recently_accessed: Vec<Value> = (0..recent_count)
        .map(|_| {
            let (app, kind) = *pick(&mut rng, APPS);
            let id = random_hex(&mut rng, 16);
            json!({ "id": id, "label": format!("{kind} {}", rng.gen_range(1..10_000)), "link": format!("/app/{app}#/view/{id}") })
        })
        .collect();
    let kibana = json!({
        "avatar": avatar,
        "userSettings": { "darkMode": pick(&mut rng, DARK_MODES), "contrastMode": "standard" },
        "recentlyAccessed": recently_accessed,
    });
    let mut data = Map::new();
    data.insert("kibana".into(), kibana);
    data
}

/// Returns the profile's `labels`: the Kibana spaces the user works in.
pub(crate) fn labels(user: &SyntheticUser) -> Map<String, Value> {
    let mut rng = rng_for(user.index, 3);
    let mut spaces = vec![SPACES[0]];
    for space in &SPACES[1..] {
        if rng.gen_range(0..4) == 0 {
            spaces.push(space);
        }
    }
    let mut labels = Map::new();
    labels.insert("kibana".into(), json!({ "spaces": spaces }));
    labels
}

/// Returns a suggest `name` as people type it: 1–3 letter prefixes, full names, typos, emails.
pub(crate) fn suggest_name(user: &SyntheticUser, rng: &mut StdRng) -> String {
    match rng.gen_range(0..10) {
        0..=2 => {
            let source = if rng.gen_bool(0.5) { &user.given_name } else { &user.family_name };
            source.chars().take(rng.gen_range(1..=3)).collect()
        }
        3 | 4 => user.full_name.clone().unwrap_or_else(|| user.username.clone()),
        5 | 6 => typo(&user.family_roman, rng),
        7 => user
            .email
            .as_deref()
            .and_then(|email| email.split('@').next())
            .unwrap_or(&user.username)
            .chars()
            .take(6)
            .collect(),
        8 => user.email.clone().unwrap_or_else(|| user.username.clone()),
        _ => user.username.chars().take(rng.gen_range(3..8)).collect(),
    }
}

/// Returns `word` with one edit: a substitution, a deletion or a transposition.
pub(crate) fn typo(word: &str, rng: &mut StdRng) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    if chars.len() < 3 {
        return word.to_string();
    }
    let position = rng.gen_range(1..chars.len() - 1);
    match rng.gen_range(0..3) {
        0 => chars[position] = (b'a' + rng.gen_range(0..26)) as char,
        1 => {
            chars.remove(position);
        }
        _ => chars.swap(position, position + 1),
    }
    chars.into_iter().collect()
}

/// Returns a random space label, for label hints.
pub(crate) fn random_space(rng: &mut StdRng) -> &'static str {
    *pick(rng, SPACES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_deterministic_and_unique() {
        assert_eq!(synthetic_user(42), synthetic_user(42));
        let usernames: std::collections::HashSet<String> =
            (0..2_000).map(|index| synthetic_user(index).username).collect();
        assert_eq!(usernames.len(), 2_000);
    }

    #[test]
    fn data_is_a_few_kilobytes_under_kibana() {
        let sizes: Vec<usize> = (0..200)
            .map(|index| {
                serde_json::to_string(&application_data(&synthetic_user(index))).map(|text| text.len()).unwrap_or(0)
            })
            .collect();
        let average = sizes.iter().sum::<usize>() / sizes.len();
        assert!((1_000..6_000).contains(&average), "average data size {average}");
        assert!(application_data(&synthetic_user(7)).contains_key("kibana"));
    }

    #[test]
    fn names_cover_several_scripts() {
        let full_names: Vec<String> = (0..500).filter_map(|index| synthetic_user(index).full_name).collect();
        assert!(full_names.iter().any(|name| name.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c))), "cyrillic");
        assert!(full_names.iter().any(|name| name.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))), "han");
        assert!(full_names.iter().any(|name| name.is_ascii()), "latin");
    }

    #[test]
    fn typos_change_the_word_by_one_edit() {
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..50 {
            let changed = typo("mueller", &mut rng);
            assert!(changed.len() + 1 >= "mueller".len() && changed.len() <= "mueller".len());
        }
    }
}
