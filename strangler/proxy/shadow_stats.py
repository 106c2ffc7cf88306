"""What shadowed requests came to, counted per route and in the metrics."""

from __future__ import annotations

from dataclasses import dataclass, field

from strangler.compare import Verdict
from strangler.proxy.metrics import SHADOW_RESULTS

__all__ = ["OUTCOMES", "OUTCOME_OF", "ShadowStats"]

# What a shadowed request came to: match (equal, or only noise), mismatch (a real
# difference), candidate_error (the service broke where the monolith answered),
# not_comparable (the service's data was behind, or the monolith failed), or not compared:
# dropped (a queue was full), skipped (body too large to copy), error (a bug; logged).
OUTCOMES = (
    "match",
    "mismatch",
    "candidate_error",
    "not_comparable",
    "dropped",
    "skipped",
    "error",
)
OUTCOME_OF = {
    Verdict.EQUAL: "match",
    Verdict.NOISE_ONLY: "match",
    Verdict.DIFFERENT: "mismatch",
    Verdict.CANDIDATE_ERROR: "candidate_error",
    Verdict.NOT_COMPARABLE: "not_comparable",
}


@dataclass
class ShadowStats:
    match: int = 0
    mismatch: int = 0
    candidate_error: int = 0
    not_comparable: int = 0
    dropped: int = 0
    skipped: int = 0
    error: int = 0
    retried: int = 0
    per_route: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, route: str, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)
        bucket = self.per_route.setdefault(route, {})
        bucket[outcome] = bucket.get(outcome, 0) + 1
        SHADOW_RESULTS.labels(route, outcome).inc()
