"""Celery starts a real worker on the configured broker (embedded by default, Redis in CI)
and runs a task end to end."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from monolith.core.tasks import ping
from strangler.servicekit.celery_config import celery_settings
from strangler.servicekit.request_id import bind_request_id, unbind_request_id
from tests.monolith.processes import PYTHON, python_env, running, wait_until

TASK_DEADLINE_SECONDS = 30


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A real worker process on the configured broker; yields its queue and log file."""
    # A queue of its own keeps this run apart from any other worker on the same broker.
    queue = f"test-{uuid.uuid4().hex[:12]}"
    log = tmp_path_factory.mktemp("celery") / "worker.log"
    args = [PYTHON, "-m", "celery", "-A", "monolith", "worker", "--pool=solo",
            "--queues", queue, "--hostname", f"{queue}@%h", "--without-mingle",
            "--without-gossip", "--loglevel=INFO"]  # fmt: skip
    with running(args, env=python_env(), log=log):
        yield queue, log


def test_a_worker_process_runs_a_task_from_the_configured_broker(
    worker: tuple[str, Path],
) -> None:
    queue, _ = worker
    result = ping.apply_async(args=["hello"], queue=queue)

    assert result.get(timeout=TASK_DEADLINE_SECONDS) == "hello"


def test_a_task_logs_with_the_request_id_of_the_request_that_queued_it(
    worker: tuple[str, Path],
) -> None:
    queue, log = worker
    token = bind_request_id("req-queued-by-test-7")
    try:
        result = ping.apply_async(args=["traced"], queue=queue)
    finally:
        unbind_request_id(token)
    result.get(timeout=TASK_DEADLINE_SECONDS)

    def task_line_logged() -> bool:
        return any(
            entry.get("request_id") == "req-queued-by-test-7"
            and result.id in entry.get("message", "")
            for entry in _json_lines(log)
        )

    wait_until(task_line_logged, deadline=TASK_DEADLINE_SECONDS, what="the task's log line")


def _json_lines(log: Path) -> list[dict[str, Any]]:
    entries = []
    for line in log.read_text().splitlines():
        with contextlib.suppress(ValueError):
            entries.append(json.loads(line))
    return [entry for entry in entries if isinstance(entry, dict)]


def test_the_embedded_broker_needs_no_server(tmp_path: Path) -> None:
    config = celery_settings(broker_url="", result_backend="", var_dir=tmp_path)

    assert config.broker_url == "filesystem://"
    assert config.result_backend == f"file://{tmp_path / 'results'}"
    for folder in ("data_folder_in", "processed_folder", "control_folder"):
        assert Path(config.broker_transport_options[folder]).is_dir()
        assert Path(config.broker_transport_options[folder]).is_relative_to(tmp_path)


@pytest.mark.parametrize(
    ("broker", "backend"),
    [
        ("redis://127.0.0.1:6379/3", "redis://127.0.0.1:6379/3"),
        ("amqp://guest:guest@127.0.0.1:5672//", "rpc://"),
    ],
)
def test_a_server_broker_from_the_environment_replaces_the_embedded_one(
    tmp_path: Path, broker: str, backend: str
) -> None:
    config = celery_settings(broker_url=broker, result_backend="", var_dir=tmp_path)

    assert (config.broker_url, config.result_backend) == (broker, backend)
    assert config.broker_transport_options == {}


def test_the_project_uses_the_broker_named_in_the_environment() -> None:
    expected = settings.CELERY_BROKER_URL
    assert ping.app.conf.broker_url == expected
