"""Reports of comparison results: terminal (rich), JSON, JUnit XML, a self-contained HTML
page, and Prometheus metrics. Each takes ``RouteReport`` s (from an engine or the results
store) and a ``ReportMeta`` describing the run."""

from strangler.compare.reports.common import ReportMeta, cluster_label, failing, grand_totals
from strangler.compare.reports.html import render_html
from strangler.compare.reports.json_report import render_json, report_document
from strangler.compare.reports.junit import render_junit
from strangler.compare.reports.terminal import print_summary

__all__ = [
    "ReportMeta",
    "cluster_label",
    "failing",
    "grand_totals",
    "print_summary",
    "render_html",
    "render_json",
    "render_junit",
    "report_document",
]
