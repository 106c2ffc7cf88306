"""Reading a table's rows for the backfill: keyset batches in primary-key order, each row with
its current version, in one statement (``strangler.sync.backfill`` sends them).

On PostgreSQL with time zones on, the database renders the values in their wire form
(``_rendered_columns``); elsewhere the ORM reads them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import OuterRef, Subquery, TextField
from django.db.models.functions import Cast

from strangler.sync.changelog import SendTable
from strangler.sync.fields import column_of
from strangler.sync.models import RowVersion
from strangler.sync.shapes import column_kind
from strangler.sync.wire import RowChange

__all__ = ["read_batch", "rows_after"]

_VERSION = "_strangler_version"
# How SyncJSONEncoder writes an aware datetime in UTC (to_char's pattern; microseconds always).
_UTC_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'


def rows_after(table: SendTable, position: str) -> int:
    """How many rows lie after key ``position`` (all of them for an empty position)."""
    rows = table.model._base_manager.all()
    if position:
        rows = rows.filter(pk__gt=table.pk_value(position))
    return rows.count()


def read_batch(table: SendTable, *, after: str, limit: int) -> tuple[list[RowChange], str]:
    """The next ``limit`` rows after key ``after``, each with its version (one statement)."""
    pk = table.model._meta.pk
    assert pk is not None
    rendered = _rendered_columns(table)
    if rendered is not None:
        return _batch_read_rendered(table, rendered, after=after, limit=limit)
    version = RowVersion.objects.filter(
        table_name=table.table, row_pk=Cast(OuterRef(pk.attname), output_field=TextField())
    ).values("version")[:1]
    rows = table.model._base_manager.order_by(pk.attname).annotate(**{_VERSION: Subquery(version)})
    if after:
        rows = rows.filter(pk__gt=table.pk_value(after))
    changes = []
    last: Any = None
    for row in rows.values(pk.attname, *table.attnames, _VERSION)[:limit]:
        last = row[pk.attname]
        changes.append(
            RowChange(
                table=table.table,
                pk=str(pk.get_db_prep_value(last, connection, prepared=False)),
                version=row[_VERSION] or 0,
                deleted=False,
                data={
                    column: row[attname]
                    for column, attname in zip(table.columns, table.attnames, strict=True)
                },
            )
        )
    return changes, "" if last is None else str(last)


def _rendered_columns(table: SendTable) -> list[str] | None:
    """SQL for each sent column's value as it travels, or ``None``: read through the ORM.

    On PostgreSQL with time zones on, the usual column types are rendered by the database in
    the form ``SyncJSONEncoder`` gives them (decimals as text at their scale, times in UTC to
    the microsecond with a ``Z``, dates and UUIDs as text), or come as the JSON numbers,
    strings and booleans they are. The receiver reads them with the same ``to_python`` either
    way. This spares the sender Django's per-value converters and the encoder's per-value
    callbacks: they were most of the backfill sender's time, itself the busiest process of a
    backfill here. Any other type sends its table through the ORM.
    """
    if connection.vendor != "postgresql" or not settings.USE_TZ:
        return None
    quote = connection.ops.quote_name
    fields = {f.attname: f for f in table.model._meta.concrete_fields}
    rendered = []
    for attname in table.attnames:
        ref = f"t.{quote(column_of(fields[attname]))}"
        match column_kind(fields[attname]):
            case "int" | "text" | "bool":
                rendered.append(ref)
            case "decimal" | "uuid":
                rendered.append(f"{ref}::text")
            case "datetime":
                rendered.append(f"to_char({ref} AT TIME ZONE 'UTC', '{_UTC_FORMAT}')")
            case "date":
                rendered.append(f"to_char({ref}, 'YYYY-MM-DD')")
            case _:
                return None
    return rendered


def _batch_read_rendered(
    table: SendTable, rendered: list[str], *, after: str, limit: int
) -> tuple[list[RowChange], str]:
    """``read_batch`` with the values rendered by PostgreSQL (``_rendered_columns``)."""
    pk = table.model._meta.pk
    assert pk is not None
    quote = connection.ops.quote_name
    key = f"t.{quote(column_of(pk))}"
    where = f"WHERE {key} > %s " if after else ""
    params: list[Any] = [table.table]
    if after:
        params.append(pk.get_db_prep_value(table.pk_value(after), connection, prepared=False))
    params.append(limit)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {key}, {key}::text, coalesce((SELECT r.version FROM "  # noqa: S608
            f"{RowVersion._meta.db_table} r WHERE r.table_name = %s AND r.pk = {key}::text), 0), "
            f"{', '.join(rendered)} FROM {quote(table.table)} t {where}ORDER BY {key} LIMIT %s",
            params,
        )
        rows = cursor.fetchall()
    name, columns = table.table, table.columns
    changes = [
        RowChange(
            table=name,
            pk=text,
            version=version,
            deleted=False,
            data=dict(zip(columns, values, strict=True)),
        )
        for _, text, version, *values in rows
    ]
    return changes, str(rows[-1][0]) if rows else ""
