"""What the live sources said at one moment, as the plans keep it (``state``) and compare it.

A :class:`Snapshot` holds cumulative counters and the current sync state: the proxy's counts
of the plan's routes (:class:`RouteCounts`), each sync stream as its source reports it
(:class:`StreamState`), and who answers each route (:class:`RouteSides`). ``figures`` turns
two of them into a step's figures; ``sources`` and ``fleet_counts`` read them.

With a fleet of proxies the counts are the sum over every replica, and each replica's own
counts are kept beside the sum (``RouteCounts.sources``): a replica restarted during a step
starts its counters from zero again, so a step's window is measured replica by replica
(:meth:`RouteCounts.since`), never as a difference of sums that a restart would make
negative.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["RouteCounts", "RouteSides", "Snapshot", "StreamState"]


@dataclass
class RouteCounts:
    """Cumulative counts of the plan's routes, per upstream, since the proxy started."""

    requests: dict[str, float] = field(default_factory=dict)
    errors: dict[str, float] = field(default_factory=dict)
    # upstream -> {bucket upper bound as text -> cumulative count}
    latency_buckets: dict[str, dict[str, float]] = field(default_factory=dict)
    shadow_match: float = 0.0
    shadow_mismatch: float = 0.0
    # Requests the service failed that the legacy side then answered (fallback): failures of
    # the service all the same, though no user saw them.
    fallbacks: float = 0.0
    # Each replica's own counts (by its admin URL, or its Prometheus ``instance``), whose
    # sum the fields above are; empty in snapshots taken before the proxy was a fleet.
    sources: dict[str, RouteCounts] = field(default_factory=dict)

    def add(self, other: RouteCounts) -> None:
        """Add ``other``'s counts to these (not its ``sources``)."""
        for mine, theirs in ((self.requests, other.requests), (self.errors, other.errors)):
            for key, value in theirs.items():
                mine[key] = mine.get(key, 0.0) + value
        for upstream, buckets in other.latency_buckets.items():
            into = self.latency_buckets.setdefault(upstream, {})
            for bound, value in buckets.items():
                into[bound] = into.get(bound, 0.0) + value
        self.shadow_match += other.shadow_match
        self.shadow_mismatch += other.shadow_mismatch
        self.fallbacks += other.fallbacks

    def since(self, earlier: RouteCounts) -> RouteCounts:
        """What was counted between ``earlier`` and these counts, replica by replica.

        A replica whose counters went down restarted in between: what it counted since is
        what it has now (Prometheus's rule for a counter reset). A replica new since then
        counted everything it has. A replica gone since then is not in these counts at all:
        whether that leaves a subset of the fleet is the reader's call (``fleet_counts``).
        """
        if not self.sources or not earlier.sources:
            return _difference(self, earlier)
        window = RouteCounts()
        for name, now in self.sources.items():
            then = earlier.sources.get(name)
            window.add(now if then is None else _difference(now, then))
        return window

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RouteCounts:
        return cls(
            requests=dict(data["requests"]),
            errors=dict(data["errors"]),
            latency_buckets={k: dict(v) for k, v in data["latency_buckets"].items()},
            shadow_match=data["shadow_match"],
            shadow_mismatch=data["shadow_mismatch"],
            fallbacks=data.get("fallbacks", 0.0),
            sources={k: cls.from_json(v) for k, v in data.get("sources", {}).items()},
        )


def _difference(now: RouteCounts, then: RouteCounts) -> RouteCounts:
    """``now - then``; ``now`` itself when any counter went down (the counts restarted)."""
    pairs = [(now.requests, then.requests), (now.errors, then.errors)]
    pairs += [
        (now.latency_buckets.get(upstream, {}), buckets)
        for upstream, buckets in then.latency_buckets.items()
    ]
    scalars = [
        (now.shadow_match, then.shadow_match),
        (now.shadow_mismatch, then.shadow_mismatch),
        (now.fallbacks, then.fallbacks),
    ]
    went_down = any(a < b for a, b in scalars) or any(
        after.get(key, 0.0) < value for after, before in pairs for key, value in before.items()
    )
    if went_down:
        return RouteCounts(
            requests=dict(now.requests),
            errors=dict(now.errors),
            latency_buckets={k: dict(v) for k, v in now.latency_buckets.items()},
            shadow_match=now.shadow_match,
            shadow_mismatch=now.shadow_mismatch,
            fallbacks=now.fallbacks,
        )
    return RouteCounts(
        requests={k: v - then.requests.get(k, 0.0) for k, v in now.requests.items()},
        errors={k: v - then.errors.get(k, 0.0) for k, v in now.errors.items()},
        latency_buckets={
            upstream: {
                bound: value - then.latency_buckets.get(upstream, {}).get(bound, 0.0)
                for bound, value in buckets.items()
            }
            for upstream, buckets in now.latency_buckets.items()
        },
        shadow_match=now.shadow_match - then.shadow_match,
        shadow_mismatch=now.shadow_mismatch - then.shadow_mismatch,
        fallbacks=now.fallbacks - then.fallbacks,
    )


@dataclass(frozen=True)
class StreamState:
    """One sync stream as its source node reports it."""

    enabled: bool
    paused_reason: str
    backlog: int | None
    lag_seconds: float | None
    dead_letters: int | None
    reconcile_finished_at: float | None
    reconcile_diverged: int | None


@dataclass(frozen=True)
class RouteSides:
    """Who answers a plan's route now, as the proxy's table says."""

    mode: str
    read_sides: list[str]
    write_owner: str


@dataclass
class Snapshot:
    taken_at: float
    proxy: RouteCounts | None
    forward: StreamState | None
    reverse: StreamState | None
    errors: list[str] = field(default_factory=list)
    routes: dict[str, RouteSides] = field(default_factory=dict)
    proxy_missing: str = ""
    """Why ``proxy`` is ``None`` (no counts, or from only some of the replicas)."""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Snapshot:
        proxy = data.get("proxy")
        return cls(
            taken_at=float(data["taken_at"]),
            proxy=RouteCounts.from_json(proxy) if proxy else None,
            forward=StreamState(**data["forward"]) if data.get("forward") else None,
            reverse=StreamState(**data["reverse"]) if data.get("reverse") else None,
            errors=list(data.get("errors", [])),
            routes={name: RouteSides(**sides) for name, sides in data.get("routes", {}).items()},
            proxy_missing=str(data.get("proxy_missing", "")),
        )
