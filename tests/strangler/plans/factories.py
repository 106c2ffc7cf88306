"""Stand-ins for the plans' tests: the proxy and the sync nodes as a recorder of the changes
asked of them (the live ones are exercised end to end in tests/e2e)."""

from __future__ import annotations


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
    ) -> None:
        self.calls: list[tuple[object, ...]] = []
        self.drains = drains
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
