"""The request tally: counted per request in plain Python, added to Prometheus in bulk."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from strangler.proxy.metrics import RequestTally

LATENCY_BUCKETS = (0.001, 0.01, 0.1, 1.0)
ADDED_BUCKETS = (0.0001, 0.001)
# Values on, between, below and above the bounds: "le" counts a value equal to a bound.
SAMPLES = [
    ("products", "catalog", "service", 200, 0.0005, 0.00005),
    ("products", "catalog", "service", 200, 0.01, 0.0001),
    ("products", "catalog", "service", 200, 0.05, 0.002),
    ("products", "catalog", "service", 503, 2.5, 0.0002),
    ("(default)", "monolith", "monolith", 200, 0.001, 0.001),
]


def _exposition(registry: CollectorRegistry) -> list[str]:
    """The text format without the ``_created`` timestamps (when each series began)."""
    text = generate_latest(registry).decode()
    return [line for line in text.splitlines() if "_created" not in line]


def _metrics() -> tuple[CollectorRegistry, Counter, Histogram, Histogram]:
    registry = CollectorRegistry()
    requests = Counter("t_requests_total", "x", ["route", "upstream", "mode", "status"],
                       registry=registry)  # fmt: skip
    latency = Histogram("t_latency_seconds", "x", ["route", "upstream"],
                        buckets=LATENCY_BUCKETS, registry=registry)  # fmt: skip
    added = Histogram("t_added_seconds", "x", ["route"], buckets=ADDED_BUCKETS,
                      registry=registry)  # fmt: skip
    return registry, requests, latency, added


def test_a_flushed_tally_exposes_exactly_what_observing_each_request_would() -> None:
    expected, requests, latency, added = _metrics()
    for route, upstream, mode, status, total, own in SAMPLES:
        requests.labels(route, upstream, mode, str(status)).inc()
        latency.labels(route, upstream).observe(total)
        added.labels(route).observe(own)
    flushed, requests, latency, added = _metrics()
    tally = RequestTally(
        requests=requests, latency=latency, added=added,
        latency_buckets=LATENCY_BUCKETS, added_buckets=ADDED_BUCKETS,
    )  # fmt: skip

    for sample in SAMPLES:
        tally.record(*sample)
    before = generate_latest(flushed)
    tally.flush()

    assert b"t_requests_total{" not in before  # nothing reaches Prometheus before a flush
    assert _exposition(flushed) == _exposition(expected)


def test_a_flush_adds_only_what_came_since_the_last_one() -> None:
    registry, requests, latency, added = _metrics()
    tally = RequestTally(
        requests=requests, latency=latency, added=added,
        latency_buckets=LATENCY_BUCKETS, added_buckets=ADDED_BUCKETS,
    )  # fmt: skip

    tally.record("r", "u", "monolith", 200, 0.01, 0.0001)
    tally.flush()
    tally.flush()
    tally.record("r", "u", "monolith", 200, 0.01, 0.0001)
    tally.flush()

    assert (
        registry.get_sample_value(
            "t_requests_total", {"route": "r", "upstream": "u", "mode": "monolith", "status": "200"}
        )
        == 2
    )
    assert registry.get_sample_value("t_added_seconds_count", {"route": "r"}) == 2
