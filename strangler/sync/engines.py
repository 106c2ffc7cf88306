"""The database servers the sync runs on, the oldest version of each, and their limits.

Checked where capture starts (the ``CaptureFunctions`` and ``CaptureTable`` migration
operations) and by ``sync_check``, so an unsupported server stops the install with a message
naming the version found and the one needed, instead of failing at the first captured write.

- PostgreSQL 14: ``CREATE OR REPLACE TRIGGER``.
- MariaDB 10.5 and MySQL 8.0.11: Django 5.2's own floors. Nothing the sync uses is newer
  (multi-statement triggers, ``ON DUPLICATE KEY UPDATE ... VALUES()``, ``LOCK IN SHARE MODE``,
  row-value comparison, the ``utf8mb4_bin`` collation).
- SQLite: Django's floor (3.31) covers the triggers, ``ON CONFLICT`` and row values.

On MySQL/MariaDB a synced key is kept in a ``varchar(255)`` (``fields.MYSQL_KEY_CHARS``): a
table whose primary key may be longer cannot be captured or applied there.
"""

from __future__ import annotations

from django.db import NotSupportedError
from django.db.backends.base.base import BaseDatabaseWrapper

from strangler.sync.fields import MYSQL_KEY_CHARS

__all__ = [
    "MINIMUM_VERSIONS",
    "database_problem",
    "key_column_problem",
    "key_type_problem",
    "require_capturable",
    "server_version",
    "version_problem",
]

MINIMUM_VERSIONS: dict[str, tuple[int, ...]] = {
    "PostgreSQL": (14,),
    "MariaDB": (10, 5),
    "MySQL": (8, 0, 11),
}
# Column types whose values always fit the key column (numbers, dates, UUIDs as char(32)).
_LONG_TYPES = {"tinytext", "text", "mediumtext", "longtext", "blob", "mediumblob", "longblob"}
_SIZED_TYPES = {"char", "varchar", "binary", "varbinary"}


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)


def version_problem(server: str, version: tuple[int, ...]) -> str | None:
    """Why ``server`` at ``version`` cannot run the sync, or ``None`` when it can."""
    needed = MINIMUM_VERSIONS.get(server)
    if needed is None or version >= needed:
        return None
    return (
        f"strangler.sync needs {server} {_dotted(needed)} or newer; "
        f"this database is {server} {_dotted(version)}"
    )


def server_version(connection: BaseDatabaseWrapper) -> tuple[str, tuple[int, ...]] | None:
    """The server's name and version, for the servers with a floor of their own."""
    if connection.vendor == "postgresql":
        number = int(connection.pg_version)  # type: ignore[attr-defined]
        return "PostgreSQL", (number // 10000, number % 10000)
    if connection.vendor == "mysql":
        name = "MariaDB" if connection.mysql_is_mariadb else "MySQL"  # type: ignore[attr-defined]
        return name, tuple(connection.mysql_version)  # type: ignore[attr-defined]
    return None


def database_problem(connection: BaseDatabaseWrapper) -> str | None:
    """Why this database cannot run the sync (its version), or ``None``."""
    found = server_version(connection)
    return None if found is None else version_problem(*found)


def key_type_problem(table: str, pk: str, data_type: str, max_chars: int | None) -> str | None:
    """Why keys of a ``data_type`` column cannot be synced on MySQL/MariaDB, or ``None``."""
    data_type = data_type.lower()
    if data_type in _LONG_TYPES or (
        data_type in _SIZED_TYPES and (max_chars is None or max_chars > MYSQL_KEY_CHARS)
    ):
        size = "" if max_chars is None or data_type in _LONG_TYPES else f"({max_chars})"
        return (
            f"{table}: its primary key {pk} is {data_type}{size}; strangler.sync keeps keys of "
            f"up to {MYSQL_KEY_CHARS} characters on MySQL/MariaDB"
        )
    return None


def key_column_problem(connection: BaseDatabaseWrapper, *, table: str, pk: str) -> str | None:
    """On MySQL/MariaDB, why ``table``'s key column ``pk`` cannot be synced, or ``None``.

    Read from the database (``information_schema``): a table not created yet passes.
    """
    if connection.vendor != "mysql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT data_type, character_maximum_length FROM information_schema.columns "
            "WHERE table_schema = DATABASE() AND table_name = %s AND column_name = %s",
            [table, pk],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return key_type_problem(table, pk, str(row[0]), None if row[1] is None else int(row[1]))


def require_capturable(
    connection: BaseDatabaseWrapper, *, table: str | None = None, pk: str = "id"
) -> None:
    """Raise ``NotSupportedError`` when this database (or ``table``'s key) cannot be captured."""
    problem = database_problem(connection)
    if problem is None and table is not None:
        problem = key_column_problem(connection, table=table, pk=pk)
    if problem is not None:
        raise NotSupportedError(problem)
