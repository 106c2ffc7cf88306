"""``plan status``, ``plan next`` and ``plan rollback``: the state machine over a plan.

``next`` applies exactly one step, and only when the current step's gate has passed on
figures measured since that step began; ``rollback`` returns the routes and the sync's
direction to the last safe step (one where the monolith still answers every request).
Every transition, refused or done, is recorded with who, when and the figures; a step
applied or rolled back is also entered in the route table's audit trail (``audit``,
:mod:`strangler.plans.audit`), beside the route changes it made.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from strangler.plans.figures import Measurement, RouteSides, Snapshot, measure
from strangler.plans.gates import GateResult, evaluate
from strangler.plans.schema import Plan, Step
from strangler.plans.state import PendingStep, PlanState, open_state
from strangler.plans.steps import OPERATIONS, operation
from strangler.plans.targets import BEFORE_FIRST_STEP, Actions, StepFailed, Target

if TYPE_CHECKING:
    from strangler.control import ControlStore
    from strangler.plans.audit import PlanAudit

__all__ = ["Outcome", "PlanStatus", "advance", "plan_status", "rollback"]


@dataclass(frozen=True)
class PlanStatus:
    plan: str
    current: int
    steps: list[dict[str, Any]]
    gate: GateResult | None
    figures: dict[str, Measurement]
    pending: dict[str, Any] | None
    """The interrupted move, as the state file holds it (:meth:`PendingStep.as_json`)."""
    errors: list[str]
    history: list[dict[str, Any]]
    routes: dict[str, RouteSides] = field(default_factory=dict)
    """Each of the plan's routes: its read side(s) and write owner, as the proxy has them."""


@dataclass
class Outcome:
    done: bool
    message: str
    changes: list[str] = field(default_factory=list)
    gate: GateResult | None = None


def _step(plan: Plan, index: int) -> Step | None:
    return plan.steps[index] if 0 <= index < len(plan.steps) else None


def _target(plan: Plan, index: int) -> Target:
    """What the step at ``index`` leaves in place (-1: what there was before the first)."""
    step = _step(plan, index)
    return BEFORE_FIRST_STEP if step is None else operation(plan, step).target


def _gate(
    plan: Plan, state: PlanState, now: Snapshot
) -> tuple[GateResult | None, dict[str, Measurement]]:
    step = _step(plan, state.current)
    if step is None:
        return None, {}
    since = Snapshot.from_json(state.baseline) if state.baseline else now
    figures = measure(plan, since=since, now=now)
    seconds = time.time() - (state.step_started_at or time.time())
    return evaluate(step.gate, figures, step_seconds=seconds), figures


def plan_status(
    plan: Plan, *, state_dir: Path, now: Snapshot, store: ControlStore | None = None
) -> PlanStatus:
    with open_state(plan.name, state_dir=state_dir, store=store) as (state, _save):
        gate, figures = _gate(plan, state, now)
        steps = [
            {
                "index": i,
                "name": step.name,
                "kind": step.kind,
                "state": "done"
                if i < state.current
                else "current"
                if i == state.current
                else "next"
                if i == state.current + 1
                else "pending",
            }
            for i, step in enumerate(plan.steps)
        ]
        return PlanStatus(
            plan=plan.name,
            current=state.current,
            steps=steps,
            gate=gate,
            figures=figures,
            pending=state.pending.as_json() if state.pending else None,
            errors=list(now.errors),
            history=[vars(t) for t in state.history[-10:]],
            routes=dict(now.routes),
        )


def advance(
    plan: Plan,
    *,
    state_dir: Path,
    now: Snapshot,
    actions: Actions,
    dry_run: bool,
    take_snapshot: Any,
    store: ControlStore | None = None,
    audit: PlanAudit | None = None,
) -> Outcome:
    """Apply the next step if the current one's gate passes (or resume an interrupted one).

    ``store``: the shared control store holding the plan's state, else its file in
    ``state_dir``. ``audit``: records the step applied in the route table's audit trail."""
    with open_state(plan.name, state_dir=state_dir, store=store) as (state, save):
        interrupted = state.pending if state.pending and state.pending.action == "next" else None
        resuming = interrupted is not None
        if interrupted is not None:
            index = interrupted.to
            gate = None
        else:
            index = state.current + 1
            if index >= len(plan.steps):
                return Outcome(False, f"plan {plan.name} is complete: nothing to do")
            gate, figures = _gate(plan, state, now)
            if gate is not None and gate.verdict != "passed":
                current = plan.steps[state.current].name
                if not dry_run:
                    state.record(
                        action="refused",
                        from_step=current,
                        to_step=plan.steps[index].name,
                        verdict=gate.verdict,
                        reason=gate.reason,
                        figures={k: vars(v) for k, v in figures.items()},
                    )
                    save()
                return Outcome(
                    False, f"gate of {current!r} {gate.verdict}: {gate.reason}", gate=gate
                )
        step = plan.steps[index]
        changes = operation(plan, step).describe()
        if dry_run:
            return Outcome(False, f"would apply step {step.name!r}", changes=changes, gate=gate)
        from_name = _name(plan, state.current)
        # The step's window opens before its changes: what they cause (a reconcile's report,
        # the first shadowed requests) belongs to the step.
        began, baseline = time.time(), take_snapshot()
        state.pending = PendingStep(action="next", to=index, since=began)
        save()
        try:
            operation(plan, step).apply(current=_target(plan, state.current), actions=actions)
        except StepFailed as exc:
            state.pending = None
            state.record(
                action="failed",
                from_step=from_name,
                to_step=step.name,
                verdict=gate.verdict if gate else None,
                reason=str(exc),
            )
            save()
            return Outcome(False, f"step {step.name!r} failed: {exc}", changes=changes)
        state.current = index
        state.step_started_at = began
        state.baseline = baseline.as_json()
        state.pending = None
        state.record(
            action="next",
            from_step=from_name,
            to_step=step.name,
            verdict=gate.verdict if gate else "resumed" if resuming else None,
            reason=gate.reason if gate else "first step" if index == 0 else "resumed",
        )
        save()
        message = _audited(audit, "next", from_name, step.name, f"applied step {step.name!r}")
        return Outcome(True, message, changes=changes, gate=gate)


def rollback(
    plan: Plan,
    *,
    state_dir: Path,
    actions: Actions,
    take_snapshot: Any,
    store: ControlStore | None = None,
    audit: PlanAudit | None = None,
) -> Outcome:
    """Return routes and sync direction to the last safe step before the current one."""
    with open_state(plan.name, state_dir=state_dir, store=store) as (state, save):
        current = state.current
        if state.pending is not None and state.pending.action == "next":
            current = state.pending.to  # undo the interrupted step too
        if current < 0:
            return Outcome(False, f"plan {plan.name} has not started: nothing to roll back")
        safe = next(
            (i for i in range(current - 1, -1, -1) if OPERATIONS[plan.steps[i].kind].safe), -1
        )
        began, baseline = time.time(), take_snapshot()
        state.pending = PendingStep(action="rollback", to=safe, since=began)
        save()
        try:
            undone = operation(plan, plan.steps[current])
            undone.reverse(to=_target(plan, safe), actions=actions)
        except StepFailed as exc:
            state.pending = None
            state.record(
                action="failed",
                from_step=_name(plan, current),
                to_step=_name(plan, safe),
                verdict=None,
                reason=str(exc),
            )
            save()
            return Outcome(False, f"rollback failed: {exc}")
        # The step landed on gets its own measurement again: a gate counts only what was
        # measured since its step began, and a verify gate would otherwise wait forever.
        reason, unmeasured = "rolled back to the last safe step", ""
        landed = _step(plan, safe)
        if landed is not None:
            try:
                operation(plan, landed).measure(actions)
            except StepFailed as exc:
                unmeasured = f"; re-measuring {landed.name!r} failed: {exc}"
        state.current = safe
        state.step_started_at = began
        state.baseline = baseline.as_json()
        state.pending = None
        state.record(
            action="rollback",
            from_step=_name(plan, current),
            to_step=_name(plan, safe),
            verdict=None,
            reason=reason + unmeasured,
        )
        save()
        message = (
            f"rolled back from {_name(plan, current)!r} to "
            f"{_name(plan, safe) or 'before the first step'!r}{unmeasured}"
        )
        return Outcome(
            True, _audited(audit, "rollback", _name(plan, current), _name(plan, safe), message)
        )


def _audited(
    audit: PlanAudit | None, action: str, before: str | None, after: str | None, message: str
) -> str:
    """``message``, with why the audit trail missed the transition when it did."""
    warning = audit(action, before, after) if audit is not None else None
    return message if warning is None else f"{message} (warning: {warning})"


def _name(plan: Plan, index: int) -> str | None:
    step = _step(plan, index)
    return step.name if step else None
