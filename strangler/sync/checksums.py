"""Checksums over primary-key ranges of a synced table, computed in the database.

Reconcile compares two nodes without moving their rows: each node sums a 60- or 64-bit hash of
every row in a key range, and only ranges whose sums differ are looked at more closely
(data-diff's method). A range's figures come from two scans of its own, never a join:

- the synced table: ``count(*)``, the sum of each key's hash (keys level) and the sum of each
  row's hash (rows level: the key and every synced column rendered canonically, so that a
  write that bypassed capture is seen too);
- ``strangler_sync_row``: the sum of the hash of ``pk <US> version`` over the range's *live,
  written* keys (version above 0, not a tombstone), read through an index by table and integer
  key (migration 0003). A row never written since capture was installed has version 0 on
  one node and perhaps no version row at all on the other; both count as nothing here.

The keys figure is the table's key sum plus the version sum, the rows figure the table's row
sum plus the version sum. Two nodes agree on a range when they hold the same keys (and values)
and the same live versions. Joining the two tables instead (the first design) cost a hash of
every version row of the table per call: on a million rows, 0.4 s a call whatever the range;
a reconcile of 1M identical rows took 4.2 s with the join, 0.7 s without.

Both nodes must produce the same text for the same values whatever their engine, so each
column is rendered by an SQL expression chosen by its field type to match the wire encoding
(``SyncJSONEncoder``: decimals at the field's places, times in UTC to the microsecond). An
engine pair that still renders a value differently only costs time: the final comparison is
made on the rows' wire values (``row_states``), never on this text.

Two hash functions; both nodes must use the same one, so reconcile picks one both offer:

- ``md5`` (every engine): the low 60 bits of MD5(text), of the key's text, the row text, or
  ``pk <US> version``. PostgreSQL computes it in SQL (``md5``, ``bit(60)``, ``sum`` into
  ``numeric``); SQLite has no MD5 and its ``sum`` overflows past 2**63, so an aggregate
  written in Python is registered on the connection before use; it computes exactly the same
  number.
- ``pg`` (PostgreSQL only): PostgreSQL's own 64-bit hashes, stable across versions because hash
  partitioning stores by them: ``hashint8extended(pk, 0)`` for a key, ``hashint8extended(pk,
  version)`` for a live version, ``hashtextextended(text, 0)`` for a row. A 250,000-key range
  here: 50-80 ms for the table's figures, against 110 ms hashing the keys' text; the versions
  cost what there are of them (the index holds only live, written ones).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

from django.db import connections, models
from django.db.backends.base.base import BaseDatabaseWrapper

__all__ = [
    "INT_KEY_INDEX",
    "INT_KEY_LIVE",
    "INT_KEY_PATTERN",
    "SYNC_ROW_TABLE",
    "Column",
    "KeyBounds",
    "SegmentChecksum",
    "TableShape",
    "UnsupportedKey",
    "algorithms",
    "column_kind",
    "int_key_expression",
    "int_key_index_statements",
    "key_bounds",
    "row_hash",
    "segment_checksums",
]

SYNC_ROW_TABLE = "strangler_sync_row"
# The index the version sums read through (migration 0003), and the keys it holds on
# PostgreSQL: those that read as a bigint (18 digits always fit).
INT_KEY_INDEX = "strangler_sync_row_int_key"
INT_KEY_PATTERN = "^-?[0-9]{1,18}$"
# The version rows it holds, and the ones reconcile counts: written since capture, not deleted.
INT_KEY_LIVE = "version > 0 AND NOT deleted"
_SEPARATOR = 31  # ASCII unit separator: never typed into a product name by hand
_NULL = "\\N"  # how a NULL is written in the row text (COPY's convention)
_MASK_60 = (1 << 60) - 1
_AGGREGATE = "strangler_hash_sum"

Kind = Literal["int", "text", "bool", "decimal", "datetime", "date", "uuid", "other"]
Level = Literal["keys", "rows"]
Algorithm = Literal["md5", "pg"]

_INT_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
    }
)
_TEXT_TYPES = frozenset(
    {"CharField", "TextField", "SlugField", "EmailField", "URLField", "FilePathField"}
)


class UnsupportedKey(ValueError):
    """Reconcile bisects integer key ranges; this table's primary key is not an integer."""


@dataclass(frozen=True)
class Column:
    """One synced column: its name on the wire, its local column, how it is rendered."""

    wire: str
    column: str
    attname: str
    kind: Kind
    places: int = 0


@dataclass(frozen=True)
class TableShape:
    """What a node checksums for one synced table, in its own names."""

    model: type[models.Model]
    sync_name: str  # ``strangler_sync_row.table_name`` of this table on this node
    db_table: str
    pk_column: str
    pk_attname: str
    columns: tuple[Column, ...]

    @classmethod
    def for_model(
        cls, model: type[models.Model], *, sync_name: str, wire_to_attname: dict[str, str]
    ) -> TableShape:
        """The shape of ``model`` synced under ``sync_name``; columns map wire name → field."""
        pk = model._meta.pk
        assert pk is not None  # every concrete model has one
        if column_kind(pk) != "int":
            raise UnsupportedKey(
                f"{model._meta.label}: reconcile needs an integer primary key, "
                f"not {pk.get_internal_type()}"
            )
        columns = []
        for wire, name in wire_to_attname.items():
            field = model._meta.get_field(name)
            assert isinstance(field, models.Field)
            if field.primary_key:
                continue  # the key is the first part of every row text already
            places = getattr(field, "decimal_places", 0) or 0
            columns.append(
                Column(
                    wire=wire,
                    column=str(field.column),
                    attname=field.attname,
                    kind=column_kind(field),
                    places=places,
                )
            )
        return cls(
            model=model,
            sync_name=sync_name,
            db_table=model._meta.db_table,
            pk_column=str(pk.column),
            pk_attname=pk.attname,
            columns=tuple(sorted(columns, key=lambda c: c.wire)),
        )


@dataclass(frozen=True)
class KeyBounds:
    """Smallest and largest primary key of a table (both None when it is empty).

    ``count`` plans how to cut the key span into calls: exact on SQLite, PostgreSQL's own
    estimate there (the planner's arithmetic: rows per page at the last ``ANALYZE`` times the
    pages now), since an exact ``count(*)`` is a scan of its own (0.45 s of a 2.5 s reconcile
    of 5M rows here). The rows a reconcile reports are counted by its first round instead.
    """

    low: int | None
    high: int | None
    count: int
    algorithms: tuple[Algorithm, ...] = ("md5",)  # the hash functions this node offers


@dataclass(frozen=True)
class SegmentChecksum:
    """Rows and hash sums of one half-open key range ``[low, high)``."""

    low: int
    high: int
    count: int
    keys: int
    rows: int | None  # None at the keys level


def column_kind(field: models.Field[Any, Any]) -> Kind:
    internal = field.get_internal_type()
    if isinstance(field, models.ForeignKey):
        target = field.target_field
        return column_kind(target) if isinstance(target, models.Field) else "other"
    if internal in _INT_TYPES:
        return "int"
    if internal in _TEXT_TYPES:
        return "text"
    if internal == "BooleanField":
        return "bool"
    if internal == "DecimalField":
        return "decimal"
    if internal == "DateTimeField":
        return "datetime"
    if internal == "DateField":
        return "date"
    if internal == "UUIDField":
        return "uuid"
    return "other"


def row_hash(text: str) -> int:
    """The low 60 bits of MD5(text): what PostgreSQL computes with ``right(md5(x), 15)``."""
    digest = hashlib.md5(text.encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[-8:], "big") & _MASK_60


def algorithms(*, using: str = "default") -> tuple[Algorithm, ...]:
    """The hash functions this database computes, the cheapest first."""
    return ("pg", "md5") if connections[using].vendor == "postgresql" else ("md5",)


def key_bounds(shape: TableShape, *, using: str = "default") -> KeyBounds:
    table, pk = _quote(using, shape.db_table), _quote(using, shape.pk_column)
    connection = connections[using]
    with connection.cursor() as cursor:
        count = None
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT CASE WHEN c.relpages > 0 AND c.reltuples >= 0 THEN "
                "ceil(c.reltuples / c.relpages * pg_relation_size(c.oid) "
                "/ current_setting('block_size')::int)::bigint END "
                "FROM pg_class c WHERE c.oid = %s::regclass",
                [table],
            )
            count = cursor.fetchone()[0]  # None: never analysed, or no page yet
        if count is None:
            cursor.execute(f"SELECT min({pk}), max({pk}), count(*) FROM {table}")  # noqa: S608
            low, high, count = cursor.fetchone()
        else:
            cursor.execute(f"SELECT min({pk}), max({pk}) FROM {table}")  # noqa: S608
            low, high = cursor.fetchone()
            if low is None:  # empty now, whatever the statistics remember
                count = 0
    return KeyBounds(low=low, high=high, count=count, algorithms=algorithms(using=using))


def int_key_expression(column: str, *, postgresql: bool) -> str:
    """A ``strangler_sync_row`` key as an integer: the expression migration 0003 indexes."""
    if postgresql:
        return f"CASE WHEN {column} ~ '{INT_KEY_PATTERN}' THEN {column}::bigint END"
    return f"CAST({column} AS INTEGER)"


def int_key_index_statements(vendor: str) -> list[str]:
    """SQL creating the index the version sums read through (``operations.VersionKeyIndex``)."""
    postgresql = vendor == "postgresql"
    only_integers = f"pk ~ '{INT_KEY_PATTERN}' AND " if postgresql else ""
    return [
        f"CREATE INDEX {INT_KEY_INDEX} ON {SYNC_ROW_TABLE} "
        f"(table_name, ({int_key_expression('pk', postgresql=postgresql)})) "
        f"WHERE {only_integers}{INT_KEY_LIVE}"
    ]


def segment_checksums(
    shape: TableShape,
    *,
    low: int,
    high: int,
    segments: int,
    level: Level,
    algorithm: Algorithm = "md5",
    using: str = "default",
) -> list[SegmentChecksum]:
    """Checksums of ``[low, high)`` cut into ``segments`` equal ranges: one scan of each table."""
    if algorithm not in algorithms(using=using):
        raise ValueError(f"this database does not compute the {algorithm!r} hash")
    if high <= low or segments < 1:
        return []
    width = -(-(high - low) // segments)
    connection = connections[using]
    table_sql = _table_sql(connection, shape, level=level, algorithm=algorithm)
    versions_sql = _versions_sql(connection, algorithm=algorithm)
    found: dict[int, tuple[int, int, int | None]] = {}
    versions: dict[int, int] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            _register_sqlite_aggregate(connection)
        cursor.execute(table_sql, [low, width, low, high])
        for bucket, count, keys, rows in cursor.fetchall():
            found[int(bucket)] = (int(count), int(keys), None if rows is None else int(rows))
        cursor.execute(versions_sql, [low, width, shape.sync_name, low, high])
        for bucket, total in cursor.fetchall():
            versions[int(bucket)] = int(total)
    result = []
    for index in range(-(-(high - low) // width)):
        start = low + index * width
        count, keys, rows = found.get(index, (0, 0, 0 if level == "rows" else None))
        live = versions.get(index, 0)
        result.append(
            SegmentChecksum(
                low=start,
                high=min(start + width, high),
                count=count,
                keys=keys + live,
                rows=None if rows is None else rows + live,
            )
        )
    return result


def _quote(using: str, name: str) -> str:
    return connections[using].ops.quote_name(name)


def _hash_sum(text: str, *, pg: bool, algorithm: Algorithm) -> str:
    """SQL summing the hash of ``text`` over a group, as text (the numbers outgrow bigint)."""
    if algorithm == "pg":
        return f"sum(hashtextextended({text}, 0))::text"
    if pg:
        return f"sum(('x' || right(md5({text}), 15))::bit(60)::bigint)::text"
    return f"{_AGGREGATE}({text})"


def _table_sql(
    connection: BaseDatabaseWrapper, shape: TableShape, *, level: Level, algorithm: Algorithm
) -> str:
    """Per bucket: rows, the sum of the keys' hashes, the sum of the rows' hashes (or NULL)."""
    quote = connection.ops.quote_name
    pg = connection.vendor == "postgresql"
    pk = f"t.{quote(shape.pk_column)}"
    pk_text = f"{pk}::text" if pg else f"CAST({pk} AS TEXT)"
    separator = f"chr({_SEPARATOR})" if pg else f"char({_SEPARATOR})"
    if algorithm == "pg":
        keys_sum = f"sum(hashint8extended({pk}::bigint, 0))::text"
    else:
        keys_sum = _hash_sum(pk_text, pg=pg, algorithm=algorithm)
    rows_sum = "NULL"
    if level == "rows":
        parts = [pk_text]
        for column in shape.columns:
            ref = f"t.{quote(column.column)}"
            rendered = _render(column, ref, pg=pg)
            parts.append(f"CASE WHEN {ref} IS NULL THEN '{_NULL}' ELSE {rendered} END")
        rows_sum = _hash_sum(f" || {separator} || ".join(parts), pg=pg, algorithm=algorithm)
    return (
        f"SELECT ({pk} - %s) / %s AS bucket, count(*), {keys_sum}, {rows_sum} "  # noqa: S608
        f"FROM {quote(shape.db_table)} t WHERE {pk} >= %s AND {pk} < %s GROUP BY 1"
    )


def _versions_sql(connection: BaseDatabaseWrapper, *, algorithm: Algorithm) -> str:
    """Per bucket: the sum of the hashes of ``pk <US> version`` of live, written keys."""
    pg = connection.vendor == "postgresql"
    key = int_key_expression("r.pk", postgresql=pg)
    if algorithm == "pg":
        total = f"sum(hashint8extended({key}, r.version))::text"
    else:
        version_text = "r.version::text" if pg else "CAST(r.version AS TEXT)"
        separator = f"chr({_SEPARATOR})" if pg else f"char({_SEPARATOR})"
        total = _hash_sum(f"r.pk || {separator} || {version_text}", pg=pg, algorithm=algorithm)
    # The index's predicate repeated word for word lets either engine use the partial index.
    only_integers = f"pk ~ '{INT_KEY_PATTERN}' AND " if pg else ""
    return (
        f"SELECT ({key} - %s) / %s AS bucket, {total} "  # noqa: S608
        f"FROM {SYNC_ROW_TABLE} r WHERE r.table_name = %s AND {only_integers}{INT_KEY_LIVE} "
        f"AND {key} >= %s AND {key} < %s GROUP BY 1"
    )


def _render(column: Column, ref: str, *, pg: bool) -> str:
    """``ref`` as text the same way on both engines (see the module's docstring)."""
    match column.kind:
        case "bool":
            return f"CASE WHEN {ref} THEN '1' ELSE '0' END"
        case "decimal":
            if pg:
                return f"round({ref}, {column.places})::text"
            return f"printf('%.{column.places}f', {ref})"
        case "datetime":
            if pg:
                return f"to_char({ref} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
            # Django stores ``YYYY-MM-DD HH:MM:SS[.ffffff]`` in UTC, no fraction when it is 0.
            return (
                f"CASE WHEN length({ref}) > 19 THEN replace(substr({ref}, 1, 26), ' ', 'T') "
                f"ELSE replace({ref}, ' ', 'T') || '.000000' END"
            )
        case "uuid":
            return f"replace({ref}::text, '-', '')" if pg else ref
        case "text" | "date":
            return f"{ref}::text" if pg else ref
        case _:
            return f"{ref}::text" if pg else f"CAST({ref} AS TEXT)"


class _HashSum:
    """SQLite aggregate: the exact sum of ``row_hash`` over a group, as text."""

    def __init__(self) -> None:
        self.total = 0

    def step(self, text: str) -> None:
        self.total += row_hash(text)

    def finalize(self) -> str:
        return str(self.total)


def _register_sqlite_aggregate(connection: BaseDatabaseWrapper) -> None:
    connection.ensure_connection()
    # Registering again on the same connection replaces the function: cheap and idempotent.
    connection.connection.create_aggregate(_AGGREGATE, 1, _HashSum)
