"""Comparison results that outlive a process and are shared by many: one database.

Every proxy worker and every replay keeps its own ``CompareEngine``; a ``ResultsWriter``
sends what an engine counted since its last flush (``state_delta``) to the database, where
it is added to what every other writer sent: verdict counts, the noise counters per field,
clusters (count, first and last seen, up to ``StoreLimits.max_examples`` examples), the
status matrix and each side's latency histogram. Reports are drawn from the sums, so a
field is judged noise or real with every worker's evidence, and nothing is lost to a
restart. ``route_totals`` is what the plan gates and the metrics read.

Which database, decided in one place (``results_location``): a path given explicitly
(``--results``) is a SQLite file; otherwise ``STRANGLER_STORE_URL``, when set, names the
fleet's PostgreSQL, where the writers of every replica on every host meet; otherwise the
file ``$STRANGLER_VAR_DIR/compare/results.sqlite3`` of this host (``results_sqlite``,
``results_postgres``). A flush is one short transaction on either.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from strangler.compare.engine import CompareEngine
from strangler.compare.noise import NoiseSettings
from strangler.compare.results_database import (
    STORE_URL_VARIABLE,
    ResultsDatabase,
    ResultsError,
    ResultsMissing,
    StoreUrl,
    StoreUrlInvalid,
    store_url,
)
from strangler.compare.results_rows import add_delta, read_states
from strangler.compare.results_sqlite import SqliteResultsDatabase
from strangler.compare.state import AggregateState, state_delta
from strangler.compare.store import RouteAggregate, RouteReport, RouteTotals, StoreLimits
from strangler.environment import var_dir

__all__ = [
    "STORE_URL_VARIABLE",
    "ResultsError",
    "ResultsLocation",
    "ResultsMissing",
    "ResultsStore",
    "ResultsWriter",
    "StoreUrl",
    "StoreUrlInvalid",
    "default_results_path",
    "open_results",
    "results_location",
    "route_totals",
]

#: A SQLite file, or the fleet's PostgreSQL.
ResultsLocation = Path | StoreUrl


def default_results_path(env: Mapping[str, str] | None = None) -> Path:
    """``$STRANGLER_VAR_DIR/compare/results.sqlite3`` (``var/`` by default)."""
    return var_dir(env) / "compare" / "results.sqlite3"


def results_location(
    path: Path | None = None, *, env: Mapping[str, str] | None = None
) -> ResultsLocation:
    """Where results are: ``path`` when given; else ``$STRANGLER_STORE_URL`` when set; else
    ``default_results_path()``. Raises ``StoreUrlInvalid`` for a URL this cannot open."""
    if path is not None:
        return path
    return store_url(env) or default_results_path(env)


def open_results(
    location: ResultsLocation | None = None,
    *,
    create: bool = True,
    limits: StoreLimits | None = None,
    noise: NoiseSettings | None = None,
) -> ResultsStore:
    """The results at ``location``, or where ``results_location()`` says when ``None``."""
    return ResultsStore(
        results_location() if location is None else location,
        create=create,
        limits=limits,
        noise=noise,
    )


def _database(location: ResultsLocation, *, create: bool) -> ResultsDatabase:
    if isinstance(location, Path):
        return SqliteResultsDatabase(location, create=create)
    try:
        from strangler.compare.results_postgres import PostgresResultsDatabase
    except ImportError as exc:  # psycopg is the ``postgres`` extra
        raise ResultsError(
            f"{STORE_URL_VARIABLE} names PostgreSQL ({location}), and psycopg is not "
            "installed: pip install 'strangler-toolkit[postgres]'"
        ) from exc
    return PostgresResultsDatabase(location, create=create)


class ResultsStore:
    """One results database. Thread-safe (one connection behind a lock); open one per
    process. ``create=False`` reads only what exists: ``ResultsMissing`` otherwise."""

    def __init__(
        self,
        location: ResultsLocation,
        *,
        create: bool = True,
        limits: StoreLimits | None = None,
        noise: NoiseSettings | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.location = location
        self.path = location if isinstance(location, Path) else None  # the SQLite file
        self.limits = limits or StoreLimits()
        self.noise = noise or NoiseSettings()
        self._clock = clock
        self._lock = threading.Lock()
        self._database = _database(location, create=create)
        self.where = self._database.where

    def close(self) -> None:
        with self._lock:
            self._database.close()

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def add(self, deltas: Iterable[AggregateState]) -> None:
        """Add counts (``state_delta`` of each route) in one transaction."""
        # In name order: on PostgreSQL each route's row stays locked until the commit, and
        # two writers taking routes in the same order never wait on each other in a cycle.
        deltas = sorted(deltas, key=lambda delta: delta.route)
        if not deltas:
            return
        dialect = self._database.dialect
        with self._lock, self._database.writing() as db:
            for delta in deltas:
                add_delta(db, delta, limits=self.limits, now=self._clock(), dialect=dialect)

    def states(self) -> list[AggregateState]:
        """Every route's summed counts, by route name."""
        with self._lock, self._database.reading() as db:
            return read_states(db, dialect=self._database.dialect)

    def reports(self) -> list[RouteReport]:
        """Each route's report, judged with every writer's counts."""
        return [
            RouteAggregate.from_state(state, self.limits, self.noise).report()
            for state in self.states()
        ]

    def totals(self) -> dict[str, RouteTotals]:
        return {report.route: report.totals for report in self.reports()}


@dataclass(frozen=True, slots=True)
class Batch:
    """What a writer will send: the deltas, and the states they bring the store up to."""

    deltas: tuple[AggregateState, ...]
    states: tuple[AggregateState, ...]


class ResultsWriter:
    """Sends one engine's new counts to a store. ``collect`` and ``acknowledge`` run on the
    engine's thread (the proxy's event loop), ``ResultsStore.add`` may run on another;
    ``flush`` does all three in the caller's thread. A failed add is sent again next time."""

    def __init__(self, engine: CompareEngine, store: ResultsStore) -> None:
        self.engine = engine
        self.store = store
        self._sent: dict[str, AggregateState] = {}

    def collect(self) -> Batch:
        states = tuple(self.engine.states())
        deltas = (state_delta(state, self._sent.get(state.route)) for state in states)
        return Batch(tuple(d for d in deltas if d is not None), states)

    def acknowledge(self, batch: Batch) -> None:
        self._sent.update((state.route, state) for state in batch.states)

    def flush(self) -> int:
        """Send what changed; the number of routes sent."""
        batch = self.collect()
        self.store.add(batch.deltas)
        self.acknowledge(batch)
        return len(batch.deltas)


def route_totals(location: ResultsLocation | None = None) -> dict[str, RouteTotals]:
    """Per route, the requests compared so far by final verdict (``RouteTotals``), read where
    ``results_location`` says when ``location`` is ``None``; empty when nothing was recorded
    yet, so a gate reading it says "no data", never "passed"."""
    try:
        store = open_results(location, create=False)
    except ResultsMissing:
        return {}
    with store:
        return store.totals()
