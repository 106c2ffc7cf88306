"""The results' rows to and from ``AggregateState``: adding a delta, reading the sums.

``ResultsStore`` owns the connection, the lock and the transaction (``ResultsDatabase``);
these functions run on a cursor of it, in the SQL of its ``Dialect`` (SQLite's by default).
Every counter is added in SQL (see ``results_schema``), so writers in other processes add
to the same rows without reading them first. A route holds at most
``StoreLimits.max_keys_per_route`` field keys and ``max_clusters_per_route`` clusters; what
does not fit is counted on the route's row as dropped, never silently lost.

The route's row is written first: on PostgreSQL that upsert locks the row until the
transaction ends, so concurrent writers to one route take turns through the rest (the
counts of held keys and clusters stay exact), and ``ResultsStore`` adds routes in name
order so that two writers never wait on each other's routes in a cycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from strangler.compare.latency import HistogramState
from strangler.compare.model import Signature
from strangler.compare.results_schema import (
    ADD_ROUTE,
    READ_ROUTES,
    SCALARS,
    SQLITE,
    Dialect,
    example_of,
    example_text,
    signature_of,
    signature_text,
)
from strangler.compare.state import (
    AggregateState,
    ClusterExample,
    ClusterState,
    FieldCounts,
    FieldKey,
)
from strangler.compare.store import StoreLimits

__all__ = ["Cursor", "Rows", "add_delta", "read_states"]


class Rows(Protocol):
    """What a statement answers (``sqlite3.Cursor``, ``psycopg.Cursor``)."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...


class Cursor(Protocol):
    """Where statements run: a ``sqlite3.Connection`` or a ``psycopg.Cursor``."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Rows: ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> object: ...


_ADD_VERDICT = """
INSERT INTO {p}verdicts (route, verdict, count) VALUES (?, ?, ?)
ON CONFLICT (route, verdict) DO UPDATE SET count = {p}verdicts.count + excluded.count
"""
_ADD_STATUS = """
INSERT INTO {p}statuses (route, base, candidate, count) VALUES (?, ?, ?, ?)
ON CONFLICT (route, base, candidate) DO UPDATE SET count = {p}statuses.count + excluded.count
"""
_ADD_LATENCY = """
INSERT INTO {p}latency (route, side, bucket, count) VALUES (?, ?, ?, ?)
ON CONFLICT (route, side, bucket) DO UPDATE SET count = {p}latency.count + excluded.count
"""
_ADD_LATENCY_TOTAL = """
INSERT INTO {p}latency_totals (route, side, count, total_seconds) VALUES (?, ?, ?, ?)
ON CONFLICT (route, side) DO UPDATE SET
    count = {p}latency_totals.count + excluded.count,
    total_seconds = {p}latency_totals.total_seconds + excluded.total_seconds
"""
_COUNT_FIELDS = "SELECT count(*) FROM {p}fields WHERE route = ?"
_ADD_FIELD = """
UPDATE {p}fields SET candidate = candidate + ?, base = base + ?,
    candidate_self = candidate_self + ?, critical = {greatest}(critical, ?)
WHERE route = ? AND key = ? AND kind = ?
"""
_NEW_FIELD = """
INSERT INTO {p}fields (route, key, kind, candidate, base, candidate_self, critical)
VALUES (?, ?, ?, ?, ?, ?, ?)
"""
_DROPPED_KEYS = "UPDATE {p}routes SET dropped_keys = dropped_keys + ? WHERE route = ?"
_COUNT_CLUSTERS = "SELECT count(*) FROM {p}clusters WHERE route = ?"
_ADD_CLUSTER = """
UPDATE {p}clusters SET count = count + ?, first_seen = {least}(first_seen, ?),
    last_seen = {greatest}(last_seen, ?)
WHERE route = ? AND signature = ?
"""
_NEW_CLUSTER = """
INSERT INTO {p}clusters (route, signature, count, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)
"""
_COUNT_EXAMPLES = "SELECT count(*) FROM {p}examples WHERE route = ? AND signature = ?"
_NEW_EXAMPLE = "INSERT INTO {p}examples (route, signature, at, example) VALUES (?, ?, ?, ?)"
_DROPPED_CLUSTERS = "UPDATE {p}routes SET dropped_clusters = dropped_clusters + ? WHERE route = ?"


def add_delta(
    db: Cursor,
    delta: AggregateState,
    *,
    limits: StoreLimits,
    now: float,
    dialect: Dialect = SQLITE,
) -> None:
    """Add one route's counts to the tables, inside the caller's transaction; keys and
    clusters past ``limits`` are counted as dropped on the route's row."""
    sql = dialect.sql
    route = delta.route
    scalars = [getattr(delta, name) for name in SCALARS]
    db.execute(sql(ADD_ROUTE), [route, *scalars, now])
    db.executemany(
        sql(_ADD_VERDICT), [(route, verdict, n) for verdict, n in delta.verdicts.items()]
    )
    _add_fields(db, route, delta.fields, limit=limits.max_keys_per_route, dialect=dialect)
    _add_clusters(db, route, delta.clusters, limits=limits, dialect=dialect)
    db.executemany(
        sql(_ADD_STATUS),
        [(route, base, candidate, n) for (base, candidate), n in delta.statuses.items()],
    )
    for side, histogram in delta.latency.items():
        db.executemany(
            sql(_ADD_LATENCY),
            [(route, side, bucket, n) for bucket, n in histogram.buckets.items()],
        )
        db.execute(sql(_ADD_LATENCY_TOTAL), (route, side, histogram.count, histogram.total_seconds))


def _add_fields(
    db: Cursor,
    route: str,
    fields: Mapping[FieldKey, FieldCounts],
    *,
    limit: int,
    dialect: Dialect,
) -> None:
    sql = dialect.sql
    held = db.execute(sql(_COUNT_FIELDS), (route,)).fetchone()[0]
    dropped = 0
    for (key, kind), counts in fields.items():
        # An int, not a bool: PostgreSQL has no greatest() of an integer and a boolean.
        critical = int(counts.critical)
        updated = db.execute(
            sql(_ADD_FIELD),
            (counts.candidate, counts.base, counts.candidate_self, critical, route, key, kind),
        )
        if updated.rowcount:
            continue
        if held >= limit:
            dropped += counts.candidate
            continue
        held += 1
        db.execute(
            sql(_NEW_FIELD),
            (route, key, kind, counts.candidate, counts.base, counts.candidate_self, critical),
        )
    if dropped:
        db.execute(sql(_DROPPED_KEYS), (dropped, route))


def _add_clusters(
    db: Cursor,
    route: str,
    clusters: Mapping[Signature, ClusterState],
    *,
    limits: StoreLimits,
    dialect: Dialect,
) -> None:
    sql = dialect.sql
    held = db.execute(sql(_COUNT_CLUSTERS), (route,)).fetchone()[0]
    dropped = 0
    for signature, cluster in clusters.items():
        text = signature_text(signature)
        updated = db.execute(
            sql(_ADD_CLUSTER), (cluster.count, cluster.first_seen, cluster.last_seen, route, text)
        )
        if not updated.rowcount:
            if held >= limits.max_clusters_per_route:
                dropped += cluster.count
                continue
            held += 1
            db.execute(
                sql(_NEW_CLUSTER),
                (route, text, cluster.count, cluster.first_seen, cluster.last_seen),
            )
        if cluster.examples:
            kept = db.execute(sql(_COUNT_EXAMPLES), (route, text)).fetchone()[0]
            room = max(0, limits.max_examples - kept)
            db.executemany(
                sql(_NEW_EXAMPLE),
                [(route, text, e.at, example_text(e)) for e in cluster.examples[:room]],
            )
    if dropped:
        db.execute(sql(_DROPPED_CLUSTERS), (dropped, route))


_READ_VERDICTS = "SELECT route, verdict, count FROM {p}verdicts"
_READ_FIELDS = "SELECT route, key, kind, candidate, base, candidate_self, critical FROM {p}fields"
_READ_EXAMPLES = "SELECT route, signature, example FROM {p}examples ORDER BY at, {seq}"
_READ_CLUSTERS = "SELECT route, signature, count, first_seen, last_seen FROM {p}clusters"
_READ_STATUSES = "SELECT route, base, candidate, count FROM {p}statuses"
_READ_LATENCY = "SELECT route, side, bucket, count FROM {p}latency"
_READ_LATENCY_TOTALS = "SELECT route, side, count, total_seconds FROM {p}latency_totals"


def read_states(db: Cursor, *, dialect: Dialect = SQLITE) -> list[AggregateState]:
    """Every route's summed counts, by route name. Run inside one read transaction (the
    caller's) so that the tables are read at one moment, between flushes."""
    sql = dialect.sql
    routes: dict[str, dict[str, Any]] = {}
    for row in db.execute(sql(READ_ROUTES)):
        routes[row[0]] = {
            **dict(zip(SCALARS, row[1:], strict=True)),
            "verdicts": {},
            "fields": {},
            "clusters": {},
            "statuses": {},
            "latency": {},
        }
    for route, verdict, n in db.execute(sql(_READ_VERDICTS)):
        routes[route]["verdicts"][verdict] = n
    for route, key, kind, candidate, base, candidate_self, critical in db.execute(
        sql(_READ_FIELDS)
    ):
        routes[route]["fields"][(key, kind)] = FieldCounts(
            candidate, base, candidate_self, bool(critical)
        )
    examples: dict[tuple[str, str], list[ClusterExample]] = {}
    for route, text, example in db.execute(sql(_READ_EXAMPLES)):
        examples.setdefault((route, text), []).append(example_of(example))
    for route, text, n, first, last in db.execute(sql(_READ_CLUSTERS)):
        routes[route]["clusters"][signature_of(text)] = ClusterState(
            n, first, last, tuple(examples.get((route, text), ()))
        )
    for route, base, candidate, n in db.execute(sql(_READ_STATUSES)):
        routes[route]["statuses"][(base, candidate)] = n
    buckets: dict[tuple[str, str], dict[int, int]] = {}
    for route, side, bucket, n in db.execute(sql(_READ_LATENCY)):
        buckets.setdefault((route, side), {})[bucket] = n
    for route, side, n, total in db.execute(sql(_READ_LATENCY_TOTALS)):
        routes[route]["latency"][side] = HistogramState(buckets.get((route, side), {}), n, total)
    return [AggregateState(route=name, **data) for name, data in sorted(routes.items())]
