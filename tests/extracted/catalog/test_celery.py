"""The service's Celery app: a real worker takes its tasks from the configured broker (the
embedded one by default), ready for the data sync's tasks."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from extracted.catalog import celery_app
from extracted.catalog.catalog.tasks import ping
from tests.extracted.catalog.processes import project_env
from tests.monolith.processes import PYTHON, running

pytestmark = pytest.mark.e2e

TASK_DEADLINE_SECONDS = 30


@pytest.fixture(scope="module")
def worker_queue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real worker process on the configured broker, on a queue of its own."""
    # Its own queue keeps this run apart from any other worker on the same broker.
    queue = f"test-catalog-{uuid.uuid4().hex[:12]}"
    log = tmp_path_factory.mktemp("celery") / "worker.log"
    args = [PYTHON, "-m", "celery", "-A", "extracted.catalog", "worker", "--pool=solo",
            "--queues", queue, "--hostname", f"{queue}@%h", "--without-mingle",
            "--without-gossip", "--loglevel=INFO"]  # fmt: skip
    # The same var directory as this process: the embedded broker is a spool directory in it.
    env = project_env(
        var_dir=Path(settings.VAR_DIR), DJANGO_SETTINGS_MODULE="extracted.catalog.settings"
    )
    with running(args, env=env, log=log):
        yield queue


def test_a_worker_process_runs_a_task_from_the_configured_broker(worker_queue: str) -> None:
    result = ping.apply_async(args=["hello"], queue=worker_queue)

    assert result.get(timeout=TASK_DEADLINE_SECONDS) == "hello"


def test_the_app_uses_the_broker_named_in_the_settings() -> None:
    assert celery_app.main == "catalog"
    assert celery_app.conf.broker_url == settings.CELERY_BROKER_URL
