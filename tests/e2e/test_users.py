"""The native users API through the official client: create/update, get, delete, passwords, enable/disable."""

from __future__ import annotations

import pytest
from elasticsearch import AuthenticationException, BadRequestError, NotFoundError

from _support import BASIC_CHALLENGE, ELASTIC_PASSWORD, error_reason, error_type

RESERVED_USERS = {
    "elastic": ["superuser"],
    "kibana_system": ["kibana_system"],
    "logstash_system": ["logstash_system"],
    "beats_system": ["beats_system"],
    "apm_system": ["apm_system"],
    "remote_monitoring_user": ["remote_monitoring_collector", "remote_monitoring_agent"],
}


def assert_cannot_authenticate(client_for, username, password):
    with pytest.raises(AuthenticationException) as caught:
        client_for(username, password).security.authenticate()
    error = caught.value
    assert error.status_code == 401
    assert error.meta.headers["WWW-Authenticate"].startswith(BASIC_CHALLENGE)
    assert error_reason(error) == f"unable to authenticate user [{username}] for REST request [/_security/_authenticate]"


# -- put_user ------------------------------------------------------------------------------------------------------


def test_put_user_reports_created_then_updated(es, client_for):
    assert es.security.put_user(username="u_put", password="u-put-pass-1", roles=["r1"]).body == {"created": True}
    assert es.security.put_user(username="u_put", roles=["r1", "r2"], full_name="Put User").body == {"created": False}
    # an update without a password keeps the old one
    me = client_for("u_put", "u-put-pass-1").security.authenticate().body
    assert me["roles"] == ["r1", "r2"]
    assert me["full_name"] == "Put User"


def test_put_user_with_refresh_parameter(es):
    assert es.security.put_user(username="u_refresh", password="u-refresh-pw", roles=[], refresh=True)["created"] is True
    assert es.security.put_user(username="u_refresh", roles=[], refresh="wait_for")["created"] is False


def test_new_user_without_password_is_rejected(es):
    with pytest.raises(BadRequestError) as caught:
        es.security.put_user(username="u_no_password", roles=[])
    assert caught.value.message == "validation_exception"
    assert error_reason(caught.value) == (
        "Validation Failed: 1: password must be specified unless you are updating an existing user;"
    )


def test_new_user_without_password_is_a_400_naming_the_problem(es):
    with pytest.raises(BadRequestError) as caught:
        es.security.put_user(username="u_no_password", roles=[])
    assert "password must be specified unless you are updating an existing user" in error_reason(caught.value)
    with pytest.raises(NotFoundError):
        es.security.get_user(username="u_no_password")


def test_short_password_is_rejected(es):
    with pytest.raises(BadRequestError) as caught:
        es.security.put_user(username="u_short", password="12345", roles=[])
    assert caught.value.message == "validation_exception"
    assert error_reason(caught.value) == "Validation Failed: 1: passwords must be at least [6] characters long;"


def test_put_user_metadata_keys_may_not_start_with_underscore(es):
    with pytest.raises(BadRequestError) as caught:
        es.security.put_user(username="u_meta", password="u-meta-pass", roles=[], metadata={"_secret": 1})
    assert caught.value.message == "action_request_validation_exception"
    assert error_reason(caught.value) == "Validation Failed: 1: metadata keys may not start with [_];"


# -- get_user --------------------------------------------------------------------------------------------------------


def test_get_user_with_unset_fields_shows_nulls(es):
    es.security.put_user(username="u_shape", password="u-shape-pass", roles=[])
    assert es.security.get_user(username="u_shape").body == {
        "u_shape": {
            "username": "u_shape",
            "roles": [],
            "full_name": None,
            "email": None,
            "metadata": {},
            "enabled": True,
        }
    }


def test_get_user_with_every_field(es):
    es.security.put_user(
        username="u_full",
        password="u-full-pass",
        roles=["a", "b"],
        full_name="Full Name",
        email="full@example.com",
        metadata={"level": 3, "nested": {"tags": ["x", "y"]}},
        enabled=False,
    )
    assert es.security.get_user(username="u_full").body == {
        "u_full": {
            "username": "u_full",
            "roles": ["a", "b"],
            "full_name": "Full Name",
            "email": "full@example.com",
            "metadata": {"level": 3, "nested": {"tags": ["x", "y"]}},
            "enabled": False,
        }
    }


def test_get_several_users_skips_missing_ones(es):
    es.security.put_user(username="u_many_1", password="u-many-pass", roles=[])
    es.security.put_user(username="u_many_2", password="u-many-pass", roles=[])
    response = es.security.get_user(username=["u_many_1", "u_many_2", "u_many_missing"])
    assert response.meta.status == 200
    assert set(response.body) == {"u_many_1", "u_many_2"}


def test_get_all_users_includes_reserved_users(es):
    es.security.put_user(username="u_all", password="u-all-pass", roles=["r"])
    users = es.security.get_user().body
    for username, roles in RESERVED_USERS.items():
        assert username in users, username
        assert users[username]["username"] == username
        assert users[username]["roles"] == roles
        assert users[username]["metadata"]["_reserved"] is True
        assert users[username]["enabled"] is True
    assert users["u_all"]["roles"] == ["r"]
    assert "_reserved" not in users["u_all"]["metadata"]


def test_get_reserved_user(es):
    assert es.security.get_user(username="elastic").body == {
        "elastic": {
            "username": "elastic",
            "roles": ["superuser"],
            "full_name": None,
            "email": None,
            "metadata": {"_reserved": True},
            "enabled": True,
        }
    }


def test_get_missing_user_is_404_with_empty_body(es):
    with pytest.raises(NotFoundError) as caught:
        es.security.get_user(username="u_does_not_exist")
    assert caught.value.status_code == 404
    assert caught.value.body == {}
    assert caught.value.meta.headers["X-Elastic-Product"] == "Elasticsearch"


# -- delete_user -------------------------------------------------------------------------------------------------------


def test_delete_user_found_then_missing(es, client_for):
    es.security.put_user(username="u_delete", password="u-delete-pass", roles=[])
    client_for("u_delete", "u-delete-pass").security.authenticate()
    assert es.security.delete_user(username="u_delete").body == {"found": True}
    with pytest.raises(NotFoundError) as caught:
        es.security.delete_user(username="u_delete")
    assert caught.value.body == {"found": False}
    with pytest.raises(NotFoundError):
        es.security.get_user(username="u_delete")
    assert_cannot_authenticate(client_for, "u_delete", "u-delete-pass")


def test_reserved_user_cannot_be_deleted(es):
    with pytest.raises(BadRequestError) as caught:
        es.security.delete_user(username="kibana_system")
    assert caught.value.message == "illegal_argument_exception"
    assert error_reason(caught.value) == "user [kibana_system] is reserved and cannot be deleted"


def test_reserved_user_deletion_is_refused(es):
    with pytest.raises(BadRequestError) as caught:
        es.security.delete_user(username="kibana_system")
    assert "user [kibana_system] is reserved and cannot be deleted" in error_reason(caught.value)
    assert "kibana_system" in es.security.get_user(username="kibana_system")


# -- passwords -----------------------------------------------------------------------------------------------------------


def test_change_other_users_password(es, client_for):
    es.security.put_user(username="u_pw_other", password="old-pass-1", roles=[])
    client_for("u_pw_other", "old-pass-1").security.authenticate()
    assert es.security.change_password(username="u_pw_other", password="new-pass-1").body == {}
    assert client_for("u_pw_other", "new-pass-1").security.authenticate()["username"] == "u_pw_other"
    assert_cannot_authenticate(client_for, "u_pw_other", "old-pass-1")


def test_change_own_password(es, client_for):
    es.security.put_user(username="u_pw_own", password="own-old-pass", roles=[])
    own = client_for("u_pw_own", "own-old-pass")
    assert own.security.change_password(password="own-new-pass").body == {}
    assert client_for("u_pw_own", "own-new-pass").security.authenticate()["username"] == "u_pw_own"
    assert_cannot_authenticate(client_for, "u_pw_own", "own-old-pass")


def test_change_password_with_a_hash(es, client_for):
    es.security.put_user(username="u_pw_hash", password="hash-old-pass", roles=[])
    # bcrypt (cost 10) of "s3krit-password", from Elasticsearch's Hasher test vectors
    bcrypt_hash = "$2a$10$hZ210etBMp4qDibBlYuM5OMol9kWfxP8l/q45N.DHeFHDglItKFHK"
    es.security.change_password(username="u_pw_hash", password_hash=bcrypt_hash)
    assert client_for("u_pw_hash", "s3krit-password").security.authenticate()["username"] == "u_pw_hash"
    assert_cannot_authenticate(client_for, "u_pw_hash", "hash-old-pass")


def test_change_reserved_user_password(es, client_for):
    es.security.change_password(username="kibana_system", password="kibana-new-pass")
    me = client_for("kibana_system", "kibana-new-pass").security.authenticate().body
    assert me["username"] == "kibana_system"
    assert me["authentication_realm"] == {"name": "reserved", "type": "reserved"}


def test_change_password_of_missing_user(es):
    with pytest.raises(BadRequestError) as caught:
        es.security.change_password(username="u_pw_missing", password="whatever-pass")
    assert caught.value.message == "validation_exception"
    assert error_reason(caught.value) == "Validation Failed: 1: user must exist in order to change password;"


# -- enable / disable ---------------------------------------------------------------------------------------------------------


def test_disabled_user_cannot_authenticate_until_enabled(es, client_for):
    es.security.put_user(username="u_toggle", password="toggle-pass", roles=[])
    client_for("u_toggle", "toggle-pass").security.authenticate()  # warms any authentication cache
    assert es.security.disable_user(username="u_toggle").body == {}
    assert es.security.get_user(username="u_toggle")["u_toggle"]["enabled"] is False
    assert_cannot_authenticate(client_for, "u_toggle", "toggle-pass")
    assert es.security.enable_user(username="u_toggle").body == {}
    assert es.security.get_user(username="u_toggle")["u_toggle"]["enabled"] is True
    assert client_for("u_toggle", "toggle-pass").security.authenticate()["username"] == "u_toggle"


def test_disable_and_enable_a_reserved_user(es, client_for):
    es.security.change_password(username="beats_system", password="beats-pass-1")
    es.security.disable_user(username="beats_system")
    assert es.security.get_user(username="beats_system")["beats_system"]["enabled"] is False
    assert_cannot_authenticate(client_for, "beats_system", "beats-pass-1")
    es.security.enable_user(username="beats_system")
    assert client_for("beats_system", "beats-pass-1").security.authenticate()["username"] == "beats_system"


def test_users_may_not_disable_themselves_message(es, client_for):
    es.security.put_user(username="u_self", password="self-pass-1", roles=["superuser"])
    own = client_for("u_self", "self-pass-1")
    with pytest.raises(BadRequestError) as caught:
        own.security.disable_user(username="u_self")
    assert "users may not update the enabled status of their own account" in error_reason(caught.value)
    with pytest.raises(BadRequestError):
        es.security.disable_user(username="elastic")
    assert own.security.authenticate()["enabled"] is True


def test_users_may_not_disable_themselves(es):
    with pytest.raises(BadRequestError) as caught:
        es.security.disable_user(username="elastic")
    assert caught.value.message == "illegal_argument_exception"
    assert error_reason(caught.value) == "users may not update the enabled status of their own account"


def test_disable_missing_user(es):
    with pytest.raises(BadRequestError) as caught:
        es.security.disable_user(username="u_toggle_missing")
    assert caught.value.message == "validation_exception"
    assert error_reason(caught.value) == "Validation Failed: 1: only existing users can be disabled;"


# -- with_profile_uid ------------------------------------------------------------------------------------------------------------


def test_get_user_with_profile_uid_and_no_profile(es):
    es.security.put_user(username="u_profile", password="profile-pass", roles=[])
    body = es.security.get_user(username="u_profile", with_profile_uid=True).body
    assert body["u_profile"]["username"] == "u_profile"
    assert "profile_uid" not in body["u_profile"]


def test_elastic_password_unchanged_by_this_module(client_for):
    assert client_for("elastic", ELASTIC_PASSWORD).security.authenticate()["username"] == "elastic"
