"""The token service through the official client: get_token (password, client_credentials, refresh_token),
bearer authentication, invalidate_token, expiry, restarts, and profile activation by access token."""

from __future__ import annotations

import time

import pytest
from elasticsearch import AuthenticationException, AuthorizationException, BadRequestError, NotFoundError

from _support import ELASTIC_PASSWORD, error_reason, error_type

USER = "token_user"
USER_PASSWORD = "token-user-password"
EXPIRED_CHALLENGE = 'Bearer realm="security", error="invalid_token", error_description="The access token expired"'


@pytest.fixture(scope="module", autouse=True)
def token_user(es):
    es.security.put_user(username=USER, password=USER_PASSWORD, roles=["viewer"], full_name="Token User")
    yield
    es.security.delete_user(username=USER)


def password_token(es, username=USER, password=USER_PASSWORD):
    return es.security.get_token(grant_type="password", username=username, password=password).body


def authenticate_with(es, access_token):
    return es.options(bearer_auth=access_token).security.authenticate().body


def assert_token_expired(es, access_token):
    with pytest.raises(AuthenticationException) as caught:
        authenticate_with(es, access_token)
    error = caught.value
    assert error.status_code == 401
    assert error_type(error) == "security_exception"
    assert error_reason(error) == "token expired"
    assert error.meta.headers["WWW-Authenticate"] == EXPIRED_CHALLENGE


def config_file(tmp_path, text):
    path = tmp_path / "profiled.yml"
    path.write_text(text)
    return str(path)


# -- get_token -----------------------------------------------------------------------------------------------------


def test_password_grant_returns_a_bearer_token(es):
    token = password_token(es)
    assert token["type"] == "Bearer"
    assert token["expires_in"] == 1200
    assert token["access_token"] and token["refresh_token"]
    assert "scope" not in token
    assert "kerberos_authentication_response_token" not in token
    assert token["authentication"]["username"] == USER
    assert token["authentication"]["full_name"] == "Token User"
    assert token["authentication"]["authentication_realm"] == {"name": "default_native", "type": "native"}
    assert token["authentication"]["authentication_type"] == "realm"


def test_bearer_token_authenticates_as_the_user(es):
    token = password_token(es)
    me = authenticate_with(es, token["access_token"])
    assert me["username"] == USER
    assert me["roles"] == ["viewer"]
    assert me["authentication_type"] == "token"
    assert me["authentication_realm"] == {"name": "default_native", "type": "native"}
    assert me["lookup_realm"] == {"name": "default_native", "type": "native"}


def test_client_credentials_grant_has_no_refresh_token(es):
    token = es.security.get_token(grant_type="client_credentials", scope="whatever").body
    assert "refresh_token" not in token
    assert token["scope"] == "full"
    assert authenticate_with(es, token["access_token"])["username"] == "elastic"


def test_validation_errors_use_oauth2_bodies(es):
    with pytest.raises(BadRequestError) as caught:
        es.security.get_token(grant_type="password", username=USER)
    assert caught.value.body == {"error": "invalid_request", "error_description": "Validation Failed: 1: password is missing;"}
    assert caught.value.message == "invalid_request"
    with pytest.raises(BadRequestError) as caught:
        es.security.get_token(grant_type="implicit")
    assert caught.value.body == {
        "error": "unsupported_grant_type",
        "error_description": "Validation Failed: 1: grant_type only supports the values: "
        "[password, _kerberos, refresh_token, client_credentials];",
    }


def test_wrong_password_is_a_401_for_the_token_action(es):
    with pytest.raises(AuthenticationException) as caught:
        password_token(es, password="not-the-password")
    assert error_reason(caught.value) == (
        f"unable to authenticate user [{USER}] for action [cluster:admin/xpack/security/token/create]"
    )


# -- refresh_token grant -------------------------------------------------------------------------------------------


def test_refresh_gives_a_new_pair_once_and_repeats_it_within_30_seconds(es):
    token = password_token(es)
    refreshed = es.security.get_token(grant_type="refresh_token", refresh_token=token["refresh_token"]).body
    assert refreshed["access_token"] != token["access_token"]
    assert refreshed["refresh_token"] != token["refresh_token"]
    assert refreshed["expires_in"] == 1200
    assert refreshed["authentication"]["username"] == USER
    assert refreshed["authentication"]["authentication_type"] == "token"
    again = es.security.get_token(grant_type="refresh_token", refresh_token=token["refresh_token"]).body
    assert (again["access_token"], again["refresh_token"]) == (refreshed["access_token"], refreshed["refresh_token"])
    assert authenticate_with(es, refreshed["access_token"])["username"] == USER
    chained = es.security.get_token(grant_type="refresh_token", refresh_token=refreshed["refresh_token"]).body
    assert chained["access_token"] != refreshed["access_token"]


def test_refresh_failures_are_invalid_grants(es, client_for):
    token = password_token(es)
    es.security.put_user(username="token_client", password=USER_PASSWORD, roles=["superuser"])
    other_client = client_for("token_client", USER_PASSWORD)
    with pytest.raises(BadRequestError) as caught:
        other_client.security.get_token(grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert caught.value.body == {"error": "invalid_grant", "error_description": "tokens must be refreshed by the creating client"}
    with pytest.raises(BadRequestError) as caught:
        es.security.get_token(grant_type="refresh_token", refresh_token="not-a-refresh-token")
    assert caught.value.body == {"error": "invalid_grant", "error_description": "could not refresh the requested token"}
    assert caught.value.message == "invalid_grant"


def test_refresh_needs_the_token_privilege(client_for):
    client = client_for(USER, USER_PASSWORD)
    with pytest.raises(AuthorizationException) as caught:
        client.security.get_token(grant_type="refresh_token", refresh_token="whatever")
    assert caught.value.status_code == 403
    assert error_reason(caught.value).startswith(
        f"action [cluster:admin/xpack/security/token/refresh] is unauthorized for user [{USER}]"
    )


# -- invalidate_token ----------------------------------------------------------------------------------------------


def test_invalidated_access_token_is_refused_at_once(es):
    token = password_token(es)
    assert authenticate_with(es, token["access_token"])["username"] == USER
    result = es.security.invalidate_token(token=token["access_token"]).body
    assert result == {"invalidated_tokens": 1, "previously_invalidated_tokens": 0, "error_count": 0}
    assert_token_expired(es, token["access_token"])
    again = es.security.invalidate_token(token=token["access_token"]).body
    assert again == {"invalidated_tokens": 0, "previously_invalidated_tokens": 1, "error_count": 0}


def test_invalidated_refresh_token_cannot_refresh(es):
    token = password_token(es)
    result = es.security.invalidate_token(refresh_token=token["refresh_token"]).body
    assert result == {"invalidated_tokens": 1, "previously_invalidated_tokens": 0, "error_count": 0}
    with pytest.raises(BadRequestError) as caught:
        es.security.get_token(grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert caught.value.body == {"error": "invalid_grant", "error_description": "token has been invalidated"}
    # The access token of the pair stays valid.
    assert authenticate_with(es, token["access_token"])["username"] == USER


def test_unknown_token_is_a_404_with_zero_counts(es):
    password_token(es)
    with pytest.raises(NotFoundError) as caught:
        es.security.invalidate_token(token="dGhpcyBpcyBub3QgYSByZWFsIHRva2VuIGJ1dCBpdCBpcyBvbmx5IHRlc3QgZGF0YS4=")
    assert caught.value.body == {"invalidated_tokens": 0, "previously_invalidated_tokens": 0, "error_count": 0}


def test_invalidate_by_username_and_realm(es):
    es.security.put_user(username="token_user_2", password=USER_PASSWORD, roles=[])
    tokens = [password_token(es, "token_user_2") for _ in range(2)]
    result = es.security.invalidate_token(username="token_user_2").body
    # Each password grant holds an access and a refresh token.
    assert result == {"invalidated_tokens": 4, "previously_invalidated_tokens": 0, "error_count": 0}
    for token in tokens:
        assert_token_expired(es, token["access_token"])
    other = password_token(es, "token_user_2")
    result = es.security.invalidate_token(realm_name="default_native", username="token_user_2").body
    assert result == {"invalidated_tokens": 2, "previously_invalidated_tokens": 0, "error_count": 0}
    assert_token_expired(es, other["access_token"])
    assert es.security.invalidate_token(realm_name="saml1").body["invalidated_tokens"] == 0


def test_invalidate_validation_error(es):
    with pytest.raises(BadRequestError) as caught:
        es.security.invalidate_token(token="abc", username=USER)
    assert error_type(caught.value) == "action_request_validation_exception"
    assert error_reason(caught.value) == (
        "Validation Failed: 1: token string must not be provided when realm name or username is specified;"
        "2: token type must not be provided when realm name or username is specified;"
    )


# -- profiles ------------------------------------------------------------------------------------------------------


def test_access_token_activates_the_users_profile(es):
    token = password_token(es)
    profile = es.security.activate_user_profile(grant_type="access_token", access_token=token["access_token"]).body
    assert profile["user"]["username"] == USER
    assert profile["user"]["realm_name"] == "default_native"
    by_password = es.security.activate_user_profile(grant_type="password", username=USER, password=USER_PASSWORD).body
    assert by_password["uid"] == profile["uid"]


# -- settings, restarts, anonymous access --------------------------------------------------------------------------


def test_tokens_expire_after_the_configured_timeout(server_factory, tmp_path):
    server = server_factory("--config", config_file(tmp_path, "xpack.security.authc.token.timeout: 1s\n"))
    es = server.client()
    token = es.security.get_token(grant_type="client_credentials").body
    assert token["expires_in"] == 1
    assert authenticate_with(es, token["access_token"])["username"] == "elastic"
    time.sleep(1.2)
    assert_token_expired(es, token["access_token"])


def test_tokens_survive_a_restart(fresh_server):
    es = fresh_server.client()
    kept = es.security.get_token(grant_type="password", username="elastic", password=ELASTIC_PASSWORD).body
    revoked = es.security.get_token(grant_type="client_credentials").body
    es.security.invalidate_token(token=revoked["access_token"])
    fresh_server.restart()
    es = fresh_server.client()
    assert authenticate_with(es, kept["access_token"])["username"] == "elastic"
    assert_token_expired(es, revoked["access_token"])
    refreshed = es.security.get_token(grant_type="refresh_token", refresh_token=kept["refresh_token"]).body
    assert authenticate_with(es, refreshed["access_token"])["authentication_type"] == "token"


def test_anonymous_token_activates_the_anonymous_profile(server_factory, tmp_path):
    server = server_factory("--config", config_file(tmp_path, "xpack.security.authc.anonymous.roles: superuser\n"))
    anonymous = server.client(None)
    token = anonymous.security.get_token(grant_type="client_credentials").body
    assert token["authentication"]["username"] == "_anonymous"
    assert token["authentication"]["authentication_type"] == "anonymous"
    es = server.client()
    me = authenticate_with(es, token["access_token"])
    assert me["username"] == "_anonymous"
    assert me["authentication_realm"] == {"name": "__anonymous", "type": "__anonymous"}
    assert me["authentication_type"] == "token"
    profile = es.security.activate_user_profile(grant_type="access_token", access_token=token["access_token"]).body
    assert profile["user"]["username"] == "_anonymous"
    assert profile["user"]["realm_name"] == "__anonymous"
