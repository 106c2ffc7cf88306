"""Per-route aggregates the engine keeps while traffic flows, in bounded memory.

Per route: verdict counts; the status matrix and each side's latency histogram; per (field
key, kind) the four counters the noise test needs; differing requests grouped by *raw
signature* (every difference key and kind, less those a repeat base call explained for that
very request), with counts, first and last seen and up to five examples. Whether a field is
noise is decided when a report is drawn, from all the counts by then; a report's clusters
are the raw ones with their noise keys taken out, merged by what remains. Distinct keys,
clusters and routes are capped; what did not fit is counted, and a difference on a key that
is not tracked is always treated as real. ``state()`` and ``from_state()`` turn an aggregate
into plain values and back, for the results store.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from strangler.compare.latency import LatencyHistogram
from strangler.compare.model import Difference, Signature
from strangler.compare.noise import FieldStats, Judgement, NoiseSettings, judge
from strangler.compare.route_report import Cluster, RouteReport, RouteTotals
from strangler.compare.state import (
    AggregateState,
    ClusterExample,
    ClusterState,
    FieldCounts,
    FieldKey,
    StatusPair,
)

__all__ = [
    "CANDIDATE_ERROR_KEY",
    "Cluster",
    "ClusterExample",
    "RouteAggregate",
    "RouteReport",
    "RouteTotals",
    "StoreLimits",
]

# The signature of a candidate that broke: ((CANDIDATE_ERROR_KEY, "timeout"),).
CANDIDATE_ERROR_KEY = "@candidate_error"


def _is_error(signature: Signature) -> bool:
    return bool(signature) and signature[0][0] == CANDIDATE_ERROR_KEY


@dataclass(frozen=True, slots=True)
class StoreLimits:
    # A JSON API route has tens to a few hundred (key, kind) pairs; 2,000 holds a page-like
    # route with room to spare at ~100 bytes each.
    max_keys_per_route: int = 2000
    # Distinct raw signatures kept per route; beyond them a difference is counted only.
    max_clusters_per_route: int = 200
    # Examples per cluster, and differences and value characters kept per example: five
    # requests show whether a cluster is one bug; at most ~40 KB per cluster.
    max_examples: int = 5
    max_example_differences: int = 10
    # Routes tracked by one engine: route tables here have tens of routes.
    max_routes: int = 256


# Comparisons on a route between two re-computations of a field's online judgement: the
# test costs ~8 us and a noisy field is met on most requests; a report is always exact.
JUDGEMENT_REFRESH = 32


class _Counts:
    __slots__ = ("base", "candidate", "candidate_self", "critical", "judged", "judged_at")

    def __init__(self) -> None:
        self.candidate = 0
        self.base = 0
        self.candidate_self = 0
        self.critical = False
        self.judged: Judgement | None = None
        self.judged_at = 0


@dataclass(slots=True)
class _RawCluster:
    signature: Signature
    count: int
    first_seen: float
    last_seen: float
    examples: list[ClusterExample] = field(default_factory=list)


class RouteAggregate:
    def __init__(self, route: str, limits: StoreLimits, settings: NoiseSettings) -> None:
        self.route = route
        self.limits = limits
        self.settings = settings
        self.z = settings.z
        self.verdicts: dict[str, int] = {}
        self.comparisons = 0
        self.base_samples = 0
        self.candidate_samples = 0
        self.counts: dict[FieldKey, _Counts] = {}
        self.clusters: dict[Signature, _RawCluster] = {}
        self.dropped_keys = 0
        self.dropped_clusters = 0
        self.noise_explained = 0  # requests whose differences a repeat base call explained
        self.statuses: dict[StatusPair, int] = {}
        self.latency = {"base": LatencyHistogram(), "candidate": LatencyHistogram()}

    def count_verdict(self, verdict: str) -> None:
        self.verdicts[verdict] = self.verdicts.get(verdict, 0) + 1

    def observe_sides(
        self,
        statuses: StatusPair,
        base_latency: float | None,
        candidate_latency: float | None,
    ) -> None:
        """What each side answered and how long it took, whatever the verdict."""
        self.statuses[statuses] = self.statuses.get(statuses, 0) + 1
        if base_latency is not None:
            self.latency["base"].observe(base_latency)
        if candidate_latency is not None:
            self.latency["candidate"].observe(candidate_latency)

    def state(self) -> AggregateState:
        """Every count as plain values (copies), for the results store."""
        return AggregateState(
            route=self.route,
            verdicts=dict(self.verdicts),
            comparisons=self.comparisons,
            base_samples=self.base_samples,
            candidate_samples=self.candidate_samples,
            noise_explained=self.noise_explained,
            dropped_keys=self.dropped_keys,
            dropped_clusters=self.dropped_clusters,
            fields={
                key: FieldCounts(c.candidate, c.base, c.candidate_self, c.critical)
                for key, c in self.counts.items()
            },
            clusters={
                signature: ClusterState(c.count, c.first_seen, c.last_seen, tuple(c.examples))
                for signature, c in self.clusters.items()
            },
            statuses=dict(self.statuses),
            latency={side: h.state() for side, h in self.latency.items() if h.count},
        )

    @classmethod
    def from_state(
        cls, state: AggregateState, limits: StoreLimits, settings: NoiseSettings
    ) -> RouteAggregate:
        aggregate = cls(state.route, limits, settings)
        aggregate.verdicts = dict(state.verdicts)
        aggregate.comparisons = state.comparisons
        aggregate.base_samples = state.base_samples
        aggregate.candidate_samples = state.candidate_samples
        aggregate.noise_explained = state.noise_explained
        aggregate.dropped_keys = state.dropped_keys
        aggregate.dropped_clusters = state.dropped_clusters
        for key, counts in state.fields.items():
            held = aggregate.counts[key] = _Counts()
            held.candidate, held.base = counts.candidate, counts.base
            held.candidate_self, held.critical = counts.candidate_self, counts.critical
        for signature, cluster in state.clusters.items():
            aggregate.clusters[signature] = _RawCluster(
                signature,
                cluster.count,
                cluster.first_seen,
                cluster.last_seen,
                list(cluster.examples),
            )
        aggregate.statuses = dict(state.statuses)
        for side, histogram in state.latency.items():
            aggregate.latency[side] = LatencyHistogram(histogram)
        return aggregate

    def _counts(self, key: FieldKey) -> _Counts | None:
        counts = self.counts.get(key)
        if counts is None:
            if len(self.counts) >= self.limits.max_keys_per_route:
                self.dropped_keys += 1
                return None
            counts = self.counts[key] = _Counts()
        return counts

    def observe(
        self,
        differences: list[Difference],
        base_noise: set[FieldKey] | None,
        candidate_noise: set[FieldKey] | None,
    ) -> None:
        """One comparison's counts: its differences, and those of the repeat calls if any."""
        self.comparisons += 1
        for key in {(d.key, d.kind.value): d.critical for d in differences}.items():
            counts = self._counts(key[0])
            if counts is not None:
                counts.candidate += 1
                counts.critical = counts.critical or key[1]
        if base_noise is not None:
            self.base_samples += 1
            for noise_key in base_noise:
                if (counts := self._counts(noise_key)) is not None:
                    counts.base += 1
        if candidate_noise is not None:
            self.candidate_samples += 1
            for noise_key in candidate_noise:
                if (counts := self._counts(noise_key)) is not None:
                    counts.candidate_self += 1

    def judge(self, key: FieldKey, *, critical: bool) -> Judgement:
        """For one request as it is compared: re-worked out every ``JUDGEMENT_REFRESH``."""
        counts = self.counts.get(key)
        if counts is not None and not critical:
            if counts.judged is None or self.comparisons - counts.judged_at >= JUDGEMENT_REFRESH:
                counts.judged = self._exact(key)
                counts.judged_at = self.comparisons
            return counts.judged
        return self._exact(key, critical=critical)

    def _exact(self, key: FieldKey, *, critical: bool = False) -> Judgement:
        counts = self.counts.get(key)
        if counts is None:
            return Judgement(True, "not tracked (over the cap of keys): treated as real")
        return judge(
            critical=critical or counts.critical,
            candidate_diffs=counts.candidate,
            comparisons=self.comparisons,
            base_diffs=counts.base,
            base_samples=self.base_samples,
            settings=self.settings,
            z=self.z,
        )

    def remember(self, signature: Signature, at: float, example: ClusterExample | None) -> None:
        cluster = self.clusters.get(signature)
        if cluster is None:
            if len(self.clusters) >= self.limits.max_clusters_per_route:
                self.dropped_clusters += 1
                return
            cluster = self.clusters[signature] = _RawCluster(signature, 0, at, at)
        cluster.count += 1
        cluster.last_seen = at
        if example is not None and len(cluster.examples) < self.limits.max_examples:
            cluster.examples.append(example)

    def wants_example(self, signature: Signature) -> bool:
        cluster = self.clusters.get(signature)
        return cluster is None or len(cluster.examples) < self.limits.max_examples

    def report(self) -> RouteReport:
        judgements = {k: self._exact(k) for k in self.counts}
        fields = [
            FieldStats(
                route=self.route,
                key=key,
                kind=kind,
                candidate_diffs=c.candidate,
                comparisons=self.comparisons,
                base_diffs=c.base,
                base_samples=self.base_samples,
                candidate_self_diffs=c.candidate_self,
                candidate_samples=self.candidate_samples,
                lower_bound=judgements[(key, kind)].lower_bound,
                real=judgements[(key, kind)].real,
                reason=judgements[(key, kind)].reason,
            )
            for (key, kind), c in self.counts.items()
        ]
        fields.sort(key=lambda f: (not f.real, -f.candidate_diffs, f.key, f.kind))
        merged: dict[Signature, list[_RawCluster]] = {}
        noise_only = self.noise_explained
        for raw in self.clusters.values():
            kept = tuple(k for k in raw.signature if k not in judgements or judgements[k].real)
            if kept:
                merged.setdefault(kept, []).append(raw)
            else:
                noise_only += raw.count
        clusters = [self._merge(signature, raws) for signature, raws in merged.items()]
        clusters.sort(key=lambda c: (-c.count, c.first_seen))
        return RouteReport(
            route=self.route,
            verdicts=dict(self.verdicts),
            comparisons=self.comparisons,
            base_samples=self.base_samples,
            candidate_samples=self.candidate_samples,
            different=sum(c.count for c in clusters if not _is_error(c.signature)),
            noise_only=noise_only,
            fields=tuple(fields),
            clusters=tuple(clusters),
            dropped_keys=self.dropped_keys,
            dropped_clusters=self.dropped_clusters,
            statuses=tuple(sorted((b, c, n) for (b, c), n in self.statuses.items())),
            base_latency=self.latency["base"].summary(),
            candidate_latency=self.latency["candidate"].summary(),
        )

    def _merge(self, signature: Signature, raws: list[_RawCluster]) -> Cluster:
        examples = sorted((e for r in raws for e in r.examples), key=lambda e: e.at)
        return Cluster(
            route=self.route,
            signature=signature,
            count=sum(r.count for r in raws),
            first_seen=min(r.first_seen for r in raws),
            last_seen=max(r.last_seen for r in raws),
            examples=tuple(examples[: self.limits.max_examples]),
        )
