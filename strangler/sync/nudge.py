"""After a commit that wrote a registered model through the ORM, queue a relay pass.

Only an optimisation: capture does not depend on it (raw SQL writes are captured and sent by
the next beat), and a nudge that cannot be queued is logged and forgotten. One nudge per
transaction however many rows it wrote.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save
from kombu.exceptions import OperationalError

from strangler.sync.config import model_for, sync_settings

__all__ = ["connect_nudges", "nudge_relay"]

logger = logging.getLogger(__name__)


def connect_nudges() -> None:
    """Connect the signal handlers for every outbound model (enabled or not: checked at send)."""
    for entry in sync_settings().outbound:
        model = model_for(entry.model)
        uid = f"strangler_sync_nudge_{model._meta.label_lower}"
        post_save.connect(_written, sender=model, dispatch_uid=f"{uid}_save")
        post_delete.connect(_written, sender=model, dispatch_uid=f"{uid}_delete")


def _written(**_: Any) -> None:
    if connection.in_atomic_block and any(
        entry[1] is nudge_relay for entry in connection.run_on_commit
    ):
        return
    transaction.on_commit(nudge_relay, robust=True)


def nudge_relay() -> None:
    """Queue one relay pass over every enabled stream, without waiting for a down broker."""
    from strangler.sync.switch import stream_enabled
    from strangler.sync.tasks import relay

    config = sync_settings()
    if not any(stream_enabled(peer) for peer in config.stream_peers()):
        return
    try:
        relay.apply_async(retry=False)
    except (OperationalError, OSError) as exc:
        logger.warning("could not queue a relay nudge (the beat will relay): %s", exc)
