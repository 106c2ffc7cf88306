"""JUnit XML, for CI systems that show test results: a suite per route, and in it one case
for the route (failing on a real difference or a candidate error) and one failing case per
cluster of differences, with its examples and copy-as-curl lines in the failure text."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from strangler.compare.reports.common import (
    ReportMeta,
    cluster_label,
    failing,
    grand_totals,
    is_candidate_error,
    iso_time,
)
from strangler.compare.route_report import Cluster, RouteReport

__all__ = ["render_junit"]

# Characters XML 1.0 cannot hold even escaped; a response can carry them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: str) -> str:
    return _NOT_XML.sub("\ufffd", value)


def _cluster_text(cluster: Cluster) -> str:
    lines = [
        f"{cluster.count} request(s) from {iso_time(cluster.first_seen)} "
        f"to {iso_time(cluster.last_seen)}"
    ]
    for example in cluster.examples:
        lines.append("")
        lines.append(
            f"{example.method} {example.target}: base {example.base_status}, "
            f"candidate {example.candidate_status if example.candidate_status else 'no answer'}"
        )
        for d in example.differences:
            lines.append(f"  {d.path} ({d.kind.value}): base {d.base} / candidate {d.candidate}")
        lines.append(f"  reproduce: {example.curl}")
    return "\n".join(lines)


def _route_suite(parent: ET.Element, report: RouteReport, meta: ReportMeta) -> None:
    totals = report.totals
    classname = f"strangler.compare.{report.route}"
    real_clusters = list(report.clusters)
    failures = int(failing(report)) + len(real_clusters)
    suite = ET.SubElement(
        parent,
        "testsuite",
        name=_text(report.route),
        tests=str(1 + len(real_clusters)),
        failures=str(failures),
        errors="0",
        skipped="0",
        timestamp=iso_time(meta.generated_at),
    )
    case = ET.SubElement(
        suite, "testcase", classname=_text(classname), name=_text(f"route {report.route}")
    )
    summary = (
        f"{totals.compared} compared: {totals.equal} equal, {totals.real_different} with real "
        f"differences, {totals.noise_only} noise only, {totals.candidate_error} candidate "
        f"errors; {totals.not_comparable} not comparable"
    )
    if failing(report):
        failure = ET.SubElement(case, "failure", type="real_difference", message=_text(summary))
        failure.text = _text(
            "\n".join(f"{c.count} x {cluster_label(c)}" for c in report.clusters) or summary
        )
    out = ET.SubElement(case, "system-out")
    noise = [f"{f.key} ({f.kind}): {f.reason}" for f in report.discarded]
    out.text = _text(summary + ("\nnoise discarded:\n  " + "\n  ".join(noise) if noise else ""))
    for cluster in real_clusters:
        kind = "candidate_error" if is_candidate_error(cluster) else "real_difference"
        cluster_case = ET.SubElement(
            suite,
            "testcase",
            classname=_text(classname),
            name=_text(f"cluster {cluster_label(cluster)}"),
        )
        failure = ET.SubElement(
            cluster_case,
            "failure",
            type=kind,
            message=_text(f"{cluster.count} request(s): {cluster_label(cluster)}"),
        )
        failure.text = _text(_cluster_text(cluster))


def render_junit(reports: list[RouteReport], meta: ReportMeta) -> str:
    totals = grand_totals(reports)
    cases = sum(1 + len(r.clusters) for r in reports)
    failures = sum(int(failing(r)) + len(r.clusters) for r in reports)
    root = ET.Element(
        "testsuites",
        name=_text(meta.title),
        tests=str(cases),
        failures=str(failures),
        errors="0",
    )
    if meta.base or meta.candidate:
        root.set("base", _text(meta.base))
        root.set("candidate", _text(meta.candidate))
    root.set("compared", str(totals.compared))
    for report in reports:
        _route_suite(root, report, meta)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
