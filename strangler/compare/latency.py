"""Each side's latency per route, as a fixed log-scale histogram.

Fixed buckets make a histogram bounded (at most ``BUCKETS`` counters, whatever the traffic)
and mergeable by adding counts: across proxy workers, across restarts, in one SQL upsert
per bucket. A percentile is read as the upper bound of the bucket it falls in, so it errs
high, by less than one bucket's width (10 %).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "BUCKETS",
    "HistogramState",
    "LatencyHistogram",
    "LatencySummary",
    "bucket_of",
    "bucket_upper_bound",
]

# Bucket 0 holds everything up to 0.5 ms, below the ~1 ms a loopback round trip to a Django
# view takes here (bench/README.md); bucket i holds (LOWEST * GROWTH**(i-1), LOWEST * GROWTH**i].
LOWEST_SECONDS = 0.0005
# 10 % wide buckets: enough to tell a 40 ms p99 from a 60 ms one, in ~140 counters.
GROWTH = 1.1
# 0.5 ms * 1.1**139 is ~280 s, beyond every timeout of the toolkit; slower lands in the last.
BUCKETS = 140
_LOG_GROWTH = math.log(GROWTH)


def bucket_of(seconds: float) -> int:
    if seconds <= LOWEST_SECONDS:
        return 0
    index = math.ceil(math.log(seconds / LOWEST_SECONDS) / _LOG_GROWTH - 1e-9)
    return min(index, BUCKETS - 1)


def bucket_upper_bound(index: int) -> float:
    return float(LOWEST_SECONDS * GROWTH**index)


@dataclass(frozen=True, slots=True)
class HistogramState:
    """A histogram as plain values: bucket index to count, the count and the sum."""

    buckets: Mapping[int, int]
    count: int = 0
    total_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class LatencySummary:
    count: int
    mean: float
    p50: float
    p95: float
    p99: float


class LatencyHistogram:
    __slots__ = ("buckets", "count", "total_seconds")

    def __init__(self, state: HistogramState | None = None) -> None:
        self.buckets: dict[int, int] = dict(state.buckets) if state else {}
        self.count = state.count if state else 0
        self.total_seconds = state.total_seconds if state else 0.0

    def observe(self, seconds: float) -> None:
        index = bucket_of(seconds)
        self.buckets[index] = self.buckets.get(index, 0) + 1
        self.count += 1
        self.total_seconds += seconds

    def state(self) -> HistogramState:
        return HistogramState(dict(self.buckets), self.count, self.total_seconds)

    def quantile(self, q: float) -> float:
        """The upper bound of the bucket holding the ``q`` quantile; 0 when empty."""
        if not self.count:
            return 0.0
        rank = max(1, math.ceil(q * self.count))
        seen = 0
        for index in sorted(self.buckets):
            seen += self.buckets[index]
            if seen >= rank:
                return bucket_upper_bound(index)
        return bucket_upper_bound(max(self.buckets))

    def summary(self) -> LatencySummary | None:
        if not self.count:
            return None
        return LatencySummary(
            count=self.count,
            mean=self.total_seconds / self.count,
            p50=self.quantile(0.50),
            p95=self.quantile(0.95),
            p99=self.quantile(0.99),
        )
