"""The results on PostgreSQL: writers on many connections and processes add to the same rows
without losing a count (checked with plain SQL), the tables are the store's
``strangler_compare_*``, their version is checked, and a lost connection costs one flush."""

from __future__ import annotations

import json
import threading
import time

import pytest

from strangler.compare import CompareEngine, HttpRequest, HttpResponse, StoreLimits
from strangler.compare.results import (
    ResultsError,
    ResultsMissing,
    ResultsStore,
    ResultsWriter,
)

from .postgres import query
from .workers import START_DEADLINE_SECONDS, run_writers

pytestmark = pytest.mark.postgres

JSON = (("Content-Type", "application/json"),)
ROUTES = ("categories", "orders", "products")
THREADS = 6
ROUNDS = 60  # per thread: each round compares once on every route, then flushes


def _response(value):
    return HttpResponse(200, JSON, json.dumps(value).encode())


def _compare(engine, route, i):
    # Every third request differs on the price, as workers.py's processes do.
    engine.compare(
        route,
        HttpRequest("GET", f"/api/v1/{route}/{i}/"),
        _response({"id": i, "price": "1"}),
        _response({"id": i, "price": "2" if i % 3 == 0 else "1"}),
        base_latency=0.01,
        candidate_latency=0.02,
    )


def _thread_writer(url, go, failures):
    try:
        with ResultsStore(url) as store:
            engine = CompareEngine()
            writer = ResultsWriter(engine, store)
            end = time.monotonic() + START_DEADLINE_SECONDS
            while not go.exists():
                assert time.monotonic() < end, "no start signal"
                time.sleep(0.01)
            for i in range(ROUNDS):
                for route in ROUTES:
                    _compare(engine, route, i)
                writer.flush()
    except BaseException as exc:
        failures.append(exc)


def test_threads_and_processes_flushing_at_once_lose_no_count(tmp_path, postgres_results):
    # Given six writers on connections of their own (threads) and two processes, all
    # released at once by the same start signal
    failures: list[BaseException] = []
    threads = [
        threading.Thread(target=_thread_writer, args=(postgres_results, tmp_path / "go", failures))
        for _ in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    # When the processes compare 300 "products" requests each, flushing every 5, while the
    # threads flush all three routes every round
    run_writers("results", tmp_path, ["one", "two"], "300", postgres_results.url)
    for thread in threads:
        thread.join(timeout=START_DEADLINE_SECONDS)
    assert not [t for t in threads if t.is_alive()]
    assert not failures, failures

    # Then the tables hold every writer's counts, read without the code under test
    by_thread = THREADS * ROUNDS
    differing = THREADS * len(range(0, ROUNDS, 3))
    expected = {
        "categories": (by_thread, differing),
        "orders": (by_thread, differing),
        "products": (by_thread + 600, differing + 200),
    }
    rows = query(
        postgres_results,
        "SELECT r.route, r.comparisons, v.count FROM strangler_compare_routes r "
        "JOIN strangler_compare_verdicts v ON v.route = r.route AND v.verdict = 'different' "
        "ORDER BY r.route",
    )
    assert {route: (n, d) for route, n, d in rows} == expected
    latency = query(
        postgres_results,
        "SELECT route, side, count FROM strangler_compare_latency_totals ORDER BY route, side",
    )
    assert latency == [
        (route, side, expected[route][0]) for route in ROUTES for side in ("base", "candidate")
    ]
    buckets = query(
        postgres_results,
        "SELECT route, sum(count) FROM strangler_compare_latency WHERE side = 'base' "
        "GROUP BY route ORDER BY route",
    )
    assert buckets == [(route, expected[route][0]) for route in ROUTES]
    # and each route's one cluster counts every difference and kept exactly five examples,
    # though every writer brought its own first examples at the same moment
    clusters = query(
        postgres_results,
        "SELECT c.route, c.count, (SELECT count(*) FROM strangler_compare_examples e "
        "WHERE e.route = c.route AND e.signature = c.signature) "
        "FROM strangler_compare_clusters c ORDER BY c.route",
    )
    assert clusters == [(route, expected[route][1], 5) for route in ROUTES]
    fields = query(
        postgres_results,
        "SELECT route, key, kind, candidate FROM strangler_compare_fields ORDER BY route",
    )
    assert fields == [(route, "price", "value", expected[route][1]) for route in ROUTES]


def test_the_tables_are_the_stores_compare_tables_with_their_version(postgres_results):
    ResultsStore(postgres_results).close()

    tables = query(
        postgres_results,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
        "ORDER BY table_name",
    )
    assert [name for (name,) in tables] == [
        f"strangler_compare_{name}"
        for name in (
            "clusters",
            "examples",
            "fields",
            "latency",
            "latency_totals",
            "routes",
            "schema",
            "statuses",
            "verdicts",
        )
    ]
    assert query(postgres_results, "SELECT id, version FROM strangler_compare_schema") == [(1, 1)]


def test_stores_opening_an_empty_database_at_once_create_the_tables_once(postgres_results):
    failures: list[BaseException] = []
    barrier = threading.Barrier(4)

    def open_one():
        try:
            barrier.wait(timeout=START_DEADLINE_SECONDS)
            ResultsStore(postgres_results).close()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=START_DEADLINE_SECONDS)

    assert not failures, failures
    assert query(postgres_results, "SELECT count(*) FROM strangler_compare_schema") == [(1,)]


def test_a_reader_of_an_empty_database_creates_nothing(postgres_results):
    with pytest.raises(ResultsMissing, match="no comparison results in the store postgresql://"):
        ResultsStore(postgres_results, create=False)

    assert query(postgres_results, "SELECT to_regclass('strangler_compare_schema')") == [(None,)]


def test_tables_of_another_schema_version_are_refused_whole(postgres_results):
    ResultsStore(postgres_results).close()
    query(postgres_results, "UPDATE strangler_compare_schema SET version = 99")

    with pytest.raises(ResultsError, match="schema version 99, this toolkit reads 1"):
        ResultsStore(postgres_results)


def test_a_lost_connection_costs_one_flush_and_no_count(postgres_results):
    # Given a writer that sent one comparison
    with ResultsStore(postgres_results) as store:
        engine = CompareEngine()
        writer = ResultsWriter(engine, store)
        _compare(engine, "products", 1)
        writer.flush()
        # When the server ends its connection (a restart, a network cut) and more is compared
        query(
            postgres_results,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        _compare(engine, "products", 2)
        # Then the next flush fails and is not acknowledged, the one after reconnects
        with pytest.raises(ResultsError, match="cannot write the comparison results"):
            writer.flush()
        assert writer.flush() == 1

        assert store.totals()["products"].compared == 2
    assert query(postgres_results, "SELECT comparisons FROM strangler_compare_routes") == [(2,)]


def test_writers_at_once_keep_the_routes_cap_on_keys_exactly(postgres_results):
    # Given four writers, each bringing two keys the route has not seen, and room for three
    limits = StoreLimits(max_keys_per_route=3)
    failures: list[BaseException] = []
    barrier = threading.Barrier(4)

    def write(number):
        try:
            with ResultsStore(postgres_results, limits=limits) as store:
                engine = CompareEngine()
                keys = {f"k{number}a": 1, f"k{number}b": 1}
                engine.compare(
                    "products", HttpRequest("GET", "/p/"), _response(keys), _response({})
                )
                writer = ResultsWriter(engine, store)
                barrier.wait(timeout=START_DEADLINE_SECONDS)
                writer.flush()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=START_DEADLINE_SECONDS)

    # Then three keys are kept and the other five are counted as dropped
    assert not failures, failures
    assert query(postgres_results, "SELECT count(*) FROM strangler_compare_fields") == [(3,)]
    assert query(postgres_results, "SELECT dropped_keys FROM strangler_compare_routes") == [(5,)]
