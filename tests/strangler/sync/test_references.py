"""Foreign-key checks before a write (SQLite checks them only at commit): the miss is named."""

from __future__ import annotations

from decimal import Decimal

import pytest

from strangler.sync.references import references_check, referrers_check
from strangler.sync.rows import RowFailed
from tests.strangler.sync.factories import WIDGET, part, prepared, tombstone
from tests.sync_project.widgets.models import Part, Widget

pytestmark = pytest.mark.django_db


@pytest.fixture
def gear() -> Widget:
    return Widget.objects.create(id=1, sku="SKU-1", name="gear", price=Decimal(1))


def test_children_of_existing_parents_pass(gear: Widget) -> None:
    references_check([prepared(part(10, 1, widget_id=1)), prepared(part(11, 1, widget_id=1))])


def test_a_child_of_a_missing_parent_is_named_with_the_value(gear: Widget) -> None:
    rows = [prepared(part(10, 1, widget_id=1)), prepared(part(11, 1, widget_id=7))]

    with pytest.raises(RowFailed) as raised:
        references_check(rows)

    assert raised.value.code == "missing_reference"
    assert raised.value.message == "widgets_part.widget_id = 7: no such row in widgets_widget"


def test_deleting_a_row_nothing_references_passes(gear: Widget) -> None:
    referrers_check([prepared(tombstone(WIDGET, 1, 2))])


def test_deleting_a_row_still_referenced_is_named(gear: Widget) -> None:
    Part.objects.create(id=10, widget=gear, name="bolt")

    with pytest.raises(RowFailed) as raised:
        referrers_check([prepared(tombstone(WIDGET, 2, 2)), prepared(tombstone(WIDGET, 1, 2))])

    assert raised.value.code == "missing_reference"
    assert raised.value.message == "widgets_widget row 1 is still referenced from widgets_part"
