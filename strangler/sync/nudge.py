"""After a commit that wrote a registered model through the ORM, queue a relay pass.

Only an optimisation: capture does not depend on it (raw SQL writes are captured and sent by
the next beat), and a nudge that cannot be queued is logged and forgotten. One nudge per
transaction however many rows it wrote.

A nudge never waits on the broker: the writer's thread only raises a flag, and one sender
thread per process queues the task. With the broker down, kombu's connection attempt inside
``apply_async`` took 6 s (measured with Redis on a closed port) and a broker that accepts and
never answers can hold it far longer; that time is now the sender's, never a request's.
Nudges raised meanwhile collapse into one, which is all a relay pass needs.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save
from kombu.exceptions import OperationalError

from strangler.sync.config import model_for, sync_settings

__all__ = [
    "NUDGE_EXPIRES_SECONDS",
    "NUDGE_MIN_INTERVAL_SECONDS",
    "connect_nudges",
    "nudge_relay",
    "nudge_sender",
]

logger = logging.getLogger(__name__)

# At most one nudge per process in this long; the writes meanwhile share the next one. Ten
# writes a second queued ten relay tasks a second before one worker that runs ~7 (0.1-0.15 s
# each, measured in the demo stack), and the heartbeat task waited behind them: the measured
# lag grew by ~0.5 s every second while the data arrived in 0.2 s. Two a second per process
# stay below what a worker runs, at most half a second of added delay for a change.
NUDGE_MIN_INTERVAL_SECONDS = 0.5
# A nudge still queued after this long is dropped by the worker unrun (a worker back from an
# outage need not run a pile of them): a relay pass that ran meanwhile sent everything
# committed before it began, and the beat's periodic pass (10 s by default) covers the rest.
NUDGE_EXPIRES_SECONDS = 10.0


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
    """Ask for one relay pass over every enabled stream; returns at once, whatever the broker.

    The streams' switch is read here, in the writer's thread and connection: the sender
    thread never opens a database connection of its own.
    """
    from strangler.sync.switch import stream_enabled

    config = sync_settings()
    if not any(stream_enabled(peer) for peer in config.stream_peers()):
        return
    nudge_sender().request()


class NudgeSender:
    """One daemon thread per process that queues the relay task when asked.

    ``request`` sets a flag and returns; the thread clears it and queues one task, so any
    number of requests made while a send is under way cost one more send, not one each.
    """

    def __init__(self) -> None:
        self._wanted = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self.sent = 0  # tasks queued by this process (read by tests and debugging)
        self.failed = 0  # sends the broker refused

    def request(self) -> None:
        self._wanted.set()
        with self._lock:
            # A forked child (gunicorn, Celery's prefork pool) inherits the object, not the
            # thread: it starts its own.
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._run, name="strangler-sync-nudge", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            self._send()
            # Requests made during the pause set the flag again: one send serves them all.
            time.sleep(NUDGE_MIN_INTERVAL_SECONDS)

    def _send(self) -> None:
        from strangler.sync.tasks import relay

        try:
            relay.apply_async(retry=False, expires=NUDGE_EXPIRES_SECONDS)
        except (OperationalError, OSError) as exc:
            self.failed += 1
            logger.warning("could not queue a relay nudge (the beat will relay): %s", exc)
        else:
            self.sent += 1


_SENDER = NudgeSender()


def nudge_sender() -> NudgeSender:
    """This process's sender."""
    return _SENDER
