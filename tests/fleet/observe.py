"""What a test sees of a replica, over HTTP as an operator and a client see it: its admin
API (the table it serves, its metrics, the fleet), its public port (which side answers a
request), its readiness. Async, so the three replicas are watched at once."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from tests.fleet.replicas import ADMIN_TOKEN, Replica

__all__ = [
    "PROBE_PATH",
    "ROUTE",
    "WRITE_PATH",
    "admin",
    "answered_by",
    "eventually",
    "fleet_members",
    "metric",
    "readiness",
    "serves",
    "table",
    "time_to_serve",
    "write",
]

ROUTE = "products"
PROBE_PATH = "/api/products/probe"
WRITE_PATH = "/api/products/"
# Between two looks at a replica: fine enough to measure a 1 s bound to a hundredth.
POLL_SECONDS = 0.01
# Which recording upstream answers a route in each mode (tests.fleet.conftest's table).
SIDE_OF_MODE = {"monolith": "monolith", "shadow": "monolith", "service": "catalog"}


async def admin(
    session: aiohttp.ClientSession, replica: Replica, method: str, path: str, body: object = None
) -> tuple[int, Any]:
    async with session.request(
        method,
        replica.admin_url + path,
        json=body,
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    ) as response:
        return response.status, await response.json(content_type=None)


async def table(session: aiohttp.ClientSession, replica: Replica) -> dict[str, Any]:
    status, document = await admin(session, replica, "GET", "/routes")
    assert status == 200, document
    return dict(document)


def route_of(document: dict[str, Any], name: str = ROUTE) -> dict[str, Any]:
    return dict(next(r for r in document["routes"] if r["name"] == name))


async def answered_by(session: aiohttp.ClientSession, replica: Replica) -> str:
    """Which upstream answered a read through the replica's public port."""
    async with session.get(replica.public_url + PROBE_PATH) as response:
        body = await response.json(content_type=None)
        assert response.status == 200, (replica.name, response.status, body)
        return str(body["upstream"])


async def write(session: aiohttp.ClientSession, replica: Replica) -> tuple[int, str]:
    """A POST through the replica's public port: its status and the upstream that took it."""
    async with session.post(replica.public_url + WRITE_PATH, json={"from": replica.name}) as r:
        body = await r.json(content_type=None)
        return r.status, str(body.get("upstream", body))


async def serves(
    session: aiohttp.ClientSession, replica: Replica, *, mode: str, version: int
) -> tuple[bool, bool]:
    """Whether the replica's table is ``version`` (or later) with the route in ``mode``, and
    whether a request through it goes to that mode's side."""
    document = await table(session, replica)
    listed = document.get("table_version", -1) >= version and route_of(document)["mode"] == mode
    side = await answered_by(session, replica) == SIDE_OF_MODE[mode]
    return listed, side


async def time_to_serve(
    session: aiohttp.ClientSession,
    replica: Replica,
    *,
    mode: str,
    version: int,
    since: float,
    deadline: float,
) -> float:
    """Seconds from ``since`` (``time.monotonic()``) until the replica both lists the change
    and sends a request to its side; fails after ``deadline`` seconds."""
    listed_at = side_at = None
    while listed_at is None or side_at is None:
        listed, side = await serves(session, replica, mode=mode, version=version)
        now = time.monotonic()
        if listed and listed_at is None:
            listed_at = now
        if side and side_at is None:
            side_at = now
        if now - since > deadline:
            raise AssertionError(
                f"{replica.name} did not serve table version {version} (mode {mode}) within "
                f"{deadline} s: listed {listed}, requests to {SIDE_OF_MODE[mode]} {side}"
            )
        await asyncio.sleep(POLL_SECONDS)
    return max(listed_at, side_at) - since


async def readiness(session: aiohttp.ClientSession, replica: Replica) -> tuple[int, Any]:
    async with session.get(replica.public_url + "/readyz") as response:
        return response.status, await response.json(content_type=None)


_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][\w:]*)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$")


async def metric(
    session: aiohttp.ClientSession, replica: Replica, name: str, **labels: str
) -> float | None:
    """One sample of the replica's /metrics (with exactly these labels), ``None`` if absent."""
    async with session.get(replica.admin_url + "/metrics") as response:
        text = await response.text()
    wanted = {(k, v) for k, v in labels.items()}
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match is None or match["name"] != name:
            continue
        found = set(re.findall(r'(\w+)="([^"]*)"', match["labels"] or ""))
        if found == wanted:
            return float(match["value"])
    return None


async def fleet_members(session: aiohttp.ClientSession, replica: Replica) -> dict[str, Any]:
    """GET /fleet: each member by its replica id."""
    status, document = await admin(session, replica, "GET", "/fleet")
    assert status == 200, document
    return {member["replica"]: member for member in document["members"]}


async def eventually(
    condition: Callable[[], Awaitable[bool]],
    *,
    deadline: float,
    what: str | Callable[[], str],
) -> float:
    """Seconds until ``condition`` holds; fails after ``deadline`` seconds naming ``what``
    (a callable: asked then, to say what was last seen)."""
    began = time.monotonic()
    while not await condition():
        if time.monotonic() - began > deadline:
            said = what() if callable(what) else what
            raise AssertionError(f"timed out after {deadline} s waiting for {said}")
        await asyncio.sleep(POLL_SECONDS * 5)
    return time.monotonic() - began
