"""The sync's tables (docs/sync.md, "Tables"); names are part of the design, not Django's choice.

The capture triggers write ``strangler_sync_change`` and ``strangler_sync_row`` by SQL, so the
column names here are what ``triggers`` writes. The primary-key text of a synced row is the
column ``pk``; the Django field is ``row_pk`` because ``pk`` is reserved on models.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models

from strangler.sync.fields import SyncKeyField
from strangler.sync.runs import BackfillProgress, ReconcileRun

__all__ = [
    "Applying",
    "BackfillProgress",
    "Change",
    "Cursor",
    "DeadLetter",
    "ReconcileRun",
    "RowVersion",
    "SeenSignature",
    "Stream",
    "Worker",
]


class Change(models.Model):
    """One captured write, in the writer's own transaction; ``id`` is the stream's *seq*."""

    id = models.BigAutoField(primary_key=True)
    objects: ClassVar[models.Manager[Change]] = models.Manager()
    table_name = models.CharField(max_length=128)
    row_pk = SyncKeyField(db_column="pk")
    version = models.BigIntegerField()
    deleted = models.BooleanField(default=False)
    # pg_current_xact_id() of the writer on PostgreSQL; 0 on SQLite (one writer at a time).
    xid = models.BigIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "strangler_sync_change"
        indexes = [models.Index(fields=["xid", "id"], name="strangler_sync_change_xid_seq")]

    def __str__(self) -> str:
        return f"{self.table_name}:{self.row_pk} v{self.version} ({self.xid}, {self.id})"


class RowVersion(models.Model):
    """The current version of one synced row on this node; ``deleted`` makes it a tombstone."""

    id = models.BigAutoField(primary_key=True)
    objects: ClassVar[models.Manager[RowVersion]] = models.Manager()

    table_name = models.CharField(max_length=128)
    row_pk = SyncKeyField(db_column="pk")
    version = models.BigIntegerField()
    deleted = models.BooleanField(default=False)
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "strangler_sync_row"
        constraints = [
            models.UniqueConstraint(fields=["table_name", "row_pk"], name="strangler_sync_row_key")
        ]

    def __str__(self) -> str:
        return f"{self.table_name}:{self.row_pk} v{self.version}"


class Applying(models.Model):
    """Non-empty only inside an apply transaction on SQLite: the triggers then stay silent."""

    id = models.BigAutoField(primary_key=True)
    objects: ClassVar[models.Manager[Applying]] = models.Manager()

    class Meta:
        db_table = "strangler_sync_applying"

    def __str__(self) -> str:
        return f"applying #{self.id}"


class Cursor(models.Model):
    """Receiver side: the last change of ``source``'s stream applied here."""

    id = models.BigAutoField(primary_key=True)
    objects: ClassVar[models.Manager[Cursor]] = models.Manager()

    source = models.CharField(max_length=64, unique=True)
    xid = models.BigIntegerField(default=0)
    seq = models.BigIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    batches = models.BigIntegerField(default=0)
    applied = models.BigIntegerField(default=0)
    stale = models.BigIntegerField(default=0)
    dead_lettered = models.BigIntegerField(default=0)
    # What the source last said of its stream here (``sync_stream --disable`` tells it): a
    # stream turned off on purpose stops its heartbeats too, and is not stuck.
    source_enabled = models.BooleanField(default=True)

    class Meta:
        db_table = "strangler_sync_cursor"

    def __str__(self) -> str:
        return f"{self.source} at ({self.xid}, {self.seq})"


class DeadLetter(models.Model):
    """Receiver side: a change that could not be applied, kept until replayed or dropped."""

    id = models.BigAutoField(primary_key=True)
    objects: ClassVar[models.Manager[DeadLetter]] = models.Manager()

    class Status(models.TextChoices):
        PARKED = "parked"
        REPLAYED = "replayed"
        DROPPED = "dropped"

    source = models.CharField(max_length=64)
    table_name = models.CharField(max_length=128)
    row_pk = SyncKeyField(db_column="pk")
    version = models.BigIntegerField()
    deleted = models.BooleanField(default=False)
    payload = models.JSONField(null=True, blank=True)
    code = models.CharField(max_length=64)
    error = models.TextField()
    attempts = models.IntegerField(default=1)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PARKED)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "strangler_sync_deadletter"
        indexes = [
            models.Index(
                fields=["source", "table_name", "row_pk", "status"],
                name="strangler_sync_dl_key",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.source}:{self.table_name}:{self.row_pk} {self.status}"


class Stream(models.Model):
    """Source side: the stream of this node's changes to ``peer``."""

    id = models.BigAutoField(primary_key=True)
    objects: ClassVar[models.Manager[Stream]] = models.Manager()

    peer = models.CharField(max_length=64, unique=True)
    enabled = models.BooleanField(default=True)
    # An operator's (or a migration plan's) choice, overriding the registration's ``enabled``
    # until cleared (``sync_stream PEER --enable|--disable|--follow-settings``): a cutover
    # turns the reverse stream on without a deploy.
    operator_enabled = models.BooleanField(null=True, blank=True, default=None)
    paused_reason = models.TextField(blank=True, default="")
    columns = models.JSONField(default=dict, blank=True)
    last_relay_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    # The receiver's cursor and last heartbeat as it last answered: prune and status read them.
    acked_xid = models.BigIntegerField(default=0)
    acked_seq = models.BigIntegerField(default=0)
    acked_heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Whether the peer has acknowledged the stream as on (True) or off (False); None before it
    # was first told. The relay tells it again whenever this differs from ``enabled``.
    peer_told_enabled = models.BooleanField(null=True, blank=True, default=None)

    class Meta:
        db_table = "strangler_sync_stream"

    def __str__(self) -> str:
        return f"stream to {self.peer}"


class SeenSignature(models.Model):
    """A sync call's signature, kept until its timestamp leaves the window (``replay``)."""

    signature = models.CharField(max_length=64, primary_key=True)
    objects: ClassVar[models.Manager[SeenSignature]] = models.Manager()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "strangler_sync_seen_signature"

    def __str__(self) -> str:
        return f"{self.signature[:12]}... until {self.expires_at.isoformat()}"


class Worker(models.Model):
    """A process running the sync's tasks, with a fingerprint of the sync settings it holds
    (``strangler.sync.workers``): ``sync_resume`` names the ones that must restart."""

    id = models.BigAutoField(primary_key=True)
    objects: ClassVar[models.Manager[Worker]] = models.Manager()

    name = models.CharField(max_length=255, unique=True)  # host:pid
    fingerprint = models.CharField(max_length=64)
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField()

    class Meta:
        db_table = "strangler_sync_worker"

    def __str__(self) -> str:
        return f"worker {self.name} ({self.fingerprint[:12]})"
