//! TEMPORARY STUB: the JWT realm (replaced by the real implementation).
#![allow(dead_code)]

use std::path::Path;

use async_trait::async_trait;

use super::realm::Realm;
use super::RealmRef;
use crate::config::RealmConfig;

/// JWT realm.
#[derive(Debug)]
pub(crate) struct JwtRealm {
    realm: RealmRef,
}

impl JwtRealm {
    pub(crate) fn new(config: &RealmConfig, realm: RealmRef, config_dir: &Path, store: std::sync::Arc<dyn crate::store::Store>) -> anyhow::Result<JwtRealm> {
        let _ = (config, config_dir, store);
        Ok(JwtRealm { realm })
    }
}

#[async_trait]
impl Realm for JwtRealm {
    fn realm_ref(&self) -> &RealmRef {
        &self.realm
    }
}
