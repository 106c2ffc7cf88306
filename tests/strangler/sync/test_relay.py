"""The relay against a real receiver: beta under gunicorn with its own database."""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from strangler.sync.changelog import heartbeat_write
from strangler.sync.errors import ReceiverUnreachable
from strangler.sync.models import Change, Stream
from strangler.sync.relay import relay_stream
from strangler.sync.triggers import capture_drop_statements, capture_install
from tests.monolith.processes import PYTHON, free_port, running, url_answers
from tests.strangler.sync.conftest import (
    Node,
    alpha_database_url,
    gunicorn_args,
    is_postgres,
    node_env,
)
from tests.sync_project.widgets.models import Part, Widget

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def to_beta(beta: Node, alpha_to: Any) -> Node:
    alpha_to(beta.url)
    return beta


def _alpha_widgets() -> dict[int, tuple[Any, ...]]:
    return {w.id: (w.sku, w.name, f"{w.price:.2f}") for w in Widget.objects.all()}


def _widget(pk: int, **fields: Any) -> Widget:
    return Widget.objects.create(
        id=pk,
        sku=fields.get("sku", f"A-{pk}"),
        name=fields.get("name", "gear"),
        price=Decimal("9.99"),
    )


def test_every_kind_of_write_arrives_and_a_second_pass_sends_nothing(to_beta: Node) -> None:
    first = _widget(1)
    Widget.objects.filter(pk=first.pk).update(name="updated")
    Widget.objects.bulk_create(
        [Widget(id=i, sku=f"B-{i}", name="bulk", price=Decimal(2)) for i in (2, 3)]
    )
    Part.objects.create(id=1, widget=first, name="bolt")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE widgets_widget SET name = 'raw' WHERE id = 2")
    Widget.objects.filter(pk=3).delete()

    result = relay_stream("beta")
    again = relay_stream("beta")

    assert to_beta.db.widgets() == _alpha_widgets() == {
        1: ("A-1", "updated", "9.99"), 2: ("B-2", "raw", "2.00")
    }  # fmt: skip
    assert to_beta.db.rows("SELECT id, widget_id FROM widgets_part") == [(1, 1)]
    assert result.stopped == "caught_up"
    assert (again.batches, again.sent) == (0, 0)


def test_a_backlog_crosses_many_batches_in_order(to_beta: Node) -> None:
    for pk in range(1, 31):
        _widget(pk)
    Widget.objects.update(name="second")

    result = relay_stream("beta", batch_size=7)

    assert result.batches >= 8
    assert {v[1] for v in to_beta.db.widgets().values()} == {"second"}
    assert len(to_beta.db.widgets()) == 30


def test_the_sender_remembers_the_receivers_cursor(to_beta: Node) -> None:
    _widget(1)

    result = relay_stream("beta")

    stream = Stream.objects.get(peer="beta")
    last = Change.objects.order_by("-id").first()
    assert result.cursor is not None
    assert (
        (stream.acked_xid, stream.acked_seq)
        == (last.xid, last.id)
        == (result.cursor.xid, result.cursor.seq)
    )


def test_a_receiver_that_was_down_is_caught_up_when_it_returns(
    beta: Node, alpha_to: Any, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    alpha_to(url)
    _widget(1)

    with pytest.raises(ReceiverUnreachable):
        relay_stream("beta")
    assert "Connection refused" in Stream.objects.get(peer="beta").last_error

    _widget(2)
    with running(
        gunicorn_args(port),
        env=beta.env,
        log=tmp_path / "late.log",
        ready=url_answers(f"{url}/readyz"),
    ):
        result = relay_stream("beta")

    assert set(beta.db.widgets()) == {1, 2}
    assert result.stopped == "caught_up"
    assert Stream.objects.get(peer="beta").last_error == ""


@pytest.mark.postgres
def test_a_transaction_still_open_holds_the_relay_back_and_nothing_is_skipped(
    to_beta: Node,
) -> None:
    early = psycopg.connect(alpha_database_url())
    try:
        # Takes the earlier transaction id and the earlier sequence number, commits last.
        early.execute(
            "INSERT INTO widgets_widget (id, sku, name, price, updated_at) "
            "VALUES (500, 'EARLY', 'early', 1, now())"
        )
        _widget(501)  # commits at once, after the open transaction started writing

        held = relay_stream("beta")
        assert to_beta.db.widgets() == {}
        assert held.batches == 0

        early.commit()
    finally:
        early.close()

    relay_stream("beta")

    assert set(to_beta.db.widgets()) == {500, 501}


@pytest.mark.postgres
def test_a_transaction_open_in_another_database_does_not_hold_the_relay_back(
    to_beta: Node,
) -> None:
    server = alpha_database_url().rsplit("/", 1)[0]
    elsewhere = psycopg.connect(f"{server}/postgres")
    try:
        elsewhere.execute("SELECT pg_current_xact_id()")  # an xid, open, in another database
        _widget(1)

        relay_stream("beta")

        assert set(to_beta.db.widgets()) == {1}
    finally:
        elsewhere.rollback()
        elsewhere.close()


def test_a_heartbeat_tells_both_sides_how_far_the_stream_has_come(to_beta: Node) -> None:
    beat = dt.datetime(2030, 1, 1, 12, 0, 0, 250000, tzinfo=dt.UTC)
    _widget(1)
    heartbeat_write(now=beat)

    relay_stream("beta")

    stored = to_beta.db.rows(
        "SELECT heartbeat_at FROM strangler_sync_cursor WHERE source = 'alpha'"
    )
    assert _utc(stored[0][0]) == beat
    assert Stream.objects.get(peer="beta").acked_heartbeat_at == beat


def _utc(value: Any) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def test_unregistered_columns_pause_the_stream_until_it_is_resumed(
    to_beta: Node, settings: Any
) -> None:
    registered = settings.STRANGLER_SYNC
    drifted = {**registered, "outbound": [
        {**registered["outbound"][0], "fields": ["id", "sku", "price", "updated_at"]},
        registered["outbound"][1],
    ]}  # fmt: skip
    settings.STRANGLER_SYNC = drifted
    _widget(1)

    paused = relay_stream("beta")
    settings.STRANGLER_SYNC = registered
    still = relay_stream("beta")
    call_command("sync_resume", "beta", stdout=StringIO())
    resumed = relay_stream("beta")

    assert paused.stopped == "paused"
    assert "widgets_widget: column(s) name in neither 'fields' nor 'exclude'" in paused.error
    assert still.stopped == "paused"
    assert resumed.stopped == "caught_up"
    assert set(to_beta.db.widgets()) == {1}


def test_a_table_without_capture_triggers_pauses_the_stream(to_beta: Node) -> None:
    with connection.cursor() as cursor:
        for statement in capture_drop_statements(connection.vendor, table="widgets_part"):
            cursor.execute(statement)
    try:
        result = relay_stream("beta")
    finally:
        capture_install(connection, table="widgets_part", pk="id")

    assert result.stopped == "paused"
    assert "no capture triggers on widgets_part" in result.error


@pytest.fixture(scope="module")
def alpha_server(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Alpha's receiver under gunicorn, on this test process's database."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with django_db_blocker.unblock():
        database_url = alpha_database_url()
    env = node_env("alpha", database_url=database_url, peer_url="http://127.0.0.1:9")
    log = tmp_path_factory.mktemp("alpha-log") / "gunicorn.log"
    with running(gunicorn_args(port), env=env, log=log, ready=url_answers(f"{url}/readyz")):
        yield url


def test_both_directions_at_once_and_nothing_echoes(to_beta: Node, alpha_server: str) -> None:
    _widget(1, sku="FROM-ALPHA")
    to_beta.db.execute(
        "INSERT INTO widgets_widget (id, sku, name, price, updated_at) "
        "VALUES (2, 'FROM-BETA', 'beta', 3.50, %s)",
        ["2024-01-01 00:00:00+00:00" if is_postgres() else "2024-01-01 00:00:00"],
    )
    reverse_env = {**to_beta.env, "SYNC_OUTBOUND_ENABLED": "1", "SYNC_PEER_URL": alpha_server}

    reverse = subprocess.Popen(
        [PYTHON, "-m", "django", "sync_relay", "--peer", "alpha"], env=reverse_env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    forward = relay_stream("beta")
    out, _ = reverse.communicate(timeout=60)
    assert reverse.returncode == 0, out

    assert set(_alpha_widgets()) == set(to_beta.db.widgets()) == {1, 2}
    assert forward.stopped == "caught_up"
    # No echo: each side's changelog holds its own writes only ...
    assert set(Change.objects.values_list("row_pk", flat=True)) == {"1"}
    assert {r[0] for r in to_beta.db.rows("SELECT pk FROM strangler_sync_change")} == {"2"}
    # ... so another pass each way has nothing to send.
    again = subprocess.run(
        [PYTHON, "-m", "django", "sync_relay", "--peer", "alpha"], env=reverse_env,
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert '"sent": 0' in again.stdout
    assert relay_stream("beta").sent == 0
