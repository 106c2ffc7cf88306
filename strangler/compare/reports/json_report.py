"""The JSON report: every route's totals, status matrix, latency, clusters with examples and
the noise judgement of every field. ``version`` changes when a field changes meaning."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from strangler.compare.latency import LatencySummary
from strangler.compare.reports.common import (
    ReportMeta,
    cluster_label,
    grand_totals,
    is_candidate_error,
    iso_time,
)
from strangler.compare.route_report import Cluster, RouteReport

__all__ = ["JSON_REPORT_VERSION", "render_json", "report_document"]

JSON_REPORT_VERSION = 1


def _latency(summary: LatencySummary | None) -> dict[str, Any] | None:
    return None if summary is None else asdict(summary)


def _cluster(cluster: Cluster) -> dict[str, Any]:
    return {
        "label": cluster_label(cluster),
        "signature": [{"key": key, "kind": kind} for key, kind in cluster.signature],
        "candidate_error": is_candidate_error(cluster),
        "count": cluster.count,
        "first_seen": iso_time(cluster.first_seen),
        "last_seen": iso_time(cluster.last_seen),
        "examples": [
            {
                "at": iso_time(example.at),
                "method": example.method,
                "target": example.target,
                "curl": example.curl,
                "base_status": example.base_status,
                "candidate_status": example.candidate_status,
                "differences": [{**asdict(d), "kind": d.kind.value} for d in example.differences],
            }
            for example in cluster.examples
        ],
    }


def _route(report: RouteReport) -> dict[str, Any]:
    totals = asdict(report.totals)
    del totals["route"]
    return {
        "route": report.route,
        "totals": totals,
        "verdicts": dict(sorted(report.verdicts.items())),
        "comparisons": report.comparisons,
        "base_samples": report.base_samples,
        "candidate_samples": report.candidate_samples,
        "statuses": [
            {"base": base, "candidate": candidate, "requests": n}
            for base, candidate, n in report.statuses
        ],
        "latency": {
            "base": _latency(report.base_latency),
            "candidate": _latency(report.candidate_latency),
        },
        "clusters": [_cluster(c) for c in report.clusters],
        "fields": [{k: v for k, v in asdict(f).items() if k != "route"} for f in report.fields],
        "dropped_keys": report.dropped_keys,
        "dropped_clusters": report.dropped_clusters,
    }


def report_document(reports: list[RouteReport], meta: ReportMeta) -> dict[str, Any]:
    summary = asdict(grand_totals(reports))
    del summary["route"]
    return {
        "version": JSON_REPORT_VERSION,
        "title": meta.title,
        "base": meta.base,
        "candidate": meta.candidate,
        "source": meta.source,
        "generated_at": iso_time(meta.generated_at),
        "summary": {"routes": len(reports), **summary},
        "routes": [_route(r) for r in reports],
    }


def render_json(reports: list[RouteReport], meta: ReportMeta) -> str:
    return json.dumps(report_document(reports, meta), indent=2, ensure_ascii=False) + "\n"
