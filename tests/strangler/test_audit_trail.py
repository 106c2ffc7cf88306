"""The audit trail (issue 17): every change made through the admin API, the CLI or a plan
is recorded with its actor, time, before and after, in the route table's store, and it
survives a restart; ``strangler routes history`` prints it and refuses a damaged one.

Against real processes: ``python -m strangler.proxy`` on free ports with its table file (the
file store: the trail beside the table, hash-chained), and with a real PostgreSQL control
store (``STRANGLER_STORE_URL``: the store's append-only ``strangler_audit``).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from strangler import audit_file
from strangler.cli import main
from strangler.control import open_control
from strangler.plans.actions import LiveActions
from strangler.plans.audit import plan_audit
from strangler.plans.figures import RouteCounts, Snapshot
from strangler.plans.runner import advance, rollback
from strangler.plans.schema import load_plan
from tests.monolith.processes import free_port, python_env, running, url_answers
from tests.postgres_server import fresh_database

pytestmark = pytest.mark.e2e

TOKEN = "audit-test-token"

TABLE = """\
upstreams:
  monolith: {url: "http://127.0.0.1:8100"}
  catalog: {url: "http://127.0.0.1:8200"}
routes:
  - name: products
    prefix: /api/v1/products/
    owner: catalog
    mode: canary
    canary_percent: 10
"""

PLAN = """
name: demo
routes: [products]
service: catalog
models: [catalog.Product]
nodes:
  monolith: {url: "http://127.0.0.1:1", manage: "true"}
  catalog: {url: "http://127.0.0.1:1", manage: "true"}
steps:
  - kind: shadow
  - kind: canary
    percent: 20
"""

Start = Callable[[], contextlib.AbstractContextManager[str]]


@pytest.fixture
def table(tmp_path: Path) -> Path:
    path = tmp_path / "routes.yaml"
    path.write_text(TABLE)
    return path


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("STRANGLER_STORE_URL", "STRANGLER_ROUTES", "STRANGLER_ADMIN_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PROXY_ADMIN_TOKEN", TOKEN)


def proxy_starter(table: Path, log_dir: Path, store_url: str | None = None) -> Start:
    """Start ``python -m strangler.proxy`` on ``table`` (on new free ports each time)."""
    starts = iter(range(1, 100))

    @contextlib.contextmanager
    def start() -> Iterator[str]:
        port, admin_port = free_port(), free_port()
        admin = f"http://127.0.0.1:{admin_port}"
        extra = {"STRANGLER_STORE_URL": store_url, "PROXY_REPLICA_ID": "a"} if store_url else {}
        env = python_env(PROXY_ADMIN_TOKEN=TOKEN, PROXY_WORKERS="2", **extra)
        if store_url is None:
            env.pop("STRANGLER_STORE_URL", None)
        args = [sys.executable, "-m", "strangler.proxy", "--config", str(table),
                "--port", str(port), "--admin-port", str(admin_port)]  # fmt: skip
        log = log_dir / f"proxy-{next(starts)}.log"
        with running(args, env=env, log=log, ready=url_answers(f"{admin}/healthz")):
            yield admin

    return start


def call(method: str, url: str, actor: str | None = None, body: object = None) -> dict:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    if actor:
        headers["X-Strangler-Actor"] = actor
    response = requests.request(method, url, json=body, headers=headers, timeout=30)
    assert response.status_code < 300, response.text
    return response.json()


def history(capfd, *argv: str) -> tuple[int, dict | str, str]:
    status = main(["routes", "history", "--limit", "500", *argv])
    out, err = capfd.readouterr()
    try:
        return status, json.loads(out), err
    except ValueError:
        return status, out, err


def summary(entries: list[dict]) -> list[tuple[object, ...]]:
    return [(e["actor"], e["via"], e["action"], e["subject"], e["before"], e["after"])
            for e in entries]  # fmt: skip


class ProxyOnly(LiveActions):
    """The plan's proxy changes for real (through the admin API); its sync nodes, which
    this test does not run, answer as done."""

    def set_stream(self, direction, *, enabled):
        self.log.append(f"stream {direction} {enabled}")

    def backfill(self) -> None:
        self.log.append("backfill")

    def reconcile(self, direction, *, changed_only=False):
        return 0

    def drained(self, direction, *, since):
        return True


def run_plan_step_and_rollback(admin: str, tmp_path: Path, store=None) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(PLAN, encoding="utf-8")
    plan = load_plan(path)
    env = {**os.environ, "STRANGLER_OPERATOR": "dave"}
    now = Snapshot(taken_at=0.0, proxy=RouteCounts(), forward=None, reverse=None)
    with requests.Session() as session:
        actions = ProxyOnly(plan, admin_url=admin, session=session, env=env, store=store)
        audit = plan_audit("demo", admin_url=admin, session=session, store=store, env=env)
        common = {"state_dir": tmp_path / "state", "actions": actions, "take_snapshot": lambda: now,
                  "store": store, "audit": audit}  # fmt: skip
        done = advance(plan, now=now, dry_run=False, **common)
        assert (done.done, done.message) == (True, "applied step 'shadow'")
        back = rollback(plan, **common)
        assert back.done
        assert back.message == "rolled back from 'shadow' to 'before the first step'"


def make_changes(admin: str, table: Path, tmp_path: Path, monkeypatch, capfd, store=None) -> None:
    """One change through each entry point: the admin API (PATCH, hold, release), the CLI
    (through the proxy, and on the file or store directly) and a plan's step and rollback."""
    call("PATCH", f"{admin}/routes/products", "alice", {"canary_percent": 30})
    call("POST", f"{admin}/routes/products/hold", "bob", {"seconds": 60})
    call("POST", f"{admin}/routes/products/release", "bob", {})
    monkeypatch.setenv("STRANGLER_OPERATOR", "carol")
    assert main(["routes", "set", "products", "--percent", "40", "--admin", admin]) == 0
    offline = ["--offline"] + ([] if store else ["--config", str(table)])
    assert main(["routes", "set", "products", "--percent", "50", *offline]) == 0
    capfd.readouterr()
    run_plan_step_and_rollback(admin, tmp_path, store)


def expected_changes(offline_via: str) -> list[tuple[object, ...]]:
    plan_actor = "plan:demo by dave"
    route_fields = {"mode": "shadow", "fallback": True, "write_owner": "monolith"}
    back_fields = {"mode": "monolith", "fallback": True, "write_owner": "monolith"}

    def percent(before: int, after: int) -> tuple[dict[str, int], dict[str, int]]:
        return {"canary_percent": before}, {"canary_percent": after}

    return [
        ("alice", "admin-api", "set", "route:products", *percent(10, 30)),
        ("bob", "admin-api", "hold", "route:products", None, "held"),
        ("bob", "admin-api", "release", "route:products", "held", None),
        ("carol", "admin-api", "set", "route:products", *percent(30, 40)),
        ("carol", offline_via, "set", "route:products", *percent(40, 50)),
        (plan_actor, "admin-api", "set", "route:products",
         {"mode": "canary", "fallback": False, "write_owner": "monolith"}, route_fields),
        ("dave", "plan", "plan.next", "plan:demo", None, "shadow"),
        (plan_actor, "admin-api", "set", "route:products", route_fields, back_fields),
        ("dave", "plan", "plan.rollback", "plan:demo", "shadow", None),
    ]  # fmt: skip


def comparable(entries: list[dict]) -> list[tuple[object, ...]]:
    """The entries, holds' times replaced by "held" (their epoch seconds vary by run), and
    the route changes' before/after cut to the fields the expectation names."""
    out = []
    for actor, via, action, subject, before, after in summary(entries):
        if action in ("hold", "release"):
            before = "held" if before else None
            after = "held" if after else None
        out.append((actor, via, action, subject, before, after))
    return out


def route_changes_only(entries: list[dict]) -> list[dict]:
    return [e for e in entries if e["action"] != "seed"]


# -- the file store ------------------------------------------------------------------------


def test_the_file_store_records_every_entry_point_and_survives_a_restart(
    table: Path, tmp_path: Path, monkeypatch, capfd
) -> None:
    start = proxy_starter(table, tmp_path)
    with start() as admin:
        make_changes(admin, table, tmp_path, monkeypatch, capfd)
        status, through_admin, _ = history(capfd, "--json", "--admin", admin)
    assert status == 0
    assert comparable(through_admin["entries"]) == expected_changes("cli")
    assert through_admin["problem"] is None
    assert through_admin["store"] == str(audit_file.audit_path(table))
    entries = through_admin["entries"]
    assert [e["id"] for e in entries] == list(range(1, 10))
    assert all(a["at"] <= b["at"] for a, b in itertools.pairwise(entries))

    # Stopped: the file is read directly, with the chain checked.
    status, from_file, _ = history(capfd, "--json", "--config", str(table))
    assert (status, from_file["entries"], from_file["problem"]) == (0, entries, None)

    with start() as admin:  # restarted: the trail is still there, and goes on
        status, after_restart, _ = history(capfd, "--json", "--admin", admin)
        assert after_restart["entries"] == entries
        call("PATCH", f"{admin}/routes/products", "erin", {"canary_percent": 60})
        status, continued, _ = history(capfd, "--json", "--admin", admin)
    assert status == 0
    assert continued["entries"][:9] == entries
    newest = continued["entries"][9]
    assert (newest["id"], newest["actor"], newest["before"], newest["after"]) == (
        10, "erin", {"canary_percent": 50}, {"canary_percent": 60}
    )  # fmt: skip
    assert continued["problem"] is None  # the new line is chained to the old last one

    status, text, _ = history(capfd, "--config", str(table), "--limit", "2")
    lines = text.splitlines()
    assert status == 0
    assert len(lines) == 2
    assert "#10  erin via admin-api: set route:products  {" in lines[1]
    assert lines[1].endswith(' -> {"canary_percent": 60.0}')  # as the proxy describes it


def test_a_tampered_trail_is_reported_with_the_line_and_refused(
    table: Path, tmp_path: Path, monkeypatch, capfd
) -> None:
    start = proxy_starter(table, tmp_path)
    with start() as admin:
        call("PATCH", f"{admin}/routes/products", "alice", {"canary_percent": 30})
        call("PATCH", f"{admin}/routes/products", "alice", {"canary_percent": 40})
        call("PATCH", f"{admin}/routes/products", "alice", {"canary_percent": 50})
        trail = audit_file.audit_path(table)
        original = trail.read_text().splitlines(keepends=True)
        lines = [*original]
        lines[1] = lines[1].replace('"alice"', '"mallory"')
        trail.write_text("".join(lines))

        status, out, err = history(capfd, "--admin", admin)
        assert status == 1
        assert "mallory" in out  # the entries are shown, then the damage said
        assert f"the audit trail in the proxy at {admin}" in err
        assert "line 2 (entry #2) does not match its own hash: it was edited" in err
        assert "Traceback" not in err

        status, document, err = history(capfd, "--json", "--config", str(table))
        assert status == 1
        assert document["problem"] == "line 2 (entry #2) does not match its own hash: it was edited"

    trail.write_text("".join(original[1:]))  # the head cut off
    status, _, err = history(capfd, "--offline", "--config", str(table))
    assert status == 1
    assert "the trail's head was cut off" in err


def test_history_asks_for_the_token_and_names_a_missing_table(
    table: Path, tmp_path: Path, monkeypatch, capfd
) -> None:
    start = proxy_starter(table, tmp_path)
    with start() as admin:
        answer = requests.get(f"{admin}/audit", timeout=10)
        assert (answer.status_code, answer.json()["code"]) == (401, "missing_token")
        forged = requests.post(
            f"{admin}/audit", json={"action": "set", "plan": "demo"},
            headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10,
        )  # fmt: skip
        assert (forged.status_code, forged.json()["code"]) == (400, "bad_audit")
        monkeypatch.delenv("PROXY_ADMIN_TOKEN")
        status, _, err = history(capfd, "--admin", admin)
        assert status == 1
        assert "$PROXY_ADMIN_TOKEN" in err

    status, _, err = history(capfd, "--config", str(tmp_path / "nowhere.yaml"))
    assert status == 2
    assert f"no route table at {tmp_path / 'nowhere.yaml'}" in err


def test_status_shows_the_file_stores_trail(table: Path, tmp_path: Path, capfd) -> None:
    start = proxy_starter(table, tmp_path)
    with start() as admin:
        call("PATCH", f"{admin}/routes/products", "alice", {"canary_percent": 30})
        main(["status", "--admin", admin, "--plans", str(tmp_path / "none"), "--json"])
        document = json.loads(capfd.readouterr().out)
    assert summary(document["audit"]) == [
        ("alice", "admin-api", "set", "route:products", {"canary_percent": 10},
         {"canary_percent": 30}),
    ]  # fmt: skip
    assert set(document["audit"][0]) == {"id", "at", "actor", "via", "action", "subject",
                                         "before", "after"}  # fmt: skip
    assert document["audit_problem"] is None


# -- the PostgreSQL control store -------------------------------------------------------------


@pytest.fixture
def store_url() -> Iterator[str]:
    with fresh_database("audit") as url:
        yield url


def test_the_control_store_records_every_entry_point_and_survives_a_restart(
    table: Path, tmp_path: Path, store_url: str, monkeypatch, capfd
) -> None:
    start = proxy_starter(table, tmp_path, store_url)
    store = open_control(store_url)
    try:
        with start() as admin:
            monkeypatch.setenv("STRANGLER_STORE_URL", store_url)
            make_changes(admin, table, tmp_path, monkeypatch, capfd, store=store)
            status, document, _ = history(capfd, "--json")
            monkeypatch.delenv("STRANGLER_STORE_URL")
            served = call("GET", f"{admin}/audit?limit=500")
        assert status == 0
        entries = route_changes_only(document["entries"])
        assert comparable(entries) == expected_changes("cli")
        assert route_changes_only(served["entries"]) == entries  # GET /audit reads the store
        assert not audit_file.audit_path(table).exists()  # the store is the trail

        with start() as admin:
            call("PATCH", f"{admin}/routes/products", "erin", {"canary_percent": 60})
            monkeypatch.setenv("STRANGLER_STORE_URL", store_url)
            status, continued, _ = history(capfd, "--json")
        assert status == 0
        assert route_changes_only(continued["entries"])[:9] == entries
        newest = continued["entries"][-1]
        assert (newest["actor"], newest["before"], newest["after"]) == (
            "erin", {"canary_percent": 50}, {"canary_percent": 60}
        )  # fmt: skip
    finally:
        store.close()
