"""The comparison part of the overview: per route, how often the service answered otherwise.

Read from the comparison results store every proxy worker and replay adds to
(:mod:`strangler.compare.results`, SQLite on one host or the fleet's PostgreSQL), the same
sums ``strangler compare`` reports and the plan gates read. Per route: the difference rate
over the requests that could be compared, with its 95% Wilson interval (a rate on ten
requests is not a rate on ten thousand), the "not comparable yet" count (the base failed or
its data was behind: the sync lagging), and the largest difference clusters.

Each cluster carries one example (method, target and curl, already redacted by the
recorder, and the differing values). Examples come from recorded requests and answers, so
whoever serves this document removes them for readers without the admin token
(:func:`without_examples`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from strangler.compare.errors import CompareError
from strangler.compare.noise import wilson
from strangler.compare.reports.common import cluster_label, is_candidate_error
from strangler.compare.results import ResultsLocation, ResultsMissing, open_results
from strangler.compare.route_report import Cluster, RouteReport

__all__ = ["TOP_CLUSTERS", "Z_95", "comparison_part", "without_examples"]

# The largest few: what to fix first; the full report has the rest.
TOP_CLUSTERS = 3
# Two-sided 95%.
Z_95 = 1.959963984540054


def comparison_part(location: ResultsLocation | None, unknown: dict[str, str]) -> dict[str, Any]:
    """``{"where", "routes": [...]}``; ``routes`` is ``None`` (and ``unknown["comparison"]``
    says why) when the results cannot be read, ``[]`` when nothing was compared yet."""
    where = str(location) if isinstance(location, Path) else None
    try:
        store = open_results(location, create=False)
    except ResultsMissing:
        return {"where": where, "routes": []}
    except CompareError as exc:
        unknown["comparison"] = f"comparison results: {exc}"
        return {"where": where, "routes": None}
    try:
        with store:
            reports = store.reports()
            where = store.where
    except CompareError as exc:
        unknown["comparison"] = f"comparison results at {store.where}: {exc}"
        return {"where": store.where, "routes": None}
    return {"where": where, "routes": [_route(report) for report in reports]}


def without_examples(part: dict[str, Any]) -> dict[str, Any]:
    """The part with every cluster's example taken out (a copy; ``part`` is unchanged)."""
    routes = part.get("routes")
    if routes is None:
        return dict(part)
    return {
        **part,
        "routes": [
            {
                **route,
                "clusters": [
                    {k: v for k, v in cluster.items() if k != "example"}
                    for cluster in route["clusters"]
                ],
            }
            for route in routes
        ],
    }


def _route(report: RouteReport) -> dict[str, Any]:
    totals = report.totals
    low, high = wilson(totals.real_different, totals.compared, Z_95)
    return {
        "route": report.route,
        "compared": totals.compared,
        "different": totals.real_different,
        "noise_only": totals.noise_only,
        "candidate_error": totals.candidate_error,
        "not_comparable": totals.not_comparable,
        "difference_rate": totals.real_different / totals.compared if totals.compared else None,
        "confidence": {"level": 0.95, "low": low, "high": high} if totals.compared else None,
        "clusters": [_cluster(c) for c in report.clusters[:TOP_CLUSTERS]],
        "more_clusters": max(0, len(report.clusters) - TOP_CLUSTERS),
    }


def _cluster(cluster: Cluster) -> dict[str, Any]:
    out: dict[str, Any] = {
        "label": cluster_label(cluster),
        "candidate_error": is_candidate_error(cluster),
        "count": cluster.count,
        "first_seen": cluster.first_seen,
        "last_seen": cluster.last_seen,
    }
    if cluster.examples:
        example = cluster.examples[0]
        out["example"] = {
            "at": example.at,
            "method": example.method,
            "target": example.target,
            "curl": example.curl,
            "base_status": example.base_status,
            "candidate_status": example.candidate_status,
            "differences": [
                {"path": d.path, "kind": d.kind.value, "base": d.base, "candidate": d.candidate}
                for d in example.differences[:10]
            ],
        }
    return out
