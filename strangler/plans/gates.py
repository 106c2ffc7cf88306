"""A gate's verdict from measured figures: passed, failed or inconclusive. Pure.

Inconclusive (no figure yet, too few events, the step too young) pauses a plan: it is
never read as passed. Failed wins over inconclusive: one bad figure is enough to know.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from strangler.plans.figures import Measurement
from strangler.plans.schema import Gate

__all__ = ["ConditionResult", "GateResult", "Verdict", "evaluate"]

Verdict = Literal["passed", "failed", "inconclusive"]


@dataclass(frozen=True)
class ConditionResult:
    figure: str
    value: float | None
    max: float
    count: int | None
    min_count: int
    verdict: Verdict
    reason: str


@dataclass(frozen=True)
class GateResult:
    verdict: Verdict
    conditions: tuple[ConditionResult, ...]
    reason: str


def evaluate(gate: Gate, figures: Mapping[str, Measurement], *, step_seconds: float) -> GateResult:
    results = tuple(_condition(c.figure, c.max, c.min_count, figures) for c in gate.conditions)
    failed = [r for r in results if r.verdict == "failed"]
    unknown = [r for r in results if r.verdict == "inconclusive"]
    if failed:
        return GateResult("failed", results, "; ".join(r.reason for r in failed))
    if step_seconds < gate.min_seconds:
        return GateResult(
            "inconclusive",
            results,
            f"the step has run {step_seconds:.0f} s of the {gate.min_seconds:g} s it must run",
        )
    if unknown:
        return GateResult("inconclusive", results, "; ".join(r.reason for r in unknown))
    return GateResult("passed", results, "every condition holds" if results else "no conditions")


def _condition(
    figure: str, bound: float, min_count: int, figures: Mapping[str, Measurement]
) -> ConditionResult:
    measured = figures.get(figure, Measurement(None))
    value, count = measured.value, measured.count

    def result(verdict: Verdict, reason: str) -> ConditionResult:
        return ConditionResult(figure, value, bound, count, min_count, verdict, reason)

    if value is None:
        return result("inconclusive", f"{figure}: {measured.missing or 'no data yet'}")
    if min_count and (count or 0) < min_count:
        return result(
            "inconclusive", f"{figure}: {count or 0} of the {min_count} events it needs so far"
        )
    if value > bound:
        return result("failed", f"{figure} is {value:g}, above its limit {bound:g}")
    return result("passed", f"{figure} is {value:g} (limit {bound:g})")
