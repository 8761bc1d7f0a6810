"""The JWT realm and role mappings through the official client, with tokens minted by PyJWT.

One server for the module, started with `--config` on a YAML file in Elasticsearch's setting names: a file
realm, the native realm and a JWT realm (HMAC key plus an RSA/EC JWK set file) in one security domain, the
JWT client secret passed in the environment as a secure setting.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from dataclasses import dataclass

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from elasticsearch import AuthenticationException, BadRequestError, NotFoundError

from _support import ProfiledServer, error_reason, error_type

ISSUER = "https://issuer.example.com"
AUDIENCE = "kibana"
SHARED_SECRET = "e2e-client-shared-secret"
HMAC_KEY = "e2e-hmac-key-that-is-long-enough-for-hs256-0123456789"
FILE_PASSWORD = "file-realm-password"
NATIVE_PASSWORD = "native-realm-password"
SECRET_ENV = "PROFILED_SECURE_XPACK_SECURITY_AUTHC_REALMS_JWT_JWT1_CLIENT_AUTHENTICATION_SHARED_SECRET"
ACTIVATE_ACTION = "cluster:admin/xpack/security/profile/activate"


@dataclass
class Keys:
    rsa: rsa.RSAPrivateKey
    ec: ec.EllipticCurvePrivateKey


def pbkdf2_hash(password: str) -> str:
    """An Elasticsearch `{PBKDF2}` hash (PBKDF2-HMAC-SHA512, 10000 iterations) for the users file."""
    salt = os.urandom(32)
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, 10000, 32)
    return f"{{PBKDF2}}10000${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"


def jwk(public_key, kid: str) -> dict:
    algorithm = jwt.algorithms.RSAAlgorithm if isinstance(public_key, rsa.RSAPublicKey) else jwt.algorithms.ECAlgorithm
    key = json.loads(algorithm.to_jwk(public_key))
    key.update(kid=kid, use="sig")
    return key


def write_config(config_dir, keys: Keys) -> str:
    config_dir.mkdir(parents=True, exist_ok=True)
    jwks = {"keys": [jwk(keys.rsa.public_key(), "rsa-1"), jwk(keys.ec.public_key(), "ec-1")]}
    (config_dir / "jwks.json").write_text(json.dumps(jwks))
    (config_dir / "users").write_text(f"joe:{pbkdf2_hash(FILE_PASSWORD)}\n")
    (config_dir / "users_roles").write_text("viewer:joe\n")
    config = config_dir / "profiled.yml"
    config.write_text(
        f"""\
xpack.security.authc:
  realms:
    file.default_file.order: 0
    native.default_native.order: 1
    jwt.jwt1:
      order: 2
      allowed_issuer: {ISSUER}
      allowed_audiences: [{AUDIENCE}, other]
      allowed_signature_algorithms: [HS256, RS256, ES256]
      claims.principal: sub
      claims.groups: groups
      claims.name: name
      claims.mail: email
      hmac_key: {HMAC_KEY}
      pkc_jwkset_path: jwks.json
      client_authentication.type: shared_secret
  domains.d1.realms: [default_native, default_file, jwt1]
"""
    )
    return str(config)


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys(rsa=rsa.generate_private_key(public_exponent=65537, key_size=2048), ec=ec.generate_private_key(ec.SECP256R1()))


@pytest.fixture(scope="module")
def jwt_server(tmp_path_factory, keys):
    base = tmp_path_factory.mktemp("profiled-jwt")
    config = write_config(base / "config", keys)
    server = ProfiledServer(base / "data", base / "server.log", extra_args=["--config", config], env={SECRET_ENV: SHARED_SECRET})
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def admin(jwt_server):
    client = jwt_server.client()
    yield client
    client.close()


def claims(subject: str = "joe", **overrides) -> dict:
    now = int(time.time())
    token_claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": subject,
        "iat": now,
        "exp": now + 600,
        "name": "Joe Bloggs",
        "email": "joe@example.com",
        "groups": ["engineering", "on-call"],
    }
    token_claims.update(overrides)
    return {key: value for key, value in token_claims.items() if value is not None}


def hmac_token(**overrides) -> str:
    return jwt.encode(claims(**overrides), HMAC_KEY, algorithm="HS256")


def bearer(client, token: str, secret: str | None = SHARED_SECRET):
    headers = {"Authorization": f"Bearer {token}"}
    if secret is not None:
        headers["ES-Client-Authentication"] = f"SharedSecret {secret}"
    return client.options(headers=headers)


def activate_with_jwt(client, token: str, secret: str | None = SHARED_SECRET):
    body = {"grant_type": "access_token", "access_token": token}
    if secret is not None:
        body["client_authentication"] = {"scheme": "SharedSecret", "value": secret}
    return client.security.activate_user_profile(body=body)


# -- authentication ------------------------------------------------------------------------------------------------


def test_a_jwt_authenticates_through_the_official_client(admin):
    me = bearer(admin, hmac_token()).security.authenticate().body
    assert me["username"] == "joe"
    assert me["full_name"] == "Joe Bloggs"
    assert me["email"] == "joe@example.com"
    assert me["authentication_realm"] == {"name": "jwt1", "type": "jwt", "domain": "d1"}
    assert me["authentication_type"] == "realm"
    assert me["metadata"]["jwt_token_type"] == "id_token"
    assert me["metadata"]["jwt_claim_groups"] == ["engineering", "on-call"]


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_public_key_jwts_verify_with_the_jwk_set_file(admin, keys, algorithm):
    key, kid = (keys.rsa, "rsa-1") if algorithm == "RS256" else (keys.ec, "ec-1")
    token = jwt.encode(claims(aud=["other"]), key, algorithm=algorithm, headers={"kid": kid})
    assert bearer(admin, token).security.authenticate()["username"] == "joe"


def refused_tokens(keys):
    now = int(time.time())
    yield "expired", hmac_token(exp=now - 3600, iat=now - 7200)
    yield "foreign issuer", hmac_token(iss="https://elsewhere.example.com")
    yield "foreign audience", hmac_token(aud="somebody-else")
    yield "wrong key", jwt.encode(claims(), "another-hmac-key-that-is-long-enough-0123456789", algorithm="HS256")
    yield "unsigned", jwt.encode(claims(), None, algorithm="none")
    yield "algorithm not allowed", jwt.encode(claims(), HMAC_KEY + "-and-more-for-hs512-0123456789abcdef", algorithm="HS512")
    other_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    yield "unknown rsa key", jwt.encode(claims(), other_rsa, algorithm="RS256")


def test_refused_jwts_are_401s(admin, keys):
    for description, token in refused_tokens(keys):
        with pytest.raises(AuthenticationException) as caught:
            bearer(admin, token).security.authenticate()
        assert caught.value.status_code == 401, description
        assert error_type(caught.value) == "security_exception", description
        assert caught.value.meta.headers.get("WWW-Authenticate"), description


@pytest.mark.parametrize("secret", [None, "wrong-secret"])
def test_the_client_shared_secret_is_required(admin, secret):
    with pytest.raises(AuthenticationException) as caught:
        bearer(admin, hmac_token(), secret=secret).security.authenticate()
    assert caught.value.status_code == 401
    assert error_type(caught.value) == "security_exception"


# -- role mappings -------------------------------------------------------------------------------------------------


def test_role_mapping_crud(admin):
    rules = {"all": [{"field": {"realm.name": "jwt1"}}, {"any": [{"field": {"groups": "on-*"}}, {"field": {"username": "/adm.*/"}}]}]}
    assert admin.security.put_role_mapping(name="e2e-crud", roles=["viewer"], enabled=True, rules=rules, metadata={"v": 1}).body == {
        "role_mapping": {"created": True}
    }
    assert admin.security.put_role_mapping(name="e2e-crud", roles=["viewer", "editor"], enabled=True, rules=rules).body == {
        "role_mapping": {"created": False}
    }
    fetched = admin.security.get_role_mapping(name="e2e-crud").body
    assert fetched == {"e2e-crud": {"enabled": True, "roles": ["viewer", "editor"], "rules": rules, "metadata": {}}}
    assert "e2e-crud" in admin.security.get_role_mapping().body
    with pytest.raises(NotFoundError) as missing:
        admin.security.get_role_mapping(name="e2e-missing")
    assert missing.value.body == {}
    assert admin.security.delete_role_mapping(name="e2e-crud").body == {"found": True}
    with pytest.raises(NotFoundError) as gone:
        admin.security.delete_role_mapping(name="e2e-crud")
    assert gone.value.body == {"found": False}


def test_role_mapping_errors_are_elasticsearch_errors(admin):
    with pytest.raises(BadRequestError) as caught:
        admin.security.put_role_mapping(name="e2e-bad", roles=["viewer"], enabled=True, rules={"field": {"username": "x"}, "any": []})
    assert error_type(caught.value) == "parsing_exception"
    assert error_reason(caught.value).endswith("[role-mapping] failed to parse field [rules]")
    assert caught.value.body["error"]["caused_by"]["caused_by"] == {
        "type": "parse_exception",
        "reason": "failed to parse rules expression. object [e2e-bad] contains multiple fields",
    }
    with pytest.raises(BadRequestError) as caught:
        admin.security.put_role_mapping(name="e2e-bad", roles=["viewer"], enabled=True)
    assert error_reason(caught.value) == "failed to parse role-mapping [e2e-bad]. missing field [rules]"
    with pytest.raises(BadRequestError) as caught:
        admin.security.put_role_mapping(name="e2e-bad", roles=[], enabled=True, rules={"field": {"username": "*"}})
    assert error_type(caught.value) == "action_request_validation_exception"
    assert error_reason(caught.value) == "Validation Failed: 1: role-mapping roles or role-templates are missing;"


def test_role_mappings_give_jwt_users_roles_at_once(admin):
    token = hmac_token(sub="mapped-user")
    assert bearer(admin, token).security.authenticate()["roles"] == []
    admin.security.put_role_mapping(
        name="e2e-oncall", roles=["superuser"], enabled=True, rules={"field": {"groups": "on-call"}}
    )
    try:
        me = bearer(admin, token).security.authenticate()
        assert me["roles"] == ["superuser"]
        # The mapped role authorizes the JWT user.
        assert "e2e-oncall" in bearer(admin, token).security.get_role_mapping().body
        admin.security.put_role_mapping(
            name="e2e-templated",
            role_templates=[{"template": {"source": "{{#tojson}}groups{{/tojson}}"}, "format": "json"}],
            enabled=True,
            rules={"field": {"username": "mapped-*"}},
        )
        assert bearer(admin, token).security.authenticate()["roles"] == ["engineering", "on-call", "superuser"]
    finally:
        admin.security.delete_role_mapping(name="e2e-oncall")
        admin.security.delete_role_mapping(name="e2e-templated")
    assert bearer(admin, token).security.authenticate()["roles"] == []


# -- profiles ------------------------------------------------------------------------------------------------------


def test_activation_with_a_jwt(admin):
    profile = activate_with_jwt(admin, hmac_token(sub="jwt-only")).body
    assert profile["user"]["username"] == "jwt-only"
    assert profile["user"]["realm_name"] == "jwt1"
    assert profile["user"]["realm_domain"] == "d1"
    assert profile["user"]["email"] == "joe@example.com"
    assert profile["uid"].endswith("_0")
    for secret in [None, "wrong-secret"]:
        with pytest.raises(AuthenticationException) as caught:
            activate_with_jwt(admin, hmac_token(sub="jwt-only"), secret=secret)
        assert error_reason(caught.value) == f"unable to authenticate user [_bearer_token] for action [{ACTIVATE_ACTION}]"


def test_one_profile_across_the_domain(admin):
    admin.security.put_user(username="joe", password=NATIVE_PASSWORD, roles=["viewer"])
    by_file = admin.security.activate_user_profile(grant_type="password", username="joe", password=FILE_PASSWORD).body
    by_native = admin.security.activate_user_profile(grant_type="password", username="joe", password=NATIVE_PASSWORD).body
    by_jwt = activate_with_jwt(admin, hmac_token()).body
    assert [profile["user"]["realm_name"] for profile in (by_file, by_native, by_jwt)] == ["default_file", "default_native", "jwt1"]
    assert by_file["uid"] == by_native["uid"] == by_jwt["uid"]
    assert all(profile["user"]["realm_domain"] == "d1" for profile in (by_file, by_native, by_jwt))
