"""Fixtures of the backfill, reconcile and status tests: beta with the operations endpoints.

Test modules import the fixtures they use (``conftest.py`` belongs to the stream's tests; these
can move there once the operations endpoints and tables are part of the app).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction

from strangler.sync.backfill import backfill_table
from strangler.sync.changelog import SendTable, send_table
from strangler.sync.config import sync_settings
from strangler.sync.marking import applying
from strangler.sync.models import RowVersion
from strangler.sync.relay import relay_stream
from strangler.sync.runs import BackfillProgress, ReconcileRun
from strangler.sync.shapes import TableShape
from tests.monolith.processes import PYTHON, free_port, running, url_answers, wait_until
from tests.strangler.sync.conftest import Node, NodeDB, node_env
from tests.sync_project.widgets.models import Widget

__all__ = [
    "WHEN",
    "alpha_widgets",
    "applied_widget",
    "beta_versions",
    "in_step",
    "ops_beta",
    "ops_beta_server",
    "relay_until",
    "run_tables",
    "seed_widgets",
    "version_set",
    "widget_shape",
    "widgets_table",
    "without_capture_on",
]

OPS_SETTINGS = "tests.strangler.sync.ops_settings"


@pytest.fixture(scope="session", autouse=True)
def run_tables(django_db_setup: None, django_db_blocker: Any) -> None:
    """Backfill and reconcile records in alpha's test database.

    ``strangler.sync.runs`` is not in the app's migrations yet; once it is, this finds the
    tables there and creates nothing.
    """
    with django_db_blocker.unblock():
        existing = set(connection.introspection.table_names())
        missing = [m for m in (BackfillProgress, ReconcileRun) if m._meta.db_table not in existing]
        if missing:
            with connection.schema_editor() as editor:
                for model in missing:
                    editor.create_model(model)


@pytest.fixture(scope="session")
def ops_beta_server(
    beta_database: NodeDB, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    """Beta under gunicorn, serving the stream's and the operations endpoints."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("ops-beta-log") / "gunicorn.log"
    env = node_env(
        "beta",
        database_url=beta_database.url,
        peer_url="http://127.0.0.1:9",
        DJANGO_SETTINGS_MODULE=OPS_SETTINGS,
    )
    args = [PYTHON, "-m", "gunicorn", "tests.sync_project.wsgi", "-c",
            "python:strangler.servicekit.gunicorn_conf", "--workers", "2",
            "--bind", f"127.0.0.1:{port}"]  # fmt: skip
    with running(args, env=env, log=log, ready=url_answers(f"{url}/readyz")):
        yield Node(name="beta", url=url, db=beta_database, env=env, log=log)


@pytest.fixture
def ops_beta(ops_beta_server: Node, alpha_to: Any) -> Node:
    """Beta, emptied, with alpha's stream pointed at it."""
    ops_beta_server.db.clean()
    alpha_to(ops_beta_server.url)
    return ops_beta_server


def widgets_table() -> SendTable:
    [entry] = [e for e in sync_settings().outbound_to("beta") if e.model == "widgets.Widget"]
    return send_table(entry)


@pytest.fixture
def in_step(ops_beta: Node) -> Node:
    """3,000 widgets on both nodes, copied by a backfill."""
    seed_widgets(3000)
    backfill_table(widgets_table(), peer="beta")
    assert ops_beta.db.widgets() == alpha_widgets()
    return ops_beta


def seed_widgets(count: int, *, start: int = 1, name: str = "gear") -> None:
    """Widgets that were there before capture was installed: no version (0), no change rows."""
    with transaction.atomic(), applying():
        Widget.objects.bulk_create(
            Widget(id=pk, sku=f"W-{pk}", name=name, price=Decimal("9.99"))
            for pk in range(start, start + count)
        )


def alpha_widgets() -> dict[int, tuple[Any, ...]]:
    """id -> (sku, name, price as text), as ``NodeDB.widgets`` reads beta's."""
    return {w.id: (w.sku, w.name, f"{w.price:.2f}") for w in Widget.objects.all()}


def beta_versions(beta: Node, table: str = "widgets_widget") -> dict[int, tuple[int, bool]]:
    """Beta's row versions of ``table``: id -> (version, deleted)."""
    rows = beta.db.rows(
        "SELECT pk, version, deleted FROM strangler_sync_row WHERE table_name = %s", [table]
    )
    return {int(pk): (version, bool(deleted)) for pk, version, deleted in rows}


def relay_until(condition: Callable[[], bool], *, what: str) -> None:
    """Relay to beta until ``condition`` holds.

    On PostgreSQL a pass does not read past a transaction still open anywhere on the server
    (another test run's, a killed process's until the server notices), so one pass may send
    nothing yet.
    """

    def relayed() -> bool:
        relay_stream("beta")
        return condition()

    wait_until(relayed, deadline=30, what=what)


WHEN = dt.datetime(2024, 5, 17, 9, 30, 15, 123456, tzinfo=dt.UTC)
_SHAPE_COLUMNS = {
    "id": "id",
    "sku": "sku",
    "name": "name",
    "price": "price",
    "updated_at": "updated_at",
}


def widget_shape() -> TableShape:
    return TableShape.for_model(Widget, sync_name="widgets_widget", wire_to_attname=_SHAPE_COLUMNS)


def applied_widget(
    pk: int, *, name: str = "gear", price: str = "9.99", when: dt.datetime = WHEN
) -> None:
    """A widget as apply writes it: no capture, the sender's timestamp kept."""
    with transaction.atomic(), applying():
        Widget.objects.bulk_create([Widget(id=pk, sku=f"W-{pk}", name=name, price=Decimal(price))])
        Widget.objects.filter(pk=pk).update(updated_at=when)


def version_set(pk: int, version: int, *, deleted: bool = False) -> None:
    RowVersion.objects.update_or_create(
        table_name="widgets_widget",
        row_pk=str(pk),
        defaults={"version": version, "deleted": deleted, "updated_at": WHEN},
    )


def without_capture_on(beta: Node, sql: str, params: Sequence[Any] = ()) -> None:
    """A write on beta that its capture does not see (as a write bypassing it would)."""
    if beta.db.url.startswith("mysql"):  # NodeDB keeps one session there: the mark holds
        on, off = "SET @strangler_sync_applying = 1", "SET @strangler_sync_applying = NULL"
    elif beta.db.sqlite_path is None:
        on, off = "SET strangler.applying = 'on'", "SET strangler.applying = 'off'"
    else:
        on, off = (
            "INSERT INTO strangler_sync_applying (id) VALUES (1)",
            ("DELETE FROM strangler_sync_applying"),
        )
    beta.db.execute(on)
    try:
        beta.db.execute(sql, params)
    finally:
        beta.db.execute(off)
