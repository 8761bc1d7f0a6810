//! The reason of 403 `security_exception`s (`AuthorizationDenialMessages.Default.actionDenied`).
//!
//! `action [<action>] is unauthorized for user [<u>] with effective roles [<sorted roles>]`,
//! plus ` (assigned roles [<sorted>] were not found)` when some assigned roles do not exist, then
//! `, this action is granted by the cluster privileges [<least privileged first>]` for cluster
//! actions (or `..., this action is granted by the index privileges [..]` for index actions).
//! No trailing period.

use std::collections::BTreeSet;

use crate::authz::index_privilege::{index_privileges_granting, is_index_action};
use crate::authz::privilege::{cluster_privileges_granting, is_cluster_action};

/// Builds the 403 reason for `username` denied `action`. `roles` are the user's roles (assigned
/// or effective: the ones listed in `missing_roles`, assigned but not found, are left out of the
/// effective roles and listed in the `were not found` suffix).
pub(crate) fn unauthorized_message(action: &str, username: &str, roles: &[String], missing_roles: &[String]) -> String {
    let missing: BTreeSet<&str> = missing_roles.iter().map(String::as_str).collect();
    let effective: BTreeSet<&str> = roles.iter().map(String::as_str).filter(|role| !missing.contains(role)).collect();
    let mut message = format!(
        "action [{action}] is unauthorized for user [{username}] with effective roles [{}]",
        effective.into_iter().collect::<Vec<_>>().join(",")
    );
    if !missing.is_empty() {
        message.push_str(&format!(
            " (assigned roles [{}] were not found)",
            missing.into_iter().collect::<Vec<_>>().join(",")
        ));
    }
    if is_cluster_action(action) {
        let granting = cluster_privileges_granting(action);
        if !granting.is_empty() {
            message.push_str(&format!(", this action is granted by the cluster privileges [{}]", granting.join(",")));
        }
    } else if is_index_action(action) {
        let granting = index_privileges_granting(action);
        if !granting.is_empty() {
            message.push_str(&format!(", this action is granted by the index privileges [{}]", granting.join(",")));
        }
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::privilege::actions::*;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|value| value.to_string()).collect()
    }

    #[test]
    fn profile_activation_denial() {
        assert_eq!(
            unauthorized_message(PROFILE_ACTIVATE, "joe", &strings(&["viewer", "editor"]), &[]),
            "action [cluster:admin/xpack/security/profile/activate] is unauthorized for user [joe] with effective roles \
             [editor,viewer], this action is granted by the cluster privileges [manage_user_profile,manage_security,all]"
        );
    }

    #[test]
    fn missing_roles_and_read_actions() {
        assert_eq!(
            unauthorized_message(PROFILE_GET, "joe", &strings(&["viewer"]), &strings(&["ghost", "absent"])),
            "action [cluster:admin/xpack/security/profile/get] is unauthorized for user [joe] with effective roles [viewer] \
             (assigned roles [absent,ghost] were not found), this action is granted by the cluster privileges \
             [manage_user_profile,read_security,manage_security,all]"
        );
        assert_eq!(
            unauthorized_message(PROFILE_SUGGEST, "joe", &strings(&["ghost"]), &strings(&["ghost"])),
            "action [cluster:admin/xpack/security/profile/suggest] is unauthorized for user [joe] with effective roles [] \
             (assigned roles [ghost] were not found), this action is granted by the cluster privileges \
             [manage_user_profile,read_security,manage_security,all]"
        );
    }

    #[test]
    fn index_actions_list_index_privileges() {
        assert_eq!(
            unauthorized_message("indices:data/read/search", "joe", &strings(&["r"]), &[]),
            "action [indices:data/read/search] is unauthorized for user [joe] with effective roles [r], \
             this action is granted by the index privileges [read,all]"
        );
    }
}
