"""The plan state machine: one step per `next`, only through passed gates; rollback to the
last safe step; interrupted steps resume; every transition recorded.

The proxy and the sync nodes are stood in for by a recorder of the changes asked of them
(the live ones are exercised end to end in tests/e2e); figures are given as snapshots.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from strangler.plans import targets
from strangler.plans.figures import RouteCounts, Snapshot, StreamState
from strangler.plans.runner import advance, plan_status, rollback
from strangler.plans.schema import load_plan
from strangler.plans.steps import StepFailed
from strangler.plans.targets import FleetNotConverged
from tests.strangler.plans.factories import Recorder
from tests.strangler.plans.fleet import control, control_url

# Imported for pytest to find them here: fleet says why they are not in conftest.
FIXTURES = (control, control_url)

PLAN = """
name: demo
routes: [products]
service: catalog
models: [catalog.Product]
cutover_hold_seconds: 1
nodes:
  monolith: {url: "http://127.0.0.1:1", manage: "true"}
  catalog: {url: "http://127.0.0.1:1", manage: "true"}
steps:
  - kind: sync
    gate: {conditions: [{figure: sync_lag_seconds, max: 5}]}
  - kind: shadow
    gate: {conditions: [{figure: shadow_difference_rate, max: 0.01, min_count: 10}]}
  - kind: canary
    percent: 20
  - kind: cutover
  - kind: decommission
"""


def snapshot(*, lag: float | None = 0.5, match: float = 0, mismatch: float = 0) -> Snapshot:
    forward = StreamState(True, "", 0, lag, 0, None, None) if lag is not None else None
    proxy = RouteCounts(shadow_match=match, shadow_mismatch=mismatch)
    return Snapshot(taken_at=0.0, proxy=proxy, forward=forward, reverse=None)


@pytest.fixture
def plan(tmp_path: Path):
    path = tmp_path / "demo.yaml"
    path.write_text(PLAN, encoding="utf-8")
    return load_plan(path)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


def step(plan, state_dir, actions, now, *, dry_run=False, baseline=None):
    return advance(
        plan,
        state_dir=state_dir,
        now=now,
        actions=actions,
        dry_run=dry_run,
        take_snapshot=lambda: baseline or snapshot(),
    )


def history(state_dir: Path) -> list[dict]:
    return json.loads((state_dir / "demo.json").read_text())["history"]


def test_the_first_next_applies_the_first_step_and_records_who_and_when(plan, state_dir):
    actions = Recorder()
    outcome = step(plan, state_dir, actions, snapshot())
    assert outcome.done
    assert ("stream", "forward", True) in actions.calls
    [entry] = history(state_dir)
    assert entry["action"] == "next"
    assert entry["to_step"] == "sync"
    assert entry["who"]
    assert entry["at"]


def test_next_is_refused_while_the_gate_has_no_data_and_nothing_changes(plan, state_dir):
    step(plan, state_dir, Recorder(), snapshot())
    actions = Recorder()
    outcome = step(plan, state_dir, actions, snapshot(lag=None))
    assert not outcome.done
    assert outcome.gate is not None
    assert outcome.gate.verdict == "inconclusive"
    assert actions.calls == []
    assert history(state_dir)[-1]["action"] == "refused"


def test_next_is_refused_when_a_figure_is_bad(plan, state_dir):
    step(plan, state_dir, Recorder(), snapshot())
    outcome = step(plan, state_dir, Recorder(), snapshot(lag=60))
    assert outcome.gate is not None
    assert outcome.gate.verdict == "failed"
    assert plan_status(plan, state_dir=state_dir, now=snapshot()).current == 0


def test_a_passed_gate_lets_exactly_one_step_through(plan, state_dir):
    step(plan, state_dir, Recorder(), snapshot())
    actions = Recorder()
    assert step(plan, state_dir, actions, snapshot(lag=1)).done
    assert actions.calls == [("routes", "shadow", None, True, "legacy")]
    assert plan_status(plan, state_dir=state_dir, now=snapshot()).current == 1


def test_shadow_differences_are_measured_from_the_step_start(plan, state_dir):
    step(plan, state_dir, Recorder(), snapshot())
    step(plan, state_dir, Recorder(), snapshot(), baseline=snapshot(match=1000, mismatch=50))
    # 20 comparisons during the step, 2 of them different: 10 % > 1 %
    outcome = step(plan, state_dir, Recorder(), snapshot(match=1018, mismatch=52))
    assert outcome.gate is not None
    assert outcome.gate.verdict == "failed"
    outcome = step(plan, state_dir, Recorder(), snapshot(match=1020, mismatch=50))
    assert outcome.done


def test_dry_run_describes_the_step_and_changes_nothing(plan, state_dir):
    actions = Recorder()
    outcome = step(plan, state_dir, actions, snapshot(), dry_run=True)
    assert not outcome.done
    assert outcome.changes == ["keep the sync monolith -> catalog running; routes unchanged"]
    assert actions.calls == []
    assert not (state_dir / "demo.json").exists()


def test_cutover_holds_writes_drains_reverifies_flips_and_releases(plan, state_dir):
    for _ in range(3):
        step(plan, state_dir, Recorder(), snapshot(match=100))
    actions = Recorder()
    assert step(plan, state_dir, actions, snapshot()).done
    assert actions.calls == [
        ("hold",),
        ("drained", "forward"),
        ("reconcile", "forward", True),
        # The stream back first: the proxy refuses a write owner whose writes go nowhere.
        ("stream", "reverse", True),
        ("routes", "service", None, True, "service"),
        ("release",),
    ]


def test_a_cutover_that_cannot_drain_releases_writes_with_ownership_unchanged(plan, state_dir):
    for _ in range(3):
        step(plan, state_dir, Recorder(), snapshot(match=100))
    actions = Recorder(drains=False)
    outcome = step(plan, state_dir, actions, snapshot())
    assert not outcome.done
    assert "did not drain" in outcome.message
    assert actions.calls[0] == ("hold",)
    assert actions.calls[-1] == ("release",)
    assert not [c for c in actions.calls if c[0] in ("routes", "stream")]
    assert plan_status(plan, state_dir=state_dir, now=snapshot()).current == 2
    assert history(state_dir)[-1]["action"] == "failed"


def test_a_cutover_drains_only_once_the_writes_sent_before_its_hold_are_answered(plan, state_dir):
    for _ in range(3):
        step(plan, state_dir, Recorder(), snapshot(match=100))
    in_flight = "http://127.0.0.1:8001: 1 unanswered"
    actions = Recorder(unanswered=[in_flight, in_flight])
    assert step(plan, state_dir, actions, snapshot()).done
    assert len(actions.unanswered_asked_at) == 3
    # The heartbeat the drain waits for is one written after the last write was answered.
    assert min(actions.drained_since) >= actions.unanswered_asked_at[-1]
    assert [c[0] for c in actions.calls] == [
        "hold", "drained", "reconcile", "stream", "routes", "release"
    ]  # fmt: skip


def test_a_cutover_whose_writes_in_flight_stay_unanswered_flips_nothing(plan, state_dir):
    for _ in range(3):
        step(plan, state_dir, Recorder(), snapshot(match=100))
    actions = Recorder(stuck="http://127.0.0.1:8001: 2 unanswered")
    outcome = step(plan, state_dir, actions, snapshot())
    assert not outcome.done
    assert "writes sent before the hold were not all answered within 1 s" in outcome.message
    assert "http://127.0.0.1:8001: 2 unanswered" in outcome.message
    assert actions.calls == [("hold",), ("release",)]  # not drained, nothing flipped
    assert plan_status(plan, state_dir=state_dir, now=snapshot()).current == 2


class SlowAt(Recorder):
    """A recorder one of whose calls (``drained`` or ``reconcile``) outlasts the plan's
    1 s hold: the clock the move reads jumps 5 s while it runs."""

    def __init__(self, slow: str, clock: SimpleNamespace) -> None:
        super().__init__()
        self.slow, self.clock = slow, clock

    def drained(self, direction, *, since):
        self.clock.now += 5 if self.slow == "drained" else 0
        return super().drained(direction, since=since)

    def reconcile(self, direction, *, changed_only=False):
        self.clock.now += 5 if self.slow == "reconcile" else 0
        return super().reconcile(direction, changed_only=changed_only)


@pytest.mark.parametrize(
    ("slow", "when", "calls"),
    [
        ("drained", "before the reconcile", ["hold", "drained", "release"]),
        ("reconcile", "before the routes could be flipped",
         ["hold", "drained", "reconcile", "release"]),
    ],
)  # fmt: skip
def test_a_cutover_whose_hold_ran_out_flips_nothing(
    plan, state_dir, monkeypatch, slow, when, calls
):
    for _ in range(3):
        step(plan, state_dir, Recorder(), snapshot(match=100))
    clock = SimpleNamespace(now=1000.0)
    fake_time = SimpleNamespace(monotonic=lambda: clock.now, time=time.time, sleep=time.sleep)
    monkeypatch.setattr(targets, "time", fake_time)
    actions = SlowAt(slow, clock)

    outcome = step(plan, state_dir, actions, snapshot())

    assert not outcome.done
    assert f"the write hold (1 s) ran out {when}" in outcome.message
    assert [c[0] for c in actions.calls] == calls  # released, nothing flipped
    assert plan_status(plan, state_dir=state_dir, now=snapshot()).current == 2


def test_a_cutover_with_differences_after_draining_is_not_made(plan, state_dir):
    for _ in range(3):
        step(plan, state_dir, Recorder(), snapshot(match=100))
    actions = Recorder(diverged=2)
    outcome = step(plan, state_dir, actions, snapshot())
    assert "2 row(s) differ" in outcome.message
    assert not [c for c in actions.calls if c[0] in ("routes", "stream")]


def test_a_cutover_whose_hold_a_replica_did_not_acknowledge_flips_nothing_and_releases(
    plan, state_dir
):
    for _ in range(3):
        step(plan, state_dir, Recorder(), snapshot(match=100))
    lagging = FleetNotConverged("the write hold on products: not acknowledged by host-b/0")
    actions = Recorder(fails={"hold": [lagging]})

    outcome = step(plan, state_dir, actions, snapshot())

    assert not outcome.done
    assert outcome.message == f"step 'cutover' failed: {lagging}"
    assert actions.calls == [("hold",), ("release",)]
    assert plan_status(plan, state_dir=state_dir, now=snapshot()).current == 2
    assert history(state_dir)[-1]["action"] == "failed"


def test_a_canary_a_replica_did_not_take_is_put_back_where_the_plan_stands(plan, state_dir):
    for _ in range(2):
        step(plan, state_dir, Recorder(), snapshot(match=100))
    actions = Recorder(fails={"routes": [FleetNotConverged("host-b/0 serves version 3")]})

    outcome = step(plan, state_dir, actions, snapshot(match=100), baseline=snapshot())

    assert outcome.message == "step 'canary-20' failed: host-b/0 serves version 3"
    assert actions.calls == [
        ("routes", "canary", 20, True, "legacy"),
        ("routes", "shadow", None, True, "legacy"),
    ]
    assert plan_status(plan, state_dir=state_dir, now=snapshot()).current == 1


def test_a_put_back_the_fleet_did_not_take_either_says_both(plan, state_dir):
    for _ in range(2):
        step(plan, state_dir, Recorder(), snapshot(match=100))
    actions = Recorder(
        fails={"routes": [FleetNotConverged("version 3 lags"), FleetNotConverged("version 4 lags")]}
    )

    outcome = step(plan, state_dir, actions, snapshot(match=100), baseline=snapshot())

    assert (
        outcome.message == "step 'canary-20' failed: version 3 lags; put back, but version 4 lags"
    )


def test_a_rollback_a_replica_did_not_take_is_not_undone(plan, state_dir):
    for _ in range(3):
        step(plan, state_dir, Recorder(), snapshot(match=100))
    actions = Recorder(fails={"routes": [FleetNotConverged("host-b/0 lags")]})

    outcome = rollback(plan, state_dir=state_dir, actions=actions, take_snapshot=snapshot)

    assert outcome.message == "rollback failed: host-b/0 lags"
    assert actions.calls == [("routes", "shadow", None, True, "legacy")]


def test_rollback_from_a_canary_returns_to_shadow(plan, state_dir):
    for _ in range(3):
        step(plan, state_dir, Recorder(), snapshot(match=100))
    actions = Recorder()
    outcome = rollback(plan, state_dir=state_dir, actions=actions, take_snapshot=snapshot)
    assert outcome.done
    assert actions.calls == [("routes", "shadow", None, True, "legacy")]
    assert plan_status(plan, state_dir=state_dir, now=snapshot()).current == 1


def test_rollback_after_cutover_drains_the_service_and_gives_writes_back(plan, state_dir):
    for _ in range(4):
        step(plan, state_dir, Recorder(), snapshot(match=100))
    actions = Recorder()
    assert rollback(plan, state_dir=state_dir, actions=actions, take_snapshot=snapshot).done
    assert actions.calls == [
        ("hold",),
        ("drained", "reverse"),
        ("reconcile", "reverse", True),
        ("routes", "shadow", None, True, "legacy"),
        ("stream", "reverse", False),
        ("release",),
    ]
    assert history(state_dir)[-1]["action"] == "rollback"


class Crash(Exception):
    pass


class CrashingRecorder(Recorder):
    def set_routes(self, *, mode, percent, fallback, writer):
        raise Crash


def test_a_step_interrupted_by_a_crash_is_resumed_by_the_next_next(plan, state_dir):
    step(plan, state_dir, Recorder(), snapshot())
    with pytest.raises(Crash):
        step(plan, state_dir, CrashingRecorder(), snapshot(lag=1))
    status = plan_status(plan, state_dir=state_dir, now=snapshot())
    assert status.pending is not None
    assert status.pending["to"] == 1
    actions = Recorder()
    outcome = step(plan, state_dir, actions, snapshot(lag=None))  # no gate on a resume
    assert outcome.done
    assert actions.calls == [("routes", "shadow", None, True, "legacy")]


def test_a_step_interrupted_by_a_crash_can_be_rolled_back(plan, state_dir):
    step(plan, state_dir, Recorder(), snapshot())
    with pytest.raises(Crash):
        step(plan, state_dir, CrashingRecorder(), snapshot(lag=1))
    actions = Recorder()
    assert rollback(plan, state_dir=state_dir, actions=actions, take_snapshot=snapshot).done
    assert actions.calls == [("routes", "monolith", None, True, "legacy")]
    assert plan_status(plan, state_dir=state_dir, now=snapshot()).pending is None


def test_a_finished_plan_has_nothing_to_do(plan, state_dir):
    for _ in range(5):
        assert step(plan, state_dir, Recorder(), snapshot(match=100)).done
    outcome = step(plan, state_dir, Recorder(), snapshot())
    assert not outcome.done
    assert "complete" in outcome.message


VERIFIED_PLAN = """
name: verified
routes: [products]
service: catalog
models: [catalog.Product]
cutover_hold_seconds: 1
nodes:
  monolith: {url: "http://127.0.0.1:1", manage: "true"}
  catalog: {url: "http://127.0.0.1:1", manage: "true"}
steps:
  - kind: sync
  - kind: verify
    gate: {conditions: [{figure: reconcile_diverged, max: 0}]}
  - kind: shadow
  - kind: canary
    percent: 20
"""


class ReconcilingNodes(Recorder):
    """The recorder, plus what a node's status reports: when its last reconcile finished."""

    def __init__(self) -> None:
        super().__init__()
        self.reconciled_at: float | None = None

    def reconcile(self, direction, *, changed_only=False):
        self.reconciled_at = time.time()
        return super().reconcile(direction, changed_only=changed_only)

    def snapshot(self) -> Snapshot:
        forward = StreamState(True, "", 0, 0.5, 0, self.reconciled_at, 0)
        return Snapshot(taken_at=time.time(), proxy=RouteCounts(), forward=forward, reverse=None)


def test_a_rollback_that_lands_on_verify_reconciles_again_so_its_gate_can_pass(tmp_path):
    path = tmp_path / "verified.yaml"
    path.write_text(VERIFIED_PLAN, encoding="utf-8")
    plan, state_dir, nodes = load_plan(path), tmp_path / "state", ReconcilingNodes()

    def next_step():
        return advance(
            plan, state_dir=state_dir, now=nodes.snapshot(), actions=nodes, dry_run=False,
            take_snapshot=nodes.snapshot,
        )  # fmt: skip

    for _ in range(3):  # sync, verify, shadow
        assert next_step().done
    nodes.calls.clear()

    outcome = rollback(plan, state_dir=state_dir, actions=nodes, take_snapshot=nodes.snapshot)

    assert outcome.message == "rolled back from 'shadow' to 'verify'"
    assert nodes.calls == [
        ("routes", "monolith", None, True, "legacy"),
        ("reconcile", "forward", False),
    ]
    gate = plan_status(plan, state_dir=state_dir, now=nodes.snapshot()).gate
    assert gate is not None
    assert (gate.verdict, gate.reason) == ("passed", "every condition holds")
    assert next_step().done


class FailingReconcile(ReconcilingNodes):
    def reconcile(self, direction, *, changed_only=False):
        raise StepFailed("catalog: connection refused")


def test_a_rollback_whose_remeasure_fails_is_done_and_says_so(tmp_path):
    path = tmp_path / "verified.yaml"
    path.write_text(VERIFIED_PLAN, encoding="utf-8")
    plan, state_dir, nodes = load_plan(path), tmp_path / "state", ReconcilingNodes()
    for _ in range(3):
        advance(
            plan, state_dir=state_dir, now=nodes.snapshot(), actions=nodes, dry_run=False,
            take_snapshot=nodes.snapshot,
        )  # fmt: skip

    outcome = rollback(
        plan, state_dir=state_dir, actions=FailingReconcile(), take_snapshot=nodes.snapshot
    )

    assert outcome.done
    assert "re-measuring 'verify' failed: catalog: connection refused" in outcome.message
    assert plan_status(plan, state_dir=state_dir, now=nodes.snapshot()).current == 1
    [*_, last] = json.loads((state_dir / "verified.json").read_text())["history"]
    assert "re-measuring 'verify' failed" in last["reason"]


def test_a_plan_moved_with_the_shared_store_keeps_its_state_there(plan, state_dir, control):
    outcome = advance(
        plan, state_dir=state_dir, now=snapshot(), actions=Recorder(), dry_run=False,
        take_snapshot=snapshot, store=control,
    )  # fmt: skip

    status = plan_status(plan, state_dir=state_dir, now=snapshot(), store=control)
    assert outcome.done
    assert (status.current, status.history[-1]["action"]) == (0, "next")
    assert control.plan_states()["demo"]["current"] == 0
    assert not state_dir.exists()
