"""Flushes per second of the comparison results: PostgreSQL against the SQLite file, one run.

    .venv/bin/python bench/bench_results.py [--seconds 5] [--writers 1 4]
        [--server postgresql://postgres@127.0.0.1:5432]

A flush is what a proxy worker's comparison child sends every second under traffic: the
delta of an engine that compared 40 requests on each of 5 routes (a small product document;
one in four differs on a price, a stock level and a timestamp), added in one transaction.
The first flush of each writer brings the clusters' examples; the same delta without them is
then added again and again, so every row exists and each flush takes the steady path
(counters added to, no example to keep).

For each writer count, every writer is a process of its own with its own connection (as the
children of the proxy's workers are), all adding to the same routes at once for
``--seconds`` after one warm-up flush each: first to a SQLite file in a temporary directory,
then to a fresh PostgreSQL database (``compare_bench_results_<pid>_<writers>``, dropped after).
It prints flushes per second over all writers, the time of one flush (p50, p99), and
PostgreSQL's rate as a share of SQLite's.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import psycopg

from strangler.compare import CompareEngine, HttpRequest, HttpResponse
from strangler.compare.results import ResultsLocation, ResultsStore, StoreUrl
from strangler.compare.state import AggregateState

ROUTES = 5
COMPARISONS_PER_ROUTE = 40
# Writers start together this long after being spawned (spawning one takes ~0.3 s here).
START_DELAY_SECONDS = 3.0
JSON = (("Content-Type", "application/json"),)


def _deltas() -> list[AggregateState]:
    engine = CompareEngine()
    for route in range(ROUTES):
        for i in range(COMPARISONS_PER_ROUTE):
            base = {"id": i, "name": f"Product {i}", "price": "10.00", "stock": 5, "at": "t0"}
            candidate = dict(base)
            if i % 4 == 0:
                candidate.update(price="9.00", stock=6, at="t1")
            engine.compare(
                f"route-{route}",
                HttpRequest("GET", f"/api/v1/products/{i}/"),
                HttpResponse(200, JSON, json.dumps(base).encode()),
                HttpResponse(200, JSON, json.dumps(candidate).encode()),
                base_latency=0.004 + i / 10_000,
                candidate_latency=0.006 + i / 10_000,
            )
    return engine.states()


def _steady(state: AggregateState) -> AggregateState:
    """The state without its examples: what later flushes send, the clusters' five examples
    having gone with the first."""
    clusters = {s: replace(c, examples=()) for s, c in state.clusters.items()}
    return replace(state, clusters=clusters)


def _writer(location: ResultsLocation, start_at: float, seconds: float) -> list[float]:
    first = _deltas()
    deltas = [_steady(state) for state in first]
    times = []
    with ResultsStore(location) as store:
        store.add(first)  # warm-up: creates the rows
        time.sleep(max(0.0, start_at - time.time()))
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            started = time.perf_counter()
            store.add(deltas)
            times.append(time.perf_counter() - started)
    return times


def _run(location: ResultsLocation, writers: int, seconds: float) -> tuple[float, float, float]:
    ResultsStore(location).close()  # the schema, before the writers race for it
    context = multiprocessing.get_context("spawn")
    start_at = time.time() + START_DELAY_SECONDS
    with context.Pool(writers) as pool:
        results = pool.starmap(_writer, [(location, start_at, seconds)] * writers)
    times = sorted(t for result in results for t in result)
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    return len(times) / seconds, statistics.median(times) * 1000, p99 * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per case (default 5)")
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 4], help="default 1 4")
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    print(f"a flush: {ROUTES} routes, {ROUTES * COMPARISONS_PER_ROUTE} comparisons")
    print(
        f"{'writers':>7} {'database':<10} {'flushes/s':>9} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'vs SQLite':>9}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for writers in args.writers:
            sqlite = _run(Path(folder) / f"results-{writers}.sqlite3", writers, args.seconds)
            with _database(args.server, f"compare_bench_results_{os.getpid()}_{writers}") as url:
                postgres = _run(url, writers, args.seconds)
            for label, (rate, p50, p99) in (("sqlite", sqlite), ("postgresql", postgres)):
                print(
                    f"{writers:>7} {label:<10} {rate:>9.0f} {p50:>7.2f} {p99:>7.2f} "
                    f"{rate / sqlite[0]:>9.3f}"
                )


@contextmanager
def _database(server: str, name: str) -> Iterator[StoreUrl]:
    """A new database for one case, as the SQLite case has a new file; dropped after it."""
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield StoreUrl(f"{server}/{name}")
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
