"""Backfill against a real receiver: beta under gunicorn with its own database."""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest
from django.db import connections
from django.utils import timezone

from strangler.sync import backfill_read
from strangler.sync.backfill import BackfillTick, backfill_table
from strangler.sync.changelog import send_table
from strangler.sync.config import sync_settings
from strangler.sync.errors import CaptureMissing
from strangler.sync.models import Stream
from strangler.sync.ops_client import OpsClient, RowsApplied
from strangler.sync.runs import BackfillProgress
from strangler.sync.sides import outbound_tables
from strangler.sync.wire import RowChange, dumps
from tests.monolith.processes import PYTHON, running, wait_until
from tests.strangler.sync.conftest import Node, alpha_database_url, node_env
from tests.strangler.sync.ops_fixtures import (
    alpha_widgets,
    beta_versions,
    ops_beta,
    ops_beta_server,
    relay_until,
    run_tables,
    seed_widgets,
)
from tests.sync_project.widgets.models import Widget

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Imported for pytest to find them here: ops_fixtures says why they are not in conftest.
FIXTURES = (ops_beta, ops_beta_server, run_tables)

WIDGETS = "widgets_widget"


def _widgets_table() -> Any:
    [entry] = [e for e in sync_settings().outbound_to("beta") if e.model == "widgets.Widget"]
    return send_table(entry)


def test_a_backfill_copies_every_row_with_its_version(ops_beta: Node) -> None:
    seed_widgets(2500)
    Widget.objects.filter(pk=7).update(name="written since capture")  # version 1 here

    record = backfill_table(_widgets_table(), peer="beta", batch_size=1000)

    assert ops_beta.db.widgets() == alpha_widgets()
    assert len(ops_beta.db.widgets()) == 2500
    versions = beta_versions(ops_beta)
    assert versions[7] == (1, False)
    assert versions[8] == (0, False)
    assert (record.state, record.rows_done, record.applied, record.stale) == ("done", 2500, 2500, 0)


def test_a_killed_backfill_resumes_after_the_last_acknowledged_batch(
    ops_beta: Node, tmp_path: Any
) -> None:
    seed_widgets(20_000)
    env = node_env("alpha", database_url=alpha_database_url(), peer_url=ops_beta.url)
    args = [PYTHON, "-m", "django", "sync_backfill", "widgets.Widget", "--batch-size", "100"]

    def progressed() -> bool:
        return BackfillProgress.objects.filter(table_name=WIDGETS, rows_done__gte=300).exists()

    with running(args, env=env, log=tmp_path / "backfill.log") as proc:
        wait_until(progressed, deadline=60, what="the backfill to pass 300 rows")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    killed = BackfillProgress.objects.get(table_name=WIDGETS)
    ticks: list[BackfillTick] = []

    resumed = backfill_table(_widgets_table(), peer="beta", batch_size=1000, progress=ticks.append)

    assert killed.state == "running"
    assert 300 <= killed.rows_done < 20_000
    assert ticks[0].rows_done == killed.rows_done + 1000  # went on from the stored key
    assert (resumed.state, resumed.rows_done) == ("done", 20_000)
    assert len(ops_beta.db.widgets()) == 20_000


class _DeletingDuringTheCopy(OpsClient):
    """Before the batch holding ``pk`` reaches beta, the row is deleted and relayed first."""

    def __init__(self, *, pk: int, beta: Node, **kwargs: Any) -> None:
        super().__init__(base_url=beta.url, **kwargs)
        self.pk = pk
        self.beta = beta

    def rows_apply(self, *, source: str, columns: Any, changes: Sequence[RowChange]) -> RowsApplied:
        if any(change.pk == str(self.pk) for change in changes):
            try:
                Widget.objects.filter(pk=self.pk).delete()
                relay_until(lambda: self.pk in beta_versions(self.beta), what="the tombstone")
            finally:
                connections.close_all()  # this runs in the backfill's sender thread
        return super().rows_apply(source=source, columns=columns, changes=changes)


def test_a_row_deleted_during_the_backfill_is_not_resurrected(ops_beta: Node) -> None:
    seed_widgets(50)
    client = _DeletingDuringTheCopy(
        pk=30, beta=ops_beta, secret=sync_settings().secret, sender="alpha", receiver="beta"
    )

    record = backfill_table(_widgets_table(), peer="beta", batch_size=10, client=client)

    assert 30 not in ops_beta.db.widgets()
    assert beta_versions(ops_beta)[30] == (1, True)
    assert record.stale == 1
    assert ops_beta.db.widgets() == alpha_widgets()


def test_a_row_deleted_after_it_was_copied_is_deleted_on_the_peer(ops_beta: Node) -> None:
    seed_widgets(20)
    backfill_table(_widgets_table(), peer="beta")

    Widget.objects.filter(pk=5).delete()
    relay_until(lambda: 5 not in ops_beta.db.widgets(), what="the delete on beta")

    assert ops_beta.db.widgets() == alpha_widgets()


def test_the_backfill_waits_while_the_stream_lags(ops_beta: Node) -> None:
    seed_widgets(30)
    Stream.objects.create(
        peer="beta", acked_heartbeat_at=timezone.now() - dt.timedelta(seconds=120)
    )
    ticks: list[BackfillTick] = []

    def relay_catches_up(_: float) -> None:
        Stream.objects.filter(peer="beta").update(acked_heartbeat_at=timezone.now())

    record = backfill_table(
        _widgets_table(),
        peer="beta",
        batch_size=10,
        max_lag=30,
        progress=ticks.append,
        sleep=relay_catches_up,
    )

    assert ticks[0].lag_seconds is not None
    assert ticks[0].lag_seconds >= 120
    assert ticks[0].rows_done == 0  # nothing was sent while the stream lagged
    assert all(t.lag_seconds is None for t in ticks[1:])
    assert record.rows_done == 30


def test_a_finished_backfill_run_again_starts_over(ops_beta: Node) -> None:
    seed_widgets(15)
    backfill_table(_widgets_table(), peer="beta", batch_size=10)

    again = backfill_table(_widgets_table(), peer="beta", batch_size=10)

    assert (again.rows_done, again.applied, again.stale) == (15, 0, 15)


def test_rows_created_on_the_peer_after_a_backfill_get_keys_past_the_copied_ones(
    ops_beta: Node,
) -> None:
    seed_widgets(40)
    backfill_table(_widgets_table(), peer="beta")

    ops_beta.db.execute(
        "INSERT INTO widgets_widget (sku, name, price, updated_at) "
        "VALUES ('NEW', 'made on beta', 1, CURRENT_TIMESTAMP)"
    )

    [(new_id,)] = ops_beta.db.rows("SELECT id FROM widgets_widget WHERE sku = 'NEW'")
    assert new_id > 40


def test_a_table_without_capture_is_refused(ops_beta: Node) -> None:
    from django.db import connection

    from strangler.sync.triggers import capture_drop_statements, capture_install

    with connection.cursor() as cursor:
        for statement in capture_drop_statements(connection.vendor, table=WIDGETS):
            cursor.execute(statement)
    try:
        with pytest.raises(CaptureMissing, match="widgets_widget"):
            outbound_tables(peer="beta", model="widgets.Widget")
    finally:
        capture_install(connection, table=WIDGETS, pk="id")


def test_the_command_prints_rows_rate_and_eta(ops_beta: Node) -> None:
    seed_widgets(3000)
    env = node_env("alpha", database_url=alpha_database_url(), peer_url=ops_beta.url)

    done = subprocess.run(
        [PYTHON, "-m", "django", "sync_backfill", "widgets.Widget", "--batch-size", "500"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    first = done.stdout.splitlines()[0]
    assert first.startswith("widgets_widget -> beta: 500/3,000 rows (16.7%), ")
    assert "rows/s, ETA " in first
    assert done.stdout.splitlines()[-1].startswith("widgets_widget -> beta: done, 3,000 rows")


@pytest.mark.postgres
def test_values_rendered_by_postgresql_read_back_as_the_orms_do(monkeypatch) -> None:
    Widget.objects.bulk_create(
        [
            Widget(id=1, sku="W-1", name="plain", price=Decimal("9.50")),
            Widget(id=2, sku="W-2", name='ünïcode "quoted"\n', price=Decimal("-0.01")),
            Widget(id=3, sku="W-3", name="", price=Decimal("12345678.00")),
        ]
    )
    Widget.objects.filter(pk=1).update(updated_at=dt.datetime(2024, 5, 17, 9, 30, tzinfo=dt.UTC))
    Widget.objects.filter(pk=2).update(
        updated_at=dt.datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)
    )
    table = _widgets_table()
    assert backfill_read._rendered_columns(table) is not None  # the table takes the rendered path

    rendered, last = backfill_read.read_batch(table, after="", limit=10)
    monkeypatch.setattr(backfill_read, "_rendered_columns", lambda _: None)
    through_orm, orm_last = backfill_read.read_batch(table, after="", limit=10)

    assert last == orm_last == "3"
    assert [(c.pk, c.version) for c in rendered] == [(c.pk, c.version) for c in through_orm]
    assert [_read_back(c) for c in rendered] == [_read_back(c) for c in through_orm]


def _read_back(change: RowChange) -> dict[str, Any]:
    """The values as the receiver reads them: through JSON, then each field's ``to_python``."""
    data = json.loads(dumps(change.as_json()))["data"]
    fields = {f.column: f for f in Widget._meta.concrete_fields}
    return {column: fields[column].to_python(value) for column, value in data.items()}
