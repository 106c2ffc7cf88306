"""The PostgreSQL read horizon: below it, no transaction of this database is still open.

The relay reads changes with ``xid`` below the horizon only (docs/sync.md, "Relay"). The
simplest horizon is the snapshot's ``xmin``, the oldest transaction still running, but xids are
cluster-wide: a long write in *another* database of the same server (the catalog's, a
migration's, another test run's) would hold every stream of this one back. So the horizon is the
oldest in-progress xid of the snapshot that is not known to belong to another database, or the
snapshot's ``xmax`` when there is none.

It stays safe when the facts are missing: ``pg_stat_activity`` is read after the snapshot, and an
xid it cannot place (the transaction ended since, a prepared transaction, a backend whose details
the role may not see) counts as ours and holds the relay back, as ``xmin`` would.
"""

from __future__ import annotations

from django.db.backends.utils import CursorWrapper

__all__ = ["read_horizon"]

_XID32 = 1 << 32
_SNAPSHOT = "SELECT pg_current_snapshot()::text"
# Top-level xids of open transactions in other databases, as 32-bit xids.
_OTHER_DATABASES = (
    "SELECT backend_xid::text::bigint FROM pg_stat_activity "
    "WHERE backend_xid IS NOT NULL "
    "AND datid IS DISTINCT FROM (SELECT oid FROM pg_database WHERE datname = current_database())"
)


def read_horizon(cursor: CursorWrapper) -> int:
    """Changes with ``xid`` below the returned xid8 are final; call in the read's snapshot."""
    cursor.execute(_SNAPSHOT)
    text = str(cursor.fetchone()[0])
    _xmin, xmax, listed = text.split(":")
    running = [int(xid) for xid in listed.split(",") if xid]
    if not running:
        return int(xmax)
    cursor.execute(_OTHER_DATABASES)
    elsewhere = {int(row[0]) for row in cursor.fetchall()}
    ours = [xid for xid in running if xid % _XID32 not in elsewhere]
    return min(ours) if ours else int(xmax)
