"""Source-side records of backfills and reconciles: where a backfill stands, how reconciles ended.

A backfill's progress is written after every batch the receiver acknowledged, so a killed
backfill resumes after the last key it knows was applied. Reconcile runs are kept as a history;
status shows the last one per stream and table.

These models belong to the ``strangler_sync`` app (``strangler.sync.models`` imports them so
the app's migrations create ``strangler_sync_backfill`` and ``strangler_sync_reconcile``).
"""

from __future__ import annotations

from django.db import models

__all__ = ["BackfillProgress", "ReconcileRun"]


class BackfillProgress(models.Model):
    """One backfill of ``table_name`` to ``peer``: the last key sent and the counts so far."""

    class State(models.TextChoices):
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    peer = models.CharField(max_length=64)
    table_name = models.CharField(max_length=128)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RUNNING)
    # The primary key (as text) of the last row the receiver acknowledged; empty at the start.
    position = models.TextField(blank=True, default="")
    rows_done = models.BigIntegerField(default=0)
    rows_total = models.BigIntegerField(null=True, blank=True)
    applied = models.BigIntegerField(default=0)
    stale = models.BigIntegerField(default=0)
    dead_lettered = models.BigIntegerField(default=0)
    throttled_seconds = models.FloatField(default=0.0)
    last_error = models.TextField(blank=True, default="")
    started_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    # Declared: the type checker's Django plugin only adds it for models of ``models.py``.
    objects: models.Manager[BackfillProgress] = models.Manager()

    class Meta:
        app_label = "strangler_sync"
        db_table = "strangler_sync_backfill"
        constraints = [
            models.UniqueConstraint(fields=["peer", "table_name"], name="strangler_sync_bf_key")
        ]

    def __str__(self) -> str:
        return f"backfill of {self.table_name} to {self.peer}: {self.state} at {self.position!r}"


class ReconcileRun(models.Model):
    """One reconcile of ``table_name`` with ``peer``: counts by label and the JSON report."""

    class State(models.TextChoices):
        RUNNING = "running"
        CLEAN = "clean"  # nothing diverged (rows in flight or converged may remain)
        DIVERGED = "diverged"  # diverged rows remain
        REPAIRED = "repaired"  # diverged rows were found and all re-sent
        FAILED = "failed"

    peer = models.CharField(max_length=64)
    table_name = models.CharField(max_length=128)
    level = models.CharField(max_length=8)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RUNNING)
    rows_source = models.BigIntegerField(default=0)
    rows_peer = models.BigIntegerField(default=0)
    diverged = models.IntegerField(default=0)
    in_flight = models.IntegerField(default=0)
    converged = models.IntegerField(default=0)
    repaired = models.IntegerField(default=0)
    report = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    objects: models.Manager[ReconcileRun] = models.Manager()

    class Meta:
        app_label = "strangler_sync"
        db_table = "strangler_sync_reconcile"
        indexes = [
            models.Index(
                fields=["peer", "table_name", "-started_at"], name="strangler_sync_rc_last"
            )
        ]

    def __str__(self) -> str:
        return f"reconcile of {self.table_name} with {self.peer}: {self.state}"
