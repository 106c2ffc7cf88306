"""The wire protocol's data (docs/sync.md, "Wire protocol"): dataclasses and their JSON.

Parsing a request body fails with ``BadRequest`` naming the field, so the relay's operator
reads what to fix in the 400 answer.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.dateparse import parse_datetime

from strangler.sync.errors import BadRequest
from strangler.sync.position import Position

__all__ = [
    "ApplyRequest",
    "ApplyResult",
    "RowChange",
    "SyncJSONEncoder",
    "apply_request_parse",
    "apply_result_parse",
    "dumps",
    "source_parse",
]


class SyncJSONEncoder(DjangoJSONEncoder):
    """Django's encoder, but lossless: it cuts datetimes to milliseconds, we keep microseconds.

    A value that comes back different from what was sent would show as a difference in every
    reconcile, so times keep full precision and bytes travel as base64 (what ``BinaryField``'s
    ``to_python`` reads back).
    """

    def default(self, o: Any) -> Any:
        if isinstance(o, dt.datetime):
            text = o.isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text
        if isinstance(o, dt.time):
            return o.isoformat()
        if isinstance(o, bytes | memoryview):
            return base64.b64encode(bytes(o)).decode("ascii")
        return super().default(o)


def dumps(value: Any) -> bytes:
    return json.dumps(value, cls=SyncJSONEncoder, separators=(",", ":")).encode()


@dataclass(frozen=True)
class RowChange:
    """One row's state: ``data`` maps sender column to value (``None`` for a tombstone)."""

    table: str
    pk: str
    version: int
    deleted: bool
    data: Mapping[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "pk": self.pk,
            "version": self.version,
            "deleted": self.deleted,
            "data": None if self.deleted else dict(self.data or {}),
        }


@dataclass(frozen=True)
class ApplyRequest:
    source: str
    start: Position
    end: Position
    columns: Mapping[str, tuple[str, ...]]
    changes: tuple[RowChange, ...]
    heartbeat_at: dt.datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "from": self.start.as_json(),
            "to": self.end.as_json(),
            "columns": {table: list(cols) for table, cols in self.columns.items()},
            "changes": [change.as_json() for change in self.changes],
            "heartbeat_at": self.heartbeat_at,
        }


@dataclass(frozen=True)
class ApplyResult:
    cursor: Position
    applied: int = 0
    stale: int = 0
    dead_lettered: int = 0
    duplicate: bool = False
    heartbeat_at: dt.datetime | None = None
    detail: Mapping[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "cursor": self.cursor.as_json(),
            "applied": self.applied,
            "stale": self.stale,
            "dead_lettered": self.dead_lettered,
            "duplicate": self.duplicate,
            "heartbeat_at": self.heartbeat_at,
        }


def source_parse(body: Any) -> str:
    source = body.get("source") if isinstance(body, dict) else None
    if not isinstance(source, str) or not source:
        raise BadRequest("'source' must be the sending node's name.")
    return source


def apply_request_parse(body: Any) -> ApplyRequest:
    """The apply request in a decoded JSON body; ``BadRequest`` names the field at fault."""
    source = source_parse(body)
    start, end = _position(body, "from"), _position(body, "to")
    if end < start:
        raise BadRequest(f"'to' {end} is before 'from' {start}.")
    columns = body.get("columns")
    if not isinstance(columns, dict) or not all(
        isinstance(cols, list) and all(isinstance(c, str) for c in cols)
        for cols in columns.values()
    ):
        raise BadRequest("'columns' must map each table to its list of column names.")
    raw_changes = body.get("changes")
    if not isinstance(raw_changes, list):
        raise BadRequest("'changes' must be a list.")
    changes = tuple(_change(raw, i, columns) for i, raw in enumerate(raw_changes))
    return ApplyRequest(
        source=source,
        start=start,
        end=end,
        columns={table: tuple(cols) for table, cols in columns.items()},
        changes=changes,
        heartbeat_at=_datetime(body.get("heartbeat_at"), "heartbeat_at"),
    )


def apply_result_parse(body: Any) -> ApplyResult:
    """The receiver's answer to an apply, as the relay reads it."""
    if not isinstance(body, dict):
        raise BadRequest("the apply answer is not a JSON object")
    counts = {key: body.get(key, 0) for key in ("applied", "stale", "dead_lettered")}
    if not all(isinstance(v, int) for v in counts.values()):
        raise BadRequest("the apply answer's counts are not integers")
    return ApplyResult(
        cursor=_position(body, "cursor"),
        applied=counts["applied"],
        stale=counts["stale"],
        dead_lettered=counts["dead_lettered"],
        duplicate=bool(body.get("duplicate", False)),
        heartbeat_at=_datetime(body.get("heartbeat_at"), "heartbeat_at"),
    )


def _position(body: Mapping[str, Any], key: str) -> Position:
    position = Position.from_json(body.get(key))
    if position is None:
        raise BadRequest(f"{key!r} must be [xid, seq], two integers >= 0.")
    return position


def _datetime(value: Any, key: str) -> dt.datetime | None:
    if value is None:
        return None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None or parsed.tzinfo is None:
        raise BadRequest(f"{key!r} must be an ISO 8601 time with a zone, or null.")
    return parsed


def _change(raw: Any, index: int, columns: Mapping[str, Sequence[str]]) -> RowChange:
    where = f"changes[{index}]"
    if not isinstance(raw, dict):
        raise BadRequest(f"{where} must be an object.")
    table, pk, version, deleted = (raw.get(k) for k in ("table", "pk", "version", "deleted"))
    if not isinstance(table, str) or table not in columns:
        raise BadRequest(f"{where}['table'] must be a table listed in 'columns'.")
    if not isinstance(pk, str) or not pk:
        raise BadRequest(f"{where}['pk'] must be the primary key as text.")
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise BadRequest(f"{where}['version'] must be an integer >= 0.")
    if not isinstance(deleted, bool):
        raise BadRequest(f"{where}['deleted'] must be true or false.")
    data = raw.get("data")
    if deleted:
        return RowChange(table=table, pk=pk, version=version, deleted=True)
    if not isinstance(data, dict) or not set(data) <= set(columns[table]):
        raise BadRequest(f"{where}['data'] must map columns listed for {table} to values.")
    return RowChange(table=table, pk=pk, version=version, deleted=False, data=data)
