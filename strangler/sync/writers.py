"""Writing the changes apply has judged: one interface, a bulk and a row-by-row writer.

A writer takes prepared rows (writes parents first, then deletes children first) and answers,
per row, ``"applied"``, ``"stale"`` (a newer version was committed since apply read the
versions: the version upsert refused it) or the ``RowFailed`` that stopped it. The bulk writer
writes the whole batch in a few multi-row statements inside one savepoint; a row failing there
fails them all, and it refuses the batch (``BatchRefused``) having written nothing, for the
row-by-row writer, which puts each row in its own savepoint and names exactly the failing rows.
Per-row savepoints cost four round trips a row, most of an apply's time on PostgreSQL, so
``rows_write`` tries the bulk writer first. Both run a database's ``Statements`` (``bulk.py``):
another database plugs in by adding its statements to ``_STATEMENTS``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal, Protocol

from django.db import connection, transaction

from strangler.sync.bulk import PostgresqlStatements, SqliteStatements
from strangler.sync.bulk_mysql import MysqlStatements
from strangler.sync.fate import RowKey
from strangler.sync.references import references_check, referrers_check
from strangler.sync.rows import PreparedRow, RowFailed, row_failures

__all__ = [
    "BatchRefused",
    "BulkWriter",
    "RowByRowWriter",
    "Statements",
    "Writer",
    "Written",
    "rows_write",
    "statements_for",
]

Written = Literal["applied", "stale"]


class Statements(Protocol):
    """A database's statements for many rows at once (one row is a batch of one)."""

    # True where foreign keys are checked only at commit: the writer checks them first.
    foreign_keys_at_commit: bool

    def versions_raise(self, rows: Sequence[PreparedRow], now: dt.datetime) -> set[RowKey]:
        """Write the rows' version rows where theirs is newer; the keys that were raised."""

    def rows_upsert(self, rows: Sequence[PreparedRow]) -> None:
        """Insert or update ``rows``: one table, the same columns."""

    def rows_delete(self, rows: Sequence[PreparedRow]) -> None:
        """Delete ``rows``: one table."""


class Writer(Protocol):
    def write(self, rows: Sequence[PreparedRow], *, now: dt.datetime) -> list[Written | RowFailed]:
        """An outcome per row, in order; or ``BatchRefused``, having written nothing."""


class BatchRefused(Exception):
    """The bulk writer could not write the batch whole; nothing of it was written."""


_STATEMENTS: dict[str, Statements] = {
    "postgresql": PostgresqlStatements(),
    "sqlite": SqliteStatements(),
    "mysql": MysqlStatements(),
}


def statements_for(vendor: str) -> Statements:
    try:
        return _STATEMENTS[vendor]
    except KeyError:
        raise NotImplementedError(f"the sync's apply does not support {vendor} yet") from None


class BulkWriter:
    """All rows in a few statements inside one savepoint, or ``BatchRefused``."""

    def __init__(self, statements: Statements) -> None:
        self.statements = statements

    def write(self, rows: Sequence[PreparedRow], *, now: dt.datetime) -> list[Written | RowFailed]:
        try:
            with transaction.atomic():
                return list(_write(self.statements, rows, now))
        except RowFailed as exc:
            raise BatchRefused(exc.message) from exc


class RowByRowWriter:
    """Each row in its own savepoint: a failing row is rolled back and the rest goes on."""

    def __init__(self, statements: Statements) -> None:
        self.statements = statements

    def write(self, rows: Sequence[PreparedRow], *, now: dt.datetime) -> list[Written | RowFailed]:
        outcomes: list[Written | RowFailed] = []
        for row in rows:
            try:
                with transaction.atomic():
                    outcomes.extend(_write(self.statements, [row], now))
            except RowFailed as exc:
                outcomes.append(exc)
        return outcomes


def rows_write(rows: Sequence[PreparedRow], *, now: dt.datetime) -> list[Written | RowFailed]:
    """``rows`` by the bulk writer, or row by row when it refuses the batch."""
    statements = statements_for(connection.vendor)
    if len(rows) > 1:
        try:
            return BulkWriter(statements).write(rows, now=now)
        except BatchRefused:
            pass
    return RowByRowWriter(statements).write(rows, now=now)


def _write(statements: Statements, rows: Sequence[PreparedRow], now: dt.datetime) -> list[Written]:
    """Version rows first, then the data of the rows whose version was raised."""
    with row_failures():
        raised = statements.versions_raise(rows, now)
        kept = [row for row in rows if row.row in raised]
        for group in _groups([row for row in kept if not row.change.deleted]):
            if statements.foreign_keys_at_commit:
                references_check(group)
            statements.rows_upsert(group)
        for group in _groups([row for row in kept if row.change.deleted]):
            if statements.foreign_keys_at_commit:
                referrers_check(group)
            statements.rows_delete(group)
    return ["applied" if row.row in raised else "stale" for row in rows]


def _groups(rows: Sequence[PreparedRow]) -> list[list[PreparedRow]]:
    """Consecutive rows of one table with the same columns, in the order given."""
    groups: list[list[PreparedRow]] = []
    shape: tuple[object, ...] = ()
    for row in rows:
        this = (row.target.table, row.fields)
        if groups and this == shape:
            groups[-1].append(row)
        else:
            groups.append([row])
            shape = this
    return groups
