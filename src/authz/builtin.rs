//! The built-in (reserved) roles of `ReservedRolesStore`, with their descriptions.
//!
//! Their metadata carries `"_reserved": true` (deprecated roles add `_deprecated` and
//! `_deprecated_reason`). `kibana_system` lives in `builtin_kibana`.

use std::sync::LazyLock;

use serde_json::{json, Map, Value};

use crate::authz::builtin_kibana::kibana_system;
use crate::authz::role::{
    strings, ApplicationPrivileges, IndicesPrivileges, RemoteClusterPrivileges, RemoteIndicesPrivileges, RoleDescriptor,
};

/// `{"_reserved": true}`.
pub(crate) fn reserved_metadata() -> Map<String, Value> {
    let mut metadata = Map::new();
    metadata.insert("_reserved".into(), Value::Bool(true));
    metadata
}

fn deprecated_metadata(reason: &str) -> Map<String, Value> {
    let mut metadata = reserved_metadata();
    metadata.insert("_deprecated".into(), Value::Bool(true));
    metadata.insert("_deprecated_reason".into(), json!(reason));
    metadata
}

/// A reserved role with cluster privileges, indices and a description.
pub(crate) fn reserved(cluster: &[&str], indices: Vec<IndicesPrivileges>, description: &str) -> RoleDescriptor {
    RoleDescriptor {
        cluster: strings(cluster),
        indices,
        metadata: reserved_metadata(),
        description: Some(description.to_string()),
        ..RoleDescriptor::default()
    }
}

pub(crate) fn index(names: &[&str], privileges: &[&str]) -> IndicesPrivileges {
    IndicesPrivileges::new(names, privileges, false)
}

pub(crate) fn restricted_index(names: &[&str], privileges: &[&str]) -> IndicesPrivileges {
    IndicesPrivileges::new(names, privileges, true)
}

/// `ReservedRolesStore.getRemoteIndicesReadPrivileges`: read on every remote cluster.
pub(crate) fn remote_read(pattern: &str) -> RemoteIndicesPrivileges {
    RemoteIndicesPrivileges { indices: index(&[pattern], &["read", "read_cross_cluster"]), clusters: strings(&["*"]) }
}

fn superuser() -> RoleDescriptor {
    let read_restricted = &["monitor", "read", "view_index_metadata", "read_cross_cluster"];
    RoleDescriptor {
        applications: vec![ApplicationPrivileges::new("*", &["*"], &["*"])],
        run_as: strings(&["*"]),
        remote_indices: vec![
            RemoteIndicesPrivileges { indices: index(&["*"], &["all"]), clusters: strings(&["*"]) },
            RemoteIndicesPrivileges { indices: restricted_index(&["*"], read_restricted), clusters: strings(&["*"]) },
        ],
        remote_cluster: vec![RemoteClusterPrivileges {
            privileges: strings(&["monitor_enrich", "monitor_stats"]),
            clusters: strings(&["*"]),
        }],
        ..reserved(
            &["all"],
            vec![index(&["*"], &["all"]), restricted_index(&["*"], read_restricted)],
            "Grants full access to cluster management and data indices. \
             This role also grants direct read-only access to restricted indices like .security. \
             A user with this role can impersonate any other user in the system, \
             manage security and create roles with unlimited privileges. \
             Take extra care when assigning it to a user.",
        )
    }
}

fn kibana_admin(metadata: Map<String, Value>) -> RoleDescriptor {
    RoleDescriptor {
        applications: vec![ApplicationPrivileges::new("kibana-.kibana", &["all"], &["*"])],
        metadata,
        description: Some("Grants access to all features in Kibana.".to_string()),
        ..RoleDescriptor::default()
    }
}

fn monitoring_user() -> RoleDescriptor {
    let metrics = "/metrics-(beats|elasticsearch|enterprisesearch|kibana|logstash).*/";
    RoleDescriptor {
        applications: vec![ApplicationPrivileges::new("kibana-*", &["reserved_monitoring"], &["*"])],
        remote_indices: vec![remote_read(".monitoring-*"), remote_read(metrics), remote_read("metricbeat-*")],
        ..reserved(
            &["cluster:monitor/main", "cluster:monitor/xpack/info", "cluster:monitor/remote/info"],
            vec![
                index(&[".monitoring-*"], &["read", "read_cross_cluster"]),
                index(&[metrics], &["read", "read_cross_cluster"]),
                index(&["metricbeat-*"], &["read", "read_cross_cluster"]),
            ],
            "Grants the minimum privileges required for any user of X-Pack monitoring other than those required to use Kibana. \
             This role grants access to the monitoring indices and grants privileges necessary \
             for reading basic cluster information. \
             This role also includes all Kibana privileges for the Elastic Stack monitoring features. \
             Monitoring users should also be assigned the kibana_admin role, \
             or another role with access to the Kibana instance.",
        )
    }
}

fn remote_monitoring_agent() -> RoleDescriptor {
    reserved(
        &[
            "manage_index_templates",
            "manage_ingest_pipelines",
            "monitor",
            "cluster:admin/ilm/get",
            "cluster:admin/ilm/put",
            "cluster:monitor/xpack/watcher/watch/get",
            "cluster:admin/xpack/watcher/watch/put",
            "cluster:admin/xpack/watcher/watch/delete",
        ],
        vec![
            index(&[".monitoring-*"], &["all"]),
            index(
                &["metricbeat-*"],
                &["index", "create_index", "view_index_metadata", "indices:admin/aliases", "indices:admin/rollover"],
            ),
        ],
        "Grants the minimum privileges required to write data into the monitoring indices (.monitoring-*). \
         This role also has the privileges necessary to create Metricbeat indices (metricbeat-*) \
         and write data into them.",
    )
}

fn data_viewing_indices() -> Vec<IndicesPrivileges> {
    vec![index(&["/~(([.]|ilm-history-).*)/"], &["read", "view_index_metadata"])]
}

fn viewer() -> RoleDescriptor {
    let read = &["read", "view_index_metadata"];
    let mut indices = data_viewing_indices();
    indices.extend([
        index(&[".slo-observability.*"], read),
        index(&[".siem-signals*", ".lists-*", ".items-*"], read),
        index(&[".alerts*", ".preview.alerts*"], read),
        index(&["profiling-*", ".profiling-*"], read),
    ]);
    RoleDescriptor {
        applications: vec![ApplicationPrivileges::new("kibana-.kibana", &["read"], &["*"])],
        ..reserved(
            &[],
            indices,
            "Grants read-only access to all features in Kibana (including Solutions) and to data indices.",
        )
    }
}

fn editor() -> RoleDescriptor {
    let read = &["read", "view_index_metadata"];
    let maintain = &["read", "view_index_metadata", "write", "maintenance"];
    let mut indices = data_viewing_indices();
    indices.extend([
        index(&["observability-annotations"], &["read", "view_index_metadata", "write"]),
        index(&[".slo-observability.*"], &["read", "view_index_metadata", "write", "manage"]),
        index(&[".siem-signals*", ".lists-*", ".items-*"], maintain),
        index(&[".internal.alerts*", ".alerts*", ".internal.preview.alerts*", ".preview.alerts*"], maintain),
        index(&["profiling-*", ".profiling-*"], read),
    ]);
    RoleDescriptor {
        applications: vec![ApplicationPrivileges::new("kibana-.kibana", &["all"], &["*"])],
        ..reserved(
            &[],
            indices,
            "Grants full access to all features in Kibana (including Solutions) and read-only access to data indices.",
        )
    }
}

fn system_user(cluster: &[&str], indices: Vec<IndicesPrivileges>, description: &str) -> RoleDescriptor {
    reserved(cluster, indices, description)
}

fn transform_audit_read() -> Vec<IndicesPrivileges> {
    let patterns = &[".transform-notifications-*", ".data-frame-notifications-*", ".transform-notifications-read"];
    vec![index(patterns, &["view_index_metadata", "read"])]
}

/// Every built-in role, by name (alphabetical).
static BUILTIN_ROLES: LazyLock<Vec<(&'static str, RoleDescriptor)>> = LazyLock::new(|| {
    let monitoring_bulk = "cluster:admin/xpack/monitoring/bulk";
    let mut roles: Vec<(&'static str, RoleDescriptor)> = vec![
        ("superuser", superuser()),
        (
            "transport_client",
            reserved(
                &["transport_client"],
                vec![],
                "Grants the privileges required to access the cluster through the Java Transport Client. \
                 The Java Transport Client fetches information about the nodes in the cluster using \
                 the Node Liveness API and the Cluster State API (when sniffing is enabled). \
                 Assign your users this role if they use the Transport Client.",
            ),
        ),
        ("kibana_admin", kibana_admin(reserved_metadata())),
        ("kibana_user", kibana_admin(deprecated_metadata("Please use the [kibana_admin] role instead"))),
        ("monitoring_user", monitoring_user()),
        ("remote_monitoring_agent", remote_monitoring_agent()),
        (
            "remote_monitoring_collector",
            reserved(
                &["monitor"],
                vec![restricted_index(&["*"], &["monitor"]), restricted_index(&[".kibana*"], &["read"])],
                "Grants the minimum privileges required to collect monitoring data for the Elastic Stack.",
            ),
        ),
        (
            "ingest_admin",
            reserved(
                &["manage_index_templates", "manage_pipeline"],
                vec![],
                "Grants access to manage all index templates and all ingest pipeline configurations.",
            ),
        ),
        ("kibana_system", kibana_system()),
        (
            "logstash_system",
            system_user(
                &["monitor", monitoring_bulk],
                vec![],
                "Grants access necessary for the Logstash system user to send system-level data (such as monitoring) to Elasticsearch. \
                 This role should not be assigned to users as the granted permissions may change between releases.",
            ),
        ),
        (
            "beats_admin",
            reserved(
                &[],
                vec![index(&[".management-beats"], &["all"])],
                "Grants access to the .management-beats index, which contains configuration information for the Beats.",
            ),
        ),
        (
            "beats_system",
            system_user(
                &["monitor", monitoring_bulk],
                vec![index(&[".monitoring-beats-*"], &["create_index", "create"])],
                "Grants access necessary for the Beats system user to send system-level data (such as monitoring) to Elasticsearch. \
                 This role should not be assigned to users as the granted permissions may change between releases.",
            ),
        ),
        (
            "apm_system",
            system_user(
                &["monitor", monitoring_bulk],
                vec![index(&[".monitoring-beats-*"], &["create_index", "create_doc"])],
                "Grants access necessary for the APM system user to send system-level data (such as monitoring) to Elasticsearch.\n",
            ),
        ),
        ("inference_admin", reserved(&["manage_inference"], vec![], "Grants access necessary to manage inference models and performing inference.")),
        ("inference_user", reserved(&["monitor_inference"], vec![], "Grants access necessary to perform inference.")),
        (
            "transform_admin",
            reserved(
                &["manage_transform"],
                transform_audit_read(),
                "Grants manage_transform cluster privileges, which enable you to manage transforms. \
                 This role also includes all Kibana privileges for the machine learning features.",
            ),
        ),
        (
            "transform_user",
            reserved(
                &["monitor_transform"],
                transform_audit_read(),
                "Grants monitor_transform cluster privileges, which enable you to perform read-only operations related to \
                 transforms. This role also includes all Kibana privileges for the machine learning features.",
            ),
        ),
        (
            "watcher_admin",
            reserved(
                &["manage_watcher"],
                vec![restricted_index(&[".watches", ".triggered_watches", ".watcher-history-*"], &["read"])],
                "Allows users to create and execute all Watcher actions. \
                 Grants read access to the .watches index. Also grants read access \
                 to the watch history and the triggered watches index.",
            ),
        ),
        (
            "watcher_user",
            reserved(
                &["monitor_watcher"],
                vec![restricted_index(&[".watches"], &["read"]), index(&[".watcher-history-*"], &["read"])],
                "Grants read access to the .watches index, the get watch action and the watcher stats.",
            ),
        ),
        (
            "logstash_admin",
            reserved(
                &["manage_logstash_pipelines"],
                vec![restricted_index(&[".logstash*"], &["create", "delete", "index", "manage", "read"])],
                "Grants access to the .logstash* indices for managing configurations, \
                 and grants necessary access for logstash-specific APIs exposed by the logstash x-pack plugin.",
            ),
        ),
        (
            "rollup_user",
            reserved(&["monitor_rollup"], vec![], "Grants monitor_rollup cluster privileges, which enable you to perform read-only operations related to rollups."),
        ),
        (
            "rollup_admin",
            reserved(&["manage_rollup"], vec![], "Grants manage_rollup cluster privileges, which enable you to manage and execute all rollup actions."),
        ),
        (
            "snapshot_user",
            reserved(
                &["create_snapshot", "cluster:admin/repository/get"],
                vec![restricted_index(&["*"], &["view_index_metadata"])],
                "Grants the necessary privileges to create snapshots of all the indices and to view their metadata. \
                 This role enables users to view the configuration of existing snapshot repositories and snapshot details. \
                 It does not grant authority to remove or add repositories or to restore snapshots. \
                 It also does not enable to change index settings or to read or update data stream or index data.",
            ),
        ),
        (
            "enrich_user",
            reserved(
                &["manage_enrich", "manage_ingest_pipelines", "monitor"],
                vec![restricted_index(&[".enrich-*"], &["read", "view_index_metadata"]), index(&[".enrich-*"], &["manage", "write"])],
                "Grants access to manage all enrich indices (.enrich-*) and all operations on ingest pipelines.",
            ),
        ),
        ("viewer", viewer()),
        ("editor", editor()),
    ];
    roles.sort_by_key(|(name, _)| *name);
    roles
});

/// Returns the built-in role called `name`.
pub(crate) fn builtin_role(name: &str) -> Option<&'static RoleDescriptor> {
    BUILTIN_ROLES.iter().find(|(role_name, _)| *role_name == name).map(|(_, role)| role)
}

/// Returns the names of the built-in roles, alphabetically.
pub(crate) fn builtin_role_names() -> impl Iterator<Item = &'static str> {
    BUILTIN_ROLES.iter().map(|(name, _)| *name)
}

/// Returns whether `name` is a reserved role name.
pub(crate) fn is_builtin_role(name: &str) -> bool {
    builtin_role(name).is_some()
}

#[cfg(test)]
#[path = "builtin_tests.rs"]
mod tests;
