"""Dead letters: a failing row is parked, its later changes wait behind it, replay keeps order."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from strangler.sync.apply import apply_batch
from strangler.sync.deadletters import deadletters_drop, deadletters_replay
from strangler.sync.models import DeadLetter
from tests.strangler.sync.factories import WIDGET, batch, tombstone, widget
from tests.sync_project.widgets.models import Widget

pytestmark = pytest.mark.django_db


@pytest.fixture
def collision() -> Widget:
    """A local widget holding the sku the incoming widget 1 wants."""
    local = Widget.objects.create(id=99, sku="SKU-1", name="local", price=Decimal(1))
    apply_batch(batch(widget(1, 1, sku="SKU-1", name="incoming")))
    return local


def _letters() -> list[tuple[str, int, str, str]]:
    return list(
        DeadLetter.objects.order_by("id").values_list("row_pk", "version", "code", "status")
    )


def test_a_collision_on_another_unique_key_is_parked_and_nothing_is_deleted(
    collision: Widget,
) -> None:
    assert _letters() == [("1", 1, "unique_collision", "parked")]
    assert dict(Widget.objects.values_list("id", "name")) == {99: "local"}


def test_the_rest_of_the_batch_goes_on_past_a_parked_row() -> None:
    Widget.objects.create(id=99, sku="SKU-1", name="local", price=Decimal(1))

    result = apply_batch(batch(widget(1, 1, sku="SKU-1"), widget(2, 1)))

    assert (result.applied, result.dead_lettered) == (1, 1)
    assert set(Widget.objects.values_list("id", flat=True)) == {2, 99}


def test_a_later_change_to_a_parked_row_is_parked_behind_it(collision: Widget) -> None:
    result = apply_batch(batch(widget(1, 2, sku="SKU-NEW", name="would fit"), start=1))

    assert result.dead_lettered == 1
    assert _letters()[1][2:] == ("parked_behind", "parked")
    assert not Widget.objects.filter(pk=1).exists()


def test_replay_after_fixing_the_collision_applies_the_row_in_order(collision: Widget) -> None:
    apply_batch(batch(widget(1, 2, sku="SKU-1", name="second"), start=1))
    Widget.objects.filter(pk=99).update(sku="SKU-99")  # the fix, made by a person

    result = deadletters_replay()

    assert (result.replayed, result.failed) == (2, 0)
    assert Widget.objects.get(pk=1).name == "second"
    assert [status for *_, status in _letters()] == ["replayed", "replayed"]


def test_replay_stops_a_row_at_its_first_failure(collision: Widget) -> None:
    apply_batch(batch(widget(1, 2, sku="SKU-2"), start=1))

    result = deadletters_replay()

    assert (result.replayed, result.failed) == (0, 1)
    assert [status for *_, status in _letters()] == ["parked", "parked"]
    assert DeadLetter.objects.order_by("id").first().attempts == 2


def test_replaying_an_id_replays_the_rows_earlier_letters_first(collision: Widget) -> None:
    apply_batch(batch(tombstone(WIDGET, 1, 2), start=1))
    Widget.objects.filter(pk=99).update(sku="SKU-99")
    second = DeadLetter.objects.order_by("id").last()

    deadletters_replay(ids=[second.id])

    assert not Widget.objects.filter(pk=1).exists()
    assert [status for *_, status in _letters()] == ["replayed", "replayed"]


def test_a_dropped_letter_stays_on_record(collision: Widget) -> None:
    dropped = deadletters_drop(reason="the local widget wins")

    assert dropped == 1
    letter = DeadLetter.objects.get()
    assert letter.status == DeadLetter.Status.DROPPED
    assert letter.error.endswith("dropped: the local widget wins")


def test_the_command_lists_replays_and_drops(collision: Widget) -> None:
    out = StringIO()
    call_command("sync_deadletters", "list", stdout=out)
    listed = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(d["pk"], d["code"]) for d in listed] == [("1", "unique_collision")]

    with pytest.raises(CommandError, match="failed again"):
        call_command("sync_deadletters", "replay", "--all", stdout=StringIO())
    call_command("sync_deadletters", "drop", str(listed[0]["id"]), stdout=StringIO())

    assert DeadLetter.objects.get().status == DeadLetter.Status.DROPPED


def test_the_command_wants_ids_or_all_to_change_anything(collision: Widget) -> None:
    with pytest.raises(CommandError, match="name dead letter ids, or say --all"):
        call_command("sync_deadletters", "drop", stdout=StringIO())
