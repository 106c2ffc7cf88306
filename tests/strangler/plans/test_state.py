"""The plan's state: one JSON document per plan, in a file or in the shared control store,
its format kept across versions and the same in both."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from strangler.plans.state import (
    PendingStep,
    PlanState,
    locked_state,
    locked_store_state,
    open_state,
)
from tests.strangler.plans.fleet import control, control_url

# Imported for pytest to find them here: fleet says why they are not in conftest.
FIXTURES = (control, control_url)

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


# in the shared control store (a real PostgreSQL)


def test_a_state_in_the_store_loads_and_saves_the_document_a_file_holds(control, tmp_path: Path):
    (tmp_path / "catalog.json").write_text(json.dumps(OLD_STATE), encoding="utf-8")
    with control.plan_state("catalog") as (_, save):
        save(OLD_STATE)

    with locked_store_state(control, "catalog") as (in_store, save_in_store):
        in_store.current = 3
        save_in_store()
    with locked_state(tmp_path, "catalog") as (in_file, save_in_file):
        in_file.current = 3
        save_in_file()

    saved_file = json.loads((tmp_path / "catalog.json").read_text(encoding="utf-8"))
    assert control.plan_states()["catalog"] == saved_file == {**OLD_STATE, "current": 3}


def test_with_a_store_the_state_is_opened_there_and_no_file_is_made(control, tmp_path: Path):
    directory = tmp_path / "state"
    with open_state("fresh", state_dir=directory, store=control) as (state, save):
        assert state == PlanState(plan="fresh")
        state.current = 0
        save()
    with open_state("fresh", state_dir=directory, store=control) as (again, _):
        assert again.current == 0

    assert not directory.exists()
    assert control.plan_states()["fresh"]["current"] == 0


def test_without_a_store_the_state_is_its_file(tmp_path: Path):
    with open_state("fresh", state_dir=tmp_path, store=None) as (state, save):
        state.current = 1
        save()

    assert json.loads((tmp_path / "fresh.json").read_text(encoding="utf-8"))["current"] == 1
