"""Marking a transaction as the sync's own, so capture stays silent: no echo (docs/sync.md).

PostgreSQL: ``SET LOCAL strangler.applying = 'on'``, read by the trigger function; foreign
keys are checked at each statement (``SET CONSTRAINTS ALL IMMEDIATE``), so a row that breaks
one fails inside its own savepoint instead of failing the whole batch at commit. SQLite: a
row in ``strangler_sync_applying`` that the triggers' ``WHEN`` looks for.

MySQL/MariaDB: the session variable ``@strangler_sync_applying``, which the triggers test. A
row in ``strangler_sync_applying`` would not do there: a trigger's read of a table inside a
write is a locking read in InnoDB, so every writer's trigger would wait on an apply's
uncommitted row until it commits (and two applies writing each other's rows deadlock on it).
A session variable outlives a rollback, so it is cleared in a ``finally``. InnoDB checks
foreign keys at each row already: nothing to switch there.

The marks are taken off again before the block ends, so writes a caller makes later in the
same transaction are captured as usual.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

from django.db import connection

from strangler.sync.models import Applying
from strangler.sync.triggers import MYSQL_APPLYING

__all__ = ["applying"]

_depth: ContextVar[int] = ContextVar("strangler_sync_applying_depth", default=0)


@contextlib.contextmanager
def applying() -> Iterator[None]:
    """Inside ``transaction.atomic()``: writes in the block are not captured."""
    if not connection.in_atomic_block:
        raise RuntimeError("applying() marks a transaction: call it inside transaction.atomic()")
    depth = _depth.get()
    if depth:  # already marked by an outer block of the same transaction
        with _nested(depth + 1):
            yield
        return
    if connection.vendor == "mysql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET {MYSQL_APPLYING} = 1")
        try:
            with _nested(1):
                yield
        finally:  # a session variable: a rollback would not take it off
            with connection.cursor() as cursor:
                cursor.execute(f"SET {MYSQL_APPLYING} = NULL")
        return
    postgres = connection.vendor == "postgresql"
    flag = None
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute("SET LOCAL strangler.applying = 'on'")
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        else:
            flag = Applying.objects.create()
    with _nested(1):
        yield
    # Not in a finally: after an error the transaction is rolled back, taking the mark with it.
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute("SET LOCAL strangler.applying = 'off'")
            # Django declares every deferrable constraint INITIALLY DEFERRED: back to that.
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        elif flag is not None:
            Applying.objects.filter(pk=flag.pk).delete()


@contextlib.contextmanager
def _nested(depth: int) -> Iterator[None]:
    """The block runs at ``depth`` marks of this transaction (an inner ``applying`` adds none)."""
    token = _depth.set(depth)
    try:
        yield
    finally:
        _depth.reset(token)
