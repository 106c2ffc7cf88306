"""The MySQL/MariaDB read of the changelog that never skips a change committed late.

PostgreSQL orders changes by the writer's transaction id and reads below a horizon
(``horizon``). MySQL has neither: a change's ``id`` (its *seq*; ``xid`` is always 0 there) is
taken from the auto-increment when the writer inserts it, before the writer commits, so a
later id can commit before an earlier one. Reading ``id > cursor`` would then pass the earlier
one, and the cursor would never come back for it.

So the read takes two steps, in READ COMMITTED:

1. a plain read of the committed ids after the cursor, up to the batch's limit;
2. a locking read (``LOCK IN SHARE MODE``) of the same range, up to the last of those ids and
   for as many rows. A change inserted in that range by a transaction still open holds an
   implicit lock on its row: the locking read waits for it, returns it if the writer commits
   and passes over it if the writer rolls back. Every row the read returns is committed, and
   every id below the last one it returns is either among them or never will be.

The range's bound and the row count keep the scan inside it: InnoDB locks the row after the
end of a range scan too, and that row is usually a writer's change still open at the end of the
log, which need not hold the relay back. The wait is bounded (``LOCK_WAIT_SECONDS``): past it
the batch is empty and the next relay pass tries again, as a PostgreSQL horizon held back by an
open transaction does.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.db import OperationalError, transaction
from django.db.backends.utils import CursorWrapper

from strangler.sync.position import Position

__all__ = ["LOCK_WAIT_SECONDS", "mysql_changes_after"]

logger = logging.getLogger(__name__)

# How long the relay waits for a writer holding an earlier change open. A writer's transaction
# commits within milliseconds as a rule; one that takes longer holds its stream back anyway, and
# the relay task's thread is better given back (the next nudge or tick retries).
LOCK_WAIT_SECONDS = 2
# ER_LOCK_WAIT_TIMEOUT: only the statement is rolled back (with InnoDB's default
# innodb_rollback_on_timeout=OFF), and the savepoint around it undoes even that.
_LOCK_WAIT_TIMEOUT = 1205
_COMMITTED_IDS = "SELECT id FROM strangler_sync_change WHERE id > %s ORDER BY id LIMIT %s"
_LOCKED_RANGE = (
    "SELECT id, xid, table_name, pk, created_at FROM strangler_sync_change "
    "WHERE id > %s AND id <= %s ORDER BY id LIMIT %s LOCK IN SHARE MODE"
)


def mysql_changes_after(
    cursor: CursorWrapper, *, after: Position, limit: int, using: str = "default"
) -> Sequence[Sequence[Any]]:
    """Changes after ``after`` in id order, none of them passing one still uncommitted.

    Call inside a READ COMMITTED transaction; an empty answer while a writer holds an earlier
    change open past ``LOCK_WAIT_SECONDS``.
    """
    cursor.execute(_COMMITTED_IDS, [after.seq, limit])
    ids = [int(row[0]) for row in cursor.fetchall()]
    if not ids:
        return []
    cursor.execute("SELECT @@SESSION.innodb_lock_wait_timeout")
    previous = int(cursor.fetchone()[0])
    cursor.execute("SET SESSION innodb_lock_wait_timeout = %s", [LOCK_WAIT_SECONDS])
    try:
        with transaction.atomic(using=using):
            cursor.execute(_LOCKED_RANGE, [after.seq, ids[-1], len(ids)])
            return list(cursor.fetchall())
    except OperationalError as error:
        if not error.args or error.args[0] != _LOCK_WAIT_TIMEOUT:
            raise
        logger.info(
            "a transaction still open holds the changes after %s back: retrying next pass", after
        )
        return []
    finally:
        cursor.execute("SET SESSION innodb_lock_wait_timeout = %s", [previous])
