"""Comparison results that outlive a process and are shared by many: one SQLite file.

Every proxy worker and every replay keeps its own ``CompareEngine``; a ``ResultsWriter``
sends what an engine counted since its last flush (``state_delta``) to the file, where it
is added to what every other writer sent: verdict counts, the noise counters per field,
clusters (count, first and last seen, up to ``StoreLimits.max_examples`` examples), the
status matrix and each side's latency histogram. Reports are drawn from the sums, so a
field is judged noise or real with every worker's evidence, and nothing is lost to a
restart. ``route_totals`` is what the plan gates and the metrics read.

SQLite in WAL mode lets readers go on while one writer commits; writers queue on the
file's lock (``BEGIN IMMEDIATE``, waiting up to ``BUSY_TIMEOUT_SECONDS``). A flush is one
short transaction, so a few workers flushing every few seconds never wait long.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from strangler.compare.engine import CompareEngine
from strangler.compare.errors import CompareError
from strangler.compare.noise import NoiseSettings
from strangler.compare.results_rows import add_delta, read_states
from strangler.compare.results_schema import SCHEMA, SCHEMA_VERSION
from strangler.compare.state import AggregateState, state_delta
from strangler.compare.store import RouteAggregate, RouteReport, RouteTotals, StoreLimits
from strangler.environment import var_dir

__all__ = [
    "ResultsError",
    "ResultsMissing",
    "ResultsStore",
    "ResultsWriter",
    "default_results_path",
    "route_totals",
]

# A flush is a handful of upserts (~1 ms); ten seconds of waiting means a writer is stuck.
BUSY_TIMEOUT_SECONDS = 10.0


class ResultsError(CompareError):
    """The results file cannot be opened, read or written; the message names it."""


class ResultsMissing(ResultsError):
    """No results file where one was to be read."""


def default_results_path() -> Path:
    """``$STRANGLER_VAR_DIR/compare/results.sqlite3`` (``var/`` by default)."""
    return var_dir() / "compare" / "results.sqlite3"


class ResultsStore:
    """One results file. Thread-safe (one connection behind a lock); open one per process."""

    def __init__(
        self,
        path: Path,
        *,
        create: bool = True,
        limits: StoreLimits | None = None,
        noise: NoiseSettings | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.limits = limits or StoreLimits()
        self.noise = noise or NoiseSettings()
        self._clock = clock
        self._lock = threading.Lock()
        if not create and not path.is_file():
            raise ResultsMissing(f"no comparison results at {path}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise ResultsError(f"cannot open the comparison results at {path}: {exc}") from exc
        try:
            self._prepare()
        except sqlite3.Error as exc:
            self._db.close()
            raise ResultsError(f"cannot open the comparison results at {path}: {exc}") from exc

    def _prepare(self) -> None:
        mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise sqlite3.OperationalError(f"the file refused WAL mode (it is in {mode} mode)")
        # In WAL mode NORMAL survives a crash of the process; a power cut may lose the last
        # flushes, which for comparison counts is a fair price for not syncing each one.
        self._db.execute("PRAGMA synchronous=NORMAL")
        # Two processes opening a new file at once: the second waits here, then sees v1.
        self._db.execute("BEGIN IMMEDIATE")
        try:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            elif version != SCHEMA_VERSION:
                raise sqlite3.DatabaseError(
                    f"the file has schema version {version}, this toolkit reads {SCHEMA_VERSION}"
                )
            self._db.execute("COMMIT")
        finally:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def add(self, deltas: Iterable[AggregateState]) -> None:
        """Add counts (``state_delta`` of each route) in one transaction."""
        deltas = list(deltas)
        if not deltas:
            return
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    for delta in deltas:
                        add_delta(self._db, delta, limits=self.limits, now=self._clock())
                    self._db.execute("COMMIT")
                finally:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
            except sqlite3.Error as exc:
                raise ResultsError(
                    f"cannot write the comparison results at {self.path}: {exc}"
                ) from exc

    def states(self) -> list[AggregateState]:
        """Every route's summed counts, by route name."""
        with self._lock:
            try:
                return read_states(self._db)
            except sqlite3.Error as exc:
                raise ResultsError(
                    f"cannot read the comparison results at {self.path}: {exc}"
                ) from exc

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
    """What a writer will send: the deltas, and the states they bring the file up to."""

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


def route_totals(path: Path | None = None) -> dict[str, RouteTotals]:
    """Per route, the requests compared so far by final verdict (``RouteTotals``); empty
    when nothing was recorded yet, so a gate reading it says "no data", never "passed"."""
    try:
        store = ResultsStore(path or default_results_path(), create=False)
    except ResultsMissing:
        return {}
    with store:
        return store.totals()
