"""Primary keys as reconcile orders and compares them, on two databases that may differ.

Reconcile cuts a table into ranges between boundary keys taken from one side, and both sides
sum the rows of each range (``checksums``). That is sound only if both put every key on the
same side of every boundary, so both must compare keys in the same order:

- integer keys: by number, on every engine;
- UUIDs: by their 16 bytes (PostgreSQL's ``uuid``), which is the order of the 32 hex digits
  SQLite and MySQL store them as: the same everywhere;
- text: by a collation, which two databases need not share. Each side names the order of its
  key column (``order_token``): ``text:binary`` for code-point order (SQLite's ``BINARY``,
  PostgreSQL's ``C``), the collation, provider and version otherwise. When both name the same
  order each compares in it (``native``): the key's index serves every range. When they
  differ (SQLite against PostgreSQL in ``en_US.UTF-8``), both compare in code-point order
  (``binary``, written out: ``COLLATE "C"`` on PostgreSQL), which no index in another
  collation serves, so a range is then a scan of the table on that side. A text key declared
  with ``db_collation="C"`` keeps those scans indexed.

Should a library still order a key differently under the same name and version, its ranges
differ on both sides and are bisected down to rows; the second look reads every differing key
by key on both sides (``reconcile_labels``), so such a row is labelled converged, never
repaired.

A key travels as the text of its Python value (``str``): digits, a UUID with hyphens, the
text. Each side turns it into its own value to compare (``key_param``) and into the text its
capture triggers write in ``strangler_sync_row`` (``version_param``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db.backends.base.base import BaseDatabaseWrapper

from strangler.sync.errors import BadRequest, UnsupportedKey
from strangler.sync.shapes import TableShape
from strangler.sync.version_index import LIVE_VERSIONS, int_key_expression, int_key_filter

__all__ = [
    "KeyOrder",
    "VersionKey",
    "binary_collation",
    "key_param",
    "key_sql",
    "key_value",
    "order_token",
    "shared_order",
    "uuid_as_text",
    "version_key_sql",
    "version_param",
    "wire_sort_key",
]

# ``native``: each side in its own order of the key column (both named the same order);
# ``binary``: both in code-point order, written out in the SQL.
KeyOrder = Literal["native", "binary"]

_BINARY = "text:binary"
_CODE_POINT_LOCALES = frozenset({"C", "POSIX"})
# Each engine's collation of code-point order (MySQL and MariaDB: ``utf8mb4_bin``).
_BINARY_COLLATIONS = {"postgresql": "C", "sqlite": "BINARY"}
# ``strangler_sync_row.pk``'s on MySQL/MariaDB (``fields.SyncKeyField``), and the collations
# there that order by code point (the ``_bin`` ones ignore trailing spaces, as the column's
# unique key does: a table cannot hold two keys that differ by them).
_MYSQL_BINARY = "utf8mb4_bin"
_MYSQL_CODE_POINT_COLLATIONS = frozenset(
    {"utf8mb4_bin", "utf8mb4_nopad_bin", "utf8mb4_0900_bin", "utf8mb3_bin", "utf8_bin"}
)


def order_token(shape: TableShape, connection: BaseDatabaseWrapper) -> str:
    """The order this database gives the key column: equal tokens order keys alike."""
    if shape.key != "text":
        return shape.key
    collation = getattr(shape.pk_field, "db_collation", None)
    if connection.vendor == "sqlite":
        return _BINARY if collation in (None, "BINARY") else f"text:sqlite:{collation}"
    if connection.vendor == "postgresql":
        return _postgresql_token(connection, shape)
    if connection.vendor == "mysql":
        return _mysql_token(connection, shape)
    return f"text:{connection.vendor}:{collation or 'default'}"


def shared_order(ours: str, theirs: str) -> KeyOrder:
    """How both sides compare keys, from their tokens; ``UnsupportedKey`` when they cannot."""
    if ours == theirs:
        return "native"
    if ours.startswith("text:") and theirs.startswith("text:"):
        return "binary"
    raise UnsupportedKey(
        f"the keys are not comparable: {ours.split(':')[0]} keys here, "
        f"{theirs.split(':')[0]} keys on the peer"
    )


def key_sql(shape: TableShape, ref: str, order: KeyOrder, connection: BaseDatabaseWrapper) -> str:
    """The table's key column ``ref`` as compared to boundaries in ``order``."""
    if uuid_as_text(shape, connection):
        return f"CAST({ref} AS CHAR) COLLATE {connection.ops.quote_name(_MYSQL_BINARY)}"
    if shape.key != "text" or order == "native":
        return ref
    return f"{ref} COLLATE {connection.ops.quote_name(binary_collation(connection))}"


def binary_collation(connection: BaseDatabaseWrapper) -> str:
    """The name of this engine's collation in code-point order."""
    return _BINARY_COLLATIONS.get(connection.vendor, "utf8mb4_bin")


@dataclass(frozen=True)
class VersionKey:
    """``strangler_sync_row.pk`` (as ``r.pk``) in the key's order.

    ``ranged`` is what a range's ends are compared to (the matching index of ``version_index``
    holds it, for the rows ``live`` keeps); ``value`` is the same key, for segment numbers and
    hashes. They differ for integer keys: the indexed expression guards its cast against other
    tables' keys, a regular expression that cost 1.7 us a row here, while the rows it selects
    are all integers, which a plain cast reads.
    """

    ranged: str
    value: str
    live: str


def version_key_sql(
    shape: TableShape, order: KeyOrder, connection: BaseDatabaseWrapper
) -> VersionKey:
    postgresql = connection.vendor == "postgresql"
    if shape.key == "int" and connection.vendor == "mysql":
        # No index by integer key there (``version_index``): one table's version rows are read.
        number = "CAST(r.pk AS SIGNED)"
        return VersionKey(ranged=number, value=number, live=LIVE_VERSIONS)
    if shape.key == "int":
        return VersionKey(
            ranged=int_key_expression("r.pk", postgresql=postgresql),
            value="r.pk::bigint" if postgresql else "CAST(r.pk AS INTEGER)",
            live=int_key_filter("pk", postgresql=postgresql),
        )
    if shape.key == "text" and order == "native":
        # The text the triggers write is the key itself: the column's collation orders it alike.
        collation = _native_collation(shape, connection)
        collate = f" COLLATE {connection.ops.quote_name(collation)}" if collation else ""
        key = f"r.pk{collate}"
    elif connection.vendor == "sqlite":
        key = "r.pk"  # SQLite's column is in code-point order (BINARY) already
    else:
        # UUIDs as text (hyphens at fixed places) and binary-ordered text: code-point order,
        # in which PostgreSQL's text index (``version_index``) holds them.
        key = f"r.pk COLLATE {connection.ops.quote_name(binary_collation(connection))}"
    return VersionKey(ranged=key, value=key, live=LIVE_VERSIONS)


def key_value(shape: TableShape, wire: str) -> Any:
    """The Python value of a key sent as text; ``BadRequest`` when it is not one."""
    try:
        return shape.pk_field.to_python(wire)
    except ValidationError as exc:
        raise BadRequest(f"key {wire!r}: {'; '.join(exc.messages)}") from None


def key_param(shape: TableShape, wire: str, connection: BaseDatabaseWrapper) -> Any:
    """A key sent as text, as a parameter compared to the table's key column."""
    value = key_value(shape, wire)
    if uuid_as_text(shape, connection):
        return str(value)
    return shape.pk_field.get_db_prep_value(value, connection, prepared=False)


def uuid_as_text(shape: TableShape, connection: BaseDatabaseWrapper) -> bool:
    """Whether the key is a UUID compared as its text (``key_sql``).

    MariaDB's own ``uuid`` type (10.7+, which Django 5.0+ uses) sorts values by their
    segments swapped, not by their bytes; their text (lower-case, hyphens at fixed places) is in
    byte order, as every other engine orders UUIDs. No index serves that text: a range of such
    a table is a scan of it.
    """
    return (
        shape.key == "uuid"
        and connection.vendor == "mysql"
        and bool(connection.features.has_native_uuid_field)
    )


def version_param(shape: TableShape, wire: str, connection: BaseDatabaseWrapper) -> Any:
    """A key sent as text, as compared to ``version_key_sql``: a number, or the triggers' text."""
    prepared = key_param(shape, wire, connection)
    return int(prepared) if shape.key == "int" else str(prepared)


def _native_collation(shape: TableShape, connection: BaseDatabaseWrapper) -> str | None:
    """The key column's own collation, ``None`` for the one ``strangler_sync_row.pk`` has."""
    if connection.vendor == "postgresql":
        name = _column_collation(connection, shape)
        return None if name == "default" else name
    if connection.vendor == "mysql":
        name = _mysql_collation(connection, shape)
        return None if name == _MYSQL_BINARY else name
    collation = getattr(shape.pk_field, "db_collation", None)
    return None if collation in (None, "BINARY") else str(collation)


def wire_sort_key(pk: str) -> tuple[int, str]:
    """Keys in a stable order for reports: integers by number, any other key by its text."""
    return (int(pk), pk) if pk.lstrip("-").isdigit() else (0, pk)


def _postgresql_token(connection: BaseDatabaseWrapper, shape: TableShape) -> str:
    """The key column's collation, its provider, locale and version (the database's own
    when the column names none)."""
    name = _column_collation(connection, shape)
    with connection.cursor() as cursor:
        if name != "default":
            cursor.execute(
                "SELECT collprovider, coalesce(collcollate, ''), collversion FROM pg_collation "
                "WHERE collname = %s",
                [name],
            )
        elif connection.pg_version >= 150000:  # type: ignore[attr-defined]
            # The ICU locale's column: daticulocale in PostgreSQL 15 and 16, datlocale since.
            icu = "datlocale" if connection.pg_version >= 170000 else "daticulocale"  # type: ignore[attr-defined]
            cursor.execute(
                f"SELECT datlocprovider, coalesce({icu}, datcollate), datcollversion "  # noqa: S608
                "FROM pg_database WHERE datname = current_database()"
            )
        else:
            cursor.execute(
                "SELECT 'c', datcollate, NULL FROM pg_database WHERE datname = current_database()"
            )
        provider, locale, version = cursor.fetchone()
    if provider == "c" and locale in _CODE_POINT_LOCALES:
        return _BINARY
    return f"text:postgresql:{name}:{provider}:{locale}:{version or ''}"


def _mysql_token(connection: BaseDatabaseWrapper, shape: TableShape) -> str:
    """``text:binary`` for a key column in code-point order, else the server and collation."""
    name = _mysql_collation(connection, shape)
    if name in _MYSQL_CODE_POINT_COLLATIONS:
        return _BINARY
    server = "mariadb" if connection.mysql_is_mariadb else "mysql"  # type: ignore[attr-defined]
    version = ".".join(str(part) for part in connection.mysql_version[:2])  # type: ignore[attr-defined]
    return f"text:{server}:{version}:{name}"


def _mysql_collation(connection: BaseDatabaseWrapper, shape: TableShape) -> str:
    """The key column's collation on MySQL/MariaDB (``information_schema``)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT collation_name FROM information_schema.columns WHERE table_schema = "
            "DATABASE() AND table_name = %s AND column_name = %s",
            [shape.db_table, shape.pk_column],
        )
        row = cursor.fetchone()
    return str(row[0]) if row is not None and row[0] is not None else _MYSQL_BINARY


def _column_collation(connection: BaseDatabaseWrapper, shape: TableShape) -> str:
    """The name of the key column's collation in PostgreSQL's catalog (``default``: the
    database's), which may differ from the model's ``db_collation`` after a manual change."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.collname FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation "
            "WHERE a.attrelid = %s::regclass AND a.attname = %s",
            [connection.ops.quote_name(shape.db_table), shape.pk_column],
        )
        row = cursor.fetchone()
    return str(row[0]) if row is not None else "default"
