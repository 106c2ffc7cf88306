"""Prometheus metrics of the proxy. With several workers, set ``PROMETHEUS_MULTIPROC_DIR``
(``strangler.proxy.__main__`` does) so ``/metrics`` sums every worker's counts."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "ADDED_LATENCY",
    "BREAKER_STATE",
    "CAPTURE_RECORDS",
    "CLIENT_CONNECTIONS",
    "CLIENT_DISCONNECTS",
    "CONNECTIONS_CLOSED",
    "DISCOVERY_RESOLUTIONS",
    "EDGE_REFUSALS",
    "ENDPOINTS",
    "ENDPOINT_EJECTIONS",
    "ENDPOINT_OUTSTANDING",
    "FALLBACKS",
    "FLUSH_SECONDS",
    "HELD_OUTCOMES",
    "HELD_REQUESTS",
    "REQUESTS",
    "REQUEST_LATENCY",
    "SERVED_HOLDS_VERSION",
    "SERVED_TABLE_VERSION",
    "SHADOW_RESULTS",
    "STORE_UP",
    "TALLY",
    "UPSTREAM_ERRORS",
    "WRITES_IN_FLIGHT",
    "RequestTally",
    "declare_routes",
    "writes_in_flight_of",
]

# Buckets from 0.1 ms: the proxy's own added time lives well below a millisecond.
_FAST_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
)
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUESTS = Counter(
    "strangler_proxy_requests_total",
    "Requests answered, by route, the upstream that answered, the route's mode and status.",
    ["route", "upstream", "mode", "status"],
)
REQUEST_LATENCY = Histogram(
    "strangler_proxy_request_duration_seconds",
    "Time from the request's arrival to the end of the response.",
    ["route", "upstream"],
    buckets=_BUCKETS,
)
ADDED_LATENCY = Histogram(
    "strangler_proxy_added_seconds",
    "The proxy's own time: the total less the time waiting on the upstream.",
    ["route"],
    buckets=_FAST_BUCKETS,
)
UPSTREAM_ERRORS = Counter(
    "strangler_proxy_upstream_errors_total",
    "Upstream failures by kind: connect, timeout, status_5xx, circuit_open, broken.",
    ["upstream", "kind"],
)
FALLBACKS = Counter(
    "strangler_proxy_fallbacks_total",
    "Requests the service failed that the monolith answered instead.",
    ["route"],
)
BREAKER_STATE = Gauge(
    "strangler_proxy_breaker_state",
    "Circuit breaker per upstream: 0 closed, 1 half-open, 2 open.",
    ["upstream"],
    multiprocess_mode="max",
)
ENDPOINTS = Gauge(
    "strangler_proxy_endpoints",
    "Endpoints per upstream by state: healthy, unchecked, unhealthy (active check), ejected "
    "(passive: failures in a row).",
    ["upstream", "state"],
    # Each worker checks and ejects on its own: the worst worker's view.
    multiprocess_mode="livemax",
)
ENDPOINT_EJECTIONS = Counter(
    "strangler_proxy_endpoint_ejections_total",
    "Endpoints taken out after failing requests in a row (outlier ejection).",
    ["upstream", "endpoint"],
)
ENDPOINT_OUTSTANDING = Gauge(
    "strangler_proxy_endpoint_outstanding",
    "Requests in flight per endpoint (sampled every second), all workers summed.",
    ["upstream", "endpoint"],
    multiprocess_mode="livesum",
)
DISCOVERY_RESOLUTIONS = Counter(
    "strangler_proxy_discovery_resolutions_total",
    "DNS resolutions of an upstream's endpoints, by outcome: ok, failed (the last endpoints kept).",
    ["upstream", "outcome"],
)
HELD_REQUESTS = Gauge(
    "strangler_proxy_held_requests",
    "Writes waiting now for a route's hold (a cutover) to be released.",
    ["route"],
    multiprocess_mode="livesum",
)
WRITES_IN_FLIGHT = Gauge(
    "strangler_proxy_writes_in_flight",
    "Writes sent to an upstream and not answered yet, by route: a cutover waits for the ones "
    "sent before its hold before it drains the sync.",
    ["route"],
    multiprocess_mode="livesum",
)
_IN_FLIGHT: dict[str, Gauge] = {}


def writes_in_flight_of(route: str) -> Gauge:
    """``route``'s child of WRITES_IN_FLIGHT, kept (``labels()`` costs a microsecond)."""
    gauge = _IN_FLIGHT.get(route)
    if gauge is None:
        gauge = _IN_FLIGHT[route] = WRITES_IN_FLIGHT.labels(route)
    return gauge


def declare_routes(routes: Iterable[str]) -> None:
    """Report 0 writes in flight for every route of a table just installed: a cutover
    reads a route missing from ``/metrics`` as a proxy that cannot tell, never as done."""
    for route in routes:
        writes_in_flight_of(route)


HELD_OUTCOMES = Counter(
    "strangler_proxy_held_total",
    "Writes that waited for a hold, by outcome: released (then served), expired (503).",
    ["route", "outcome"],
)
SHADOW_RESULTS = Counter(
    "strangler_proxy_shadow_total",
    "Shadow comparisons by outcome: match, mismatch, dropped, skipped, error.",
    ["route", "outcome"],
)
CAPTURE_RECORDS = Counter(
    "strangler_proxy_capture_records_total",
    "Sampled requests for the capture file, by outcome: written, dropped (queue full), failed.",
    ["route", "outcome"],
)
CLIENT_DISCONNECTS = Counter(
    "strangler_proxy_client_disconnects_total",
    "Clients that went away before their response was fully written.",
)
CLIENT_CONNECTIONS = Gauge(
    "strangler_proxy_client_connections",
    "Client connections open now on the public port.",
    multiprocess_mode="livesum",
)
CONNECTIONS_CLOSED = Counter(
    "strangler_proxy_connections_closed_total",
    "Client connections the proxy closed at its edge, by reason: header_timeout, "
    "keepalive_timeout, evicted (at the cap, the one waiting longest for a request), "
    "refused (at the cap with none waiting), header_too_large (a head still growing).",
    ["reason"],
)
EDGE_REFUSALS = Counter(
    "strangler_proxy_edge_refusals_total",
    "Requests refused before routing, by code: header_too_large, too_many_headers, "
    "uri_too_long, http_version_not_supported, bad_request (unparseable).",
    ["code"],
)
# A fleet's replica (STRANGLER_STORE_URL set), one series per member (``<replica>/<worker>``,
# each worker its own). Absent with the file store: no store to be up or down.
STORE_UP = Gauge(
    "strangler_proxy_store_up",
    "1 while this member reaches the shared control store, 0 while it serves its last table "
    "and holds without it (degraded).",
    ["member"],
    multiprocess_mode="livemax",
)
SERVED_TABLE_VERSION = Gauge(
    "strangler_proxy_table_version",
    "The control store's route table version this member serves.",
    ["member"],
    multiprocess_mode="livemax",
)
SERVED_HOLDS_VERSION = Gauge(
    "strangler_proxy_holds_version",
    "The control store's write holds version this member holds writes by.",
    ["member"],
    multiprocess_mode="livemax",
)

# How often the request tally reaches the metrics above: a scrape (every 15 s or more) sees
# the figures at most this old from another worker; the worker serving it flushes first.
FLUSH_SECONDS = 1.0


class _Pending:
    __slots__ = ("added", "added_sum", "count", "total", "total_sum")

    def __init__(self, total_buckets: int, added_buckets: int) -> None:
        self.count = 0
        self.total = [0] * (total_buckets + 1)  # the last: above every bound (+Inf)
        self.total_sum = 0.0
        self.added = [0] * (added_buckets + 1)
        self.added_sum = 0.0


class RequestTally:
    """The per-request metrics (REQUESTS, REQUEST_LATENCY, ADDED_LATENCY), counted in plain
    Python and added to the Prometheus metrics in bulk by ``flush``. prometheus_client
    takes a lock per increment: five a request, ~5 us of a ~120 us request, twice that with
    PROMETHEUS_MULTIPROC_DIR (profiled, bench/README.md); this is one dict lookup."""

    def __init__(
        self,
        *,
        requests: Counter = REQUESTS,
        latency: Histogram = REQUEST_LATENCY,
        added: Histogram = ADDED_LATENCY,
        latency_buckets: tuple[float, ...] = _BUCKETS,
        added_buckets: tuple[float, ...] = _FAST_BUCKETS,
    ) -> None:
        self._requests, self._latency, self._added = requests, latency, added
        self._latency_buckets, self._added_buckets = latency_buckets, added_buckets
        self._pending: dict[tuple[str, str, str, int], _Pending] = {}

    def record(
        self, route: str, upstream: str, mode: str, status: int, total: float, added: float
    ) -> None:
        key = (route, upstream, mode, status)
        pending = self._pending.get(key)
        if pending is None:
            pending = _Pending(len(self._latency_buckets), len(self._added_buckets))
            self._pending[key] = pending
        pending.count += 1
        # bisect_left: the first bound >= the value, as Histogram.observe counts ("le").
        pending.total[bisect_left(self._latency_buckets, total)] += 1
        pending.total_sum += total
        pending.added[bisect_left(self._added_buckets, added)] += 1
        pending.added_sum += added

    def flush(self) -> None:
        pending, self._pending = self._pending, {}
        for (route, upstream, mode, status), counts in pending.items():
            self._requests.labels(route, upstream, mode, str(status)).inc(counts.count)
            _add(self._latency.labels(route, upstream), counts.total, counts.total_sum)
            _add(self._added.labels(route), counts.added, counts.added_sum)


def _add(histogram: Any, buckets: list[int], total: float) -> None:
    """Observations added to a labelled histogram in bulk. prometheus_client has no public
    call for it; these are the two value lists ``Histogram.observe`` itself increments
    (tests/proxy/test_metrics.py pins the result to observe()'s)."""
    histogram._sum.inc(total)
    for index, count in enumerate(buckets):
        if count:
            histogram._buckets[index].inc(count)


TALLY = RequestTally()
