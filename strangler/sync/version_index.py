"""The indexes reconcile's version sums read ``strangler_sync_row`` through, by key order.

``strangler_sync_row`` keeps every synced table's keys as text, so a key range of one table
needs its rows in that table's key order, which the unique ``(table_name, pk)`` index (text in
the database's collation) does not give:

- integer keys: an index on the key read as a number (migration 0003). On PostgreSQL only keys
  that read as integers are indexed: the ``CASE`` keeps the cast from failing on the keys of
  other tables, and ``numeric`` holds every ``bigint`` (up to 19 digits and a sign) without
  the overflow that casting a longer number of a text-keyed table to ``bigint`` would raise;
  on SQLite ``CAST`` never fails.
- UUID and text keys (migration 0006): on PostgreSQL an index on the text in code-point order
  (``COLLATE "C"``), the order reconcile compares them in (``keys``); on SQLite the unique
  index already is (its ``BINARY`` collation).

MySQL/MariaDB get neither (MariaDB has no partial or expression index): a range's version sum
there reads one table's version rows through the unique ``(table_name, pk)`` key.

Only rows reconcile counts are indexed (version above 0, not a tombstone): after a backfill the
receiver holds a version-0 row for every row copied, and reading them for nothing was half of
its time in a reconcile. The predicate makes a version bump a non-HOT update on PostgreSQL;
20,000 captured updates took 1.73 s here with the integer index and 1.73 s with the same index
without the predicate. Against no index at all, a captured write costs ~6 us more (20,000
first writes of rows inside one transaction: 1.13 s with it, 1.00 s without).
"""

from __future__ import annotations

__all__ = [
    "INT_KEY_INDEX",
    "LIVE_VERSIONS",
    "SYNC_ROW_TABLE",
    "TEXT_KEY_INDEX",
    "int_key_expression",
    "int_key_filter",
    "version_index_drop_statements",
    "version_index_statements",
]

SYNC_ROW_TABLE = "strangler_sync_row"
INT_KEY_INDEX = "strangler_sync_row_int_key"
TEXT_KEY_INDEX = "strangler_sync_row_text_key"
# The keys the integer index holds on PostgreSQL: those that read as a number of a bigint's size.
_INT_KEY_PATTERN = "^-?[0-9]{1,19}$"
# The version rows both indexes hold, and the ones reconcile counts: written, not deleted.
LIVE_VERSIONS = "version > 0 AND NOT deleted"


def int_key_expression(column: str, *, postgresql: bool) -> str:
    """A ``strangler_sync_row`` key as a number: the expression the integer index holds."""
    if postgresql:
        return f"CASE WHEN {column} ~ '{_INT_KEY_PATTERN}' THEN {column}::numeric END"
    return f"CAST({column} AS INTEGER)"


def int_key_filter(column: str, *, postgresql: bool) -> str:
    """The integer index's predicate, repeated word for word so either engine uses it."""
    only_integers = f"{column} ~ '{_INT_KEY_PATTERN}' AND " if postgresql else ""
    return f"{only_integers}{LIVE_VERSIONS}"


def version_index_statements(vendor: str) -> list[str]:
    """SQL creating the indexes (``operations.VersionKeyIndex``); none on MySQL/MariaDB."""
    if vendor == "mysql":
        return []
    postgresql = vendor == "postgresql"
    # On PostgreSQL each index also holds what the sums read (key text, version): an index-only
    # scan then reads no row of the table, whose rows lie in write order, not key order.
    statements = [
        f"CREATE INDEX {INT_KEY_INDEX} ON {SYNC_ROW_TABLE} "
        f"(table_name, ({int_key_expression('pk', postgresql=postgresql)})) "
        f"{'INCLUDE (pk, version) ' if postgresql else ''}"
        f"WHERE {int_key_filter('pk', postgresql=postgresql)}"
    ]
    if postgresql:
        statements.append(
            f'CREATE INDEX {TEXT_KEY_INDEX} ON {SYNC_ROW_TABLE} (table_name, pk COLLATE "C") '
            f"INCLUDE (version) WHERE {LIVE_VERSIONS}"
        )
    return statements


def version_index_drop_statements(vendor: str) -> list[str]:
    if vendor == "mysql":
        return []
    return [f"DROP INDEX IF EXISTS {name}" for name in (INT_KEY_INDEX, TEXT_KEY_INDEX)]
