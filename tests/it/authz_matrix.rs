//! Every route × privilege: a user without the route's privilege gets Elasticsearch's 403, a user with it
//! does not. Routes come from `profiled::api::ROUTES`, the table the router is registered from.

use serde_json::json;

use crate::common::TestApp;

fn concrete_path(pattern: &str) -> String {
    pattern.replace("{username}", "someone").replace("{name}", "somerole").replace("{uid}", "u_someone_0")
}

fn body_for(method: &str, path: &str) -> Option<serde_json::Value> {
    if method == "GET" || method == "DELETE" || method == "HEAD" {
        return match path {
            "/_security/oauth2/token" => Some(json!({"username": "nobody-at-all"})),
            "/_security/profile/_has_privileges" => {
                Some(json!({"uids": ["u_x_0"], "privileges": {"cluster": ["monitor"]}}))
            }
            "/_security/user/_has_privileges" => Some(json!({"cluster": ["monitor"]})),
            _ => None,
        };
    }
    Some(match path {
        "/_security/profile/_activate" => {
            json!({"grant_type": "password", "username": "nobody", "password": crate::common::PASSWORD})
        }
        "/_security/profile/_has_privileges" => json!({"uids": ["u_x_0"], "privileges": {"cluster": ["monitor"]}}),
        "/_security/user/_has_privileges" => json!({"cluster": ["monitor"]}),
        "/_security/profile/_suggest" | "/_security/_query/user" => json!({}),
        "/_security/oauth2/token" => json!({"grant_type": "client_credentials"}),
        p if p.starts_with("/_security/role_mapping/") => {
            json!({"roles": ["viewer"], "enabled": true, "rules": {"field": {"username": "*"}}})
        }
        p if p.ends_with("/_data") => json!({"data": {"app": {"k": 1}}}),
        // Keeps the same password: the self-service row changes the caller's own.
        p if p.ends_with("/_password") => json!({"password": crate::common::PASSWORD}),
        p if p.ends_with("/_enable") || p.ends_with("/_disable") => return None,
        p if p.starts_with("/_security/user/") => json!({"password": crate::common::PASSWORD, "roles": []}),
        p if p.starts_with("/_security/role/") => json!({"cluster": ["monitor"]}),
        _ => json!({}),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_checks_its_privilege() {
    let app = TestApp::start().await;
    app.create_user("nobody", &[], None, None).await;
    app.create_user("someone", &["superuser"], None, None).await;
    // A role granting exactly one action, per route.
    for (method, pattern, action) in profiled::api::ROUTES {
        let path = concrete_path(pattern);
        let body = body_for(method, pattern);
        let response = app.call(method, &path, Some("nobody"), body.clone()).await;
        match action {
            Some(action) if !pattern.ends_with("/_password") || !path.contains("nobody") => {
                assert_eq!(response.status.as_u16(), 403, "{method} {pattern} without privilege: {}", response.body);
                if *method == "HEAD" {
                    continue;
                }
                let reason = response.body["error"]["reason"].as_str().unwrap_or_default().to_string();
                assert!(
                    reason.starts_with(&format!("action [{action}] is unauthorized for user [nobody]")),
                    "{method} {pattern}: {reason}"
                );
            }
            _ => assert_ne!(response.status.as_u16(), 403, "{method} {pattern} is self-service: {}", response.body),
        }
        let role_name = format!("only_{}", action.unwrap_or("none").replace(['/', ':', '*'], "_"));
        if let Some(action) = action {
            app.admin("PUT", &format!("/_security/role/{role_name}"), Some(json!({"cluster": [action]}))).await;
            app.admin(
                "PUT",
                "/_security/user/holder",
                Some(json!({"password": crate::common::PASSWORD, "roles": [role_name]})),
            )
            .await;
            let response = app.call(method, &path, Some("holder"), body).await;
            assert_ne!(response.status.as_u16(), 403, "{method} {pattern} with [{action}]: {}", response.body);
            assert_ne!(response.status.as_u16(), 401, "{method} {pattern} with [{action}]: {}", response.body);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kibana_system_writes_only_kibana_namespaces() {
    let app = TestApp::start().await;
    app.create_user("kibana_like", &["kibana_system"], None, None).await;
    app.create_user("jacknich", &[], None, None).await;
    let activated = app
        .call(
            "POST",
            "/_security/profile/_activate",
            Some("kibana_like"),
            Some(json!({"grant_type": "password", "username": "jacknich", "password": crate::common::PASSWORD})),
        )
        .await;
    assert_eq!(activated.status.as_u16(), 200, "{}", activated.body);
    let uid = activated.body["uid"].as_str().expect("uid").to_string();
    let allowed = app
        .call(
            "PUT",
            &format!("/_security/profile/{uid}/_data"),
            Some("kibana_like"),
            Some(json!({"data": {"kibana": {"avatar": {"initials": "JN"}}}})),
        )
        .await;
    assert_eq!(allowed.status.as_u16(), 200, "{}", allowed.body);
    let refused = app
        .call(
            "PUT",
            &format!("/_security/profile/{uid}/_data"),
            Some("kibana_like"),
            Some(json!({"data": {"kibana": {}, "other": {}}})),
        )
        .await;
    assert_eq!(refused.status.as_u16(), 403, "{}", refused.body);
    assert_eq!(refused.body["error"]["type"], "security_exception");
    let refused = app.call("PUT", &format!("/_security/profile/{uid}/_disable"), Some("kibana_like"), None).await;
    assert_eq!(refused.status.as_u16(), 403, "kibana_system has no set_enabled: {}", refused.body);
}
