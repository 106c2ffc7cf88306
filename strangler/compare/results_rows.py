"""The results file's rows to and from ``AggregateState``: adding a delta, reading the sums.

``ResultsStore`` owns the connection, the lock and the write transaction; these functions
run on its connection. Every counter is added in SQL (see ``results_schema``), so writers in
other processes add to the same rows without reading them first. A route holds at most
``StoreLimits.max_keys_per_route`` field keys and ``max_clusters_per_route`` clusters; what
does not fit is counted on the route's row as dropped, never silently lost.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from strangler.compare.latency import HistogramState
from strangler.compare.model import Signature
from strangler.compare.results_schema import (
    ADD_ROUTE,
    READ_ROUTES,
    SCALARS,
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

__all__ = ["add_delta", "read_states"]


def add_delta(
    db: sqlite3.Connection, delta: AggregateState, *, limits: StoreLimits, now: float
) -> None:
    """Add one route's counts to the tables, inside the caller's transaction; keys and
    clusters past ``limits`` are counted as dropped on the route's row."""
    route = delta.route
    scalars = [getattr(delta, name) for name in SCALARS]
    db.execute(ADD_ROUTE, [route, *scalars, now])
    db.executemany(
        "INSERT INTO verdicts VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET count = count + "
        "excluded.count",
        [(route, verdict, n) for verdict, n in delta.verdicts.items()],
    )
    _add_fields(db, route, delta.fields, limit=limits.max_keys_per_route)
    _add_clusters(db, route, delta.clusters, limits=limits)
    db.executemany(
        "INSERT INTO statuses VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET count = count + "
        "excluded.count",
        [(route, base, candidate, n) for (base, candidate), n in delta.statuses.items()],
    )
    for side, histogram in delta.latency.items():
        db.executemany(
            "INSERT INTO latency VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET count = "
            "count + excluded.count",
            [(route, side, bucket, n) for bucket, n in histogram.buckets.items()],
        )
        db.execute(
            "INSERT INTO latency_totals VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
            "count = count + excluded.count, "
            "total_seconds = total_seconds + excluded.total_seconds",
            (route, side, histogram.count, histogram.total_seconds),
        )


def _add_fields(
    db: sqlite3.Connection, route: str, fields: Mapping[FieldKey, FieldCounts], *, limit: int
) -> None:
    held = db.execute("SELECT count(*) FROM fields WHERE route = ?", (route,)).fetchone()[0]
    dropped = 0
    for (key, kind), counts in fields.items():
        updated = db.execute(
            "UPDATE fields SET candidate = candidate + ?, base = base + ?, "
            "candidate_self = candidate_self + ?, critical = max(critical, ?) "
            "WHERE route = ? AND key = ? AND kind = ?",
            (
                counts.candidate,
                counts.base,
                counts.candidate_self,
                counts.critical,
                route,
                key,
                kind,
            ),
        )
        if updated.rowcount:
            continue
        if held >= limit:
            dropped += counts.candidate
            continue
        held += 1
        db.execute(
            "INSERT INTO fields VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                route,
                key,
                kind,
                counts.candidate,
                counts.base,
                counts.candidate_self,
                counts.critical,
            ),
        )
    if dropped:
        db.execute(
            "UPDATE routes SET dropped_keys = dropped_keys + ? WHERE route = ?",
            (dropped, route),
        )


def _add_clusters(
    db: sqlite3.Connection,
    route: str,
    clusters: Mapping[Signature, ClusterState],
    *,
    limits: StoreLimits,
) -> None:
    held = db.execute("SELECT count(*) FROM clusters WHERE route = ?", (route,)).fetchone()[0]
    dropped = 0
    for signature, cluster in clusters.items():
        text = signature_text(signature)
        updated = db.execute(
            "UPDATE clusters SET count = count + ?, first_seen = min(first_seen, ?), "
            "last_seen = max(last_seen, ?) WHERE route = ? AND signature = ?",
            (cluster.count, cluster.first_seen, cluster.last_seen, route, text),
        )
        if not updated.rowcount:
            if held >= limits.max_clusters_per_route:
                dropped += cluster.count
                continue
            held += 1
            db.execute(
                "INSERT INTO clusters VALUES (?, ?, ?, ?, ?)",
                (route, text, cluster.count, cluster.first_seen, cluster.last_seen),
            )
        if cluster.examples:
            kept = db.execute(
                "SELECT count(*) FROM examples WHERE route = ? AND signature = ?",
                (route, text),
            ).fetchone()[0]
            room = max(0, limits.max_examples - kept)
            db.executemany(
                "INSERT INTO examples VALUES (?, ?, ?, ?)",
                [(route, text, e.at, example_text(e)) for e in cluster.examples[:room]],
            )
    if dropped:
        db.execute(
            "UPDATE routes SET dropped_clusters = dropped_clusters + ? WHERE route = ?",
            (dropped, route),
        )


def read_states(db: sqlite3.Connection) -> list[AggregateState]:
    """Every route's summed counts, by route name, read in one transaction."""
    # One read transaction: the tables below are read at one moment, between flushes.
    db.execute("BEGIN")
    try:
        routes: dict[str, dict[str, Any]] = {}
        for row in db.execute(READ_ROUTES):
            routes[row[0]] = {
                **dict(zip(SCALARS, row[1:], strict=True)),
                "verdicts": {},
                "fields": {},
                "clusters": {},
                "statuses": {},
                "latency": {},
            }
        for route, verdict, n in db.execute("SELECT * FROM verdicts"):
            routes[route]["verdicts"][verdict] = n
        for route, key, kind, candidate, base, candidate_self, critical in db.execute(
            "SELECT * FROM fields"
        ):
            routes[route]["fields"][(key, kind)] = FieldCounts(
                candidate, base, candidate_self, bool(critical)
            )
        examples: dict[tuple[str, str], list[ClusterExample]] = {}
        for route, text, example in db.execute(
            "SELECT route, signature, example FROM examples ORDER BY at, rowid"
        ):
            examples.setdefault((route, text), []).append(example_of(example))
        for route, text, n, first, last in db.execute("SELECT * FROM clusters"):
            routes[route]["clusters"][signature_of(text)] = ClusterState(
                n, first, last, tuple(examples.get((route, text), ()))
            )
        for route, base, candidate, n in db.execute("SELECT * FROM statuses"):
            routes[route]["statuses"][(base, candidate)] = n
        buckets: dict[tuple[str, str], dict[int, int]] = {}
        for route, side, bucket, n in db.execute("SELECT * FROM latency"):
            buckets.setdefault((route, side), {})[bucket] = n
        for route, side, n, total in db.execute("SELECT * FROM latency_totals"):
            routes[route]["latency"][side] = HistogramState(
                buckets.get((route, side), {}), n, total
            )
    finally:
        db.execute("ROLLBACK")
    return [AggregateState(route=name, **data) for name, data in sorted(routes.items())]
