//! User profile operations: activate, get, update data, enable/disable (spec §3–§5, §7).

use std::sync::Arc;

use serde_json::{json, Map, Value};

use crate::app::AppState;
use crate::authn::{Authentication, PasswordCredentials};
use crate::domain::profile::{
    doc_id, hashed_uid, Profile, ProfileForUpdate, ProfileUser, StoredDomain, StoredRealm, StoredRealmIdentifier,
    UpdateProfileData, ACTIVATION_GRACE_MILLIS, MAX_DIFFERENTIATOR, PROFILE_INDEX,
};
use crate::error::EsError;
use crate::service::profile_cache::CachedProfile;
use crate::store::{Collection, Decision, Doc, RawDecision, RawOutcome, UpdateOutcome};

/// The transport action of activation, named in grant authentication errors.
pub(crate) const ACTIVATE_ACTION: &str = "cluster:admin/xpack/security/profile/activate";

/// Returns the current time in epoch milliseconds.
pub(crate) fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|duration| duration.as_millis() as i64)
        .unwrap_or_default()
}

/// The credentials of an activation grant.
pub(crate) enum Grant {
    Password(PasswordCredentials),
    /// An access token or JWT, with the optional `client_authentication` (scheme, value) of the body.
    AccessToken(String, Option<(String, String)>),
}

impl std::fmt::Debug for Grant {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Grant::Password(credentials) => formatter.debug_tuple("Grant::Password").field(credentials).finish(),
            Grant::AccessToken(..) => formatter.write_str("Grant::AccessToken(..)"),
        }
    }
}

/// Parses and validates the activate body (strict parser `activate_profile_request`, spec §3.1–§3.2).
pub(crate) fn parse_activate_request(body: &Value) -> Result<Grant, EsError> {
    const PARSER: &str = "activate_profile_request";
    let Value::Object(object) = body else {
        return Err(EsError::x_content_parse(format!("[1:1] [{PARSER}] Expected START_OBJECT")));
    };
    let mut fields: [Option<String>; 4] = Default::default();
    let mut client_authentication = None;
    for (field, value) in object {
        let slot = match field.as_str() {
            "grant_type" => 0,
            "username" => 1,
            "password" => 2,
            "access_token" => 3,
            // The JWT realm's client authentication, as Kibana sends it in the body (spec §3.1).
            "client_authentication" => {
                client_authentication = Some(parse_client_authentication(value)?);
                continue;
            }
            other => return Err(EsError::x_content_parse(format!("[1:2] [{PARSER}] unknown field [{other}]"))),
        };
        match value {
            Value::String(text) => fields[slot] = Some(text.clone()),
            Value::Null => {}
            other => {
                return Err(EsError::x_content_parse(format!(
                    "[1:2] [{PARSER}] {field} doesn't support values of type: {}",
                    crate::domain::profile::token_name(other)
                )))
            }
        }
    }
    let [grant_type, username, password, access_token] = fields;
    let present = |value: &Option<String>| value.as_deref().is_some_and(|text| !text.is_empty());
    let mut problems = Vec::new();
    match grant_type.as_deref() {
        None => problems.push("[grant_type] is required".to_string()),
        Some("password") => {
            if !present(&username) {
                problems.push("[username] is required for grant_type [password]".to_string());
            }
            if !present(&password) {
                problems.push("[password] is required for grant_type [password]".to_string());
            }
            if present(&access_token) {
                problems.push("[access_token] is not supported for grant_type [password]".to_string());
            }
        }
        Some("access_token") => {
            if !present(&access_token) {
                problems.push("[access_token] is required for grant_type [access_token]".to_string());
            }
            if present(&username) {
                problems.push("[username] is not supported for grant_type [access_token]".to_string());
            }
            if present(&password) {
                problems.push("[password] is not supported for grant_type [access_token]".to_string());
            }
        }
        Some(other) => problems.push(format!("grant_type [{other}] is not supported")),
    }
    if !problems.is_empty() {
        return Err(EsError::validation(&problems));
    }
    Ok(match grant_type.as_deref() {
        Some("password") => Grant::Password(PasswordCredentials {
            username: username.unwrap_or_default(),
            password: password.unwrap_or_default(),
        }),
        _ => Grant::AccessToken(access_token.unwrap_or_default(), client_authentication),
    })
}

/// Parses `{"scheme": "SharedSecret", "value": "..."}`.
fn parse_client_authentication(value: &Value) -> Result<(String, String), EsError> {
    const PARSER: &str = "client_authentication";
    let Value::Object(object) = value else {
        return Err(EsError::x_content_parse(format!("[1:2] [{PARSER}] Expected START_OBJECT")));
    };
    let mut scheme = None;
    let mut secret = None;
    for (field, field_value) in object {
        let text = field_value.as_str().ok_or_else(|| {
            EsError::x_content_parse(format!(
                "[1:2] [{PARSER}] {field} doesn't support values of type: {}",
                crate::domain::profile::token_name(field_value)
            ))
        })?;
        match field.as_str() {
            "scheme" => scheme = Some(text.to_string()),
            "value" => secret = Some(text.to_string()),
            other => return Err(EsError::x_content_parse(format!("[1:2] [{PARSER}] unknown field [{other}]"))),
        }
    }
    match (scheme, secret) {
        (Some(scheme), Some(secret)) => Ok((scheme, secret)),
        _ => Err(EsError::illegal_argument("[client_authentication] requires both [scheme] and [value]")),
    }
}

/// Authenticates the grant as a fresh request (spec §3.4); 401 when no realm accepts it.
pub(crate) async fn authenticate_grant(state: &AppState, grant: Grant) -> Result<Authentication, EsError> {
    let (principal, authentication) = match grant {
        Grant::Password(credentials) => {
            let principal = credentials.username.clone();
            (principal, state.realms.authenticate_password(&credentials).await?.map(Arc::unwrap_or_clone))
        }
        Grant::AccessToken(token, client_authentication) => {
            let mut headers = axum::http::HeaderMap::new();
            if let Some((scheme, secret)) = client_authentication {
                let value = axum::http::HeaderValue::from_str(&format!("{scheme} {secret}"))
                    .map_err(|_| EsError::illegal_argument("invalid [client_authentication] value"))?;
                headers.insert("es-client-authentication", value);
            }
            ("_bearer_token".to_string(), state.realms.authenticate_bearer_with_headers(&token, &headers).await?)
        }
    };
    authentication.ok_or_else(|| {
        EsError::unauthenticated(
            format!("unable to authenticate user [{principal}] for action [{ACTIVATE_ACTION}]"),
            state.realms.challenges(),
        )
    })
}

/// Builds the profiled user of an authentication, as stored in the profile.
fn subject_user(state: &AppState, authentication: &Authentication) -> ProfileUser {
    let domain = authentication.realm.domain.as_ref().map(|domain| StoredDomain {
        name: domain.name.clone(),
        realms: domain
            .realms
            .iter()
            .map(|(name, realm_type)| StoredRealmIdentifier { name: name.clone(), realm_type: realm_type.clone() })
            .collect(),
    });
    ProfileUser {
        username: authentication.user.username.clone(),
        roles: authentication.user.roles.clone(),
        realm: StoredRealm {
            name: authentication.realm.name.clone(),
            realm_type: authentication.realm.realm_type.clone(),
            node_name: state.config.node_name.clone(),
            domain,
        },
        email: authentication.user.email.clone(),
        full_name: authentication.user.full_name.clone(),
    }
}

/// Tells whether a stored profile belongs to the subject: same username, and the same realm (file and
/// native realms are matched by type only), or a realm of the subject's domain (spec §3.6).
pub(crate) fn belongs_to_subject(stored: &ProfileUser, subject: &ProfileUser) -> bool {
    if stored.username != subject.username {
        return false;
    }
    if let Some(domain) = &subject.realm.domain {
        return domain.realms.iter().any(|realm| {
            realm.realm_type == stored.realm.realm_type
                && (is_singleton_realm_type(&realm.realm_type) || realm.name == stored.realm.name)
        });
    }
    stored.realm.realm_type == subject.realm.realm_type
        && (is_singleton_realm_type(&subject.realm.realm_type) || stored.realm.name == subject.realm.name)
}

fn is_singleton_realm_type(realm_type: &str) -> bool {
    realm_type == "file" || realm_type == "native"
}

/// Tells whether a re-activation of an enabled, unchanged profile falls inside the grace window.
fn unchanged_within_grace(
    enabled: bool,
    last_synchronized: i64,
    stored: &ProfileUser,
    subject: &ProfileUser,
    now: i64,
) -> bool {
    enabled && stored == subject && now - last_synchronized < ACTIVATION_GRACE_MILLIS
}

/// Decides what a re-activation writes (spec §3.8): nothing inside the grace window when unchanged.
fn reactivated(existing: &Profile, subject: &ProfileUser, now: i64) -> Option<Profile> {
    if unchanged_within_grace(existing.enabled, existing.last_synchronized, &existing.user, subject, now) {
        return None;
    }
    let mut updated = existing.clone();
    updated.user = subject.clone();
    updated.enabled = true;
    updated.last_synchronized = now;
    Some(updated)
}

/// The outcome of a profile write that carries the resulting document.
fn written_doc(outcome: UpdateOutcome) -> Result<Doc, EsError> {
    match outcome {
        UpdateOutcome::Created(doc) | UpdateOutcome::Updated(doc) | UpdateOutcome::Noop(Some(doc)) => Ok(doc),
        UpdateOutcome::Deleted(_) | UpdateOutcome::Noop(None) => {
            Err(EsError::internal("profile vanished during activation"))
        }
    }
}

/// Returns the literal uid `u_<username>_<suffix>` of a literal-username domain (spec §3.7).
fn literal_uid(authentication: &Authentication, username: &str, suffix: &str) -> Result<String, EsError> {
    let valid = username.len() <= 256
        && username.chars().next().is_some_and(|first| first.is_ascii_alphanumeric())
        && username.chars().all(|character| character.is_ascii_alphanumeric() || character == '-');
    if !valid {
        let domain_name = authentication.realm.domain.as_ref().map(|domain| domain.name.as_str()).unwrap_or_default();
        return Err(EsError::internal(format!(
            "Security domain [{domain_name}] is configured to use literal username. As a result, creating new user profile requires the username to be at least 1 and no more than 256 characters. The username must begin with an alphanumeric character (a-z, A-Z, 0-9) and followed by any alphanumeric or dash (-) characters."
        )));
    }
    Ok(format!("u_{username}_{suffix}"))
}

/// Returns the uid of the profile `authentication`'s user would activate into, if it exists
/// (`with_profile_uid`; disabled profiles included).
pub(crate) async fn existing_profile_uid(
    state: &AppState,
    authentication: &Authentication,
) -> Result<Option<String>, EsError> {
    let subject = subject_user(state, authentication);
    for doc in state.store.find_by_key(Collection::Profiles, &subject.username).await? {
        let profile = Profile::from_source(&doc.source)?;
        if belongs_to_subject(&profile.user, &subject) {
            return Ok(Some(profile.uid));
        }
    }
    Ok(None)
}

/// Marker reason of a doc-id clash with another user's profile (spec §3.7).
const CLASH: &str = "profile uid belongs to another user";

/// Activates (creates or refreshes) the profile of an authenticated subject; returns the profile.
pub(crate) async fn activate(state: &AppState, authentication: &Authentication) -> Result<Arc<CachedProfile>, EsError> {
    let subject = subject_user(state, authentication);
    // Fast path: an unchanged re-activation inside the grace window writes nothing (spec §3.8); with the
    // username's profiles and the profile itself cached it touches no storage either.
    if let Some(uids) = state.profile_cache.uids_of(&subject.username) {
        let cached = load_profiles(state, &uids).await?;
        let mut owned = cached.iter().flatten().filter(|cached| belongs_to_subject(&cached.user, &subject));
        if let (Some(only), None) = (owned.next(), owned.next()) {
            if unchanged_within_grace(only.enabled, only.last_synchronized, &only.user, &subject, now_millis()) {
                return Ok(Arc::clone(only));
            }
        }
    }
    let key_generation = state.profile_cache.key_generation();
    let docs = state.store.find_by_key(Collection::Profiles, &subject.username).await?;
    let candidates: Vec<(Doc, Profile)> = docs
        .into_iter()
        .map(|doc| Profile::from_source(&doc.source).map(|profile| (doc, profile)))
        .collect::<Result<_, _>>()?;
    let uids: Arc<[String]> = candidates.iter().map(|(_, profile)| profile.uid.clone()).collect();
    state.profile_cache.insert_uids(&subject.username, uids, key_generation);
    let mut owned: Vec<(Doc, Profile)> =
        candidates.into_iter().filter(|(_, profile)| belongs_to_subject(&profile.user, &subject)).collect();
    if owned.len() > 1 {
        let mut uids: Vec<String> = owned.iter().map(|(_, profile)| profile.uid.clone()).collect();
        uids.sort();
        return Err(EsError::internal(format!(
            "multiple [{}] profiles [{}] found for user [{}] from realm [{}]",
            uids.len(),
            uids.join(","),
            subject.username,
            subject.realm.name
        )));
    }
    let literal_suffix = authentication.realm.domain.as_ref().and_then(|domain| domain.literal_suffix.clone());
    if let [(doc, profile)] = owned.as_slice() {
        if reactivated(profile, &subject, now_millis()).is_none() {
            return Ok(Arc::new(CachedProfile::new(profile.clone(), doc.seq_no, doc.primary_term)));
        }
    }
    let first_uid = match (owned.pop(), &literal_suffix) {
        (Some((_, profile)), _) => profile.uid,
        (None, Some(suffix)) => literal_uid(authentication, &subject.username, suffix)?,
        (None, None) => hashed_uid(&subject.username, 0),
    };
    let base_uid = first_uid.rsplit_once('_').map(|(base, _)| base.to_string()).unwrap_or_else(|| first_uid.clone());
    let mut differentiator: u32 = first_uid.rsplit_once('_').and_then(|(_, number)| number.parse().ok()).unwrap_or(0);
    loop {
        let uid = format!("{base_uid}_{differentiator}");
        let subject_for_write = subject.clone();
        let uid_for_write = uid.clone();
        let now = now_millis();
        let result = state
            .store
            .update(
                Collection::Profiles,
                &doc_id(&uid),
                Box::new(move |current| {
                    let key = Some(subject_for_write.username.clone());
                    let Some(current_doc) = current else {
                        let profile = Profile {
                            uid: uid_for_write,
                            enabled: true,
                            last_synchronized: now,
                            user: subject_for_write,
                            labels: Map::new(),
                            application_data: Map::new(),
                        };
                        return Ok(Decision::Put { source: profile.to_source(), key });
                    };
                    let existing = Profile::from_source(&current_doc.source)?;
                    if !belongs_to_subject(&existing.user, &subject_for_write) {
                        return Err(EsError::new(409, "clash", CLASH));
                    }
                    Ok(match reactivated(&existing, &subject_for_write, now) {
                        Some(updated) => Decision::Put { source: updated.to_source(), key },
                        None => Decision::Noop,
                    })
                }),
            )
            .await?;
        match result {
            Ok(outcome) => {
                match outcome {
                    UpdateOutcome::Created(_) => {
                        state.profile_cache.invalidate(&uid);
                        state.profile_cache.invalidate_key(&subject.username);
                    }
                    UpdateOutcome::Updated(_) => state.profile_cache.invalidate(&uid),
                    _ => {}
                }
                let doc = written_doc(outcome)?;
                let profile = Profile::from_source(&doc.source)?;
                state.profile_search.wait_for(doc.seq_no).await;
                return Ok(Arc::new(CachedProfile::new(profile, doc.seq_no, doc.primary_term)));
            }
            Err(error) if error.reason == CLASH => {
                if let (Some(_), Some(domain)) = (&literal_suffix, &authentication.realm.domain) {
                    return Err(EsError::internal(format!(
                        "cannot create new profile for [{}]. A profile with uid [{uid}] already exists and suffix setting of domain [{}] does not support auto-increment.",
                        subject.username, domain.name
                    )));
                }
                if differentiator >= MAX_DIFFERENTIATOR {
                    return Err(EsError::internal(format!(
                        "profile differentiator value is too high for base Uid [{base_uid}]"
                    )));
                }
                differentiator += 1;
            }
            Err(error) => return Err(error),
        }
    }
}

/// The result of a multi-get of profiles, in request order.
pub(crate) struct ProfileLookup {
    pub(crate) found: Vec<Arc<CachedProfile>>,
    pub(crate) errors: Vec<(String, EsError)>,
}

/// Tells whether the profile index exists (remembered once true: it is never deleted).
pub(crate) async fn profile_index_exists(state: &AppState) -> Result<bool, EsError> {
    if state.profile_cache.index_exists() {
        return Ok(true);
    }
    let exists = state.store.collection_exists(Collection::Profiles).await?;
    if exists {
        state.profile_cache.remember_index_exists();
    }
    Ok(exists)
}

/// Loads the profiles of `uids` in order (`None` for missing ones), from the cache or the store.
pub(crate) async fn load_profiles(
    state: &AppState,
    uids: &[String],
) -> Result<Vec<Option<Arc<CachedProfile>>>, EsError> {
    let mut slots: Vec<Option<Arc<CachedProfile>>> = uids.iter().map(|uid| state.profile_cache.get(uid)).collect();
    let missing_positions: Vec<usize> = (0..uids.len()).filter(|position| slots[*position].is_none()).collect();
    if missing_positions.is_empty() {
        return Ok(slots);
    }
    state.profile_cache.count_misses(missing_positions.len());
    let generation_at_read = state.profile_cache.generation();
    let ids: Vec<String> = missing_positions.iter().map(|position| doc_id(&uids[*position])).collect();
    let docs = state.store.multi_get(Collection::Profiles, &ids).await?;
    for (position, doc) in missing_positions.into_iter().zip(docs) {
        let Some(doc) = doc else { continue };
        let cached = Arc::new(CachedProfile::new(Profile::from_source(&doc.source)?, doc.seq_no, doc.primary_term));
        state.profile_cache.insert(Arc::clone(&cached), generation_at_read);
        slots[position] = Some(cached);
    }
    Ok(slots)
}

/// Reads the profiles of `uids` in order (spec §4.2); missing ones become `errors`.
pub(crate) async fn get_profiles(state: &AppState, uids: &[String]) -> Result<ProfileLookup, EsError> {
    if !profile_index_exists(state).await? {
        let errors = uids.iter().map(|uid| (uid.clone(), EsError::internal("profile index does not exist"))).collect();
        return Ok(ProfileLookup { found: Vec::new(), errors });
    }
    let mut found = Vec::with_capacity(uids.len());
    let mut errors = Vec::new();
    for (uid, slot) in uids.iter().zip(load_profiles(state, uids).await?) {
        match slot {
            Some(cached) => found.push(cached),
            None => errors.push((uid.clone(), profile_not_found())),
        }
    }
    Ok(ProfileLookup { found, errors })
}

/// The `errors` entry of a uid whose profile does not exist (get and has_privileges, spec §4.2 and §8.2).
pub(crate) fn profile_not_found() -> EsError {
    EsError::resource_not_found("profile document not found")
}

/// Renders the `errors` object of get and has_privileges: count and details sorted by uid; `None` when empty.
pub(crate) fn errors_json(errors: &[(String, EsError)]) -> Option<Value> {
    if errors.is_empty() {
        return None;
    }
    let mut sorted: Vec<&(String, EsError)> = errors.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut details = Map::new();
    for (uid, error) in sorted {
        details.insert(uid.clone(), error.to_detail_json());
    }
    Some(json!({ "count": errors.len(), "details": details }))
}

/// A stable identifier for the profile index, reported in document errors.
fn index_uuid(state: &AppState) -> String {
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{}/{PROFILE_INDEX}", state.config.cluster_name).as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}

fn document_error(state: &AppState, error: EsError) -> EsError {
    error
        .with_metadata("index_uuid", index_uuid(state))
        .with_metadata("shard", "0")
        .with_metadata("index", PROFILE_INDEX)
}

/// Optimistic-concurrency expectations of update-data.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Expected {
    pub(crate) seq_no: Option<i64>,
    pub(crate) primary_term: Option<i64>,
}

impl Expected {
    /// Reads `if_seq_no`/`if_primary_term` (negative values are ignored) and validates the pair (spec §5.4).
    pub(crate) fn from_params(seq_no: Option<i64>, primary_term: Option<i64>) -> Result<Expected, EsError> {
        let seq_no = seq_no.filter(|value| *value >= 0);
        let primary_term = primary_term.filter(|value| *value > 0);
        match (seq_no, primary_term) {
            (Some(_), None) => Err(EsError::validation(&["ifSeqNo is set, but primary term is [0]"])),
            (None, Some(term)) => {
                Err(EsError::validation(&[format!("ifSeqNo is unassigned, but primary term is [{term}]")]))
            }
            _ => Ok(Expected { seq_no, primary_term }),
        }
    }
}

/// The result of a profile write.
#[derive(Debug)]
pub(crate) struct ProfileWrite {
    /// The sequence number of the profile after the write (unchanged by a no-op).
    pub(crate) seq_no: i64,
    /// Whether a field the suggest index holds changed (names, email, enabled, labels). Writes that touch
    /// only `data` need not wait for the index: suggest reads `data` from the store.
    pub(crate) changes_index: bool,
}

/// The fields of a profile the suggest index holds, to tell whether a write changes them.
#[derive(PartialEq)]
struct IndexedFields {
    enabled: bool,
    last_synchronized: i64,
    username: String,
    full_name: Option<String>,
    email: Option<String>,
    labels: Map<String, Value>,
}

impl IndexedFields {
    fn of<Data>(profile: &Profile<Data>) -> IndexedFields {
        IndexedFields {
            enabled: profile.enabled,
            last_synchronized: profile.last_synchronized,
            username: profile.user.username.clone(),
            full_name: profile.user.full_name.clone(),
            email: profile.user.email.clone(),
            labels: profile.labels.clone(),
        }
    }
}

/// Applies a partial update to profile `uid`; 404 `document_missing_exception` when it does not exist.
/// The store's writer only parses, changes and serialises the one document (no intermediate values).
async fn update_profile(
    state: &AppState,
    uid: &str,
    expected: Expected,
    change: impl FnOnce(&mut ProfileForUpdate) -> Result<bool, EsError> + Send + 'static,
) -> Result<ProfileWrite, EsError> {
    let changes_index = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let changes_index_in_write = Arc::clone(&changes_index);
    if !state.profile_cache.index_exists() {
        state.store.ensure_collection(Collection::Profiles).await?;
        state.profile_cache.remember_index_exists();
    }
    let id = doc_id(uid);
    let id_for_errors = id.clone();
    let max_size = state.config.profile_max_size;
    let result = state
        .store
        .update_raw(
            Collection::Profiles,
            &id,
            Box::new(move |current| {
                let Some(current) = current else {
                    return Err(EsError::new(404, "document_missing_exception", format!("[{id_for_errors}]: document missing")));
                };
                if let (Some(seq_no), Some(primary_term)) = (expected.seq_no, expected.primary_term) {
                    if seq_no != current.version.seq_no || primary_term != current.version.primary_term {
                        return Err(EsError::new(
                            409,
                            "version_conflict_engine_exception",
                            format!(
                                "[{id_for_errors}]: version conflict, required seqNo [{seq_no}], primary term [{primary_term}]. \
                                 current document has seqNo [{}] and primary term [{}]",
                                current.version.seq_no, current.version.primary_term
                            ),
                        ));
                    }
                }
                let mut profile = ProfileForUpdate::from_source_text(current.source)?;
                let before = IndexedFields::of(&profile);
                if !change(&mut profile)? {
                    return Ok(RawDecision::Noop);
                }
                let indexed_fields_changed = before != IndexedFields::of(&profile);
                changes_index_in_write.store(indexed_fields_changed, std::sync::atomic::Ordering::Release);
                let source = profile.to_source_text()?;
                let size = source.len();
                if size > max_size {
                    return Err(EsError::illegal_argument(format!(
                        "cannot update profile [{}] because the combined profile size of [{size}] bytes exceeds the maximum of [{max_size}] bytes (xpack.security.profile.max_size)",
                        profile.uid
                    )));
                }
                Ok(RawDecision::Put { source, key: Some(profile.user.username), minor: !indexed_fields_changed })
            }),
        )
        .await?;
    state.profile_cache.invalidate(uid);
    match result {
        Ok(RawOutcome::Created(version) | RawOutcome::Updated(version) | RawOutcome::Noop(Some(version))) => {
            Ok(ProfileWrite {
                seq_no: version.seq_no,
                changes_index: changes_index.load(std::sync::atomic::Ordering::Acquire),
            })
        }
        Ok(RawOutcome::Noop(None)) => Err(EsError::internal("profile vanished during update")),
        Err(error) if matches!(error.status, 404 | 409) => Err(document_error(state, error)),
        Err(error) => Err(error),
    }
}

/// Deep-merges labels and data into profile `uid` (spec §5.4).
pub(crate) async fn update_data(
    state: &AppState,
    uid: &str,
    update: UpdateProfileData,
    expected: Expected,
) -> Result<ProfileWrite, EsError> {
    update_profile(state, uid, expected, move |profile| profile.merge(&update.labels, &update.data)).await
}

/// Enables or disables profile `uid` (spec §7).
pub(crate) async fn set_enabled(state: &AppState, uid: &str, enabled: bool) -> Result<ProfileWrite, EsError> {
    update_profile(state, uid, Expected::default(), move |profile| {
        let changed = profile.enabled != enabled;
        profile.enabled = enabled;
        Ok(changed)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expect_validation(body: Value, expected: &str) {
        let error = parse_activate_request(&body).expect_err("invalid");
        assert_eq!(error.error_type, "action_request_validation_exception");
        assert_eq!(error.reason, expected);
    }

    #[test]
    fn activate_validation_messages_match_elasticsearch() {
        expect_validation(json!({}), "Validation Failed: 1: [grant_type] is required;");
        expect_validation(
            json!({"grant_type": "password", "access_token": "t"}),
            "Validation Failed: 1: [username] is required for grant_type [password];2: [password] is required for grant_type [password];3: [access_token] is not supported for grant_type [password];",
        );
        expect_validation(
            json!({"grant_type": "access_token", "username": "u", "password": "p"}),
            "Validation Failed: 1: [access_token] is required for grant_type [access_token];2: [username] is not supported for grant_type [access_token];3: [password] is not supported for grant_type [access_token];",
        );
        expect_validation(
            json!({"grant_type": "Password"}),
            "Validation Failed: 1: grant_type [Password] is not supported;",
        );
        let error = parse_activate_request(&json!({"grant_type": "password", "foo": 1})).expect_err("unknown");
        assert_eq!(error.error_type, "x_content_parse_exception");
        assert!(error.reason.ends_with("[activate_profile_request] unknown field [foo]"));
        assert!(matches!(
            parse_activate_request(&json!({"grant_type": "password", "username": "u", "password": "p"})),
            Ok(Grant::Password(_))
        ));
    }

    #[test]
    fn if_seq_no_pairs_are_validated() {
        assert_eq!(
            Expected::from_params(Some(1), None).expect_err("half").reason,
            "Validation Failed: 1: ifSeqNo is set, but primary term is [0];"
        );
        assert_eq!(
            Expected::from_params(Some(1), Some(0)).expect_err("term zero").reason,
            "Validation Failed: 1: ifSeqNo is set, but primary term is [0];"
        );
        assert_eq!(
            Expected::from_params(None, Some(3)).expect_err("half").reason,
            "Validation Failed: 1: ifSeqNo is unassigned, but primary term is [3];"
        );
        assert!(Expected::from_params(Some(-1), Some(-1)).is_ok());
        assert!(Expected::from_params(Some(2), Some(1)).is_ok());
    }

    fn user(username: &str, realm_name: &str, realm_type: &str) -> ProfileUser {
        ProfileUser {
            username: username.into(),
            roles: vec!["r".into()],
            realm: StoredRealm {
                name: realm_name.into(),
                realm_type: realm_type.into(),
                node_name: "n".into(),
                domain: None,
            },
            email: None,
            full_name: None,
        }
    }

    #[test]
    fn ownership_matches_file_and_native_realms_by_type() {
        assert!(belongs_to_subject(&user("joe", "default_native", "native"), &user("joe", "native1", "native")));
        assert!(!belongs_to_subject(&user("joe", "default_native", "native"), &user("joe", "default_file", "file")));
        assert!(!belongs_to_subject(&user("joe", "ldap1", "ldap"), &user("joe", "ldap2", "ldap")));
        assert!(!belongs_to_subject(&user("joe", "default_native", "native"), &user("jo", "default_native", "native")));
    }

    #[test]
    fn reactivation_inside_the_grace_window_writes_nothing() {
        let subject = user("joe", "default_native", "native");
        let existing = Profile {
            uid: hashed_uid("joe", 0),
            enabled: true,
            last_synchronized: 1_000,
            user: subject.clone(),
            labels: Map::new(),
            application_data: json!({"app": 1}).as_object().cloned().expect("object"),
        };
        assert_eq!(reactivated(&existing, &subject, 1_000 + ACTIVATION_GRACE_MILLIS - 1), None);
        let later = reactivated(&existing, &subject, 1_000 + ACTIVATION_GRACE_MILLIS).expect("refresh");
        assert_eq!(later.last_synchronized, 1_000 + ACTIVATION_GRACE_MILLIS);
        let mut changed_subject = subject.clone();
        changed_subject.roles = vec!["other".into()];
        let changed = reactivated(&existing, &changed_subject, 1_001).expect("user changed");
        assert_eq!(changed.user.roles, vec!["other"]);
        assert_eq!(changed.application_data, existing.application_data);
        let mut disabled = existing.clone();
        disabled.enabled = false;
        assert!(reactivated(&disabled, &subject, 1_001).expect("re-enable").enabled);
    }
}
