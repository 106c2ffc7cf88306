"""Live figures for gates: read from the proxy's metrics and the sync nodes' status.

A :class:`Snapshot` is what the sources said at one moment (cumulative counters, current
sync state). Gates look at what happened *during a step*, so :func:`measure` takes the
snapshot from when the step began and the one from now, and turns the difference into
:class:`Measurement` s. A figure nobody could read is ``None``: the gate's verdict is then
"inconclusive", never "passed".
"""

from __future__ import annotations

import datetime
import math
import os
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from prometheus_client.parser import text_string_to_metric_families

from strangler.plans.schema import Plan
from strangler.proxy_admin import admin_headers
from strangler.sync.signing import sign_sync_call

__all__ = [
    "Measurement",
    "RouteCounts",
    "RouteSides",
    "Snapshot",
    "StreamState",
    "collect",
    "measure",
    "stream_state",
]

# Both sources are on the inside network and answer from memory or one query: 2 s to
# connect and 10 s to answer leave room for a loaded node without hanging `plan status`.
CONNECT_TIMEOUT_SECONDS = 2.0
READ_TIMEOUT_SECONDS = 10.0
_SYNC_SECRET_VARIABLE = "STRANGLER_SYNC_SECRET"  # noqa: S105 - the variable's name


@dataclass
class RouteCounts:
    """Cumulative counts of the plan's routes, per upstream, since the proxy started."""

    requests: dict[str, float] = field(default_factory=dict)
    errors: dict[str, float] = field(default_factory=dict)
    # upstream -> {bucket upper bound as text -> cumulative count}
    latency_buckets: dict[str, dict[str, float]] = field(default_factory=dict)
    shadow_match: float = 0.0
    shadow_mismatch: float = 0.0
    # Requests the service failed that the legacy side then answered (fallback): failures of
    # the service all the same, though no user saw them.
    fallbacks: float = 0.0


@dataclass(frozen=True)
class StreamState:
    """One sync stream as its source node reports it."""

    enabled: bool
    paused_reason: str
    backlog: int | None
    lag_seconds: float | None
    dead_letters: int | None
    reconcile_finished_at: float | None
    reconcile_diverged: int | None


@dataclass(frozen=True)
class RouteSides:
    """Who answers a plan's route now, as the proxy's table says."""

    mode: str
    read_sides: list[str]
    write_owner: str


@dataclass
class Snapshot:
    taken_at: float
    proxy: RouteCounts | None
    forward: StreamState | None
    reverse: StreamState | None
    errors: list[str] = field(default_factory=list)
    routes: dict[str, RouteSides] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Snapshot:
        proxy = data.get("proxy")
        return cls(
            taken_at=float(data["taken_at"]),
            proxy=RouteCounts(
                requests=dict(proxy["requests"]),
                errors=dict(proxy["errors"]),
                latency_buckets=proxy["latency_buckets"],
                shadow_match=proxy["shadow_match"],
                shadow_mismatch=proxy["shadow_mismatch"],
                fallbacks=proxy.get("fallbacks", 0.0),
            )
            if proxy
            else None,
            forward=StreamState(**data["forward"]) if data.get("forward") else None,
            reverse=StreamState(**data["reverse"]) if data.get("reverse") else None,
            errors=list(data.get("errors", [])),
            routes={name: RouteSides(**sides) for name, sides in data.get("routes", {}).items()},
        )


@dataclass(frozen=True)
class Measurement:
    value: float | None
    count: int | None = None
    """How many events the value rests on, for figures that are rates or ratios."""


def collect(plan: Plan, *, admin_url: str, session: requests.Session) -> Snapshot:
    """Ask the proxy and both sync nodes; what cannot be read is ``None`` with a reason."""
    errors: list[str] = []
    proxy = _proxy_counts(plan, admin_url, session, errors)
    legacy, service = plan.nodes[plan.legacy], plan.nodes[plan.service]
    forward = stream_state(legacy.url, plan.legacy, plan.service, session, errors)
    reverse = stream_state(service.url, plan.service, plan.legacy, session, errors)
    return Snapshot(
        taken_at=time.time(),
        proxy=proxy,
        forward=forward,
        reverse=reverse,
        errors=errors,
        routes=_route_sides(plan, admin_url, session, errors),
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
    figures.update(_traffic(plan, since.proxy, now.proxy))
    return figures


def _traffic(
    plan: Plan, before: RouteCounts | None, after: RouteCounts | None
) -> dict[str, Measurement]:
    names = (
        "shadow_difference_rate",
        "service_error_rate",
        "service_error_rate_excess",
        "service_latency_p99_ratio",
    )
    if before is None or after is None:
        return {name: Measurement(None) for name in names}
    compared = (after.shadow_match - before.shadow_match) + (
        after.shadow_mismatch - before.shadow_mismatch
    )
    mismatched = after.shadow_mismatch - before.shadow_mismatch
    out = {
        "shadow_difference_rate": Measurement(
            mismatched / compared if compared > 0 else None, int(compared)
        )
    }
    rates: dict[str, tuple[float | None, int]] = {}
    fell_back = after.fallbacks - before.fallbacks
    for side in (plan.service, plan.legacy):
        served = after.requests.get(side, 0.0) - before.requests.get(side, 0.0)
        failed = after.errors.get(side, 0.0) - before.errors.get(side, 0.0)
        if side == plan.service:  # answered by the legacy side, but sent to the service first
            served, failed = served + fell_back, failed + fell_back
        elif fell_back:
            served -= fell_back
        rates[side] = (failed / served if served > 0 else None, int(served))
    service_rate, service_count = rates[plan.service]
    legacy_rate, legacy_count = rates[plan.legacy]
    out["service_error_rate"] = Measurement(service_rate, service_count)
    out["service_error_rate_excess"] = Measurement(
        max(0.0, service_rate - legacy_rate)
        if service_rate is not None and legacy_rate is not None
        else None,
        min(service_count, legacy_count),
    )
    p99 = {
        side: _quantile(
            before.latency_buckets.get(side, {}), after.latency_buckets.get(side, {}), 0.99
        )
        for side in (plan.service, plan.legacy)
    }
    service_p99, legacy_p99 = p99[plan.service], p99[plan.legacy]
    out["service_latency_p99_ratio"] = Measurement(
        service_p99 / legacy_p99 if service_p99 is not None and legacy_p99 else None,
        min(service_count, legacy_count),
    )
    return out


def _quantile(before: Mapping[str, float], after: Mapping[str, float], q: float) -> float | None:
    """Quantile ``q`` of the requests between two histogram readings, interpolated linearly
    inside its bucket as Prometheus's ``histogram_quantile`` does: with the proxy's buckets
    (1, 2.5, 5, 10 ms...) a bucket's upper bound alone would turn one request a bucket
    slower into a ratio of 2 or more. Past the last finite bound it is infinite."""
    bounds = sorted(after, key=lambda b: math.inf if b == "+Inf" else float(b))
    counts = [(b, after[b] - before.get(b, 0.0)) for b in bounds]
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


def _route_sides(
    plan: Plan, admin_url: str, session: requests.Session, errors: list[str]
) -> dict[str, RouteSides]:
    try:
        response = session.get(
            f"{admin_url.rstrip('/')}/routes",
            headers=admin_headers(),
            timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
        )
        response.raise_for_status()
        listing = response.json()
    except (requests.RequestException, ValueError) as exc:
        errors.append(f"proxy routes at {admin_url}: {exc}")
        return {}
    sides = {}
    for row in listing.get("routes", []) if isinstance(listing, dict) else []:
        if isinstance(row, dict) and row.get("name") in plan.routes:
            sides[str(row["name"])] = RouteSides(
                mode=str(row.get("mode")),
                read_sides=[str(side) for side in row.get("read_sides", [])],
                write_owner=str(row.get("write_owner")),
            )
    return sides


def _proxy_counts(
    plan: Plan, admin_url: str, session: requests.Session, errors: list[str]
) -> RouteCounts | None:
    try:
        response = session.get(
            f"{admin_url.rstrip('/')}/metrics",
            headers=admin_headers(),
            timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
        )
        response.raise_for_status()
    except requests.RequestException as exc:
        errors.append(f"proxy metrics at {admin_url}: {exc}")
        return None
    routes = set(plan.routes)
    counts = RouteCounts()
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = sample.labels
            if labels.get("route") not in routes:
                continue
            if sample.name == "strangler_proxy_requests_total":
                upstream = labels["upstream"]
                counts.requests[upstream] = counts.requests.get(upstream, 0.0) + sample.value
                if labels["status"].startswith("5"):
                    counts.errors[upstream] = counts.errors.get(upstream, 0.0) + sample.value
            elif sample.name == "strangler_proxy_request_duration_seconds_bucket":
                buckets = counts.latency_buckets.setdefault(labels["upstream"], {})
                buckets[labels["le"]] = buckets.get(labels["le"], 0.0) + sample.value
            elif sample.name == "strangler_proxy_fallbacks_total":
                counts.fallbacks += sample.value
            elif sample.name == "strangler_proxy_shadow_total":
                if labels["outcome"] == "match":
                    counts.shadow_match += sample.value
                elif labels["outcome"] in ("mismatch", "candidate_error"):
                    # A service that broke where the monolith answered is a difference too.
                    counts.shadow_mismatch += sample.value
    return counts


def stream_state(
    node_url: str,
    node: str,
    peer: str,
    session: requests.Session,
    errors: list[str],
    *,
    secret: str | None = None,
) -> StreamState | None:
    """The stream from ``node`` (at ``node_url``) to ``peer``, as ``node`` reports it; ``None``
    (with the reason added to ``errors``) when it cannot be read or ``node`` has no such peer.
    The read is signed as ``peer``, the only sender ``node`` takes calls from (docs/sync.md,
    "Authentication"). ``secret``: the sync secret, else ``$STRANGLER_SYNC_SECRET``."""
    url = f"{node_url.rstrip('/')}/internal/sync/status"
    if secret is None:
        secret = os.environ.get(_SYNC_SECRET_VARIABLE, "")
    headers: dict[str, str] = {}
    if secret:
        path = urlsplit(url).path
        headers = sign_sync_call(
            secret=secret, method="GET", path=path, body=b"", sender=peer, receiver=node,
            now=time.time(),
        )  # fmt: skip
    try:
        response = session.get(
            url, headers=headers, timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS)
        )
        response.raise_for_status()
        status = response.json()
    except (requests.RequestException, ValueError) as exc:
        errors.append(f"sync status at {url}: {exc}")
        return None
    return _stream_from_status(status, peer)


def _stream_from_status(status: Any, peer: str) -> StreamState | None:
    """The stream to ``peer`` from a node's status document (``sync_status --json``)."""
    streams = status.get("streams", []) if isinstance(status, dict) else []
    stream = next((s for s in streams if isinstance(s, dict) and s.get("peer") == peer), None)
    if stream is None:
        return None
    dead = status.get("dead_letters")
    # A reconcile counts once every table to the peer has finished one: the oldest of their
    # latest runs is when the whole stream was last verified.
    runs = [r for r in status.get("last_reconcile") or [] if r.get("peer") == peer]
    finished = [_epoch(r.get("finished_at")) for r in runs]
    complete = bool(runs) and all(f is not None for f in finished)
    return StreamState(
        enabled=bool(stream.get("enabled")),
        paused_reason=str(stream.get("paused_reason") or ""),
        backlog=_int_or_none(stream.get("backlog")),
        lag_seconds=_float_or_none(stream.get("lag_seconds")),
        dead_letters=_int_or_none(dead.get("parked") if isinstance(dead, dict) else dead),
        reconcile_finished_at=min(f for f in finished if f is not None) if complete else None,
        reconcile_diverged=sum(int(r.get("diverged") or 0) for r in runs) if complete else None,
    )


def _epoch(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None


def _int_or_none(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _float_or_none(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
