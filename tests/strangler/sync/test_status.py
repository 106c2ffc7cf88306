"""Status: idle told from stuck by heartbeat lag, backlog, dead letters, runs; JSON and metrics."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from strangler.sync.changelog import heartbeat_write
from strangler.sync.models import Change, Cursor, DeadLetter, Stream
from strangler.sync.runs import BackfillProgress, ReconcileRun
from strangler.sync.status import Thresholds, status_document, status_lines
from strangler.sync.status_document import RegisteredTable, Registration, SyncStatus
from strangler.sync.wire import SyncJSONEncoder
from tests.strangler.sync.factories import signed_get
from tests.strangler.sync.ops_fixtures import run_tables
from tests.sync_project.widgets.models import Widget

pytestmark = pytest.mark.django_db

# Imported for pytest to find them here: ops_fixtures says why they are not in conftest.
FIXTURES = (run_tables,)

NOW = timezone.now()

# The keys of each part of the document, in the order the status endpoint has always sent them.
WIRE_KEYS = {
    "streams": ["peer", "state", "enabled", "paused_reason", "acked", "backlog", "lag_seconds",
                "heartbeat_at", "last_relay_at", "last_error"],
    "cursors": ["source", "state", "enabled", "cursor", "heartbeat_at", "lag_seconds",
                "applied_at", "batches", "applied", "stale", "dead_lettered"],
    "backfills": ["peer", "table", "state", "rows_done", "rows_total", "position", "applied",
                  "stale", "dead_lettered", "started_at", "updated_at", "finished_at",
                  "last_error"],
    "last_reconcile": ["peer", "table", "state", "level", "started_at", "finished_at",
                       "age_seconds", "rows_source", "rows_peer", "diverged", "in_flight",
                       "converged", "repaired"],
}  # fmt: skip


def _ago(seconds: float) -> dt.datetime:
    return NOW - dt.timedelta(seconds=seconds)


def _acked(seconds_ago: float | None, **fields: Any) -> None:
    """Beta acknowledged everything captured so far, with a heartbeat ``seconds_ago``."""
    last = Change.objects.order_by("-id").first()
    Stream.objects.update_or_create(
        peer="beta",
        defaults={
            "acked_xid": last.xid if last else 0,
            "acked_seq": last.id if last else 0,
            "acked_heartbeat_at": None if seconds_ago is None else _ago(seconds_ago),
            **fields,
        },
    )


def _stream(document: dict[str, Any]) -> dict[str, Any]:
    [stream] = document["streams"]
    return stream


def _widget(pk: int) -> None:
    Widget.objects.create(id=pk, sku=f"S-{pk}", name="gear", price=Decimal(1))


def test_a_stream_with_fresh_heartbeats_and_no_backlog_is_idle() -> None:
    _acked(5)
    heartbeat_write()  # heartbeats after the cursor are not backlog

    stream = _stream(status_document(now=NOW))

    assert (stream["state"], stream["backlog"], stream["lag_seconds"]) == ("idle", 0, 5.0)


def test_a_stream_with_fresh_heartbeats_and_a_backlog_is_syncing() -> None:
    _acked(5)
    _widget(1)
    _widget(2)

    document = status_document(now=NOW)

    assert (_stream(document)["state"], _stream(document)["backlog"]) == ("syncing", 2)
    assert document["healthy"] is True


def test_a_stream_whose_heartbeat_is_old_is_stuck_and_the_node_unhealthy() -> None:
    _acked(120)

    document = status_document(now=NOW)

    assert _stream(document)["state"] == "stuck"
    assert document["healthy"] is False
    assert document["problems"] == ["stream to beta is stuck: lag 120.0 s"]


def test_a_stream_between_the_thresholds_is_lagging() -> None:
    _acked(45)

    stream = _stream(status_document(now=NOW, thresholds=Thresholds(30, 60)))

    assert stream["state"] == "lagging"


def test_a_stream_without_any_heartbeat_is_unknown() -> None:
    stream = _stream(status_document(now=NOW))

    assert (stream["state"], stream["lag_seconds"], stream["backlog"]) == ("unknown", None, 0)


def test_a_paused_stream_shows_its_reason() -> None:
    _acked(5, paused_reason="widgets_widget: column(s) colour in neither 'fields' nor 'exclude'")

    document = status_document(now=NOW)

    assert _stream(document)["state"] == "paused"
    assert _stream(document)["paused_reason"].startswith("widgets_widget: column(s) colour")
    assert document["problems"][0].startswith("stream to beta is paused: widgets_widget")


def test_a_receivers_cursor_shows_its_lag_and_counts() -> None:
    Cursor.objects.create(source="beta", xid=0, seq=12, heartbeat_at=_ago(300), applied=10, stale=2)

    [cursor] = status_document(now=NOW)["cursors"]

    assert cursor["state"] == "stuck"
    assert (cursor["cursor"], cursor["lag_seconds"], cursor["applied"]) == ([0, 12], 300.0, 10)


def test_a_cursor_whose_source_turned_its_stream_off_is_disabled_and_healthy() -> None:
    Cursor.objects.create(source="beta", heartbeat_at=_ago(75), source_enabled=False)

    document = status_document(now=NOW)

    [cursor] = document["cursors"]
    assert (cursor["state"], cursor["enabled"], cursor["lag_seconds"]) == ("disabled", False, 75)
    assert (document["healthy"], document["problems"]) == (True, [])


def test_parked_dead_letters_are_counted_and_make_the_node_unhealthy() -> None:
    for pk in ("1", "2"):
        DeadLetter.objects.create(
            source="beta", table_name="widgets_widget", row_pk=pk, version=1,
            code="unique_collision", error="UNIQUE constraint failed", created_at=NOW,
            updated_at=NOW,
        )  # fmt: skip

    document = status_document(now=NOW)

    assert document["dead_letters"] == {"parked": 2, "by_source": {"beta": 2}}
    assert "2 dead letter(s) from beta parked" in document["problems"]


def test_the_last_reconcile_of_each_table_is_shown() -> None:
    for started, diverged in ((_ago(600), 3), (_ago(60), 0)):
        ReconcileRun.objects.create(
            peer="beta", table_name="widgets_widget", level="keys", state="clean" if not diverged
            else "diverged", diverged=diverged, started_at=started, finished_at=started,
        )  # fmt: skip

    document = status_document(now=NOW)

    [last] = document["last_reconcile"]
    assert (last["table"], last["state"], last["diverged"], last["age_seconds"]) == (
        "widgets_widget", "clean", 0, 60.0
    )  # fmt: skip
    assert document["healthy"] is True


def test_a_reconcile_that_left_divergence_makes_the_node_unhealthy() -> None:
    ReconcileRun.objects.create(
        peer="beta", table_name="widgets_part", level="keys", state="diverged", diverged=2,
        started_at=_ago(10), finished_at=_ago(9),
    )  # fmt: skip

    document = status_document(now=NOW)

    assert document["problems"] == [
        "last reconcile of widgets_part with beta left 2 diverged row(s)"
    ]


def test_a_backfill_in_progress_is_shown() -> None:
    BackfillProgress.objects.create(
        peer="beta", table_name="widgets_widget", position="400", rows_done=400,
        rows_total=1000, started_at=_ago(30), updated_at=_ago(1),
    )  # fmt: skip

    [backfill] = status_document(now=NOW)["backfills"]

    assert (backfill["state"], backfill["rows_done"], backfill["rows_total"]) == (
        "running", 400, 1000
    )  # fmt: skip


def test_the_human_status_has_a_table_per_part_and_the_problems() -> None:
    _acked(120)
    Cursor.objects.create(source="beta", heartbeat_at=_ago(2))

    text = "\n".join(status_lines(status_document(now=NOW)))

    assert text.startswith("node alpha: NOT healthy")
    assert "outbound streams" in text
    assert "inbound streams" in text
    assert "  peer  state  backlog  lag s  last relay  reason" in text
    assert "  - stream to beta is stuck: lag 120.0 s" in text


def test_every_part_of_the_document_keeps_the_wire_keys_and_reads_back_byte_for_byte() -> None:
    _acked(5, last_relay_at=_ago(3))
    Cursor.objects.create(source="beta", xid=0, seq=12, heartbeat_at=_ago(2), applied_at=_ago(1))
    BackfillProgress.objects.create(
        peer="beta", table_name="widgets_widget", position="4", rows_done=4, started_at=_ago(9),
        updated_at=_ago(1),
    )  # fmt: skip
    ReconcileRun.objects.create(
        peer="beta", table_name="widgets_widget", level="keys", state="clean",
        started_at=_ago(10), finished_at=_ago(9),
    )  # fmt: skip

    document = status_document(now=NOW)
    text = json.dumps(document, cls=SyncJSONEncoder)

    assert [list(document[part][0]) for part in WIRE_KEYS] == list(WIRE_KEYS.values())
    assert json.dumps(SyncStatus.from_json(json.loads(text)).to_json()) == text


def test_the_status_endpoint_answers_the_document(client: Client, settings: Any) -> None:
    _acked(5)

    response = signed_get(client, "/internal/sync/status", secret=settings.STRANGLER_SYNC["secret"])

    assert response.status_code == 200
    body = response.json()
    assert body["node"] == "alpha"
    assert set(body) >= {
        "healthy", "problems", "streams", "cursors", "dead_letters", "backfills", "last_reconcile"
    }  # fmt: skip
    assert _stream(body)["state"] == "idle"


@pytest.mark.urls("tests.strangler.sync.ops_urls")
def test_the_metrics_endpoint_reads_the_database_at_scrape_time(
    client: Client, settings: Any
) -> None:
    _acked(120)
    _widget(1)
    token = {"Authorization": f"Bearer {settings.STRANGLER_SYNC['metrics_token']}"}

    first = client.get("/internal/sync/metrics", headers=token).content.decode()
    _widget(2)
    second = client.get("/internal/sync/metrics", headers=token).content.decode()

    assert 'strangler_sync_backlog{peer="beta"} 1.0' in first
    assert 'strangler_sync_backlog{peer="beta"} 2.0' in second
    assert 'strangler_sync_stream_state{peer="beta",state="stuck"} 1.0' in first
    assert 'strangler_sync_stream_state{peer="beta",state="idle"} 0.0' in first
    assert "strangler_sync_up 1.0" in first


# What the test project registers both ways with beta (tests/sync_project/settings.py): the
# widgets and their parts, and the tables keyed by UUID, text and big integers.
KEYED_AND_WIDGET_TABLES = (
    RegisteredTable("beta", "widgets_widget", "widgets.Widget"),
    RegisteredTable("beta", "widgets_part", "widgets.Part"),
    RegisteredTable("beta", "widgets_voucher", "widgets.Voucher"),
    RegisteredTable("beta", "widgets_label", "widgets.Label"),
    RegisteredTable("beta", "widgets_shipment", "widgets.Shipment"),
)


def test_the_status_names_the_registration_a_plan_checks_its_names_against() -> None:
    registration = SyncStatus.from_json(status_document(now=NOW)).registration

    assert registration == Registration(
        peers=("beta",),
        sends=KEYED_AND_WIDGET_TABLES,
        receives=KEYED_AND_WIDGET_TABLES,
    )
