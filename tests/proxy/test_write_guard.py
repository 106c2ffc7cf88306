"""A side may own a route's writes only while the sync carries its writes back: checked
against real sync nodes (the sync test project under gunicorn), from the file, the admin API
and the CLI, with the old table serving on after a refusal."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from strangler.proxy.check import main as check_main
from tests.monolith.processes import PYTHON, free_port, running, url_answers
from tests.proxy import yaml_writer

SYNC_SECRET = "write-guard-test-sync-secret-0123456789"
MIGRATE_TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class Nodes:
    off: str  # beta, its stream back to alpha off (as before a cutover)
    on: str  # beta on the same database, its stream back on (as after a cutover)


def _env(database: Path, *, outbound: bool) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.sync_project.settings",
        "SYNC_NODE": "beta",
        "SYNC_PEER_URL": "http://127.0.0.1:9",
        "DATABASE_URL": f"sqlite:///{database}",
        "STRANGLER_SYNC_SECRET": SYNC_SECRET,
        "SYNC_OUTBOUND_ENABLED": "1" if outbound else "0",
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nodes]:
    folder = tmp_path_factory.mktemp("beta")
    database = folder / "beta.sqlite3"
    migrated = subprocess.run(
        [PYTHON, "-m", "django", "migrate", "--noinput"],
        env=_env(database, outbound=False),
        capture_output=True,
        text=True,
        timeout=MIGRATE_TIMEOUT_SECONDS,
        check=False,
    )
    assert migrated.returncode == 0, migrated.stderr
    ports = free_port(), free_port()
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    args = [
        [PYTHON, "-m", "gunicorn", "tests.sync_project.wsgi", "--bind", f"127.0.0.1:{port}"]
        for port in ports
    ]
    with (
        running(
            args[0],
            env=_env(database, outbound=False),
            log=folder / "off.log",
            ready=url_answers(f"{urls[0]}/readyz"),
        ),
        running(
            args[1],
            env=_env(database, outbound=True),
            log=folder / "on.log",
            ready=url_answers(f"{urls[1]}/readyz"),
        ),
    ):
        yield Nodes(off=urls[0], on=urls[1])


@pytest.fixture(autouse=True)
def _sync_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """For ``strangler.proxy.check`` and the CLI, which read it from the environment."""
    monkeypatch.setenv("STRANGLER_SYNC_SECRET", SYNC_SECRET)


def _table(alpha_url: str, beta_url: str, **route: Any) -> dict[str, Any]:
    return {
        "legacy": "alpha",
        "upstreams": {"alpha": {"url": alpha_url}, "beta": {"url": beta_url}},
        "routes": [{"name": "products", "prefix": "/api/v1/products/", "owner": "beta", **route}],
    }


CUTOVER = {"mode": "service", "write_owner": "beta"}


async def test_a_table_file_giving_writes_to_a_side_whose_stream_back_is_off_is_refused(
    nodes: Nodes, start_upstream, start_proxy
) -> None:
    alpha = await start_upstream("alpha")
    proxy = await start_proxy(
        _table(alpha.url, nodes.off, mode="canary", canary_percent=50), sync_secret=SYNC_SECRET
    )

    proxy.write_table(_table(alpha.url, nodes.off, **CUTOVER))
    result = await proxy.reload()

    assert result.changed is False
    assert result.error is not None
    assert "routes[0] (products), field 'write_owner'" in result.error
    assert "the sync stream beta -> alpha is off" in result.error
    async with proxy.session.post(f"{proxy.url}/api/v1/products/", data=b"{}") as response:
        assert response.status == 200  # the old table serves on: writes still go to alpha
    assert [seen["method"] for seen in alpha.seen] == ["POST"]


async def test_the_same_table_is_accepted_once_the_stream_back_is_on(
    nodes: Nodes, start_upstream, start_proxy
) -> None:
    alpha = await start_upstream("alpha")
    proxy = await start_proxy(
        _table(alpha.url, nodes.on, mode="canary", canary_percent=50), sync_secret=SYNC_SECRET
    )

    proxy.write_table(_table(alpha.url, nodes.on, **CUTOVER))
    result = await proxy.reload()

    assert (result.changed, result.error) == (True, None)
    async with proxy.session.post(f"{proxy.url}/api/v1/products/", data=b"{}") as response:
        assert response.status == 404  # beta (the sync project) has no such page: it got it
    assert alpha.seen == []


async def test_the_admin_api_refuses_the_change_and_leaves_the_file_alone(
    nodes: Nodes, start_upstream, start_admin
) -> None:
    alpha = await start_upstream("alpha")
    admin = await start_admin(_table(alpha.url, nodes.off, mode="service"), sync_secret=SYNC_SECRET)
    before = admin.proxy.routes_path.read_bytes()

    status, body = await admin.call("PATCH", "/routes/products", {"write_owner": "beta"})

    assert status == 409
    assert body["code"] == "writes_not_carried"
    assert "the sync stream beta -> alpha is off" in body["message"]
    assert admin.proxy.routes_path.read_bytes() == before
    _, view = await admin.call("GET", "/routes/products")
    assert view["write_owner"] == "alpha"


async def test_the_escape_hatch_accepts_unsynced_writes_when_the_route_says_so(
    nodes: Nodes, start_upstream, start_admin
) -> None:
    alpha = await start_upstream("alpha")
    admin = await start_admin(_table(alpha.url, nodes.off, mode="service"), sync_secret=SYNC_SECRET)

    status, body = await admin.call(
        "PATCH", "/routes/products", {"write_owner": "beta", "unsynced_writes_accepted": True}
    )

    assert status == 200, body
    assert body["route"]["write_owner"] == "beta"


def test_routes_check_and_set_refuse_it_from_the_command_line(
    nodes: Nodes, tmp_path: Path, capsys
) -> None:
    path = tmp_path / "routes.yaml"
    yaml_writer.write(path, _table("http://127.0.0.1:9", nodes.off, **CUTOVER))

    assert check_main([str(path)]) == 1
    assert "the sync stream beta -> alpha is off" in capsys.readouterr().err

    yaml_writer.write(path, _table("http://127.0.0.1:9", nodes.off, mode="service"))
    before = path.read_bytes()
    done = subprocess.run(
        [sys.executable, "-m", "strangler.cli", "routes", "set", "products",
         "--write-owner", "beta", "--offline", "--config", str(path)],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "STRANGLER_SYNC_SECRET": SYNC_SECRET},
    )  # fmt: skip

    assert done.returncode != 0
    assert "field 'write_owner'" in done.stderr
    assert "Traceback" not in done.stderr
    assert path.read_bytes() == before


async def test_a_table_naming_an_unreachable_sync_node_is_refused_saying_so(
    start_upstream, start_proxy
) -> None:
    alpha = await start_upstream("alpha")
    proxy = await start_proxy(
        _table(alpha.url, alpha.url, mode="monolith"), sync_secret=SYNC_SECRET
    )
    dead = f"http://127.0.0.1:{free_port()}"

    proxy.write_table(_table(alpha.url, dead, **CUTOVER))
    result = await proxy.reload()

    assert result.error is not None
    assert "the sync stream beta -> alpha could not be read" in result.error


async def test_a_proxy_without_the_sync_secret_refuses_a_write_owner_saying_what_to_set(
    nodes: Nodes, start_upstream, start_proxy
) -> None:
    alpha = await start_upstream("alpha")
    proxy = await start_proxy(_table(alpha.url, nodes.on, mode="canary", canary_percent=50))

    proxy.write_table(_table(alpha.url, nodes.on, **CUTOVER))
    result = await proxy.reload()

    assert result.error is not None
    assert "the proxy has no STRANGLER_SYNC_SECRET" in result.error
