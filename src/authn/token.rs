//! TEMPORARY STUB: the token service (replaced by the real implementation).
#![allow(dead_code)]

use std::sync::Arc;

use async_trait::async_trait;

use super::realm::RealmOutcome;
use super::TokenAuthenticator;
use crate::config::Config;
use crate::error::EsError;
use crate::store::Store;

/// Issues, authenticates and invalidates access and refresh tokens.
#[derive(Debug)]
pub struct TokenService {
    store: Arc<dyn Store>,
}

impl TokenService {
    /// Returns the service over `store`.
    pub(crate) fn new(store: Arc<dyn Store>, config: &Config) -> TokenService {
        let _ = config;
        TokenService { store }
    }
}

#[async_trait]
impl TokenAuthenticator for TokenService {
    async fn authenticate_token(&self, token: &str) -> Result<RealmOutcome, EsError> {
        let _ = token;
        Ok(RealmOutcome::Continue)
    }
}
