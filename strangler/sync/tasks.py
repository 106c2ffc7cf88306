"""Celery tasks of the sync; each is only a nudge, the durable state is in the databases.

A lost task loses nothing (the next nudge or beat does the work), a repeated one finds nothing
new (the receiver's cursor says what was applied). Timings and ``beat_schedule()`` live in
``strangler.sync.schedule`` so a settings module can import them; they are re-exported here.
Each task records its process and the settings it holds (``workers``), for ``sync_resume``.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from strangler.sync.changelog import changes_prune, heartbeat_write
from strangler.sync.relay import PASS_BUDGET_SECONDS, relay_all, relay_stream
from strangler.sync.schedule import (
    BROKER_VISIBILITY_TIMEOUT_SECONDS,
    HARD_TIME_LIMIT_SECONDS,
    SOFT_TIME_LIMIT_SECONDS,
    beat_schedule,
)
from strangler.sync.workers import worker_seen_or_log

__all__ = [
    "BROKER_VISIBILITY_TIMEOUT_SECONDS",
    "HARD_TIME_LIMIT_SECONDS",
    "SOFT_TIME_LIMIT_SECONDS",
    "beat_schedule",
    "heartbeat",
    "prune",
    "relay",
]

_TASK_OPTIONS: dict[str, Any] = {
    "acks_late": True,
    "soft_time_limit": SOFT_TIME_LIMIT_SECONDS,
    "time_limit": HARD_TIME_LIMIT_SECONDS,
    "ignore_result": True,
}


@shared_task(name="strangler_sync.relay", **_TASK_OPTIONS)
def relay(peer: str | None = None) -> list[dict[str, Any]]:
    """One relay pass over ``peer``'s stream, or over every stream."""
    worker_seen_or_log()
    results = [relay_stream(peer, budget_seconds=PASS_BUDGET_SECONDS)] if peer else relay_all()
    return [
        {"peer": r.peer, "stopped": r.stopped, "sent": r.sent, "error": r.error} for r in results
    ]


@shared_task(name="strangler_sync.heartbeat", **_TASK_OPTIONS)
def heartbeat() -> None:
    worker_seen_or_log()
    heartbeat_write()


@shared_task(name="strangler_sync.prune", **_TASK_OPTIONS)
def prune() -> int:
    worker_seen_or_log()
    return changes_prune()
