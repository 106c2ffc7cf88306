"""A write on a held route waits at the proxy for the release (``strangler.proxy.holds`` says what a
hold is), counted in the metrics; past the hold's bound it is refused (``WritesHeld``)."""

from __future__ import annotations

import asyncio
import time

from strangler.proxy import metrics
from strangler.proxy.errors import WritesHeld
from strangler.proxy.route_config import SAFE_METHODS
from strangler.proxy.table_store import TableStore

__all__ = ["is_held", "wait_out_hold"]


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
