"""What the live sources said at one moment, as the plans keep it (``state``) and compare it.

A :class:`Snapshot` holds cumulative counters and the current sync state: the proxy's counts
of the plan's routes (:class:`RouteCounts`), each sync stream as its source reports it
(:class:`StreamState`), and who answers each route (:class:`RouteSides`). ``figures`` turns
two of them into a step's figures; ``sources`` reads them.
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

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Snapshot:
        proxy = data.get("proxy")
        return cls(
            taken_at=float(data["taken_at"]),
            proxy=RouteCounts(
                requests=dict(proxy["requests"]),
                errors=dict(proxy["errors"]),
                latency_buckets=proxy["latency_buckets"],
                shadow_match=proxy["shadow_match"],
                shadow_mismatch=proxy["shadow_mismatch"],
                fallbacks=proxy.get("fallbacks", 0.0),
            )
            if proxy
            else None,
            forward=StreamState(**data["forward"]) if data.get("forward") else None,
            reverse=StreamState(**data["reverse"]) if data.get("reverse") else None,
            errors=list(data.get("errors", [])),
            routes={name: RouteSides(**sides) for name, sides in data.get("routes", {}).items()},
        )
