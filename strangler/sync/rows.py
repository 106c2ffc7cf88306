"""Applying one row change on the receiver: versioned upsert or delete plus its version row.

Writes are SQL, not the ORM's ``save()``: no signals, no ``auto_now`` overwriting the sender's
timestamps, and ``INSERT ... ON CONFLICT (pk) DO UPDATE``, so a collision on *another* unique
key fails the row (it is parked as a dead letter) instead of deleting anything. The caller runs
each row in a savepoint; ``RowFailed`` says why a row could not be applied.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, DataError, IntegrityError, connection, connections, models

from strangler.sync.fields import column_of
from strangler.sync.schema import InboundTarget
from strangler.sync.wire import RowChange

__all__ = [
    "VERSION_UPSERT",
    "Outcome",
    "RowFailed",
    "VersionCache",
    "integrity_code",
    "row_apply",
    "row_key",
    "row_values",
]

Outcome = Literal["applied", "stale"]
# SQL rather than the ORM: building the query is most of the cost of a row otherwise (a profile
# of a 2,000-row apply on SQLite: 0.6 ms of ORM per row for this statement alone).
# The version row is written first, and only if the change's version is above the stored one;
# the row's data is written only when it was (``RETURNING`` says so). The version read before
# (``VersionCache``) only saves work: on PostgreSQL another transaction (the stream's apply
# while a backfill batch runs) can commit a newer version after that read, and this statement,
# which waits for it on the unique key and then sees it, is what keeps the older copy out.
VERSION_UPSERT = (
    "INSERT INTO strangler_sync_row (table_name, pk, version, deleted, updated_at) "
    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (table_name, pk) DO UPDATE SET "
    "version = EXCLUDED.version, deleted = EXCLUDED.deleted, updated_at = EXCLUDED.updated_at "
    "WHERE strangler_sync_row.version < EXCLUDED.version RETURNING table_name, pk"
)
# Keys per version query on SQLite, within the 999 bound parameters of older builds.
_SQLITE_KEYS = 500
# PostgreSQL SQLSTATEs that name the usual failures precisely.
_UNIQUE_VIOLATION = "23505"
_FOREIGN_KEY_VIOLATION = "23503"


class RowFailed(Exception):
    """A row that cannot be applied as it stands: ``code`` is stable, ``message`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class VersionCache:
    """Versions of the rows a batch touches, read once per table and kept current."""

    versions: dict[tuple[str, str], int | None]
    # row_key's answers, by (local table, key text as sent): a batch asks twice per row.
    keys: dict[tuple[str, str], tuple[Any, str]] = dataclass_field(default_factory=dict)

    @classmethod
    def empty(cls) -> VersionCache:
        return cls(versions={})

    def key(self, target: InboundTarget, pk_text: str) -> tuple[Any, str]:
        """``row_key(target, pk_text)``, computed once per batch."""
        found = self.keys.get((target.table, pk_text))
        if found is None:
            found = self.keys[(target.table, pk_text)] = row_key(target, pk_text)
        return found

    def load(self, table: str, keys: list[str]) -> None:
        wanted = [key for key in keys if (table, key) not in self.versions]
        for key in wanted:
            self.versions[(table, key)] = None
        if not wanted:
            return
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # One statement and one parameter however many keys (bulk.py says why JSON).
                cursor.execute(
                    "SELECT pk, version FROM strangler_sync_row WHERE table_name = %s "
                    "AND pk IN (SELECT json_array_elements_text(%s::json))",
                    [table, json.dumps(wanted)],
                )
                rows = cursor.fetchall()
            else:
                rows = []
                for start in range(0, len(wanted), _SQLITE_KEYS):
                    part = wanted[start : start + _SQLITE_KEYS]
                    cursor.execute(
                        "SELECT pk, version FROM strangler_sync_row WHERE table_name = %s "  # noqa: S608
                        f"AND pk IN ({', '.join(['%s'] * len(part))})",
                        [table, *part],
                    )
                    rows.extend(cursor.fetchall())
        for pk, version in rows:
            self.versions[(table, pk)] = version

    def preload(self, changes: Iterable[RowChange], targets: Mapping[str, InboundTarget]) -> None:
        """Read the versions of every row in ``changes`` with one query per table."""
        keys: dict[str, list[str]] = {}
        for change in changes:
            target = targets.get(change.table)
            if target is None:
                continue
            try:
                keys.setdefault(target.table, []).append(self.key(target, change.pk)[1])
            except RowFailed:  # parked when its turn comes
                continue
        for table, wanted in keys.items():
            self.load(table, wanted)

    def get(self, table: str, key: str) -> int | None:
        if (table, key) not in self.versions:
            self.load(table, [key])
        return self.versions[(table, key)]


def row_key(target: InboundTarget, pk_text: str) -> tuple[Any, str]:
    """The local primary-key value and its text as this database's capture trigger writes it."""
    try:
        value = target.pk.to_python(pk_text)
    except ValidationError as exc:
        raise RowFailed("invalid_value", f"pk {pk_text!r}: {'; '.join(exc.messages)}") from None
    # The real wrapper, not the ``connection`` proxy: this runs for every row of a batch.
    prepared = target.pk.get_db_prep_value(value, connections[DEFAULT_DB_ALIAS], prepared=False)
    return value, str(prepared)


def row_apply(
    change: RowChange, target: InboundTarget, *, versions: VersionCache, now: dt.datetime
) -> Outcome:
    """Apply ``change`` if its version is above the stored one; raise ``RowFailed`` if it fails.

    Run it inside a savepoint: on ``RowFailed`` the caller rolls the savepoint back.
    """
    value, key = versions.key(target, change.pk)
    stored = versions.get(target.table, key)
    if stored is not None and change.version <= stored:
        return "stale"
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                VERSION_UPSERT,
                [
                    target.table,
                    key,
                    change.version,
                    change.deleted,
                    connection.ops.adapt_datetimefield_value(now),
                ],
            )
            raised = cursor.fetchone() is not None
        if not raised:  # a newer version was committed since the cache read it
            versions.versions[(target.table, key)] = change.version  # at least this one
            return "stale"
        if change.deleted:
            _delete(target, value)
        else:
            _upsert(target, change)
    except IntegrityError as exc:
        raise RowFailed(integrity_code(exc), str(exc).strip()) from None
    except DataError as exc:
        raise RowFailed("invalid_value", str(exc).strip()) from None
    versions.versions[(target.table, key)] = change.version
    return "applied"


def row_values(
    target: InboundTarget, change: RowChange
) -> list[tuple[models.Field[Any, Any], Any]]:
    values = []
    for column, raw in (change.data or {}).items():
        field = target.fields[column]
        try:
            python = field.to_python(raw)
        except ValidationError as exc:
            raise RowFailed(
                "invalid_value", f"{target.table}.{column_of(field)}: {'; '.join(exc.messages)}"
            ) from None
        values.append((field, python))
    return values


def _upsert(target: InboundTarget, change: RowChange) -> None:
    values = row_values(target, change)
    if connection.vendor != "postgresql":
        _check_references(target, values)
    quote = connection.ops.quote_name
    columns = [column_of(field) for field, _ in values]
    params = [field.get_db_prep_save(python, connection) for field, python in values]
    updates = [column for column in columns if column != target.pk_column]
    action = (
        "DO UPDATE SET " + ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in updates)
        if updates
        else "DO NOTHING"
    )
    # Identifiers come from the model's meta and are quoted; values are parameters.
    sql = (
        f"INSERT INTO {quote(target.table)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT ({quote(target.pk_column)}) {action}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _delete(target: InboundTarget, value: Any) -> None:
    quote = connection.ops.quote_name
    prepared = target.pk.get_db_prep_value(value, connection, prepared=False)
    if connection.vendor != "postgresql":
        _check_referrers(target, prepared)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {quote(target.table)} WHERE {quote(target.pk_column)} = %s",  # noqa: S608
            [prepared],
        )


# SQLite checks foreign keys only at COMMIT (Django declares them DEFERRABLE INITIALLY
# DEFERRED and SQLite cannot make them immediate), where one bad row would fail the whole
# batch. So on SQLite the row's references are checked here, inside its savepoint.


def _check_references(
    target: InboundTarget, values: list[tuple[models.Field[Any, Any], Any]]
) -> None:
    quote = connection.ops.quote_name
    for field, python in values:
        if python is None or not field.is_relation or not getattr(field, "db_constraint", False):
            continue
        remote = field.target_field  # type: ignore[attr-defined]
        table = remote.model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT 1 FROM {quote(table)} WHERE {quote(column_of(remote))} = %s LIMIT 1",  # noqa: S608
                [remote.get_db_prep_value(python, connection, prepared=False)],
            )
            if cursor.fetchone() is None:
                raise RowFailed(
                    "missing_reference",
                    f"{target.table}.{column_of(field)} = {python!r}: no such row in {table}",
                )


def _check_referrers(target: InboundTarget, prepared: Any) -> None:
    quote = connection.ops.quote_name
    for relation in target.model._meta.related_objects:
        field = relation.field
        if not getattr(field, "db_constraint", False) or relation.many_to_many:
            continue
        table = relation.related_model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT 1 FROM {quote(table)} WHERE {quote(column_of(field))} = %s LIMIT 1",  # noqa: S608
                [prepared],
            )
            if cursor.fetchone() is not None:
                raise RowFailed(
                    "missing_reference",
                    f"{target.table} row {prepared!r} is still referenced from {table}",
                )


def integrity_code(exc: IntegrityError) -> str:
    state = getattr(exc.__cause__, "sqlstate", None)
    text = str(exc)
    if state == _UNIQUE_VIOLATION or text.startswith("UNIQUE constraint failed"):
        return "unique_collision"
    if state == _FOREIGN_KEY_VIOLATION or "FOREIGN KEY constraint failed" in text:
        return "missing_reference"
    return "integrity_error"
