"""Foreign-key checks before a write, for databases that check them only at commit.

SQLite checks Django's foreign keys at COMMIT only (Django declares them DEFERRABLE INITIALLY
DEFERRED and SQLite cannot make them immediate), where one bad row would fail the whole batch.
So there the writer checks rows before writing them: the rows an upsert points at must exist,
and no row may still point at one a delete removes. PostgreSQL checks at each statement inside
an apply (``marking.applying``), so its writer needs none of this.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection

from strangler.sync.fields import column_of
from strangler.sync.rows import PreparedRow, RowFailed

__all__ = ["references_check", "referrers_check"]

# Values per lookup: far below SQLite's 32,766 bound parameters, and one query for a batch.
_VALUES_PER_QUERY = 10_000


def references_check(rows: Sequence[PreparedRow]) -> None:
    """``RowFailed`` naming the first value of ``rows`` that references no row.

    ``rows`` are upserts of one table with the same columns (a writer's group).
    """
    if not rows:
        return
    target = rows[0].target
    for index, field in enumerate(rows[0].fields):
        if not field.is_relation or not getattr(field, "db_constraint", False):
            continue
        remote = field.target_field  # type: ignore[attr-defined]
        table = remote.model._meta.db_table
        wanted = {
            row.values[index][1]: remote.get_db_prep_value(
                row.values[index][1], connection, prepared=False
            )
            for row in rows
            if row.values[index][1] is not None
        }
        found = _present(table, column_of(remote), list(set(wanted.values())))
        for python, prepared in wanted.items():
            if prepared not in found:
                raise RowFailed(
                    "missing_reference",
                    f"{target.table}.{column_of(field)} = {python!r}: no such row in {table}",
                )


def referrers_check(rows: Sequence[PreparedRow]) -> None:
    """``RowFailed`` naming the first row of ``rows`` (deletes of one table) still referenced."""
    if not rows:
        return
    target = rows[0].target
    keys = [target.pk.get_db_prep_value(row.pk_value, connection, prepared=False) for row in rows]
    for relation in target.model._meta.related_objects:
        field = relation.field
        if not getattr(field, "db_constraint", False) or relation.many_to_many:
            continue
        table = relation.related_model._meta.db_table
        found = _present(table, column_of(field), keys, first_only=True)
        if found:
            raise RowFailed(
                "missing_reference",
                f"{target.table} row {next(iter(found))!r} is still referenced from {table}",
            )


def _present(table: str, column: str, values: list[Any], *, first_only: bool = False) -> set[Any]:
    """Of ``values``, those found in ``table.column`` (just one when ``first_only``)."""
    quote = connection.ops.quote_name
    found: set[Any] = set()
    for start in range(0, len(values), _VALUES_PER_QUERY):
        part = values[start : start + _VALUES_PER_QUERY]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {quote(column)} FROM {quote(table)} "  # noqa: S608
                f"WHERE {quote(column)} IN ({', '.join(['%s'] * len(part))})"
                + (" LIMIT 1" if first_only else ""),
                part,
            )
            found.update(row[0] for row in cursor.fetchall())
        if first_only and found:
            break
    return found
