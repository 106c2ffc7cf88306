"""Small facts about model fields that the sync needs typed precisely, and the key column's type."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

__all__ = ["MYSQL_KEY_CHARS", "SyncKeyField", "column_of", "pk_of"]

# The longest primary-key text the sync's tables hold on MySQL/MariaDB. A key column is part of
# an index there (``strangler_sync_row``'s unique key, the dead letters' lookup index), and
# InnoDB refuses TEXT in a key: 255 utf8mb4 characters take 1,020 bytes, which fits the
# 3,072-byte index limit beside the table name, source and status columns of those indexes.
MYSQL_KEY_CHARS = 255


class SyncKeyField(models.TextField):  # type: ignore[type-arg]
    """A synced row's primary key as text: ``text`` everywhere but MySQL/MariaDB.

    There it is ``varchar(255)`` in a binary collation: keys compare and sort by code point
    (as PostgreSQL's ``COLLATE "C"`` and SQLite's ``BINARY``), so ``'a'`` and ``'A'`` stay two
    keys. A table whose keys can be longer is refused there (``key_length_problem``).
    """

    def db_type(self, connection: BaseDatabaseWrapper) -> str | None:
        if connection.vendor == "mysql":
            return f"varchar({MYSQL_KEY_CHARS}) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        return super().db_type(connection)


def column_of(field: models.Field[Any, Any]) -> str:
    """The database column of a concrete field (Django types it optional for virtual ones)."""
    if field.column is None:
        raise ValueError(f"{field!r} has no database column")
    return field.column


def pk_of(model: type[models.Model]) -> models.Field[Any, Any]:
    pk = model._meta.pk
    if pk is None:
        raise ValueError(f"{model.__name__} has no primary key")
    return pk
