"""Roles, the caller's privileges, authorization failures and the query users API."""

from __future__ import annotations

import pytest
from elasticsearch import AuthorizationException, BadRequestError, NotFoundError

from _support import error_reason, error_type

SUPERUSER_ALL_INDICES = {"names": ["*"], "privileges": ["all"], "allow_restricted_indices": False}
ALL_APPLICATIONS = {"application": "*", "privileges": ["*"], "resources": ["*"]}


# -- roles ----------------------------------------------------------------------------------------------------------------


def test_put_role_reports_created_then_updated(es):
    assert es.security.put_role(name="r_created", cluster=["monitor"]).body == {"role": {"created": True}}
    assert es.security.put_role(name="r_created", cluster=["monitor", "manage"]).body == {"role": {"created": False}}


def test_get_role_shape(es):
    es.security.put_role(
        name="r_shape",
        cluster=["monitor"],
        indices=[{"names": ["logs-*"], "privileges": ["read", "view_index_metadata"]}],
        run_as=["someone"],
        metadata={"version": 1},
    )
    assert es.security.get_role(name="r_shape").body == {
        "r_shape": {
            "cluster": ["monitor"],
            "indices": [
                {"names": ["logs-*"], "privileges": ["read", "view_index_metadata"], "allow_restricted_indices": False}
            ],
            "applications": [],
            "run_as": ["someone"],
            "metadata": {"version": 1},
            "transient_metadata": {"enabled": True},
        }
    }


def test_empty_role_has_every_field(es):
    es.security.put_role(name="r_empty")
    assert es.security.get_role(name="r_empty").body == {
        "r_empty": {
            "cluster": [],
            "indices": [],
            "applications": [],
            "run_as": [],
            "metadata": {},
            "transient_metadata": {"enabled": True},
        }
    }


def test_get_missing_role_is_404_with_empty_body(es):
    with pytest.raises(NotFoundError) as caught:
        es.security.get_role(name="r_does_not_exist")
    assert caught.value.body == {}


def test_get_role_by_name_list(es):
    es.security.put_role(name="r_list_1", cluster=["monitor"])
    es.security.put_role(name="r_list_2", cluster=["monitor"])
    body = es.security.get_role(name=["r_list_1", "r_list_2", "r_list_missing"]).body
    assert set(body) == {"r_list_1", "r_list_2"}


def test_superuser_role_is_visible(es):
    superuser = es.security.get_role(name="superuser").body["superuser"]
    assert superuser["cluster"] == ["all"]
    assert superuser["run_as"] == ["*"]
    assert superuser["metadata"]["_reserved"] is True
    assert SUPERUSER_ALL_INDICES in superuser["indices"]
    assert ALL_APPLICATIONS in superuser["applications"]


def test_get_all_roles_includes_native_and_built_in_roles(es):
    es.security.put_role(name="r_in_all", cluster=["monitor"])
    roles = es.security.get_role().body
    assert roles["r_in_all"]["cluster"] == ["monitor"]
    assert roles["superuser"]["metadata"]["_reserved"] is True
    assert "_reserved" not in roles["r_in_all"]["metadata"]


def test_delete_role_found_then_missing(es):
    es.security.put_role(name="r_delete", cluster=["monitor"])
    assert es.security.delete_role(name="r_delete").body == {"found": True}
    with pytest.raises(NotFoundError) as caught:
        es.security.delete_role(name="r_delete")
    assert caught.value.body == {"found": False}
    with pytest.raises(NotFoundError):
        es.security.get_role(name="r_delete")


def test_reserved_role_cannot_be_deleted(es):
    with pytest.raises(BadRequestError) as caught:
        es.security.delete_role(name="superuser")
    assert caught.value.message == "illegal_argument_exception"
    assert error_reason(caught.value) == "role [superuser] is reserved and cannot be deleted"


def test_reserved_role_name_may_not_be_used(es):
    with pytest.raises(BadRequestError) as caught:
        es.security.put_role(name="superuser", cluster=["monitor"])
    assert caught.value.message == "action_request_validation_exception"
    assert error_reason(caught.value) == "Validation Failed: 1: Role [superuser] is reserved and may not be used.;"


def test_unknown_cluster_privilege_is_rejected(es):
    with pytest.raises(BadRequestError) as caught:
        es.security.put_role(name="r_bad_privilege", cluster=["no_such_privilege"])
    assert caught.value.message in ("illegal_argument_exception", "action_request_validation_exception")
    assert "no_such_privilege" in error_reason(caught.value)


# -- the caller's privileges ----------------------------------------------------------------------------------------------


def test_has_privileges_superuser_has_everything(es):
    result = es.security.has_privileges(
        cluster=["all", "monitor", "manage_security"],
        index=[{"names": ["any-index", "other-*"], "privileges": ["read", "write", "all"]}],
    ).body
    assert result == {
        "username": "elastic",
        "has_all_requested": True,
        "cluster": {"all": True, "monitor": True, "manage_security": True},
        "index": {
            "any-index": {"read": True, "write": True, "all": True},
            "other-*": {"read": True, "write": True, "all": True},
        },
        "application": {},
    }


@pytest.fixture(scope="module")
def limited_user(es, client_for):
    es.security.put_role(
        name="r_logs_all",
        cluster=["monitor"],
        indices=[{"names": ["logs-*"], "privileges": ["all"]}, {"names": ["metrics-*"], "privileges": ["read"]}],
    )
    es.security.put_user(username="u_limited", password="limited-pass", roles=["r_logs_all"])
    return client_for("u_limited", "limited-pass")


def test_has_privileges_all_implies_read(limited_user):
    result = limited_user.security.has_privileges(
        cluster=["monitor", "manage_security"],
        index=[
            {"names": ["logs-2024"], "privileges": ["read", "write", "all"]},
            {"names": ["metrics-1"], "privileges": ["read", "write"]},
            {"names": ["secret"], "privileges": ["read"]},
        ],
    ).body
    assert result == {
        "username": "u_limited",
        "has_all_requested": False,
        "cluster": {"monitor": True, "manage_security": False},
        "index": {
            "logs-2024": {"read": True, "write": True, "all": True},
            "metrics-1": {"read": True, "write": False},
            "secret": {"read": False},
        },
        "application": {},
    }


def test_has_privileges_all_requested(limited_user):
    result = limited_user.security.has_privileges(
        cluster=["monitor"], index=[{"names": ["logs-a"], "privileges": ["read"]}]
    ).body
    assert result["has_all_requested"] is True
    assert result["username"] == "u_limited"


def test_get_user_privileges_of_superuser(es):
    privileges = es.security.get_user_privileges().body
    assert privileges["cluster"] == ["all"]
    assert privileges["global"] == []
    assert privileges["run_as"] == ["*"]
    assert SUPERUSER_ALL_INDICES in privileges["indices"]
    assert ALL_APPLICATIONS in privileges["applications"]


def test_get_user_privileges_of_limited_user(limited_user):
    assert limited_user.security.get_user_privileges().body == {
        "cluster": ["monitor"],
        "global": [],
        "indices": [
            {"names": ["logs-*"], "privileges": ["all"], "allow_restricted_indices": False},
            {"names": ["metrics-*"], "privileges": ["read"], "allow_restricted_indices": False},
        ],
        "applications": [],
        "run_as": [],
    }


# -- authorization failures -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def unprivileged(es, client_for):
    es.security.put_role(name="r_nothing")
    es.security.put_user(username="u_nothing", password="nothing-pass", roles=["r_nothing"])
    es.security.put_user(username="u_ghost_role", password="ghost-pass", roles=["r_ghost_missing"])
    return client_for("u_nothing", "nothing-pass")


def test_put_user_without_privileges_is_403(unprivileged):
    with pytest.raises(AuthorizationException) as caught:
        unprivileged.security.put_user(username="u_forbidden", password="forbidden-pw", roles=[])
    error = caught.value
    assert error.status_code == 403
    assert error_type(error) == "security_exception"
    assert error.body["error"]["root_cause"][0]["type"] == "security_exception"
    assert error_reason(error) == (
        "action [cluster:admin/xpack/security/user/put] is unauthorized for user [u_nothing] with effective roles "
        "[r_nothing], this action is granted by the cluster privileges [manage_security,all]"
    )
    assert "WWW-Authenticate" not in error.meta.headers
    assert error.meta.headers["X-Elastic-Product"] == "Elasticsearch"


def test_get_user_without_privileges_is_403(unprivileged):
    with pytest.raises(AuthorizationException) as caught:
        unprivileged.security.get_user(username="elastic")
    assert error_reason(caught.value) == (
        "action [cluster:admin/xpack/security/user/get] is unauthorized for user [u_nothing] with effective roles "
        "[r_nothing], this action is granted by the cluster privileges [read_security,manage_security,all]"
    )


def test_403_names_roles_that_were_not_found(unprivileged, client_for):
    with pytest.raises(AuthorizationException) as caught:
        client_for("u_ghost_role", "ghost-pass").security.put_role(name="r_forbidden", cluster=["monitor"])
    assert error_reason(caught.value) == (
        "action [cluster:admin/xpack/security/role/put] is unauthorized for user [u_ghost_role] with effective roles "
        "[] (assigned roles [r_ghost_missing] were not found), this action is granted by the cluster privileges "
        "[manage_security,all]"
    )


def test_read_security_may_read_but_not_write(es, client_for):
    es.security.put_role(name="r_reader", cluster=["read_security"])
    es.security.put_user(username="u_reader", password="reader-pass", roles=["r_reader"])
    reader = client_for("u_reader", "reader-pass")
    assert reader.security.get_user(username="elastic")["elastic"]["username"] == "elastic"
    assert "r_reader" in reader.security.get_role(name="r_reader")
    with pytest.raises(AuthorizationException) as caught:
        reader.security.put_role(name="r_reader_made", cluster=["monitor"])
    assert error_reason(caught.value) == (
        "action [cluster:admin/xpack/security/role/put] is unauthorized for user [u_reader] with effective roles "
        "[r_reader], this action is granted by the cluster privileges [manage_security,all]"
    )


def test_manage_security_may_manage_users_and_roles(es, client_for):
    es.security.put_role(name="r_admin", cluster=["manage_security"])
    es.security.put_user(username="u_admin", password="admin-pass", roles=["r_admin"])
    admin = client_for("u_admin", "admin-pass")
    assert admin.security.put_role(name="r_admin_made", cluster=["monitor"])["role"]["created"] is True
    assert admin.security.put_user(username="u_admin_made", password="made-pass", roles=["r_admin_made"])["created"] is True
    admin.security.change_password(username="u_admin_made", password="made-pass-2")
    assert client_for("u_admin_made", "made-pass-2").security.authenticate()["roles"] == ["r_admin_made"]
    assert admin.security.delete_user(username="u_admin_made")["found"] is True
    assert admin.security.delete_role(name="r_admin_made")["found"] is True


def test_unprivileged_user_may_still_authenticate_and_change_own_password(unprivileged, client_for):
    assert unprivileged.security.authenticate()["username"] == "u_nothing"
    client_for("u_ghost_role", "ghost-pass").security.change_password(password="ghost-pass-2")
    assert client_for("u_ghost_role", "ghost-pass-2").security.authenticate()["username"] == "u_ghost_role"


def test_unprivileged_user_may_check_own_privileges(unprivileged):
    result = unprivileged.security.has_privileges(cluster=["monitor"]).body
    assert result == {
        "username": "u_nothing",
        "has_all_requested": False,
        "cluster": {"monitor": False},
        "index": {},
        "application": {},
    }


# -- query users ------------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def query_users(es):
    names = ["qu_alpha", "qu_beta", "qu_gamma"]
    for number, name in enumerate(names):
        es.security.put_user(
            username=name,
            password="query-pass",
            roles=["qrole"] if number < 2 else ["other"],
            full_name=f"Query {name}",
            email=f"{name}@example.com",
            enabled=number != 2,
        )
    return names


def test_query_user_without_body_returns_native_users(es, query_users):
    result = es.security.query_user().body
    usernames = [user["username"] for user in result["users"]]
    assert result["count"] == len(result["users"])
    assert result["total"] >= result["count"]
    assert set(query_users) <= set(usernames)
    assert "elastic" not in usernames and "kibana_system" not in usernames
    alpha = next(user for user in result["users"] if user["username"] == "qu_alpha")
    assert alpha == {
        "username": "qu_alpha",
        "roles": ["qrole"],
        "full_name": "Query qu_alpha",
        "email": "qu_alpha@example.com",
        "metadata": {},
        "enabled": True,
    }


def test_query_user_prefix_on_username(es, query_users):
    result = es.security.query_user(query={"prefix": {"username": "qu_"}}).body
    assert result["total"] == 3 and result["count"] == 3
    assert sorted(user["username"] for user in result["users"]) == query_users


def test_query_user_term_sort_and_paging(es, query_users):
    result = es.security.query_user(
        query={"bool": {"must": [{"term": {"roles": "qrole"}}, {"prefix": {"username": "qu_"}}]}},
        sort=[{"username": {"order": "desc"}}],
        from_=1,
        size=1,
    ).body
    assert result["total"] == 2
    assert result["count"] == 1
    assert result["users"][0]["username"] == "qu_alpha"
    assert result["users"][0]["_sort"] == ["qu_alpha"]


def test_query_user_enabled_filter(es, query_users):
    result = es.security.query_user(
        query={"bool": {"filter": [{"term": {"enabled": False}}, {"prefix": {"username": "qu_"}}]}}
    ).body
    assert [user["username"] for user in result["users"]] == ["qu_gamma"]
