"""``strangler status``: the overview in the terminal and as JSON, read from real sources.

The proxy is a real HTTP server answering canned ``/routes`` and ``/metrics`` (the admin
API's documents, with counts the assertions can work out by hand); the sync nodes are the
real ones of ``tests/strangler/plans/live_system.py``; the fleet and the audit trail come
from a real PostgreSQL store (``tests/strangler/plans/fleet.py``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from strangler.cli import main
from strangler.control import ControlStore
from strangler.plans.snapshot import RouteCounts, Snapshot
from strangler.plans.state import locked_state
from tests.monolith.processes import free_port, wait_until
from tests.strangler.plans.fleet import Received, Replica, control, control_url, http_server
from tests.strangler.plans.live_system import LiveSystem, live_system

# Imported for pytest to find them here: their modules say why they are not in conftest.
FIXTURES = (control, control_url, live_system)

ROUTES = {
    "legacy": "alpha",
    "routes": [
        {"name": "widgets", "pattern": "/widgets/", "kind": "prefix", "methods": None,
         "owner": "beta", "mode": "canary", "canary_percent": 25.0, "fallback": True,
         "shadow_sample_rate": 1.0, "read_sides": ["alpha", "beta"], "write_owner": "alpha",
         "hold_until": 0},
        {"name": "parts", "pattern": "/parts/", "kind": "prefix", "methods": None,
         "owner": "beta", "mode": "shadow", "canary_percent": 0.0, "fallback": False,
         "shadow_sample_rate": 1.0, "read_sides": ["alpha"], "write_owner": "alpha",
         "hold_until": 0},
    ],
}  # fmt: skip
# widgets: beta answered 32 (2 of them 5xx), alpha 68; parts: alpha 100, with 6 shadow
# matches and 4 differences; 800 requests matched no route. beta's breaker is open.
METRICS = """\
# TYPE strangler_proxy_requests_total counter
strangler_proxy_requests_total{route="widgets",upstream="beta",mode="canary",status="200"} 30.0
strangler_proxy_requests_total{route="widgets",upstream="beta",mode="canary",status="503"} 2.0
strangler_proxy_requests_total{route="widgets",upstream="alpha",mode="canary",status="200"} 68.0
strangler_proxy_requests_total{route="parts",upstream="alpha",mode="shadow",status="200"} 100.0
strangler_proxy_requests_total{route="(default)",upstream="alpha",mode="monolith",status="200"} 800
# TYPE strangler_proxy_shadow_total counter
strangler_proxy_shadow_total{route="parts",outcome="match"} 6.0
strangler_proxy_shadow_total{route="parts",outcome="mismatch"} 4.0
# TYPE strangler_proxy_fallbacks_total counter
strangler_proxy_fallbacks_total{route="widgets"} 1.0
# TYPE strangler_proxy_breaker_state gauge
strangler_proxy_breaker_state{upstream="alpha"} 0.0
strangler_proxy_breaker_state{upstream="beta"} 2.0
"""


def _proxy(request: Received) -> tuple[int, object]:
    if request.path == "/metrics":
        return 200, METRICS
    if request.path == "/routes":
        return 200, ROUTES
    # Its table file is not on this host: the trail is asked of the admin API.
    if request.path.partition("?")[0] == "/audit":
        return 200, {"store": "routes.yaml.audit.jsonl", "entries": [], "problem": None}
    return 404, {"code": "not_found", "message": request.path}


@pytest.fixture
def proxy() -> Iterator[str]:
    """The admin URL of a proxy answering the canned routes and metrics."""
    with http_server(_proxy) as (url, _):
        yield url


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capfd, tmp_path: Path):
    """``strangler status`` with ``argv``: (exit status, stdout, stderr)."""
    monkeypatch.delenv("STRANGLER_STORE_URL", raising=False)
    monkeypatch.delenv("STRANGLER_PROMETHEUS_URL", raising=False)
    monkeypatch.delenv("PROXY_ADMIN_TOKEN", raising=False)
    # The comparison results are read from $STRANGLER_VAR_DIR: none of this checkout's.
    monkeypatch.setenv("STRANGLER_VAR_DIR", str(tmp_path / "var"))

    def status(*argv: str) -> tuple[int, str, str]:
        code = main(["status", "--state-dir", str(tmp_path / "state"), *argv])
        out, err = capfd.readouterr()
        return code, out, err

    return status


def _plan(system: LiveSystem) -> str:
    return f"""
name: widgets
routes: [widgets, parts]
service: beta
legacy: alpha
models: [widgets.Widget, widgets.Part]
nodes:
  alpha: {{url: "{system.alpha_url}", manage: "true"}}
  beta: {{url: "{system.beta_url}", manage: "true"}}
steps:
  - kind: backfill
  - kind: shadow
    gate:
      conditions:
        - {{figure: shadow_difference_rate, max: 0.1, min_count: 5}}
        - {{figure: sync_backlog, max: 100}}
  - kind: cutover
"""


@pytest.fixture
def plans(live_system: LiveSystem, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A plans directory whose plan is at its shadow step, begun a minute ago with no counts."""
    monkeypatch.setenv("STRANGLER_SYNC_SECRET", live_system.sync_secret)
    directory = tmp_path / "plans"
    directory.mkdir()
    (directory / "widgets.yaml").write_text(_plan(live_system), encoding="utf-8")
    began = time.time() - 60
    with locked_state(tmp_path / "state", "widgets") as (state, save):
        state.current = 1
        state.step_started_at = began
        state.baseline = Snapshot(began, RouteCounts(), None, None).as_json()
        save()
    return directory


def _line(out: str, *parts: str) -> str:
    """The one line of ``out`` holding every one of ``parts``."""
    lines = [line for line in out.splitlines() if all(part in line for part in parts)]
    assert len(lines) == 1, (parts, out)
    return lines[0]


@pytest.mark.e2e
def test_the_overview_shows_shares_routes_the_plans_gate_and_each_sync_stream(run, proxy, plans):
    code, out, err = run("--admin", proxy, "--plans", str(plans), "--json")

    assert (code, err) == (0, "")
    document = json.loads(out)
    assert document["unknown"] == {}
    overall = document["headline"]["overall"]
    # widgets serves a quarter of its reads from beta, parts none: 12.5% of the routes.
    assert (overall["routes"], overall["routes_share"]) == (2, pytest.approx(0.125))
    assert overall["traffic"] == {
        "requests": 1000, "by_side": {"alpha": 968, "beta": 32}, "services_share": 0.032
    }  # fmt: skip
    plan_traffic = document["headline"]["plans"]["widgets"]["traffic"]
    assert (plan_traffic["requests"], plan_traffic["services_share"]) == (200, 0.16)
    widgets, parts = document["routes"]
    assert widgets == {
        "name": "widgets", "mode": "canary", "owner": "beta", "write_owner": "alpha",
        "read_sides": ["alpha", "beta"], "canary_percent": 25.0, "fallback": True,
        "service_share": 0.25,
        "sides": {
                "alpha": {"requests": 68, "errors": 0, "p99_seconds": None},
                "beta": {"requests": 32, "errors": 2, "p99_seconds": None},
            },
        "fallbacks": 1, "breakers": {"alpha": "closed", "beta": "open"},
        "hold_until": None, "held": False,
    }  # fmt: skip
    assert parts["sides"] == {"alpha": {"requests": 100, "errors": 0, "p99_seconds": None}}
    [plan] = document["plans"]
    assert (plan["current_step"], plan["next_step"]) == ("shadow", "cutover")
    gate = plan["gate"]
    assert gate["verdict"] == "failed"
    difference = gate["conditions"][0]
    assert (difference["figure"], difference["value"], difference["count"]) == (
        "shadow_difference_rate", 0.4, 10
    )  # fmt: skip
    assert difference["verdict"] == "failed"
    assert gate["conditions"][1]["figure"] == "sync_backlog"
    assert [s["stream"] for s in document["sync"]] == ["alpha -> beta", "beta -> alpha"]
    for stream in document["sync"]:  # the real nodes answered
        assert stream["unknown"] is None
        assert set(stream["state"]) >= {"enabled", "paused_reason", "backlog", "lag_seconds"}
        assert isinstance(stream["problems"], list)
        assert stream["dead_letters_by_source"] == {}
    assert (document["fleet"], document["audit"], document["audit_problem"]) == (None, [], None)


@pytest.mark.e2e
def test_the_terminal_shows_the_same_overview_as_tables(run, proxy, plans):
    code, out, err = run("--admin", proxy, "--plans", str(plans))

    assert (code, err) == (0, "")
    assert "12.5%" in _line(out, "overall", "1000", "3.2%", "alpha 968, beta 32")
    assert "16.0%" in _line(out, "plan widgets", "200")
    _line(out, "widgets", "canary", "25%", "alpha 68/0, beta 32/2", "alpha closed, beta open")
    assert _line(out, "plan widgets: step shadow, next cutover").endswith(
        "gate FAILED (shadow_difference_rate is 0.4, above its limit 0.1)"
    )
    _line(out, "shadow_difference_rate", "0.4", "0.1", "10", "failed")
    _line(out, "widgets", "alpha -> beta")
    _line(out, "widgets", "beta -> alpha")


@pytest.mark.e2e
def test_a_real_proxy_and_a_plan_not_started_read_as_such(run, live_system, plans, tmp_path):
    (tmp_path / "state" / "widgets.json").unlink()  # the plan has not started

    code, out, err = run("--admin", live_system.admin_url, "--plans", str(plans), "--json")

    assert (code, err) == (0, "")
    document = json.loads(out)
    assert document["unknown"] == {}
    assert [(r["name"], r["mode"], r["owner"]) for r in document["routes"]] == [
        ("widgets", "monolith", "beta"), ("parts", "monolith", "beta")
    ]  # fmt: skip
    assert document["routes"][0]["breakers"] == {"alpha": "closed", "beta": "closed"}
    assert document["headline"]["overall"]["routes_share"] == 0.0
    [plan] = document["plans"]
    assert (plan["current_step"], plan["next_step"], plan["gate"]) == (None, "backfill", None)


def test_an_unreachable_proxy_is_unknown_with_the_reason_and_exits_2(run, tmp_path):
    nobody = f"http://127.0.0.1:{free_port()}"

    code, out, err = run("--admin", nobody, "--plans", str(tmp_path / "none"), "--json")

    assert (code, err) == (2, "")
    document = json.loads(out)
    assert document["routes"] is None
    assert document["headline"]["overall"] == {
        "routes": None, "routes_share": None, "traffic": None
    }  # fmt: skip
    assert document["unknown"]["routes"].startswith(f"proxy routes at {nobody}: ")
    assert "Connection refused" in document["unknown"]["routes"]
    assert document["unknown"]["traffic"].startswith(f"proxy metrics: did not answer ({nobody}")

    code, out, err = run("--admin", nobody, "--plans", str(tmp_path / "none"))

    assert (code, err) == (2, "")
    assert _line(out, "routes: unknown (proxy routes at", nobody)
    assert "Traceback" not in out


@pytest.mark.postgres
def test_with_a_store_the_fleet_flags_a_lagging_replica_and_the_last_ten_changes_show(
    run, proxy, control: ControlStore, control_url: str, monkeypatch, tmp_path
):
    monkeypatch.setenv("STRANGLER_STORE_URL", control_url)
    control.seed_table("legacy: alpha\nroutes: []\n", actor="host-a/0", via="seed", source="x")
    following = Replica(control_url, "host-a/0", admin_url=proxy)
    stuck = Replica(control_url, "host-b/0", admin_url=proxy, follows=False)
    try:
        for n in range(11):
            control.record(
                actor="ana", via="cli", action="note", subject=f"route:r{n}", before=n, after=n + 1
            )
        control.set_hold("widgets", time.time() + 60, actor="ana", via="cli")
        wait_until(
            lambda: any(r.replica == "host-a/0" and r.holds_version for r in control.replicas()),
            deadline=5, what="host-a to serve the hold",
        )  # fmt: skip

        code, out, err = run("--admin", proxy, "--plans", str(tmp_path / "none"), "--json")
        text_code, text, _ = run("--admin", proxy, "--plans", str(tmp_path / "none"))
    finally:
        following.stop()
        stuck.stop()

    assert (code, err) == (0, "")
    document = json.loads(out)
    replicas = {r["replica"]: r["lagging"] for r in document["fleet"]["replicas"]}
    assert replicas == {
        "host-a/0": None, "host-b/0": "serves holds version 0, the store has 1"
    }  # fmt: skip
    audit = document["audit"]
    assert len(audit) == 10
    assert [e["subject"] for e in audit[-2:]] == ["route:r10", "route:widgets"]
    assert (audit[-1]["action"], audit[-1]["actor"]) == ("hold", "ana")
    # The store's holds are the fleet's: widgets is held though the proxy's listing says not.
    assert document["routes"][0]["held"] is True
    # Both replicas share one admin URL: its counts are read once, not twice.
    assert document["headline"]["overall"]["traffic"]["requests"] == 1000
    assert text_code == 0
    _line(text, "host-b/0", "LAGGING: serves holds version 0, the store has 1")
    _line(text, "ana", "cli", "hold", "route:widgets")


@pytest.mark.postgres
def test_a_store_that_cannot_be_reached_leaves_the_rest_readable(run, proxy, monkeypatch, tmp_path):
    monkeypatch.setenv("STRANGLER_STORE_URL", f"postgres://ops:secret@127.0.0.1:{free_port()}/x")

    code, out, err = run("--admin", proxy, "--plans", str(tmp_path / "none"), "--json")

    assert (code, err) == (0, "")
    document = json.loads(out)
    assert document["routes"] is not None
    for part in ("fleet", "audit"):
        assert document[part] is None
        assert "ops:***@127.0.0.1" in document["unknown"][part]
        assert "secret" not in document["unknown"][part]
