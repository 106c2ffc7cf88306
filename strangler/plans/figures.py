"""Live figures for gates: a snapshot of the sources now, and the figures of a step's window.

A :class:`Snapshot` is what the sources said at one moment (cumulative counters, current
sync state; ``sources`` reads them). Gates look at what happened *during a step*, so
:func:`measure` takes the snapshot from when the step began and the one from now, and turns
the difference into :class:`Measurement` s. A figure nobody could read is ``None``: the
gate's verdict is then "inconclusive", never "passed".
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import requests

from strangler.plans.fleet_counts import proxy_counts
from strangler.plans.prometheus import PrometheusSource
from strangler.plans.schema import Plan
from strangler.plans.snapshot import RouteCounts, RouteSides, Snapshot, StreamState
from strangler.plans.sources import route_sides, stream_state

if TYPE_CHECKING:
    from strangler.control import ControlStore

# The snapshot's parts and the status read are named here too: the runner, the CLI and the
# proxy's write guard import them from this, the plans' entry point.
__all__ = [
    "Measurement",
    "RouteCounts",
    "RouteSides",
    "Snapshot",
    "StreamState",
    "collect",
    "measure",
    "quantile",
    "stream_state",
]


@dataclass(frozen=True)
class Measurement:
    value: float | None
    count: int | None = None
    """How many events the value rests on, for figures that are rates or ratios."""
    missing: str = ""
    """Why ``value`` is ``None`` when that is known (replicas that did not answer)."""


def collect(
    plan: Plan,
    *,
    admin_url: str,
    session: requests.Session,
    store: ControlStore | None = None,
    prometheus: PrometheusSource | None = None,
) -> Snapshot:
    """Ask the proxy and both sync nodes; what cannot be read is ``None`` with a reason.

    The proxy's counts come from ``prometheus`` when given, else from every replica the
    control ``store`` lists, else from the one admin API (:func:`fleet_counts.proxy_counts`).
    """
    errors: list[str] = []
    proxy, proxy_missing = proxy_counts(
        plan, admin_url=admin_url, session=session, store=store, prometheus=prometheus,
        errors=errors,
    )  # fmt: skip
    legacy, service = plan.nodes[plan.legacy], plan.nodes[plan.service]
    legacy_peer, service_peer = plan.peer_of(plan.legacy), plan.peer_of(plan.service)
    forward = stream_state(legacy.url, legacy_peer, service_peer, session, errors)
    reverse = stream_state(service.url, service_peer, legacy_peer, session, errors)
    return Snapshot(
        taken_at=time.time(),
        proxy=proxy,
        forward=forward,
        reverse=reverse,
        errors=errors,
        routes=route_sides(plan, admin_url, session, errors),
        proxy_missing=proxy_missing,
    )


def measure(plan: Plan, *, since: Snapshot, now: Snapshot) -> dict[str, Measurement]:
    """Every figure a gate may test, over the window from ``since`` to ``now``."""
    figures: dict[str, Measurement] = {}
    for prefix, stream in (("sync", now.forward), ("reverse_sync", now.reverse)):
        figures[f"{prefix}_lag_seconds"] = Measurement(stream.lag_seconds if stream else None)
        figures[f"{prefix}_backlog"] = Measurement(
            float(stream.backlog) if stream and stream.backlog is not None else None
        )
    forward = now.forward
    figures["sync_dead_letters"] = Measurement(
        float(forward.dead_letters) if forward and forward.dead_letters is not None else None
    )
    # Only a reconcile that finished during the step says anything about the step; of the
    # two directions', the latest (before cutover the monolith's, after it the service's).
    fresh = [
        stream
        for stream in (now.forward, now.reverse)
        if stream is not None
        and stream.reconcile_finished_at is not None
        and stream.reconcile_finished_at >= since.taken_at
        and stream.reconcile_diverged is not None
    ]
    latest = max(fresh, key=lambda s: s.reconcile_finished_at or 0.0, default=None)
    figures["reconcile_diverged"] = Measurement(
        float(latest.reconcile_diverged)
        if latest is not None and latest.reconcile_diverged is not None
        else None
    )
    figures.update(_traffic(plan, since, now))
    return figures


def _traffic(plan: Plan, since: Snapshot, now: Snapshot) -> dict[str, Measurement]:
    names = (
        "shadow_difference_rate",
        "service_error_rate",
        "service_error_rate_excess",
        "service_latency_p99_ratio",
    )
    if since.proxy is None or now.proxy is None:
        missing = now.proxy_missing if now.proxy is None else ""
        if since.proxy is None and not missing:
            missing = "the step began without the proxy's counts" + (
                f" ({since.proxy_missing})" if since.proxy_missing else ""
            )
        return {name: Measurement(None, missing=missing) for name in names}
    window = now.proxy.since(since.proxy)
    compared = window.shadow_match + window.shadow_mismatch
    mismatched = window.shadow_mismatch
    out = {
        "shadow_difference_rate": Measurement(
            mismatched / compared if compared > 0 else None, int(compared)
        )
    }
    # The proxy counts by upstream name.
    service, legacy = plan.upstream_of(plan.service), plan.upstream_of(plan.legacy)
    rates: dict[str, tuple[float | None, int]] = {}
    fell_back = window.fallbacks
    for side in (service, legacy):
        served = window.requests.get(side, 0.0)
        failed = window.errors.get(side, 0.0)
        if side == service:  # answered by the legacy side, but sent to the service first
            served, failed = served + fell_back, failed + fell_back
        elif fell_back:
            served -= fell_back
        rates[side] = (failed / served if served > 0 else None, int(served))
    service_rate, service_count = rates[service]
    legacy_rate, legacy_count = rates[legacy]
    out["service_error_rate"] = Measurement(service_rate, service_count)
    out["service_error_rate_excess"] = Measurement(
        max(0.0, service_rate - legacy_rate)
        if service_rate is not None and legacy_rate is not None
        else None,
        min(service_count, legacy_count),
    )
    p99 = {side: quantile(window.latency_buckets.get(side, {}), 0.99) for side in (service, legacy)}
    service_p99, legacy_p99 = p99[service], p99[legacy]
    out["service_latency_p99_ratio"] = Measurement(
        service_p99 / legacy_p99 if service_p99 is not None and legacy_p99 else None,
        min(service_count, legacy_count),
    )
    return out


def quantile(window: Mapping[str, float], q: float) -> float | None:
    """Quantile ``q`` of the requests a histogram counted over a window, interpolated
    linearly inside its bucket as Prometheus's ``histogram_quantile`` does: with the proxy's
    buckets (1, 2.5, 5, 10 ms...) a bucket's upper bound alone would turn one request a
    bucket slower into a ratio of 2 or more. Past the last finite bound it is infinite."""
    bounds = sorted(window, key=lambda b: math.inf if b == "+Inf" else float(b))
    counts = [(b, window[b]) for b in bounds]
    total = counts[-1][1] if counts else 0.0
    if total <= 0:
        return None
    rank = q * total
    lower, below = 0.0, 0.0
    for bound, cumulative in counts:
        if cumulative >= rank:
            if bound == "+Inf":
                return math.inf
            upper = float(bound)
            inside = cumulative - below
            return lower + (upper - lower) * ((rank - below) / inside if inside > 0 else 1.0)
        lower, below = (lower if bound == "+Inf" else float(bound)), cumulative
    return None
