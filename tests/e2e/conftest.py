"""Fixtures of the end-to-end suite.

* `server` (module scope): a fresh `profiled` on a temporary data directory and a free port, with
  ELASTIC_PASSWORD set; stopped with SIGTERM (SIGKILL after a timeout) at teardown, also on failure.
* `es`: an official `Elasticsearch` client authenticated as `elastic` against `server`.
* `client_for(username, password)`: clients for other users (`username=None` sends no credentials).
* `server_factory(*extra_args, data_dir=None, start=True)`: more servers for one test (own data directory
  or a given one, e.g. `--max-content-length 1kb`), all stopped at the end of the test.
* `fresh_server`: a server of its own for one test (restart and crash tests).
* `ProfiledServer.restart()` / `restart_server(s)` restart on the same data directory; `.kill9()` /
  `kill9_server(s)` crash it.

When a test fails, the tail of the log of every server it used is attached to the report.
"""

from __future__ import annotations

import atexit
import itertools
from pathlib import Path

import pytest

from _support import ELASTIC_PASSWORD, ProfiledServer, stop_all_servers

atexit.register(stop_all_servers)

_counter = itertools.count(1)


def _new_server(base: Path, extra_args=(), data_dir: Path | None = None, env=None) -> ProfiledServer:
    number = next(_counter)
    data_dir = Path(data_dir) if data_dir is not None else base / f"data-{number}"
    return ProfiledServer(data_dir, base / f"server-{number}.log", extra_args=extra_args, env=env)


class ServerFactory:
    """Starts servers for one test and stops them all at its end."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.servers: list[ProfiledServer] = []

    def __call__(self, *extra_args: str, data_dir: Path | None = None, start: bool = True, env=None) -> ProfiledServer:
        server = _new_server(self.base, extra_args, data_dir, env)
        self.servers.append(server)
        if start:
            server.start()
        return server

    def stop_all(self) -> None:
        for server in self.servers:
            server.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory, request):
    base = tmp_path_factory.mktemp(f"profiled-{request.module.__name__.rsplit('.', 1)[-1]}")
    instance = _new_server(base)
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture(scope="module")
def es(server):
    client = server.client()
    yield client
    client.close()


@pytest.fixture(scope="module")
def client_for(server):
    clients = []

    def make(username: str | None, password: str | None = None, **kwargs):
        client = server.client(username, password, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def server_factory(tmp_path):
    factory = ServerFactory(tmp_path)
    try:
        yield factory
    finally:
        factory.stop_all()


@pytest.fixture
def fresh_server(server_factory):
    return server_factory()


@pytest.fixture
def elastic_password():
    return ELASTIC_PASSWORD


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    servers = []
    for value in getattr(item, "funcargs", {}).values():
        if isinstance(value, ProfiledServer):
            servers.append(value)
        elif isinstance(value, ServerFactory):
            servers.extend(value.servers)
    seen = set()
    for server in servers:
        if id(server) in seen:
            continue
        seen.add(id(server))
        report.sections.append((f"profiled log {server.log_path.name} ({server.url})", server.log_tail(40)))
