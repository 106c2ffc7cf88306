"""What each kind of step changes: the routes' mode and the sync's direction, forwards and
backwards, plus the one-off work some steps do (backfill, reconcile, the cutover sequence).

Like a Django migration operation, a step describes itself (:func:`describe`) and knows its
state (:func:`target_of`); :func:`apply_step` brings the system to it, and rolling back is
applying an earlier safe step's state. Every change is idempotent, so a step interrupted by
a crash is simply applied again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal, Protocol

from strangler.plans.schema import Plan, Step

__all__ = [
    "SAFE_KINDS",
    "Actions",
    "Direction",
    "Side",
    "StepFailed",
    "Target",
    "apply_step",
    "describe",
    "measure_step",
    "restore",
    "target_of",
]

Direction = Literal["forward", "reverse"]
# Which side takes the routes' writes: the legacy (monolith) or the service.
Side = Literal["legacy", "service"]
# Steps after which the monolith still answers every request: a rollback returns to one.
SAFE_KINDS = frozenset({"backfill", "sync", "verify", "shadow"})


class StepFailed(RuntimeError):
    """A step's change could not be made; what was changed has been put back."""


class Actions(Protocol):
    """The outside world a plan changes: the proxy's routes and the sync nodes."""

    def set_routes(
        self, *, mode: str, percent: float | None, fallback: bool, writer: Side
    ) -> None: ...

    def hold_writes(self, *, seconds: float) -> None: ...

    def release_writes(self) -> None: ...

    def set_stream(self, direction: Direction, *, enabled: bool) -> None: ...

    def backfill(self) -> None: ...

    def reconcile(self, direction: Direction, *, changed_only: bool = False) -> int:
        """Run a reconcile (only of rows changed since the last one when ``changed_only``);
        the number of diverged rows it found."""
        ...

    def drained(self, direction: Direction, *, since: float) -> bool:
        """No backlog, and a heartbeat written after ``since`` has arrived."""
        ...


@dataclass(frozen=True)
class Target:
    mode: str
    percent: float | None
    fallback: bool
    direction: Direction

    @property
    def writer(self) -> Side:
        """The write owner goes with the sync's direction: it is the side whose writes the
        sync carries to the other (forward: the legacy's; reverse: the service's)."""
        return "service" if self.direction == "reverse" else "legacy"


BEFORE_FIRST_STEP = Target(mode="monolith", percent=None, fallback=True, direction="forward")


def target_of(step: Step | None) -> Target:
    if step is None or step.kind in ("backfill", "sync", "verify"):
        return BEFORE_FIRST_STEP
    if step.kind == "shadow":
        return Target("shadow", None, True, "forward")
    if step.kind == "canary":
        return Target("canary", step.percent, True, "forward")
    if step.kind in ("cutover", "reverse_sync"):
        return Target("service", None, True, "reverse")
    return Target("service", None, False, "reverse")  # decommission: no fallback left


def describe(plan: Plan, step: Step) -> list[str]:
    """What applying ``step`` will change, one line each (``plan next --dry-run``)."""
    target = target_of(step)
    routes = ", ".join(plan.routes)
    lines = {
        "backfill": [
            f"enable the sync {plan.legacy} -> {plan.service}",
            f"copy every row of {', '.join(plan.models)} to {plan.service} (backfill)",
        ],
        "sync": [f"keep the sync {plan.legacy} -> {plan.service} running; routes unchanged"],
        "verify": [f"reconcile {plan.legacy} against {plan.service}"],
        "shadow": [
            f"routes {routes}: mode shadow (the monolith answers; {plan.service} is compared)"
        ],
        "canary": [
            f"routes {routes}: mode canary, {target.percent or 0:g}% of users to {plan.service}"
        ],
        "cutover": [
            f"hold writes to {routes} at the proxy (at most {plan.cutover_hold_seconds:g} s)",
            f"wait until the sync {plan.legacy} -> {plan.service} has drained",
            "reconcile both sides, row content included (the writer's copy wins a conflict)",
            f"start the sync {plan.service} -> {plan.legacy}",
            f"routes {routes}: mode service (fallback to {plan.legacy} for reads on failure), "
            f"writes to {plan.service}",
            "release the held writes",
        ],
        "reverse_sync": [f"reconcile {plan.service} against {plan.legacy} (reverse sync)"],
        "decommission": [f"routes {routes}: mode service without fallback to {plan.legacy}"],
    }
    return lines[step.kind]


def apply_step(plan: Plan, step: Step, *, current: Target, actions: Actions) -> None:
    target = target_of(step)
    if step.kind == "backfill":
        actions.set_stream("forward", enabled=True)
        actions.backfill()
    elif step.kind == "sync":
        actions.set_stream("forward", enabled=True)
    elif step.kind == "reverse_sync":
        actions.set_stream("reverse", enabled=True)
    measure_step(step, actions=actions)
    if current.direction != target.direction:
        _switch_writer(plan, target, current, actions)
    else:
        _set_routes(actions, target)


def _set_routes(actions: Actions, target: Target) -> None:
    actions.set_routes(
        mode=target.mode, percent=target.percent, fallback=target.fallback, writer=target.writer
    )


def _move_writer(actions: Actions, target: Target) -> None:
    """Routes and the stream back together, in the order the proxy accepts: it refuses a
    table giving the service the writes while the stream back is off (proxy.write_guard)."""
    if target.direction == "reverse":
        actions.set_stream("reverse", enabled=True)
        _set_routes(actions, target)
    else:
        _set_routes(actions, target)
        actions.set_stream("reverse", enabled=False)


def measure_step(step: Step, *, actions: Actions) -> None:
    """The one-off measurement a step's gate reads: a reconcile (verify, reverse_sync, or any
    step whose gate tests ``reconcile_diverged``), in the step's sync direction.

    Gates count only what was measured since the step began, so a rollback that lands on such
    a step runs this again; otherwise its gate would wait for a reconcile nobody runs.
    """
    reads_reconcile = any(c.figure == "reconcile_diverged" for c in step.gate.conditions)
    if step.kind in ("verify", "reverse_sync") or reads_reconcile:
        actions.reconcile(target_of(step).direction)


def restore(plan: Plan, target: Target, *, current: Target, actions: Actions) -> None:
    """Roll back to ``target``: the routes' mode and the sync's direction it had."""
    if current.direction != target.direction:
        _switch_writer(plan, target, current, actions)
    else:
        _set_routes(actions, target)


def _switch_writer(plan: Plan, target: Target, current: Target, actions: Actions) -> None:
    """Move write ownership: hold writes, drain, re-verify, flip routes and sync, release.

    Anything that fails or times out puts back what was flipped and releases the writes, so
    ownership is unchanged.
    """
    old: Direction = "reverse" if target.direction == "forward" else "forward"
    began = time.time()
    deadline = time.monotonic() + plan.cutover_hold_seconds
    actions.hold_writes(seconds=plan.cutover_hold_seconds)
    flipped = False
    try:
        while not actions.drained(old, since=began):
            if time.monotonic() >= deadline:
                raise StepFailed(
                    f"the sync ({old}) did not drain within {plan.cutover_hold_seconds:g} s; "
                    "writes were released and ownership is unchanged"
                )
            time.sleep(_DRAIN_POLL_SECONDS)
        diverged = actions.reconcile(old, changed_only=True)
        if diverged:
            raise StepFailed(
                f"{diverged} row(s) differ after draining the sync ({old}); writes were "
                "released and ownership is unchanged"
            )
        flipped = True
        # The forward stream also carries what the legacy side keeps owning (the catalog's
        # stock levels), so it stays on; only the stream back to the legacy side switches.
        _move_writer(actions, target)
    except BaseException:
        if flipped:  # put the writer back as it was before releasing anything
            _move_writer(actions, current)
        raise
    finally:
        actions.release_writes()


# A drain is a heartbeat's round trip: the relay's beat runs every second or so.
_DRAIN_POLL_SECONDS = 0.2
