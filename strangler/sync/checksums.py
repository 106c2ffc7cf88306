"""Checksums over primary-key ranges of a synced table, computed in the database.

Reconcile compares two nodes without moving their rows: each node sums a 60- or 64-bit hash of
every row in a key range, and only ranges whose sums differ are looked at more closely
(data-diff's method). A range is cut into segments by boundary keys (``key_splits``: keys at
equal ranks, so a segment holds about as many rows however the keys are spread), and every
key is compared in the order both sides share (``keys``). A request's figures come from two
scans of its own, one per table, never a join:

- the synced table: ``count(*)``, the sum of each key's hash (keys level) and the sum of each
  row's hash (rows level: the key and every synced column rendered canonically, ``row_hash``,
  so that a write that bypassed capture is seen too);
- ``strangler_sync_row``: the sum of the hash of ``pk <US> version`` over the range's *live,
  written* keys (version above 0, not a tombstone), read through an index in key order
  (``version_index``). A row never written since capture was installed has version 0 on
  one node and perhaps no version row at all on the other; both count as nothing here.

The keys figure is the table's key sum plus the version sum, the rows figure the table's row
sum plus the version sum. Two nodes agree on a segment when they hold the same keys (and
values) and the same live versions. Joining the two tables instead (the first design) cost a
hash of every version row of the table per call: on a million rows, 0.4 s a call whatever the
range; a reconcile of 1M identical rows took 4.2 s with the join, 0.7 s without.

Which segment a row falls in is decided in the database too (``key_ranges``).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

from strangler.sync.key_ranges import Segments
from strangler.sync.keys import (
    KeyOrder,
    key_param,
    key_sql,
    order_token,
    version_key_sql,
    version_param,
)
from strangler.sync.row_hash import (
    Algorithm,
    concat_sql,
    hash_sum_sql,
    key_text_sql,
    null_sql,
    register_hash_sum,
    render_sql,
    separator_sql,
)
from strangler.sync.shapes import TableShape
from strangler.sync.version_index import SYNC_ROW_TABLE

__all__ = [
    "Boundaries",
    "KeyBounds",
    "Level",
    "SegmentChecksum",
    "algorithms",
    "key_bounds",
    "segment_checksums",
]

# ``keys``: key and version only (cheap); ``rows``: the column values too.
Level = Literal["keys", "rows"]
# PostgreSQL's array type of boundaries compared to each kind of key column.
_TABLE_ARRAYS = {"int": "bigint", "uuid": "uuid", "text": "text"}
# Beyond every key of ``strangler_sync_row`` in each kind's order there: an open end of a range
# is compared to these on PostgreSQL. With one side open the planner took a third of the rows
# for the range (no statistics on the indexes' expressions) and read every version row instead
# of the index: 3.7 s for the first of 3M written integer keys, 0.11 s with both ends. Text has
# no greatest key, but no costly cast to skip either.
_VERSION_ENDS: dict[str, tuple[Any, Any]] = {
    "int": (-(2**63), 2**63),
    "uuid": ("", "g"),  # lowercase hex digits and hyphens all sort below "g"
    "text": ("", None),
}
# A range cut into segments: keys b0 < b1 < ... < bn as sent, segment i is [b_i, b_i+1);
# ``None`` first or last leaves that end open.
Boundaries = Sequence[str | None]


@dataclass(frozen=True)
class KeyBounds:
    """What a node tells about a table before reconcile plans its ranges.

    ``count`` is exact on SQLite and PostgreSQL's own estimate there (the planner's arithmetic:
    rows per page at the last ``ANALYZE`` times the pages now), since an exact ``count(*)`` is a
    scan of its own (0.45 s of a 2.5 s reconcile of 5M rows here). The rows a reconcile reports
    are counted by its first round instead. ``order`` names the key's order (``keys``).
    """

    count: int
    algorithms: tuple[Algorithm, ...] = ("md5",)  # the hash functions this node offers
    order: str = "int"


@dataclass(frozen=True)
class SegmentChecksum:
    """Rows and hash sums of one key range ``[low, high)`` (``None``: that end open)."""

    low: str | None
    high: str | None
    count: int
    keys: int
    rows: int | None  # None at the keys level


def algorithms(*, using: str = "default") -> tuple[Algorithm, ...]:
    """The hash functions this database computes, the cheapest first."""
    return ("pg", "md5") if connections[using].vendor == "postgresql" else ("md5",)


def key_bounds(shape: TableShape, *, using: str = "default") -> KeyBounds:
    connection = connections[using]
    table = connection.ops.quote_name(shape.db_table)
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
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
            count = cursor.fetchone()[0]
        else:
            cursor.execute(f"SELECT 1 FROM {table} LIMIT 1")  # noqa: S608
            if cursor.fetchone() is None:  # empty now, whatever the statistics remember
                count = 0
    return KeyBounds(
        count=int(count),
        algorithms=algorithms(using=using),
        order=order_token(shape, connection),
    )


def segment_checksums(
    shape: TableShape,
    *,
    boundaries: Boundaries,
    level: Level,
    algorithm: Algorithm = "md5",
    order: KeyOrder = "native",
    using: str = "default",
) -> list[SegmentChecksum]:
    """Checksums of each segment between ``boundaries``: one scan of each table."""
    if algorithm not in algorithms(using=using):
        raise ValueError(f"this database does not compute the {algorithm!r} hash")
    if len(boundaries) < 2:
        return []
    connection = connections[using]
    how = _How(shape, boundaries, level, algorithm, order, connection)
    found: dict[int, tuple[int, int, int | None]] = {}
    versions: dict[int, int] = {}
    register_hash_sum(connection)
    with connection.cursor() as cursor:
        cursor.execute(*_table_query(how))
        for bucket, count, keys, row_sum in cursor.fetchall():
            found[int(bucket)] = (int(count), int(keys), None if row_sum is None else int(row_sum))
        cursor.execute(*_versions_query(how))
        for bucket, total in cursor.fetchall():
            versions[int(bucket)] = int(total)
    result = []
    for index, (low, high) in enumerate(itertools.pairwise(boundaries)):
        count, keys, row_sum = found.get(index, (0, 0, 0 if level == "rows" else None))
        live_sum = versions.get(index, 0)
        result.append(
            SegmentChecksum(
                low=low,
                high=high,
                count=count,
                keys=keys + live_sum,
                rows=None if row_sum is None else row_sum + live_sum,
            )
        )
    return result


@dataclass(frozen=True)
class _How:
    """One ``segment_checksums`` call's question, as its two queries need it."""

    shape: TableShape
    boundaries: Boundaries
    level: Level
    algorithm: Algorithm
    order: KeyOrder
    connection: BaseDatabaseWrapper


def _table_query(how: _How) -> tuple[str, list[Any]]:
    """Per segment: rows, the sum of the keys' hashes, the sum of the rows' hashes (or NULL)."""
    shape, connection = how.shape, how.connection
    quote = connection.ops.quote_name
    key = key_sql(shape, f"t.{quote(shape.pk_column)}", how.order, connection)
    rows = Segments.of(
        how.boundaries,
        ranged=key,
        value=key,
        param=lambda wire: key_param(shape, wire, connection),
        array=_TABLE_ARRAYS[shape.key] if connection.vendor == "postgresql" else None,
    )
    sums = _table_sums(connection, shape, level=how.level, algorithm=how.algorithm)
    return (
        f"SELECT {rows.bucket} AS bucket, count(*), {sums} "  # noqa: S608
        f"FROM {quote(shape.db_table)} t WHERE 1 = 1{rows.where} GROUP BY 1",
        [*rows.bucket_params, *rows.where_params],
    )


def _versions_query(how: _How) -> tuple[str, list[Any]]:
    """Per segment: the sum of the hashes of ``pk <US> version`` of live, written keys."""
    shape, connection = how.shape, how.connection
    pg = connection.vendor == "postgresql"
    key = version_key_sql(shape, how.order, connection)
    marks = Segments.of(
        how.boundaries,
        ranged=key.ranged,
        value=key.value,
        param=lambda wire: version_param(shape, wire, connection),
        array=("bigint" if shape.key == "int" else "text") if pg else None,
        ends=_VERSION_ENDS[shape.key] if pg else (None, None),
    )
    total = _version_sum(shape, key.value, vendor=connection.vendor, algorithm=how.algorithm)
    return (
        f"SELECT {marks.bucket} AS bucket, {total} FROM {SYNC_ROW_TABLE} r "  # noqa: S608
        f"WHERE r.table_name = %s AND {key.live}{marks.where} GROUP BY 1",
        [*marks.bucket_params, shape.sync_name, *marks.where_params],
    )


def _table_sums(
    connection: BaseDatabaseWrapper, shape: TableShape, *, level: Level, algorithm: Algorithm
) -> str:
    """The sum of the keys' hashes and the sum of the rows' hashes (or NULL), as text."""
    quote = connection.ops.quote_name
    vendor = connection.vendor
    pk = f"t.{quote(shape.pk_column)}"
    pk_text = key_text_sql(shape.key, pk, vendor=vendor)
    if algorithm == "pg" and shape.key == "int":
        keys_sum = f"sum(hashint8extended({pk}::bigint, 0))::text"
    elif algorithm == "pg" and shape.key == "uuid":
        keys_sum = f"sum(uuid_hash_extended({pk}, 0))::text"  # no text: both are PostgreSQL
    else:
        keys_sum = hash_sum_sql(pk_text, vendor=vendor, algorithm=algorithm)
    if level != "rows":
        return f"{keys_sum}, NULL"
    parts = [pk_text]
    for column in shape.columns:
        ref = f"t.{quote(column.column)}"
        rendered = render_sql(column, ref, vendor=vendor)
        parts.append(separator_sql(vendor=vendor))
        parts.append(f"CASE WHEN {ref} IS NULL THEN {null_sql(vendor=vendor)} ELSE {rendered} END")
    text = concat_sql(parts, vendor=vendor)
    return f"{keys_sum}, {hash_sum_sql(text, vendor=vendor, algorithm=algorithm)}"


def _version_sum(shape: TableShape, version_key: str, *, vendor: str, algorithm: Algorithm) -> str:
    """The sum of the hashes of ``pk <US> version`` of live, written keys, as text."""
    if algorithm == "pg":
        if shape.key == "int":
            return f"sum(hashint8extended({version_key}, r.version))::text"
        return "sum(hashtextextended(r.pk, r.version))::text"
    version_text = key_text_sql("int", "r.version", vendor=vendor)
    key_text = key_text_sql(shape.key, "r.pk", vendor=vendor) if shape.key == "uuid" else "r.pk"
    text = concat_sql([key_text, separator_sql(vendor=vendor), version_text], vendor=vendor)
    return hash_sum_sql(text, vendor=vendor, algorithm=algorithm)
