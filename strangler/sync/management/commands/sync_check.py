"""``manage.py sync_check``: every outbound table is captured, its columns all registered, and
its primary key one reconcile can compare; each table's line says what the sync does with it.

A key reconcile cannot order (neither integer, UUID nor text) is a problem: backfill and the
live sync would carry the table, but the plan's verify and cutover gates reconcile it. So is a
database server older than the sync supports, and, on MySQL/MariaDB, a synced table (either
way) whose key can be longer than the sync's key column holds there (``engines``).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection

from strangler.sync.config import OutboundTable, model_for, sync_settings
from strangler.sync.engines import database_problem, key_column_problem
from strangler.sync.errors import UnsupportedKey
from strangler.sync.fields import column_of, pk_of
from strangler.sync.keys import order_token
from strangler.sync.schema import outbound_columns_problems
from strangler.sync.shapes import TableShape
from strangler.sync.triggers import capture_installed

_KINDS = {"int": "integer", "uuid": "UUID", "text": "text"}


class Command(BaseCommand):
    help = (
        "Check that every outbound table has its capture triggers, registered columns and a "
        "primary key reconcile can compare."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        problems = _database_problems()
        for entry in sync_settings().outbound:
            table = model_for(entry.model)._meta.db_table
            try:
                found = outbound_columns_problems(entry)
                if not capture_installed(connection, table=table):
                    found.insert(
                        0, f"{table}: no capture triggers (add CaptureTable to a migration)"
                    )
                support, unsupported = _support(entry, table)
                found.extend(unsupported)
                found.extend(_key_problems(entry.model))
            except DatabaseError as exc:
                found = [f"{table}: the database answered {type(exc).__name__}: {exc}"]
            problems.extend(found)
            if not found:
                self.stdout.write(f"ok  {table} -> {entry.peer}: {support}")
        for problem in problems:
            self.stderr.write(f"!!  {problem}")
        if problems:
            raise CommandError(f"{len(problems)} problem(s) with the sync registration")


def _database_problems() -> list[str]:
    """The server's version, and the keys of the tables this node receives (MySQL/MariaDB)."""
    found = [f"database: {problem}" for problem in [database_problem(connection)] if problem]
    for entry in sync_settings().inbound:
        found.extend(_key_problems(entry.model))
    return found


def _key_problems(label: str) -> list[str]:
    model = model_for(label)
    problem = key_column_problem(connection, table=model._meta.db_table, pk=column_of(pk_of(model)))
    return [problem] if problem else []


def _support(entry: OutboundTable, table: str) -> tuple[str, list[str]]:
    """What the sync does with ``entry``'s table, by its primary key, or the problem."""
    try:
        shape = TableShape.for_model(model_for(entry.model), sync_name=table, wire_to_attname={})
    except UnsupportedKey as exc:
        return "", [
            f"{table}: {exc.message}; backfill and the live sync carry it, but reconcile "
            "(the plan's verify and cutover gates) cannot compare it"
        ]
    key = f"key {shape.pk_column} ({_KINDS[shape.key]}"
    if shape.key == "text":
        order = order_token(shape, connection)
        if order == "text:binary":
            key += ", code-point order"
        else:
            collation = order.removeprefix("text:")
            key += (
                f", collation {collation}; against a peer in another order reconcile compares "
                "in code-point order, which this key's index does not serve"
            )
    return f"{key}): backfill, live sync, reconcile", []
