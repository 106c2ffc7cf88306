"""The sync status as a person reads it in a terminal (``sync_status`` without ``--json``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from strangler.sync.status_document import SyncStatus

__all__ = ["status_lines"]


def status_lines(status: SyncStatus | Mapping[str, Any]) -> list[str]:
    """One table per part of the status, problems last. ``status`` may also be the document's
    JSON form (a node's answer, ``sync_status --json``), read with ``SyncStatus.from_json``."""
    if not isinstance(status, SyncStatus):
        status = SyncStatus.from_json(status)
    lines = [f"node {status.node}: {'healthy' if status.healthy else 'NOT healthy'}"]
    if status.streams:
        lines += ["", "outbound streams"]
        lines += _table(
            ("peer", "state", "backlog", "lag s", "last relay", "reason"),
            [
                (s.peer, s.state, s.backlog, _num(s.lag_seconds), _time(s.last_relay_at),
                 s.paused_reason or s.last_error or "")
                for s in status.streams
            ],
        )  # fmt: skip
    if status.cursors:
        lines += ["", "inbound streams"]
        lines += _table(
            ("source", "state", "cursor", "lag s", "applied", "stale", "dead-lettered"),
            [
                (c.source, c.state, f"{c.cursor.xid}:{c.cursor.seq}", _num(c.lag_seconds),
                 c.applied, c.stale, c.dead_lettered)
                for c in status.cursors
            ],
        )  # fmt: skip
    lines += ["", f"dead letters parked: {status.dead_letters.parked}"]
    if status.backfills:
        lines += ["", "backfills"]
        lines += _table(
            ("peer", "table", "state", "rows", "of", "updated"),
            [
                (b.peer, b.table, b.state, b.rows_done,
                 "-" if b.rows_total is None else b.rows_total, _time(b.updated_at))
                for b in status.backfills
            ],
        )  # fmt: skip
    if status.last_reconcile:
        lines += ["", "last reconcile"]
        lines += _table(
            ("peer", "table", "state", "diverged", "in flight", "converged", "repaired", "at"),
            [
                (r.peer, r.table, r.state, r.diverged, r.in_flight, r.converged, r.repaired,
                 _time(r.finished_at, "running"))
                for r in status.last_reconcile
            ],
        )  # fmt: skip
    if status.problems:
        lines += ["", "problems"] + [f"  - {problem}" for problem in status.problems]
    return lines


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _time(value: dt.datetime | None, missing: str = "-") -> str:
    return missing if value is None else value.isoformat()


def _table(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> list[str]:
    cells = [header, *[tuple(str(v) for v in row) for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return ["  " + "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
            for row in cells]  # fmt: skip
