"""Apply: versioned, idempotent, order-insensitive, never echoed (docs/sync.md, "Apply")."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections, transaction

from strangler.sync.apply import apply_batch, apply_changes, cursor_get
from strangler.sync.bulk import _json_rows
from strangler.sync.errors import CursorMismatch, SchemaDrift
from strangler.sync.models import Change, Cursor, DeadLetter, RowVersion
from strangler.sync.position import Position
from tests.monolith.processes import wait_until
from tests.strangler.sync.factories import (
    COLUMNS,
    PART,
    SOURCE,
    WHEN,
    WIDGET,
    batch,
    part,
    tombstone,
    widget,
)
from tests.sync_project.widgets.models import Part, Widget

pytestmark = pytest.mark.django_db


def _names() -> dict[int, str]:
    return dict(Widget.objects.values_list("id", "name"))


def _stored_version(pk: int, table: str = WIDGET) -> int:
    return RowVersion.objects.get(table_name=table, row_pk=str(pk)).version


def test_a_new_row_is_inserted_with_the_senders_version() -> None:
    result = apply_batch(batch(widget(1, 3, name="gear")))

    assert (result.applied, result.stale, result.dead_lettered) == (1, 0, 0)
    assert _names() == {1: "gear"}
    assert _stored_version(1) == 3


def test_a_higher_version_overwrites_the_row() -> None:
    apply_batch(batch(widget(1, 1, name="old")))

    apply_batch(batch(widget(1, 2, name="new"), start=1))

    assert _names() == {1: "new"}
    assert _stored_version(1) == 2


@pytest.mark.parametrize("older", [1, 2])
def test_an_older_or_equal_version_is_counted_stale_and_changes_nothing(older: int) -> None:
    apply_batch(batch(widget(1, 2, name="current")))

    result = apply_batch(batch(widget(1, older, name="late"), start=1))

    assert (result.applied, result.stale) == (0, 1)
    assert _names() == {1: "current"}


def test_a_tombstone_deletes_the_row_and_keeps_its_version() -> None:
    apply_batch(batch(widget(1, 1)))

    apply_batch(batch(tombstone(WIDGET, 1, 2), start=1))

    assert _names() == {}
    row = RowVersion.objects.get(table_name=WIDGET, row_pk="1")
    assert (row.version, row.deleted) == (2, True)


def test_a_tombstone_is_never_resurrected_by_an_older_copy() -> None:
    apply_batch(batch(tombstone(WIDGET, 1, 5)))

    result = apply_batch(batch(widget(1, 4, name="zombie"), start=1))

    assert result.stale == 1
    assert _names() == {}


def test_the_senders_values_arrive_exactly_to_the_microsecond() -> None:
    apply_batch(batch(widget(1, 1, price="12.50", updated_at=WHEN)))

    w = Widget.objects.get(pk=1)
    assert w.price == Decimal("12.50")
    assert w.updated_at == WHEN  # auto_now on the receiver does not restamp it


def test_a_duplicate_batch_applies_nothing_and_answers_the_stored_cursor() -> None:
    first = batch(widget(1, 1, name="gear"))
    apply_batch(first)
    Widget.objects.filter(pk=1).update(name="changed here since")

    again = apply_batch(first)

    assert again.duplicate
    assert (again.applied, again.cursor) == (0, Position(0, 1))
    assert _names() == {1: "changed here since"}


def test_a_batch_that_does_not_start_at_the_cursor_is_a_mismatch_naming_the_cursor() -> None:
    apply_batch(batch(widget(1, 1)))

    with pytest.raises(CursorMismatch) as raised:
        apply_batch(batch(widget(2, 1), start=5))

    assert raised.value.cursor == Position(0, 1)
    assert 2 not in _names()


def test_the_cursor_and_the_heartbeat_move_with_the_batch() -> None:
    beat = dt.datetime(2024, 5, 17, 10, 0, tzinfo=dt.UTC)

    apply_batch(batch(widget(1, 1), end=7, heartbeat_at=beat))

    assert cursor_get(source=SOURCE) == Position(0, 7)
    assert Cursor.objects.get(source=SOURCE).heartbeat_at == beat


def test_rows_that_arrived_by_sync_are_not_captured_again() -> None:
    apply_batch(batch(widget(1, 1), tombstone(WIDGET, 2, 1)))

    assert not Change.objects.exists()


def test_a_local_write_after_a_synced_one_continues_from_the_synced_version() -> None:
    apply_batch(batch(widget(1, 7)))

    Widget.objects.filter(pk=1).update(name="local")

    assert _stored_version(1) == 8
    assert Change.objects.get().version == 8


def test_a_child_ahead_of_its_parent_in_one_batch_is_applied() -> None:
    result = apply_batch(batch(part(10, 1, widget_id=1), widget(1, 1)))

    assert result.applied == 2
    assert Part.objects.get(pk=10).widget_id == 1


def test_deleting_a_parent_and_its_children_in_one_batch_works_in_any_order() -> None:
    apply_batch(batch(widget(1, 1), part(10, 1, widget_id=1)))

    result = apply_batch(batch(tombstone(WIDGET, 1, 2), tombstone(PART, 10, 2), start=2))

    assert result.applied == 2
    assert not Widget.objects.exists()


def test_a_row_whose_parent_comes_in_a_later_batch_waits_then_goes_through() -> None:
    early = apply_batch(batch(part(10, 1, widget_id=1)))
    assert early.dead_lettered == 1
    assert DeadLetter.objects.get().code == "missing_reference"

    apply_batch(batch(widget(1, 1), start=1))

    assert Part.objects.get(pk=10).widget_id == 1
    assert DeadLetter.objects.get().status == DeadLetter.Status.REPLAYED


def test_a_value_the_local_field_refuses_is_parked_and_the_rest_applied() -> None:
    result = apply_batch(batch(widget(1, 1, price="not a number"), widget(2, 1)))

    assert (result.applied, result.dead_lettered) == (1, 1)
    assert DeadLetter.objects.get().code == "invalid_value"
    assert _names() == {2: "gear"}


def test_a_column_the_receiver_does_not_know_is_schema_drift_and_applies_nothing() -> None:
    change = widget(1, 1)
    drifted = {**COLUMNS, WIDGET: (*COLUMNS[WIDGET], "colour")}

    with pytest.raises(SchemaDrift, match=r"widgets_widget: column\(s\) colour"):
        apply_changes(source=SOURCE, changes=[change], columns={WIDGET: drifted[WIDGET]})

    assert not Widget.objects.exists()


def test_a_required_local_column_the_sender_leaves_out_is_schema_drift() -> None:
    with pytest.raises(
        SchemaDrift, match=r"local column\(s\) sku, updated_at of widgets.Widget receive no value"
    ):
        apply_changes(source=SOURCE, changes=[], columns={WIDGET: ("id", "name", "price")})


def test_a_table_without_an_inbound_registration_is_schema_drift() -> None:
    with pytest.raises(SchemaDrift, match="orders_order: no inbound registration from 'beta'"):
        apply_changes(source=SOURCE, changes=[], columns={"orders_order": ("id",)})


def test_field_map_lands_a_renamed_sender_column_in_the_local_field(settings) -> None:
    config = dict(settings.STRANGLER_SYNC)
    config["inbound"] = [
        {"from": "beta", "table": "catalog_item", "model": "widgets.Widget",
         "field_map": {"title": "name", "code": "sku"}},
    ]  # fmt: skip
    settings.STRANGLER_SYNC = config
    change = widget(1, 1)
    data = {
        "id": 1,
        "code": "C-1",
        "title": "mapped",
        "price": "1.00",
        "updated_at": WHEN.isoformat(),
    }
    renamed = type(change)(table="catalog_item", pk="1", version=1, deleted=False, data=data)

    apply_changes(source=SOURCE, changes=[renamed], columns={"catalog_item": tuple(data)})

    assert Widget.objects.values_list("sku", "name").get() == ("C-1", "mapped")


@pytest.mark.server_database
def test_local_inserts_after_synced_ids_do_not_collide_on_a_server_database() -> None:
    apply_batch(batch(widget(50, 1)))

    local = Widget.objects.create(sku="LOCAL", name="local", price=Decimal(1))

    assert local.pk > 50


@pytest.mark.server_database
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["fast", "row by row"])
def test_an_older_copy_racing_a_tombstone_that_commits_first_resurrects_nothing(
    path: str,
) -> None:
    """The stream deletes a row while a backfill batch holding an older copy of it is applied.

    The batch read the versions before the tombstone committed; what it writes must still
    lose to the tombstone (the backfill's copy of a deleted row, issue 4's failure mode).
    """
    holding, release = threading.Event(), threading.Event()
    copy = [widget(7, 0, name="copy from before the delete")]
    if path == "row by row":
        copy.append(widget(8, 0, name="x" * 200))  # too long: the batch goes row by row
    outcome: dict[str, Any] = {}

    def stream_deletes() -> None:
        try:
            with transaction.atomic():
                apply_changes(source=SOURCE, changes=[tombstone(WIDGET, 7, 1)], columns=COLUMNS)
                holding.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    def backfill_copies() -> None:
        try:
            outcome["counts"] = apply_changes(source=SOURCE, changes=copy, columns=COLUMNS)
        finally:
            connections.close_all()

    stream = threading.Thread(target=stream_deletes)
    stream.start()
    assert holding.wait(timeout=30)
    backfill = threading.Thread(target=backfill_copies)
    backfill.start()
    try:
        wait_until(_a_session_waits_for_a_lock, deadline=30, what="the copy to wait on the key")
    finally:
        release.set()
        stream.join(timeout=30)
    backfill.join(timeout=30)

    assert outcome["counts"].applied == 0
    assert outcome["counts"].stale == 1
    assert not Widget.objects.filter(pk=7).exists()
    assert RowVersion.objects.filter(table_name=WIDGET, row_pk="7").values_list(
        "version", "deleted"
    ).get() == (1, True)


def _a_session_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            # InnoDB lists no lock wait for a locking read of one unique key: MariaDB's
            # optimizer reads it while planning. The copy's locking read still running is it.
            cursor.execute(
                "SELECT count(*) FROM information_schema.processlist WHERE db = DATABASE() "
                "AND id <> CONNECTION_ID() AND command = 'Query' AND info LIKE %s",
                ["%FOR UPDATE%"],
            )
        else:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        return bool(cursor.fetchone()[0])


def test_values_json_carries_are_written_as_postgresqls_input_functions_read_them() -> None:
    when = dt.datetime(2024, 5, 17, 9, 30, 15, 123456, tzinfo=dt.UTC)
    key = uuid.UUID("12345678-1234-5678-1234-567812345678")
    columns = ["a", "b", "c", "d", "e", "f", "g"]
    arrays = [
        [1, None],
        ["x", True],
        [Decimal("9.50"), Decimal("-0")],
        [when, dt.date(2024, 5, 17)],
        [dt.time(9, 30), key],
        [1.5, float("nan")],
        [float("inf"), float("-inf")],
    ]

    document = _json_rows(columns, arrays)

    assert document is not None
    assert json.loads(document) == [
        {"a": 1, "b": "x", "c": "9.50", "d": "2024-05-17T09:30:15.123456+00:00",
         "e": "09:30:00", "f": 1.5, "g": "inf"},
        {"a": None, "b": True, "c": "-0", "d": "2024-05-17",
         "e": "12345678-1234-5678-1234-567812345678", "f": "nan", "g": "-inf"},
    ]  # fmt: skip


@pytest.mark.parametrize("odd", [b"\x00\x01", memoryview(b"ab"), {"json": "object"}, [1, 2]])
def test_a_value_json_cannot_carry_sends_the_batch_by_arrays_instead(odd: Any) -> None:
    assert _json_rows(["a", "b"], [[1, 2], ["x", odd]]) is None
