"""Stand-ins for the plans' tests: the proxy and the sync nodes as a recorder of the changes
asked of them (the live ones are exercised end to end in tests/e2e)."""

from __future__ import annotations

import time


class Recorder:
    """:class:`strangler.plans.targets.Actions` that records each call; its drains and
    reconciles answer as told, and ``fails`` names calls (``routes``, ``hold``) whose next
    uses raise the exceptions listed, one each, after being recorded."""

    def __init__(
        self,
        *,
        drains: bool = True,
        diverged: int = 0,
        fails: dict[str, list[Exception]] | None = None,
        unanswered: list[str] | None = None,
        stuck: str | None = None,
    ) -> None:
        self.calls: list[tuple[object, ...]] = []
        self.drains = drains
        # What unanswered_writes says, one answer a call, then ``stuck`` (None: all
        # answered). When it was asked and the drains' ``since`` are kept, not in ``calls``:
        # the sequences the tests compare are the changes made.
        self.unanswered = list(unanswered or [])
        self.stuck = stuck
        self.unanswered_asked_at: list[float] = []
        self.drained_since: list[float] = []
        self.diverged = diverged
        self.fails = fails or {}

    def _maybe_fail(self, kind: str) -> None:
        pending = self.fails.get(kind)
        if pending:
            raise pending.pop(0)

    def set_routes(self, *, mode, percent, fallback, writer):
        self.calls.append(("routes", mode, percent, fallback, writer))
        self._maybe_fail("routes")

    def hold_writes(self, *, seconds):
        self.calls.append(("hold",))
        self._maybe_fail("hold")

    def release_writes(self):
        self.calls.append(("release",))

    def unanswered_writes(self):
        self.unanswered_asked_at.append(time.time())
        return self.unanswered.pop(0) if self.unanswered else self.stuck

    def set_stream(self, direction, *, enabled):
        self.calls.append(("stream", direction, enabled))

    def backfill(self):
        self.calls.append(("backfill",))

    def reconcile(self, direction, *, changed_only=False):
        self.calls.append(("reconcile", direction, changed_only))
        return self.diverged

    def drained(self, direction, *, since):
        self.calls.append(("drained", direction))
        self.drained_since.append(since)
        return self.drains
