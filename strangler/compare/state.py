"""A route's aggregate as plain values, and the difference between two of them.

``RouteAggregate.state()`` gives an ``AggregateState``; the results store adds states up
(every counter is a sum, first and last seen a min and a max, examples a bounded list), so a
process sends only what changed since its last flush: ``state_delta(now, before)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from strangler.compare.latency import HistogramState
from strangler.compare.model import Difference, Signature

__all__ = [
    "AggregateState",
    "ClusterExample",
    "ClusterState",
    "FieldCounts",
    "FieldKey",
    "StatusPair",
    "state_delta",
]

FieldKey = tuple[str, str]  # (key, kind)
# (base, candidate): a status code as text, or how that side failed ("timeout").
StatusPair = tuple[str, str]


@dataclass(frozen=True, slots=True)
class ClusterExample:
    at: float
    method: str
    target: str  # redacted
    curl: str  # redacted
    base_status: int
    candidate_status: int | None
    differences: tuple[Difference, ...]


@dataclass(frozen=True, slots=True)
class FieldCounts:
    candidate: int = 0  # comparisons where base and candidate differ there
    base: int = 0  # double base calls where the base differs from itself there
    candidate_self: int = 0  # double candidate calls where the candidate differs from itself
    critical: bool = False


@dataclass(frozen=True, slots=True)
class ClusterState:
    count: int
    first_seen: float
    last_seen: float
    examples: tuple[ClusterExample, ...] = ()


@dataclass(frozen=True, slots=True)
class AggregateState:
    route: str
    verdicts: Mapping[str, int] = field(default_factory=dict)
    comparisons: int = 0
    base_samples: int = 0
    candidate_samples: int = 0
    noise_explained: int = 0
    dropped_keys: int = 0
    dropped_clusters: int = 0
    fields: Mapping[FieldKey, FieldCounts] = field(default_factory=dict)
    clusters: Mapping[Signature, ClusterState] = field(default_factory=dict)
    statuses: Mapping[StatusPair, int] = field(default_factory=dict)
    latency: Mapping[str, HistogramState] = field(default_factory=dict)  # "base", "candidate"


_SCALARS = (
    "comparisons",
    "base_samples",
    "candidate_samples",
    "noise_explained",
    "dropped_keys",
    "dropped_clusters",
)


_K = TypeVar("_K")


def _counter_delta(now: Mapping[_K, int], before: Mapping[_K, int]) -> dict[_K, int]:
    out = {key: value - before.get(key, 0) for key, value in now.items()}
    return {key: value for key, value in out.items() if value}


def _fields_delta(
    now: Mapping[FieldKey, FieldCounts], before: Mapping[FieldKey, FieldCounts]
) -> dict[FieldKey, FieldCounts]:
    out = {}
    for key, counts in now.items():
        old = before.get(key)
        if old is None:
            out[key] = counts
            continue
        delta = FieldCounts(
            counts.candidate - old.candidate,
            counts.base - old.base,
            counts.candidate_self - old.candidate_self,
            counts.critical,
        )
        if delta.candidate or delta.base or delta.candidate_self or counts.critical > old.critical:
            out[key] = delta
    return out


def _clusters_delta(
    now: Mapping[Signature, ClusterState], before: Mapping[Signature, ClusterState]
) -> dict[Signature, ClusterState]:
    out = {}
    for signature, cluster in now.items():
        old = before.get(signature)
        if old is None:
            out[signature] = cluster
            continue
        # Examples are only ever appended, so the ones not sent yet are the tail.
        examples = cluster.examples[len(old.examples) :]
        if cluster.count != old.count or examples:
            out[signature] = ClusterState(
                cluster.count - old.count, cluster.first_seen, cluster.last_seen, examples
            )
    return out


def _latency_delta(
    now: Mapping[str, HistogramState], before: Mapping[str, HistogramState]
) -> dict[str, HistogramState]:
    out = {}
    for side, histogram in now.items():
        old = before.get(side, HistogramState({}))
        if histogram.count != old.count:
            out[side] = HistogramState(
                _counter_delta(histogram.buckets, old.buckets),
                histogram.count - old.count,
                histogram.total_seconds - old.total_seconds,
            )
    return out


def state_delta(now: AggregateState, before: AggregateState | None) -> AggregateState | None:
    """What ``now`` counted beyond ``before`` (an earlier state of the same aggregate);
    ``None`` when nothing changed."""
    if before is None:
        before = AggregateState(now.route)
    scalars = {name: getattr(now, name) - getattr(before, name) for name in _SCALARS}
    delta = AggregateState(
        route=now.route,
        verdicts=_counter_delta(now.verdicts, before.verdicts),
        fields=_fields_delta(now.fields, before.fields),
        clusters=_clusters_delta(now.clusters, before.clusters),
        statuses=_counter_delta(now.statuses, before.statuses),
        latency=_latency_delta(now.latency, before.latency),
        **scalars,
    )
    changed = (
        any(scalars.values())
        or delta.verdicts
        or delta.fields
        or delta.clusters
        or delta.statuses
        or delta.latency
    )
    return delta if changed else None
