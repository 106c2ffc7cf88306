"""The wire and the client of the operations endpoints: row apply, checksums, row fetches.

``POST /internal/sync/rows/apply`` applies rows without touching the stream's cursor (backfill,
reconcile's repair) through the same ``apply_changes`` as a batch; ``POST
/internal/sync/rows/resend`` asks the receiver for its own copy of rows, raised above both
sides' versions (reconcile's repair when the receiver's copy is preferred). ``POST
/internal/sync/checksum`` and ``POST /internal/sync/rows`` answer reconcile's questions about
key ranges; ``POST /internal/sync/columns`` whether it would take a stream's columns
(``sync_resume``). Bodies name the sender's table and columns; the receiver maps them through
its inbound registration, exactly as for a batch.

``OpsClient`` extends the relay's ``ReceiverClient``: same session, signature (for the call's
endpoint, sender and receiver, used once), retries and error mapping. Its read timeout (10 s)
bounds every call, so callers keep each request's work small: reconcile asks for checksums over
at most ``CHECKSUM_CHUNK_ROWS`` rows at a time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from strangler.sync.checksums import Boundaries, KeyBounds, Level, SegmentChecksum
from strangler.sync.config import sync_settings
from strangler.sync.errors import BadRequest, ReceiverError, SyncError
from strangler.sync.key_splits import SplitRequest
from strangler.sync.keys import KeyOrder
from strangler.sync.row_hash import Algorithm
from strangler.sync.row_states import RowState
from strangler.sync.transport import ReceiverClient
from strangler.sync.wire import RowChange, apply_request_parse

__all__ = [
    "Level",
    "OpsClient",
    "RowsApplied",
    "RowsResent",
    "bounds_from_json",
    "bounds_to_json",
    "checksum_from_json",
    "checksum_to_json",
    "peer_client",
    "state_from_json",
    "state_to_json",
]


@dataclass(frozen=True)
class RowsApplied:
    applied: int
    stale: int
    dead_lettered: int


@dataclass(frozen=True)
class RowsResent:
    """The receiver's copy of rows, as changes from it: its table and columns, its names."""

    columns: Mapping[str, tuple[str, ...]]
    changes: tuple[RowChange, ...]


def bounds_to_json(bounds: KeyBounds) -> dict[str, Any]:
    return {"count": bounds.count, "algorithms": list(bounds.algorithms), "order": bounds.order}


def bounds_from_json(value: Any) -> KeyBounds:
    if not isinstance(value, dict):
        raise BadRequest("'bounds' must be an object")
    count, order = value.get("count"), value.get("order")
    if not (isinstance(count, int) and isinstance(order, str)):
        raise BadRequest("'bounds' must hold an integer count and the key's order")
    offered = value.get("algorithms", ["md5"])
    known: tuple[Algorithm, ...] = tuple(a for a in ("pg", "md5") if a in offered)
    return KeyBounds(count=count, algorithms=known, order=order)


def checksum_to_json(item: SegmentChecksum) -> list[Any]:
    return [item.low, item.high, item.count, item.keys, item.rows]


def checksum_from_json(value: Any) -> SegmentChecksum:
    if not (
        isinstance(value, list)
        and len(value) == 5
        and all(part is None or isinstance(part, str) for part in value[:2])
        and all(_is_int(part) for part in value[2:4])
        and (value[4] is None or _is_int(value[4]))
    ):
        raise BadRequest("a checksum is [low, high, count, keys, rows]")
    return SegmentChecksum(
        low=value[0], high=value[1], count=value[2], keys=value[3], rows=value[4]
    )


def state_to_json(state: RowState) -> dict[str, Any]:
    return {"pk": state.pk, "version": state.version, "deleted": state.deleted, "data": state.data}


def state_from_json(value: Any) -> RowState:
    if not isinstance(value, dict):
        raise BadRequest("a row is {pk, version, deleted, data}")
    pk, version, deleted, data = (value.get(k) for k in ("pk", "version", "deleted", "data"))
    if not (
        isinstance(pk, str)
        and isinstance(version, int)
        and isinstance(deleted, bool)
        and (data is None or isinstance(data, dict))
    ):
        raise BadRequest("a row is {pk: text, version: int, deleted: bool, data: object|null}")
    return RowState(pk=pk, version=version, deleted=deleted, data=data)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def peer_client(peer: str, client: OpsClient | None = None) -> OpsClient:
    """``client``, or one for ``peer``; ``SyncError`` (``unknown_peer``) when ``peer`` is not a
    peer of this node, whichever it is."""
    config = sync_settings()
    target = config.peer(peer)
    if target is None:
        raise SyncError(f"{peer!r} is not a peer of {config.node}", code="unknown_peer")
    return client or OpsClient(
        base_url=target.url, secret=config.secret, sender=config.node, receiver=peer
    )


class OpsClient(ReceiverClient):
    """Backfill's and reconcile's calls to one receiver, as ``source``."""

    def rows_apply(
        self, *, source: str, columns: Mapping[str, Sequence[str]], changes: Sequence[RowChange]
    ) -> RowsApplied:
        body = self._call(
            "POST",
            "rows/apply",
            {
                "source": source,
                "columns": {table: list(cols) for table, cols in columns.items()},
                "changes": [change.as_json() for change in changes],
            },
        )
        try:
            return RowsApplied(
                applied=int(body["applied"]),
                stale=int(body["stale"]),
                dead_lettered=int(body["dead_lettered"]),
            )
        except (KeyError, TypeError, ValueError):
            raise self._bad_answer("rows/apply") from None

    def rows_resend(
        self, *, source: str, table: str, columns: Sequence[str], versions: Mapping[str, int]
    ) -> RowsResent:
        """The receiver's copy of the named rows of our ``table`` (pk -> our version), each
        with a version the receiver has raised above both sides'."""
        body = self._call(
            "POST",
            "rows/resend",
            {"source": source, "table": table, "columns": list(columns), "versions": versions},
        )
        try:
            parsed = apply_request_parse({**body, "source": "peer", "from": [0, 0], "to": [0, 0]})
        except (BadRequest, TypeError):
            raise self._bad_answer("rows/resend") from None
        return RowsResent(columns=parsed.columns, changes=parsed.changes)

    def columns_check(self, *, source: str, columns: Mapping[str, Sequence[str]]) -> None:
        """Whether the receiver would apply these tables' columns from ``source``:
        ``SchemaDrift`` when it would refuse them, as it refuses a batch."""
        payload = {table: list(cols) for table, cols in columns.items()}
        self._call("POST", "columns", {"source": source, "columns": payload})

    def bounds(self, *, source: str, table: str, columns: Sequence[str]) -> KeyBounds:
        ask = {**_table(source, table, columns), "level": "keys", "ranges": []}
        body = self._call("POST", "checksum", ask)
        try:
            return bounds_from_json(body["bounds"])
        except (BadRequest, KeyError, TypeError):
            raise self._bad_answer("checksum") from None

    def checksums(
        self,
        *,
        source: str,
        table: str,
        columns: Sequence[str],
        level: Level,
        ranges: Sequence[Boundaries],
        algorithm: Algorithm = "md5",
        order: KeyOrder = "native",
    ) -> list[list[SegmentChecksum]]:
        """Checksums of each segment of each range (``checksums.segment_checksums``)."""
        body = self._call(
            "POST",
            "checksum",
            {
                **_table(source, table, columns),
                "level": level,
                "algorithm": algorithm,
                "order": order,
                "ranges": [list(boundaries) for boundaries in ranges],
            },
        )
        try:
            found = [[checksum_from_json(item) for item in items] for items in body["ranges"]]
        except (BadRequest, KeyError, TypeError):
            raise self._bad_answer("checksum") from None
        if [len(items) for items in found] != [len(b) - 1 for b in ranges]:
            raise self._bad_answer("checksum")
        return found

    def splits(
        self,
        *,
        source: str,
        table: str,
        columns: Sequence[str],
        requests: Sequence[SplitRequest],
        order: KeyOrder = "native",
    ) -> list[list[str]]:
        """The peer's boundary keys of each range (``key_splits``)."""
        body = self._call(
            "POST",
            "splits",
            {
                **_table(source, table, columns),
                "order": order,
                "ranges": [[r.low, r.high, r.step, r.limit] for r in requests],
            },
        )
        found = body.get("splits") if isinstance(body, dict) else None
        if not (
            isinstance(found, list)
            and len(found) == len(requests)
            and all(isinstance(keys, list) for keys in found)
            and all(isinstance(key, str) for keys in found for key in keys)
        ):
            raise self._bad_answer("splits")
        return found

    def rows(
        self,
        *,
        source: str,
        table: str,
        columns: Sequence[str],
        span: tuple[str | None, str | None] | None = None,
        order: KeyOrder = "native",
        pks: Sequence[str] | None = None,
    ) -> list[RowState]:
        """The rows of ``span`` (``[low, high)``, in ``order``) or the rows named by ``pks``."""
        body: dict[str, Any] = _table(source, table, columns)
        if pks is not None:
            body["pks"] = list(pks)
        else:
            body["range"] = list(span or (None, None))
            body["order"] = order
        answer = self._call("POST", "rows", body)
        try:
            return [state_from_json(item) for item in answer["rows"]]
        except (BadRequest, KeyError, TypeError):
            raise self._bad_answer("rows") from None

    def _bad_answer(self, endpoint: str) -> ReceiverError:
        return ReceiverError(
            f"{self.base_url} answered {endpoint} with an unreadable body",
            code="bad_answer",
            http_status=200,
        )


def _table(source: str, table: str, columns: Sequence[str]) -> dict[str, Any]:
    """What every question about a table names: the sender, its table and its columns."""
    return {"source": source, "table": table, "columns": list(columns)}
