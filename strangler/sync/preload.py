"""What apply reads before it judges a batch: each change's local key and the stored versions.

One query per table for the versions, however many rows: on PostgreSQL the keys travel as
one JSON parameter (``bulk.py`` says why), on SQLite in chunks within its parameter limit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection

from strangler.sync.fate import Incoming, RowKey
from strangler.sync.rows import RowFailed, row_key
from strangler.sync.schema import InboundTarget
from strangler.sync.wire import RowChange

__all__ = ["Preloaded", "changes_preload"]

# Keys per version query on SQLite, within the 999 bound parameters of older builds.
_SQLITE_KEYS = 500


@dataclass(frozen=True)
class Preloaded:
    """A batch's changes as the judge sees them, with what their keys read as here."""

    incoming: tuple[Incoming, ...]
    keys: tuple[tuple[Any, str] | RowFailed, ...]  # per change: local pk value and key text
    stored: dict[RowKey, int]  # versions kept here, for the keys that have one


def changes_preload(
    changes: Sequence[RowChange], targets: Mapping[str, InboundTarget]
) -> Preloaded:
    """Read each change's key (``RowFailed`` in its place if unreadable) and the versions."""
    incoming: list[Incoming] = []
    keys: list[tuple[Any, str] | RowFailed] = []
    wanted: dict[str, dict[str, None]] = {}  # local table -> key texts, in order, once each
    for change in changes:
        target = targets[change.table]
        row: RowKey | None = None
        try:
            pk_value, key = row_key(target, change.pk)
        except RowFailed as exc:
            keys.append(exc)
        else:
            keys.append((pk_value, key))
            row = (target.table, key)
            wanted.setdefault(target.table, {})[key] = None
        incoming.append(Incoming(sender=(change.table, change.pk), row=row, version=change.version))
    stored: dict[RowKey, int] = {}
    for table, texts in wanted.items():
        stored.update(_versions_stored(table, list(texts)))
    return Preloaded(incoming=tuple(incoming), keys=tuple(keys), stored=stored)


def _versions_stored(table: str, keys: list[str]) -> dict[RowKey, int]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT pk, version FROM strangler_sync_row WHERE table_name = %s "
                "AND pk IN (SELECT json_array_elements_text(%s::json))",
                [table, json.dumps(keys)],
            )
            rows = cursor.fetchall()
        else:
            rows = []
            for start in range(0, len(keys), _SQLITE_KEYS):
                part = keys[start : start + _SQLITE_KEYS]
                cursor.execute(
                    "SELECT pk, version FROM strangler_sync_row WHERE table_name = %s "  # noqa: S608
                    f"AND pk IN ({', '.join(['%s'] * len(part))})",
                    [table, *part],
                )
                rows.extend(cursor.fetchall())
    return {(table, pk): version for pk, version in rows}
