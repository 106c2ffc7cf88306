"""The fleet's upstreams: small real HTTP servers in the root namespace, on the LAN.

Each answers every request with its own name (so a client can tell which side served it)
and records what reached it: the method, the path and the host it came through, told by
the source address (each proxy host has its own). The proxies' health checks are not
recorded: they are not traffic.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from strangler.proxy.health import HEALTH_USER_AGENT

__all__ = ["RecordingUpstream", "Seen"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    host: str
    """The proxy host the request came through (its source address where it is no host)."""
    at: float
    """``time.monotonic()`` on arrival."""

    @property
    def is_write(self) -> bool:
        return self.method not in SAFE_METHODS


@dataclass
class RecordingUpstream:
    name: str
    host_of: Callable[[str], str | None]
    """A source address's host name."""
    url: str = ""
    _seen: list[Seen] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _runner: web.AppRunner | None = None

    async def start(self, address: str) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, address, 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://{address}:{port}"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        if request.headers.get("User-Agent") != HEALTH_USER_AGENT:
            await request.read()
            remote = request.remote or "?"
            seen = Seen(
                request.method, request.path, self.host_of(remote) or remote, time.monotonic()
            )
            with self._lock:
                self._seen.append(seen)
        return web.json_response({"upstream": self.name, "path": request.path})

    def seen(self) -> list[Seen]:
        with self._lock:
            return list(self._seen)

    def writes(self, path: str | None = None) -> list[Seen]:
        return [s for s in self.seen() if s.is_write and (path is None or s.path == path)]

    def forget(self) -> None:
        with self._lock:
            self._seen.clear()
