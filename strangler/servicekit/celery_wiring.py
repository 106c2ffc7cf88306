"""The Celery wiring a Django project running the sync needs, in one place.

Two calls replace what a project would otherwise copy from the example:

- in ``settings.py``: ``globals().update(sync_celery_settings(env=os.environ, var_dir=...,
  queue="monolith"))`` sets every ``CELERY_*`` setting: the broker from ``CELERY_BROKER_URL``
  (the embedded file-system broker when unset, ``strangler.servicekit.celery_config``), the
  result backend, the sync's beat entries (``strangler.sync.schedule``), late acks, one
  prefetched task, time limits below the broker's visibility timeout, and the project's own
  queue (two projects may share one broker);
- in ``<project>/celery.py``: ``app = celery_app("monolith", "monolith.settings")``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from celery import Celery

from strangler.servicekit.celery_config import celery_settings
from strangler.servicekit.celery_request_id import connect_request_id_signals
from strangler.sync.schedule import (
    BROKER_VISIBILITY_TIMEOUT_SECONDS,
    HEARTBEAT_EVERY_SECONDS,
    RELAY_EVERY_SECONDS,
    beat_schedule,
)

__all__ = [
    "TASK_SOFT_TIME_LIMIT_SECONDS",
    "TASK_TIME_LIMIT_SECONDS",
    "celery_app",
    "sync_celery_settings",
]

# Below the broker's visibility timeout (600 s), so a slow task is not handed to a second
# worker while the first still runs it.
TASK_TIME_LIMIT_SECONDS = 300
TASK_SOFT_TIME_LIMIT_SECONDS = 240


def sync_celery_settings(
    *,
    env: Mapping[str, str],
    var_dir: Path,
    queue: str,
    relay_every: float = RELAY_EVERY_SECONDS,
    heartbeat_every: float = HEARTBEAT_EVERY_SECONDS,
) -> dict[str, Any]:
    """Every ``CELERY_*`` setting, by name, for a project whose workers run the sync."""
    broker = celery_settings(
        broker_url=env.get("CELERY_BROKER_URL", ""),
        result_backend=env.get("CELERY_RESULT_BACKEND", ""),
        var_dir=var_dir,
    )
    return {
        "CELERY_BROKER_URL": broker.broker_url,
        "CELERY_BROKER_TRANSPORT": broker.broker_transport,
        "CELERY_RESULT_BACKEND": broker.result_backend,
        "CELERY_BROKER_TRANSPORT_OPTIONS": {
            **broker.broker_transport_options,
            "visibility_timeout": BROKER_VISIBILITY_TIMEOUT_SECONDS,
        },
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CELERY_TASK_ACKS_LATE": True,
        "CELERY_WORKER_PREFETCH_MULTIPLIER": 1,
        "CELERY_TASK_TIME_LIMIT": TASK_TIME_LIMIT_SECONDS,
        "CELERY_TASK_SOFT_TIME_LIMIT": TASK_SOFT_TIME_LIMIT_SECONDS,
        "CELERY_BEAT_SCHEDULE": beat_schedule(
            relay_every=relay_every, heartbeat_every=heartbeat_every
        ),
        "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP": True,
        "CELERY_WORKER_HIJACK_ROOT_LOGGER": False,
    }


def celery_app(name: str, settings_module: str) -> Celery:
    """The project's Celery app, configured from its Django settings' ``CELERY_*`` names."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    app = Celery(name)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.autodiscover_tasks()
    connect_request_id_signals()
    return app
