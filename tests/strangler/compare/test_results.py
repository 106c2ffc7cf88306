"""The results store: what engines flush adds up across writers and processes, survives a
reopen, stays bounded, and gives the per-route totals the plan gates read; on the SQLite
file and on PostgreSQL alike (``results_backend``), except what only a file can show."""

from __future__ import annotations

import json
import sqlite3
import sys

import pytest

from strangler.compare import (
    CandidateFailure,
    CompareEngine,
    HttpRequest,
    HttpResponse,
    StoreLimits,
)
from strangler.compare.results import (
    ResultsError,
    ResultsMissing,
    ResultsStore,
    ResultsWriter,
    StoreUrl,
    open_results,
    results_location,
    route_totals,
)

from .workers import run_writers

JSON = (("Content-Type", "application/json"),)


def _json(value, status=200):
    return HttpResponse(status, JSON, json.dumps(value).encode())


def _request(i=1):
    return HttpRequest("GET", f"/api/v1/products/{i}/")


@pytest.fixture
def store(results_backend):
    with results_backend.open() as opened:
        yield opened


@pytest.fixture
def sqlite_store(tmp_path):
    with ResultsStore(tmp_path / "results.sqlite3") as opened:
        yield opened


def test_a_flushed_engine_reports_the_same_from_the_store(store):
    # Given an engine with equal, differing, noisy and failed comparisons
    engine = CompareEngine()
    for i in range(12):
        engine.compare(
            "products",
            _request(i),
            _json({"price": "1", "at": i}),
            _json({"price": "2" if i % 4 == 0 else "1", "at": -i}),
            base_again=_json({"price": "1", "at": i + 100}),
            base_latency=0.010,
            candidate_latency=0.030,
        )
    engine.compare("products", _request(), _json({}), CandidateFailure("timeout"))
    engine.compare("categories", _request(), _json({"a": 1}), _json({"a": 1}))

    # When it is flushed in two parts
    writer = ResultsWriter(engine, store)
    writer.flush()
    engine.compare("categories", _request(), _json({"a": 1}), _json({"a": 1}))
    writer.flush()

    # Then the store's reports are the engine's
    assert store.reports() == engine.reports()


def test_flushing_twice_without_news_adds_nothing(store):
    engine = CompareEngine()
    engine.compare("products", _request(), _json({"a": 1}), _json({"a": 2}))
    writer = ResultsWriter(engine, store)

    assert writer.flush() == 1
    assert writer.flush() == 0
    assert store.totals()["products"].real_different == 1


def test_a_batch_that_was_not_acknowledged_is_sent_again(store):
    engine = CompareEngine()
    writer = ResultsWriter(engine, store)
    engine.compare("products", _request(), _json({"a": 1}), _json({"a": 1}))

    lost = writer.collect()  # e.g. the add failed: never acknowledged
    engine.compare("products", _request(), _json({"a": 1}), _json({"a": 1}))
    writer.flush()

    assert lost.deltas
    assert store.totals()["products"].equal == 2


def test_two_engines_evidence_adds_up_so_noise_is_judged_on_both(store):
    # Given one worker that only saw the base vary on "served_at" (double calls)
    noisy = CompareEngine()
    for i in range(10):
        noisy.compare(
            "products",
            _request(i),
            _json({"served_at": i}),
            _json({"served_at": i}),
            base_again=_json({"served_at": i + 1}),
        )
    # and another that saw base and candidate differ there, with no double call
    differing = CompareEngine()
    for i in range(10):
        differing.compare("products", _request(i), _json({"served_at": i}), _json({"served_at": 0}))
    assert differing.report("products").totals.real_different == 9

    # When both flush into one store
    ResultsWriter(noisy, store).flush()
    ResultsWriter(differing, store).flush()

    # Then the store judges the field noise with both workers' counts
    totals = store.totals()["products"]
    assert (totals.real_different, totals.noise_only, totals.equal) == (0, 9, 11)


def test_results_survive_closing_and_reopening_the_file(results_backend):
    engine = CompareEngine()
    engine.compare("products", _request(), _json({"price": "1"}), _json({"price": "2"}))
    with results_backend.open() as store:
        ResultsWriter(engine, store).flush()

    with results_backend.open(create=False) as reopened:
        (report,) = reopened.reports()

    assert report == engine.report("products")


def test_the_file_is_in_wal_mode_so_readers_do_not_block_the_writer(tmp_path, sqlite_store):
    mode = sqlite3.connect(sqlite_store.path).execute("PRAGMA journal_mode").fetchone()[0]

    assert mode == "wal"


def test_two_processes_writing_at_once_lose_nothing(tmp_path, results_backend):
    # Given two processes, each comparing 300 requests and flushing every 5
    run_writers("results", tmp_path, ["one", "two"], "300", results_backend.argument)

    # Then the file holds both processes' counts
    with results_backend.open(create=False) as store:
        (report,) = store.reports()
    totals = report.totals
    assert (totals.compared, totals.real_different, totals.equal) == (600, 200, 400)
    (cluster,) = report.clusters
    assert cluster.count == 200
    assert len(cluster.examples) == 5
    assert report.statuses == (("200", "200", 600),)
    assert report.base_latency.count == report.candidate_latency.count == 600


def test_the_store_keeps_its_caps_and_counts_what_it_dropped(results_backend):
    limits = StoreLimits(max_clusters_per_route=2, max_examples=1)
    with results_backend.open(limits=limits) as store:
        for key in ("a", "b", "c", "a"):
            engine = CompareEngine()
            engine.compare("products", _request(), _json({key: 1}), _json({key: 2}))
            ResultsWriter(engine, store).flush()
        (report,) = store.reports()

    assert [(c.signature, c.count, len(c.examples)) for c in report.clusters] == [
        ((("a", "value"),), 2, 1),
        ((("b", "value"),), 1, 1),
    ]
    assert report.dropped_clusters == 1
    assert report.totals.real_different == 4


def test_route_totals_reads_a_file_and_is_empty_when_there_is_none(results_backend):
    location = results_backend.location
    assert route_totals(location) == {}

    engine = CompareEngine()
    engine.compare("products", _request(), _json({"a": 1}), _json({"a": 2}))
    engine.compare("products", _request(), _json({"a": 1}), _json({"a": 1}))
    engine.compare("products", _request(), _json({"a": 1}, 503), _json({"a": 1}))
    with ResultsStore(location) as store:
        ResultsWriter(engine, store).flush()

    totals = route_totals(location)["products"]
    assert (totals.compared, totals.equal, totals.real_different, totals.not_comparable) == (
        2,
        1,
        1,
        1,
    )


def test_reading_a_missing_file_is_refused_without_creating_it(tmp_path):
    path = tmp_path / "nothing.sqlite3"

    with pytest.raises(ResultsMissing, match="no comparison results at"):
        ResultsStore(path, create=False)

    assert not path.exists()


def test_a_file_of_another_schema_version_is_refused(tmp_path):
    path = tmp_path / "results.sqlite3"
    sqlite3.connect(path).execute("PRAGMA user_version=99").connection.close()

    with pytest.raises(ResultsError, match="schema version 99"):
        ResultsStore(path)


def test_an_explicit_path_wins_over_the_store_url(tmp_path):
    env = {"STRANGLER_STORE_URL": "postgres://db/fleet", "STRANGLER_VAR_DIR": str(tmp_path)}

    assert results_location(tmp_path / "r.sqlite3", env=env) == tmp_path / "r.sqlite3"


def test_without_a_path_the_store_url_says_where_results_are(tmp_path):
    env = {"STRANGLER_STORE_URL": "postgres://db/fleet", "STRANGLER_VAR_DIR": str(tmp_path)}

    assert results_location(env=env) == StoreUrl("postgres://db/fleet")


def test_without_either_results_are_the_var_dirs_file(tmp_path):
    env = {"STRANGLER_VAR_DIR": str(tmp_path)}

    assert results_location(env=env) == tmp_path / "compare" / "results.sqlite3"


@pytest.mark.postgres
def test_open_results_and_route_totals_use_the_store_of_the_environment(
    monkeypatch, tmp_path, postgres_results
):
    # Given a store named by the environment, as every replica and the CLI are given it
    monkeypatch.setenv("STRANGLER_STORE_URL", postgres_results.url)
    monkeypatch.setenv("STRANGLER_VAR_DIR", str(tmp_path))
    assert route_totals() == {}
    engine = CompareEngine()
    engine.compare("products", _request(), _json({"a": 1}), _json({"a": 2}))

    # When an engine is flushed to the results opened without a location
    with open_results() as store:
        ResultsWriter(engine, store).flush()

    # Then the totals are read from the store, and no file was written beside
    assert route_totals()["products"].real_different == 1
    with ResultsStore(postgres_results, create=False) as store:
        assert store.totals()["products"].real_different == 1
    assert not (tmp_path / "compare").exists()


def test_a_store_url_without_psycopg_installed_says_which_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as where the extra is not installed
    monkeypatch.delitem(sys.modules, "strangler.compare.results_postgres", raising=False)

    with pytest.raises(ResultsError, match=r"pip install 'strangler-toolkit\[postgres\]'"):
        ResultsStore(StoreUrl("postgres://db/fleet"))
