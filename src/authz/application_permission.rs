//! Application permissions (`ApplicationPermission`): resolved privileges with resource patterns.

use std::sync::Arc;

use crate::authz::application::{resolve_application_privileges, ApplicationPrivilege, ApplicationPrivilegeDefinition};
use crate::authz::pattern::PatternSet;
use crate::authz::permissions::ApplicationEntry;

/// One resolved privilege with the union of the resources it is granted on.
#[derive(Debug, Clone)]
pub(crate) struct ApplicationPermissionEntry {
    pub(crate) privilege: ApplicationPrivilege,
    pub(crate) resource_names: Vec<String>,
    resources: Arc<PatternSet>,
    application_matcher: Arc<PatternSet>,
}

impl ApplicationPermissionEntry {
    /// `PermissionEntry.matchesPrivilege`: the same privilege, or one whose actions cover it.
    pub(crate) fn matches_privilege(&self, other: &ApplicationPrivilege) -> bool {
        if self.privilege.same_as(other) {
            return true;
        }
        if !self.application_matcher.matches(&other.application) {
            return false;
        }
        if self.privilege.actions.is_total() {
            return true;
        }
        !self.privilege.actions.is_empty()
            && !other.actions.is_empty()
            && other.actions.is_subset_of(&self.privilege.actions)
    }

    /// Returns whether this entry grants `other` on every resource matched by `resource`.
    pub(crate) fn grants(&self, other: &ApplicationPrivilege, resource: &PatternSet) -> bool {
        self.matches_privilege(other) && resource.is_subset_of(&self.resources)
    }
}

/// Resolves the role entries against the stored definitions, merging equal privileges.
pub(crate) fn build_application_permission(
    entries: &[ApplicationEntry],
    definitions: &[ApplicationPrivilegeDefinition],
) -> Vec<ApplicationPermissionEntry> {
    let mut result: Vec<ApplicationPermissionEntry> = Vec::new();
    for entry in entries {
        for privilege in resolve_application_privileges(&entry.application, &entry.privileges, definitions) {
            match result.iter_mut().find(|existing| existing.privilege.same_as(&privilege)) {
                Some(existing) => {
                    for resource in &entry.resources {
                        if !existing.resource_names.contains(resource) {
                            existing.resource_names.push(resource.clone());
                        }
                    }
                    existing.resources = PatternSet::cached_lenient(&existing.resource_names);
                }
                None => {
                    let application_matcher = PatternSet::cached_lenient(&[privilege.application.as_str()]);
                    result.push(ApplicationPermissionEntry {
                        resources: PatternSet::cached_lenient(&entry.resources),
                        resource_names: entry.resources.clone(),
                        privilege,
                        application_matcher,
                    });
                }
            }
        }
    }
    result
}

/// Returns whether any entry grants the privilege on the resource pattern.
pub(crate) fn permission_grants(
    entries: &[ApplicationPermissionEntry],
    privilege: &ApplicationPrivilege,
    resource: &PatternSet,
) -> bool {
    entries.iter().any(|entry| entry.grants(privilege, resource))
}
