"""A write on a held route waits at the proxy for the release (``strangler.proxy.holds`` says what a
hold is), counted in the metrics; past the hold's bound it is refused (``WritesHeld``)."""

from __future__ import annotations

import asyncio
import time

from prometheus_client import Gauge

from strangler.proxy import metrics
from strangler.proxy.errors import (
    CircuitOpen,
    ProxyError,
    UpstreamNotAccepted,
    UpstreamUnreachable,
    WritesHeld,
)
from strangler.proxy.route_config import SAFE_METHODS
from strangler.proxy.routing import CompiledRoute, RouteTable
from strangler.proxy.table_store import TableStore
from strangler.proxy.upstream_client import Body

__all__ = [
    "UNREAD",
    "MovedWhileReading",
    "Unread",
    "is_held",
    "moved_while_reading",
    "wait_out_hold",
    "write_answered",
    "write_in_flight",
]


def is_held(store: TableStore, route: str, method: str) -> bool:
    """Whether a ``method`` request on ``route`` must wait: a write while a hold is on."""
    return (
        bool(store.holds)  # empty but for a cutover: one truth test per request
        and method not in SAFE_METHODS
        and store.holds.get(route, 0.0) > time.time()
    )


async def wait_out_hold(store: TableStore, route: str) -> None:
    """Wait while ``route`` is held; :class:`WritesHeld` once the hold's bound passes."""
    waiting = metrics.HELD_REQUESTS.labels(route)
    waiting.inc()
    try:
        await _wait_for_release(store, route)
    except WritesHeld:
        metrics.HELD_OUTCOMES.labels(route, "expired").inc()
        raise
    finally:
        waiting.dec()
    metrics.HELD_OUTCOMES.labels(route, "released").inc()


async def _wait_for_release(store: TableStore, route: str) -> None:
    """Woken by every change of the table or the holds (this worker's watch polls the file)."""
    while True:
        until = store.holds.get(route, 0.0)
        if until <= 0:
            return  # released
        remaining = until - time.time()
        if remaining <= 0:
            raise WritesHeld(
                f"Writes to route {route!r} are held for a cutover and the hold outlived its "
                f"bound; retry shortly."
            )
        try:
            async with asyncio.timeout(remaining):
                await store.changed()
        except TimeoutError:
            continue


class Unread:
    """A request whose body is not read yet."""


UNREAD = Unread()


class MovedWhileReading(Exception):
    """The route table changed, or a hold began, while a write's body arrived: the write is
    decided again, on the table in force, with the body already read."""

    def __init__(self, body: Body) -> None:
        super().__init__()
        self.body = body


def moved_while_reading(
    method: str, store: TableStore, table: RouteTable, route: CompiledRoute | None
) -> bool:
    """Whether a write decided on ``table`` must be decided again once its body is read.

    The hold is checked when the head arrives; a slow body can arrive after a cutover held
    the route, or after it flipped the write owner and released. A write goes where the
    table says when it goes, never where it said when the write began, so no write reaches
    a side that stopped owning the data while the write's body was on its way. Reads keep
    the table they arrived with.
    """
    if method in SAFE_METHODS:
        return False
    if store.current is not table:
        return True
    return route is not None and is_held(store, route.name, method)


def write_in_flight(method: str, route: CompiledRoute | None) -> Gauge | None:
    """The in-flight gauge of a write on ``route``, raised: the caller lowers it through
    :func:`write_answered`. A cutover waits for the writes sent before its hold to be
    answered before it drains the sync (``strangler.plans.targets``), so a write the old
    owner took late is in the drain. ``None`` for a read or a request no route matched."""
    if method in SAFE_METHODS or route is None:
        return None
    gauge = metrics.writes_in_flight_of(route.name)
    gauge.inc()
    return gauge


# Failures that mean the upstream never got the write: nothing of it can still commit.
_NOT_SENT = (UpstreamUnreachable, UpstreamNotAccepted, CircuitOpen)
_NOT_SENT_CODES = frozenset({"upstream_unhealthy", "no_endpoints"})


def write_answered(gauge: Gauge, failure: BaseException | None, *, linger: float) -> None:
    """Lower ``gauge`` for a write whose upstream answered (``failure`` None) or never got
    it. A write that timed out, broke off or was cancelled may still be running at its
    upstream, whose view can commit after the proxy gave up: it stays counted ``linger``
    seconds more (the upstream's total timeout), and a cutover waits for it, or fails with
    ownership unchanged past its hold."""
    if failure is None or _never_sent(failure):
        gauge.dec()
    else:
        asyncio.get_running_loop().call_later(linger, gauge.dec)


def _never_sent(failure: BaseException) -> bool:
    return isinstance(failure, _NOT_SENT) or (
        isinstance(failure, ProxyError) and failure.code in _NOT_SENT_CODES
    )
