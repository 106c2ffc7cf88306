"""A fleet of real proxy processes (``python -m strangler.proxy``) on one real PostgreSQL
control store: a change through one reaches all, a hold is acknowledged by all, a replica
killed without leaving fails the hold safely, one stopped cleanly leaves the fleet."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import pytest

from tests.proxy import yaml_writer
from tests.proxy.conftest import table_for

REPO = Path(__file__).resolve().parents[2]
PRODUCTS = {"name": "products", "prefix": "/api/v1/products/", "owner": "catalog"}
TOKEN = "fleet-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# A change reaches every replica within this long (the target, measured p99).
PROPAGATION_SECONDS = 1.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _answers(url: str) -> bool:
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(url, timeout=aiohttp.ClientTimeout(total=1)) as response,
        ):
            return response.status == 200
    except (aiohttp.ClientError, TimeoutError):
        return False


def _kill_host(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the replica and its workers at once, as a host that dies: nobody leaves."""
    found = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True)
    for pid in [int(p) for p in found.stdout.split()] + [process.pid]:
        os.kill(pid, signal.SIGKILL)
    process.wait(timeout=30)


@dataclass
class Replica:
    name: str
    process: subprocess.Popen[bytes]
    url: str
    admin: str
    log: Path


@pytest.fixture
async def run_replica(tmp_path: Path, store_url: str) -> AsyncIterator[Callable[..., Any]]:
    started: list[Replica] = []

    async def start(name: str, table: dict[str, Any] | None = None, workers: int = 1) -> Replica:
        routes = tmp_path / f"{name}.yaml"  # no file: the store's table, or no start
        if table is not None:
            yaml_writer.write(routes, table)
        port, admin = _free_port(), _free_port()
        env = {
            **os.environ,
            "STRANGLER_STORE_URL": store_url,
            "PROXY_REPLICA_ID": name,
            "PROXY_ADMIN_TOKEN": TOKEN,
            "PROXY_ACCESS_LOG": "0",
        }
        log = tmp_path / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "strangler.proxy", "--config", str(routes), "--port",
                 str(port), "--admin-port", str(admin), "--workers", str(workers)],
                cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env=env,
            )  # fmt: skip
        replica = Replica(
            name, process, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{admin}", log
        )
        started.append(replica)
        loop = asyncio.get_running_loop()
        end = loop.time() + 30
        wanted = {f"{name}/{index}" for index in range(workers)}
        while loop.time() < end and process.poll() is None:
            # Up once it answers and every worker has joined the fleet.
            if await _answers(f"{replica.url}/healthz") and wanted <= set(_members(store_url)):
                return replica
            await asyncio.sleep(0.05)
        raise AssertionError(log.read_text())

    yield start
    for replica in started:
        if replica.process.poll() is None:
            replica.process.terminate()
            try:
                replica.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                replica.process.kill()
                replica.process.wait(timeout=10)


async def _json(session: aiohttp.ClientSession, method: str, url: str, body: Any = None) -> Any:
    async with session.request(method, url, json=body, headers=AUTH) as response:
        return response.status, await response.json()


def _members(store_url: str) -> list[str]:
    with psycopg.connect(store_url, autocommit=True) as conn:
        rows = conn.execute("SELECT replica FROM strangler_replicas ORDER BY replica").fetchall()
    return [r for (r,) in rows]


async def test_a_fleet_of_processes_converges_holds_together_and_fails_a_hold_safely(
    start_upstream, run_replica, store_url
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    one = await run_replica("one", table_for(monolith, service, PRODUCTS))
    two = await run_replica("two")  # no file: the store's table
    three = await run_replica("three", workers=2)
    replicas = (one, two, three)
    loop = asyncio.get_running_loop()

    async with aiohttp.ClientSession() as session:
        status, patched = await _json(
            session, "PATCH", f"{one.admin}/routes/products", {"mode": "service"}
        )
        answered, took = loop.time(), {}
        while len(took) < len(replicas) and loop.time() < answered + 10:
            for replica in replicas:
                _, routes = await _json(session, "GET", f"{replica.admin}/routes")
                if replica.name not in took and routes["table_version"] >= patched["table_version"]:
                    took[replica.name] = loop.time() - answered
        _, fleet = await _json(session, "GET", f"{two.admin}/fleet")
        _, waited = await _json(
            session, "PATCH", f"{three.admin}/routes/products?wait=fleet", {"mode": "shadow"}
        )
        hold_status, held = await _json(
            session, "POST", f"{one.admin}/routes/products/hold", {"seconds": 60}
        )
        _, released = await _json(session, "POST", f"{one.admin}/routes/products/release", {})

        two.process.terminate()  # a clean stop leaves the fleet
        two.process.wait(timeout=30)
        _kill_host(three.process)  # no leaving: its rows stay, silent
        refused_status, refused = await _json(
            session, "POST", f"{one.admin}/routes/products/hold", {"seconds": 30}
        )

    assert status == 200
    assert sorted(took) == ["one", "three", "two"]
    assert max(took.values()) < PROPAGATION_SECONDS, took
    assert sorted(m["replica"] for m in fleet["members"]) == [
        "one/0",
        "three/0",
        "three/1",
        "two/0",
    ]
    assert waited["fleet"]["complete"] is True
    assert sorted(waited["fleet"]["acknowledged"]) == ["one/0", "three/0", "three/1", "two/0"]
    assert hold_status == 200
    assert sorted(held["acknowledged"]) == ["one/0", "three/0", "three/1", "two/0"]
    assert sorted(released["acknowledged"]) == sorted(held["acknowledged"])
    assert (refused_status, refused["code"]) == (503, "fleet_not_acknowledged")
    assert refused["acknowledged"] == ["one/0"]
    assert sorted(refused["missing"]) == ["three/0", "three/1"]
    assert "two/0" not in _members(store_url)
    assert "was not used" not in two.log.read_text()


async def test_a_process_refuses_to_start_with_no_table_anywhere(tmp_path: Path, store_url) -> None:
    env = {**os.environ, "STRANGLER_STORE_URL": store_url, "PROXY_REPLICA_ID": "lonely"}
    result = subprocess.run(
        [sys.executable, "-m", "strangler.proxy", "--config", str(tmp_path / "none.yaml"),
         "--port", str(_free_port()), "--admin-port", str(_free_port())],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert result.returncode == 2
    assert "refusing to start" in result.stderr
    assert "holds no route table yet" in result.stderr
    assert "strangler routes import FILE" in result.stderr
