"""What a plan's step leaves in place, and how the plan moves the system from one such state
to another.

A :class:`Target` is the routes' mode (with canary percentage and fallback) and the sync's
direction, which decides the routes' write owner. :func:`move_to` brings the system from one
target to another through :class:`Actions`, the outside world a plan changes; when the write
owner changes it holds the writes, drains the sync, re-verifies, flips and releases. Every
change is idempotent, so a move interrupted by a crash is simply made again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from strangler.plans.schema import Plan

__all__ = [
    "BEFORE_FIRST_STEP",
    "Actions",
    "Direction",
    "FleetNotConverged",
    "Side",
    "StepFailed",
    "Target",
    "move_to",
]

Direction = Literal["forward", "reverse"]
# Which side takes the routes' writes: the legacy (monolith) or the service.
Side = Literal["legacy", "service"]


class StepFailed(RuntimeError):
    """A step's change could not be made; what was changed has been put back."""


class FleetNotConverged(StepFailed):
    """A change was written to the shared store, but not every proxy replica served it
    within the bound: the replicas named in the message lag (cut off, stopped, stuck)."""


class Actions(Protocol):
    """The outside world a plan changes: the proxy's routes and the sync nodes."""

    def set_routes(
        self, *, mode: str, percent: float | None, fallback: bool, writer: Side
    ) -> None: ...

    def hold_writes(self, *, seconds: float) -> None: ...

    def release_writes(self) -> None: ...

    def unanswered_writes(self) -> str | None:
        """``None`` once every write the proxies sent upstream on the plan's routes has been
        answered; else what is left (or why it cannot be told)."""
        ...

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


def move_to(
    plan: Plan, target: Target, *, current: Target, actions: Actions, put_back: bool = True
) -> None:
    """Bring the routes' mode and the sync's direction from ``current`` to ``target``.

    A move of the write owner puts everything back when it fails (:func:`_switch_writer`).
    Any other move puts the routes back to ``current`` when ``put_back`` (a step going
    forward: one route changed and the next refused, or a replica did not take the change);
    a rollback does not, since what it would put back is the riskier side.
    """
    if current.direction != target.direction:
        _switch_writer(plan, target, current, actions)
        return
    try:
        _set_routes(actions, target)
    except StepFailed as exc:
        if put_back:
            _put_back(exc, lambda: _set_routes(actions, current))
        raise


def _put_back(failure: StepFailed, undo: Callable[[], None]) -> None:
    """Run ``undo`` after ``failure``; a failure of the undo joins the message, as a
    ``StepFailed`` raised from the first (the caller re-raises the first otherwise)."""
    try:
        undo()
    except FleetNotConverged as lag:
        # The put-back is written; a lagging replica serves it when it catches up.
        raise StepFailed(f"{failure}; put back, but {lag}") from failure
    except StepFailed as other:
        raise StepFailed(f"{failure}; putting it back failed too: {other}") from failure


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


def _switch_writer(plan: Plan, target: Target, current: Target, actions: Actions) -> None:
    """Move write ownership: hold writes, drain, re-verify, flip routes and sync, release.

    Anything that fails or times out puts back what was flipped and releases the writes, so
    ownership is unchanged.
    """
    old: Direction = "reverse" if target.direction == "forward" else "forward"
    deadline = time.monotonic() + plan.cutover_hold_seconds
    flipped = False
    try:
        # In the try: a hold some replica did not acknowledge fails here, before anything
        # is flipped, and the writes held so far are released below.
        actions.hold_writes(seconds=plan.cutover_hold_seconds)
        # A write the proxy sent before the hold took effect may still be at the old owner
        # (a slow view): once it is answered it is committed, and the heartbeat the drain
        # waits for, written after this, comes after it in the old owner's changelog.
        while (left := actions.unanswered_writes()) is not None:
            if time.monotonic() >= deadline:
                raise StepFailed(
                    f"writes sent before the hold were not all answered within "
                    f"{plan.cutover_hold_seconds:g} s ({left}); writes were released and "
                    "ownership is unchanged"
                )
            time.sleep(_WRITES_POLL_SECONDS)
        began = time.time()
        while not actions.drained(old, since=began):
            if time.monotonic() >= deadline:
                raise StepFailed(
                    f"the sync ({old}) did not drain within {plan.cutover_hold_seconds:g} s; "
                    "writes were released and ownership is unchanged"
                )
            time.sleep(_DRAIN_POLL_SECONDS)
        _within_hold(plan, deadline, "before the reconcile")
        diverged = actions.reconcile(old, changed_only=True)
        if diverged:
            raise StepFailed(
                f"{diverged} row(s) differ after draining the sync ({old}); writes were "
                "released and ownership is unchanged"
            )
        _within_hold(plan, deadline, "before the routes could be flipped")
        flipped = True
        # The forward stream also carries what the legacy side keeps owning (the catalog's
        # stock levels), so it stays on; only the stream back to the legacy side switches.
        _move_writer(actions, target)
    except StepFailed as exc:
        if flipped:  # put the writer back as it was before releasing anything
            _put_back(exc, lambda: _move_writer(actions, current))
        raise
    except BaseException:
        if flipped:
            _move_writer(actions, current)
        raise
    finally:
        actions.release_writes()


def _within_hold(plan: Plan, deadline: float, when: str) -> None:
    """Fail the move while nothing is flipped if the hold's bound has passed: writes flow
    to the old owner again then, and what was drained and verified no longer holds."""
    if time.monotonic() >= deadline:
        raise StepFailed(
            f"the write hold ({plan.cutover_hold_seconds:g} s) ran out {when}; writes were "
            "released and ownership is unchanged"
        )


# A drain is a heartbeat's round trip: the relay's beat runs every second or so.
_DRAIN_POLL_SECONDS = 0.2
# Writes in flight are answered in milliseconds, unless the old owner is slow.
_WRITES_POLL_SECONDS = 0.05
