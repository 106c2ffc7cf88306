"""The sync status document, typed: what ``GET /internal/sync/status`` answers.

One frozen dataclass per part of the document (``strangler.sync.status`` says what the states
mean). Field names are the JSON keys and their order is the keys' order, so
``SyncStatus.to_json`` gives the wire form key for key and value for value: times as ISO 8601
text, positions as ``[xid, seq]``. ``SyncStatus.from_json`` reads that form back and refuses
anything else with :class:`MalformedStatus`, naming the field (``malformed sync status:
streams[0].lag_seconds must be a number or null, not '1.5'``). Keys it does not know are
ignored, so a newer node's additions do not break an older reader; a field with a default
(``registration``) may be missing, so an older node's document reads too, and is left out
while ``None``, so such a document is written back as it came.

No Django here: the plans read a node's status from the CLI, and the proxy's write guard from
the proxy, neither with Django settings.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import types
from collections.abc import Mapping
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from strangler.sync.errors import MalformedStatus
from strangler.sync.position import Position

__all__ = [
    "CURSOR_STATES",
    "LAGGING_AFTER_SECONDS",
    "STREAM_STATES",
    "STUCK_AFTER_SECONDS",
    "BackfillRecord",
    "CursorStateName",
    "CursorStatus",
    "DeadLetterCounts",
    "ReconcileRecord",
    "RegisteredTable",
    "Registration",
    "StreamStateName",
    "StreamStatus",
    "SyncStatus",
    "Thresholds",
]

# Healthy lag is under ~20 s (schedule.py: heartbeat and relay every 10 s). Past 30 s the
# stream is behind; past 60 s, three heartbeat periods without one arriving, it is stuck.
LAGGING_AFTER_SECONDS = 30.0
STUCK_AFTER_SECONDS = 60.0

StreamStateName = Literal["disabled", "paused", "stuck", "lagging", "syncing", "idle", "unknown"]
CursorStateName = Literal["disabled", "stuck", "lagging", "ok", "unknown"]
STREAM_STATES: tuple[StreamStateName, ...] = get_args(StreamStateName)
CURSOR_STATES: tuple[CursorStateName, ...] = get_args(CursorStateName)

# A field whose JSON key is not its name names its key here.
_KEY = "json_key"


@dataclasses.dataclass(frozen=True)
class Thresholds:
    """Heartbeat lag (seconds) beyond which a stream counts as lagging, and as stuck."""

    lagging_after: float = dataclasses.field(
        default=LAGGING_AFTER_SECONDS, metadata={_KEY: "lagging_after_seconds"}
    )
    stuck_after: float = dataclasses.field(
        default=STUCK_AFTER_SECONDS, metadata={_KEY: "stuck_after_seconds"}
    )


@dataclasses.dataclass(frozen=True)
class StreamStatus:
    """An outbound stream, as its source sees it: how far ``peer`` has acknowledged."""

    peer: str
    state: StreamStateName
    enabled: bool
    paused_reason: str
    acked: Position
    backlog: int
    lag_seconds: float | None
    heartbeat_at: dt.datetime | None
    last_relay_at: dt.datetime | None
    last_error: str


@dataclasses.dataclass(frozen=True)
class CursorStatus:
    """An inbound stream, as its receiver sees it: the cursor of ``source`` and its counts."""

    source: str
    state: CursorStateName
    enabled: bool
    cursor: Position
    heartbeat_at: dt.datetime | None
    lag_seconds: float | None
    applied_at: dt.datetime | None
    batches: int
    applied: int
    stale: int
    dead_lettered: int


@dataclasses.dataclass(frozen=True)
class DeadLetterCounts:
    """Dead letters parked here, in all and by the source that sent them."""

    parked: int
    by_source: Mapping[str, int]


@dataclasses.dataclass(frozen=True)
class BackfillRecord:
    """A backfill of ``table`` to ``peer``: where it stands (``runs.BackfillProgress``)."""

    peer: str
    table: str
    state: str
    rows_done: int
    rows_total: int | None
    position: str
    applied: int
    stale: int
    dead_lettered: int
    started_at: dt.datetime | None
    updated_at: dt.datetime | None
    finished_at: dt.datetime | None
    last_error: str


@dataclasses.dataclass(frozen=True)
class ReconcileRecord:
    """The last reconcile of ``table`` with ``peer`` (``runs.ReconcileRun``)."""

    peer: str
    table: str
    state: str
    level: str
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    age_seconds: float | None
    rows_source: int
    rows_peer: int
    diverged: int
    in_flight: int
    converged: int
    repaired: int


@dataclasses.dataclass(frozen=True)
class RegisteredTable:
    """A table sent to ``peer`` or received from it: ``table`` as it travels (the sender's
    table name), ``model`` the local model (``app_label.Model``)."""

    peer: str
    table: str
    model: str


@dataclasses.dataclass(frozen=True)
class Registration:
    """The node's ``STRANGLER_SYNC``, by name: its peers, what it sends and what it accepts."""

    peers: tuple[str, ...]
    sends: tuple[RegisteredTable, ...]
    receives: tuple[RegisteredTable, ...]


@dataclasses.dataclass(frozen=True)
class SyncStatus:
    """A node's sync status at ``at``; ``healthy`` is false when ``problems`` are listed."""

    node: str
    at: dt.datetime
    healthy: bool
    problems: tuple[str, ...]
    thresholds: Thresholds
    streams: tuple[StreamStatus, ...]
    cursors: tuple[CursorStatus, ...]
    dead_letters: DeadLetterCounts
    backfills: tuple[BackfillRecord, ...]
    last_reconcile: tuple[ReconcileRecord, ...]
    registration: Registration | None = None  # None from a node older than the field

    def to_json(self) -> dict[str, Any]:
        """The document as JSON-ready data, as the status endpoint answers it."""
        encoded: dict[str, Any] = _encode(self)
        return encoded

    @classmethod
    def from_json(cls, value: Any) -> SyncStatus:
        """The document in ``value`` (parsed JSON); :class:`MalformedStatus` if it is not one."""
        decoded: SyncStatus = _decode(cls, value, "")
        return decoded

    def stream_to(self, peer: str) -> StreamStatus | None:
        """The outbound stream to ``peer``, if this node has one."""
        return next((stream for stream in self.streams if stream.peer == peer), None)

    def reconciles_with(self, peer: str) -> list[ReconcileRecord]:
        """The last reconcile of each table this node sends to ``peer``."""
        return [run for run in self.last_reconcile if run.peer == peer]


def _encode(value: Any) -> Any:
    """``value`` (a field of this module's dataclasses) as JSON-ready data."""
    if isinstance(value, Position):
        return value.as_json()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            _key(f): _encode(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if getattr(value, f.name) is not None or f.default is not None
        }
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_encode(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _encode(item) for key, item in value.items()}
    return value


def _key(field: dataclasses.Field[Any]) -> str:
    return str(field.metadata.get(_KEY, field.name))


@functools.cache
def _hints(cls: Any) -> dict[str, Any]:
    return get_type_hints(cls)


def _decode(kind: Any, value: Any, where: str) -> Any:
    """``value`` read as ``kind`` (a type of this module's fields), or ``MalformedStatus``
    naming ``where`` it is in the document."""
    nullable = get_origin(kind) in (Union, types.UnionType) and type(None) in get_args(kind)
    if nullable:
        if value is None:
            return None
        [kind] = [arg for arg in get_args(kind) if arg is not type(None)]
    origin, args = get_origin(kind), get_args(kind)
    if origin is tuple and isinstance(value, list):
        return tuple(_decode(args[0], item, f"{where}[{i}]") for i, item in enumerate(value))
    if origin is Mapping and isinstance(value, dict):
        return {key: _decode(args[1], item, _at(where, key)) for key, item in value.items()}
    if dataclasses.is_dataclass(kind) and kind is not Position and isinstance(value, dict):
        return _decode_record(kind, value, where)
    found = _decode_value(kind, value)
    if found is None:
        expected = f"{_expected(kind)}{' or null' if nullable else ''}"
        place = where or "the document"
        raise MalformedStatus(
            f"malformed sync status: {place} must be {expected}, not {value!r:.80}"
        )
    return found


def _decode_record(cls: Any, value: dict[str, Any], where: str) -> Any:
    hints, found = _hints(cls), {}
    for field in dataclasses.fields(cls):
        key = _at(where, _key(field))
        if _key(field) not in value:
            if field.default is not dataclasses.MISSING:
                continue
            raise MalformedStatus(f"malformed sync status: {key} is missing")
        found[field.name] = _decode(hints[field.name], value[_key(field)], key)
    return cls(**found)


def _decode_value(kind: Any, value: Any) -> Any:
    """``value`` as the scalar ``kind``, or ``None`` when it is not one."""
    if get_origin(kind) is Literal:
        return value if isinstance(value, str) and value in get_args(kind) else None
    if kind is Position:
        return Position.from_json(value)
    if kind is dt.datetime:
        try:
            return dt.datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            return None
    if isinstance(value, bool):
        return value if kind is bool else None
    if kind is float:  # a whole number is a number too: 30.0 may come as 30
        return value if isinstance(value, int | float) else None
    return value if kind in (str, int) and isinstance(value, kind) else None


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _expected(kind: Any) -> str:
    if get_origin(kind) is Literal:
        return "one of " + ", ".join(repr(arg) for arg in get_args(kind))
    if get_origin(kind) is tuple:
        return "a list"
    return _EXPECTED.get(kind, "an object")


_EXPECTED: dict[Any, str] = {
    str: "text",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    dt.datetime: "an ISO 8601 time",
    Position: "[xid, seq] of whole numbers",
}
