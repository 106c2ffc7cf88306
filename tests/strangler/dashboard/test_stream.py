"""The event stream's mechanics, on the application in this process: keep-alive comments on
an idle stream, a page that falls behind gets the whole document again, and a stopping
server ends every open stream instead of waiting for it."""

from __future__ import annotations

import asyncio
import copy
import json
import time
from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from strangler.dashboard import DashboardConfig, build_app
from strangler.dashboard.poller import Poller

TOKEN = "t" * 40


def _source() -> tuple[dict[str, Any], Poller]:
    current: dict[str, Any] = {
        "taken_at": 0.0,
        "headline": {"overall": {}},
        "routes": [{"name": "a", "mode": "monolith", "sides": None}],
        "comparison": {"where": None, "routes": []},
        "audit": None,
    }

    def build() -> dict[str, Any]:
        document = copy.deepcopy(current)
        document["taken_at"] = time.time()
        return document

    return current, Poller(build, interval=0.05)


async def _events(response: Any, until: Any, deadline: float = 5.0) -> list[tuple[str, str]]:
    """Events (comments as ``("comment", text)``) until ``until(events)`` holds."""
    events: list[tuple[str, str]] = []
    kind, end = "message", time.monotonic() + deadline
    while not until(events):
        assert time.monotonic() < end, f"stream stalled after {events!r}"
        line = (await asyncio.wait_for(response.content.readline(), deadline)).decode().rstrip("\n")
        if line.startswith(":"):
            events.append(("comment", line[1:].strip()))
        elif line.startswith("event:"):
            kind = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            events.append((kind, line.split(":", 1)[1].strip()))
    return events


async def test_an_idle_stream_gets_keep_alive_comments_and_then_the_change():
    current, poller = _source()
    config = DashboardConfig(admin_token=TOKEN, keep_alive_seconds=0.2)
    async with (
        TestServer(build_app(poller, config)) as server,
        ClientSession() as client,
        client.get(server.make_url("/events")) as response,
    ):
        first = await _events(response, lambda e: any(k == "overview" for k, _ in e))
        assert json.loads(first[-1][1])["routes"][0]["mode"] == "monolith"

        idle = await _events(response, lambda e: len(e) >= 2)
        assert idle == [("comment", "keep-alive"), ("comment", "keep-alive")]

        current["routes"][0]["mode"] = "service"
        patch = await _events(response, lambda e: any(k == "patch" for k, _ in e))
        (data,) = [d for k, d in patch if k == "patch"]
        assert [r["mode"] for r in json.loads(data)["routes"]] == ["service"]


async def test_stopping_the_server_ends_the_open_streams():
    _, poller = _source()
    server = TestServer(build_app(poller, DashboardConfig(admin_token=TOKEN)))
    await server.start_server()
    async with ClientSession() as client, client.get(server.make_url("/events")) as response:
        await _events(response, lambda e: any(k == "overview" for k, _ in e))
        started = time.monotonic()
        await server.close()
        assert time.monotonic() - started < 5
        # The stream ends (the read returns at its end) with nothing more than the last
        # event's closing blank line.
        assert (await asyncio.wait_for(response.content.read(), 5)).strip() == b""


async def test_with_nobody_watching_the_poll_stops_until_a_reader_comes():
    current, _ = _source()
    builds: list[float] = []

    def build() -> dict[str, Any]:
        builds.append(time.monotonic())
        return {**copy.deepcopy(current), "taken_at": time.time()}

    poller = Poller(build, interval=0.05, idle_after=0.2)
    config = DashboardConfig(admin_token=TOKEN)
    async with TestServer(build_app(poller, config)) as server, ClientSession() as client:
        await asyncio.wait_for(poller.ready.wait(), 5)
        deadline = time.monotonic() + 5
        while not poller.resting:  # nobody asked since the start
            assert time.monotonic() < deadline, "the poll never rested"
            await asyncio.sleep(0.02)
        settled = len(builds)
        await asyncio.sleep(0.5)  # ten intervals
        assert len(builds) == settled

        async with client.get(server.make_url("/api/overview")) as response:
            assert response.status == 200
        deadline = time.monotonic() + 5
        while len(builds) == settled:  # the reader woke it
            assert time.monotonic() < deadline, "a reader did not wake the poll"
            await asyncio.sleep(0.02)
