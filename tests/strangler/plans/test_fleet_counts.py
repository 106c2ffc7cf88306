"""The proxy's counts from the whole fleet: every replica's /metrics (the replicas listed by
a real PostgreSQL store) or a Prometheus API, both real HTTP servers with canned answers;
counts from part of the fleet are none, with the reason.

The real Prometheus scraping real proxies is test_prometheus_live.py."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from strangler.control import ControlStore
from strangler.plans.figures import Snapshot, collect, measure
from strangler.plans.fleet_counts import proxy_counts, unanswered_writes
from strangler.plans.prometheus import PrometheusSource, prometheus_source
from strangler.plans.schema import Plan, load_plan
from tests.monolith.processes import free_port
from tests.strangler.plans.fleet import Received, Replica, control, control_url, http_server

# Imported for pytest to find them here: fleet says why they are not in conftest.
FIXTURES = (control, control_url)

PLAN = """
name: demo
routes: [products, product-detail]
service: catalog
models: [catalog.Product]
nodes:
  monolith: {url: "http://127.0.0.1:1", manage: "true"}
  catalog: {url: "http://127.0.0.1:1", manage: "true"}
steps:
  - kind: canary
    percent: 10
    gate: {conditions: [{figure: service_error_rate, max: 0.01}]}
"""


@pytest.fixture
def plan(tmp_path: Path) -> Plan:
    path = tmp_path / "demo.yaml"
    path.write_text(PLAN, encoding="utf-8")
    return load_plan(path)


def metrics_text(*requests_served: tuple[str, str, str, float], shadow_match: int = 0) -> str:
    """A proxy's /metrics exposition after serving ``(route, upstream, status, seconds)``,
    written by prometheus_client as the proxy's is, with the proxy's metric names."""
    registry = CollectorRegistry()
    served = Counter("strangler_proxy_requests", "", ["route", "upstream", "mode", "status"],
                     registry=registry)  # fmt: skip
    latency = Histogram("strangler_proxy_request_duration_seconds", "", ["route", "upstream"],
                        buckets=(0.01, 0.1, 1.0), registry=registry)  # fmt: skip
    shadow = Counter("strangler_proxy_shadow", "", ["route", "outcome"], registry=registry)
    for route, upstream, status, seconds in requests_served:
        served.labels(route, upstream, "canary", status).inc()
        latency.labels(route, upstream).observe(seconds)
    if shadow_match:
        shadow.labels("products", "match").inc(shadow_match)
    return generate_latest(registry).decode()


@contextlib.contextmanager
def metrics_server(text: str) -> Iterator[tuple[str, list[Received]]]:
    with http_server(lambda request: (200, text)) as served:
        yield served


A = metrics_text(
    ("products", "catalog", "200", 0.005), ("products", "catalog", "500", 0.05),
    ("products", "monolith", "200", 0.005), ("categories", "catalog", "500", 0.5),
)  # fmt: skip
B = metrics_text(("product-detail", "catalog", "200", 0.5), ("products", "monolith", "503", 2.0),
                 shadow_match=4)  # fmt: skip


def read(plan: Plan, **where: object) -> tuple[object, str, list[str]]:
    errors: list[str] = []
    with requests.Session() as session:
        counts, missing = proxy_counts(
            plan, session=session, errors=errors,
            **{"admin_url": "http://127.0.0.1:9", "store": None, "prometheus": None, **where},
        )  # fmt: skip
    return counts, missing, errors


# every replica's /metrics


def test_the_fleets_counts_are_every_hosts_metrics_summed_and_kept_apart(
    plan, control, control_url
):
    with metrics_server(A) as (a, a_got), metrics_server(B) as (b, b_got):
        members = [Replica(control_url, "host-a/0", admin_url=a),
                   Replica(control_url, "host-a/1", admin_url=a),
                   Replica(control_url, "host-b/0", admin_url=b + "/")]  # fmt: skip
        try:
            counts, missing, errors = read(plan, store=control)
        finally:
            for member in members:
                member.stop()

    assert (missing, errors) == ("", [])
    assert counts.requests == {"catalog": 3.0, "monolith": 2.0}  # not the categories route
    assert counts.errors == {"catalog": 1.0, "monolith": 1.0}
    assert counts.latency_buckets["catalog"] == {"0.01": 1.0, "0.1": 2.0, "1.0": 3.0, "+Inf": 3.0}
    assert counts.shadow_match == 4.0
    assert set(counts.sources) == {urlsplit(a).netloc, urlsplit(b).netloc}
    assert counts.sources[urlsplit(b).netloc].requests == {"catalog": 1.0, "monolith": 1.0}
    # The workers of one host share its /metrics, which sums them: read once.
    assert [(r.method, r.path) for r in a_got] == [("GET", "/metrics")]
    assert len(b_got) == 1


def test_a_replica_whose_metrics_do_not_answer_leaves_no_counts_saying_who(
    plan, control, control_url
):
    gone = f"http://127.0.0.1:{free_port()}"
    with metrics_server(A) as (a, _), metrics_server(B) as (b, _):
        members = [Replica(control_url, "host-a/0", admin_url=a),
                   Replica(control_url, "host-b/0", admin_url=b),
                   Replica(control_url, "host-c/0", admin_url=gone)]  # fmt: skip
        try:
            counts, missing, errors = read(plan, store=control)
        finally:
            for member in members:
                member.stop()

    assert counts is None
    assert missing.startswith(f"proxy metrics: 2 of 3 replicas answered ({gone}: ")
    assert missing.endswith("); figures from part of the fleet are not judged")
    assert errors == [missing]


def test_the_gate_on_part_of_the_fleet_is_inconclusive_with_the_reason(plan, control, control_url):
    gone = f"http://127.0.0.1:{free_port()}"
    with metrics_server(A) as (a, _):
        members = [Replica(control_url, "host-a/0", admin_url=a),
                   Replica(control_url, "host-c/0", admin_url=gone)]  # fmt: skip
        try:
            with requests.Session() as session:
                now = collect(plan, admin_url=a, session=session, store=control)
        finally:
            for member in members:
                member.stop()
    since = Snapshot(0.0, now.proxy, None, None)

    figure = measure(plan, since=since, now=now)["service_error_rate"]

    assert (figure.value, now.proxy_missing) == (None, figure.missing)
    assert "1 of 2 replicas answered" in figure.missing
    assert now.proxy_missing in now.errors


def test_with_no_replica_in_the_store_the_one_admin_api_is_read(plan, control):
    with metrics_server(A) as (a, got):
        counts, missing, _ = read(plan, store=control, admin_url=a)

    assert missing == ""
    assert counts.requests == {"catalog": 2.0, "monolith": 1.0}
    assert len(got) == 1


def test_without_a_store_the_one_admin_api_is_read_and_named_when_it_fails(plan):
    gone = f"http://127.0.0.1:{free_port()}"
    with metrics_server(B) as (b, _):
        counts, missing, _ = read(plan, admin_url=b)
    none, why, _ = read(plan, admin_url=gone)

    assert (counts.requests, missing) == ({"catalog": 1.0, "monolith": 1.0}, "")
    assert none is None
    assert why.startswith(f"proxy metrics at {gone}: ")


def test_a_store_that_cannot_be_reached_leaves_no_counts(plan):
    unreachable = ControlStore(f"postgres://postgres:secret@127.0.0.1:{free_port()}/nowhere")
    with metrics_server(A) as (a, got):
        counts, missing, _ = read(plan, store=unreachable, admin_url=a)

    assert counts is None
    assert missing.startswith("proxy metrics: cannot tell how many proxy replicas there are: ")
    assert "postgres://postgres:***@127.0.0.1" in missing
    assert got == []


# Prometheus


class FakePrometheus:
    """Prometheus's HTTP API: the job's targets with their health (``up``, ``down``,
    ``unknown``), and instant queries answered by summing each target's /metrics text as
    the query asks."""

    def __init__(self, health: dict[str, str], metrics: dict[str, str]) -> None:
        self.health = health
        self.metrics = metrics
        self.queries: list[str] = []

    def __call__(self, request: Received) -> tuple[int, object]:
        parts = urlsplit(request.path)
        if parts.path == "/api/v1/targets":
            active = [
                {"labels": {"job": "strangler-proxy", "instance": instance}, "health": health,
                 "lastError": "connection refused" if health == "down" else ""}
                for instance, health in self.health.items()
            ]  # fmt: skip
            other = {"labels": {"job": "prometheus", "instance": "p:9090"}, "health": "down"}
            return 200, {"status": "success", "data": {"activeTargets": [*active, other]}}
        if parts.path != "/api/v1/query":
            return 404, {"status": "error", "error": "not found"}
        query = parse_qs(parts.query)["query"][0]
        self.queries.append(query)
        return 200, {"status": "success", "data": {"resultType": "vector",
                                                   "result": self._sums(query)}}  # fmt: skip

    def _sums(self, query: str) -> list[dict[str, object]]:
        labels = query.split("sum by (")[1].split(")")[0].split(", ")
        name = query.split(") (")[1].split("{")[0]
        sums: dict[tuple[str, ...], float] = {}
        for instance, text in self.metrics.items():
            for family in text_string_to_metric_families(text):
                for sample in family.samples:
                    if sample.name != name:
                        continue
                    values = {**sample.labels, "instance": instance}
                    key = tuple(values.get(label, "") for label in labels)
                    sums[key] = sums.get(key, 0.0) + sample.value
        return [
            {"metric": dict(zip(labels, key, strict=True)), "value": [1.0, str(value)]}
            for key, value in sums.items()
        ]


def prometheus(fake: FakePrometheus) -> contextlib.AbstractContextManager[tuple[str, list]]:
    return http_server(fake)


def test_prometheus_gives_the_counts_summed_across_replicas_and_by_replica(plan):
    # gone:8001 left the job a moment ago: its series are not stale yet, nor counted.
    metrics = {"a:8001": A, "b:8001": B, "gone:8001": A}
    fake = FakePrometheus({"a:8001": "up", "b:8001": "up"}, metrics)
    with prometheus(fake) as (url, _):
        counts, missing, _ = read(plan, prometheus=PrometheusSource(url, "strangler-proxy"))

    assert missing == ""
    assert counts.requests == {"catalog": 3.0, "monolith": 2.0}
    assert counts.errors == {"catalog": 1.0, "monolith": 1.0}
    assert counts.latency_buckets["monolith"] == {"0.01": 1.0, "0.1": 1.0, "1.0": 1.0, "+Inf": 2.0}
    assert counts.shadow_match == 4.0
    assert counts.sources["b:8001"].requests == {"catalog": 1.0, "monolith": 1.0}
    assert set(counts.sources) == {"a:8001", "b:8001"}
    assert fake.queries[0] == (
        "sum by (instance, route, upstream, status) (strangler_proxy_requests_total"
        '{job="strangler-proxy",route=~"products|product\\\\-detail"})'
    )


def test_a_target_prometheus_finds_down_or_has_not_scraped_leaves_no_counts(plan):
    health = {"a:8001": "up", "b:8001": "down", "c:8001": "unknown"}
    fake = FakePrometheus(health, {"a:8001": A, "b:8001": B})
    with prometheus(fake) as (url, _):
        counts, missing, _ = read(plan, prometheus=PrometheusSource(url, "strangler-proxy"))

    assert counts is None
    assert missing == (
        f"proxy metrics: 1 of 3 replicas answered (Prometheus at {url}, job 'strangler-proxy': "
        "b:8001 down: connection refused; c:8001 not scraped yet); figures from part of the "
        "fleet are not judged"
    )
    assert fake.queries == []  # nothing summed


def test_fewer_targets_up_than_members_in_the_store_leaves_no_counts(plan, control, control_url):
    fake = FakePrometheus({"a:8001": "up", "b:8001": "up"}, {"a:8001": A, "b:8001": B})
    members = [Replica(control_url, f"host-{n}/0", admin_url=f"http://{n}:8001") for n in "abc"]
    try:
        with prometheus(fake) as (url, _):
            source = PrometheusSource(url, "strangler-proxy")
            counts, missing, _ = read(plan, prometheus=source, store=control)
    finally:
        for member in members:
            member.stop()

    assert counts is None
    assert missing.startswith(
        f"proxy metrics: 2 of 3 replicas answered (Prometheus at {url}, job 'strangler-proxy': "
        "the control store lists 3 proxy replicas)"
    )


def test_prometheus_without_a_target_of_the_job_says_to_check_the_job_name(plan):
    with prometheus(FakePrometheus({}, {})) as (url, _):  # only Prometheus's own job
        counts, missing, _ = read(plan, prometheus=PrometheusSource(url, "strangler-proxy"))

    assert counts is None
    assert "no target of job 'strangler-proxy'" in missing
    assert "figures.job" in missing


def test_a_prometheus_that_does_not_answer_leaves_no_counts(plan):
    gone = f"http://127.0.0.1:{free_port()}"
    counts, missing, _ = read(plan, prometheus=PrometheusSource(gone, "strangler-proxy"))

    assert counts is None
    assert missing.startswith(f"proxy metrics: Prometheus at {gone}: ")


def test_the_plans_prometheus_is_its_own_else_the_environments(plan, tmp_path):
    path = tmp_path / "own.yaml"
    path.write_text(
        PLAN + 'figures: {prometheus: "${PROM_URL:-http://prometheus:9090/}", job: proxies}\n',
        encoding="utf-8",
    )
    environment = {"STRANGLER_PROMETHEUS_URL": "http://elsewhere:9090"}

    assert prometheus_source(load_plan(path), environment) == PrometheusSource(
        "http://prometheus:9090", "proxies"
    )
    assert prometheus_source(plan, environment) == PrometheusSource(
        "http://elsewhere:9090", "strangler-proxy"
    )
    assert prometheus_source(plan, {}) is None


# the writes a cutover waits for after its hold


def in_flight_text(**by_route: int) -> str:
    """A proxy's /metrics with ``strangler_proxy_writes_in_flight`` by route."""
    registry = CollectorRegistry()
    gauge = Gauge("strangler_proxy_writes_in_flight", "", ["route"], registry=registry)
    for route, count in by_route.items():
        gauge.labels(route).set(count)
    return generate_latest(registry).decode()


@contextlib.contextmanager
def members(control_url: str, *admin_urls: str) -> Iterator[None]:
    """Replicas in the store, one a host, each with its admin API at one of ``admin_urls``."""
    started = [
        Replica(control_url, f"host-{chr(ord('a') + i)}/0", admin_url=url)
        for i, url in enumerate(admin_urls)
    ]
    try:
        yield
    finally:
        for member in started:
            member.stop()


def unanswered(plan: Plan, **where: object) -> str | None:
    with requests.Session() as session:
        return unanswered_writes(
            plan, session=session, **{"admin_url": "http://127.0.0.1:9", "store": None, **where}
        )


def test_writes_unanswered_anywhere_in_the_fleet_are_named_by_replica(plan, control, control_url):
    quiet = in_flight_text(products=0, **{"product-detail": 0}, categories=3)
    busy = in_flight_text(products=1, **{"product-detail": 1})
    gone = f"http://127.0.0.1:{free_port()}"
    with (
        metrics_server(quiet) as (a, _),
        metrics_server(busy) as (b, _),
        members(control_url, a, b, gone),
    ):
        left = unanswered(plan, store=control)

    assert left is not None
    assert f"{b}: 2 unanswered" in left  # the plan's two routes; another route's not counted
    assert f"{gone}: " in left  # one that does not answer is never taken as done
    assert a not in left


def test_with_every_write_answered_there_is_nothing_to_wait_for(plan, control, control_url):
    quiet = in_flight_text(products=0, **{"product-detail": 0}, categories=3)
    with (
        metrics_server(quiet) as (a, _),
        metrics_server(in_flight_text(products=0, **{"product-detail": 0})) as (b, _),
        members(control_url, a, b),
    ):
        left = unanswered(plan, store=control)

    assert left is None


def test_a_proxy_that_does_not_report_a_route_is_not_taken_as_done(plan):
    # An older proxy (no gauge at all), or one reporting only some of the plan's routes.
    with (
        metrics_server(metrics_text()) as (older, _),
        metrics_server(in_flight_text(products=0)) as (partial, _),
    ):
        assert "has no strangler_proxy_writes_in_flight for route(s) " in unanswered(
            plan, admin_url=older
        )
        assert unanswered(plan, admin_url=partial) == (
            f"{partial}: its /metrics has no strangler_proxy_writes_in_flight for route(s) "
            "product-detail: a proxy older than this toolkit, or one whose table lacks them"
        )


def test_without_a_store_the_one_admin_api_is_asked(plan):
    with metrics_server(in_flight_text(products=1, **{"product-detail": 0})) as (a, _):
        assert unanswered(plan, admin_url=a) == f"{a}: 1 unanswered"
