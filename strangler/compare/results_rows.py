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

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol, TypeVar

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

_K = TypeVar("_K")

# Rows in one statement: 500 rows of at most 7 columns stay far below the parameters a
# statement may have (SQLite 32,766, PostgreSQL 65,535); a route's delta rarely has more.
ROWS_PER_STATEMENT = 500


class Rows(Protocol):
    """What a statement answers (``sqlite3.Cursor``, ``psycopg.Cursor``)."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...


class Cursor(Protocol):
    """Where statements run: a ``sqlite3.Connection`` or a ``psycopg.Cursor``."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Rows: ...


_ADD_VERDICT = """
INSERT INTO {p}verdicts (route, verdict, count) VALUES {rows}
ON CONFLICT (route, verdict) DO UPDATE SET count = {p}verdicts.count + excluded.count
"""
_ADD_STATUS = """
INSERT INTO {p}statuses (route, base, candidate, count) VALUES {rows}
ON CONFLICT (route, base, candidate) DO UPDATE SET count = {p}statuses.count + excluded.count
"""
_ADD_LATENCY = """
INSERT INTO {p}latency (route, side, bucket, count) VALUES {rows}
ON CONFLICT (route, side, bucket) DO UPDATE SET count = {p}latency.count + excluded.count
"""
_ADD_LATENCY_TOTAL = """
INSERT INTO {p}latency_totals (route, side, count, total_seconds) VALUES {rows}
ON CONFLICT (route, side) DO UPDATE SET
    count = {p}latency_totals.count + excluded.count,
    total_seconds = {p}latency_totals.total_seconds + excluded.total_seconds
"""
_HELD = """
SELECT (SELECT count(*) FROM {p}fields WHERE route = ?),
       (SELECT count(*) FROM {p}clusters WHERE route = ?)
"""
_FIELD_KEYS = "SELECT key, kind FROM {p}fields WHERE route = ?"
_ADD_FIELD = """
INSERT INTO {p}fields (route, key, kind, candidate, base, candidate_self, critical)
VALUES {rows}
ON CONFLICT (route, key, kind) DO UPDATE SET
    candidate = {p}fields.candidate + excluded.candidate,
    base = {p}fields.base + excluded.base,
    candidate_self = {p}fields.candidate_self + excluded.candidate_self,
    critical = {greatest}({p}fields.critical, excluded.critical)
"""
_DROPPED_KEYS = "UPDATE {p}routes SET dropped_keys = dropped_keys + ? WHERE route = ?"
_SIGNATURES = "SELECT signature FROM {p}clusters WHERE route = ?"
_ADD_CLUSTER = """
INSERT INTO {p}clusters (route, signature, count, first_seen, last_seen) VALUES {rows}
ON CONFLICT (route, signature) DO UPDATE SET
    count = {p}clusters.count + excluded.count,
    first_seen = {least}({p}clusters.first_seen, excluded.first_seen),
    last_seen = {greatest}({p}clusters.last_seen, excluded.last_seen)
"""
_KEPT_EXAMPLES = "SELECT signature, count(*) FROM {p}examples WHERE route = ? GROUP BY signature"
_NEW_EXAMPLE = "INSERT INTO {p}examples (route, signature, at, example) VALUES {rows}"
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
    clusters past ``limits`` are counted as dropped on the route's row.

    Few statements, and only ``_HELD`` waits for an answer in the usual case: PostgreSQL's
    pipeline sends the rest together (``results_postgres``)."""
    sql = dialect.sql
    route = delta.route
    scalars = [getattr(delta, name) for name in SCALARS]
    db.execute(sql(ADD_ROUTE), [route, *scalars, now])
    held_keys, held_clusters = db.execute(sql(_HELD), (route, route)).fetchone()
    _insert(db, sql(_ADD_VERDICT), [(route, v, n) for v, n in delta.verdicts.items()], dialect)
    _add_fields(
        db, route, delta.fields, held=held_keys, limit=limits.max_keys_per_route, dialect=dialect
    )
    _add_clusters(db, route, delta.clusters, held=held_clusters, limits=limits, dialect=dialect)
    _insert(
        db,
        sql(_ADD_STATUS),
        [(route, base, candidate, n) for (base, candidate), n in delta.statuses.items()],
        dialect,
    )
    _insert(
        db,
        sql(_ADD_LATENCY),
        [
            (route, side, bucket, n)
            for side, histogram in delta.latency.items()
            for bucket, n in histogram.buckets.items()
        ],
        dialect,
    )
    _insert(
        db,
        sql(_ADD_LATENCY_TOTAL),
        [(route, side, h.count, h.total_seconds) for side, h in delta.latency.items()],
        dialect,
    )


def _insert(db: Cursor, sql: str, rows: Sequence[Sequence[Any]], dialect: Dialect) -> None:
    """``sql`` (rendered, ``{rows}`` after its VALUES) for every row, in as few statements
    as ``ROWS_PER_STATEMENT`` allows: each statement is one execution on the server, where an
    ``executemany`` would be one per row."""
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        chunk = rows[start : start + ROWS_PER_STATEMENT]
        values = dialect.rows(width=len(chunk[0]), count=len(chunk))
        db.execute(sql.replace("{rows}", values), [value for row in chunk for value in row])


def _fitting(
    new: list[_K], *, existing: Callable[[], set[_K]], held: int, limit: int
) -> tuple[set[_K], list[_K]]:
    """Of ``new`` (a delta's keys, in order), the ones kept and the ones past ``limit``.
    Only near the limit does it ask which of them the tables hold already."""
    if held + len(new) <= limit:
        return set(new), []
    there = existing()
    room = max(0, limit - held)
    unseen = [key for key in new if key not in there]
    return there.intersection(new) | set(unseen[:room]), unseen[room:]


def _add_fields(
    db: Cursor,
    route: str,
    fields: Mapping[FieldKey, FieldCounts],
    *,
    held: int,
    limit: int,
    dialect: Dialect,
) -> None:
    sql = dialect.sql
    kept, past = _fitting(
        list(fields),
        existing=lambda: {(k, kind) for k, kind in db.execute(sql(_FIELD_KEYS), (route,))},
        held=held,
        limit=limit,
    )
    # critical as an int: PostgreSQL has no greatest() of an integer and a boolean.
    _insert(
        db,
        sql(_ADD_FIELD),
        [
            (route, key, kind, c.candidate, c.base, c.candidate_self, int(c.critical))
            for (key, kind), c in fields.items()
            if (key, kind) in kept
        ],
        dialect,
    )
    if past:
        db.execute(sql(_DROPPED_KEYS), (sum(fields[key].candidate for key in past), route))


def _add_clusters(
    db: Cursor,
    route: str,
    clusters: Mapping[Signature, ClusterState],
    *,
    held: int,
    limits: StoreLimits,
    dialect: Dialect,
) -> None:
    sql = dialect.sql
    texts = {signature: signature_text(signature) for signature in clusters}
    kept, past = _fitting(
        list(texts.values()),
        existing=lambda: {text for (text,) in db.execute(sql(_SIGNATURES), (route,))},
        held=held,
        limit=limits.max_clusters_per_route,
    )
    _insert(
        db,
        sql(_ADD_CLUSTER),
        [
            (route, texts[signature], c.count, c.first_seen, c.last_seen)
            for signature, c in clusters.items()
            if texts[signature] in kept
        ],
        dialect,
    )
    if any(c.examples for c in clusters.values()):
        counts = dict(db.execute(sql(_KEPT_EXAMPLES), (route,)))
        _insert(
            db,
            sql(_NEW_EXAMPLE),
            [
                (route, texts[signature], e.at, example_text(e))
                for signature, c in clusters.items()
                if texts[signature] in kept
                for e in c.examples[: max(0, limits.max_examples - counts.get(texts[signature], 0))]
            ],
            dialect,
        )
    if past:
        by_text = {text: clusters[signature] for signature, text in texts.items()}
        db.execute(sql(_DROPPED_CLUSTERS), (sum(by_text[text].count for text in past), route))


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
