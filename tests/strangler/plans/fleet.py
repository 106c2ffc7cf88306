"""A fleet for the plans' and the CLI's tests: the shared store on a real PostgreSQL, proxy
replicas as rows the store keeps, and HTTP servers on real sockets.

- ``control_url`` / ``control``: a fresh database and the store opened on it.
- :class:`Replica`: a member of the fleet writing its row as a proxy replica does, either
  following the store (it acknowledges every table and holds version at once) or stuck at
  the versions it started with (cut off from the store's changes, yet alive).
- :func:`http_server`: a server whose answers a function gives, recording what it received.
- :class:`AdminStandIn`: the admin API of a proxy in store mode, as the fleet design fixes it
  (changes written to the store with their actor; a hold answered once every replica
  acknowledged it, else ``503 fleet_not_acknowledged``), for the plan's actions to talk to
  until the proxy's own replicas run in these tests (tests/e2e does that).

Not in ``conftest.py``: the CLI's tests in ``tests/strangler`` use it too. Test modules import
the fixtures from here.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from strangler import routes_file
from strangler.control import ControlStore, open_control
from tests.postgres_server import fresh_database

__all__ = [
    "AdminStandIn",
    "Received",
    "Replica",
    "admin_stand_in",
    "control",
    "control_url",
    "http_server",
]

# A replica acknowledges within one beat: 20 ms keeps the tests' waits short.
_BEAT_SECONDS = 0.02


@pytest.fixture
def control_url() -> Iterator[str]:
    with fresh_database("planfleet") as url:
        yield url


@pytest.fixture
def control(control_url: str) -> Iterator[ControlStore]:
    store = open_control(control_url)
    yield store
    store.close()


class Replica:
    """A proxy replica's row in the store, written every beat until :meth:`stop`.

    ``follows``: it reports the store's table and holds versions as they were ``delay``
    seconds ago (it installs every change after that long); otherwise the versions it
    started with (it takes no change)."""

    def __init__(
        self,
        url: str,
        name: str,
        *,
        admin_url: str = "http://127.0.0.1:9",
        follows: bool = True,
        delay: float = 0.0,
    ) -> None:
        self.name = name
        self.admin_url = admin_url
        self.follows = follows
        self.delay = delay
        self._store = open_control(url)
        self._stop = threading.Event()
        self._started = time.time()
        self.table_version = self._store.table_version()
        self.holds_version = self._store.holds_version()
        self._seen: list[tuple[float, int, int]] = []
        self._beat()  # a member from the moment it is made
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        if self.follows:
            now = time.monotonic()
            self._seen.append((now, self._store.table_version(), self._store.holds_version()))
            while self._seen and self._seen[0][0] <= now - self.delay:
                _, self.table_version, self.holds_version = self._seen.pop(0)
        self._store.heartbeat(
            replica=self.name,
            admin_url=self.admin_url,
            public_url="http://127.0.0.1:9",
            table_version=self.table_version,
            holds_version=self.holds_version,
            started_at=self._started,
        )

    def _run(self) -> None:
        while not self._stop.wait(_BEAT_SECONDS):
            self._beat()

    def stop(self, *, leave: bool = True) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        if leave:
            self._store.leave(self.name)
        self._store.close()


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


Answer = tuple[int, Any]


@contextlib.contextmanager
def http_server(
    answer: Callable[[Received], Answer],
) -> Iterator[tuple[str, list[Received]]]:
    """A server on a real socket answering with ``answer(request)``: its URL and what it got.

    The answer is JSON, or text when it is a ``str``."""
    received: list[Received] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            body = json.loads(raw) if raw else None
            request = Received(self.command, self.path, dict(self.headers), body)
            received.append(request)
            status, payload = answer(request)
            text = payload if isinstance(payload, str) else json.dumps(payload)
            data = text.encode()
            self.send_response(status)
            kind = "text/plain; version=0.0.4" if isinstance(payload, str) else "application/json"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class AdminStandIn:
    """The admin API of a proxy in store mode; ``waits_for_fleet=False``: one that answers a
    hold at once (an older proxy, or one that answered early), so the plan's own check of
    the store is what stands between it and a flip."""

    store: ControlStore
    waits_for_fleet: bool = True
    ack_seconds: float = 0.5
    changes: list[Received] = field(default_factory=list)

    def __call__(self, request: Received) -> Answer:
        actor = request.headers.get("X-Strangler-Actor") or "admin-api"
        if request.method != "GET":
            self.changes.append(request)
        if match := re.fullmatch(r"/routes/([^/]+)", request.path):
            return self._patch(match[1], dict(request.body), actor)
        if match := re.fullmatch(r"/routes/([^/]+)/(hold|release)", request.path):
            until = time.time() + request.body["seconds"] if match[2] == "hold" else 0.0
            return self._hold(match[1], until, actor)
        return 404, {"code": "not_found", "message": request.path}

    def _patch(self, name: str, body: dict[str, Any], actor: str) -> Answer:
        force = bool(body.pop("force", False))
        record = self.store.read_table()
        assert record is not None
        edited = routes_file.edit_route(
            record.text, name, routes_file.RouteChange.from_mapping(body), force=force
        )
        if edited == record.text:
            return 200, {"changed": False, "table_version": record.version}
        written = self.store.write_table(
            edited, expected_version=record.version, actor=actor, via="admin-api",
            action="set", subject=f"route:{name}", before=None, after=body,
        )  # fmt: skip
        return 200, {"changed": True, "table_version": written.version}

    def _hold(self, name: str, until: float, actor: str) -> Answer:
        holds = self.store.set_hold(name, until, actor=actor, via="admin-api")
        answer = {"route": name, "held": until > 0, "holds_version": holds.version}
        if not self.waits_for_fleet:
            return 200, answer
        ack = self.store.wait_for_fleet(holds_version=holds.version, timeout=self.ack_seconds)
        if not ack.complete:
            return 503, {
                "code": "fleet_not_acknowledged",
                "message": f"not acknowledged within {self.ack_seconds:g} s by "
                f"{ack.describe_missing()}",
                **answer,
            }
        return 200, {**answer, "acknowledged": list(ack.acknowledged)}


@contextlib.contextmanager
def admin_stand_in(store: ControlStore, **options: Any) -> Iterator[tuple[str, AdminStandIn]]:
    admin = AdminStandIn(store, **options)
    with http_server(admin) as (url, _):
        yield url, admin
