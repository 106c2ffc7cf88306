"""Rows of a synced table as reconcile compares them: version, tombstone and wire values.

Values are encoded as they travel (``SyncJSONEncoder``), so a row read here and a row the
peer answered over HTTP compare value by value, whatever either database stores.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections, models
from django.db.models import F
from django.db.models.functions import Cast, Collate

from strangler.sync.keys import (
    KeyOrder,
    binary_collation,
    key_value,
    uuid_as_text,
    version_param,
    wire_sort_key,
)
from strangler.sync.shapes import TableShape
from strangler.sync.version_index import SYNC_ROW_TABLE
from strangler.sync.wire import SyncJSONEncoder

__all__ = ["RowState", "encode_value", "row_states", "rows_in_range"]

# SQLite binds at most 32,766 variables a statement; keys are asked for in chunks well below.
_KEYS_PER_QUERY = 5000


@dataclass(frozen=True)
class RowState:
    """One row as a node has it: version, tombstone, and wire values (None when absent)."""

    pk: str
    version: int
    deleted: bool
    data: dict[str, Any] | None


def encode_value(value: Any) -> Any:
    """A Python value as it travels (``SyncJSONEncoder``), so both sides compare alike."""
    if value is None or isinstance(value, bool | int | str):
        return value
    return json.loads(json.dumps(value, cls=SyncJSONEncoder))


def rows_in_range(
    shape: TableShape,
    *,
    low: str | None,
    high: str | None,
    order: KeyOrder = "native",
    using: str = "default",
) -> list[RowState]:
    """Every live row of ``[low, high)`` (``None``: that end open) with its version and wire
    values, by key, the key compared in ``order`` (``keys``)."""
    queryset = shape.model._base_manager.using(using).all()
    key = shape.pk_attname
    text_uuid = uuid_as_text(shape, connections[using])
    if shape.key == "text" and order == "binary":
        collation = binary_collation(connections[using])
        queryset = queryset.alias(_strangler_key=Collate(F(key), collation))
        key = "_strangler_key"
    elif text_uuid:
        as_text = Collate(Cast(F(key), models.CharField()), binary_collation(connections[using]))
        queryset = queryset.alias(_strangler_key=as_text)
        key = "_strangler_key"

    def bound(wire: str) -> Any:
        value = key_value(shape, wire)
        return str(value) if text_uuid else value

    if low is not None:
        queryset = queryset.filter(**{f"{key}__gte": bound(low)})
    if high is not None:
        queryset = queryset.filter(**{f"{key}__lt": bound(high)})
    return _states(shape, queryset.order_by(key), using=using, wanted=None)


def row_states(shape: TableShape, pks: Iterable[str], *, using: str = "default") -> list[RowState]:
    """The state of each of ``pks``: live, a tombstone, or absent (version 0, no data)."""
    wanted = sorted(set(pks), key=wire_sort_key)
    states: list[RowState] = []
    for start in range(0, len(wanted), _KEYS_PER_QUERY):
        chunk = wanted[start : start + _KEYS_PER_QUERY]
        queryset = shape.model._base_manager.using(using).filter(
            **{f"{shape.pk_attname}__in": [key_value(shape, pk) for pk in chunk]}
        )
        states.extend(_states(shape, queryset, using=using, wanted=chunk))
    return states


def _states(
    shape: TableShape,
    queryset: models.QuerySet[Any],
    *,
    using: str,
    wanted: Sequence[str] | None,
) -> list[RowState]:
    names = [shape.pk_attname, *(c.attname for c in shape.columns)]
    live: dict[str, dict[str, Any]] = {}
    for values in queryset.values_list(*names):
        live[str(values[0])] = {
            column.wire: encode_value(value)
            for column, value in zip(shape.columns, values[1:], strict=True)
        }
    versions = _versions(shape, wanted if wanted is not None else list(live), using=using)
    order = wanted if wanted is not None else list(live)
    states = []
    for pk in order:
        version, deleted = versions.get(pk, (0, False))
        data = live.get(pk)
        states.append(RowState(pk=pk, version=version, deleted=data is None and deleted, data=data))
    return states


def _versions(shape: TableShape, pks: Sequence[str], *, using: str) -> dict[str, tuple[int, bool]]:
    """Version and tombstone of each wire key, read by the text the capture triggers write."""
    connection = connections[using]
    found: dict[str, tuple[int, bool]] = {}
    table = connection.ops.quote_name(SYNC_ROW_TABLE)
    for start in range(0, len(pks), _KEYS_PER_QUERY):
        # The triggers' text of each key (a UUID: hyphens on PostgreSQL, none on SQLite).
        chunk = pks[start : start + _KEYS_PER_QUERY]
        texts = {str(version_param(shape, pk, connection)): pk for pk in chunk}
        marks = ", ".join(["%s"] * len(texts))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT pk, version, deleted FROM {table} "  # noqa: S608 - names are quoted
                f"WHERE table_name = %s AND pk IN ({marks})",
                [shape.sync_name, *texts],
            )
            for text, version, deleted in cursor.fetchall():
                found[texts[str(text)]] = (int(version), bool(deleted))
    return found
