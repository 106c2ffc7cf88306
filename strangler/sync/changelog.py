"""The source side's reads and writes of the changelog: batches, heartbeats, pruning.

``batch_read`` is the heart of the ordering guarantee (docs/sync.md, "Relay"): it reads the
changes after a position in ``(xid, seq)`` order and, on PostgreSQL, only those of transactions
below the read horizon (``horizon``: the oldest transaction of this database still open). Every
transaction below it has ended, so no change can appear later at a position before one we read.
Rows are read in the same REPEATABLE READ snapshot, as they are *now*, with the version they
have now: a newer state always wins on the receiver, so coalescing repeats of a row and
resending are safe. On MySQL/MariaDB a locking read waits for a writer that holds an earlier
change open (``mysql_changes``), and rows are read in READ COMMITTED, as they are once it ended.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.utils import timezone

from strangler.sync.config import OutboundTable, model_for, sync_settings
from strangler.sync.fields import column_of, pk_of
from strangler.sync.horizon import read_horizon
from strangler.sync.models import Change, RowVersion, Stream
from strangler.sync.mysql_changes import mysql_changes_after
from strangler.sync.position import Position
from strangler.sync.wire import RowChange

__all__ = [
    "HEARTBEAT_TABLE",
    "Batch",
    "SendTable",
    "backlog_count",
    "batch_read",
    "changes_prune",
    "heartbeat_write",
    "send_table",
]

# Heartbeats travel as changelog rows of this pseudo-table: in order with the data, so the
# receiver's last heartbeat says how far behind the stream is (lag), not just that it lives.
HEARTBEAT_TABLE = "strangler_sync.heartbeat"
# Row-value comparison walks the (xid, id) index in order on both engines.
_AFTER = (
    "SELECT id, xid, table_name, pk, created_at FROM strangler_sync_change "
    "WHERE (xid, id) > (%s, %s) ORDER BY xid, id LIMIT %s"
)
_AFTER_BELOW_HORIZON = (
    "SELECT id, xid, table_name, pk, created_at FROM strangler_sync_change "
    "WHERE (xid, id) > (%s, %s) AND xid < %s ORDER BY xid, id LIMIT %s"
)


@dataclass(frozen=True)
class SendTable:
    """An outbound table resolved against its model: what to read and send."""

    entry: OutboundTable
    model: type[models.Model]
    table: str
    columns: tuple[str, ...]  # sent columns, in registration order
    attnames: tuple[str, ...]  # the model attributes of those columns

    def pk_value(self, text: str) -> Any:
        return pk_of(self.model).to_python(text)


@dataclass(frozen=True)
class Batch:
    """Changes after ``start`` up to ``end``; ``read`` counts changelog rows, coalesced or not."""

    start: Position
    end: Position
    read: int
    changes: tuple[RowChange, ...]
    heartbeat_at: dt.datetime | None


def send_table(entry: OutboundTable) -> SendTable:
    """``entry`` resolved; a listed column that is not a model field raises ``LookupError``."""
    model = model_for(entry.model)
    by_column = {column_of(f): f for f in model._meta.concrete_fields}
    by_name = {f.name: f for f in model._meta.concrete_fields}
    columns: list[str] = []
    attnames: list[str] = []
    for name in entry.fields:
        field = by_column.get(name) or by_name.get(name)
        if field is None:
            raise LookupError(name)
        columns.append(column_of(field))
        attnames.append(field.attname)
    return SendTable(
        entry=entry,
        model=model,
        table=model._meta.db_table,
        columns=tuple(columns),
        attnames=tuple(attnames),
    )


def batch_read(
    *, after: Position, tables: Sequence[SendTable], limit: int, using: str = "default"
) -> Batch:
    """The next batch after ``after`` for a stream sending ``tables``, read in one snapshot."""
    vendor = connection.vendor
    if vendor in ("postgresql", "mysql") and connection.in_atomic_block:
        raise RuntimeError("batch_read needs a transaction of its own")
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            if vendor == "postgresql":
                # First statement of the transaction: the snapshot the horizon is read
                # from is the one every row below is read in.
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                horizon = read_horizon(cursor)
                cursor.execute(_AFTER_BELOW_HORIZON, [after.xid, after.seq, horizon, limit])
                rows = cursor.fetchall()
            elif vendor == "mysql":
                # Before the transaction's first statement: each read below sees what is
                # committed when it runs, the writers it waited for included.
                cursor.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
                rows = mysql_changes_after(cursor, after=after, limit=limit, using=using)
            else:
                cursor.execute(_AFTER, [after.xid, after.seq, limit])
                rows = cursor.fetchall()
        if not rows:
            return Batch(start=after, end=after, read=0, changes=(), heartbeat_at=None)
        last = rows[-1]
        end = Position(xid=int(last[1]), seq=int(last[0]))
        heartbeats = [_aware(row[4]) for row in rows if row[2] == HEARTBEAT_TABLE]
        changes = _rows_now(rows, tables)
    return Batch(
        start=after,
        end=end,
        read=len(rows),
        changes=changes,
        heartbeat_at=max(heartbeats) if heartbeats else None,
    )


def _aware(value: Any) -> dt.datetime:
    if isinstance(value, str):  # SQLite hands raw cursor values back as text
        value = dt.datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return value  # type: ignore[no-any-return]


def _rows_now(rows: Sequence[Sequence[Any]], tables: Sequence[SendTable]) -> tuple[RowChange, ...]:
    """Coalesce the batch to one entry per row and read each row's data and version now."""
    by_table = {table.table: table for table in tables}
    latest: dict[tuple[str, str], int] = {}
    for seq, _xid, table_name, pk, _at in rows:
        if table_name in by_table:
            latest[(table_name, pk)] = int(seq)  # the last sighting orders the row
    keys = sorted(latest, key=latest.__getitem__)
    changes: list[RowChange] = []
    for table_name, pks in _group(keys).items():
        table = by_table[table_name]
        versions = {
            rv.row_pk: rv for rv in RowVersion.objects.filter(table_name=table_name, row_pk__in=pks)
        }
        data = _data_now(table, pks)
        for pk in pks:
            version = versions.get(pk)
            values = data.get(pk)
            deleted = values is None or (version is not None and version.deleted)
            changes.append(
                RowChange(
                    table=table_name,
                    pk=pk,
                    version=version.version if version is not None else 0,
                    deleted=deleted,
                    data=None if deleted else values,
                )
            )
    order = {key: i for i, key in enumerate(keys)}
    changes.sort(key=lambda change: order[(change.table, change.pk)])
    return tuple(changes)


def _group(keys: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for table, pk in keys:
        grouped.setdefault(table, []).append(pk)
    return grouped


def _data_now(table: SendTable, pks: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Current column values of the rows ``pks`` (text keys as the changelog holds them)."""
    wanted: dict[Any, str] = {}
    for text in pks:
        try:
            wanted[table.pk_value(text)] = text
        except (ValidationError, ValueError, TypeError):  # not a key any more: treat as gone
            continue
    pk_attname = pk_of(table.model).attname
    found: dict[str, dict[str, Any]] = {}
    rows = table.model._base_manager.filter(pk__in=list(wanted)).values(pk_attname, *table.attnames)
    for row in rows:
        key = wanted.get(row[pk_attname])
        if key is not None:
            found[key] = {
                col: row[att] for col, att in zip(table.columns, table.attnames, strict=True)
            }
    return found


def heartbeat_write(*, now: dt.datetime | None = None) -> None:
    """Append a heartbeat to the changelog; it reaches every peer in order with the data."""
    node = sync_settings().node
    created = now or timezone.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO strangler_sync_change (table_name, pk, version, deleted, xid, "
                "created_at) VALUES (%s, %s, 0, false, pg_current_xact_id()::text::bigint, %s)",
                [HEARTBEAT_TABLE, node, created],
            )
    else:
        Change.objects.create(
            table_name=HEARTBEAT_TABLE, row_pk=node, version=0, xid=0, created_at=created
        )


def changes_prune(*, now: dt.datetime | None = None) -> int:
    """Delete changes every stream's receiver has applied, once older than the retention.

    A stream that never answered (or a peer without a stream row yet) keeps everything: its
    receiver may still need all of it.
    """
    config = sync_settings()
    peers = config.stream_peers()
    if not peers:
        return 0
    streams = list(Stream.objects.filter(peer__in=peers))
    if len(streams) < len(peers):
        return 0
    floor = min(Position(xid=s.acked_xid, seq=s.acked_seq) for s in streams)
    cutoff = (now or timezone.now()) - dt.timedelta(seconds=config.retention_seconds)
    applied = models.Q(xid__lt=floor.xid) | models.Q(xid=floor.xid, id__lte=floor.seq)
    deleted, _ = Change.objects.filter(applied, created_at__lt=cutoff).delete()
    return deleted


def backlog_count(*, after: Position) -> int:
    """Changes after ``after`` (a receiver's cursor): the stream's backlog."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM strangler_sync_change WHERE (xid, id) > (%s, %s)",
            [after.xid, after.seq],
        )
        return int(cursor.fetchone()[0])
