"""Elasticsearch's own REST test suites for user profiles (spec §14), replayed through the official client."""

import pytest
from elasticsearch import NotFoundError

JOE_UID = "u_eGdcwXYIE3LEOrqz6p-3DHQ4HrAtxuk_ttRNFh2m7rM_0"
DOE_UID = "u_eZ75KhGvkY4_t0HfQpNPO1aO0tk6wd908bjUGieTKm8_0"


@pytest.fixture
def es(fresh_server):
    client = fresh_server.client()
    assert client.cluster.health(wait_for_status="yellow")["timed_out"] is False
    client.security.put_user(
        username="joe", password="s3krit-password", roles=["superuser"], full_name="Bazooka Joe", email="joe@bazooka.gum"
    )
    return client


def activate(es, username, password="s3krit-password"):
    return es.security.activate_user_profile(grant_type="password", username=username, password=password)


def test_10_basic_user_profile_apis(es):
    profile = activate(es, "joe")
    uid = profile["uid"]
    assert profile["user"]["username"] == "joe"
    assert profile["user"]["roles"] == ["superuser"]
    assert profile["user"]["full_name"] == "Bazooka Joe"
    assert profile["user"]["realm_name"] == "default_native"
    assert "realm_domain" not in profile["user"]
    assert "_doc" in profile

    got = es.security.get_user_profile(uid=uid)
    assert got["profiles"][0]["uid"] == uid
    assert got["profiles"][0]["user"]["username"] == "joe"
    assert got["profiles"][0]["data"] == {}

    assert es.security.update_user_profile_data(
        uid=uid, labels={"kibana": {"spaces": "demo"}}, data={"app1": {"theme": "default"}, "app2": {"name": "app2"}}
    )["acknowledged"] is True
    got = es.security.get_user_profile(uid=uid, data="app1")
    assert got["profiles"][0]["data"] == {"app1": {"theme": "default"}}

    assert activate(es, "joe")["uid"] == uid
    got = es.security.get_user_profile(uid=uid, data="*")
    assert got["profiles"][0]["labels"] == {"kibana": {"spaces": "demo"}}
    assert got["profiles"][0]["data"] == {"app1": {"theme": "default"}, "app2": {"name": "app2"}}

    missing = es.security.get_user_profile(uid="not_exist_uid")
    assert missing["profiles"] == []
    assert missing["errors"]["count"] == 1
    assert missing["errors"]["details"]["not_exist_uid"]["type"] == "resource_not_found_exception"


def test_10_basic_enable_disable(es):
    uid = activate(es, "joe")["uid"]
    assert es.security.get_user_profile(uid=uid)["profiles"][0]["enabled"] is True
    assert es.security.disable_user_profile(uid=uid)["acknowledged"] is True
    assert es.security.get_user_profile(uid=uid)["profiles"][0]["enabled"] is False
    assert es.security.enable_user_profile(uid=uid)["acknowledged"] is True
    assert es.security.get_user_profile(uid=uid)["profiles"][0]["enabled"] is True
    with pytest.raises(NotFoundError):
        es.security.disable_user_profile(uid="u_does_not_exist_0")


def test_10_basic_suggest(es):
    uid = activate(es, "joe")["uid"]
    result = es.security.suggest_user_profiles(name="joe", size=5)
    assert len(result["profiles"]) == 1
    assert result["profiles"][0]["uid"] == uid


@pytest.fixture
def privileged(es):
    es.security.put_role(
        name="role1",
        indices=[{"names": ["index1*"], "privileges": ["all"]}, {"names": ["index2*"], "privileges": ["read"]}],
    )
    es.security.put_role(
        name="role2",
        indices=[{"names": ["index2*"], "privileges": ["all"]}, {"names": ["index1*"], "privileges": ["read"]}],
    )
    es.security.put_user(username="super", password="s3krit-password", roles=["superuser"])
    es.security.put_user(username="user1", password="s3krit-password", roles=["role1"])
    es.security.put_user(username="user2", password="s3krit-password", roles=["role2"])
    return es


def test_40_has_privileges(privileged):
    es = privileged
    uid1 = activate(es, "user1")["uid"]
    uid2 = activate(es, "user2")["uid"]
    read_both = es.security.has_privileges_user_profile(
        uids=[uid1, uid2, "dummy_missing"],
        privileges={"index": [{"names": ["index1*", "index2*"], "privileges": ["read"]}]},
    )
    assert sorted(read_both["has_privilege_uids"]) == sorted([uid1, uid2])
    assert read_both["errors"]["count"] == 1
    assert read_both["errors"]["details"]["dummy_missing"]["type"] == "resource_not_found_exception"

    all_both = es.security.has_privileges_user_profile(
        uids=[uid1, uid2], privileges={"index": [{"names": ["index1*", "index2*"], "privileges": ["all", "read"]}]}
    )
    assert all_both["has_privilege_uids"] == []
    assert "errors" not in all_both

    mixed = es.security.has_privileges_user_profile(
        uids=[uid1, uid2, "dummy"],
        privileges={
            "index": [
                {"names": ["index1*"], "privileges": ["all", "read"]},
                {"names": ["index1*", "index2*"], "privileges": ["read"]},
            ]
        },
    )
    assert mixed["has_privilege_uids"] == [uid1]
    assert mixed["errors"]["details"]["dummy"]["type"] == "resource_not_found_exception"

    super_uid = activate(es, "super")["uid"]
    superuser = es.security.has_privileges_user_profile(
        uids=[super_uid], privileges={"cluster": ["all"], "index": [{"names": ["*"], "privileges": ["all"]}]}
    )
    assert superuser["has_privilege_uids"] == [super_uid]


def test_clients_50_user_profile(es):
    es.security.put_user(username="doe", password="s3krit-password", roles=["superuser"], full_name="John Doe")
    joe = activate(es, "joe")
    doe = activate(es, "doe")
    assert (joe["uid"], doe["uid"]) == (JOE_UID, DOE_UID)
    for profile in (joe, doe):
        assert profile["user"]["realm_name"] == "default_native"
        assert "realm_domain" not in profile["user"]
        assert "_doc" in profile
    got = es.security.get_user_profile(uid=[JOE_UID, DOE_UID, "does_not_exist"])
    assert [profile["uid"] for profile in got["profiles"]] == [JOE_UID, DOE_UID]
    assert all(profile["data"] == {} for profile in got["profiles"])
    assert got["errors"]["count"] == 1
    assert got["errors"]["details"]["does_not_exist"]["type"] == "resource_not_found_exception"

    users = es.security.get_user(username="joe,doe", with_profile_uid=True)
    assert users["joe"]["profile_uid"] == JOE_UID
    assert users["doe"]["profile_uid"] == DOE_UID

    es.security.disable_user_profile(uid=JOE_UID)
    assert es.security.get_user_profile(uid=JOE_UID)["profiles"][0]["enabled"] is False
    es.security.enable_user_profile(uid=JOE_UID)
    assert es.security.get_user_profile(uid=JOE_UID)["profiles"][0]["enabled"] is True

    assert es.security.update_user_profile_data(uid=JOE_UID, labels={"kibana": {"spaces": "demo"}})["acknowledged"]

    suggested = es.security.suggest_user_profiles(
        name="joe", hint={"uids": ["u_does_not_exist_0"], "labels": {"kibana.spaces": "nothing"}}
    )
    assert [profile["uid"] for profile in suggested["profiles"]] == [JOE_UID]

    has = es.security.has_privileges_user_profile(
        uids=[JOE_UID, "u_does_not_exist_0"], privileges={"index": [{"names": ["index1*"], "privileges": ["read"]}]}
    )
    assert has["has_privilege_uids"] == [JOE_UID]


def test_clients_130_user_profile(es):
    es.security.put_user(username="juan", password="s3krit-password", roles=["superuser"])
    uid = activate(es, "juan")["uid"]
    assert es.security.get_user_profile(uid=uid)["profiles"][0]["enabled"] is True
    es.security.disable_user_profile(uid=uid)
    assert es.security.get_user_profile(uid=uid)["profiles"][0]["enabled"] is False
    es.security.enable_user_profile(uid=uid)
    assert es.security.get_user_profile(uid=uid)["profiles"][0]["enabled"] is True
    has = es.security.has_privileges_user_profile(
        uids=[uid], privileges={"index": [{"names": ["index1*"], "privileges": ["read"]}]}
    )
    assert len(has["has_privilege_uids"]) > 0
    suggested = es.security.suggest_user_profiles(name="juan", hint={"labels": {"kibana.spaces": "demo"}})
    assert len(suggested["profiles"]) == 1
    assert es.security.update_user_profile_data(uid=uid, labels={"kibana": {"spaces": "demo"}})["acknowledged"]


def test_activate_then_get_are_equal_and_data_round_trips_arrays(es):
    profile = activate(es, "joe").body
    assert es.security.get_user_profile(uid=profile["uid"])["profiles"][0] == profile
    es.security.update_user_profile_data(uid=profile["uid"], labels={"app1": {"tags": ["prod", "east"]}})
    assert es.security.get_user_profile(uid=profile["uid"])["profiles"][0]["labels"] == {"app1": {"tags": ["prod", "east"]}}
    es.security.put_user(username="rac", password="s3krit-password", roles=[])
    activate(es, "rac")
    result = es.security.suggest_user_profiles(name="rac")
    assert result["total"] == {"value": 1, "relation": "eq"}
