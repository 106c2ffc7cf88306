"""Celery timings and the beat schedule, importable from a settings module (no Django models).

Projects set ``CELERY_BEAT_SCHEDULE = {**beat_schedule(), ...}`` and their broker's visibility
timeout to at least ``BROKER_VISIBILITY_TIMEOUT_SECONDS`` (Redis and SQS read it from
``CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]``), with
``CELERY_WORKER_PREFETCH_MULTIPLIER = 1`` and ``CELERY_TASK_ACKS_LATE = True``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BROKER_VISIBILITY_TIMEOUT_SECONDS",
    "HARD_TIME_LIMIT_SECONDS",
    "HEARTBEAT_EVERY_SECONDS",
    "PRUNE_EVERY_SECONDS",
    "RELAY_EVERY_SECONDS",
    "SOFT_TIME_LIMIT_SECONDS",
    "beat_schedule",
]

# The chain, each below the next: a relay pass's budget (30 s, relay.py) plus one batch in
# flight with its retries (~25 s worst case, transport.py) < soft limit < hard limit <
# visibility timeout. A task still unacknowledged at the visibility timeout is handed to a
# second worker (acks_late); the receiver's cursor makes that harmless, the limits make it rare.
SOFT_TIME_LIMIT_SECONDS = 90
HARD_TIME_LIMIT_SECONDS = 120
BROKER_VISIBILITY_TIMEOUT_SECONDS = 600
# A relay pass every 10 s catches what no nudge announced (raw SQL, other processes' writes,
# a lost task); a heartbeat every 10 s makes lag readable to ~10 s.
RELAY_EVERY_SECONDS = 10.0
HEARTBEAT_EVERY_SECONDS = 10.0
# Pruning deletes by an indexed range; hourly keeps each run small.
PRUNE_EVERY_SECONDS = 3600.0


def beat_schedule(
    *,
    relay_every: float = RELAY_EVERY_SECONDS,
    heartbeat_every: float = HEARTBEAT_EVERY_SECONDS,
    prune_every: float = PRUNE_EVERY_SECONDS,
) -> dict[str, dict[str, Any]]:
    """Entries for ``CELERY_BEAT_SCHEDULE``; each expires after its own period (no pile-up)."""
    return {
        name: {"task": name, "schedule": every, "options": {"expires": every}}
        for name, every in (
            ("strangler_sync.relay", relay_every),
            ("strangler_sync.heartbeat", heartbeat_every),
            ("strangler_sync.prune", prune_every),
        )
    }
