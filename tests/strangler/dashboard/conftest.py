"""The dashboard as it runs: a real ``strangler dashboard`` process reading a fake proxy's
admin API over HTTP, plan files, a comparison results file and a real control store."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from strangler.control import open_control
from tests.monolith.processes import free_port, wait_until
from tests.postgres_server import fresh_database
from tests.strangler.dashboard.synthetic import FakeProxy, route_name, write_plans, write_results
from tests.strangler.plans.fleet import http_server

ROUTES = 40
ACTOR = "carol-the-operator"


@dataclass
class Dashboard:
    url: str
    token: str
    proxy: FakeProxy | None
    process: subprocess.Popen[bytes]

    def get(self, path: str, **kwargs: object) -> requests.Response:
        return requests.get(f"{self.url}{path}", timeout=10, **kwargs)  # type: ignore[arg-type]

    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def start_dashboard(
    tmp: Path, admin_url: str, proxy: FakeProxy, *, routes: int, plans: int, env: dict[str, str]
) -> Dashboard:
    """The dashboard on the synthetic migration: ``plans`` plans over ``routes`` routes."""
    write_plans(tmp / "plans", plans, routes, node_url="http://127.0.0.1:9")
    write_results(tmp / "results.sqlite3", [route_name(i) for i in range(min(routes, 5))])
    return run_dashboard(tmp, admin_url, proxy, env=env)


def run_dashboard(
    tmp: Path, admin_url: str, proxy: FakeProxy | None, *, env: dict[str, str]
) -> Dashboard:
    """``strangler dashboard`` on ``tmp``'s ``plans/`` and ``results.sqlite3``, once it has
    polled twice."""
    port = free_port()
    command = [
        sys.executable, "-m", "strangler", "dashboard", "--port", str(port), "--admin", admin_url,
        "--plans", str(tmp / "plans"), "--results", str(tmp / "results.sqlite3"),
        "--state-dir", str(tmp / "state"), "--interval", "0.2",
    ]  # fmt: skip
    log = tmp / "dashboard.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(command, env=env, stderr=stderr)
    dashboard = Dashboard(f"http://127.0.0.1:{port}", env["PROXY_ADMIN_TOKEN"], proxy, process)

    def ready() -> bool:
        assert process.poll() is None, log.read_text()
        try:
            health = dashboard.get("/healthz")
        except requests.ConnectionError:
            return False
        # Two polls: the rates over a window need a second one, and then the document
        # stands still until something changes.
        return health.status_code == 200 and health.json()["polls"] >= 2

    wait_until(ready, deadline=30, what="the dashboard's first two polls")
    return dashboard


def dashboard_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRANGLER_", "PROXY_"))}
    # Outside demo mode: the token rule a deployment has.
    return {**env, "STRANGLER_DEMO": "0", "PROXY_ADMIN_TOKEN": secrets.token_urlsafe(32), **extra}


@pytest.fixture
def control_url() -> Iterator[str]:
    with fresh_database("dashboard") as url:
        yield url


@pytest.fixture
def dashboard(tmp_path: Path, control_url: str) -> Iterator[Dashboard]:
    """40 routes, 2 plans, comparison results on 5 routes, a hold recorded by ``ACTOR``."""
    store = open_control(control_url)
    try:
        store.set_hold(route_name(1), time.time() + 3600, actor=ACTOR, via="cli")
    finally:
        store.close()
    proxy = FakeProxy(ROUTES, per_read=0)  # steady counters: a change is the test's own
    with http_server(proxy.answer) as (admin_url, _):
        env = dashboard_env(STRANGLER_STORE_URL=control_url)
        running = start_dashboard(tmp_path, admin_url, proxy, routes=ROUTES, plans=2, env=env)
        try:
            yield running
        finally:
            running.process.terminate()
            running.process.wait(timeout=10)
