"""The dashboard's one poll loop: the overview every ``interval`` seconds, shared by every page.

Each poll builds :func:`strangler.overview.build_overview` (in a worker thread: its sources
are read with blocking clients), adds rates over a sliding window (requests/s and error
rate per route and side, from the difference of the cumulative counters between the
oldest and newest poll inside it), and derives two documents: the admin one, and the
public one without comparison examples and without actors. Each is a :class:`Channel`
that knows its last document, its version, and the change from the previous version as a
compact patch, so an open page receives only what changed.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from strangler.overview.comparison import without_examples

__all__ = [
    "IDLE_AFTER_SECONDS",
    "RATE_WINDOW_SECONDS",
    "Channel",
    "Poller",
    "RateWindow",
    "public_document",
]

logger = logging.getLogger(__name__)

# Polling stops this long after the last reader left (a page's reconnect fits inside).
IDLE_AFTER_SECONDS = 30.0
# A minute: long enough to smooth a burst, short enough that a change shows.
RATE_WINDOW_SECONDS = 60.0
# The parts that change every poll whatever happens; not a change on their own.
_CLOCK_PARTS = frozenset({"taken_at"})
# How many patches a page that fell behind may replay before it takes the whole document.
_PATCH_HISTORY = 16


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str, allow_nan=False)


class RateWindow:
    """Cumulative requests and errors per route and side over the last ``seconds``."""

    def __init__(self, seconds: float = RATE_WINDOW_SECONDS) -> None:
        self.seconds = seconds
        self._polls: deque[tuple[float, dict[str, dict[str, tuple[int, int]]]]] = deque()

    def add(self, document: dict[str, Any]) -> None:
        """Record this poll's counters and write ``rps``/``error_rate`` into its rows."""
        rows = document.get("routes")
        if rows is None:
            return
        now = float(document["taken_at"])
        counts = {
            row["name"]: {
                side: (int(v["requests"]), int(v["errors"]))
                for side, v in (row.get("sides") or {}).items()
            }
            for row in rows
        }
        while self._polls and now - self._polls[0][0] > self.seconds:
            self._polls.popleft()
        oldest = self._polls[0] if self._polls else None
        self._polls.append((now, counts))
        total_rps: float | None = None
        for row in rows:
            row["rps"] = None
            if oldest is None or row.get("sides") is None:
                continue
            elapsed = now - oldest[0]
            before = oldest[1].get(row["name"], {})
            route_rps = 0.0
            for side, values in row["sides"].items():
                requests, errors = counts[row["name"]][side]
                old_requests, old_errors = before.get(side, (0, 0))
                if requests < old_requests:  # a proxy restarted: its counters began again
                    old_requests, old_errors = 0, 0
                served = requests - old_requests
                values["rps"] = round(served / elapsed, 2) if elapsed > 0 else None
                values["error_rate"] = (
                    round((errors - old_errors) / served, 4) if served > 0 else None
                )
                route_rps += values["rps"] or 0.0
            row["rps"] = round(route_rps, 2)
            total_rps = (total_rps or 0.0) + route_rps
        document["headline"]["overall"]["rps"] = (
            round(total_rps, 2) if total_rps is not None else None
        )
        by_route = {row["name"]: row.get("rps") for row in rows}
        for plan in document.get("plans") or []:
            part = document["headline"].get("plans", {}).get(plan.get("name"))
            if part is None or not plan.get("routes"):
                continue
            rates = [by_route.get(name) for name in plan["routes"]]
            known = [r for r in rates if r is not None]
            part["rps"] = round(sum(known), 2) if known else None


def public_document(document: dict[str, Any]) -> dict[str, Any]:
    """What anyone may read: no comparison example, no actor (a copy)."""
    public = dict(document)
    if isinstance(document.get("comparison"), dict):
        public["comparison"] = without_examples(document["comparison"])
    if document.get("audit") is not None:
        public["audit"] = [{**entry, "actor": None} for entry in document["audit"]]
    return public


@dataclass
class Channel:
    """One audience's document: its version, its JSON (plain and gzipped), its patches."""

    admin: bool
    version: int = 0
    document: dict[str, Any] | None = None
    body: bytes = b""
    body_gzip: bytes = b""
    patches: deque[tuple[int, str]] = field(default_factory=lambda: deque(maxlen=_PATCH_HISTORY))
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _parts: dict[str, str] = field(default_factory=dict)
    _rows: dict[str, str] = field(default_factory=dict)
    _order: list[str] | None = None

    async def update(self, document: dict[str, Any]) -> bool:
        """Take a new poll's document; ``True`` (and the waiters woken) when it changed."""
        parts = {k: _dumps(v) for k, v in document.items() if k != "routes"}
        rows = document.get("routes")
        row_json = {r["name"]: _dumps(r) for r in rows} if rows is not None else {}
        order = [r["name"] for r in rows] if rows is not None else None
        changed_parts = {
            k: document[k]
            for k, text in parts.items()
            if k not in _CLOCK_PARTS and self._parts.get(k) != text
        }
        patch: dict[str, Any] = {"taken_at": document.get("taken_at"), "set": changed_parts}
        if order != self._order:
            patch["set"]["routes"] = rows
        else:
            changed_rows = [
                r for r in rows or [] if self._rows.get(r["name"]) != row_json[r["name"]]
            ]
            if changed_rows:
                patch["routes"] = changed_rows
        first = self.document is None
        if not first and not patch["set"] and "routes" not in patch:
            return False
        self.version += 1
        patch["version"] = self.version
        self.document = {**document, "version": self.version, "access": {"admin": self.admin}}
        self._parts, self._rows, self._order = parts, row_json, order
        self.body = _dumps(self.document).encode()
        self.body_gzip = gzip.compress(self.body, compresslevel=5)
        if not first:
            self.patches.append((self.version, _dumps(patch)))
        async with self.changed:
            self.changed.notify_all()
        return True

    def patches_after(self, version: int) -> list[str] | None:
        """The patches from ``version`` to now, or ``None`` when some are no longer kept."""
        wanted = [text for v, text in self.patches if v > version]
        if len(wanted) != self.version - version:
            return None
        return wanted


class Poller:
    """Builds the overview every ``interval`` seconds and feeds both channels, while anyone
    watches: with no event stream open and no document asked for in ``idle_after`` seconds
    it stops reading the sources (a dashboard left running costs the proxy nothing) until
    the next reader wakes it."""

    def __init__(
        self,
        build: Callable[[], dict[str, Any]],
        interval: float,
        *,
        idle_after: float = IDLE_AFTER_SECONDS,
    ) -> None:
        self._build = build
        self.interval = interval
        self.idle_after = idle_after
        self.viewers = 0  # open event streams
        self.resting = False  # idle: waiting for a reader, reading nothing
        self._wanted_at = time.monotonic()
        self._wake = asyncio.Event()
        self.window = RateWindow()
        self.admin = Channel(admin=True)
        self.public = Channel(admin=False)
        self.polls = 0
        self.last_error = ""
        self.ready = asyncio.Event()

    async def poll_once(self) -> None:
        try:
            document = await asyncio.to_thread(self._build)
        except Exception as exc:  # a source's bug must not stop the page for every viewer
            logger.exception("dashboard poll failed")
            self.last_error = f"{type(exc).__name__}: {exc}"
            return
        self.last_error = ""
        self.window.add(document)
        self.polls += 1
        await self.admin.update(document)
        await self.public.update(public_document(document))
        self.ready.set()

    def want(self) -> None:
        """Someone reads the document: keep polling, or start again at once."""
        self._wanted_at = time.monotonic()
        self._wake.set()

    @property
    def idle(self) -> bool:
        return self.viewers == 0 and time.monotonic() - self._wanted_at > self.idle_after

    async def run(self) -> None:
        while True:
            started = time.monotonic()
            await self.poll_once()
            self._wake.clear()
            if self.idle:
                self.resting = True
                await self._wake.wait()
                self.resting = False
            else:
                await asyncio.sleep(max(0.05, self.interval - (time.monotonic() - started)))
