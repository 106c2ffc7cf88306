"""The fast path of apply: a whole batch in a few multi-row statements, or not at all.

Per-row savepoints cost four round trips a row; on PostgreSQL that is most of an apply's time
(relay.py has the figures). So apply first tries the batch's winning changes in multi-row
``INSERT ... ON CONFLICT (pk) DO UPDATE`` and ``DELETE ... WHERE pk IN`` statements inside one
savepoint. Anything that goes wrong there (a collision, a missing reference, a value a field
refuses) raises ``RowFailed``; the caller rolls the savepoint back and applies the batch row by
row, which finds and parks exactly the failing rows. The outcome is the same either way.

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
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DataError, IntegrityError, connection, connections, models

from strangler.sync.fields import column_of
from strangler.sync.rows import (
    VERSION_UPSERT,
    RowFailed,
    VersionCache,
    integrity_code,
    row_values,
)
from strangler.sync.schema import InboundTarget
from strangler.sync.wire import RowChange

__all__ = ["Winner", "rows_apply_bulk", "winner_prepare"]

# Bound parameters per statement: SQLite allows 32,766, PostgreSQL 65,535; this stays far below
# both whatever the column count, and a 500-row batch of a narrow table is one statement.
_MAX_PARAMS = 10_000
# A column's type without its modifier (``varchar(64)`` -> ``varchar``): an explicit cast to
# ``varchar(64)`` would cut a long value silently, where the assignment to the column refuses
# it (and the row is parked as ``invalid_value`` by the slow path).
_TYPE_MODIFIER = re.compile(r"\([^)]*\)")


@dataclass(frozen=True)
class Winner:
    """The change that wins for its row in this batch, with its values prepared."""

    change: RowChange
    target: InboundTarget
    pk_value: Any
    key: str
    values: tuple[tuple[models.Field[Any, Any], Any], ...]


def winner_prepare(change: RowChange, target: InboundTarget, versions: VersionCache) -> Winner:
    """Parse the change's key and values; ``RowFailed`` when the local fields refuse them."""
    pk_value, key = versions.key(target, change.pk)
    values = () if change.deleted else tuple(row_values(target, change))
    return Winner(change=change, target=target, pk_value=pk_value, key=key, values=values)


def rows_apply_bulk(winners: Sequence[Winner], *, now: dt.datetime) -> set[tuple[str, str]]:
    """Write ``winners`` (writes parents first, then deletes children first, as given).

    Returns the keys ``(table, key)`` written: the others met a version at least as new,
    committed since the caller read the versions (``rows.VERSION_UPSERT`` says why).
    """
    try:
        written = _versions(winners, now)
        kept = [w for w in winners if (w.target.table, w.key) in written]
        for group in _groups([w for w in kept if not w.change.deleted]):
            _upsert(group)
        for group in _groups([w for w in kept if w.change.deleted]):
            _delete(group)
    except IntegrityError as exc:
        raise RowFailed(integrity_code(exc), str(exc).strip()) from None
    except DataError as exc:
        raise RowFailed("invalid_value", str(exc).strip()) from None
    return written


def _groups(winners: Sequence[Winner]) -> list[list[Winner]]:
    """Consecutive winners of one table with the same columns, in the order given."""
    groups: list[list[Winner]] = []
    for winner in winners:
        shape = (winner.target.table, tuple(field for field, _ in winner.values))
        last = groups[-1][0] if groups else None
        if last is not None and (last.target.table, tuple(f for f, _ in last.values)) == shape:
            groups[-1].append(winner)
        else:
            groups.append([winner])
    return groups


def _chunks(winners: list[Winner], width: int) -> list[list[Winner]]:
    size = max(1, _MAX_PARAMS // max(1, width))
    return [winners[i : i + size] for i in range(0, len(winners), size)]


def _upsert(group: list[Winner]) -> None:
    target = group[0].target
    fields = [field for field, _ in group[0].values]
    if connection.vendor != "postgresql":
        _check_references(target, fields, group)
    quote = connection.ops.quote_name
    columns = [column_of(field) for field in fields]
    updates = [column for column in columns if column != target.pk_column]
    action = (
        "DO UPDATE SET " + ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in updates)
        if updates
        else "DO NOTHING"
    )
    into = f"INSERT INTO {quote(target.table)} ({', '.join(quote(c) for c in columns)}) "
    conflict = f" ON CONFLICT ({quote(target.pk_column)}) {action}"
    if connection.vendor == "postgresql":
        # The real wrapper, not the ``connection`` proxy: it is read once per value below.
        db = connections[DEFAULT_DB_ALIAS]
        arrays = [
            [field.get_db_prep_save(w.values[index][1], db) for w in group]
            for index, field in enumerate(fields)
        ]
        document = _json_rows(columns, arrays)
        with connection.cursor() as cursor:
            if document is not None:
                names = ", ".join(quote(c) for c in columns)
                cursor.execute(
                    f"{into}SELECT {names} FROM json_populate_recordset("  # noqa: S608
                    f"NULL::{quote(target.table)}, %s::json){conflict}",
                    [document],
                )
                return
            unnest = ", ".join(f"%s::{_array_type(field)}" for field in fields)
            cursor.execute(f"{into}SELECT * FROM unnest({unnest}){conflict}", arrays)  # noqa: S608
        return
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    for chunk in _chunks(group, len(columns)):
        params = [
            field.get_db_prep_save(python, connection)
            for winner in chunk
            for field, python in winner.values
        ]
        with connection.cursor() as cursor:
            cursor.execute(f"{into}VALUES {', '.join([row] * len(chunk))}{conflict}", params)


def _delete(group: list[Winner]) -> None:
    target = group[0].target
    quote = connection.ops.quote_name
    if connection.vendor == "postgresql":
        keys = [target.pk.get_db_prep_value(w.pk_value, connection, prepared=False) for w in group]
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {quote(target.table)} "  # noqa: S608
                f"WHERE {quote(target.pk_column)} = ANY(%s::{_array_type(target.pk)})",
                [keys],
            )
        return
    for chunk in _chunks(group, 1):
        keys = [target.pk.get_db_prep_value(w.pk_value, connection, prepared=False) for w in chunk]
        _check_referrers(target, keys)
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {quote(target.table)} WHERE {quote(target.pk_column)} "  # noqa: S608
                f"IN ({', '.join(['%s'] * len(keys))})",
                keys,
            )


def _versions(winners: Sequence[Winner], now: dt.datetime) -> set[tuple[str, str]]:
    """Raise the version rows of ``winners``; the keys whose version was below theirs."""
    written: set[tuple[str, str]] = set()
    stamp = connection.ops.adapt_datetimefield_value(now)
    head, _, tail = VERSION_UPSERT.partition("VALUES (%s, %s, %s, %s, %s)")
    if connection.vendor == "postgresql":
        # One statement per table: the table name and the time are the same for every row.
        tables: dict[str, list[Winner]] = {}
        for w in winners:
            tables.setdefault(w.target.table, []).append(w)
        for table, rows in tables.items():
            document = json.dumps(
                [[w.key, w.change.version, w.change.deleted] for w in rows],
                separators=(",", ":"),
            )
            with connection.cursor() as cursor:
                cursor.execute(
                    f"{head}SELECT %s, e->>0, (e->>1)::bigint, (e->>2)::boolean, %s "  # noqa: S608
                    f"FROM json_array_elements(%s::json) AS e{tail}",
                    [table, stamp, document],
                )
                written.update((name, key) for name, key in cursor.fetchall())
        return written
    row = "(%s, %s, %s, %s, %s)"
    for chunk in _chunks(list(winners), 5):
        params: list[Any] = []
        for w in chunk:
            params.extend([w.target.table, w.key, w.change.version, w.change.deleted, stamp])
        with connection.cursor() as cursor:
            cursor.execute(f"{head}VALUES {', '.join([row] * len(chunk))}{tail}", params)
            written.update((name, key) for name, key in cursor.fetchall())
    return written


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


# SQLite checks foreign keys at COMMIT only (rows.py says why that matters); the fast path
# checks them here, a query per foreign key and chunk, and hands any miss to the slow path.


def _check_references(
    target: InboundTarget, fields: list[models.Field[Any, Any]], group: list[Winner]
) -> None:
    quote = connection.ops.quote_name
    for index, field in enumerate(fields):
        if not field.is_relation or not getattr(field, "db_constraint", False):
            continue
        remote = field.target_field  # type: ignore[attr-defined]
        wanted = {
            remote.get_db_prep_value(w.values[index][1], connection, prepared=False)
            for w in group
            if w.values[index][1] is not None
        }
        found: set[Any] = set()
        values = list(wanted)
        for start in range(0, len(values), _MAX_PARAMS):
            part = values[start : start + _MAX_PARAMS]
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT {quote(column_of(remote))} FROM {quote(remote.model._meta.db_table)} "  # noqa: S608
                    f"WHERE {quote(column_of(remote))} IN ({', '.join(['%s'] * len(part))})",
                    part,
                )
                found.update(row[0] for row in cursor.fetchall())
        if wanted - found:
            raise RowFailed("missing_reference", f"{target.table}.{column_of(field)}")


def _check_referrers(target: InboundTarget, keys: list[Any]) -> None:
    quote = connection.ops.quote_name
    for relation in target.model._meta.related_objects:
        field = relation.field
        if not getattr(field, "db_constraint", False) or relation.many_to_many:
            continue
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT 1 FROM {quote(relation.related_model._meta.db_table)} "  # noqa: S608
                f"WHERE {quote(column_of(field))} IN ({', '.join(['%s'] * len(keys))}) LIMIT 1",
                keys,
            )
            if cursor.fetchone() is not None:
                raise RowFailed("missing_reference", f"{target.table} rows still referenced")
