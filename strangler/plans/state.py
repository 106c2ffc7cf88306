"""Where a plan stands, and every transition it made: one JSON document per plan.

The document lives in a file per plan (one host), or in the shared control store's
``strangler_plan_state`` when ``STRANGLER_STORE_URL`` names one, so operators on any machine
see and move the same plan (:func:`open_state` chooses). The file is replaced atomically and
guarded by a lock, the store's row by the store's lock of the plan, so two operators cannot
move one plan at once. Before a step's changes begin, the document records the step as
``pending``; a crash mid-step leaves that record, and the next ``plan next`` re-applies the
step (every change a step makes is idempotent) while ``plan rollback`` undoes it.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from strangler.proxy_admin import operator

if TYPE_CHECKING:
    from strangler.control import ControlStore

__all__ = [
    "PendingStep",
    "PlanState",
    "Saver",
    "Transition",
    "locked_state",
    "locked_store_state",
    "open_state",
]


@dataclass
class Transition:
    at: str
    who: str
    action: str
    """``next``, ``rollback``, ``refused`` (a gate said no) or ``failed`` (a change failed)."""
    from_step: str | None
    to_step: str | None
    verdict: str | None
    reason: str
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PendingStep:
    """A move whose changes are running, or were when a crash interrupted them."""

    action: Literal["next", "rollback"]
    """``next`` applies the step at ``to``; ``rollback`` returns to the safe step at ``to``."""
    to: int
    """Index of the step moved to; -1 is before the first step."""
    since: float
    """When the changes began (epoch seconds)."""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PendingStep:
        action = data["action"]
        if action not in ("next", "rollback"):
            raise ValueError(f"pending.action: {action!r} is neither 'next' nor 'rollback'")
        return cls(action=action, to=int(data["to"]), since=float(data["since"]))


@dataclass
class PlanState:
    plan: str
    current: int = -1
    """Index of the step in effect; -1 before the first."""
    step_started_at: float | None = None
    baseline: dict[str, Any] | None = None
    """The figures' snapshot when the current step began (gates measure from it)."""
    pending: PendingStep | None = None
    """The move in progress while its changes run; left behind by a crash."""
    history: list[Transition] = field(default_factory=list)

    def record(
        self,
        *,
        action: str,
        from_step: str | None,
        to_step: str | None,
        verdict: str | None,
        reason: str,
        figures: dict[str, Any] | None = None,
    ) -> Transition:
        transition = Transition(
            at=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            who=_who(),
            action=action,
            from_step=from_step,
            to_step=to_step,
            verdict=verdict,
            reason=reason,
            figures=figures or {},
        )
        self.history.append(transition)
        return transition

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlanState:
        history = [Transition(**item) for item in data.get("history", [])]
        pending = data.get("pending")
        return cls(
            plan=str(data["plan"]),
            current=int(data.get("current", -1)),
            step_started_at=data.get("step_started_at"),
            baseline=data.get("baseline"),
            pending=PendingStep.from_json(pending) if pending else None,
            history=history,
        )


def _who() -> str:
    return operator()


Saver = Callable[[], None]
"""Persists the state yielded with it (after a change, before anything else happens)."""


def open_state(
    plan: str, *, state_dir: Path, store: ControlStore | None
) -> contextlib.AbstractContextManager[tuple[PlanState, Saver]]:
    """The plan's state under an exclusive lock, from the one place it lives: the shared
    control store when one is configured (``STRANGLER_STORE_URL``), else its file in
    ``state_dir``. Both hold the same JSON document."""
    if store is not None:
        return locked_store_state(store, plan)
    return locked_state(state_dir, plan)


@contextlib.contextmanager
def locked_store_state(store: ControlStore, plan: str) -> Iterator[tuple[PlanState, Saver]]:
    """The plan's state in the control store (``strangler_plan_state``), under the store's
    lock of that plan: operators on different machines take turns as they do on one."""
    with store.plan_state(plan) as (document, save):
        state = PlanState.from_json(document) if document else PlanState(plan=plan)
        yield state, lambda: save(state.as_json())


@contextlib.contextmanager
def locked_state(directory: Path, plan: str) -> Iterator[tuple[PlanState, Saver]]:
    """The plan's state file under an exclusive lock; call the saver to persist a change."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{plan}.json"
    with (directory / f"{plan}.lock").open("a", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            state = PlanState.from_json(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            state = PlanState(plan=plan)
        yield state, _Saver(path, state)


class _Saver:
    def __init__(self, path: Path, state: PlanState) -> None:
        self._path = path
        self._state = state

    def __call__(self) -> None:
        text = json.dumps(self._state.as_json(), indent=2, sort_keys=True) + "\n"
        fd, staged = tempfile.mkstemp(dir=self._path.parent, prefix=f".{self._path.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(staged, self._path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(staged)
            raise
