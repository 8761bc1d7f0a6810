//! The `kibana_system` built-in role (`KibanaOwnedReservedRoleDescriptors.kibanaSystem`).
//!
//! Of note for profiles: it lists the profile activate/get/suggest/has_privileges actions
//! explicitly (not `set_enabled`, not `put/data`) and holds the configurable privileges
//! `application.manage.applications: ["kibana-*"]` and `profile.write.applications: ["kibana*"]`.

use crate::authz::builtin::{index, remote_read, reserved, restricted_index};
use crate::authz::role::{
    strings, ConfigurableClusterPrivileges, IndicesPrivileges, RemoteClusterPrivileges, RoleDescriptor,
};

const CLUSTER: &[&str] = &[
    "monitor",
    "manage_index_templates",
    "manage_inference",
    "cluster:admin/xpack/monitoring/bulk",
    "manage_saml",
    "manage_token",
    "manage_oidc",
    "manage_enrich",
    "manage_pipeline",
    "manage_ilm",
    "monitor_connector",
    "manage_transform",
    "cluster:admin/xpack/security/api_key/invalidate",
    "grant_api_key",
    "manage_own_api_key",
    "cluster:admin/xpack/security/privilege/builtin/get",
    "delegate_pki",
    "cluster:admin/xpack/security/profile/get",
    "cluster:admin/xpack/security/profile/activate",
    "cluster:admin/xpack/security/profile/suggest",
    "cluster:admin/xpack/security/profile/has_privileges",
    "write_fleet_secrets",
    "manage_ml",
    "cluster:admin/analyze",
    "monitor_text_structure",
    "cancel_task",
];

const UPDATE_SETTINGS: &str = "indices:admin/settings/update";
const PUT_MAPPING: &str = "indices:admin/mapping/put";
const ROLLOVER: &str = "indices:admin/rollover";
const ALIASES: &str = "indices:admin/aliases";
const DELETE_INDEX: &str = "indices:admin/delete";
const AUTO_PUT_MAPPING: &str = "indices:admin/mapping/auto_put";

fn fleet_indices() -> Vec<IndicesPrivileges> {
    let mut entries = vec![restricted_index(&[".fleet-secrets*"], &["write", "delete", "create_index"])];
    for pattern in [
        ".fleet-actions*",
        ".fleet-agents*",
        ".fleet-artifacts*",
        ".fleet-enrollment-api-keys*",
        ".fleet-policies*",
        ".fleet-policies-leader*",
        ".fleet-servers*",
        ".fleet-fileds*",
        ".fleet-file-data-*",
        ".fleet-files-*",
        ".fleet-filedelivery-data-*",
        ".fleet-filedelivery-meta-*",
    ] {
        entries.push(restricted_index(&[pattern], &["all"]));
    }
    entries.extend([
        index(&["logs-elastic_agent*"], &["read"]),
        index(&["metrics-fleet_server*"], &["all"]),
        index(&["logs-fleet_server*"], &["read", "delete_index"]),
        index(
            &["fleet-synced-integrations", "fleet-synced-integrations-ccr*"],
            &["create_index", "manage", "read", "write"],
        ),
    ]);
    entries
}

fn security_solution_indices() -> Vec<IndicesPrivileges> {
    vec![
        index(&[".siem-signals*", ".reindexed-v8-siem-signals*"], &["all"]),
        index(&[".lists-*", ".items-*", ".reindexed-v8-lists-*", ".reindexed-v8-items-*"], &["all"]),
        index(&[".internal.alerts*", ".reindexed-v8-internal.alerts*"], &["all"]),
        index(&[".alerts*"], &["all"]),
        index(&[".preview.alerts*"], &["all"]),
        index(&[".internal.preview.alerts*", ".reindexed-v8-internal.preview.alerts*"], &["all"]),
        index(&["metrics-endpoint.policy-*"], &["read"]),
        index(&["metrics-endpoint.metrics-*"], &["read"]),
        index(&["logs-endpoint.events.*"], &["read"]),
        index(
            &[
                "logs-*",
                "synthetics-*",
                "traces-*",
                "/metrics-.*&~(metrics-endpoint\\.metadata_current_default.*)/",
                ".logs-endpoint.action.responses-*",
                ".logs-endpoint.diagnostic.collection-*",
                ".logs-endpoint.actions-*",
                ".logs-endpoint.heartbeat-*",
                ".logs-osquery_manager.actions-*",
                ".logs-osquery_manager.action.responses-*",
                "logs-osquery_manager.action.responses-*",
                "profiling-*",
            ],
            &[UPDATE_SETTINGS, PUT_MAPPING, ROLLOVER, "indices:admin/data_stream/lifecycle/put"],
        ),
        index(&[".logs-endpoint.action.responses-*"], &["auto_configure", "read", "write", "create_index"]),
        index(&[".logs-endpoint.actions-*"], &["auto_configure", "read", "write", "create_index"]),
        index(
            &[".logs-osquery_manager.action.responses-*"],
            &["auto_configure", "create_index", "read", "index", "delete"],
        ),
        index(&["logs-osquery_manager.action.responses-*"], &["read", "view_index_metadata"]),
        index(
            &[".logs-osquery_manager.actions-*"],
            &["auto_configure", "create_index", "read", "index", "write", "delete"],
        ),
        index(
            &[
                "logs-sentinel_one.*",
                "logs-crowdstrike.*",
                "logs-microsoft_defender_endpoint.*",
                "logs-m365_defender.*",
            ],
            &["read"],
        ),
        index(
            &[
                ".logs-endpoint.diagnostic.collection-*",
                "logs-apm-*",
                "logs-apm.*-*",
                "logs-cloud_security_posture.findings-*",
                "logs-cloud_security_posture.vulnerabilities-*",
                "metrics-apm-*",
                "metrics-apm.*-*",
                "traces-apm-*",
                "traces-apm.*-*",
                "synthetics-http-*",
                "synthetics-icmp-*",
                "synthetics-tcp-*",
                "synthetics-browser-*",
                "synthetics-browser.network-*",
                "synthetics-browser.screenshot-*",
            ],
            &[DELETE_INDEX],
        ),
        index(&["metrics-endpoint.metadata*"], &["read", "view_index_metadata"]),
        index(
            &[
                "metrics-endpoint.metadata_current_default*",
                ".metrics-endpoint.metadata_current_default*",
                ".metrics-endpoint.metadata_united_default*",
            ],
            &["create_index", "delete_index", "read", "index", ALIASES, UPDATE_SETTINGS],
        ),
        index(
            &["logs-ti_*_latest.*"],
            &["create_index", "delete_index", "read", "index", "delete", "manage", ALIASES, UPDATE_SETTINGS],
        ),
        index(&["logs-ti_*.*-*"], &[DELETE_INDEX, "read", "view_index_metadata"]),
        index(
            &["kibana_sample_data_*"],
            &["create_index", "delete_index", "read", "index", "view_index_metadata", ALIASES, UPDATE_SETTINGS],
        ),
        index(
            &["logs-cloud_security_posture.findings-*", "logs-cloud_security_posture.vulnerabilities-*"],
            &["read", "view_index_metadata"],
        ),
        index(
            &[
                "logs-cloud_security_posture.findings_latest-default*",
                "logs-cloud_security_posture.vulnerabilities_latest-default*",
            ],
            &["create_index", "read", "index", "delete", ALIASES, UPDATE_SETTINGS],
        ),
        index(
            &["logs-cloud_security_posture.scores-default*"],
            &["create_index", "read", "index", "delete", ALIASES, UPDATE_SETTINGS, AUTO_PUT_MAPPING],
        ),
        index(
            &[
                "logs-wiz.vulnerability-*",
                "logs-wiz.cloud_configuration_finding-*",
                "logs-wiz.cloud_configuration_finding_full_posture-*",
                "logs-google_scc.finding-*",
                "logs-aws.securityhub_findings-*",
                "logs-aws.securityhub_findings_full_posture-*",
                "logs-aws.inspector-*",
                "logs-aws.config-*",
                "logs-amazon_security_lake.findings-*",
                "logs-qualys_vmdr.asset_host_detection-*",
                "logs-tenable_sc.vulnerability-*",
                "logs-tenable_io.vulnerability-*",
                "logs-rapid7_insightvm.vulnerability-*",
                "logs-carbon_black_cloud.asset_vulnerability_summary-*",
            ],
            &["read", "view_index_metadata"],
        ),
        index(
            &["security_solution-*.vulnerability_latest", "security_solution-*.misconfiguration_latest"],
            &["manage", "read", ALIASES, UPDATE_SETTINGS],
        ),
        index(
            &["security_solution-*.vulnerability_latest-*", "security_solution-*.misconfiguration_latest-*"],
            &["create_index", "index", "manage", "read", "delete", ALIASES, UPDATE_SETTINGS],
        ),
        index(&["risk-score.risk-*"], &["all"]),
        index(&[".entity_analytics.*"], &["all"]),
        index(&[".asset-criticality.asset-criticality-*"], &["create_index", "manage", "read", "write"]),
        index(&[".entities.v1.latest.security*"], &["read"]),
        index(&["logs-cloud_defend.*", "metrics-cloud_defend.*"], &["read", "view_index_metadata"]),
        index(&[".slo-observability.*"], &["all"]),
        index(&[".logs-endpoint.heartbeat-*"], &["read", "create_index"]),
        index(
            &[".edr-workflow-insights-*"],
            &[
                "create_index",
                "auto_configure",
                "manage",
                "read",
                "write",
                "delete",
                UPDATE_SETTINGS,
                PUT_MAPPING,
                ROLLOVER,
            ],
        ),
        index(&[".elastic-connectors*"], &["read"]),
    ]
}

/// Returns the `kibana_system` role.
pub(crate) fn kibana_system() -> RoleDescriptor {
    let read_cross_cluster = &["read", "read_cross_cluster"];
    let mut indices = vec![
        restricted_index(&[".kibana*", ".reporting-*"], &["all"]),
        index(&[".monitoring-*"], read_cross_cluster),
        index(&[".management-beats"], &["create_index", "read", "write"]),
        index(&[".ml-anomalies*", ".ml-stats-*"], &["read"]),
        index(&[".ml-annotations*", ".ml-notifications*"], &["read", "write"]),
        index(&[".reindexed-v8-ml-annotations*", ".reindexed-v8-ml-notifications*"], &["read", "write"]),
        restricted_index(&[".apm-agent-configuration"], &["all"]),
        restricted_index(&[".apm-custom-link"], &["all"]),
        restricted_index(&[".apm-source-map"], &["all"]),
        index(&["apm-*"], read_cross_cluster),
        index(&["logs-apm.*"], read_cross_cluster),
        index(&["metrics-apm.*"], read_cross_cluster),
        index(&["traces-apm.*"], read_cross_cluster),
        index(&["traces-apm-*"], read_cross_cluster),
        index(&["metrics-logstash.*"], &["read"]),
        index(&["*"], &["view_index_metadata", "monitor"]),
        index(&[".logs-endpoint.diagnostic.collection-*"], &["read", "create_index"]),
    ];
    indices.extend(fleet_indices());
    indices.extend(security_solution_indices());
    RoleDescriptor {
        global: ConfigurableClusterPrivileges {
            manage_applications: Some(strings(&["kibana-*"])),
            write_profile_applications: Some(strings(&["kibana*"])),
            manage_roles: None,
        },
        remote_indices: [".monitoring-*", "apm-*", "logs-apm.*", "metrics-apm.*", "traces-apm.*", "traces-apm-*"]
            .iter()
            .map(|pattern| remote_read(pattern))
            .collect(),
        remote_cluster: vec![RemoteClusterPrivileges {
            privileges: strings(&["monitor_stats"]),
            clusters: strings(&["*"]),
        }],
        ..reserved(
            CLUSTER,
            indices,
            "Grants access necessary for the Kibana system user to read from and write to the Kibana indices, \
             manage index templates and tokens, and check the availability of the Elasticsearch cluster. \
             It also permits activating, searching, and retrieving user profiles, \
             as well as updating user profile data for the kibana-* namespace. \
             Additionally, this role grants read access to the .monitoring-* indices \
             and read and write access to the .reporting-* indices. \
             Note: This role should not be assigned to users as the granted permissions may change between releases.",
        )
    }
}
