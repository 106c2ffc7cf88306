"""The terminal summary (rich): a table of routes, then per failing route its largest
clusters with one example each, then what was discarded as noise."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from strangler.compare.reports.common import (
    ReportMeta,
    cluster_label,
    failing,
    grand_totals,
)
from strangler.compare.route_report import RouteReport

__all__ = ["print_summary"]

# Clusters shown per failing route: the rest are in the JSON and HTML reports.
CLUSTERS_SHOWN = 5


def _routes_table(reports: list[RouteReport]) -> Table:
    table = Table(
        title="Comparison by route",
        title_justify="left",
        caption="real: requests with a real difference; noise: differences all noise",
        caption_justify="left",
    )
    # Route names are what a reader looks for: other columns wrap before a name is cut.
    longest = max((len(r.route) for r in reports), default=5)
    table.add_column("route", no_wrap=True, min_width=min(longest, 60))
    for name in ("compared", "equal", "real", "noise", "cand.\nerror", "not\ncomp."):
        table.add_column(name, justify="right", min_width=max(map(len, name.split("\n"))))
    for report in reports:
        t = report.totals
        table.add_row(
            escape(report.route),
            str(t.compared),
            str(t.equal),
            f"[red]{t.real_different}[/]" if t.real_different else "0",
            str(t.noise_only),
            f"[red]{t.candidate_error}[/]" if t.candidate_error else "0",
            str(t.not_comparable),
        )
    return table


def _latency_table(reports: list[RouteReport]) -> Table:
    table = Table(title="Latency by route, ms (p50 / p95 / p99)", title_justify="left")
    longest = max((len(r.route) for r in reports), default=5)
    table.add_column("route", no_wrap=True, min_width=min(longest, 60))
    table.add_column("base", justify="right")
    table.add_column("candidate", justify="right")
    for report in reports:
        cells = [
            " / ".join(f"{v * 1000:.1f}" for v in (s.p50, s.p95, s.p99)) if s else "-"
            for s in (report.base_latency, report.candidate_latency)
        ]
        table.add_row(escape(report.route), *cells)
    return table


def print_summary(reports: list[RouteReport], meta: ReportMeta, console: Console) -> None:
    if meta.base or meta.candidate:
        console.print(f"base {escape(meta.base)}  candidate {escape(meta.candidate)}")
    if not reports:
        console.print("No comparisons recorded.")
        return
    console.print(_routes_table(reports))
    if any(r.base_latency or r.candidate_latency for r in reports):
        console.print(_latency_table(reports))
    for report in reports:
        if failing(report):
            console.print(f"\n[bold]{escape(report.route)}[/]: clusters of differences")
            for cluster in report.clusters[:CLUSTERS_SHOWN]:
                console.print(f"  [red]{cluster.count} x[/] {escape(cluster_label(cluster))}")
                if cluster.examples:
                    example = cluster.examples[0]
                    console.print(f"    e.g. {escape(example.method)} {escape(example.target)}")
                    for d in example.differences[:3]:
                        console.print(
                            f"      {escape(d.path)}: base {escape(str(d.base))} → "
                            f"candidate {escape(str(d.candidate))}"
                        )
                    console.print(f"    {escape(example.curl)}", soft_wrap=True)
            hidden = len(report.clusters) - CLUSTERS_SHOWN
            if hidden > 0:
                console.print(f"  … and {hidden} more cluster(s) in the JSON or HTML report")
        if report.discarded:
            fields = ", ".join(f"{f.key} ({f.kind})" for f in report.discarded)
            console.print(f"[dim]{escape(report.route)}: noise discarded on {escape(fields)}[/]")
    totals = grand_totals(reports)
    if totals.real_different or totals.candidate_error:
        console.print(
            f"\n[bold red]Real differences[/]: {totals.real_different} request(s) differ and "
            f"{totals.candidate_error} candidate error(s) in {totals.compared} compared."
        )
    else:
        console.print(
            f"\n[bold green]No real difference[/] in {totals.compared} compared "
            f"({totals.noise_only} noise only, {totals.not_comparable} not comparable)."
        )
