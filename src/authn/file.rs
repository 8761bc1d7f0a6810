//! The file realm: Elasticsearch's `users` (`username:hash`) and `users_roles` (`role:user1,user2`) files,
//! reloaded when they change (polled every few seconds, like Elasticsearch's resource watcher).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use super::cache::CredentialCache;
use super::realm::{PasswordCandidate, Realm};
use super::{hash, Authentication, PasswordCredentials, RealmRef};
use crate::config::RealmConfig;
use crate::domain::names::{validate_username_with, ReservedUserSettings};
use crate::domain::user::UserView;
use crate::error::EsError;

/// How often the files are checked for changes.
const RELOAD_INTERVAL: Duration = Duration::from_secs(2);
/// The file realm accepts longer usernames than the native realm.
const MAX_FILE_USERNAME_LENGTH: usize = 1024;

#[derive(Debug, Default, Clone, PartialEq)]
struct FileUsers {
    /// username → password hash.
    passwords: HashMap<String, String>,
    /// username → roles, in file order.
    roles: HashMap<String, Vec<String>>,
}

/// Parses a `users` file; invalid lines are skipped with a warning, as Elasticsearch does.
fn parse_users(text: &str, origin: &Path) -> HashMap<String, String> {
    let mut passwords = HashMap::new();
    for (line_number, raw_line) in text.lines().enumerate() {
        let line = raw_line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((username, password_hash)) = line.split_once(':') else {
            tracing::warn!(file = %origin.display(), line = line_number + 1, "invalid entry in users file");
            continue;
        };
        if validate_username_with(username, true, MAX_FILE_USERNAME_LENGTH, &ReservedUserSettings::default()).is_err() {
            tracing::warn!(file = %origin.display(), line = line_number + 1, "invalid username in users file");
            continue;
        }
        if hash::is_plaintext_hash(password_hash) {
            tracing::warn!(file = %origin.display(), line = line_number + 1, username, "users file entry is not a password hash; ignored");
            continue;
        }
        passwords.insert(username.to_string(), password_hash.to_string());
    }
    passwords
}

/// Parses a `users_roles` file into username → roles.
fn parse_users_roles(text: &str, origin: &Path) -> HashMap<String, Vec<String>> {
    let mut roles: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (line_number, raw_line) in text.lines().enumerate() {
        let line = raw_line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((role, users)) = line.split_once(':') else {
            tracing::warn!(file = %origin.display(), line = line_number + 1, "invalid entry in users_roles file");
            continue;
        };
        let role = role.trim();
        if role.is_empty() {
            continue;
        }
        for username in users.split(',').map(str::trim).filter(|username| !username.is_empty()) {
            let user_roles = roles.entry(username.to_string()).or_default();
            if !user_roles.iter().any(|existing| existing == role) {
                user_roles.push(role.to_string());
            }
        }
    }
    roles.into_iter().collect()
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|metadata| metadata.modified()).ok()
}

fn load(users_path: &Path, roles_path: &Path) -> FileUsers {
    let passwords = std::fs::read_to_string(users_path).map(|text| parse_users(&text, users_path)).unwrap_or_default();
    let roles =
        std::fs::read_to_string(roles_path).map(|text| parse_users_roles(&text, roles_path)).unwrap_or_default();
    FileUsers { passwords, roles }
}

#[derive(Debug)]
struct Shared {
    users: RwLock<FileUsers>,
    cache: RwLock<Option<Weak<CredentialCache>>>,
}

/// Users from files, realm type `file` (default name `default_file`).
#[derive(Debug)]
pub(crate) struct FileRealm {
    realm: RealmRef,
    shared: Arc<Shared>,
}

impl FileRealm {
    /// Loads the files named by the realm settings (default `users` and `users_roles` in `config_dir`)
    /// and starts watching them.
    pub(crate) fn open(config: &RealmConfig, realm: RealmRef, config_dir: &Path) -> anyhow::Result<FileRealm> {
        let users_path = config.setting("files.users").map(PathBuf::from).unwrap_or_else(|| config_dir.join("users"));
        let roles_path =
            config.setting("files.users_roles").map(PathBuf::from).unwrap_or_else(|| config_dir.join("users_roles"));
        let shared = Arc::new(Shared { users: RwLock::new(load(&users_path, &roles_path)), cache: RwLock::new(None) });
        let weak = Arc::downgrade(&shared);
        std::thread::Builder::new().name(format!("file-realm-{}", realm.name)).spawn(move || {
            let mut last_seen = (modified(&users_path), modified(&roles_path));
            loop {
                std::thread::sleep(RELOAD_INTERVAL);
                let Some(shared) = weak.upgrade() else { return };
                let now_seen = (modified(&users_path), modified(&roles_path));
                if now_seen == last_seen {
                    continue;
                }
                last_seen = now_seen;
                let reloaded = load(&users_path, &roles_path);
                if let Ok(mut users) = shared.users.write() {
                    *users = reloaded;
                }
                tracing::info!(file = %users_path.display(), "file realm reloaded");
                if let Some(cache) = shared.cache.read().ok().and_then(|cache| cache.as_ref().and_then(Weak::upgrade)) {
                    cache.invalidate_all();
                }
            }
        })?;
        Ok(FileRealm { realm, shared })
    }

    /// Lets a reload drop cached authentications.
    pub(crate) fn attach_cache(&self, cache: &Arc<CredentialCache>) {
        if let Ok(mut slot) = self.shared.cache.write() {
            *slot = Some(Arc::downgrade(cache));
        }
    }

    fn user_view(&self, users: &FileUsers, username: &str) -> UserView {
        UserView {
            username: username.to_string(),
            roles: users.roles.get(username).cloned().unwrap_or_default(),
            full_name: None,
            email: None,
            metadata: serde_json::Map::new(),
            enabled: true,
        }
    }
}

#[async_trait]
impl Realm for FileRealm {
    fn realm_ref(&self) -> &RealmRef {
        &self.realm
    }

    async fn password_candidate(
        &self,
        credentials: &PasswordCredentials,
    ) -> Result<Option<PasswordCandidate>, EsError> {
        let users = self.shared.users.read().map_err(|_| EsError::internal("file realm unavailable"))?;
        let Some(stored_hash) = users.passwords.get(&credentials.username) else {
            return Ok(None);
        };
        let authentication = Authentication {
            user: self.user_view(&users, &credentials.username),
            realm: self.realm.clone(),
            authentication_type: "realm",
        };
        Ok(Some(PasswordCandidate { stored_hash: Some(stored_hash.clone()), authentication }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_file_parses_like_elasticsearch() {
        let text = "# comment\n\n  alice:$2a$10$hZ210etBMp4qDibBlYuM5OMol9kWfxP8l/q45N.DHeFHDglItKFHK  \nbob:{PBKDF2}10000$a$b\nbroken line\ncarol:plaintext\n";
        let passwords = parse_users(text, Path::new("users"));
        assert_eq!(passwords.len(), 2);
        assert!(passwords["alice"].starts_with("$2a$10$"));
        assert!(passwords.contains_key("bob"));
        assert!(!passwords.contains_key("carol"), "clear-text entries are refused");
    }

    #[test]
    fn users_roles_file_maps_roles_to_users() {
        let roles =
            parse_users_roles("admin:alice,bob\n# c\nviewer: bob \nbad\nadmin:alice\n", Path::new("users_roles"));
        assert_eq!(roles["alice"], vec!["admin"]);
        assert_eq!(roles["bob"], vec!["admin", "viewer"]);
    }
}
