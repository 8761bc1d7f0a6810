"""Cluster info, health, authentication, and Elasticsearch's REST conventions (errors, headers, global
parameters), driven through the official client and, where the wire itself matters, raw HTTP."""

from __future__ import annotations

import json

import pytest
from elasticsearch import ApiError, AuthenticationException, BadRequestError

from _support import BASIC_CHALLENGE, ELASTIC_PASSWORD, error_reason, error_type

COMPAT_9 = "application/vnd.elasticsearch+json; compatible-with=9"
COMPAT_8 = "application/vnd.elasticsearch+json; compatible-with=8"
COMPAT_7 = "application/vnd.elasticsearch+json; compatible-with=7"


# -- info and health -----------------------------------------------------------------------------------


def test_info_answers_like_elasticsearch(es):
    response = es.info()
    assert response.meta.status == 200
    assert response.meta.headers["X-Elastic-Product"] == "Elasticsearch"
    body = response.body
    assert {"name", "cluster_name", "cluster_uuid", "version", "tagline"} <= body.keys()
    assert body["tagline"] == "You Know, for Search"
    version = body["version"]
    assert version["number"].split(".")[0] == "9", version
    assert version["build_flavor"] == "default"
    assert {"minimum_wire_compatibility_version", "minimum_index_compatibility_version"} <= version.keys()


def test_ping_answers_head_root(es):
    assert es.ping() is True


def test_cluster_health_wait_for_yellow(es):
    health = es.cluster.health(wait_for_status="yellow")
    assert health.meta.status == 200
    assert health["timed_out"] is False
    assert health["status"] in ("green", "yellow")
    assert health["number_of_nodes"] >= 1
    assert "cluster_name" in health


# -- authenticate ----------------------------------------------------------------------------------------


def test_authenticate_as_elastic_is_the_reserved_realm(es):
    me = es.security.authenticate().body
    assert me["username"] == "elastic"
    assert me["roles"] == ["superuser"]
    assert me["full_name"] is None
    assert me["email"] is None
    assert me["metadata"] == {"_reserved": True}
    assert me["enabled"] is True
    assert me["authentication_realm"] == {"name": "reserved", "type": "reserved"}
    assert me["lookup_realm"] == {"name": "reserved", "type": "reserved"}
    assert me["authentication_type"] == "realm"


def test_authenticate_as_native_user_is_default_native(es, client_for):
    es.security.put_user(
        username="auth_native",
        password="native-pass-1",
        roles=["viewer", "reporter"],
        full_name="Native User",
        email="native@example.com",
        metadata={"team": "blue"},
    )
    me = client_for("auth_native", "native-pass-1").security.authenticate().body
    assert me["username"] == "auth_native"
    assert me["roles"] == ["viewer", "reporter"]
    assert me["full_name"] == "Native User"
    assert me["email"] == "native@example.com"
    assert me["metadata"] == {"team": "blue"}
    assert me["enabled"] is True
    assert me["authentication_realm"] == {"name": "default_native", "type": "native"}
    assert me["lookup_realm"] == {"name": "default_native", "type": "native"}
    assert me["authentication_type"] == "realm"


def test_wrong_password_is_401_with_basic_challenge(client_for):
    with pytest.raises(AuthenticationException) as caught:
        client_for("elastic", "not-the-password").security.authenticate()
    error = caught.value
    assert error.status_code == 401
    # one WWW-Authenticate header per enabled scheme, Basic first (the client joins repeats with ", ")
    assert error.meta.headers["WWW-Authenticate"].startswith(BASIC_CHALLENGE)
    assert error.meta.headers["X-Elastic-Product"] == "Elasticsearch"
    assert error_type(error) == "security_exception"
    assert error_reason(error) == "unable to authenticate user [elastic] for REST request [/_security/_authenticate]"
    assert error.body["error"]["header"]["WWW-Authenticate"][0] == BASIC_CHALLENGE
    assert error.body["status"] == 401


def test_401_challenges_are_separate_headers(server):
    response = server.raw("GET", "/_security/_authenticate", auth=None)
    assert response.status == 401
    challenges = response.headers_named("WWW-Authenticate")
    assert challenges[0] == BASIC_CHALLENGE, challenges
    assert response.json()["error"]["header"]["WWW-Authenticate"] == challenges


def test_unknown_user_is_401(client_for):
    with pytest.raises(AuthenticationException) as caught:
        client_for("nobody_at_all", "whatever-pw").security.authenticate()
    assert caught.value.meta.headers["WWW-Authenticate"].startswith(BASIC_CHALLENGE)
    assert error_reason(caught.value) == (
        "unable to authenticate user [nobody_at_all] for REST request [/_security/_authenticate]"
    )


def test_no_credentials_is_401(client_for):
    with pytest.raises(AuthenticationException) as caught:
        client_for(None).security.authenticate()
    error = caught.value
    assert error.status_code == 401
    assert error.meta.headers["WWW-Authenticate"].startswith(BASIC_CHALLENGE)
    assert error_type(error) == "security_exception"
    assert error_reason(error) == "missing authentication credentials for REST request [/_security/_authenticate]"


# -- every response carries the product header ------------------------------------------------------------


@pytest.mark.parametrize(
    "method,path,credentials,status",
    [
        ("GET", "/", "elastic", 200),
        ("HEAD", "/", "elastic", 200),
        ("GET", "/_cluster/health", "elastic", 200),
        ("GET", "/_security/_authenticate", None, 401),
        ("GET", "/_security/_authenticate", "wrong", 401),
        ("GET", "/_no_such_api", "elastic", 400),
        ("DELETE", "/_security/_authenticate", "elastic", 405),
        ("GET", "/_security/user/no_such_user_here", "elastic", 404),
        ("GET", "/_security/user?bogus_param=1", "elastic", 400),
    ],
)
def test_every_response_carries_the_product_header(server, method, path, credentials, status):
    auth = {"elastic": ("elastic", ELASTIC_PASSWORD), "wrong": ("elastic", "wrong-password"), None: None}[credentials]
    response = server.raw(method, path, auth=auth)
    assert response.status == status, response
    assert response.headers_named("X-Elastic-Product") == ["Elasticsearch"], response
    if method != "HEAD":
        assert response.header("Content-Type").startswith("application/json"), response
        json.loads(response.body)


def test_product_header_seen_by_the_client(es):
    response = es.perform_request("GET", "/_security/_authenticate")
    assert response.meta.headers["X-Elastic-Product"] == "Elasticsearch"


# -- router errors --------------------------------------------------------------------------------------------


def test_unknown_route_is_flat_400(es):
    with pytest.raises(BadRequestError) as caught:
        es.perform_request("GET", "/_no_such_api")
    assert caught.value.body == {"error": "no handler found for uri [/_no_such_api] and method [GET]", "status": 400}
    assert caught.value.meta.headers["X-Elastic-Product"] == "Elasticsearch"


def test_unknown_route_message_keeps_the_query_string(es):
    with pytest.raises(BadRequestError) as caught:
        es.perform_request("GET", "/_no_such_api", params={"pretty": "true"})
    assert caught.value.body["error"] == "no handler found for uri [/_no_such_api?pretty=true] and method [GET]"


def test_wrong_method_is_405_with_allow(es):
    with pytest.raises(ApiError) as caught:
        es.perform_request("DELETE", "/_security/_authenticate")
    error = caught.value
    assert error.status_code == 405
    assert error.body == {
        "error": "Incorrect HTTP method for uri [/_security/_authenticate] and method [DELETE], allowed: [GET]",
        "status": 405,
    }
    assert error.meta.headers["Allow"] == "GET"
    assert error.meta.headers["X-Elastic-Product"] == "Elasticsearch"


def test_wrong_method_lists_every_allowed_method(es):
    with pytest.raises(ApiError) as caught:
        es.perform_request("PATCH", "/_security/user/someone")
    error = caught.value
    assert error.status_code == 405
    assert set(error.meta.headers["Allow"].split(",")) == {"GET", "PUT", "POST", "DELETE"}
    prefix = "Incorrect HTTP method for uri [/_security/user/someone] and method [PATCH], allowed: ["
    assert error.body["error"].startswith(prefix)
    assert set(error.body["error"][len(prefix):-1].split(", ")) == {"GET", "PUT", "POST", "DELETE"}


# -- request errors --------------------------------------------------------------------------------------------


def test_unknown_query_parameter_is_rejected(es):
    with pytest.raises(BadRequestError) as caught:
        es.perform_request("GET", "/_security/user/elastic", params={"foo": "bar"})
    error = caught.value
    assert error.message == "illegal_argument_exception"
    assert error.body["error"]["root_cause"][0]["type"] == "illegal_argument_exception"
    assert error_reason(error) == "request [/_security/user/elastic] contains unrecognized parameter: [foo]"


def test_misspelled_query_parameter_gets_a_suggestion(es):
    with pytest.raises(BadRequestError) as caught:
        es.perform_request("GET", "/_security/user/elastic", params={"with_profile_ui": "true"})
    assert error_reason(caught.value) == (
        "request [/_security/user/elastic] contains unrecognized parameter: [with_profile_ui] "
        "-> did you mean [with_profile_uid]?"
    )


MALFORMED_USER_BODY = b'{"password": nope, "roles": []}'


def _put_malformed(es):
    return es.perform_request(
        "PUT",
        "/_security/user/bad_json_user",
        headers={"content-type": "application/json", "accept": "application/json"},
        body=MALFORMED_USER_BODY,
    )


def test_malformed_json_is_x_content_parse_exception(es):
    with pytest.raises(BadRequestError) as caught:
        _put_malformed(es)
    assert caught.value.message == "x_content_parse_exception"
    assert caught.value.body["status"] == 400


def test_malformed_json_root_cause_is_the_parse_exception(es):
    # ElasticsearchException.guessRootCauses stops at an XContentParseException whose cause is not an
    # Elasticsearch exception (Jackson's), so the root cause is the x_content_parse_exception itself.
    with pytest.raises(BadRequestError) as caught:
        _put_malformed(es)
    assert caught.value.body["error"]["root_cause"][0]["type"] == "x_content_parse_exception"


USERNAME_RULES = (
    "User names must be at least 1 and no more than 507 characters. They can contain alphanumeric characters "
    "(a-z, A-Z, 0-9), spaces, punctuation, and printable symbols in the Basic Latin (ASCII) block. Leading or "
    "trailing whitespace is not allowed."
)


@pytest.mark.parametrize("username", [" leading_space", "trailing_space ", "j\u00f6rg", "x" * 508])
def test_invalid_username_is_a_validation_error(es, username):
    with pytest.raises(BadRequestError) as caught:
        es.security.put_user(username=username, password="valid-pass-1", roles=[])
    error = caught.value
    assert error.message == "action_request_validation_exception"
    assert error_reason(error) == f"Validation Failed: 1: {USERNAME_RULES};"


@pytest.mark.parametrize(
    "username", ["elastic", "kibana", "kibana_system", "logstash_system", "beats_system", "apm_system", "remote_monitoring_user"]
)
def test_reserved_user_cannot_be_put(es, username):
    # Elasticsearch 9 (TransportPutUserAction.validateRequest). The older wording
    # `Username [elastic] is reserved and may not be used.` now comes only from the `users` CLI.
    with pytest.raises(BadRequestError) as caught:
        es.security.put_user(username=username, password="valid-pass-1", roles=[])
    error = caught.value
    assert error.message == "action_request_validation_exception"
    assert error_reason(error) == (
        f"Validation Failed: 1: user [{username}] is reserved and only the password can be changed;"
    )


def test_body_over_max_content_length_is_413(server_factory):
    small = server_factory("--max-content-length", "1kb")
    es = small.client()
    es.security.put_user(username="small_ok", password="small-pass-1", roles=[])
    with pytest.raises(ApiError) as caught:
        es.security.put_user(username="too_big", password="small-pass-1", roles=[], metadata={"blob": "x" * 4096})
    error = caught.value
    assert error.status_code == 413
    assert error.meta.headers["X-Elastic-Product"] == "Elasticsearch"
    assert error.meta.headers["Content-Type"].startswith("application/json")
    assert isinstance(error.body, dict) and error.body["status"] == 413
    # the server still answers after the rejection
    assert es.security.authenticate()["username"] == "elastic"


# -- media types --------------------------------------------------------------------------------------------------


def test_compatible_with_7_is_rejected(es):
    with pytest.raises(BadRequestError) as caught:
        es.perform_request("GET", "/_security/_authenticate", headers={"accept": COMPAT_7})
    error = caught.value
    assert error.message == "media_type_header_exception"
    assert error.meta.headers["X-Elastic-Product"] == "Elasticsearch"
    cause = error.body["error"]["caused_by"]
    assert cause["type"] == "status_exception"
    assert cause["reason"].startswith("Accept version must be either version 9 or 8, but found 7"), cause


def test_compatible_with_7_error_matches_elasticsearch(es):
    # RestRequest wraps the version error in MediaTypeHeaderException(e, "Accept", "Content-Type"); the
    # message prints a Java Set.of(...) (any order), and the exception (not an ES exception) is the root cause.
    with pytest.raises(BadRequestError) as caught:
        es.perform_request("GET", "/_security/_authenticate", headers={"accept": COMPAT_7})
    error = caught.value.body["error"]
    assert error["reason"] in (
        "Invalid media-type value on headers [Content-Type, Accept]",
        "Invalid media-type value on headers [Accept, Content-Type]",
    )
    assert error["root_cause"][0]["type"] == "media_type_header_exception"
    assert error["root_cause"][0]["reason"] == error["reason"]


@pytest.mark.parametrize("media_type", [COMPAT_8, COMPAT_9, "application/json"])
def test_compatible_media_types_are_accepted(es, media_type):
    response = es.perform_request(
        "PUT",
        "/_security/user/media_type_user",
        headers={"accept": media_type, "content-type": media_type},
        body={"password": "media-pass-1", "roles": []},
    )
    assert response.meta.status == 200
    assert "created" in response.body


def test_content_type_on_a_bodyless_request_is_accepted(server):
    # the Node client sends Content-Type even on bodyless GETs
    response = server.raw("GET", "/_security/_authenticate", headers={"Content-Type": COMPAT_9, "Accept": COMPAT_9})
    assert response.status == 200, response


# -- global parameters --------------------------------------------------------------------------------------------


def test_pretty_renders_indented_json(server, es):
    response = server.raw("GET", "/?pretty")
    assert response.status == 200
    text = response.body.decode()
    assert text.startswith("{\n  ")
    assert json.loads(text)["tagline"] == "You Know, for Search"
    assert es.info(pretty=True)["tagline"] == "You Know, for Search"


def test_pretty_matches_elasticsearch_layout(server):
    text = server.raw("GET", "/?pretty").body.decode()
    assert '  "tagline" : "You Know, for Search"' in text


def test_pretty_false_is_compact(server):
    response = server.raw("GET", "/_security/_authenticate?pretty=false")
    assert b"\n" not in response.body.strip()


def test_filter_path_selects_fields(es):
    assert es.info(filter_path="version.number,tagline").body == {
        "version": {"number": es.info()["version"]["number"]},
        "tagline": "You Know, for Search",
    }
    assert es.security.get_user(username="elastic", filter_path="*.username").body == {"elastic": {"username": "elastic"}}
    assert es.security.authenticate(filter_path=["authentication_realm.name", "username"]).body == {
        "username": "elastic",
        "authentication_realm": {"name": "reserved"},
    }


def test_filter_path_excludes_fields(es):
    body = es.security.authenticate(filter_path="-metadata,-lookup_realm,-authentication_realm").body
    assert "metadata" not in body and "lookup_realm" not in body
    assert body["username"] == "elastic"


def test_filter_path_with_no_match_is_empty(es):
    assert es.security.authenticate(filter_path="no_such_field").body == {}
