"""Prometheus metrics of the sync, read from the database at scrape time.

A custom collector turns the status (``status.status_read``) into metric
families on every scrape, so every process of the node (web workers, Celery workers) reports
the same figures, with nothing to keep in step in memory. Served at ``/internal/sync/metrics``
(``urls_ops``); a project that has a ``/metrics`` of its own can register ``SyncCollector`` in
its registry instead.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

from django.db import DatabaseError
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from strangler.sync.status import status_read
from strangler.sync.status_document import STREAM_STATES, SyncStatus

__all__ = ["STREAM_STATES", "SyncCollector", "registry"]


class SyncCollector(Collector):
    """Gauges and counters of streams, cursors, dead letters, backfills and reconciles."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "strangler_sync_up", "1 when the sync's tables could be read for this scrape"
        )
        try:
            status = status_read()
        except DatabaseError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from _streams(status)
        yield from _cursors(status)
        yield from _runs(status)


def _streams(status: SyncStatus) -> Iterator[Metric]:
    backlog = GaugeMetricFamily(
        "strangler_sync_backlog", "Data changes not yet applied by the peer", labels=["peer"]
    )
    lag = GaugeMetricFamily(
        "strangler_sync_lag_seconds",
        "Age of the last heartbeat the peer acknowledged",
        labels=["peer"],
    )
    state = GaugeMetricFamily(
        "strangler_sync_stream_state", "1 for the stream's current state", labels=["peer", "state"]
    )
    for stream in status.streams:
        backlog.add_metric([stream.peer], stream.backlog)
        if stream.lag_seconds is not None:
            lag.add_metric([stream.peer], stream.lag_seconds)
        for name in STREAM_STATES:
            state.add_metric([stream.peer, name], 1.0 if stream.state == name else 0.0)
    yield from (backlog, lag, state)


def _cursors(status: SyncStatus) -> Iterator[Metric]:
    lag = GaugeMetricFamily(
        "strangler_sync_receiver_lag_seconds",
        "Age of the last heartbeat applied here from the source",
        labels=["source"],
    )
    applied = CounterMetricFamily(
        "strangler_sync_applied_rows", "Rows applied here from the source", labels=["source"]
    )
    stale = CounterMetricFamily(
        "strangler_sync_stale_rows",
        "Changes from the source that were older than the row here",
        labels=["source"],
    )
    parked = GaugeMetricFamily(
        "strangler_sync_dead_letters_parked", "Dead letters waiting here", labels=["source"]
    )
    for cursor in status.cursors:
        if cursor.lag_seconds is not None:
            lag.add_metric([cursor.source], cursor.lag_seconds)
        applied.add_metric([cursor.source], cursor.applied)
        stale.add_metric([cursor.source], cursor.stale)
    for source, count in status.dead_letters.by_source.items():
        parked.add_metric([source], count)
    yield from (lag, applied, stale, parked)


def _runs(status: SyncStatus) -> Iterator[Metric]:
    done = GaugeMetricFamily(
        "strangler_sync_backfill_rows_done", "Rows a backfill has sent", labels=["peer", "table"]
    )
    total = GaugeMetricFamily(
        "strangler_sync_backfill_rows_total",
        "Rows a backfill has to send",
        labels=["peer", "table"],
    )
    differences = GaugeMetricFamily(
        "strangler_sync_reconcile_rows",
        "Differing rows by label in the last reconcile",
        labels=["peer", "table", "label"],
    )
    finished = GaugeMetricFamily(
        "strangler_sync_reconcile_age_seconds",
        "Seconds since the last reconcile finished",
        labels=["peer", "table"],
    )
    for backfill in status.backfills:
        keys = [backfill.peer, backfill.table]
        done.add_metric(keys, backfill.rows_done)
        if backfill.rows_total is not None:
            total.add_metric(keys, backfill.rows_total)
    for run in status.last_reconcile:
        keys = [run.peer, run.table]
        differences.add_metric([*keys, "diverged"], run.diverged)
        differences.add_metric([*keys, "in_flight"], run.in_flight)
        differences.add_metric([*keys, "converged"], run.converged)
        if run.age_seconds is not None:
            finished.add_metric(keys, run.age_seconds)
    yield from (done, total, differences, finished)


@functools.cache
def registry() -> CollectorRegistry:
    """This process's registry of the sync's metrics (kept apart from the default one)."""
    own = CollectorRegistry(auto_describe=False)
    own.register(SyncCollector())
    return own
