"""Plan steps as operations: every kind of step has one, and each says what it targets,
describes itself, applies itself and reverses itself.

The proxy and the sync nodes are stood in for by a recorder of the changes asked of them.
"""

from __future__ import annotations

import pytest

from strangler.plans.schema import STEP_KINDS, Plan
from strangler.plans.steps import OPERATIONS, Canary, Operation, Sync, operation
from strangler.plans.targets import BEFORE_FIRST_STEP, Target
from tests.strangler.plans.factories import Recorder

NODE = {"url": "http://127.0.0.1:1", "manage": "true"}
# The sync step's gate reads a reconcile figure: it measures one, although its kind does not.
RECONCILE_GATE = {"conditions": [{"figure": "reconcile_diverged", "max": 0}]}


def _step(kind: str) -> dict[str, object]:
    if kind == "canary":
        return {"kind": kind, "percent": 25}
    if kind == "sync":
        return {"kind": kind, "gate": RECONCILE_GATE}
    return {"kind": kind}


@pytest.fixture
def plan() -> Plan:
    """One step of every kind, in the order the schema requires."""
    return Plan.model_validate(
        {
            "name": "demo",
            "routes": ["products", "categories"],
            "service": "catalog",
            "models": ["catalog.Product"],
            "cutover_hold_seconds": 3,
            "nodes": {"monolith": NODE, "catalog": NODE},
            "steps": [_step(kind) for kind in STEP_KINDS],
        }
    )


def op(plan: Plan, kind: str) -> Operation:
    [step] = [s for s in plan.steps if s.kind == kind]
    return operation(plan, step)


def test_every_kind_of_step_in_the_plan_schema_has_an_operation():
    assert sorted(OPERATIONS) == sorted(STEP_KINDS)
    assert all(cls.kind == kind for kind, cls in OPERATIONS.items())


def test_a_rollback_lands_only_on_steps_after_which_the_monolith_answers_everything():
    safe = {kind for kind, cls in OPERATIONS.items() if cls.safe}
    assert safe == {"backfill", "sync", "verify", "shadow"}


@pytest.mark.parametrize(
    ("kind", "target"),
    [
        ("backfill", BEFORE_FIRST_STEP),
        ("sync", BEFORE_FIRST_STEP),
        ("verify", BEFORE_FIRST_STEP),
        ("shadow", Target("shadow", None, True, "forward")),
        ("canary", Target("canary", 25, True, "forward")),
        ("cutover", Target("service", None, True, "reverse")),
        ("reverse_sync", Target("service", None, True, "reverse")),
        ("decommission", Target("service", None, False, "reverse")),
    ],
)
def test_each_kind_targets_its_routes_mode_and_sync_direction(plan, kind, target):
    assert op(plan, kind).target == target


def test_the_write_owner_follows_the_sync_direction(plan):
    assert op(plan, "canary").target.writer == "legacy"
    assert op(plan, "cutover").target.writer == "service"


def test_a_canary_describes_its_percentage_and_the_routes_it_moves(plan):
    assert op(plan, "canary").describe() == [
        "routes products, categories: mode canary, 25% of users to catalog"
    ]


def test_a_cutover_describes_its_whole_sequence_with_its_hold_bound(plan):
    lines = op(plan, "cutover").describe()
    assert lines[0] == "hold writes to products, categories at the proxy (at most 3 s)"
    assert lines[1] == "wait until the writes sent before the hold are answered"
    assert lines[-1] == "release the held writes"
    assert len(lines) == 7


def test_every_kind_describes_itself(plan):
    for step in plan.steps:
        assert operation(plan, step).describe()


def test_a_backfill_starts_the_stream_and_copies_before_the_routes_are_set(plan):
    actions = Recorder()
    op(plan, "backfill").apply(current=BEFORE_FIRST_STEP, actions=actions)
    assert actions.calls == [
        ("stream", "forward", True),
        ("backfill",),
        ("routes", "monolith", None, True, "legacy"),
    ]


def test_verify_measures_with_a_reconcile_in_its_direction(plan):
    actions = Recorder()
    op(plan, "verify").apply(current=BEFORE_FIRST_STEP, actions=actions)
    assert actions.calls == [
        ("reconcile", "forward", False),
        ("routes", "monolith", None, True, "legacy"),
    ]


def test_any_step_whose_gate_reads_reconcile_figures_runs_a_reconcile(plan):
    actions = Recorder()
    sync = op(plan, "sync")
    assert isinstance(sync, Sync)
    sync.measure(actions)
    assert actions.calls == [("reconcile", "forward", False)]


def test_a_step_without_a_measurement_of_its_own_measures_nothing(plan):
    actions = Recorder()
    canary = op(plan, "canary")
    assert isinstance(canary, Canary)
    canary.measure(actions)
    assert actions.calls == []


def test_reverse_sync_turns_the_stream_back_on_and_reconciles_it(plan):
    actions = Recorder()
    current = op(plan, "cutover").target
    op(plan, "reverse_sync").apply(current=current, actions=actions)
    assert actions.calls == [
        ("stream", "reverse", True),
        ("reconcile", "reverse", False),
        ("routes", "service", None, True, "service"),
    ]


def test_reversing_a_canary_returns_the_routes_to_the_earlier_target(plan):
    actions = Recorder()
    op(plan, "canary").reverse(to=op(plan, "shadow").target, actions=actions)
    assert actions.calls == [("routes", "shadow", None, True, "legacy")]
