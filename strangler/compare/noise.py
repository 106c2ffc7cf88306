"""Telling noise from real differences, per route and per field key and kind.

For a sampled share of requests the base is called twice. Per (key, kind) we count

    x_c of n_c   comparisons where base and candidate differ there,
    x_b of n_b   double base calls where the base differs from itself there.

The question is one-sided: does the candidate differ there more often than the base differs
from itself? The test is the lower bound ``L`` of Newcombe's hybrid score interval (Newcombe
1998, method 10: two Wilson score intervals combined) for ``p_c - p_b``, one-sided at
confidence ``1 - alpha``. It keeps its coverage at rates near 0 and 1 and with small counts,
where the Wald interval collapses and where Diffy's fixed thresholds either flag every
volatile field early or hide a rare change for good.

The burden of proof is on the noise. A difference is discarded as noise only when

    x_b >= min_noise_count   (the base demonstrably varies there), and
    L <= 0                   (the candidate does not differ significantly more often).

Everything else is real: critical fields and status changes always; a field the base never
(or too rarely) varied on, however rarely the candidate differs there; a noisy field whose
candidate rate is significantly above its noise. The candidate's own repeat calls
(``x_cc``) are counted and shown, not used: a candidate that varies where the base does not
is itself a difference. Samples overlap (the double calls are a subset of all comparisons),
which makes the bound conservative, not optimistic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

__all__ = ["FieldStats", "Judgement", "NoiseSettings", "judge", "newcombe_lower", "wilson"]


@dataclass(frozen=True, slots=True)
class NoiseSettings:
    # One-sided error rate of the test per field: with ~100 noisy fields on a route, one
    # volatile field in ten routes is wrongly kept as real at the end of a run.
    alpha: float = 0.001
    # Base self-differences needed before a field can be called noisy: below 5 events the
    # Wilson interval for p_b is wider than p_b itself, and one data change between two
    # calls must not silence a field.
    min_noise_count: int = 5

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 0.5:
            raise ValueError(f"alpha must be in (0, 0.5), got {self.alpha}")
        if self.min_noise_count < 1:
            raise ValueError(f"min_noise_count must be at least 1, got {self.min_noise_count}")

    @property
    def z(self) -> float:
        return NormalDist().inv_cdf(1 - self.alpha)


def wilson(successes: int, trials: int, z: float) -> tuple[float, float]:
    """Wilson score interval for a proportion (each side at the one-sided level of ``z``)."""
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_lower(x1: int, n1: int, x2: int, n2: int, z: float) -> float:
    """Lower confidence bound of ``p1 - p2`` (hybrid score); -1 when a side has no trials."""
    if n1 == 0 or n2 == 0:
        return -1.0
    p1, p2 = x1 / n1, x2 / n2
    lower1, _ = wilson(x1, n1, z)
    _, upper2 = wilson(x2, n2, z)
    return (p1 - p2) - math.sqrt((p1 - lower1) ** 2 + (upper2 - p2) ** 2)


@dataclass(frozen=True, slots=True)
class Judgement:
    real: bool
    reason: str
    lower_bound: float | None = None


def judge(
    *,
    critical: bool,
    candidate_diffs: int,
    comparisons: int,
    base_diffs: int,
    base_samples: int,
    settings: NoiseSettings,
    z: float,
) -> Judgement:
    if critical:
        return Judgement(True, "critical: always reported")
    if base_diffs < settings.min_noise_count:
        return Judgement(
            True,
            f"the base varied here in {base_diffs} of {base_samples} double calls "
            f"(noise needs at least {settings.min_noise_count})",
        )
    bound = newcombe_lower(candidate_diffs, comparisons, base_diffs, base_samples, z)
    if bound > 0:
        return Judgement(
            True, f"differs more often than the base varies: lower bound {bound:.4g} > 0", bound
        )
    return Judgement(
        False,
        f"noise: the base varies here as often (lower bound {bound:.4g} <= 0 "
        f"at alpha {settings.alpha:g})",
        bound,
    )


@dataclass(frozen=True, slots=True)
class FieldStats:
    """One field key and kind on one route, as a report shows it."""

    route: str
    key: str
    kind: str
    candidate_diffs: int
    comparisons: int
    base_diffs: int
    base_samples: int
    candidate_self_diffs: int
    candidate_samples: int
    lower_bound: float | None
    real: bool
    reason: str
