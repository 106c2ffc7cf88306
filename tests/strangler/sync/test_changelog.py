"""The source side's changelog: batches coalesce and read rows now; prune keeps what is owed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from strangler.sync.changelog import HEARTBEAT_TABLE, batch_read, changes_prune, heartbeat_write
from strangler.sync.models import Change, Stream
from strangler.sync.position import START, Position
from strangler.sync.schema import send_tables
from tests.sync_project.widgets.models import Widget

pytestmark = pytest.mark.django_db(transaction=True)  # batch_read takes its own snapshot


def _widget(pk: int, name: str = "gear") -> Widget:
    return Widget.objects.create(id=pk, sku=f"S-{pk}", name=name, price=Decimal("1.25"))


def test_repeats_of_a_row_travel_once_as_the_row_is_now() -> None:
    w = _widget(1, "first")
    for name in ("second", "third"):
        Widget.objects.filter(pk=w.pk).update(name=name)

    batch = batch_read(after=START, tables=send_tables("beta"), limit=100)

    assert batch.read == 3
    [change] = batch.changes
    assert (change.pk, change.version, change.deleted) == ("1", 3, False)
    assert change.data is not None
    assert change.data["name"] == "third"
    assert change.data["price"] == Decimal("1.25")


def test_a_row_deleted_since_its_change_travels_as_a_tombstone() -> None:
    _widget(1)
    Widget.objects.filter(pk=1).delete()

    [change] = batch_read(after=START, tables=send_tables("beta"), limit=100).changes

    assert (change.version, change.deleted, change.data) == (2, True, None)


def test_a_batch_stops_at_its_limit_and_the_next_one_starts_after_it() -> None:
    for pk in (1, 2, 3):
        _widget(pk)

    first = batch_read(after=START, tables=send_tables("beta"), limit=2)
    second = batch_read(after=first.end, tables=send_tables("beta"), limit=2)

    assert [c.pk for c in first.changes] == ["1", "2"]
    assert [c.pk for c in second.changes] == ["3"]
    assert second.start == first.end < second.end


def test_a_heartbeat_moves_the_batch_and_travels_as_its_time_not_as_a_change() -> None:
    beat = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    heartbeat_write(now=beat)

    batch = batch_read(after=START, tables=send_tables("beta"), limit=100)

    assert batch.changes == ()
    assert batch.heartbeat_at == beat
    assert batch.end > START
    assert Change.objects.get().table_name == HEARTBEAT_TABLE


def _age_all(days: int) -> None:
    Change.objects.update(created_at=timezone.now() - dt.timedelta(days=days))


def test_prune_deletes_old_changes_every_peer_has_applied() -> None:
    for pk in (1, 2, 3):
        _widget(pk)
    _age_all(30)
    second = Change.objects.order_by("id")[1]
    Stream.objects.create(peer="beta", acked_xid=second.xid, acked_seq=second.id)

    pruned = changes_prune()

    assert pruned == 2
    assert list(Change.objects.values_list("row_pk", flat=True)) == ["3"]


def test_prune_keeps_recent_changes_even_when_applied() -> None:
    _widget(1)
    last = Change.objects.get()
    Stream.objects.create(peer="beta", acked_xid=last.xid, acked_seq=last.id)

    assert changes_prune() == 0


def test_prune_keeps_everything_while_a_peer_has_never_answered() -> None:
    _widget(1)
    _age_all(30)

    assert changes_prune() == 0
    assert Change.objects.count() == 1


def test_positions_order_by_transaction_then_sequence() -> None:
    assert Position(1, 9) < Position(2, 1) < Position(2, 2)
    assert Position.from_json([3, 4]) == Position(3, 4)
    assert Position.from_json([3, -1]) is None
    assert Position.from_json([True, 1]) is None
