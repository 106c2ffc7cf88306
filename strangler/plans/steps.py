"""Plan steps as operations: one class per kind of step, like Django's migration operations.

Each :class:`Operation` says what it targets (the routes' mode and the sync's direction it
leaves in place), describes its changes (``plan next --dry-run``), applies itself forwards
(its one-off work, the measurement its gate reads, then the move to its target) and
reverses itself (back to an earlier safe step's target). Adding a kind of step is one class
here, listed in :data:`OPERATIONS`, plus its name in the plan file's schema
(:data:`strangler.plans.schema.STEP_KINDS`). Every change is idempotent, so a step
interrupted by a crash is simply applied again.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from strangler.plans.schema import Plan, Step, StepKind
from strangler.plans.targets import BEFORE_FIRST_STEP, Actions, StepFailed, Target, move_to

__all__ = [
    "OPERATIONS",
    "Backfill",
    "Canary",
    "Cutover",
    "Decommission",
    "Operation",
    "ReverseSync",
    "Shadow",
    "StepFailed",
    "Sync",
    "Verify",
    "operation",
]


class Operation(ABC):
    """One step of a plan, as the kind of step it is."""

    kind: ClassVar[StepKind]
    safe: ClassVar[bool] = False
    """Whether the monolith still answers every request after this step: a rollback
    returns to the last such step."""
    reconciles: ClassVar[bool] = False
    """Whether the step's own measurement is a reconcile, whatever its gate tests."""

    def __init__(self, plan: Plan, step: Step) -> None:
        self.plan = plan
        self.step = step

    @property
    def target(self) -> Target:
        """The routes' mode and the sync's direction once the step is applied."""
        return BEFORE_FIRST_STEP

    @abstractmethod
    def describe(self) -> list[str]:
        """What applying the step will change, one line each (``plan next --dry-run``)."""

    def apply(self, *, current: Target, actions: Actions) -> None:
        """Apply the step to a system at ``current``; :class:`StepFailed` puts back what it
        changed."""
        self.prepare(actions)
        self.measure(actions)
        move_to(self.plan, self.target, current=current, actions=actions)

    def reverse(self, *, to: Target, actions: Actions) -> None:
        """Undo the step (and the ones since ``to``): routes and sync back to ``to``."""
        move_to(self.plan, to, current=self.target, actions=actions, put_back=False)

    def prepare(self, actions: Actions) -> None:  # noqa: B027 - a hook most kinds leave empty
        """The step's one-off work before the routes move (streams on, a backfill)."""

    def measure(self, actions: Actions) -> None:
        """The one-off measurement the step's gate reads: a reconcile, in the step's sync
        direction, when the step is one (verify, reverse_sync) or its gate tests
        ``reconcile_diverged``.

        Gates count only what was measured since the step began, so a rollback that lands on
        such a step runs this again; otherwise its gate would wait for a reconcile nobody runs.
        """
        reads_reconcile = any(c.figure == "reconcile_diverged" for c in self.step.gate.conditions)
        if self.reconciles or reads_reconcile:
            actions.reconcile(self.target.direction)

    @property
    def _routes(self) -> str:
        return ", ".join(self.plan.routes)


class Backfill(Operation):
    kind = "backfill"
    safe = True

    def describe(self) -> list[str]:
        plan = self.plan
        return [
            f"enable the sync {plan.legacy} -> {plan.service}",
            f"copy every row of {', '.join(plan.models)} to {plan.service} (backfill)",
        ]

    def prepare(self, actions: Actions) -> None:
        actions.set_stream("forward", enabled=True)
        actions.backfill()


class Sync(Operation):
    kind = "sync"
    safe = True

    def describe(self) -> list[str]:
        return [
            f"keep the sync {self.plan.legacy} -> {self.plan.service} running; routes unchanged"
        ]

    def prepare(self, actions: Actions) -> None:
        actions.set_stream("forward", enabled=True)


class Verify(Operation):
    kind = "verify"
    safe = True
    reconciles = True

    def describe(self) -> list[str]:
        return [f"reconcile {self.plan.legacy} against {self.plan.service}"]


class Shadow(Operation):
    kind = "shadow"
    safe = True

    @property
    def target(self) -> Target:
        return Target("shadow", None, True, "forward")

    def describe(self) -> list[str]:
        return [
            f"routes {self._routes}: mode shadow (the monolith answers; {self.plan.service} "
            "is compared)"
        ]


class Canary(Operation):
    kind = "canary"

    @property
    def target(self) -> Target:
        return Target("canary", self.step.percent, True, "forward")

    def describe(self) -> list[str]:
        return [
            f"routes {self._routes}: mode canary, {self.target.percent or 0:g}% of users to "
            f"{self.plan.service}"
        ]


class Cutover(Operation):
    """The service takes the routes' reads and writes; the sync turns round with them."""

    kind = "cutover"

    @property
    def target(self) -> Target:
        return Target("service", None, True, "reverse")

    def describe(self) -> list[str]:
        plan = self.plan
        return [
            f"hold writes to {self._routes} at the proxy (at most {plan.cutover_hold_seconds:g} s)",
            "wait until the writes sent before the hold are answered",
            f"wait until the sync {plan.legacy} -> {plan.service} has drained",
            "reconcile both sides, row content included (the writer's copy wins a conflict)",
            f"start the sync {plan.service} -> {plan.legacy}",
            f"routes {self._routes}: mode service (fallback to {plan.legacy} for reads on "
            f"failure), writes to {plan.service}",
            "release the held writes",
        ]


class ReverseSync(Operation):
    kind = "reverse_sync"
    reconciles = True

    @property
    def target(self) -> Target:
        return Target("service", None, True, "reverse")

    def describe(self) -> list[str]:
        return [f"reconcile {self.plan.service} against {self.plan.legacy} (reverse sync)"]

    def prepare(self, actions: Actions) -> None:
        actions.set_stream("reverse", enabled=True)


class Decommission(Operation):
    kind = "decommission"

    @property
    def target(self) -> Target:
        return Target("service", None, False, "reverse")  # no fallback left

    def describe(self) -> list[str]:
        return [f"routes {self._routes}: mode service without fallback to {self.plan.legacy}"]


OPERATIONS: dict[StepKind, type[Operation]] = {
    cls.kind: cls
    for cls in (Backfill, Sync, Verify, Shadow, Canary, Cutover, ReverseSync, Decommission)
}


def operation(plan: Plan, step: Step) -> Operation:
    """The operation of ``step``, a step of ``plan``."""
    return OPERATIONS[step.kind](plan, step)
