"""What every report format shares: the run's description and how a cluster is named."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from strangler.compare.route_report import Cluster, RouteReport, RouteTotals
from strangler.compare.store import CANDIDATE_ERROR_KEY

__all__ = [
    "ReportMeta",
    "cluster_label",
    "failing",
    "grand_totals",
    "is_candidate_error",
    "iso_time",
    "milliseconds",
]


@dataclass(frozen=True, slots=True)
class ReportMeta:
    title: str = "strangler compare"
    base: str = ""  # where the base answers came from (a URL, "the monolith")
    candidate: str = ""
    source: str = ""  # what was compared ("replay of requests.jsonl", a results file)
    generated_at: float = field(default_factory=time.time)


def is_candidate_error(cluster: Cluster) -> bool:
    return bool(cluster.signature) and cluster.signature[0][0] == CANDIDATE_ERROR_KEY


def cluster_label(cluster: Cluster) -> str:
    """``results[].price (value), tags (order)``, or ``candidate error: timeout``."""
    if is_candidate_error(cluster):
        return "candidate error: " + ", ".join(kind for _, kind in cluster.signature)
    return ", ".join(f"{key} ({kind})" for key, kind in cluster.signature)


def failing(report: RouteReport) -> bool:
    """A route with a real difference or a candidate error."""
    totals = report.totals
    return totals.real_different > 0 or totals.candidate_error > 0


def grand_totals(reports: list[RouteReport]) -> RouteTotals:
    all_totals = [r.totals for r in reports]
    return RouteTotals(
        route="*",
        compared=sum(t.compared for t in all_totals),
        equal=sum(t.equal for t in all_totals),
        real_different=sum(t.real_different for t in all_totals),
        noise_only=sum(t.noise_only for t in all_totals),
        not_comparable=sum(t.not_comparable for t in all_totals),
        candidate_error=sum(t.candidate_error for t in all_totals),
    )


def iso_time(at: float) -> str:
    return datetime.fromtimestamp(at, tz=UTC).isoformat(timespec="seconds")


def milliseconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"
