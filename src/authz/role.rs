//! Role descriptors (`RoleDescriptor`): the model and its JSON as `GET /_security/role` shows it.
//!
//! Parsing lives in `role_parse`, the PUT-role validation in `role_validate`.

use serde_json::{json, Map, Value};

/// Field-level security of an indices entry (`field_security`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct FieldSecurity {
    pub(crate) grant: Option<Vec<String>>,
    pub(crate) except: Option<Vec<String>>,
}

impl FieldSecurity {
    /// Returns whether the entry restricts fields (a lone `*` grant does not, as in Elasticsearch).
    pub(crate) fn is_restricting(&self) -> bool {
        let has_denied = self.except.as_ref().is_some_and(|except| !except.is_empty());
        let has_granted = self.grant.as_ref().is_some_and(|grant| !(grant.len() == 1 && grant[0] == "*"));
        has_denied || has_granted
    }
}

/// One `indices` entry of a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IndicesPrivileges {
    pub(crate) names: Vec<String>,
    pub(crate) privileges: Vec<String>,
    pub(crate) field_security: Option<FieldSecurity>,
    /// The document-level-security query as JSON text (Elasticsearch stores and shows a string).
    pub(crate) query: Option<String>,
    pub(crate) allow_restricted_indices: bool,
}

impl IndicesPrivileges {
    /// Returns an entry without field or document level security.
    pub(crate) fn new(names: &[&str], privileges: &[&str], allow_restricted_indices: bool) -> IndicesPrivileges {
        IndicesPrivileges {
            names: strings(names),
            privileges: strings(privileges),
            field_security: None,
            query: None,
            allow_restricted_indices,
        }
    }

    /// Returns whether the entry uses field level security.
    pub(crate) fn uses_field_level_security(&self) -> bool {
        self.field_security.as_ref().is_some_and(FieldSecurity::is_restricting)
    }

    fn json_fields(&self, object: &mut Map<String, Value>) {
        object.insert("names".into(), json!(self.names));
        object.insert("privileges".into(), json!(self.privileges));
        if let Some(field_security) = &self.field_security {
            let mut fields = Map::new();
            if let Some(grant) = &field_security.grant {
                fields.insert("grant".into(), json!(grant));
            }
            if let Some(except) = &field_security.except {
                fields.insert("except".into(), json!(except));
            }
            if !fields.is_empty() {
                object.insert("field_security".into(), Value::Object(fields));
            }
        }
        if let Some(query) = &self.query {
            object.insert("query".into(), Value::String(query.clone()));
        }
        object.insert("allow_restricted_indices".into(), Value::Bool(self.allow_restricted_indices));
    }

    /// Renders the entry as Elasticsearch does.
    pub(crate) fn to_json(&self) -> Value {
        let mut object = Map::new();
        self.json_fields(&mut object);
        Value::Object(object)
    }
}

/// One `remote_indices` entry (accepted and shown; profiled has no remote clusters to apply it to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RemoteIndicesPrivileges {
    pub(crate) indices: IndicesPrivileges,
    pub(crate) clusters: Vec<String>,
}

impl RemoteIndicesPrivileges {
    pub(crate) fn to_json(&self) -> Value {
        let mut object = Map::new();
        self.indices.json_fields(&mut object);
        object.insert("clusters".into(), json!(self.clusters));
        Value::Object(object)
    }
}

/// One `remote_cluster` group (accepted and shown, never applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RemoteClusterPrivileges {
    pub(crate) privileges: Vec<String>,
    pub(crate) clusters: Vec<String>,
}

/// One `applications` entry of a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApplicationPrivileges {
    pub(crate) application: String,
    pub(crate) privileges: Vec<String>,
    pub(crate) resources: Vec<String>,
}

impl ApplicationPrivileges {
    pub(crate) fn new(application: &str, privileges: &[&str], resources: &[&str]) -> ApplicationPrivileges {
        ApplicationPrivileges {
            application: application.to_string(),
            privileges: strings(privileges),
            resources: strings(resources),
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({"application": self.application, "privileges": self.privileges, "resources": self.resources})
    }
}

/// One `global.role.manage.indices` group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ManageRolesIndexGroup {
    pub(crate) names: Vec<String>,
    pub(crate) privileges: Vec<String>,
}

/// The configurable (`global`) cluster privileges of a role.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct ConfigurableClusterPrivileges {
    /// `application.manage.applications`: application-privilege management for these applications.
    pub(crate) manage_applications: Option<Vec<String>>,
    /// `profile.write.applications`: profile data namespaces that may be written.
    pub(crate) write_profile_applications: Option<Vec<String>>,
    /// `role.manage.indices`: roles over these index patterns may be managed.
    pub(crate) manage_roles: Option<Vec<ManageRolesIndexGroup>>,
}

impl ConfigurableClusterPrivileges {
    pub(crate) fn is_empty(&self) -> bool {
        self.manage_applications.is_none() && self.write_profile_applications.is_none() && self.manage_roles.is_none()
    }

    /// Returns `{"manage":{"applications":[..]}}` for the application category.
    pub(crate) fn manage_applications_json(applications: &[String]) -> Value {
        json!({"manage": {"applications": applications}})
    }

    /// Returns `{"write":{"applications":[..]}}` for the profile category.
    pub(crate) fn write_profile_json(applications: &[String]) -> Value {
        json!({"write": {"applications": applications}})
    }

    /// Returns `{"manage":{"indices":[{"names":..,"privileges":..}]}}` for the role category.
    pub(crate) fn manage_roles_json(groups: &[ManageRolesIndexGroup]) -> Value {
        let groups: Vec<Value> =
            groups.iter().map(|group| json!({"names": group.names, "privileges": group.privileges})).collect();
        json!({"manage": {"indices": groups}})
    }

    /// Renders the `global` object: every category (`application`, `profile`, `role`) is present,
    /// empty when the role has nothing in it, as `ConfigurableClusterPrivileges.toXContent` writes.
    pub(crate) fn to_json(&self) -> Value {
        let application =
            self.manage_applications.as_deref().map(Self::manage_applications_json).unwrap_or_else(|| json!({}));
        let profile =
            self.write_profile_applications.as_deref().map(Self::write_profile_json).unwrap_or_else(|| json!({}));
        let role = self.manage_roles.as_deref().map(Self::manage_roles_json).unwrap_or_else(|| json!({}));
        json!({"application": application, "profile": profile, "role": role})
    }
}

/// A role: what `PUT /_security/role/{name}` accepts and `GET` shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct RoleDescriptor {
    pub(crate) cluster: Vec<String>,
    pub(crate) global: ConfigurableClusterPrivileges,
    pub(crate) indices: Vec<IndicesPrivileges>,
    pub(crate) applications: Vec<ApplicationPrivileges>,
    pub(crate) run_as: Vec<String>,
    pub(crate) metadata: Map<String, Value>,
    pub(crate) description: Option<String>,
    pub(crate) remote_indices: Vec<RemoteIndicesPrivileges>,
    pub(crate) remote_cluster: Vec<RemoteClusterPrivileges>,
}

impl RoleDescriptor {
    /// Renders the role as `GET /_security/role/{name}` shows it: `cluster`, `global` (only when
    /// set), `indices`, `applications`, `run_as`, `metadata`, `transient_metadata`,
    /// `remote_indices`/`remote_cluster` (only when set), `description` (only when set).
    pub(crate) fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("cluster".into(), json!(self.cluster));
        if !self.global.is_empty() {
            object.insert("global".into(), self.global.to_json());
        }
        object.insert("indices".into(), Value::Array(self.indices.iter().map(IndicesPrivileges::to_json).collect()));
        object.insert(
            "applications".into(),
            Value::Array(self.applications.iter().map(ApplicationPrivileges::to_json).collect()),
        );
        object.insert("run_as".into(), json!(self.run_as));
        object.insert("metadata".into(), Value::Object(self.metadata.clone()));
        object.insert("transient_metadata".into(), json!({"enabled": true}));
        if !self.remote_indices.is_empty() {
            let remote: Vec<Value> = self.remote_indices.iter().map(RemoteIndicesPrivileges::to_json).collect();
            object.insert("remote_indices".into(), Value::Array(remote));
        }
        if !self.remote_cluster.is_empty() {
            let groups: Vec<Value> = self
                .remote_cluster
                .iter()
                .map(|group| json!({"privileges": group.privileges, "clusters": group.clusters}))
                .collect();
            object.insert("remote_cluster".into(), Value::Array(groups));
        }
        if let Some(description) = &self.description {
            object.insert("description".into(), Value::String(description.clone()));
        }
        Value::Object(object)
    }

    /// Returns whether any indices entry uses field or document level security.
    pub(crate) fn uses_document_or_field_level_security(&self) -> bool {
        self.indices.iter().any(|entry| entry.query.is_some() || entry.uses_field_level_security())
    }
}

pub(crate) fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|value| value.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape_and_order() {
        let mut role = RoleDescriptor {
            cluster: strings(&["all"]),
            indices: vec![IndicesPrivileges {
                field_security: Some(FieldSecurity { grant: Some(strings(&["title", "body"])), except: None }),
                query: Some("{\"match\":{\"title\":\"foo\"}}".to_string()),
                ..IndicesPrivileges::new(&["index1", "index2"], &["all"], false)
            }],
            run_as: strings(&["other_user"]),
            ..RoleDescriptor::default()
        };
        role.metadata.insert("version".into(), json!(1));
        let rendered = serde_json::to_string(&role.to_json()).unwrap();
        assert_eq!(
            rendered,
            "{\"cluster\":[\"all\"],\"indices\":[{\"names\":[\"index1\",\"index2\"],\"privileges\":[\"all\"],\
             \"field_security\":{\"grant\":[\"title\",\"body\"]},\"query\":\"{\\\"match\\\":{\\\"title\\\":\\\"foo\\\"}}\",\
             \"allow_restricted_indices\":false}],\"applications\":[],\"run_as\":[\"other_user\"],\"metadata\":{\"version\":1},\
             \"transient_metadata\":{\"enabled\":true}}"
        );
        role.description = Some("Grants everything.".to_string());
        role.global.write_profile_applications = Some(strings(&["kibana*"]));
        let value = role.to_json();
        let keys: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["cluster", "global", "indices", "applications", "run_as", "metadata", "transient_metadata", "description"]
        );
        assert_eq!(
            value["global"],
            json!({"application": {}, "profile": {"write": {"applications": ["kibana*"]}}, "role": {}})
        );
    }

    #[test]
    fn lone_star_grant_is_not_field_level_security() {
        let star = FieldSecurity { grant: Some(strings(&["*"])), except: None };
        assert!(!star.is_restricting());
        let except = FieldSecurity { grant: Some(strings(&["*"])), except: Some(strings(&["secret"])) };
        assert!(except.is_restricting());
    }
}
