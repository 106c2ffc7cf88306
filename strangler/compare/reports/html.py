"""A self-contained HTML page: one file, inline CSS and script, nothing fetched, so it can
be attached to a ticket or opened from a CI artifact offline.

Per route: the totals, the status matrix (base status down, candidate status across), each
side's latency (p50, p95, p99), the clusters of real differences with their examples side
by side (path, base value, candidate value) and a copy-as-curl button, and the fields
discarded as noise with the reason.
"""

from __future__ import annotations

import re
from html import escape

from strangler.compare.reports.common import (
    ReportMeta,
    cluster_label,
    failing,
    grand_totals,
    is_candidate_error,
    iso_time,
    milliseconds,
)
from strangler.compare.route_report import Cluster, RouteReport
from strangler.compare.state import ClusterExample

__all__ = ["render_html"]

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2329;
background:#f6f7f9}
header{background:#1d2329;color:#fff;padding:16px 24px}header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;color:#c9d1d9}main{padding:16px 24px;max-width:1200px}
section.route{background:#fff;border:1px solid #d8dee4;border-radius:6px;margin:16px 0;
padding:12px 16px}
h2{font-size:17px;margin:4px 0 8px}h3{font-size:15px;margin:14px 0 6px}h4{margin:6px 0}
table{border-collapse:collapse;margin:6px 0}th,td{border:1px solid #d8dee4;padding:3px 8px;
text-align:left;vertical-align:top}th{background:#f0f2f4}td.n{text-align:right}
.bad{color:#b42318;font-weight:600}.ok{color:#1a7f37;font-weight:600}
.tag{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;margin-left:6px}
.tag.bad{background:#fde8e7}.tag.ok{background:#e6f4ea}
.cluster{border-left:4px solid #b42318;padding:4px 12px;margin:10px 0;background:#fffafa}
.cluster.error{border-color:#9a6700;background:#fffbeb}
.example{margin:8px 0 12px}code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}
pre{background:#f6f8fa;border:1px solid #d8dee4;padding:6px 8px;white-space:pre-wrap;
word-break:break-all;margin:4px 0}
td.side{font-family:ui-monospace,monospace;font-size:12px;white-space:pre-wrap;
word-break:break-all;max-width:420px}
button{font-size:12px;cursor:pointer}nav a{margin-right:12px}
"""
# Copies a <pre>'s text; falls back to a selection where the clipboard API is refused
# (pages opened from file:// in some browsers).
_SCRIPT = """
document.addEventListener('click', function (event) {
  var button = event.target.closest('button[data-copy]');
  if (!button) { return; }
  var text = document.getElementById(button.getAttribute('data-copy')).textContent;
  var done = function () { button.textContent = 'Copied'; };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done);
    return;
  }
  var area = document.createElement('textarea');
  area.value = text; document.body.appendChild(area); area.select();
  document.execCommand('copy'); document.body.removeChild(area); done();
});
"""


def _anchor(route: str, index: int) -> str:
    # The index keeps two routes that differ only in punctuation apart.
    return f"route-{index}-" + re.sub(r"[^A-Za-z0-9_-]+", "-", route).strip("-")


def _status_matrix(report: RouteReport) -> str:
    if not report.statuses:
        return "<p>No answers recorded.</p>"
    bases = sorted({b for b, _, _ in report.statuses})
    candidates = sorted({c for _, c, _ in report.statuses})
    counts = {(b, c): n for b, c, n in report.statuses}
    head = "".join(f"<th>{escape(c)}</th>" for c in candidates)
    rows = []
    for base in bases:
        cells = []
        for candidate in candidates:
            n = counts.get((base, candidate), 0)
            css = "n bad" if n and base != candidate else "n"
            cells.append(f'<td class="{css}">{n or ""}</td>')
        rows.append(f"<tr><th>{escape(base)}</th>{''.join(cells)}</tr>")
    return f'<table class="matrix"><tr><th>base \\ candidate</th>{head}</tr>{"".join(rows)}</table>'


def _latency(report: RouteReport) -> str:
    rows = []
    for side, summary in (("base", report.base_latency), ("candidate", report.candidate_latency)):
        if summary is None:
            rows.append(f"<tr><th>{side}</th><td colspan=5>no timings</td></tr>")
            continue
        cells = "".join(
            f'<td class="n">{milliseconds(v)}</td>'
            for v in (summary.mean, summary.p50, summary.p95, summary.p99)
        )
        rows.append(f'<tr><th>{side}</th><td class="n">{summary.count}</td>{cells}</tr>')
    return (
        "<table><tr><th>side</th><th>requests</th><th>mean</th><th>p50</th><th>p95</th>"
        f"<th>p99</th></tr>{''.join(rows)}</table>"
    )


def _example(example: ClusterExample, ident: str) -> str:
    candidate = example.candidate_status if example.candidate_status else "no answer"
    rows = "".join(
        f"<tr><td><code>{escape(d.path)}</code></td><td>{escape(d.kind.value)}</td>"
        f'<td class="side">{escape(d.base if d.base is not None else "(absent)")}</td>'
        f'<td class="side">{escape(d.candidate if d.candidate is not None else "(absent)")}</td>'
        "</tr>"
        for d in example.differences
    )
    table = (
        f"<table><tr><th>where</th><th>kind</th><th>base</th><th>candidate</th></tr>{rows}</table>"
        if rows
        else ""
    )
    return (
        f'<div class="example"><div><code>{escape(example.method)} {escape(example.target)}'
        f"</code> base <b>{example.base_status}</b>, candidate <b>{escape(str(candidate))}</b>"
        f" at {iso_time(example.at)}</div>{table}"
        f'<pre id="{ident}">{escape(example.curl)}</pre>'
        f'<button type="button" data-copy="{ident}">Copy as curl</button></div>'
    )


def _cluster(cluster: Cluster, ident: str) -> str:
    css = "cluster error" if is_candidate_error(cluster) else "cluster"
    examples = "".join(
        _example(example, f"{ident}-{i}") for i, example in enumerate(cluster.examples)
    )
    return (
        f'<div class="{css}"><h4>{cluster.count} &times; {escape(cluster_label(cluster))}</h4>'
        f"<div>first seen {iso_time(cluster.first_seen)}, last seen "
        f"{iso_time(cluster.last_seen)}</div>{examples}</div>"
    )


def _noise(report: RouteReport) -> str:
    if not report.discarded:
        return ""
    rows = "".join(
        f"<tr><td><code>{escape(f.key)}</code></td><td>{escape(f.kind)}</td>"
        f'<td class="n">{f.candidate_diffs}/{f.comparisons}</td>'
        f'<td class="n">{f.base_diffs}/{f.base_samples}</td><td>{escape(f.reason)}</td></tr>'
        for f in report.discarded
    )
    return (
        "<h3>Discarded as noise</h3><table><tr><th>field</th><th>kind</th><th>differed</th>"
        f"<th>base varied</th><th>why</th></tr>{rows}</table>"
    )


def _route(report: RouteReport, index: int) -> str:
    t = report.totals
    tag = (
        '<span class="tag bad">differs</span>'
        if failing(report)
        else ('<span class="tag ok">no real difference</span>')
    )
    clusters = "".join(
        _cluster(cluster, f"r{index}c{i}") for i, cluster in enumerate(report.clusters)
    )
    return (
        f'<section class="route" id="{_anchor(report.route, index)}">'
        f"<h2>{escape(report.route)}{tag}</h2>"
        "<table><tr><th>compared</th><th>equal</th><th>real difference</th><th>noise only</th>"
        "<th>candidate error</th><th>not comparable</th></tr><tr>"
        f'<td class="n">{t.compared}</td><td class="n">{t.equal}</td>'
        f'<td class="n{" bad" if t.real_different else ""}">{t.real_different}</td>'
        f'<td class="n">{t.noise_only}</td>'
        f'<td class="n{" bad" if t.candidate_error else ""}">{t.candidate_error}</td>'
        f'<td class="n">{t.not_comparable}</td></tr></table>'
        f"<h3>Status codes</h3>{_status_matrix(report)}"
        f"<h3>Latency</h3>{_latency(report)}"
        f"<h3>Clusters</h3>{clusters or '<p>None.</p>'}{_noise(report)}</section>"
    )


def render_html(reports: list[RouteReport], meta: ReportMeta) -> str:
    totals = grand_totals(reports)
    verdict = (
        '<span class="bad">real differences</span>'
        if totals.real_different or totals.candidate_error
        else '<span class="ok">no real difference</span>'
    )
    sides = ""
    if meta.base or meta.candidate:
        sides = f" — base {escape(meta.base)}, candidate {escape(meta.candidate)}"
    nav = "".join(
        f'<a href="#{_anchor(r.route, i)}">{escape(r.route)}</a>' for i, r in enumerate(reports)
    )  # in-page anchors only: nothing leaves the file
    body = "".join(_route(report, i) for i, report in enumerate(reports))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(meta.title)}</title><style>{_STYLE}</style></head><body>"
        f"<header><h1>{escape(meta.title)}</h1><p>{escape(meta.source)}{sides}; generated "
        f"{iso_time(meta.generated_at)}</p></header><main>"
        f"<p>{totals.compared} requests compared on {len(reports)} route(s): {verdict} "
        f"({totals.real_different} with real differences, {totals.candidate_error} candidate "
        f"errors, {totals.noise_only} noise only, {totals.not_comparable} not comparable).</p>"
        f"<nav>{nav}</nav>{body or '<p>No comparisons recorded.</p>'}</main>"
        f"<script>{_SCRIPT}</script></body></html>\n"
    )
