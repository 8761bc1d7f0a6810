"""Durability across graceful restarts and crashes, first-start bootstrap, and the command-line tools."""

from __future__ import annotations

import re

import pytest
from elasticsearch import AuthenticationException, NotFoundError

from _support import ELASTIC_PASSWORD, run_cli


def assert_rejected(server, username, password):
    with pytest.raises(AuthenticationException):
        server.client(username, password).security.authenticate()


def authenticate(server, username, password):
    return server.client(username, password).security.authenticate().body


# -- persistence -------------------------------------------------------------------------------------------------------


def test_graceful_stop_after_serving_exits_zero(fresh_server):
    fresh_server.client().security.authenticate()
    assert fresh_server.stop() == 0


def test_sigterm_right_after_listening_is_graceful(fresh_server):
    assert fresh_server.stop() == 0


def test_state_survives_a_graceful_restart(fresh_server):
    es = fresh_server.client()
    es.security.put_user(username="p_user", password="p-old-pass", roles=["p_role"], full_name="Persisted")
    es.security.put_role(name="p_role", cluster=["monitor"])
    es.security.put_user(username="p_disabled", password="p-dis-pass", roles=[])
    es.security.put_user(username="p_deleted", password="p-del-pass", roles=[])
    es.security.change_password(username="p_user", password="p-new-pass")
    es.security.disable_user(username="p_disabled")
    es.security.delete_user(username="p_deleted")
    es.security.change_password(username="elastic", password="elastic-new-pass")

    assert fresh_server.restart() is fresh_server

    es = fresh_server.client("elastic", "elastic-new-pass")
    assert es.security.get_user(username="p_user")["p_user"]["full_name"] == "Persisted"
    assert "p_role" in es.security.get_role(name="p_role")
    assert es.security.get_user(username="p_disabled")["p_disabled"]["enabled"] is False
    with pytest.raises(NotFoundError):
        es.security.get_user(username="p_deleted")
    assert authenticate(fresh_server, "p_user", "p-new-pass")["roles"] == ["p_role"]
    assert_rejected(fresh_server, "p_user", "p-old-pass")
    assert_rejected(fresh_server, "p_disabled", "p-dis-pass")
    # ELASTIC_PASSWORD only seeds an empty data directory: the changed password wins after a restart
    assert_rejected(fresh_server, "elastic", ELASTIC_PASSWORD)


def test_acknowledged_writes_survive_kill_9(fresh_server):
    es = fresh_server.client()
    assert es.security.put_user(username="k_user", password="k-pass-1", roles=["k_role"])["created"] is True
    assert es.security.put_role(name="k_role", cluster=["monitor"])["role"]["created"] is True
    fresh_server.kill9()
    fresh_server.start()
    assert authenticate(fresh_server, "k_user", "k-pass-1")["roles"] == ["k_role"]
    assert "k_role" in fresh_server.client().security.get_role(name="k_role")


def test_put_user_right_before_kill_9(fresh_server):
    es = fresh_server.client()
    assert es.security.put_user(username="k_last", password="k-last-pass", roles=[])["created"] is True
    fresh_server.kill9()
    fresh_server.start()
    assert authenticate(fresh_server, "k_last", "k-last-pass")["username"] == "k_last"


def test_password_change_right_before_kill_9(fresh_server):
    es = fresh_server.client()
    es.security.put_user(username="k_pw", password="k-pw-old", roles=[])
    es.security.change_password(username="k_pw", password="k-pw-new")
    fresh_server.kill9()
    fresh_server.start()
    assert authenticate(fresh_server, "k_pw", "k-pw-new")["username"] == "k_pw"
    assert_rejected(fresh_server, "k_pw", "k-pw-old")


def test_bootstrap_password_only_seeds_an_empty_data_dir(server_factory):
    first = server_factory(env={"ELASTIC_PASSWORD": "first-password"})
    assert authenticate(first, "elastic", "first-password")["username"] == "elastic"
    first.stop()
    second = server_factory(data_dir=first.data_dir, env={"ELASTIC_PASSWORD": "second-password"})
    assert authenticate(second, "elastic", "first-password")["username"] == "elastic"
    assert_rejected(second, "elastic", "second-password")


def test_generated_elastic_password_is_shown_once(server_factory):
    server = server_factory(env={"ELASTIC_PASSWORD": ""})
    lines = [line for line in server.stdout_lines if "[elastic]" in line]
    assert len(lines) == 1, server.stdout_lines
    password = lines[0].rsplit(" ", 1)[-1]
    assert len(password) >= 20
    assert authenticate(server, "elastic", password)["username"] == "elastic"
    server.restart()
    assert len([line for line in server.stdout_lines if "[elastic]" in line]) == 1, server.stdout_lines
    assert authenticate(server, "elastic", password)["username"] == "elastic"


# -- command-line tools --------------------------------------------------------------------------------------------------


def users_cli(data_dir, *args):
    """`profiled users --data DIR ARGS...` (the node options go before the action: see the bug test below)."""
    return run_cli("users", "--data", str(data_dir), *args)


def test_users_cli_accepts_data_after_the_action(server_factory):
    server = server_factory(start=False)
    result = run_cli("users", "add", "cli_order", "-p", "cli-pass-1", "-r", "r1,r2", "--data", str(server.data_dir))
    assert result.returncode == 0, result.stderr
    listing = run_cli("users", "list", "--data", str(server.data_dir))
    assert listing.returncode == 0, listing.stderr
    assert "cli_order" in listing.stdout


def test_users_add_then_authenticate(server_factory):
    server = server_factory(start=False)
    result = users_cli(server.data_dir, "add", "cli_user", "-p", "cli-pass-1", "-r", "cli_role1,cli_role2")
    assert result.returncode == 0, result
    server.start()
    me = authenticate(server, "cli_user", "cli-pass-1")
    assert me["username"] == "cli_user"
    assert me["roles"] == ["cli_role1", "cli_role2"]
    assert me["authentication_realm"] == {"name": "default_native", "type": "native"}
    assert authenticate(server, "elastic", ELASTIC_PASSWORD)["username"] == "elastic"


def test_users_add_refuses_a_duplicate_and_a_short_password(server_factory):
    server = server_factory(start=False)
    data = server.data_dir
    assert users_cli(data, "add", "cli_dup", "-p", "cli-pass-1").returncode == 0
    duplicate = users_cli(data, "add", "cli_dup", "-p", "cli-pass-2")
    assert duplicate.returncode != 0
    assert "cli_dup" in duplicate.stderr
    short = users_cli(data, "add", "cli_short", "-p", "123")
    assert short.returncode != 0
    assert "6" in short.stderr


def test_users_add_refuses_a_reserved_name(server_factory):
    server = server_factory(start=False)
    result = users_cli(server.data_dir, "add", "elastic", "-p", "cli-pass-1")
    assert result.returncode != 0
    assert "reserved" in result.stderr


def test_users_list_and_remove(server_factory):
    server = server_factory(start=False)
    data = server.data_dir
    assert users_cli(data, "add", "cli_listed", "-p", "cli-pass-1", "-r", "ra,rb").returncode == 0
    assert users_cli(data, "add", "cli_removed", "-p", "cli-pass-1").returncode == 0
    listing = users_cli(data, "list")
    assert listing.returncode == 0, listing
    listed_line = next(line for line in listing.stdout.splitlines() if line.startswith("cli_listed"))
    assert "ra,rb" in listed_line
    assert any(line.startswith("cli_removed") for line in listing.stdout.splitlines())
    removed = users_cli(data, "remove", "cli_removed")
    assert removed.returncode == 0, removed
    listing = users_cli(data, "list")
    assert not any(line.startswith("cli_removed") for line in listing.stdout.splitlines())
    again = users_cli(data, "remove", "cli_removed")
    assert again.returncode != 0
    server.start()
    assert_rejected(server, "cli_removed", "cli-pass-1")
    assert authenticate(server, "cli_listed", "cli-pass-1")["roles"] == ["ra", "rb"]


def test_reset_password_of_native_user(fresh_server):
    fresh_server.client().security.put_user(username="cli_reset", password="reset-old-pass", roles=[])
    fresh_server.stop()
    result = run_cli("reset-password", "--user", "cli_reset", "--password", "reset-new-pass", "--data", str(fresh_server.data_dir))
    assert result.returncode == 0, result
    assert "Password for the [cli_reset] user successfully reset." in result.stdout
    fresh_server.start()
    assert authenticate(fresh_server, "cli_reset", "reset-new-pass")["username"] == "cli_reset"
    assert_rejected(fresh_server, "cli_reset", "reset-old-pass")


def test_reset_password_of_elastic_generates_one(fresh_server):
    fresh_server.stop()
    result = run_cli("reset-password", "--user", "elastic", "--data", str(fresh_server.data_dir))
    assert result.returncode == 0, result
    match = re.search(r"New value: (\S+)", result.stdout)
    assert match, result.stdout
    fresh_server.start()
    assert authenticate(fresh_server, "elastic", match.group(1))["username"] == "elastic"
    assert_rejected(fresh_server, "elastic", ELASTIC_PASSWORD)


def test_reset_password_of_unknown_user_fails(fresh_server):
    fresh_server.stop()
    result = run_cli("reset-password", "--user", "cli_nobody", "--password", "whatever-pass", "--data", str(fresh_server.data_dir))
    assert result.returncode != 0
    assert "cli_nobody" in result.stderr


def test_validate_config_rejects_an_unknown_key(tmp_path):
    config = tmp_path / "profiled.yml"
    config.write_text("http.port: 9201\nhttp.prot: 9200\n")
    result = run_cli("validate-config", str(config))
    assert result.returncode != 0
    assert "http.prot" in result.stderr
    assert "unknown setting" in result.stderr


def test_validate_config_rejects_an_unknown_nested_key(tmp_path):
    config = tmp_path / "profiled.yml"
    config.write_text("xpack:\n  security:\n    enabled: true\n    authc:\n      bogus: 1\n")
    result = run_cli("validate-config", str(config))
    assert result.returncode != 0
    assert "xpack.security.authc.bogus" in result.stderr


def test_validate_config_accepts_a_valid_file(tmp_path):
    config = tmp_path / "profiled.yml"
    config.write_text("http:\n  port: 9201\nnode.name: node-e2e\nxpack.security.enabled: true\n")
    result = run_cli("validate-config", str(config))
    assert result.returncode == 0, result
    assert "node-e2e" in result.stdout


def test_serve_refuses_an_invalid_config(tmp_path):
    config = tmp_path / "bad.yml"
    config.write_text("no.such.setting: 1\n")
    result = run_cli("serve", "--config", str(config), "--data", str(tmp_path / "data"), "--listen", "127.0.0.1:0", timeout=30)
    assert result.returncode != 0
    assert "no.such.setting" in result.stderr
