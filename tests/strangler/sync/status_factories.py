"""Builders of sync status documents, typed, with defaults for every field a test leaves out.

No Django: the plans' tests build the documents their sync nodes answer with these too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from strangler.sync.position import Position
from strangler.sync.status_document import (
    CursorStatus,
    DeadLetterCounts,
    ReconcileRecord,
    StreamStatus,
    SyncStatus,
    Thresholds,
)

AT = dt.datetime(2026, 11, 22, 6, 30, tzinfo=dt.UTC)


def stream_status(peer: str, **fields: Any) -> StreamStatus:
    """An idle stream to ``peer``, everything acknowledged 1.5 s ago, but for ``fields``."""
    values: dict[str, Any] = {
        "peer": peer, "state": "idle", "enabled": True, "paused_reason": "",
        "acked": Position(0, 7), "backlog": 0, "lag_seconds": 1.5,
        "heartbeat_at": AT - dt.timedelta(seconds=1.5), "last_relay_at": AT, "last_error": "",
    }  # fmt: skip
    return StreamStatus(**{**values, **fields})


def cursor_status(source: str, **fields: Any) -> CursorStatus:
    """A healthy cursor of ``source``'s stream, but for ``fields``."""
    values: dict[str, Any] = {
        "source": source, "state": "ok", "enabled": True, "cursor": Position(0, 12),
        "heartbeat_at": AT, "lag_seconds": 0.5, "applied_at": AT, "batches": 3,
        "applied": 10, "stale": 2, "dead_lettered": 0,
    }  # fmt: skip
    return CursorStatus(**{**values, **fields})


def reconcile_record(peer: str, table: str, **fields: Any) -> ReconcileRecord:
    """A clean reconcile of ``table`` with ``peer`` that finished at ``AT``, but for ``fields``."""
    values: dict[str, Any] = {
        "peer": peer, "table": table, "state": "clean", "level": "keys",
        "started_at": AT - dt.timedelta(seconds=5), "finished_at": AT, "age_seconds": 0.0,
        "rows_source": 100, "rows_peer": 100, "diverged": 0, "in_flight": 0, "converged": 0,
        "repaired": 0,
    }  # fmt: skip
    return ReconcileRecord(**{**values, **fields})


def sync_status(
    *,
    node: str = "monolith",
    streams: Sequence[StreamStatus] = (),
    cursors: Sequence[CursorStatus] = (),
    parked: dict[str, int] | None = None,
    reconciles: Sequence[ReconcileRecord] = (),
    problems: Sequence[str] = (),
) -> SyncStatus:
    """``node``'s status at ``AT``; ``parked``: dead letters parked, by source."""
    by_source = parked or {}
    return SyncStatus(
        node=node,
        at=AT,
        healthy=not problems,
        problems=tuple(problems),
        thresholds=Thresholds(),
        streams=tuple(streams),
        cursors=tuple(cursors),
        dead_letters=DeadLetterCounts(parked=sum(by_source.values()), by_source=by_source),
        backfills=(),
        last_reconcile=tuple(reconciles),
    )
