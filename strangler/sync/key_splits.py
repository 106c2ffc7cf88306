"""Boundary keys that cut a key range into parts of about equal rows, read from one side.

Reconcile cuts a differing range by the keys of the side that holds more of its rows: every
``step``-th key in the order both sides share (``keys``), found by ``row_number()`` over the
range (PostgreSQL, SQLite 3.25+, MySQL 8, MariaDB 10.2), one pass along the key's index. Ranks,
not arithmetic on key values, so UUIDs and text split alike, and so do integer keys spread
thinly over the whole ``bigint`` span.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connections

from strangler.sync.key_ranges import range_test
from strangler.sync.keys import KeyOrder, key_param, key_sql
from strangler.sync.shapes import TableShape

__all__ = ["SplitRequest", "key_splits"]


@dataclass(frozen=True)
class SplitRequest:
    """``[low, high)`` (``None``: that end open), to be cut every ``step`` rows, giving at most
    ``limit`` keys (``None``: all): a long range is split a piece at a time, from its last key."""

    low: str | None
    high: str | None
    step: int
    limit: int | None = None


def key_splits(
    shape: TableShape,
    request: SplitRequest,
    *,
    order: KeyOrder,
    using: str = "default",
) -> list[str]:
    """The keys at ranks ``step + 1``, ``2 * step + 1``, ... of the range, as sent on the wire:
    each starts a part of ``step`` rows (the last may hold fewer)."""
    connection = connections[using]
    field = shape.pk_field
    column = f"t.{connection.ops.quote_name(shape.pk_column)}"
    key = key_sql(shape, column, order, connection)
    where, params = range_test(
        key, request.low, request.high, lambda wire: key_param(shape, wire, connection)
    )
    step = max(1, request.step)
    # With a limit only the rows its keys need are read: the scan stops there, not at the end.
    rows = "" if request.limit is None else f" LIMIT {step * int(request.limit) + 1}"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT k FROM (SELECT k, row_number() OVER (ORDER BY o) AS n FROM "  # noqa: S608
            f"(SELECT {column} AS k, {key} AS o FROM {connection.ops.quote_name(shape.db_table)} t "
            f"WHERE 1 = 1{where} ORDER BY {key}{rows}) a) s "
            "WHERE n > 1 AND (n - 1) %% %s = 0 ORDER BY n",
            [*params, step],
        )
        return [str(field.to_python(value)) for (value,) in cursor.fetchall()]
