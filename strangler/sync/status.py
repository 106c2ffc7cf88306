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
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import DatabaseError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from strangler.sync.changelog import HEARTBEAT_TABLE
from strangler.sync.config import model_for, sync_settings
from strangler.sync.models import Change, Cursor, DeadLetter, Stream
from strangler.sync.position import Position
from strangler.sync.runs import BackfillProgress, ReconcileRun
from strangler.sync.switch import stream_enabled

__all__ = [
    "LAGGING_AFTER_SECONDS",
    "STUCK_AFTER_SECONDS",
    "Thresholds",
    "status_document",
    "status_lines",
]

# Healthy lag is under ~20 s (schedule.py: heartbeat and relay every 10 s). Past 30 s the
# stream is behind; past 60 s, three heartbeat periods without one arriving, it is stuck.
LAGGING_AFTER_SECONDS = 30.0
STUCK_AFTER_SECONDS = 60.0

_T = TypeVar("_T")


@dataclass(frozen=True)
class Thresholds:
    lagging_after: float = LAGGING_AFTER_SECONDS
    stuck_after: float = STUCK_AFTER_SECONDS


def status_document(
    *, now: dt.datetime | None = None, thresholds: Thresholds | None = None
) -> dict[str, Any]:
    """The status as JSON-ready data (see the module's docstring for the states)."""
    now = now or timezone.now()
    limits = thresholds or Thresholds()
    config = sync_settings()
    problems: list[str] = []
    streams = {s.peer: s for s in Stream.objects.filter(peer__in=config.stream_peers())}
    stream_docs = [
        _stream(peer, streams.get(peer), stream_enabled(peer, streams.get(peer)), now, limits)
        for peer in config.stream_peers()
    ]
    cursor_docs = [_cursor(c, now, limits) for c in Cursor.objects.order_by("source")]
    parked = dict(
        DeadLetter.objects.filter(status=DeadLetter.Status.PARKED)
        .values_list("source")
        .annotate(n=Count("id"))
        .values_list("source", "n")
    )
    tables = [(entry.peer, model_for(entry.model)._meta.db_table) for entry in config.outbound]
    backfills = _optional(lambda: _backfills(tables), problems)
    reconciles = _optional(lambda: _reconciles(tables, now), problems)
    for doc in stream_docs:
        if doc["state"] in ("paused", "stuck", "lagging"):
            detail = doc["paused_reason"] or f"lag {doc['lag_seconds']} s"
            problems.append(f"stream to {doc['peer']} is {doc['state']}: {detail}")
    for doc in cursor_docs:
        if doc["state"] in ("stuck", "lagging"):
            problems.append(
                f"stream from {doc['source']} is {doc['state']}: lag {doc['lag_seconds']} s"
            )
    for source, count in sorted(parked.items()):
        problems.append(f"{count} dead letter(s) from {source} parked")
    for doc in reconciles or []:
        if doc["diverged"] and doc["state"] == ReconcileRun.State.DIVERGED:
            problems.append(
                f"last reconcile of {doc['table']} with {doc['peer']} left "
                f"{doc['diverged']} diverged row(s)"
            )
    return {
        "node": config.node,
        "at": now.isoformat(),
        "healthy": not problems,
        "problems": problems,
        "thresholds": {
            "lagging_after_seconds": limits.lagging_after,
            "stuck_after_seconds": limits.stuck_after,
        },
        "streams": stream_docs,
        "cursors": cursor_docs,
        "dead_letters": {"parked": sum(parked.values()), "by_source": parked},
        "backfills": backfills or [],
        "last_reconcile": reconciles or [],
    }


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


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _lag_state(lag: float | None, limits: Thresholds) -> str | None:
    if lag is None:
        return "unknown"
    if lag > limits.stuck_after:
        return "stuck"
    if lag > limits.lagging_after:
        return "lagging"
    return None


def _stream(
    peer: str, stream: Stream | None, enabled: bool, now: dt.datetime, limits: Thresholds
) -> dict[str, Any]:
    acked = Position(stream.acked_xid, stream.acked_seq) if stream else Position(0, 0)
    after = Q(xid__gt=acked.xid) | Q(xid=acked.xid, id__gt=acked.seq)
    backlog = Change.objects.filter(after).exclude(table_name=HEARTBEAT_TABLE).count()
    lag = _age(stream.acked_heartbeat_at if stream else None, now)
    paused = stream.paused_reason if stream else ""
    if not enabled:
        state = "disabled"
    elif paused:
        state = "paused"
    else:
        state = _lag_state(lag, limits) or ("syncing" if backlog else "idle")
    return {
        "peer": peer,
        "state": state,
        "enabled": enabled,
        "paused_reason": paused,
        "acked": acked.as_json(),
        "backlog": backlog,
        "lag_seconds": lag,
        "heartbeat_at": _iso(stream.acked_heartbeat_at if stream else None),
        "last_relay_at": _iso(stream.last_relay_at if stream else None),
        "last_error": stream.last_error if stream else "",
    }


def _cursor(cursor: Cursor, now: dt.datetime, limits: Thresholds) -> dict[str, Any]:
    lag = _age(cursor.heartbeat_at, now)
    # A stream its source turned off sends no heartbeats: its lag grows by design.
    state = (_lag_state(lag, limits) or "ok") if cursor.source_enabled else "disabled"
    return {
        "source": cursor.source,
        "state": state,
        "enabled": cursor.source_enabled,
        "cursor": [cursor.xid, cursor.seq],
        "heartbeat_at": _iso(cursor.heartbeat_at),
        "lag_seconds": lag,
        "applied_at": _iso(cursor.applied_at),
        "batches": cursor.batches,
        "applied": cursor.applied,
        "stale": cursor.stale,
        "dead_lettered": cursor.dead_lettered,
    }


def _backfills(tables: list[tuple[str, str]]) -> list[dict[str, Any]]:
    wanted = set(tables)
    docs = []
    for record in BackfillProgress.objects.order_by("peer", "table_name"):
        if (record.peer, record.table_name) not in wanted:
            continue
        docs.append(
            {
                "peer": record.peer,
                "table": record.table_name,
                "state": record.state,
                "rows_done": record.rows_done,
                "rows_total": record.rows_total,
                "position": record.position,
                "applied": record.applied,
                "stale": record.stale,
                "dead_lettered": record.dead_lettered,
                "started_at": _iso(record.started_at),
                "updated_at": _iso(record.updated_at),
                "finished_at": _iso(record.finished_at),
                "last_error": record.last_error,
            }
        )
    return docs


def _reconciles(tables: list[tuple[str, str]], now: dt.datetime) -> list[dict[str, Any]]:
    docs = []
    for peer, table in tables:
        run = (
            ReconcileRun.objects.filter(peer=peer, table_name=table).order_by("-started_at").first()
        )
        if run is None:
            continue
        docs.append(
            {
                "peer": peer,
                "table": table,
                "state": run.state,
                "level": run.level,
                "started_at": _iso(run.started_at),
                "finished_at": _iso(run.finished_at),
                "age_seconds": _age(run.finished_at, now),
                "rows_source": run.rows_source,
                "rows_peer": run.rows_peer,
                "diverged": run.diverged,
                "in_flight": run.in_flight,
                "converged": run.converged,
                "repaired": run.repaired,
            }
        )
    return docs


def status_lines(document: dict[str, Any]) -> list[str]:
    """The document as a person reads it in a terminal: one table per part, problems last."""
    lines = [f"node {document['node']}: {'healthy' if document['healthy'] else 'NOT healthy'}"]
    if document["streams"]:
        lines += ["", "outbound streams"]
        lines += _table(
            ("peer", "state", "backlog", "lag s", "last relay", "reason"),
            [
                (s["peer"], s["state"], s["backlog"], _num(s["lag_seconds"]),
                 s["last_relay_at"] or "-", s["paused_reason"] or s["last_error"] or "")
                for s in document["streams"]
            ],
        )  # fmt: skip
    if document["cursors"]:
        lines += ["", "inbound streams"]
        lines += _table(
            ("source", "state", "cursor", "lag s", "applied", "stale", "dead-lettered"),
            [
                (c["source"], c["state"], f"{c['cursor'][0]}:{c['cursor'][1]}",
                 _num(c["lag_seconds"]), c["applied"], c["stale"], c["dead_lettered"])
                for c in document["cursors"]
            ],
        )  # fmt: skip
    lines += ["", f"dead letters parked: {document['dead_letters']['parked']}"]
    if document["backfills"]:
        lines += ["", "backfills"]
        lines += _table(
            ("peer", "table", "state", "rows", "of", "updated"),
            [
                (b["peer"], b["table"], b["state"], b["rows_done"],
                 "-" if b["rows_total"] is None else b["rows_total"], b["updated_at"] or "-")
                for b in document["backfills"]
            ],
        )  # fmt: skip
    if document["last_reconcile"]:
        lines += ["", "last reconcile"]
        lines += _table(
            ("peer", "table", "state", "diverged", "in flight", "converged", "repaired", "at"),
            [
                (r["peer"], r["table"], r["state"], r["diverged"], r["in_flight"],
                 r["converged"], r["repaired"], r["finished_at"] or "running")
                for r in document["last_reconcile"]
            ],
        )  # fmt: skip
    if document["problems"]:
        lines += ["", "problems"] + [f"  - {problem}" for problem in document["problems"]]
    return lines


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _table(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> list[str]:
    cells = [header, *[tuple(str(v) for v in row) for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return ["  " + "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
            for row in cells]  # fmt: skip
