"""Latency histograms: bounded, mergeable, and percentiles within one bucket's width."""

from __future__ import annotations

import random

import pytest

from strangler.compare.latency import (
    BUCKETS,
    GROWTH,
    LatencyHistogram,
    bucket_of,
    bucket_upper_bound,
)


@pytest.mark.parametrize("seconds", [0.0, 0.0004, 0.001, 0.0123, 0.5, 3.0, 29.9])
def test_a_value_lands_in_the_bucket_whose_bounds_hold_it(seconds):
    index = bucket_of(seconds)

    assert seconds <= bucket_upper_bound(index)
    assert index == 0 or seconds > bucket_upper_bound(index - 1)


def test_a_value_beyond_the_last_bucket_is_kept_in_it():
    assert bucket_of(10_000.0) == BUCKETS - 1


def test_percentiles_err_high_by_less_than_a_bucket():
    rng = random.Random(7)
    values = sorted(rng.lognormvariate(-4, 1) for _ in range(10_000))
    histogram = LatencyHistogram()
    for value in values:
        histogram.observe(value)

    summary = histogram.summary()

    for q, estimate in ((0.5, summary.p50), (0.95, summary.p95), (0.99, summary.p99)):
        exact = values[int(q * len(values)) - 1]
        assert exact <= estimate <= exact * GROWTH * 1.001
    assert summary.mean == pytest.approx(sum(values) / len(values))


def test_two_histograms_merge_by_adding_their_state():
    a, b = LatencyHistogram(), LatencyHistogram()
    for value in (0.01, 0.02):
        a.observe(value)
    b.observe(0.5)

    state_a, state_b = a.state(), b.state()
    merged = LatencyHistogram(state_a)
    for index, count in state_b.buckets.items():
        merged.buckets[index] = merged.buckets.get(index, 0) + count
    merged.count += state_b.count

    assert merged.count == 3
    assert merged.quantile(1.0) >= 0.5


def test_an_empty_histogram_has_no_summary():
    assert LatencyHistogram().summary() is None
