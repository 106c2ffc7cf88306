"""Real worker processes: a killed worker, both directions at once, a relay delivered twice,
a resume that names the worker still holding old settings.

Alpha is this process's test database; its workers are ``celery -A tests.sync_project worker``
processes acting as alpha. Beta is the gunicorn receiver of ``conftest.beta_server``; for the
stream back, alpha's receiver runs under gunicorn on this process's database and a worker acts
as beta. Every wait is on a condition with a deadline.
"""

from __future__ import annotations

import os
import signal
import socket
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from strangler.sync import tasks
from strangler.sync.changelog import send_table
from strangler.sync.config import sync_settings
from strangler.sync.models import Change, Stream
from strangler.sync.reconcile import reconcile_table
from tests.monolith.processes import free_port, running, url_answers, wait_until
from tests.strangler.sync.conftest import Node, gunicorn_args, node_env
from tests.strangler.sync.worker_fixtures import (
    ALPHA_QUEUE,
    BETA_QUEUE,
    DELIVERY_DEADLINE_SECONDS,
    alpha_worker_env,
    nudge_until,
    worker,
)
from tests.sync_project.widgets.models import Widget

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Imported for pytest to find it here: worker_fixtures says why it is not in conftest.
FIXTURES = (alpha_worker_env,)

# Enough rows that a relay pass spans several batches (500 each): the worker is killed while
# the stream is still on its way, not after it is done.
KILLED_ROWS = 20_000


def _alpha_widgets() -> dict[int, tuple[Any, ...]]:
    return {w.id: (w.sku, w.name, f"{w.price:.2f}") for w in Widget.objects.all()}


def _beta_count(beta: Node) -> int:
    return int(beta.db.rows("SELECT count(*) FROM widgets_widget")[0][0])


def _beta_applied(beta: Node) -> int:
    rows = beta.db.rows("SELECT applied FROM strangler_sync_cursor WHERE source = %s", ["alpha"])
    return int(rows[0][0]) if rows else 0


def _write_widgets(count: int, *, start: int = 1) -> None:
    with transaction.atomic():
        for first in range(start, start + count, 1000):
            Widget.objects.bulk_create(
                Widget(id=pk, sku=f"W-{pk}", name="gear", price=Decimal("9.99"))
                for pk in range(first, min(first + 1000, start + count))
            )


def test_a_worker_killed_mid_relay_loses_and_doubles_nothing_once_another_starts(
    alpha_worker_env: dict[str, str], beta: Node, tmp_path: Path
) -> None:
    # given a long stream being relayed by a worker
    _write_widgets(KILLED_ROWS)  # bulk_create sends no signal: the test nudges
    tasks.relay.apply_async(queue=ALPHA_QUEUE)
    with worker(alpha_worker_env, ALPHA_QUEUE, tmp_path / "first.log") as first:
        wait_until(
            lambda: _beta_count(beta) > 0,
            deadline=DELIVERY_DEADLINE_SECONDS,
            what="the first worker to start relaying",
        )
        # when it is killed outright while relaying
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    assert _beta_count(beta) < KILLED_ROWS, "the worker finished before it was killed"

    # then a new worker delivers the rest, each row applied once, and reconcile finds no drift
    with worker(alpha_worker_env, ALPHA_QUEUE, tmp_path / "second.log"):
        nudge_until(
            lambda: _beta_count(beta) == KILLED_ROWS,
            queues=(ALPHA_QUEUE,),
            what="the second worker to deliver every widget",
        )
    assert beta.db.widgets() == _alpha_widgets()
    assert _beta_applied(beta) == KILLED_ROWS
    versions = beta.db.rows(
        "SELECT count(*), max(version) FROM strangler_sync_row WHERE table_name = %s",
        ["widgets_widget"],
    )
    assert tuple(versions[0]) == (KILLED_ROWS, 1)
    [entry] = [e for e in sync_settings().outbound_to("beta") if e.model == "widgets.Widget"]
    report = reconcile_table(send_table(entry), peer="beta", level="rows")
    assert report.diverged == 0


def test_both_directions_at_once_converge_without_echo(
    alpha_worker_env: dict[str, str], beta: Node, tmp_path: Path, django_db_blocker: Any
) -> None:
    # given alpha's receiver, a worker per node, and both streams enabled
    port = free_port()
    alpha_url = f"http://127.0.0.1:{port}"
    alpha_db = alpha_worker_env["DATABASE_URL"]
    receiver_env = node_env("alpha", database_url=alpha_db, peer_url=beta.url)
    beta_env = node_env(
        "beta", database_url=beta.db.url, peer_url=alpha_url, SYNC_OUTBOUND_ENABLED="1"
    )
    with (
        running(
            gunicorn_args(port),
            env=receiver_env,
            log=tmp_path / "alpha-gunicorn.log",
            ready=url_answers(f"{alpha_url}/readyz"),
        ),
        worker(alpha_worker_env, ALPHA_QUEUE, tmp_path / "alpha-worker.log"),
        worker(beta_env, BETA_QUEUE, tmp_path / "beta-worker.log"),
    ):
        # when each node writes its own rows at the same time
        _write_widgets(50, start=1)
        for pk in range(1001, 1051):
            beta.db.execute(
                "INSERT INTO widgets_widget (id, sku, name, price, updated_at) "
                "VALUES (%s, %s, %s, %s, CURRENT_TIMESTAMP)",
                [pk, f"B-{pk}", "bolt", "1.50"],
            )

        # then both end with all hundred rows
        def converged() -> bool:
            alpha = _alpha_widgets()
            return len(alpha) == 100 and beta.db.widgets() == alpha

        nudge_until(
            converged,
            queues=(ALPHA_QUEUE, BETA_QUEUE),
            what="both nodes to hold all hundred widgets",
        )

    # and neither node captured the other's rows again (no echo)
    alpha_changes = Change.objects.filter(table_name="widgets_widget").count()
    beta_changes = beta.db.rows(
        "SELECT count(*) FROM strangler_sync_change WHERE table_name = %s", ["widgets_widget"]
    )[0][0]
    assert (alpha_changes, beta_changes) == (50, 50)


def test_a_relay_delivered_twice_at_once_applies_each_row_once(
    alpha_worker_env: dict[str, str], beta: Node, tmp_path: Path
) -> None:
    # given rows waiting, and two nudges queued for two workers
    _write_widgets(3000)
    tasks.relay.apply_async(queue=ALPHA_QUEUE)
    tasks.relay.apply_async(queue=ALPHA_QUEUE)

    # when two workers take them at once
    with (
        worker(alpha_worker_env, ALPHA_QUEUE, tmp_path / "one.log"),
        worker(alpha_worker_env, ALPHA_QUEUE, tmp_path / "two.log"),
    ):
        nudge_until(
            lambda: _beta_count(beta) == 3000,
            queues=(ALPHA_QUEUE,),
            what="the widgets to reach beta",
        )

    # then each row was applied once, at its one version
    assert beta.db.widgets() == _alpha_widgets()
    assert _beta_applied(beta) == 3000
    assert beta.db.rows(
        "SELECT count(*), max(version) FROM strangler_sync_row WHERE table_name = %s",
        ["widgets_widget"],
    )[0] == (3000, 1)


def _paused() -> str:
    stream = Stream.objects.filter(peer="beta").first()
    return stream.paused_reason if stream else ""


def _resume() -> str:
    out = StringIO()
    call_command("sync_resume", "beta", stdout=out, stderr=StringIO())
    return out.getvalue()


def test_resume_names_a_worker_holding_old_settings_and_holds_once_it_restarts(
    alpha_worker_env: dict[str, str], beta: Node, tmp_path: Path
) -> None:
    # given a worker started before the registration listed the widgets' 'name' column: its
    # relay pass pauses the stream on the drift
    unfixed = {**alpha_worker_env, "SYNC_WIDGET_FIELDS": "id,sku,price,updated_at"}
    Widget.objects.create(id=1, sku="W-1", name="gear", price=Decimal("9.99"))
    with worker(unfixed, ALPHA_QUEUE, tmp_path / "old.log") as old:
        nudge_until(lambda: bool(_paused()), queues=(ALPHA_QUEUE,), what="the stream to pause")
        assert "column(s) name in neither 'fields' nor 'exclude'" in _paused()

        # when the registration is fixed (this process holds the fixed one) and resume asked
        with pytest.raises(CommandError) as refused:
            _resume()

        # then it names the worker to restart, and the stream stays paused
        assert f"worker {socket.gethostname()}:{old.pid} " in str(refused.value)
        assert "restart it" in str(refused.value)
        assert _paused()

    # and once the worker runs the fixed settings, resume succeeds and the stream stays resumed
    with worker(alpha_worker_env, ALPHA_QUEUE, tmp_path / "new.log"):
        assert "stream to beta resumed" in _resume()
        nudge_until(
            lambda: set(beta.db.widgets()) == {1},
            queues=(ALPHA_QUEUE,),
            what="the widget to reach beta",
        )
        tasks.relay.apply(kwargs={"peer": "beta"})
        assert _paused() == ""
