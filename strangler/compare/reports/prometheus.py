"""Prometheus metrics from the results store: a custom collector, read at scrape time.

The figures are the store's final totals (``RouteTotals``), which every worker's flushes
feed, so one scrape of any process that holds a collector shows all workers' results.
They are gauges: a difference judged real may turn out to be noise as evidence grows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from strangler.compare.results import ResultsError, ResultsStore
from strangler.compare.route_report import RouteReport

__all__ = ["ResultsCollector"]

# A scrape every 15 s is usual; reading the store costs ~1 ms per route, so reports are
# kept this long to make a burst of scrapes (several Prometheus servers) cost one read.
CACHE_SECONDS = 5.0
_OUTCOMES = ("equal", "real_different", "noise_only", "not_comparable", "candidate_error")


class ResultsCollector(Collector):
    def __init__(self, store: ResultsStore, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self._clock = clock
        self._cached: tuple[float, list[RouteReport]] | None = None
        self.read_errors = 0

    def _reports(self) -> list[RouteReport]:
        now = self._clock()
        if self._cached is None or now - self._cached[0] >= CACHE_SECONDS:
            try:
                self._cached = (now, self.store.reports())
            except ResultsError:
                # A locked or broken file must not fail the whole scrape: the last figures
                # stay, and the error count shows it.
                self.read_errors += 1
                return self._cached[1] if self._cached else []
        return self._cached[1]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        reports = self._reports()
        requests = GaugeMetricFamily(
            "strangler_compare_requests",
            "Requests compared per route, by final verdict",
            labels=["route", "outcome"],
        )
        latency = GaugeMetricFamily(
            "strangler_compare_latency_seconds",
            "Latency of each side per route, by quantile (upper bound of a 10% bucket)",
            labels=["route", "side", "quantile"],
        )
        for report in reports:
            totals = report.totals
            for outcome in _OUTCOMES:
                requests.add_metric([report.route, outcome], getattr(totals, outcome))
            for side, summary in (
                ("base", report.base_latency),
                ("candidate", report.candidate_latency),
            ):
                if summary is None:
                    continue
                for quantile, value in (
                    ("0.5", summary.p50),
                    ("0.95", summary.p95),
                    ("0.99", summary.p99),
                ):
                    latency.add_metric([report.route, side, quantile], value)
        errors = GaugeMetricFamily(
            "strangler_compare_results_read_errors",
            "Times the results store could not be read at scrape time",
        )
        errors.add_metric([], self.read_errors)
        yield requests
        yield latency
        yield errors
