"""Celery: a real worker relays on a nudge; the tasks' limits and schedule fit together."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings

from strangler.sync import tasks
from strangler.sync.models import Change
from strangler.sync.nudge import nudge_relay
from strangler.sync.relay import PASS_BUDGET_SECONDS
from strangler.sync.schedule import (
    BROKER_VISIBILITY_TIMEOUT_SECONDS,
    HARD_TIME_LIMIT_SECONDS,
    SOFT_TIME_LIMIT_SECONDS,
    beat_schedule,
)
from strangler.sync.transport import CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS
from tests.monolith.processes import PYTHON, running, wait_until
from tests.strangler.sync.conftest import Node, alpha_database_url, node_env
from tests.sync_project.widgets.models import Widget

DELIVERY_DEADLINE_SECONDS = 45


@pytest.fixture(scope="module")
def worker(
    beta_server: Node,
    django_db_setup: None,
    django_db_blocker: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    """A worker acting as alpha, on this process's database and broker queue."""
    with django_db_blocker.unblock():
        database_url = alpha_database_url()
    env = node_env("alpha", database_url=database_url, peer_url=beta_server.url)
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    args = [PYTHON, "-m", "celery", "-A", "tests.sync_project", "worker", "--pool=solo",
            "--queues", queue, "--hostname", f"{queue}-{uuid.uuid4().hex[:6]}@%h",
            "--without-mingle", "--without-gossip", "--loglevel=INFO"]  # fmt: skip
    with running(args, env=env, log=log):
        yield


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_write_nudges_a_worker_that_relays_it(worker: None, beta: Node, alpha_to: Any) -> None:
    alpha_to(beta.url)

    Widget.objects.create(id=1, sku="NUDGED", name="gear", price=Decimal("4.20"))

    wait_until(
        lambda: beta.db.widgets() == {1: ("NUDGED", "gear", "4.20")},
        deadline=DELIVERY_DEADLINE_SECONDS,
        what="the nudged relay to deliver the widget to beta",
    )


@pytest.mark.django_db
def test_one_transaction_queues_one_nudge_however_many_rows_it_writes(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        for pk in (1, 2, 3):
            Widget.objects.create(id=pk, sku=f"S-{pk}", name="n", price=Decimal(1))

    assert callbacks == [nudge_relay]


@pytest.mark.django_db
def test_the_heartbeat_task_writes_a_heartbeat_change() -> None:
    tasks.heartbeat.apply()

    assert Change.objects.get().table_name == "strangler_sync.heartbeat"


def test_the_time_limits_sit_inside_each_other_below_the_visibility_timeout() -> None:
    one_call_worst_case = 4 * CONNECT_TIMEOUT_SECONDS + 2 * READ_TIMEOUT_SECONDS + 8
    assert PASS_BUDGET_SECONDS + one_call_worst_case < SOFT_TIME_LIMIT_SECONDS
    assert SOFT_TIME_LIMIT_SECONDS < HARD_TIME_LIMIT_SECONDS < BROKER_VISIBILITY_TIMEOUT_SECONDS
    assert tasks.relay.acks_late


def test_the_beat_schedule_names_the_three_tasks_each_expiring_with_its_period() -> None:
    schedule = beat_schedule(relay_every=5)

    assert set(schedule) == {
        "strangler_sync.relay",
        "strangler_sync.heartbeat",
        "strangler_sync.prune",
    }
    assert schedule["strangler_sync.relay"] == {
        "task": "strangler_sync.relay", "schedule": 5, "options": {"expires": 5}
    }  # fmt: skip
