"""Stand-ins for the plans' tests: the proxy and the sync nodes as a recorder of the changes
asked of them (the live ones are exercised end to end in tests/e2e)."""

from __future__ import annotations


class Recorder:
    """:class:`strangler.plans.targets.Actions` that records each call; its drains and
    reconciles answer as told."""

    def __init__(self, *, drains: bool = True, diverged: int = 0) -> None:
        self.calls: list[tuple[object, ...]] = []
        self.drains = drains
        self.diverged = diverged

    def set_routes(self, *, mode, percent, fallback, writer):
        self.calls.append(("routes", mode, percent, fallback, writer))

    def hold_writes(self, *, seconds):
        self.calls.append(("hold",))

    def release_writes(self):
        self.calls.append(("release",))

    def set_stream(self, direction, *, enabled):
        self.calls.append(("stream", direction, enabled))

    def backfill(self):
        self.calls.append(("backfill",))

    def reconcile(self, direction, *, changed_only=False):
        self.calls.append(("reconcile", direction, changed_only))
        return self.diverged

    def drained(self, direction, *, since):
        self.calls.append(("drained", direction))
        return self.drains
