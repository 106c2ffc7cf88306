"""The plan's actions against a fleet: a hold counts once every replica acknowledged it, a
route change once every replica serves it; a replica that does not fails the step with
nothing flipped. The store is a real PostgreSQL; the replicas are rows the store keeps
(``fleet.Replica``), the admin API the fleet design's (``fleet.AdminStandIn``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from strangler.control import ControlStore
from strangler.plans import actions as actions_module
from strangler.plans.actions import LiveActions
from strangler.plans.schema import Plan, load_plan
from strangler.plans.targets import FleetNotConverged, StepFailed, Target, move_to
from tests.strangler.plans.fleet import Replica, admin_stand_in, control, control_url

# Imported for pytest to find them here: fleet says why they are not in conftest.
FIXTURES = (control, control_url)

TABLE = """\
legacy: monolith
upstreams:
  monolith: {url: "http://127.0.0.1:8100"}
  catalog: {url: "http://127.0.0.1:8200"}
routes:
  - name: products
    prefix: /api/v1/products/
    owner: catalog
    mode: shadow
"""
RECORDER = """\
import json, pathlib, sys
with pathlib.Path(sys.argv[1]).open("a", encoding="utf-8") as log:
    log.write(json.dumps(sys.argv[2:]) + "\\n")
print(json.dumps({"reports": []}))
"""
SHADOW = Target("shadow", None, True, "forward")
CANARY = Target("canary", 10, True, "forward")
SERVICE = Target("service", None, True, "reverse")


@pytest.fixture(autouse=True)
def short_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    # The real bounds are 5 s; a stuck replica proves the same in half a second.
    monkeypatch.setattr(actions_module, "FLEET_ACK_SECONDS", 0.5)
    monkeypatch.setattr(actions_module, "FLEET_CONVERGE_SECONDS", 0.5)


@pytest.fixture
def seeded(control: ControlStore) -> ControlStore:
    control.seed_table(TABLE, actor="test", via="seed", source="test")
    return control


@pytest.fixture
def plan(tmp_path: Path) -> Plan:
    script = tmp_path / "manage.py"
    script.write_text(RECORDER, encoding="utf-8")
    manage = f"{sys.executable} {script} {tmp_path / 'commands.jsonl'}"
    path = tmp_path / "demo.yaml"
    path.write_text(
        f"""
name: demo
routes: [products]
service: catalog
models: [catalog.Product]
cutover_hold_seconds: 5
nodes:
  monolith: {{url: "http://127.0.0.1:1", manage: "{manage} monolith"}}
  catalog: {{url: "http://127.0.0.1:1", manage: "{manage} catalog"}}
steps:
  - kind: shadow
  - kind: canary
    percent: 10
  - kind: cutover
""",
        encoding="utf-8",
    )
    return load_plan(path)


@pytest.fixture
def fleet(control_url: str, seeded: ControlStore) -> Iterator[list[Replica]]:
    """Two replicas of host-a following the store, one of host-b stuck."""
    members = [
        Replica(control_url, "host-a/0"),
        Replica(control_url, "host-a/1"),
        Replica(control_url, "host-b/0", follows=False),
    ]
    yield members
    for member in members:
        member.stop()


def live(plan: Plan, admin: str, store: ControlStore) -> LiveActions:
    env = {"STRANGLER_OPERATOR": "ana", "PATH": "/usr/bin:/bin"}
    return LiveActions(plan, admin_url=admin, session=requests.Session(), env=env, store=store)


def mode_of_products(store: ControlStore) -> str:
    record = store.read_table()
    assert record is not None
    return "shadow" if "mode: shadow" in record.text else record.text


def test_a_cutover_a_replica_does_not_acknowledge_flips_nothing_and_releases_the_hold(
    plan, seeded, fleet, tmp_path
):
    hold_not_acknowledged = pytest.raises(StepFailed, match=r"host-b/0 \(table 1, holds 0\)")
    with admin_stand_in(seeded) as (admin, api), hold_not_acknowledged as failed:
        move_to(plan, SERVICE, current=CANARY, actions=live(plan, admin, seeded))

    assert "not every proxy replica acknowledged" in str(failed.value)
    assert [(c.method, c.path) for c in api.changes] == [
        ("POST", "/routes/products/hold"),
        ("POST", "/routes/products/release"),
    ]
    assert dict(seeded.read_holds().holds) == {}
    assert seeded.table_version() == 1  # no route was flipped
    assert not (tmp_path / "commands.jsonl").exists()  # nor the sync's direction


def test_a_hold_the_admin_api_answered_at_once_is_checked_in_the_store_too(
    plan, seeded, fleet, tmp_path
):
    answers_at_once = admin_stand_in(seeded, waits_for_fleet=False)
    with answers_at_once as (admin, api), pytest.raises(FleetNotConverged) as failed:
        move_to(plan, SERVICE, current=CANARY, actions=live(plan, admin, seeded))

    assert str(failed.value).startswith(
        "the write hold on products: not acknowledged within 0.5 s by host-b/0 (table 1, "
        "holds 0) (2 of 3 replicas did)"
    )
    assert [c.path for c in api.changes] == ["/routes/products/hold", "/routes/products/release"]
    assert dict(seeded.read_holds().holds) == {}
    assert seeded.table_version() == 1
    assert not (tmp_path / "commands.jsonl").exists()


def test_a_route_change_goes_on_only_once_every_replica_serves_it(plan, control_url, seeded):
    slow = [Replica(control_url, f"host-{n}/0", delay=0.3) for n in "abc"]
    try:
        with admin_stand_in(seeded) as (admin, _):
            move_to(plan, CANARY, current=SHADOW, actions=live(plan, admin, seeded))
        served = {member.replica: member.table_version for member in seeded.replicas()}
    finally:
        for member in slow:
            member.stop()

    assert seeded.table_version() == 2
    assert served == {"host-a/0": 2, "host-b/0": 2, "host-c/0": 2}


def test_a_route_change_a_replica_does_not_take_fails_the_step_and_is_put_back(plan, seeded, fleet):
    with admin_stand_in(seeded) as (admin, api), pytest.raises(StepFailed) as failed:
        move_to(plan, CANARY, current=SHADOW, actions=live(plan, admin, seeded))

    message = str(failed.value)
    assert message.startswith("route table version 2 (routes products: mode canary): not ")
    assert "host-b/0 (table 1, holds 0)" in message
    assert "; put back, but route table version 3 (routes products: mode shadow)" in message
    assert [c.body["mode"] for c in api.changes] == ["canary", "shadow"]
    assert mode_of_products(seeded) == "shadow"


def test_a_rollback_a_replica_does_not_take_stays_rolled_back(plan, seeded, fleet):
    lagging = pytest.raises(FleetNotConverged, match="host-b/0")
    with admin_stand_in(seeded) as (admin, api), lagging:
        move_to(plan, SHADOW, current=CANARY, actions=live(plan, admin, seeded), put_back=False)

    assert [c.body["mode"] for c in api.changes] == ["shadow"]


def test_the_plans_changes_carry_the_plan_and_the_operator_as_the_actor(plan, control_url, seeded):
    member = Replica(control_url, "host-a/0")
    try:
        with admin_stand_in(seeded) as (admin, api):
            move_to(plan, CANARY, current=SHADOW, actions=live(plan, admin, seeded))
    finally:
        member.stop()

    assert {c.headers["X-Strangler-Actor"] for c in api.changes} == {"plan:demo by ana"}
    assert [(a.actor, a.action) for a in seeded.audit()][-1] == ("plan:demo by ana", "set")


def test_with_a_store_but_no_replica_in_it_a_change_is_not_taken_as_served(plan, seeded):
    with admin_stand_in(seeded) as (admin, _):
        actions = live(plan, admin, seeded)
        with pytest.raises(FleetNotConverged, match="no proxy replica is a member of the fleet"):
            actions.set_routes(mode="canary", percent=10, fallback=True, writer="legacy")


def test_a_release_some_replica_did_not_acknowledge_is_noted_not_failed(plan, seeded, fleet):
    with admin_stand_in(seeded) as (admin, _):
        actions = live(plan, admin, seeded)
        actions.release_writes()

    assert actions.log[-1] == "writes released"
    assert "host-b/0" in actions.log[0]
