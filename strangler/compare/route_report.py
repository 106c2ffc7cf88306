"""What a report of one route holds: its clusters, its counts, its totals by verdict.

Plain frozen data, drawn by ``RouteAggregate.report()`` from the counts of one process or
of the results store, and read by the reports, the metrics and the plan gates.
"""

from __future__ import annotations

from dataclasses import dataclass

from strangler.compare.latency import LatencySummary
from strangler.compare.model import Signature, Verdict
from strangler.compare.noise import FieldStats
from strangler.compare.state import ClusterExample

__all__ = ["Cluster", "RouteReport", "RouteTotals", "StatusCount"]

StatusCount = tuple[str, str, int]


@dataclass(frozen=True, slots=True)
class Cluster:
    route: str
    signature: Signature
    count: int
    first_seen: float
    last_seen: float
    examples: tuple[ClusterExample, ...]


@dataclass(frozen=True, slots=True)
class RouteReport:
    route: str
    verdicts: dict[str, int]  # as decided request by request, while the counts grew
    comparisons: int
    base_samples: int
    candidate_samples: int
    different: int  # requests with a real difference, judged with the final counts
    noise_only: int  # requests whose differences were all noise, judged likewise
    fields: tuple[FieldStats, ...]  # every tracked (key, kind), real ones first
    clusters: tuple[Cluster, ...]  # largest first
    dropped_keys: int  # differences on keys past the cap (judged real)
    dropped_clusters: int  # differing requests past the cluster cap (counted only)
    # (base, candidate, requests): each side's status, or how it failed ("timeout")
    statuses: tuple[StatusCount, ...] = ()
    base_latency: LatencySummary | None = None
    candidate_latency: LatencySummary | None = None

    @property
    def discarded(self) -> tuple[FieldStats, ...]:
        """The fields whose differences were discarded as noise, and why."""
        return tuple(f for f in self.fields if not f.real)

    @property
    def totals(self) -> RouteTotals:
        equal = self.verdicts.get(Verdict.EQUAL.value, 0)
        # Every request that differed, less those the final counts explain as noise; one
        # past the cluster cap is not explained, so it stays real.
        differed = self.verdicts.get(Verdict.DIFFERENT.value, 0)
        differed += self.verdicts.get(Verdict.NOISE_ONLY.value, 0)
        real = max(0, differed - self.noise_only)
        error = self.verdicts.get(Verdict.CANDIDATE_ERROR.value, 0)
        return RouteTotals(
            route=self.route,
            compared=equal + differed + error,
            equal=equal,
            real_different=real,
            noise_only=differed - real,
            not_comparable=self.verdicts.get(Verdict.NOT_COMPARABLE.value, 0),
            candidate_error=error,
        )


@dataclass(frozen=True, slots=True)
class RouteTotals:
    """A route's requests by final verdict, as gates and metrics read them.

    ``compared`` is every request judged: equal, real_different, noise_only and
    candidate_error add up to it. ``not_comparable`` requests (a failing base, stale data)
    were not judged and are not in it, so ``real_different / compared`` is the difference
    rate over what could be told apart. Differences are judged with all the noise counts
    so far, so ``real_different`` may move to ``noise_only`` as evidence grows.
    """

    route: str
    compared: int
    equal: int
    real_different: int
    noise_only: int
    not_comparable: int
    candidate_error: int
