"""The statements a writer runs, per database: version rows, upserts and deletes for many rows.

Both writers (``writers.py``) run these: the bulk writer on a whole batch, the row-by-row
writer on one row at a time. Upserts are ``INSERT ... ON CONFLICT (pk) DO UPDATE``: a collision
on *another* unique key fails (the row is parked) instead of deleting anything. SQL rather than
the ORM's ``save()``: no signals, no ``auto_now`` overwriting the sender's timestamps, and no
per-row cost of building a query.

On PostgreSQL the rows travel as one JSON document (``json_populate_recordset(NULL::table,
%s)``: PostgreSQL reads each value with its column's own input function), and the version rows
the same way, rather than a ``VALUES`` list of one placeholder per value: the statement's text
no longer grows with the batch, and the server parses a single parameter. Django's psycopg
cursors bind on the client, and quoting arrays element by element in Python was a quarter of a
backfill receiver's time; ``json.dumps`` does the same work in C. A 1,000-row apply of widgets
here: 500 ms with ``VALUES`` lists, 30 ms with one array per column (``unnest``), 20 ms with
JSON. A value JSON cannot carry as its column reads it (bytes, a ``Jsonb``, a range) sends its
group by ``unnest`` arrays instead. SQLite has neither and keeps the ``VALUES`` lists.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models

from strangler.sync.fate import RowKey
from strangler.sync.fields import column_of
from strangler.sync.rows import PreparedRow

__all__ = ["VERSION_UPSERT", "PostgresqlStatements", "SqliteStatements"]

# The version row is written first, and the row's data only when this raised it (``RETURNING``
# says so). The rule it applies is ``fate.version_is_newer``; apply has judged every change by
# it already, from versions read at the start. This is the guard against what changed since: on
# PostgreSQL another transaction (the stream's apply while a backfill batch runs) can commit a
# newer version after that read; this statement waits for it on the unique key, sees it, and
# leaves the older copy out, which the writer reports as stale.
VERSION_UPSERT = (
    "INSERT INTO strangler_sync_row (table_name, pk, version, deleted, updated_at) "
    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (table_name, pk) DO UPDATE SET "
    "version = EXCLUDED.version, deleted = EXCLUDED.deleted, updated_at = EXCLUDED.updated_at "
    "WHERE strangler_sync_row.version < EXCLUDED.version RETURNING table_name, pk"
)
_VERSION_HEAD, _, _VERSION_TAIL = VERSION_UPSERT.partition("VALUES (%s, %s, %s, %s, %s)")
# Bound parameters per statement: SQLite allows 32,766, PostgreSQL 65,535; this stays far below
# both whatever the column count, and a 500-row batch of a narrow table is one statement.
_MAX_PARAMS = 10_000
# A column's type without its modifier (``varchar(64)`` -> ``varchar``): an explicit cast to
# ``varchar(64)`` would cut a long value silently, where the assignment to the column refuses
# it (and the row is parked as ``invalid_value``).
_TYPE_MODIFIER = re.compile(r"\([^)]*\)")


class PostgresqlStatements:
    """PostgreSQL: one JSON parameter per statement; foreign keys checked at each statement."""

    foreign_keys_at_commit = False

    def versions_raise(self, rows: Sequence[PreparedRow], now: dt.datetime) -> set[RowKey]:
        stamp = connection.ops.adapt_datetimefield_value(now)
        raised: set[RowKey] = set()
        tables: dict[str, list[PreparedRow]] = {}  # a statement per table: one name, one time
        for row in rows:
            tables.setdefault(row.target.table, []).append(row)
        for table, members in tables.items():
            document = json.dumps(
                [[r.key, r.change.version, r.change.deleted] for r in members],
                separators=(",", ":"),
            )
            with connection.cursor() as cursor:
                cursor.execute(
                    f"{_VERSION_HEAD}SELECT %s, e->>0, (e->>1)::bigint, (e->>2)::boolean, %s "  # noqa: S608
                    f"FROM json_array_elements(%s::json) AS e{_VERSION_TAIL}",
                    [table, stamp, document],
                )
                raised.update((name, key) for name, key in cursor.fetchall())
        return raised

    def rows_upsert(self, rows: Sequence[PreparedRow]) -> None:
        target, fields = rows[0].target, rows[0].fields
        columns = [column_of(field) for field in fields]
        into, conflict = _upsert_clauses(rows[0], columns)
        db = connections[DEFAULT_DB_ALIAS]  # the real wrapper: read once per value below
        arrays = [
            [field.get_db_prep_save(row.values[index][1], db) for row in rows]
            for index, field in enumerate(fields)
        ]
        document = _json_rows(columns, arrays)
        with connection.cursor() as cursor:
            if document is not None:
                names = ", ".join(connection.ops.quote_name(c) for c in columns)
                cursor.execute(
                    f"{into}SELECT {names} FROM json_populate_recordset("  # noqa: S608
                    f"NULL::{connection.ops.quote_name(target.table)}, %s::json){conflict}",
                    [document],
                )
                return
            unnest = ", ".join(f"%s::{_array_type(field)}" for field in fields)
            cursor.execute(f"{into}SELECT * FROM unnest({unnest}){conflict}", arrays)  # noqa: S608

    def rows_delete(self, rows: Sequence[PreparedRow]) -> None:
        target = rows[0].target
        quote = connection.ops.quote_name
        keys = [target.pk.get_db_prep_value(r.pk_value, connection, prepared=False) for r in rows]
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {quote(target.table)} "  # noqa: S608
                f"WHERE {quote(target.pk_column)} = ANY(%s::{_array_type(target.pk)})",
                [keys],
            )


class SqliteStatements:
    """SQLite: ``VALUES`` lists in chunks; foreign keys checked only at commit."""

    foreign_keys_at_commit = True

    def versions_raise(self, rows: Sequence[PreparedRow], now: dt.datetime) -> set[RowKey]:
        stamp = connection.ops.adapt_datetimefield_value(now)
        raised: set[RowKey] = set()
        for chunk in _chunks(rows, 5):
            params: list[Any] = []
            for r in chunk:
                params.extend([r.target.table, r.key, r.change.version, r.change.deleted, stamp])
            values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk))
            with connection.cursor() as cursor:
                cursor.execute(f"{_VERSION_HEAD}VALUES {values}{_VERSION_TAIL}", params)
                raised.update((name, key) for name, key in cursor.fetchall())
        return raised

    def rows_upsert(self, rows: Sequence[PreparedRow]) -> None:
        columns = [column_of(field) for field in rows[0].fields]
        into, conflict = _upsert_clauses(rows[0], columns)
        one = "(" + ", ".join(["%s"] * len(columns)) + ")"
        for chunk in _chunks(rows, len(columns)):
            params = [
                field.get_db_prep_save(python, connection)
                for row in chunk
                for field, python in row.values
            ]
            with connection.cursor() as cursor:
                cursor.execute(f"{into}VALUES {', '.join([one] * len(chunk))}{conflict}", params)

    def rows_delete(self, rows: Sequence[PreparedRow]) -> None:
        target = rows[0].target
        quote = connection.ops.quote_name
        for chunk in _chunks(rows, 1):
            keys = [
                target.pk.get_db_prep_value(r.pk_value, connection, prepared=False) for r in chunk
            ]
            with connection.cursor() as cursor:
                cursor.execute(
                    f"DELETE FROM {quote(target.table)} WHERE {quote(target.pk_column)} "  # noqa: S608
                    f"IN ({', '.join(['%s'] * len(keys))})",
                    keys,
                )


def _upsert_clauses(first: PreparedRow, columns: Sequence[str]) -> tuple[str, str]:
    """``INSERT INTO table (columns) `` and `` ON CONFLICT (pk) DO ...`` around the rows."""
    quote = connection.ops.quote_name
    pk_column = first.target.pk_column
    updates = [column for column in columns if column != pk_column]
    action = (
        "DO UPDATE SET " + ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in updates)
        if updates
        else "DO NOTHING"
    )
    # Identifiers come from the model's meta and are quoted; values are parameters.
    into = f"INSERT INTO {quote(first.target.table)} ({', '.join(quote(c) for c in columns)}) "
    return into, f" ON CONFLICT ({quote(pk_column)}) {action}"


def _chunks(rows: Sequence[PreparedRow], width: int) -> list[Sequence[PreparedRow]]:
    size = max(1, _MAX_PARAMS // max(1, width))
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def _json_rows(columns: Sequence[str], arrays: Sequence[Sequence[Any]]) -> str | None:
    """The rows as a JSON list of ``{column: value}``, or ``None`` if a value does not fit.

    Each value becomes what PostgreSQL's input function for its column reads: numbers and
    strings as they are, decimals, times and UUIDs as their text.
    """
    texts: list[list[Any]] = []
    for values in arrays:
        converted: list[Any] = []
        for value in values:
            if value is None or isinstance(value, str | int):  # bool is an int
                converted.append(value)
            elif isinstance(value, Decimal | uuid.UUID):
                converted.append(str(value))
            elif isinstance(value, dt.date | dt.time):  # datetime is a date
                converted.append(value.isoformat())
            elif isinstance(value, float):  # float8's input reads 'nan', 'inf', '-inf' too
                converted.append(value if math.isfinite(value) else str(value))
            else:
                return None
        texts.append(converted)
    rows = [dict(zip(columns, row, strict=True)) for row in zip(*texts, strict=True)]
    return json.dumps(rows, separators=(",", ":"))


def _array_type(field: models.Field[Any, Any]) -> str:
    """The PostgreSQL array type for a field's column values, e.g. ``numeric[]``."""
    return _TYPE_MODIFIER.sub("", str(field.db_type(connection))) + "[]"
