"""User profiles through the official client, played the way Kibana uses them.

A `kibana_system` caller activates several native users on login, writes `kibana.*` data, is refused on other
namespaces, suggests with hints, checks privileges, disables and re-enables, and after a restart (graceful and
kill -9) finds everything intact. Responses are compared field by field with the spec's examples.
"""

import json

import pytest
from elasticsearch import AuthenticationException, AuthorizationException, BadRequestError, NotFoundError

KIBANA_PASSWORD = "kibana-system-password"
PASSWORD = "s3krit-password"
JACK_UID = "u_79HkWkwmnBH5gqFKwoxggWPjEBOur1zLPXQPEl1VBW0_0"
JOE_UID = "u_eGdcwXYIE3LEOrqz6p-3DHQ4HrAtxuk_ttRNFh2m7rM_0"
DOE_UID = "u_eZ75KhGvkY4_t0HfQpNPO1aO0tk6wd908bjUGieTKm8_0"

USERS = [
    ("jacknich", ["admin", "other_role1"], "Jack Nicholson", "jacknich@example.com"),
    ("joe", ["superuser"], "Bazooka Joe", "joe@bazooka.gum"),
    ("doe", ["admin"], None, None),
    ("user_foo", ["editor"], "Very Curious Foo", "fooemail@example.org"),
    ("admin_bar", ["viewer"], "Super Curious Admin Bar", "bar@example.org"),
]


@pytest.fixture
def kibana_server(fresh_server):
    es = fresh_server.client()
    es.security.change_password(username="kibana_system", password=KIBANA_PASSWORD)
    es.security.put_role(name="admin", cluster=["monitor"])
    es.security.put_role(name="other_role1", indices=[{"names": ["logs-*"], "privileges": ["read"]}])
    for username, roles, full_name, email in USERS:
        es.security.put_user(username=username, password=PASSWORD, roles=roles, full_name=full_name, email=email)
    return fresh_server


def kibana(server):
    return server.client("kibana_system", KIBANA_PASSWORD)


def login(kib, username):
    return kib.security.activate_user_profile(grant_type="password", username=username, password=PASSWORD)


def test_kibana_login_flow_and_data(kibana_server):
    kib = kibana(kibana_server)
    jack = login(kib, "jacknich").body
    assert jack["uid"] == JACK_UID
    assert list(jack) == ["uid", "enabled", "last_synchronized", "user", "labels", "data", "_doc"]
    assert jack["user"] == {
        "username": "jacknich",
        "roles": ["admin", "other_role1"],
        "realm_name": "default_native",
        "email": "jacknich@example.com",
        "full_name": "Jack Nicholson",
    }
    assert jack["labels"] == {} and jack["data"] == {}
    assert set(jack["_doc"]) == {"_primary_term", "_seq_no"}
    doe = login(kib, "doe").body
    assert doe["uid"] == DOE_UID
    assert "email" not in doe["user"] and "full_name" not in doe["user"], "null user fields are omitted"

    # Kibana's namespace: allowed through profile.write.applications [kibana*].
    kib.security.update_user_profile_data(
        uid=JACK_UID,
        data={"kibana": {"avatar": {"initials": "JN", "color": "#aabbcc"}, "userSettings": {"darkMode": "dark"}}},
        labels={"kibana": {"spaces": ["default", "sales"]}},
    )
    kib.security.update_user_profile_data(uid=JACK_UID, data={"kibana": {"userSettings": {"darkMode": "light"}}})
    with pytest.raises(AuthorizationException) as refused:
        kib.security.update_user_profile_data(uid=JACK_UID, data={"kibana": {}, "apm": {"x": 1}})
    assert refused.value.body["error"]["type"] == "security_exception"
    assert refused.value.body["error"]["reason"].startswith(
        "action [cluster:admin/xpack/security/profile/put/data] is unauthorized for user [kibana_system]"
    )

    got = kib.security.get_user_profile(uid=[JACK_UID, "u_does-not-exist_0", DOE_UID], data="kibana.*").body
    assert [profile["uid"] for profile in got["profiles"]] == [JACK_UID, DOE_UID]
    assert got["profiles"][0]["data"] == {
        "kibana": {"avatar": {"initials": "JN", "color": "#aabbcc"}, "userSettings": {"darkMode": "light"}}
    }
    assert got["profiles"][0]["labels"] == {"kibana": {"spaces": ["default", "sales"]}}
    assert got["errors"] == {
        "count": 1,
        "details": {"u_does-not-exist_0": {"type": "resource_not_found_exception", "reason": "profile document not found"}},
    }
    only_avatar = kib.security.get_user_profile(uid=JACK_UID, data="kibana.avatar").body
    assert only_avatar["profiles"][0]["data"] == {"kibana": {"avatar": {"initials": "JN", "color": "#aabbcc"}}}
    assert "errors" not in only_avatar

    # Re-login keeps the uid and the data.
    again = login(kib, "jacknich").body
    assert again["uid"] == JACK_UID and again["data"] == {}
    assert again["labels"] == {"kibana": {"spaces": ["default", "sales"]}}


def test_kibana_may_not_enable_or_disable(kibana_server):
    kib = kibana(kibana_server)
    login(kib, "joe")
    with pytest.raises(AuthorizationException):
        kib.security.disable_user_profile(uid=JOE_UID)


def test_suggest_with_hints_and_disabled_profiles(kibana_server):
    kib = kibana(kibana_server)
    es = kibana_server.client()
    for username, *_ in USERS:
        login(kib, username)
    es.security.update_user_profile_data(uid=JOE_UID, labels={"kibana": {"spaces": "demo"}})

    by_name = kib.security.suggest_user_profiles(name="joe", size=5).body
    assert list(by_name) == ["took", "total", "profiles"]
    assert by_name["total"] == {"value": 1, "relation": "eq"}
    hit = by_name["profiles"][0]
    assert hit["uid"] == JOE_UID
    assert set(hit) == {"uid", "user", "labels", "data"}

    # Spec §6.2 examples.
    def names(query, **kwargs):
        body = kib.security.suggest_user_profiles(name=query, **kwargs).body
        return {profile["user"]["username"] for profile in body["profiles"]}

    assert "user_foo" in names("user")
    assert names("super admin") >= {"admin_bar"}
    assert names("admin super") >= {"admin_bar"}
    assert names("fooem") == {"user_foo"}
    assert names("example.org") >= {"user_foo", "admin_bar"}
    assert "admin_bar" in names("Kurious One")
    assert "user_foo" in names("ver")

    # Hints boost but never filter.
    hinted = kib.security.suggest_user_profiles(name="", size=10, hint={"uids": [DOE_UID]}).body
    assert hinted["profiles"][0]["uid"] == DOE_UID
    assert hinted["total"]["value"] == len(USERS)
    labelled = kib.security.suggest_user_profiles(name="", hint={"labels": {"kibana.spaces": ["demo"]}}).body
    assert labelled["profiles"][0]["uid"] == JOE_UID
    no_match_hint = kib.security.suggest_user_profiles(name="joe", hint={"uids": ["u_nobody_0"], "labels": {"kibana.spaces": "nope"}}).body
    assert [profile["uid"] for profile in no_match_hint["profiles"]] == [JOE_UID]

    # Disabled profiles are hidden from suggest but still returned by GET.
    es.security.disable_user_profile(uid=JOE_UID)
    assert kib.security.suggest_user_profiles(name="joe").body["total"]["value"] == 0
    assert es.security.get_user_profile(uid=JOE_UID).body["profiles"][0]["enabled"] is False
    es.security.enable_user_profile(uid=JOE_UID)
    assert kib.security.suggest_user_profiles(name="joe").body["total"]["value"] == 1

    with pytest.raises(BadRequestError) as invalid:
        kib.security.suggest_user_profiles(name="x", size=-1, hint={"uids": []})
    assert invalid.value.body["error"]["reason"] == (
        "Validation Failed: 1: [size] parameter cannot be negative but was [-1];2: [uids] hint cannot be empty;"
    )


def test_has_privileges_of_profiles(kibana_server):
    kib = kibana(kibana_server)
    es = kibana_server.client()
    for username, *_ in USERS:
        login(kib, username)
    result = kib.security.has_privileges_user_profile(
        uids=[JACK_UID, JOE_UID, DOE_UID, "u_missing_0"],
        privileges={"index": [{"names": ["logs-2026"], "privileges": ["read"]}]},
    ).body
    assert list(result) == ["has_privilege_uids", "errors"]
    assert set(result["has_privilege_uids"]) == {JACK_UID, JOE_UID}
    assert result["errors"]["details"]["u_missing_0"]["type"] == "resource_not_found_exception"
    # Role definitions are resolved live: changing a role of jack takes effect at once.
    es.security.put_role(name="other_role1", indices=[{"names": ["metrics-*"], "privileges": ["read"]}])
    result = kib.security.has_privileges_user_profile(
        uids=[JACK_UID], privileges={"index": [{"names": ["logs-2026"], "privileges": ["read"]}]}
    ).body
    assert result == {"has_privilege_uids": []}
    # Disabled profiles are silently dropped.
    es.security.disable_user_profile(uid=JOE_UID)
    result = kib.security.has_privileges_user_profile(uids=[JOE_UID], privileges={"cluster": ["monitor"]}).body
    assert result == {"has_privilege_uids": []}
    # `all` implies `read` (spec §14.2).
    result = es.security.has_privileges_user_profile(
        uids=[JACK_UID], privileges={"cluster": ["monitor"], "index": [{"names": ["metrics-1"], "privileges": ["read"]}]}
    ).body
    assert result == {"has_privilege_uids": [JACK_UID]}
    # An unknown privilege fails the check of every enabled profile, each with its own error.
    result = es.security.has_privileges_user_profile(
        uids=[JACK_UID, DOE_UID, JOE_UID], privileges={"index": [{"names": ["x"], "privileges": ["bar"]}]}
    ).body
    assert result["has_privilege_uids"] == []
    assert result["errors"]["count"] == 2
    assert sorted(result["errors"]["details"]) == sorted([JACK_UID, DOE_UID])
    for detail in result["errors"]["details"].values():
        assert detail["type"] == "illegal_argument_exception"
        assert detail["reason"].startswith("unknown index privilege [bar].")
    # The body may also come in the `source` parameter of a GET.
    source = json.dumps({"uids": [JACK_UID, "u_missing_0"], "privileges": {"cluster": ["monitor"]}})
    result = es.perform_request(
        "GET",
        "/_security/profile/_has_privileges",
        params={"source": source, "source_content_type": "application/json"},
        headers={"accept": "application/json"},
    ).body
    assert result["has_privilege_uids"] == [JACK_UID]
    assert result["errors"]["count"] == 1
    # Malformed bodies get the strict parser's errors.
    for body, error_type, reason in [
        ({"uids": [JACK_UID]}, "illegal_argument_exception", "Required [privileges]"),
        (
            {"uids": [JACK_UID, 7], "privileges": {"cluster": ["monitor"]}},
            "x_content_parse_exception",
            "[1:2] [profile_has_privileges_request] uids doesn't support values of type: VALUE_NUMBER",
        ),
        (
            {"uids": [JACK_UID], "privileges": {"cluster": ["monitor"]}, "size": 3},
            "x_content_parse_exception",
            "[1:2] [profile_has_privileges_request] unknown field [size]",
        ),
    ]:
        with pytest.raises(BadRequestError) as bad:
            es.perform_request(
                "POST",
                "/_security/profile/_has_privileges",
                body=body,
                headers={"content-type": "application/json", "accept": "application/json"},
            )
        assert (bad.value.body["error"]["type"], bad.value.body["error"]["reason"]) == (error_type, reason)
        assert bad.value.meta.headers["X-Elastic-Product"] == "Elasticsearch"


def test_activation_errors(kibana_server):
    kib = kibana(kibana_server)
    with pytest.raises(AuthenticationException) as wrong:
        kib.security.activate_user_profile(grant_type="password", username="jacknich", password="wrong-password")
    assert wrong.value.body["error"]["reason"] == (
        "unable to authenticate user [jacknich] for action [cluster:admin/xpack/security/profile/activate]"
    )
    assert "WWW-Authenticate" in wrong.value.meta.headers
    with pytest.raises(BadRequestError) as invalid:
        kib.security.activate_user_profile(grant_type="password", username="jacknich")
    assert invalid.value.body["error"]["reason"] == "Validation Failed: 1: [password] is required for grant_type [password];"
    with pytest.raises(NotFoundError) as missing:
        kibana_server.client().security.enable_user_profile(uid="u_missing_0")
    assert missing.value.body["error"]["type"] == "document_missing_exception"


@pytest.mark.parametrize("crash", [False, True], ids=["graceful", "kill-9"])
def test_profiles_survive_restart(kibana_server, crash):
    kib = kibana(kibana_server)
    for username, *_ in USERS:
        login(kib, username)
    kib.security.update_user_profile_data(uid=JACK_UID, data={"kibana": {"avatar": {"initials": "JN"}}})
    kibana_server.client().security.disable_user_profile(uid=DOE_UID)
    before = kib.security.get_user_profile(uid=[JACK_UID, DOE_UID], data="*").body
    if crash:
        kibana_server.kill9()
        kibana_server.start()
    else:
        kibana_server.restart()
    kib = kibana(kibana_server)
    after = kib.security.get_user_profile(uid=[JACK_UID, DOE_UID], data="*").body
    assert after == before
    assert kib.security.suggest_user_profiles(name="jack").body["profiles"][0]["uid"] == JACK_UID
    assert kib.security.suggest_user_profiles(name="doe").body["total"]["value"] == 0
    assert login(kib, "jacknich").body["uid"] == JACK_UID
