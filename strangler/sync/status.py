"""The node's sync status: one document for ``GET /internal/sync/status``, the CLI and metrics.

Source side, per stream: backlog (data changes after the receiver's cursor as it last answered;
heartbeats are not counted), lag (age of the last heartbeat the receiver acknowledged), and a
state telling idle from stuck: a heartbeat is a change like any other, so an idle stream keeps
a small lag (heartbeat and relay every 10 s: under ~20 s) while a stuck one's lag grows.

    disabled   the registration turns the stream off
    paused     schema drift or missing capture stopped it (``paused_reason`` says why)
    stuck      lag above ``stuck_after`` (60 s): nothing is getting through
    lagging    lag above ``lagging_after`` (30 s): getting through, but behind
    syncing    a backlog, with fresh heartbeats
    idle       no backlog, fresh heartbeats
    unknown    no heartbeat acknowledged yet (heartbeats are a beat task: is beat running?)

Receiver side, per source: cursor, heartbeat lag and counters, and a state: ``ok``,
``lagging`` or ``stuck`` by the same thresholds, or ``disabled`` when the source has said it
turned the stream off (``sync_stream --disable``, a plan's rollback): not a problem then.
Both sides: parked dead letters, backfills and the last reconcile per table. ``healthy`` is
false, with ``problems`` saying why, when a stream is stuck, lagging or paused, letters are
parked, or a reconcile left divergence.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from django.db import DatabaseError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from strangler.sync.changelog import HEARTBEAT_TABLE
from strangler.sync.config import SyncSettings, model_for, sync_settings
from strangler.sync.models import Change, Cursor, DeadLetter, Stream
from strangler.sync.position import Position
from strangler.sync.runs import BackfillProgress, ReconcileRun
from strangler.sync.status_document import (
    LAGGING_AFTER_SECONDS,
    STUCK_AFTER_SECONDS,
    BackfillRecord,
    CursorStateName,
    CursorStatus,
    DeadLetterCounts,
    ReconcileRecord,
    RegisteredTable,
    Registration,
    StreamStateName,
    StreamStatus,
    SyncStatus,
    Thresholds,
)
from strangler.sync.status_text import status_lines
from strangler.sync.switch import stream_enabled

__all__ = [
    "LAGGING_AFTER_SECONDS",
    "STUCK_AFTER_SECONDS",
    "Thresholds",
    "status_document",
    "status_lines",
    "status_read",
]

_T = TypeVar("_T")


def status_read(
    *, now: dt.datetime | None = None, thresholds: Thresholds | None = None
) -> SyncStatus:
    """This node's status (see the module's docstring for the states)."""
    now = now or timezone.now()
    limits = thresholds or Thresholds()
    config = sync_settings()
    problems: list[str] = []
    streams = {s.peer: s for s in Stream.objects.filter(peer__in=config.stream_peers())}
    outbound = [
        _stream(peer, streams.get(peer), stream_enabled(peer, streams.get(peer)), now, limits)
        for peer in config.stream_peers()
    ]
    inbound = [_cursor(c, now, limits) for c in Cursor.objects.order_by("source")]
    parked: dict[str, int] = dict(
        DeadLetter.objects.filter(status=DeadLetter.Status.PARKED)
        .values_list("source")
        .annotate(n=Count("id"))
        .values_list("source", "n")
    )
    tables = [(entry.peer, model_for(entry.model)._meta.db_table) for entry in config.outbound]
    backfills = _optional(lambda: _backfills(tables), problems)
    reconciles = _optional(lambda: _reconciles(tables, now), problems)
    for stream in outbound:
        if stream.state in ("paused", "stuck", "lagging"):
            detail = stream.paused_reason or f"lag {stream.lag_seconds} s"
            problems.append(f"stream to {stream.peer} is {stream.state}: {detail}")
    for cursor in inbound:
        if cursor.state in ("stuck", "lagging"):
            problems.append(
                f"stream from {cursor.source} is {cursor.state}: lag {cursor.lag_seconds} s"
            )
    for source, count in sorted(parked.items()):
        problems.append(f"{count} dead letter(s) from {source} parked")
    for run in reconciles or []:
        if run.diverged and run.state == ReconcileRun.State.DIVERGED:
            problems.append(
                f"last reconcile of {run.table} with {run.peer} left {run.diverged} diverged row(s)"
            )
    return SyncStatus(
        node=config.node,
        at=now,
        healthy=not problems,
        problems=tuple(problems),
        thresholds=limits,
        streams=tuple(outbound),
        cursors=tuple(inbound),
        dead_letters=DeadLetterCounts(parked=sum(parked.values()), by_source=parked),
        backfills=tuple(backfills or ()),
        last_reconcile=tuple(reconciles or ()),
        registration=_registration(config),
    )


def _registration(config: SyncSettings) -> Registration:
    """The registration by name, for a plan to check its names against (``plans.preflight``)."""
    return Registration(
        peers=tuple(peer.name for peer in config.peers),
        sends=tuple(
            RegisteredTable(entry.peer, model_for(entry.model)._meta.db_table, entry.model)
            for entry in config.outbound
        ),
        receives=tuple(
            RegisteredTable(entry.source, entry.table, entry.model) for entry in config.inbound
        ),
    )


def status_document(
    *, now: dt.datetime | None = None, thresholds: Thresholds | None = None
) -> dict[str, Any]:
    """The status as JSON-ready data: what ``GET /internal/sync/status`` answers."""
    return status_read(now=now, thresholds=thresholds).to_json()


def _optional(read: Callable[[], _T], problems: list[str]) -> _T | None:
    """``read()``, or None when its table is missing (code upgraded, ``migrate`` not yet run)."""
    try:
        with transaction.atomic():  # a savepoint: a failed read leaves the caller's transaction
            return read()
    except DatabaseError as exc:
        problems.append(f"backfill and reconcile records unreadable ({exc}); run migrate")
        return None


def _age(then: dt.datetime | None, now: dt.datetime) -> float | None:
    return round((now - then).total_seconds(), 3) if then is not None else None


def _lag_state(
    lag: float | None, limits: Thresholds
) -> Literal["unknown", "stuck", "lagging"] | None:
    if lag is None:
        return "unknown"
    if lag > limits.stuck_after:
        return "stuck"
    if lag > limits.lagging_after:
        return "lagging"
    return None


def _stream(
    peer: str, stream: Stream | None, enabled: bool, now: dt.datetime, limits: Thresholds
) -> StreamStatus:
    acked = Position(stream.acked_xid, stream.acked_seq) if stream else Position(0, 0)
    after = Q(xid__gt=acked.xid) | Q(xid=acked.xid, id__gt=acked.seq)
    backlog = Change.objects.filter(after).exclude(table_name=HEARTBEAT_TABLE).count()
    lag = _age(stream.acked_heartbeat_at if stream else None, now)
    paused = stream.paused_reason if stream else ""
    state: StreamStateName
    if not enabled:
        state = "disabled"
    elif paused:
        state = "paused"
    else:
        state = _lag_state(lag, limits) or ("syncing" if backlog else "idle")
    return StreamStatus(
        peer=peer,
        state=state,
        enabled=enabled,
        paused_reason=paused,
        acked=acked,
        backlog=backlog,
        lag_seconds=lag,
        heartbeat_at=stream.acked_heartbeat_at if stream else None,
        last_relay_at=stream.last_relay_at if stream else None,
        last_error=stream.last_error if stream else "",
    )


def _cursor(cursor: Cursor, now: dt.datetime, limits: Thresholds) -> CursorStatus:
    lag = _age(cursor.heartbeat_at, now)
    # A stream its source turned off sends no heartbeats: its lag grows by design.
    state: CursorStateName = (
        (_lag_state(lag, limits) or "ok") if cursor.source_enabled else "disabled"
    )
    return CursorStatus(
        source=cursor.source,
        state=state,
        enabled=cursor.source_enabled,
        cursor=Position(cursor.xid, cursor.seq),
        heartbeat_at=cursor.heartbeat_at,
        lag_seconds=lag,
        applied_at=cursor.applied_at,
        batches=cursor.batches,
        applied=cursor.applied,
        stale=cursor.stale,
        dead_lettered=cursor.dead_lettered,
    )


def _backfills(tables: list[tuple[str, str]]) -> list[BackfillRecord]:
    wanted = set(tables)
    return [
        BackfillRecord(
            peer=record.peer,
            table=record.table_name,
            state=record.state,
            rows_done=record.rows_done,
            rows_total=record.rows_total,
            position=record.position,
            applied=record.applied,
            stale=record.stale,
            dead_lettered=record.dead_lettered,
            started_at=record.started_at,
            updated_at=record.updated_at,
            finished_at=record.finished_at,
            last_error=record.last_error,
        )
        for record in BackfillProgress.objects.order_by("peer", "table_name")
        if (record.peer, record.table_name) in wanted
    ]


def _reconciles(tables: list[tuple[str, str]], now: dt.datetime) -> list[ReconcileRecord]:
    records = []
    for peer, table in tables:
        run = (
            ReconcileRun.objects.filter(peer=peer, table_name=table).order_by("-started_at").first()
        )
        if run is None:
            continue
        records.append(
            ReconcileRecord(
                peer=peer,
                table=table,
                state=run.state,
                level=run.level,
                started_at=run.started_at,
                finished_at=run.finished_at,
                age_seconds=_age(run.finished_at, now),
                rows_source=run.rows_source,
                rows_peer=run.rows_peer,
                diverged=run.diverged,
                in_flight=run.in_flight,
                converged=run.converged,
                repaired=run.repaired,
            )
        )
    return records
