"""The dashboard against a real proxy and two real sync nodes (``live_system``): every
section it shows is filled from what they answer."""

from __future__ import annotations

from pathlib import Path

from tests.strangler.dashboard.conftest import dashboard_env, run_dashboard
from tests.strangler.plans.live_system import LiveSystem, live_system, plan_text

FIXTURES = (live_system,)


def test_a_real_proxy_and_real_sync_nodes_fill_routes_plans_and_streams(
    live_system: LiveSystem, tmp_path: Path
):
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "widgets.yaml").write_text(plan_text(live_system), encoding="utf-8")
    env = dashboard_env(
        STRANGLER_SYNC_SECRET=live_system.sync_secret, STRANGLER_VAR_DIR=str(tmp_path / "var")
    )
    running = run_dashboard(tmp_path, live_system.admin_url, None, env=env)
    try:
        document = running.get("/api/overview").json()
    finally:
        running.process.terminate()
        running.process.wait(timeout=10)

    assert document["unknown"] == {}
    assert {r["name"] for r in document["routes"]} >= {"widgets", "parts"}
    (plan,) = document["plans"]
    assert plan["name"] == "widgets"
    assert [s["name"] for s in plan["steps"]] == ["backfill", "shadow", "cutover"]
    assert [s["stream"] for s in document["sync"]] == ["alpha -> beta", "beta -> alpha"]
    for stream in document["sync"]:
        assert stream["unknown"] is None
        assert stream["state"]["dead_letters"] == 0
        assert stream["dead_letters_by_source"] == {}
    assert document["comparison"] == {"where": str(tmp_path / "results.sqlite3"), "routes": []}
