"""The plan's state on disk: one JSON file per plan, its format kept across versions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from strangler.plans.state import PendingStep, PlanState, locked_state

# A state file as written before the pending step was a dataclass: it must load and be
# written back the same.
OLD_STATE = {
    "plan": "catalog",
    "current": 2,
    "step_started_at": 1700000000.5,
    "baseline": {"taken_at": 1700000000.5},
    "pending": {"action": "next", "to": 3, "since": 1700000100.25},
    "history": [
        {
            "at": "2024-01-01T00:00:00+00:00",
            "who": "ops",
            "action": "next",
            "from_step": "sync",
            "to_step": "verify",
            "verdict": "passed",
            "reason": "every condition holds",
            "figures": {},
        }
    ],
}


def test_a_pending_step_reads_from_and_writes_to_the_same_json():
    data = {"action": "rollback", "to": -1, "since": 12.5}
    pending = PendingStep.from_json(data)
    assert pending == PendingStep(action="rollback", to=-1, since=12.5)
    assert pending.as_json() == data


def test_a_pending_step_with_an_unknown_action_is_refused():
    with pytest.raises(ValueError, match=r"pending\.action"):
        PendingStep.from_json({"action": "sideways", "to": 1, "since": 0})


def test_a_state_file_of_the_earlier_format_loads_and_saves_unchanged(tmp_path: Path):
    (tmp_path / "catalog.json").write_text(json.dumps(OLD_STATE), encoding="utf-8")
    with locked_state(tmp_path, "catalog") as (state, save):
        assert state.pending == PendingStep(action="next", to=3, since=1700000100.25)
        save()
    assert json.loads((tmp_path / "catalog.json").read_text(encoding="utf-8")) == OLD_STATE


def test_a_state_without_a_pending_step_saves_it_as_null(tmp_path: Path):
    with locked_state(tmp_path, "fresh") as (state, save):
        assert state == PlanState(plan="fresh")
        save()
    saved = json.loads((tmp_path / "fresh.json").read_text(encoding="utf-8"))
    assert saved["pending"] is None
    assert saved["current"] == -1
