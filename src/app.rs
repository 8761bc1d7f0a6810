//! Application state, first-start bootstrap and the HTTP server.

use std::sync::Arc;

use anyhow::Context;
use rand::Rng;
use serde_json::json;
use tokio::net::TcpListener;

use crate::authn::token::TokenService;
use crate::authn::RealmChain;
use crate::config::Config;
use crate::domain::user::reserved_user_doc_id;
use crate::search::ProfileIndex;
use crate::service::profile_cache::ProfileCache;
use crate::service::profile_search::ProfileSearch;
use crate::service::roles::RoleService;
use crate::store::sqlite::SqliteStore;
use crate::store::{Collection, Decision, Store};

/// Everything a request handler needs; cheap to clone (one reference count).
#[derive(Debug, Clone)]
pub struct AppState(Arc<AppStateInner>);

impl std::ops::Deref for AppState {
    type Target = AppStateInner;

    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

/// The services behind [`AppState`].
#[derive(Debug)]
pub struct AppStateInner {
    pub(crate) config: Arc<Config>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) realms: Arc<RealmChain>,
    pub(crate) roles: Arc<RoleService>,
    pub(crate) profile_search: Arc<ProfileSearch>,
    pub(crate) profile_cache: Arc<ProfileCache>,
    pub(crate) tokens: Arc<TokenService>,
}

impl AppState {
    /// Builds the state over an opened store: opens the suggest index (in `data_dir/search`, or in memory
    /// when `persistent_index` is false), catches it up with the store and starts its indexer.
    pub async fn new(config: Config, store: Arc<dyn Store>, persistent_index: bool) -> anyhow::Result<AppState> {
        let index = if persistent_index {
            ProfileIndex::open_in_dir(&config.data_dir.join("search"))
        } else {
            ProfileIndex::open_in_memory()
        }
        .map_err(|error| anyhow::anyhow!("cannot open the suggest index: {error}"))?;
        let profile_cache = Arc::new(ProfileCache::default());
        let profile_search = ProfileSearch::open(index, Arc::clone(&store), Arc::clone(&profile_cache))
            .await
            .map_err(|error| anyhow::anyhow!("cannot catch up the suggest index: {}", error.reason))?;
        profile_search.spawn_indexer();
        let realms = Arc::new(RealmChain::new(Arc::clone(&store), &config)?);
        let anonymous_roles =
            config.security.anonymous.as_ref().map(|anonymous| anonymous.roles.clone()).unwrap_or_default();
        let roles = Arc::new(RoleService::new(Arc::clone(&store), anonymous_roles));
        let tokens = Arc::new(TokenService::new(Arc::clone(&store), &config));
        realms.set_token_authenticator(Arc::clone(&tokens) as Arc<dyn crate::authn::TokenAuthenticator>);
        Ok(AppState(Arc::new(AppStateInner {
            config: Arc::new(config),
            store,
            realms,
            roles,
            profile_search,
            profile_cache,
            tokens,
        })))
    }

    /// Returns the store (for tools and tests).
    pub fn store(&self) -> Arc<dyn Store> {
        Arc::clone(&self.store)
    }

    /// Opens the embedded store and the suggest index in the configured data directory.
    pub async fn open(config: Config) -> anyhow::Result<AppState> {
        let store = SqliteStore::open(&config.data_dir)
            .with_context(|| format!("cannot open the store in [{}]", config.data_dir.display()))?;
        AppState::new(config, Arc::new(store), true).await
    }
}

/// Generates a strong random password, as Elasticsearch does on first start.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_*+=-";
    let mut rng = rand::thread_rng();
    (0..20).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
}

/// Sets the `elastic` password on first start: from `bootstrap_password` when given, else a generated one,
/// which is returned so that the caller can show it once. Returns `None` when already set.
pub async fn bootstrap_elastic_password(
    state: &AppState,
    bootstrap_password: Option<String>,
) -> anyhow::Result<Option<String>> {
    let doc_id = reserved_user_doc_id("elastic");
    if state.store.get(Collection::Users, &doc_id).await?.is_some() {
        return Ok(None);
    }
    let generated = bootstrap_password.is_none();
    let password = bootstrap_password.unwrap_or_else(generate_password);
    let hasher = state.config.password_hasher.clone();
    let password_for_hash = password.clone();
    let password_hash = tokio::task::spawn_blocking(move || hasher.hash(password_for_hash.as_bytes())).await?;
    let source = json!({ "password_hash": password_hash, "enabled": true });
    state
        .store
        .update(
            Collection::Users,
            &doc_id,
            Box::new(move |current| {
                Ok(if current.is_some() { Decision::Noop } else { Decision::Put { source, key: None } })
            }),
        )
        .await?
        .map_err(|error| anyhow::anyhow!(error.reason))?;
    Ok(generated.then_some(password))
}

/// Runs the server until Ctrl-C or SIGTERM, then lets in-flight requests finish and closes the store.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let state = AppState::open(config).await?;
    let bootstrap_password = std::env::var("ELASTIC_PASSWORD").ok().filter(|password| !password.is_empty());
    if let Some(generated) = bootstrap_elastic_password(&state, bootstrap_password).await? {
        // Shown once on the console, never logged, as Elasticsearch does on first start.
        println!("Password for the [elastic] user (shown once, change it with reset-password): {generated}");
    }
    // Signal handlers are installed before the server announces itself, so an early SIGTERM is graceful.
    let shutdown = shutdown_signal()?;
    let listener = TcpListener::bind(state.config.listen)
        .await
        .with_context(|| format!("cannot listen on [{}]", state.config.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, data = %state.config.data_dir.display(), "profiled is listening");
    println!("profiled listening on http://{address}");
    let router = crate::api::build_router(state.clone());
    axum::serve(listener, router).with_graceful_shutdown(shutdown).await?;
    state.store.close().await;
    tracing::info!("profiled stopped");
    Ok(())
}

/// Registers the Ctrl-C and SIGTERM handlers now and returns the future that completes on either.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot install the SIGTERM handler")?;
    #[cfg(unix)]
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .context("cannot install the SIGINT handler")?;
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = terminate.recv() => {},
            _ = interrupt.recv() => {},
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    })
}
