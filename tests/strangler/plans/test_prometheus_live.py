"""A plan's figures from a real Prometheus (Debian's ``prometheus``) scraping three real proxy
processes: they equal the sum of the replicas' own counters, and with one replica stopped
they are none ("2 of 3 replicas answered"), never a pass on the two left.

The test runs its own ``prometheus`` on a free port with a 1 s scrape interval, never the
system service. Where ``prometheus`` is not installed it skips, saying so, unless
``STRANGLER_REQUIRE_PROMETHEUS=1`` (set by ``.ci/run``), where it fails.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from subprocess import Popen
from urllib.parse import urlsplit

import pytest
import requests

from strangler.plans.fleet_counts import proxy_counts
from strangler.plans.prometheus import PrometheusSource
from strangler.plans.schema import Plan, load_plan
from strangler.plans.snapshot import RouteCounts
from strangler.plans.sources import read_route_counts
from tests.monolith.processes import free_port, python_env, running, url_answers, wait_until
from tests.strangler.plans.fleet import http_server

pytestmark = pytest.mark.e2e

JOB = "strangler-proxy"
# Three scrapes at 1 s, and Prometheus's start: the counters settle well within this.
SETTLE_SECONDS = 30.0
PLAN = """
name: demo
routes: [products]
service: catalog
models: [catalog.Product]
nodes:
  monolith: {url: "http://127.0.0.1:1", manage: "true"}
  catalog: {url: "http://127.0.0.1:1", manage: "true"}
steps:
  - kind: canary
    percent: 50
"""


def _prometheus_binary() -> str:
    found = shutil.which("prometheus")
    if found is None:
        reason = "prometheus is not installed (apt-get install prometheus)"
        if os.environ.get("STRANGLER_REQUIRE_PROMETHEUS") == "1":
            pytest.fail(reason + " (STRANGLER_REQUIRE_PROMETHEUS=1: not skipped)")
        pytest.skip(reason)
    return found


@dataclass
class Fleet:
    admin_urls: list[str]
    public_urls: list[str]
    processes: list[Popen[bytes]]
    prometheus: PrometheusSource


def _table(upstream: str) -> str:
    return f"""\
legacy: monolith
upstreams:
  monolith: {{url: "{upstream}"}}
  catalog: {{url: "{upstream}"}}
routes:
  - name: products
    prefix: /api/v1/products/
    owner: catalog
    mode: service
"""


def _scrape_config(admin_urls: list[str]) -> str:
    targets = ", ".join(f'"{urlsplit(url).netloc}"' for url in admin_urls)
    return f"""\
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: {JOB}
    scrape_timeout: 1s
    static_configs:
      - targets: [{targets}]
"""


@pytest.fixture
def plan(tmp_path: Path) -> Plan:
    path = tmp_path / "demo.yaml"
    path.write_text(PLAN, encoding="utf-8")
    return load_plan(path)


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    binary = _prometheus_binary()

    def upstream(request):  # the service: fails what it is asked to fail
        return (500, {"failed": True}) if "fail" in request.path else (200, {"ok": True})

    with ExitStack() as stack:
        upstream_url, _ = stack.enter_context(http_server(upstream))
        config = tmp_path / "routes.yaml"
        config.write_text(_table(upstream_url), encoding="utf-8")
        admin_urls, public_urls, processes = [], [], []
        for n in range(3):
            port, admin_port = free_port(), free_port()
            admin = f"http://127.0.0.1:{admin_port}"
            args = [sys.executable, "-m", "strangler.proxy", "--config", str(config),
                    "--port", str(port), "--admin-port", str(admin_port)]  # fmt: skip
            processes.append(
                stack.enter_context(
                    running(args, env=python_env(PROXY_WORKERS="1"),
                            log=tmp_path / f"proxy-{n}.log", ready=url_answers(f"{admin}/healthz"))
                )
            )  # fmt: skip
            admin_urls.append(admin)
            public_urls.append(f"http://127.0.0.1:{port}")
        scrape = tmp_path / "prometheus.yml"
        scrape.write_text(_scrape_config(admin_urls), encoding="utf-8")
        prometheus = f"http://127.0.0.1:{free_port()}"
        args = [binary, f"--config.file={scrape}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address={urlsplit(prometheus).netloc}"]  # fmt: skip
        stack.enter_context(
            running(args, env=dict(os.environ), log=tmp_path / "prometheus.log",
                    ready=url_answers(f"{prometheus}/-/ready"))
        )  # fmt: skip
        yield Fleet(admin_urls, public_urls, processes, PrometheusSource(prometheus, JOB))


def _from_prometheus(plan: Plan, fleet: Fleet, session: requests.Session) -> tuple[object, str]:
    return proxy_counts(
        plan, admin_url=fleet.admin_urls[0], session=session, store=None,
        prometheus=fleet.prometheus, errors=[],
    )  # fmt: skip


def _replicas_own(plan: Plan, fleet: Fleet, session: requests.Session) -> RouteCounts:
    total = RouteCounts()
    for url in fleet.admin_urls:
        own = read_route_counts(plan, url, session)
        total.sources[urlsplit(url).netloc] = own
        total.add(own)
    return total


def test_the_figures_prometheus_gives_are_the_sum_of_every_replicas_own(plan, fleet):
    with requests.Session() as session:
        for public, (ok, failed) in zip(fleet.public_urls, [(3, 1), (5, 0), (7, 2)], strict=True):
            for n in range(ok):
                assert session.get(f"{public}/api/v1/products/{n}/", timeout=5).status_code == 200
            for _ in range(failed):
                assert session.get(f"{public}/api/v1/products/fail/", timeout=5).status_code == 500
        own = _replicas_own(plan, fleet, session)
        seen: list[object] = []

        def prometheus_agrees() -> bool:
            counts, _ = _from_prometheus(plan, fleet, session)
            seen.append(counts)
            return counts == own

        wait_until(prometheus_agrees, deadline=SETTLE_SECONDS, what="Prometheus's sums")

    assert own.requests == {"catalog": 18.0}
    assert own.errors == {"catalog": 3.0}
    assert seen[-1] == own  # the sums, each replica's own, and the latency buckets


def test_with_one_replica_stopped_the_figures_are_inconclusive(plan, fleet):
    with requests.Session() as session:

        def all_three_scraped() -> bool:
            counts, _ = _from_prometheus(plan, fleet, session)
            return isinstance(counts, RouteCounts) and len(counts.sources) == 3

        wait_until(all_three_scraped, deadline=SETTLE_SECONDS, what="every replica scraped")
        stopped = fleet.processes[2]
        stopped.send_signal(signal.SIGTERM)
        stopped.wait(timeout=20)
        reasons: list[str] = []

        def inconclusive() -> bool:
            counts, missing = _from_prometheus(plan, fleet, session)
            reasons.append(missing)
            return counts is None

        wait_until(inconclusive, deadline=SETTLE_SECONDS, what="the stopped replica seen down")

    down = urlsplit(fleet.admin_urls[2]).netloc
    assert reasons[-1].startswith(
        f"proxy metrics: 2 of 3 replicas answered (Prometheus at {fleet.prometheus.url}, job "
        f"'{JOB}': {down} down: "
    )
    assert reasons[-1].endswith("); figures from part of the fleet are not judged")
