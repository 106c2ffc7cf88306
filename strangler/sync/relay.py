"""The relay: one pass over a stream sends what the receiver has not applied yet.

A pass (docs/sync.md, "Relay"): ask the receiver for its cursor, read the next batch after it
(``changelog.batch_read``), post it, continue from the cursor the receiver answers, until the
changelog is exhausted or the time budget is spent. The receiver's cursor is the only state:
a pass that dies half-way, or two passes at once, lose and duplicate nothing (a duplicate batch
applies nothing, an overlapping one is answered ``cursor_mismatch`` and resent from the
receiver's cursor). Celery tasks, ``manage.py sync_relay`` and tests all call ``relay_stream``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from django.db import connection
from django.utils import timezone

from strangler.sync.changelog import SendTable, batch_read
from strangler.sync.config import sync_settings
from strangler.sync.errors import CaptureMissing, CursorMismatch, SchemaDrift, SyncError
from strangler.sync.models import Stream
from strangler.sync.position import Position
from strangler.sync.schema import send_tables
from strangler.sync.switch import stream_enabled, switch_tell, switch_untold
from strangler.sync.transport import ReceiverClient
from strangler.sync.triggers import capture_installed
from strangler.sync.wire import ApplyRequest

__all__ = [
    "BATCH_SIZE",
    "PASS_BUDGET_SECONDS",
    "RelayResult",
    "relay_all",
    "relay_stream",
    "stream_tables",
]

# Changes read (before coalescing) per batch. Measured relaying 10,000 new rows to a receiver
# under gunicorn, both nodes on one busy 2-core machine (tests/sync_project/bench_relay.py;
# two runs each, changes/s, and ms per batch):
#   batch        50         100         250         500          1000         2000
#   SQLite   1000-1200   1700-2400   2400-3000   3500-5000    4000-5300    5800-6000
#            (42-49 ms)  (41-58)     (84-103)    (99-144)     (189-246)    (333-344)
#   Postgres  670-1300   1200-1300   1600-1700   2100-2400    2300-2900    2400-2500
#            (38-75 ms)  (79-85)     (147-156)   (208-238)    (344-440)    (806-826)
# Small batches pay the HTTP round trip per few rows; past 500 the gain is within the noise on
# PostgreSQL while a batch's transaction (the receiver's cursor lock; on SQLite its only write
# lock, which its own users wait on) and the row-by-row fallback after a failing row (~1 ms a
# row on PostgreSQL) keep growing linearly. 500 keeps both around a quarter of a second.
BATCH_SIZE = 500
# A pass ends after this long even with changes left; the next nudge or beat continues.
# It bounds one Celery task well inside its soft time limit (tasks.py) with a batch in flight.
PASS_BUDGET_SECONDS = 30.0
# A cursor_mismatch means another pass moved the cursor meanwhile; a few restarts settle it,
# more mean something else is writing the cursor and the pass should stop and say so.
MAX_CURSOR_RESTARTS = 5


@dataclass(frozen=True)
class RelayResult:
    """What one pass over one stream did; ``stopped`` says why it ended."""

    peer: str
    stopped: str  # caught_up | budget | disabled | paused | error
    batches: int = 0
    read: int = 0
    sent: int = 0
    applied: int = 0
    stale: int = 0
    dead_lettered: int = 0
    cursor: Position | None = None
    error: str = ""


def relay_all(*, budget_seconds: float = PASS_BUDGET_SECONDS) -> list[RelayResult]:
    """One pass over every stream this node sends; a failing stream does not stop the others."""
    results = []
    for peer in sync_settings().stream_peers():
        try:
            results.append(relay_stream(peer, budget_seconds=budget_seconds))
        except SyncError as exc:
            logging.getLogger(__name__).warning("relay to %s failed: %s", peer, exc.message)
            results.append(RelayResult(peer=peer, stopped="error", error=exc.message))
    return results


def relay_stream(
    peer: str,
    *,
    client: ReceiverClient | None = None,
    budget_seconds: float = PASS_BUDGET_SECONDS,
    batch_size: int = BATCH_SIZE,
    clock: Callable[[], float] = time.monotonic,
) -> RelayResult:
    """One pass over the stream to ``peer``; a transport failure is recorded and raised."""
    config = sync_settings()
    target = config.peer(peer)
    if target is None:
        raise ValueError(f"{peer!r} is not a peer of {config.node}")
    stream, _ = Stream.objects.get_or_create(peer=peer)
    enabled = stream_enabled(peer, stream)
    if stream.enabled != enabled:
        Stream.objects.filter(pk=stream.pk).update(enabled=enabled)
    client = client or ReceiverClient(
        base_url=target.url, secret=config.secret, sender=config.node, receiver=peer
    )
    if switch_untold(stream, enabled=enabled):
        switch_tell(peer, client=client)
    if not enabled:
        return RelayResult(peer=peer, stopped="disabled")
    if stream.paused_reason:
        return RelayResult(peer=peer, stopped="paused", error=stream.paused_reason)
    try:
        tables = stream_tables(peer)
    except (SchemaDrift, CaptureMissing) as exc:
        _pause(stream, exc.message)
        return RelayResult(peer=peer, stopped="paused", error=exc.message)
    Stream.objects.filter(pk=stream.pk).update(columns={t.table: list(t.columns) for t in tables})
    try:
        result = _pass(peer, tables, client, budget_seconds, batch_size, clock)
    except SchemaDrift as exc:  # the receiver refuses our columns
        _pause(stream, exc.message)
        return RelayResult(peer=peer, stopped="paused", error=exc.message)
    except SyncError as exc:
        Stream.objects.filter(pk=stream.pk).update(
            last_error=exc.message, last_relay_at=timezone.now()
        )
        raise
    Stream.objects.filter(pk=stream.pk).update(last_error="", last_relay_at=timezone.now())
    return result


def stream_tables(peer: str) -> tuple[SendTable, ...]:
    """The stream's tables as this process's settings register them; ``SchemaDrift`` or
    ``CaptureMissing`` (the stream pauses) when one does not fit the database."""
    tables = send_tables(peer)
    missing = [t.table for t in tables if not capture_installed(connection, table=t.table)]
    if missing:
        raise CaptureMissing(
            f"no capture triggers on {', '.join(missing)}: add CaptureTable to a migration "
            "and migrate, then backfill what was written meanwhile"
        )
    return tables


def _pause(stream: Stream, reason: str) -> None:
    logging.getLogger(__name__).error("stream to %s paused: %s", stream.peer, reason)
    Stream.objects.filter(pk=stream.pk).update(
        paused_reason=reason, last_error=reason, last_relay_at=timezone.now()
    )


def _pass(
    peer: str,
    tables: tuple[SendTable, ...],
    client: ReceiverClient,
    budget_seconds: float,
    batch_size: int,
    clock: Callable[[], float],
) -> RelayResult:
    source = sync_settings().node
    deadline = clock() + budget_seconds
    result = RelayResult(peer=peer, stopped="caught_up")
    cursor = client.cursor(source=source)
    restarts = 0
    while True:
        batch = batch_read(after=cursor, tables=tables, limit=batch_size)
        if batch.read == 0:
            return replace(result, cursor=cursor)
        columns = {
            t.table: t.columns for t in tables if any(c.table == t.table for c in batch.changes)
        }
        request = ApplyRequest(
            source=source,
            start=batch.start,
            end=batch.end,
            columns=columns,
            changes=batch.changes,
            heartbeat_at=batch.heartbeat_at,
        )
        try:
            answer = client.apply(request)
        except CursorMismatch as exc:
            restarts += 1
            if restarts > MAX_CURSOR_RESTARTS:
                raise
            cursor = exc.cursor
            continue
        cursor = answer.cursor
        Stream.objects.filter(peer=peer).update(
            acked_xid=cursor.xid, acked_seq=cursor.seq, acked_heartbeat_at=answer.heartbeat_at
        )
        result = replace(
            result,
            batches=result.batches + 1,
            read=result.read + batch.read,
            sent=result.sent + len(batch.changes),
            applied=result.applied + answer.applied,
            stale=result.stale + answer.stale,
            dead_lettered=result.dead_lettered + answer.dead_lettered,
            cursor=cursor,
        )
        if batch.read < batch_size:
            return result
        if clock() >= deadline:
            return replace(result, stopped="budget")
