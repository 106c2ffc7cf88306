"""The row text both nodes hash, and the SQL that sums the hashes, on every engine alike.

Both nodes must produce the same text for the same values whatever their engine, so each
column is rendered by an SQL expression chosen by its kind to match the wire encoding
(``SyncJSONEncoder``: decimals at the field's places, times in UTC to the microsecond, UUIDs
as 32 hex digits). An engine pair that still renders a value differently only costs time: the
final comparison is made on the rows' wire values (``row_states``), never on this text.

Two hash functions; both nodes must use the same one, so reconcile picks one both offer:

- ``md5`` (every engine): the low 60 bits of MD5(text). PostgreSQL computes it in SQL
  (``md5``, ``bit(60)``, ``sum`` into ``numeric``), MySQL/MariaDB too (``md5``, ``conv`` of its
  last 15 hex digits, ``sum`` into ``decimal``); SQLite has no MD5 and its ``sum`` overflows
  past 2**63, so an aggregate written in Python is registered on the connection before use;
  it computes exactly the same number.
- ``pg`` (PostgreSQL only): PostgreSQL's own 64-bit hashes, stable across versions because hash
  partitioning stores by them: ``hashint8extended`` for an integer key, ``uuid_hash_extended``
  for a UUID, ``hashtextextended`` for a text key and for a row's text; a version is the seed
  of its key's hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Literal

from django.db.backends.base.base import BaseDatabaseWrapper

from strangler.sync.shapes import Column, KeyKind

__all__ = [
    "NULL_TEXT",
    "SEPARATOR",
    "Algorithm",
    "concat_sql",
    "hash_sum_sql",
    "key_text_sql",
    "null_sql",
    "register_hash_sum",
    "render_sql",
    "row_hash",
    "separator_sql",
]

Algorithm = Literal["md5", "pg"]

SEPARATOR = 31  # ASCII unit separator: never typed into a product name by hand
NULL_TEXT = "\\N"  # how a NULL is written in the row text (COPY's convention)
_MASK_60 = (1 << 60) - 1
_AGGREGATE = "strangler_hash_sum"


def row_hash(text: str) -> int:
    """The low 60 bits of MD5(text): what PostgreSQL computes with ``right(md5(x), 15)``."""
    digest = hashlib.md5(text.encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[-8:], "big") & _MASK_60


def hash_sum_sql(text: str, *, vendor: str, algorithm: Algorithm) -> str:
    """SQL summing the hash of ``text`` over a group, as text (the numbers outgrow bigint)."""
    if algorithm == "pg":
        return f"sum(hashtextextended({text}, 0))::text"
    if vendor == "postgresql":
        return f"sum(('x' || right(md5({text}), 15))::bit(60)::bigint)::text"
    if vendor == "mysql":
        return f"CAST(sum(CAST(conv(right(md5({text}), 15), 16, 10) AS UNSIGNED)) AS CHAR)"
    return f"{_AGGREGATE}({text})"


def concat_sql(parts: Sequence[str], *, vendor: str) -> str:
    """The texts ``parts`` joined end to end (``||`` is OR on MySQL).

    On MySQL/MariaDB each part is read as its bytes: columns of different collations cannot be
    concatenated as text, and MD5 hashes the bytes either way (UTF-8 for ``utf8mb4``).
    """
    if vendor == "mysql":
        return "concat(" + ", ".join(f"CAST({part} AS BINARY)" for part in parts) + ")"
    return " || ".join(parts)


def null_sql(*, vendor: str) -> str:
    """``NULL_TEXT`` as a string literal (a backslash escapes in MySQL's literals)."""
    text = NULL_TEXT.replace("\\", "\\\\") if vendor == "mysql" else NULL_TEXT
    return f"'{text}'"


def separator_sql(*, vendor: str) -> str:
    if vendor == "postgresql":
        return f"chr({SEPARATOR})"
    if vendor == "mysql":
        return f"char({SEPARATOR} USING utf8mb4)"
    return f"char({SEPARATOR})"


def key_text_sql(kind: KeyKind, ref: str, *, vendor: str) -> str:
    """A key as the same text on every engine: digits, 32 hex digits, or the text itself."""
    pg = vendor == "postgresql"
    if kind == "uuid":
        # PostgreSQL writes a UUID with hyphens, and so does MariaDB's own uuid type (10.7+,
        # Django 5.0+); SQLite's and MySQL's char(32) columns hold the 32 digits already.
        if pg:
            return f"replace({ref}::text, '-', '')"
        return f"replace(CAST({ref} AS CHAR), '-', '')" if vendor == "mysql" else ref
    if kind == "text":
        return ref
    return f"{ref}::text" if pg else _cast_text(ref, vendor)


def render_sql(column: Column, ref: str, *, vendor: str) -> str:
    """``ref`` as text the same way on every engine (see the module's docstring).

    On MySQL ``%`` is written ``%%``: its driver formats every query that has parameters.
    """
    pg = vendor == "postgresql"
    match column.kind:
        case "bool":
            return f"CASE WHEN {ref} THEN '1' ELSE '0' END"
        case "decimal":
            if pg:
                return f"round({ref}, {column.places})::text"
            if vendor == "mysql":
                return f"CAST(CAST({ref} AS DECIMAL(65, {column.places})) AS CHAR)"
            return f"printf('%.{column.places}f', {ref})"
        case "datetime":
            if pg:
                return f"to_char({ref} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
            if vendor == "mysql":  # datetime(6), in UTC as Django stores it
                return f"date_format({ref}, '%%Y-%%m-%%dT%%H:%%i:%%s.%%f')"
            # Django stores ``YYYY-MM-DD HH:MM:SS[.ffffff]`` in UTC, no fraction when it is 0.
            return (
                f"CASE WHEN length({ref}) > 19 THEN replace(substr({ref}, 1, 26), ' ', 'T') "
                f"ELSE replace({ref}, ' ', 'T') || '.000000' END"
            )
        case "uuid":
            return key_text_sql("uuid", ref, vendor=vendor)
        case "text" | "date":
            if pg:
                return f"{ref}::text"
            return _cast_text(ref, vendor) if column.kind == "date" else ref
        case _:
            return f"{ref}::text" if pg else _cast_text(ref, vendor)


def _cast_text(ref: str, vendor: str) -> str:
    return f"CAST({ref} AS CHAR)" if vendor == "mysql" else f"CAST({ref} AS TEXT)"


class _HashSum:
    """SQLite aggregate: the exact sum of ``row_hash`` over a group, as text."""

    def __init__(self) -> None:
        self.total = 0

    def step(self, text: str) -> None:
        self.total += row_hash(text)

    def finalize(self) -> str:
        return str(self.total)


def register_hash_sum(connection: BaseDatabaseWrapper) -> None:
    """Give a SQLite connection the ``md5`` sum (``hash_sum_sql``); nothing elsewhere."""
    if connection.vendor != "sqlite":
        return
    connection.ensure_connection()
    # Registering again on the same connection replaces the function: cheap and idempotent.
    connection.connection.create_aggregate(_AGGREGATE, 1, _HashSum)
