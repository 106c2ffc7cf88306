"""The comparison engine: one call per request, a verdict back, aggregates kept per route.

Order of decisions for one request:

1. the candidate gave no answer, or a 5xx where the base did not → ``candidate_error``;
2. the base failed (5xx) and the candidate did not answer the same → ``not_comparable``;
3. no difference → ``equal``;
4. differences, and the freshness information says the two sides served different
   versions of the data → ``not_comparable`` (retry later), not counted as a difference;
5. each difference is real or noise (``strangler.compare.noise``); a difference that the
   repeat base call of this very request also shows is noise for this request; status
   changes and critical fields are always real → ``different`` or ``noise_only``.

A base that gave no answer at all (offline replay: refused, timed out) is not compared:
``base_failed`` counts it ``not_comparable``. Every call counts in the route's status matrix
and, when the caller timed the sides, in their latency histograms.

Only steps 3 and 5 feed the noise counts, so stale data and broken candidates never make a
field look noisy or real. The engine is synchronous and does no I/O (the freshness
callable aside); one instance is meant to live in one process (the proxy's shadow workers
call it from one event loop thread).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from strangler.compare.compiled import RuleBook
from strangler.compare.curl import curl_command
from strangler.compare.model import (
    CandidateFailure,
    ComparisonResult,
    DataVersions,
    Difference,
    DiscardedDifference,
    FreshnessCheck,
    HttpRequest,
    HttpResponse,
    Signature,
    Verdict,
)
from strangler.compare.noise import NoiseSettings
from strangler.compare.redact import redact_target
from strangler.compare.responses import diff_responses
from strangler.compare.state import AggregateState
from strangler.compare.store import (
    CANDIDATE_ERROR_KEY,
    ClusterExample,
    RouteAggregate,
    RouteReport,
    StoreLimits,
)

__all__ = ["CompareEngine"]

_PAIRED_NOISE = "the base differs from itself here on this very request"


def _keys(differences: list[Difference]) -> set[tuple[str, str]]:
    return {(d.key, d.kind.value) for d in differences}


def _side(answer: HttpResponse | CandidateFailure) -> str:
    """A side's column in the status matrix: its status, or how it failed."""
    return answer.kind if isinstance(answer, CandidateFailure) else str(answer.status)


def _signature(differences: list[Difference]) -> Signature:
    return tuple(sorted(_keys(differences)))


class CompareEngine:
    def __init__(
        self,
        rules: RuleBook | None = None,
        *,
        noise: NoiseSettings | None = None,
        limits: StoreLimits | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.rules = rules or RuleBook()
        self.noise = noise or NoiseSettings()
        self.limits = limits or StoreLimits()
        self.clock = clock
        self._routes: dict[str, RouteAggregate] = {}
        self.dropped_routes = 0  # comparisons on routes past the cap, judged but not kept

    def differences(
        self, route: str, request: HttpRequest, base: HttpResponse, candidate: HttpResponse
    ) -> tuple[list[Difference], bool]:
        """The raw differences under the route's rules, recording nothing."""
        return diff_responses(request, base, candidate, self.rules.for_route(route))

    def compare(
        self,
        route: str,
        request: HttpRequest,
        base: HttpResponse,
        candidate: HttpResponse | CandidateFailure,
        *,
        base_again: HttpResponse | None = None,
        candidate_again: HttpResponse | None = None,
        freshness: DataVersions | FreshnessCheck | None = None,
        base_latency: float | None = None,
        candidate_latency: float | None = None,
    ) -> ComparisonResult:
        """``base_latency`` and ``candidate_latency`` (seconds), when given, feed the route's
        latency histograms; every call counts in the route's status matrix."""
        aggregate = self._aggregate(route)
        if aggregate is not None:
            sides = (_side(base), _side(candidate))
            aggregate.observe_sides(sides, base_latency, candidate_latency)
        if isinstance(candidate, CandidateFailure):
            reason = f"the candidate failed: {candidate.kind}"
            reason += f" ({candidate.detail})" if candidate.detail else ""
            return self._broken(aggregate, route, request, base, None, candidate.kind, reason)
        if candidate.status >= 500 and base.status < 500:
            reason = f"the candidate answered {candidate.status} where the base answered "
            reason += str(base.status)
            return self._broken(
                aggregate,
                route,
                request,
                base,
                candidate.status,
                f"status {candidate.status}",
                reason,
            )
        if base.status >= 500 and candidate.status != base.status:
            reason = f"the base failed with {base.status}: nothing to compare against"
            return self._finish(
                aggregate, ComparisonResult(route, Verdict.NOT_COMPARABLE, reason=reason)
            )
        differences, truncated = self.differences(route, request, base, candidate)
        if differences:
            versions = freshness() if callable(freshness) else freshness
            if versions is not None and not versions.comparable:
                result = ComparisonResult(route, Verdict.NOT_COMPARABLE, reason=versions.describe())
                return self._finish(aggregate, result)
        base_noise = self._noise(route, request, base, base_again)
        candidate_noise = self._noise(route, request, candidate, candidate_again)
        if aggregate is not None:
            aggregate.observe(differences, base_noise, candidate_noise)
        if not differences:
            return self._finish(aggregate, ComparisonResult(route, Verdict.EQUAL))
        return self._judge(
            aggregate, route, request, base, candidate, differences, base_noise, truncated
        )

    def base_failed(
        self,
        route: str,
        failure: CandidateFailure,
        *,
        candidate: HttpResponse | CandidateFailure | None = None,
        base_latency: float | None = None,
        candidate_latency: float | None = None,
    ) -> ComparisonResult:
        """The base gave no answer (``failure`` says how): nothing to compare against, so
        ``not_comparable``; the status matrix and latencies still count it."""
        aggregate = self._aggregate(route)
        if aggregate is not None:
            side = "-" if candidate is None else _side(candidate)
            aggregate.observe_sides((failure.kind, side), base_latency, candidate_latency)
        reason = f"the base failed: {failure.kind}"
        reason += f" ({failure.detail})" if failure.detail else ""
        return self._finish(
            aggregate, ComparisonResult(route, Verdict.NOT_COMPARABLE, reason=reason)
        )

    def _noise(
        self, route: str, request: HttpRequest, first: HttpResponse, again: HttpResponse | None
    ) -> set[tuple[str, str]] | None:
        if again is None:
            return None
        return _keys(self.differences(route, request, first, again)[0])

    def _judge(
        self,
        aggregate: RouteAggregate | None,
        route: str,
        request: HttpRequest,
        base: HttpResponse,
        candidate: HttpResponse,
        differences: list[Difference],
        base_noise: set[tuple[str, str]] | None,
        truncated: bool,
    ) -> ComparisonResult:
        real: list[Difference] = []
        noise: list[DiscardedDifference] = []
        unexplained: list[Difference] = []
        for difference in differences:
            key = (difference.key, difference.kind.value)
            if not difference.critical and base_noise is not None and key in base_noise:
                noise.append(DiscardedDifference(difference, _PAIRED_NOISE))
                continue
            unexplained.append(difference)
            if aggregate is None:
                real.append(difference)
                continue
            judgement = aggregate.judge(key, critical=difference.critical)
            if judgement.real:
                real.append(difference)
            else:
                noise.append(DiscardedDifference(difference, judgement.reason))
        verdict = Verdict.DIFFERENT if real else Verdict.NOISE_ONLY
        reason = f"{len(real)} real, {len(noise)} noise"
        reason += f" (only the first {len(differences)} differences kept)" if truncated else ""
        result = ComparisonResult(
            route, verdict, tuple(real), tuple(noise), reason, _signature(real)
        )
        if aggregate is not None:
            raw = _signature(unexplained)
            if raw:
                self._remember(aggregate, raw, request, base, candidate.status, unexplained)
            else:
                aggregate.noise_explained += 1
        return self._finish(aggregate, result)

    def _broken(
        self,
        aggregate: RouteAggregate | None,
        route: str,
        request: HttpRequest,
        base: HttpResponse,
        candidate_status: int | None,
        kind: str,
        reason: str,
    ) -> ComparisonResult:
        signature: Signature = ((CANDIDATE_ERROR_KEY, kind),)
        if aggregate is not None:
            self._remember(aggregate, signature, request, base, candidate_status, [])
        result = ComparisonResult(
            route, Verdict.CANDIDATE_ERROR, reason=reason, signature=signature
        )
        return self._finish(aggregate, result)

    def _remember(
        self,
        aggregate: RouteAggregate,
        signature: Signature,
        request: HttpRequest,
        base: HttpResponse,
        candidate_status: int | None,
        differences: list[Difference],
    ) -> None:
        at = self.clock()
        example = None
        if aggregate.wants_example(signature):
            example = ClusterExample(
                at=at,
                method=request.method,
                target=redact_target(request.target),
                curl=curl_command(request),
                base_status=base.status,
                candidate_status=candidate_status,
                differences=tuple(differences[: self.limits.max_example_differences]),
            )
        aggregate.remember(signature, at, example)

    def _finish(
        self, aggregate: RouteAggregate | None, result: ComparisonResult
    ) -> ComparisonResult:
        if aggregate is not None:
            aggregate.count_verdict(result.verdict.value)
        return result

    def _aggregate(self, route: str) -> RouteAggregate | None:
        aggregate = self._routes.get(route)
        if aggregate is None:
            if len(self._routes) >= self.limits.max_routes:
                self.dropped_routes += 1
                return None
            aggregate = self._routes[route] = RouteAggregate(route, self.limits, self.noise)
        return aggregate

    def report(self, route: str) -> RouteReport | None:
        aggregate = self._routes.get(route)
        return None if aggregate is None else aggregate.report()

    def reports(self) -> list[RouteReport]:
        return [aggregate.report() for _, aggregate in sorted(self._routes.items())]

    def states(self) -> list[AggregateState]:
        """Every route's counts as plain values (copies), for the results store."""
        return [aggregate.state() for _, aggregate in sorted(self._routes.items())]
