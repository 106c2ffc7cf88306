"""Which sync settings each running worker holds, so that a resume is not undone by an old one.

Settings are read once per process (``config.sync_settings``): a worker started before the
registration was fixed keeps the old one until it restarts, and its next relay pass pauses the
stream again. So each process running the sync's tasks records a fingerprint of the settings
it holds (``strangler_sync_worker``, one row per ``host:pid``) when the Celery worker is ready
and at its tasks, and deletes the row when it shuts down; ``sync_resume`` compares the
fingerprints of the workers seen lately with its own and names each one that must restart.

The fingerprint covers what a relay pass acts on: the registration (node, peers and their
URLs, outbound and inbound entries, retention) and the columns of each registered model as
the process's code defines them. Not the secrets: a hash of those is no business of the
database's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import socket
import time
from typing import Any

from django.db import DatabaseError
from django.utils import timezone

from strangler.sync.config import model_for, sync_settings
from strangler.sync.fields import column_of
from strangler.sync.models import Worker

__all__ = [
    "WORKER_SEEN_WINDOW_SECONDS",
    "connect_worker_signals",
    "settings_fingerprint",
    "this_process",
    "worker_gone",
    "worker_seen",
    "worker_seen_or_log",
    "workers_differing",
]

logger = logging.getLogger(__name__)

# A worker records itself at its tasks: with beat, a relay and a heartbeat every 10 s
# (``schedule``). One not seen for six of those periods has stopped (or lost its broker): a
# SIGKILLed worker, which deletes nothing, stops counting after this long.
WORKER_SEEN_WINDOW_SECONDS = 60.0
# A busy worker runs a relay task per nudge; its row is written at most this often.
_RECORD_EVERY_SECONDS = 5.0
_recorded: dict[str, float] = {}


def this_process() -> str:
    """This process's name in ``strangler_sync_worker``: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def settings_fingerprint() -> str:
    """A hash of the sync settings this process holds (see the module's docstring)."""
    config = dataclasses.asdict(sync_settings())
    del config["secret"], config["metrics_token"]
    labels = sorted({entry["model"] for entry in (*config["outbound"], *config["inbound"])})
    config["columns"] = {
        label: [column_of(field) for field in model_for(label)._meta.concrete_fields]
        for label in labels
    }
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def worker_seen(*, now: dt.datetime | None = None) -> None:
    """Record that this process runs the sync's tasks with the settings it holds now."""
    name, fingerprint = this_process(), settings_fingerprint()
    key = f"{name} {fingerprint}"  # a forked pool process inherits its parent's record
    last = _recorded.get(key)
    if last is not None and time.monotonic() - last < _RECORD_EVERY_SECONDS:
        return
    now = now or timezone.now()
    worker, created = Worker.objects.get_or_create(
        name=name, defaults={"fingerprint": fingerprint, "started_at": now, "seen_at": now}
    )
    if not created:
        Worker.objects.filter(pk=worker.pk).update(fingerprint=fingerprint, seen_at=now)
    _recorded.clear()
    _recorded[key] = time.monotonic()


def worker_gone() -> None:
    """This process stops running the sync's tasks: its row goes."""
    Worker.objects.filter(name=this_process()).delete()
    _recorded.clear()


def workers_differing(*, now: dt.datetime | None = None) -> list[Worker]:
    """Workers seen lately, other than this process, holding other settings than it does."""
    now = now or timezone.now()
    since = now - dt.timedelta(seconds=WORKER_SEEN_WINDOW_SECONDS)
    return list(
        Worker.objects.filter(seen_at__gte=since)
        .exclude(name=this_process())
        .exclude(fingerprint=settings_fingerprint())
        .order_by("name")
    )


def connect_worker_signals() -> None:
    """Record a Celery worker when it is ready; delete its rows when it (or a pool process)
    shuts down. Pool processes record themselves at their first task."""
    from celery import signals

    signals.worker_ready.connect(_on_ready, weak=False, dispatch_uid="strangler_sync_worker")
    for signal in (signals.worker_shutdown, signals.worker_process_shutdown):
        signal.connect(_on_shutdown, weak=False, dispatch_uid="strangler_sync_worker")


def worker_seen_or_log() -> None:
    """:func:`worker_seen`, logging instead of failing (a worker whose database is not
    migrated yet still runs its tasks; it is recorded once it is)."""
    try:
        worker_seen()
    except DatabaseError as exc:
        logger.warning("could not record this sync worker: %s", exc)


def _on_ready(**_: Any) -> None:
    worker_seen_or_log()


def _on_shutdown(**_: Any) -> None:
    try:
        worker_gone()
    except DatabaseError as exc:  # it ages out of the window instead
        logger.warning("could not remove this sync worker's record: %s", exc)
