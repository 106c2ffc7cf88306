"""Real Celery worker processes acting as a node, and nudging them until something holds.

Not in ``conftest.py``: fixtures there are found by every module of the folder, these only by
the modules that start workers (``test_workers``, ``test_resume``), which import them.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from strangler.sync import tasks
from tests.monolith.processes import PYTHON, running, wait_until
from tests.strangler.sync.conftest import Node, alpha_database_url, node_env

__all__ = [
    "ALPHA_QUEUE",
    "BETA_QUEUE",
    "DELIVERY_DEADLINE_SECONDS",
    "alpha_worker_env",
    "nudge_until",
    "worker",
]

DELIVERY_DEADLINE_SECONDS = 60
# How often an idle wait queues another nudge: a pass on PostgreSQL may stop at a transaction
# still open elsewhere on the server, and the next nudge then carries on.
RENUDGE_SECONDS = 2.0
ALPHA_QUEUE = settings.CELERY_TASK_DEFAULT_QUEUE
BETA_QUEUE = f"sync-beta-{settings.RUN_ID}"


@contextlib.contextmanager
def worker(env: dict[str, str], queue: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``celery worker`` (solo pool) on ``queue`` until the block ends, then stopped (SIGTERM)."""
    args = [PYTHON, "-m", "celery", "-A", "tests.sync_project", "worker", "--pool=solo",
            "--queues", queue, "--hostname", f"{queue}-{uuid.uuid4().hex[:6]}@%h",
            "--without-mingle", "--without-gossip", "--loglevel=INFO"]  # fmt: skip
    with running(args, env=env, log=log) as proc:
        yield proc


@pytest.fixture
def alpha_worker_env(beta: Node, alpha_to: Any, django_db_blocker: Any) -> dict[str, str]:
    """The environment of a worker acting as alpha, sending to ``beta``."""
    alpha_to(beta.url)
    with django_db_blocker.unblock():
        database_url = alpha_database_url()
    return node_env("alpha", database_url=database_url, peer_url=beta.url)


def nudge_until(condition: Callable[[], bool], *, queues: tuple[str, ...], what: str) -> None:
    """Queue relay nudges on ``queues`` (every RENUDGE_SECONDS) until ``condition`` holds."""
    last = 0.0

    def nudged() -> bool:
        nonlocal last
        if time.monotonic() - last > RENUDGE_SECONDS:
            for queue in queues:
                tasks.relay.apply_async(queue=queue)
            last = time.monotonic()
        return condition()

    wait_until(nudged, deadline=DELIVERY_DEADLINE_SECONDS, what=what)
