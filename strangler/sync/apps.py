"""The Django app: validates the registration at start and wires the signal handlers."""

from __future__ import annotations

import logging
from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate

__all__ = ["StranglerSyncConfig"]

logger = logging.getLogger(__name__)


class StranglerSyncConfig(AppConfig):
    name = "strangler.sync"
    label = "strangler_sync"
    verbose_name = "Strangler data sync"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from strangler.sync.config import resolve_models, sync_settings
        from strangler.sync.nudge import connect_nudges
        from strangler.sync.workers import connect_worker_signals

        sync_settings()  # a malformed STRANGLER_SYNC stops start-up here, naming the entry
        resolve_models()
        connect_nudges()
        connect_worker_signals()
        post_migrate.connect(_repair_capture, sender=self, dispatch_uid="strangler_sync_repair")


def _repair_capture(*, using: str = "default", **_: Any) -> None:
    """Put back the triggers a SQLite table rebuild dropped, on every outbound table.

    SQLite alters a column by copying the table to a new one, which has no triggers; on
    PostgreSQL ``ALTER TABLE`` keeps them, so there is nothing to repair there.
    """
    from strangler.sync.config import model_for, sync_settings
    from strangler.sync.fields import column_of, pk_of
    from strangler.sync.triggers import capture_install, capture_installed

    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    existing = set(connection.introspection.table_names())
    if "strangler_sync_row" not in existing:
        return
    for entry in sync_settings().outbound:
        model = model_for(entry.model)
        meta = model._meta
        if meta.db_table in existing and not capture_installed(connection, table=meta.db_table):
            logger.warning("reinstalling the capture triggers of %s", meta.db_table)
            capture_install(connection, table=meta.db_table, pk=column_of(pk_of(model)))
