"""A failing comparison as a test's failure message: the difference clusters in the words
of ``strangler compare``'s terminal report, without its colours.

Values come from the engine already cut short and redacted; what is shown here beyond them
(an exception's message, a value one side returned) is redacted the same way.
"""

from __future__ import annotations

from strangler.compare import ComparisonResult, RouteReport
from strangler.compare.redact import redact_json, redact_text
from strangler.compare.reports.common import cluster_label
from strangler.compare.values import show

__all__ = ["describe_answers", "describe_outcomes", "describe_values"]

# Differences listed per cluster's example: the engine keeps ten (StoreLimits); a failure
# message past a screenful is not read.
DIFFERENCES_SHOWN = 10


def _clusters(report: RouteReport | None, *, curl: bool) -> list[str]:
    if report is None or not report.clusters:
        return []
    lines = [f"{report.route}: clusters of differences"]
    for cluster in report.clusters:
        lines.append(f"  {cluster.count} x {cluster_label(cluster)}")
        if not cluster.examples:
            continue
        example = cluster.examples[0]
        if curl:
            lines.append(f"    e.g. {example.method} {example.target}")
        for d in example.differences[:DIFFERENCES_SHOWN]:
            lines.append(f"      {d.path}: base {d.base} → candidate {d.candidate}")
            if d.detail:
                lines.append(f"        ({d.detail})")
        if curl:
            lines.append(f"    {example.curl}")
    return lines


def _noise(result: ComparisonResult) -> list[str]:
    return [
        f"noise discarded on {n.difference.key} ({n.difference.kind.value}): {n.reason}"
        for n in result.noise
    ]


def describe_answers(
    result: ComparisonResult, report: RouteReport | None, *, what: str, base: str, candidate: str
) -> str:
    """Two answers to one request that do not agree (``what``: ``GET /path``)."""
    lines = [
        f"{what}: the candidate answers differently from the base "
        f"({result.verdict.value}: {result.reason or 'see below'})",
        f"base {base}  candidate {candidate}",
    ]
    return "\n".join(lines + _clusters(report, curl=True) + _noise(result))


def describe_values(
    result: ComparisonResult, report: RouteReport | None, *, old: str, new: str
) -> str:
    """Two code paths that returned values that do not agree."""
    lines = [f"{new} returns a different value from {old} (base: {old}, candidate: {new})"]
    return "\n".join(lines + _clusters(report, curl=False) + _noise(result))


def shown_outcome(value: object, error: BaseException | None) -> str:
    if error is not None:
        return f"raised {type(error).__qualname__}: {redact_text(str(error))}"
    return f"returned {show(redact_json(value))}"


def describe_outcomes(*, old: str, new: str, old_shown: str, new_shown: str) -> str:
    """One path raised where the other did not, or they raised different exceptions."""
    return f"{new} and {old} end differently:\n  {old} {old_shown}\n  {new} {new_shown}"
