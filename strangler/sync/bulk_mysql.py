"""The writers' statements on MySQL/MariaDB (``bulk.py`` has PostgreSQL's and SQLite's).

MySQL has neither ``RETURNING`` nor an upsert bound to one key, so each step reads first:

- Version rows: the batch's rows are read ``FOR UPDATE`` (waiting, as PostgreSQL's
  ``ON CONFLICT`` does, for a transaction writing one of them: a newer version committed since
  apply read the versions is seen and wins). Rows of older versions are updated, rows not there
  yet inserted. Should another transaction insert one of those meanwhile, the insert fails on
  the unique key inside its savepoint and the rows are read again.
- Data rows: ``INSERT ... ON DUPLICATE KEY UPDATE`` fires on *any* unique key, and would
  overwrite another row that happens to share a unique value with the incoming one. So the
  rows there already are read ``FOR UPDATE`` and updated by primary key (one statement joining
  the new values), and the others inserted; a collision on another unique key fails as on
  PostgreSQL (the row is parked).

InnoDB checks foreign keys at each row: a row that breaks one fails inside its own statement.
Values travel as ``VALUES`` lists and ``UNION ALL`` selects, interpolated by the client
(MySQLdb), in statements of at most ``_MAX_PARAMS`` values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction

from strangler.sync.bulk import SqliteStatements
from strangler.sync.fate import RowKey
from strangler.sync.fields import column_of
from strangler.sync.rows import PreparedRow

__all__ = ["MysqlStatements"]

# ER_DUP_ENTRY: another transaction inserted a version row between our read and our insert.
_DUPLICATE_ENTRY = 1062
# Values per statement: far below max_allowed_packet (16 MB by default) for ordinary rows, and
# the same bound the other databases' statements keep.
_MAX_PARAMS = 10_000


class MysqlStatements:
    """MySQL/MariaDB: read the keys ``FOR UPDATE``, then update and insert apart."""

    foreign_keys_at_commit = False

    def versions_raise(self, rows: Sequence[PreparedRow], now: dt.datetime) -> set[RowKey]:
        stamp = connection.ops.adapt_datetimefield_value(now)
        # In (table, key) order, the unique index's: two applies locking the same version rows
        # (the stream's and a backfill's) take them in one order and cannot deadlock.
        tables: dict[str, list[PreparedRow]] = {}
        for row in sorted(rows, key=lambda r: (r.target.table, r.key.encode())):
            tables.setdefault(row.target.table, []).append(row)
        raised: set[RowKey] = set()
        for table, members in tables.items():
            raised.update((table, row.key) for row in _versions_raise(table, members, stamp))
        return raised

    def rows_upsert(self, rows: Sequence[PreparedRow]) -> None:
        target = rows[0].target
        there = _keys_locked(target.table, target.pk_column, rows)
        _rows_update(rows[0], [row for row in rows if row.key in there])
        _rows_insert(rows[0], [row for row in rows if row.key not in there])

    def rows_delete(self, rows: Sequence[PreparedRow]) -> None:
        SqliteStatements().rows_delete(rows)  # the same ``DELETE ... IN`` lists


def _versions_raise(table: str, rows: Sequence[PreparedRow], stamp: Any) -> list[PreparedRow]:
    """Write the version rows of one table where theirs is newer; the rows that were raised."""
    for _attempt in range(len(rows) + 1):  # each retry finds one more row there
        stored = _versions_locked(table, [row.key for row in rows])
        newer = [r for r in rows if r.key in stored and stored[r.key] < r.change.version]
        absent = [r for r in rows if r.key not in stored]
        try:
            with transaction.atomic():
                _versions_insert(table, absent, stamp)
        except IntegrityError as exc:
            if _errno(exc) != _DUPLICATE_ENTRY:
                raise
            continue
        _versions_update(table, newer, stamp)
        return [*newer, *absent]
    raise RuntimeError(f"the version rows of {table} kept changing under the apply")


def _versions_locked(table: str, keys: Sequence[str]) -> dict[str, int]:
    """The stored versions of ``keys``, locked until commit (the index scan goes in key order)."""
    stored: dict[str, int] = {}
    for start in range(0, len(keys), _MAX_PARAMS):
        part = keys[start : start + _MAX_PARAMS]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pk, version FROM strangler_sync_row WHERE table_name = %s "  # noqa: S608
                f"AND pk IN ({_marks(len(part))}) ORDER BY pk FOR UPDATE",
                [table, *part],
            )
            stored.update((str(pk), int(version)) for pk, version in cursor.fetchall())
    return stored


def _versions_insert(table: str, rows: Sequence[PreparedRow], stamp: Any) -> None:
    for chunk in _chunks(rows, 5):
        params: list[Any] = []
        for r in chunk:
            params.extend([table, r.key, r.change.version, r.change.deleted, stamp])
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO strangler_sync_row (table_name, pk, version, deleted, updated_at) "  # noqa: S608
                f"VALUES {', '.join(['(%s, %s, %s, %s, %s)'] * len(chunk))}",
                params,
            )


def _versions_update(table: str, rows: Sequence[PreparedRow], stamp: Any) -> None:
    for chunk in _chunks(rows, 5):
        cases = " ".join(["WHEN %s THEN %s"] * len(chunk))
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE strangler_sync_row SET version = CASE pk {cases} END, "  # noqa: S608
                f"deleted = CASE pk {cases} END, updated_at = %s "
                f"WHERE table_name = %s AND pk IN ({_marks(len(chunk))})",
                [
                    *(p for r in chunk for p in (r.key, r.change.version)),
                    *(p for r in chunk for p in (r.key, r.change.deleted)),
                    stamp,
                    table,
                    *(r.key for r in chunk),
                ],
            )


def _keys_locked(table: str, pk_column: str, rows: Sequence[PreparedRow]) -> set[str]:
    """The keys of ``rows`` that are in ``table``, as key texts, locked until commit."""
    quote = connection.ops.quote_name
    target = rows[0].target
    found: set[str] = set()
    for chunk in _chunks(rows, 1):
        keys = [target.pk.get_db_prep_value(r.pk_value, connection, prepared=False) for r in chunk]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {quote(pk_column)} FROM {quote(table)} "  # noqa: S608
                f"WHERE {quote(pk_column)} IN ({_marks(len(keys))}) FOR UPDATE",
                keys,
            )
            found.update(str(row[0]) for row in cursor.fetchall())
    return found


def _rows_update(first: PreparedRow, rows: Sequence[PreparedRow]) -> None:
    """Update rows by primary key from one derived table of their new values."""
    quote = connection.ops.quote_name
    columns = [column_of(field) for field in first.fields]
    pk_column = first.target.pk_column
    updates = [c for c in columns if c != pk_column]
    if not rows or not updates:
        return
    named = ", ".join(f"%s AS {quote(c)}" for c in columns)
    assign = ", ".join(f"t.{quote(c)} = v.{quote(c)}" for c in updates)
    for chunk in _chunks(rows, len(columns)):
        plain = [f"SELECT {_marks(len(columns))}"] * (len(chunk) - 1)
        selects = " UNION ALL ".join([f"SELECT {named}", *plain])
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {quote(first.target.table)} AS t JOIN ({selects}) AS v "  # noqa: S608
                f"ON t.{quote(pk_column)} = v.{quote(pk_column)} SET {assign}",
                _values(chunk),
            )


def _rows_insert(first: PreparedRow, rows: Sequence[PreparedRow]) -> None:
    quote = connection.ops.quote_name
    columns = [column_of(field) for field in first.fields]
    one = f"({_marks(len(columns))})"
    names = ", ".join(quote(c) for c in columns)
    for chunk in _chunks(rows, len(columns)):
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {quote(first.target.table)} ({names}) "  # noqa: S608
                f"VALUES {', '.join([one] * len(chunk))}",
                _values(chunk),
            )


def _values(rows: Sequence[PreparedRow]) -> list[Any]:
    """The rows' values as parameters, row after row."""
    db = connections[DEFAULT_DB_ALIAS]  # the real wrapper: read once per value below
    return [field.get_db_prep_save(python, db) for row in rows for field, python in row.values]


def _errno(exc: Exception) -> int | None:
    args = getattr(exc.__cause__, "args", None) or exc.args
    return args[0] if args and isinstance(args[0], int) else None


def _marks(count: int) -> str:
    return ", ".join(["%s"] * count)


def _chunks(rows: Sequence[PreparedRow], width: int) -> list[Sequence[PreparedRow]]:
    size = max(1, _MAX_PARAMS // max(1, width))
    return [rows[i : i + size] for i in range(0, len(rows), size)]
