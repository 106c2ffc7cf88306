"""Backfill: copy a synced table's existing rows to a peer, in resumable batches, while sync runs.

Rows are read in primary-key order (keyset: ``pk > last key sent``), each with its current
version read in the same statement (0 when the row was never written since capture was
installed), and sent to the peer's ``rows/apply``: the stream's own apply path, without its
cursor. A row deleted meanwhile has a tombstone with a higher version on the peer, so the
backfill's copy is stale there and nothing is resurrected; a row changed meanwhile reaches the
peer with its newer version by the stream, whichever arrives first.

Up to ``in_flight`` batches travel at once, each applied by its own receiver worker in its own
transaction, while this node reads the next (the key ranges never overlap, so the applies do
not wait on each other). Batches are acknowledged in key order: after every batch the peer
acknowledged *and every batch before it*, its last key is written to
``strangler_sync_backfill``. A killed backfill resumes from there (``restart`` starts over, and
so does one that had finished); a batch applied after that point is sent again and is
``stale`` on the peer. While the stream's heartbeat lag is above ``max_lag`` the backfill
waits, so the live stream keeps the receiver first. On PostgreSQL the receiver's id sequence
follows the highest id applied (``apply._sequences_advance``), so its own inserts never collide
with copied rows.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from django.utils import timezone

from strangler.sync.backfill_read import read_batch, rows_after
from strangler.sync.changelog import SendTable
from strangler.sync.config import sync_settings
from strangler.sync.errors import SyncError
from strangler.sync.models import Stream
from strangler.sync.ops_client import OpsClient, RowsApplied, peer_client
from strangler.sync.runs import BackfillProgress

__all__ = [
    "BATCH_SIZE",
    "DEFAULT_MAX_LAG_SECONDS",
    "IN_FLIGHT",
    "BackfillTick",
    "backfill_table",
    "stream_lag",
]

# Rows per batch. Backfilling 100,000 widgets between two PostgreSQL databases here, receiver
# under gunicorn (bench/bench_sync.py):
#   batch      250    500   1000   5000
#   rows/s   4,300  4,600  4,750  5,350
# Throughput is nearly flat while a batch's apply, and the receiver's transaction it holds,
# grows linearly: 1,000 keeps one call near 0.2 s, far inside the transport's 10 s timeout.
# (Figures with VALUES-list statements, one batch in flight; bench/README.md has today's.)
BATCH_SIZE = 1000
# Batches sent before the first is acknowledged. With one, the receiver waited for the sender
# and the sender for the receiver. 200,000 widgets, receiver with 2 gunicorn workers, 2 cores:
#   in flight      1       2       3       4
#   rows/s    10,500  18,700  20,400  20,800
IN_FLIGHT = 3
# A healthy stream's lag stays under ~20 s (a heartbeat and a relay pass every 10 s each,
# schedule.py); above 30 s the stream is falling behind and the backfill gives way.
DEFAULT_MAX_LAG_SECONDS = 30.0
# How often a throttled backfill looks at the lag again.
THROTTLE_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class BackfillTick:
    """Where a backfill stands, after a batch or while it waits for the stream."""

    table: str
    peer: str
    rows_done: int
    rows_total: int
    rows_per_second: float
    eta_seconds: float | None
    position: str
    lag_seconds: float | None = None  # set while throttled
    done: bool = False


def stream_lag(peer: str, *, now: dt.datetime | None = None) -> float | None:
    """Seconds since the last heartbeat the peer acknowledged (None before the first)."""
    acked = Stream.objects.filter(peer=peer).values_list("acked_heartbeat_at", flat=True).first()
    if acked is None:
        return None
    lag: float = ((now or timezone.now()) - acked).total_seconds()
    return lag


def backfill_table(
    table: SendTable,
    *,
    peer: str,
    batch_size: int = BATCH_SIZE,
    in_flight: int = IN_FLIGHT,
    restart: bool = False,
    max_lag: float = DEFAULT_MAX_LAG_SECONDS,
    client: OpsClient | None = None,
    progress: Callable[[BackfillTick], None] = lambda _: None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> BackfillProgress:
    """Copy ``table`` to ``peer`` from where the last backfill stopped; raises ``SyncError``."""
    config = sync_settings()
    client = peer_client(peer, client)
    record = _record(table, peer=peer, restart=restart)
    pk = table.model._meta.pk
    assert pk is not None
    remaining = rows_after(table, record.position)
    total = record.rows_done + remaining
    BackfillProgress.objects.filter(pk=record.pk).update(rows_total=total)
    begun, done_here = clock(), 0
    columns = {table.table: table.columns}
    window = max(1, in_flight)
    # The client's requests session is shared by the sender threads: one host, and its pool
    # holds more connections than the window.
    with ThreadPoolExecutor(max_workers=window, thread_name_prefix="backfill-send") as sender:
        pending: deque[tuple[Future[RowsApplied], int, str]] = deque()
        after = record.position
        try:
            while True:
                record.throttled_seconds += _throttle(
                    table, peer, max_lag, record, total, progress, clock, sleep
                )
                changes, last = read_batch(table, after=after, limit=batch_size)
                if changes:
                    sent = sender.submit(
                        client.rows_apply, source=config.node, columns=columns, changes=changes
                    )
                    pending.append((sent, len(changes), last))
                    after = last
                # The oldest batch is waited for when the window is full, all at the end.
                while pending and (len(pending) >= window or not changes):
                    done_here += _acknowledged(record, *pending.popleft())
                    progress(_tick(table, peer, record, total, done_here, clock() - begun))
                if not changes:
                    break
        except SyncError as exc:
            BackfillProgress.objects.filter(pk=record.pk).update(
                state=BackfillProgress.State.FAILED,
                last_error=exc.message,
                updated_at=timezone.now(),
            )
            raise
    finished = timezone.now()
    record.state = BackfillProgress.State.DONE
    record.rows_total = record.rows_done
    record.finished_at = record.updated_at = finished
    record.save(update_fields=["state", "rows_total", "finished_at", "updated_at"])
    progress(_tick(table, peer, record, record.rows_done, done_here, clock() - begun, done=True))
    return record


def _acknowledged(record: BackfillProgress, sent: Future[RowsApplied], rows: int, last: str) -> int:
    """Wait for the peer's answer to a batch and write down that it is applied; its rows."""
    answer = sent.result()
    record.position = last
    record.rows_done += rows
    record.applied += answer.applied
    record.stale += answer.stale
    record.dead_lettered += answer.dead_lettered
    record.updated_at = timezone.now()
    record.save(
        update_fields=[
            "position",
            "rows_done",
            "applied",
            "stale",
            "dead_lettered",
            "throttled_seconds",
            "updated_at",
        ]
    )
    return rows


def _record(table: SendTable, *, peer: str, restart: bool) -> BackfillProgress:
    now = timezone.now()
    record, created = BackfillProgress.objects.get_or_create(
        peer=peer, table_name=table.table, defaults={"started_at": now, "updated_at": now}
    )
    if created:
        return record
    if restart or record.state == BackfillProgress.State.DONE:
        record.position = ""
        record.rows_done = record.applied = record.stale = record.dead_lettered = 0
        record.throttled_seconds = 0.0
        record.started_at = now
        record.finished_at = None
    record.state = BackfillProgress.State.RUNNING
    record.last_error = ""
    record.updated_at = now
    record.save()
    return record


def _throttle(
    table: SendTable,
    peer: str,
    max_lag: float,
    record: BackfillProgress,
    total: int,
    progress: Callable[[BackfillTick], None],
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> float:
    """Wait while the stream's lag is above ``max_lag``; the seconds waited."""
    if max_lag <= 0:
        return 0.0
    started = clock()
    while True:
        lag = stream_lag(peer)
        if lag is None or lag <= max_lag:
            return clock() - started
        progress(
            BackfillTick(
                table=table.table,
                peer=peer,
                rows_done=record.rows_done,
                rows_total=total,
                rows_per_second=0.0,
                eta_seconds=None,
                position=record.position,
                lag_seconds=lag,
            )
        )
        sleep(THROTTLE_POLL_SECONDS)


def _tick(
    table: SendTable,
    peer: str,
    record: BackfillProgress,
    total: int,
    done_here: int,
    elapsed: float,
    *,
    done: bool = False,
) -> BackfillTick:
    rate = done_here / elapsed if elapsed > 0 else 0.0
    left = max(total - record.rows_done, 0)
    return BackfillTick(
        table=table.table,
        peer=peer,
        rows_done=record.rows_done,
        rows_total=total,
        rows_per_second=rate,
        eta_seconds=left / rate if rate > 0 else None,
        position=record.position,
        done=done,
    )
