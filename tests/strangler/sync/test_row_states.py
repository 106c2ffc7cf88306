"""Rows as reconcile compares them: versions, tombstones and values as they travel."""

from __future__ import annotations

import pytest

from strangler.sync.row_states import RowState, row_states, rows_in_range
from tests.strangler.sync.ops_fixtures import applied_widget, run_tables, version_set, widget_shape

pytestmark = pytest.mark.django_db

# Imported for pytest to find them here: ops_fixtures says why they are not in conftest.
FIXTURES = (run_tables,)


def test_rows_of_a_range_carry_versions_and_wire_values() -> None:
    applied_widget(1, price="3")
    applied_widget(5)
    version_set(5, 2)

    rows = rows_in_range(widget_shape(), low="1", high="5")

    assert rows == [
        RowState(
            pk="1",
            version=0,
            deleted=False,
            data={"name": "gear", "price": "3.00", "sku": "W-1",
                  "updated_at": "2024-05-17T09:30:15.123456Z"},
        )
    ]  # fmt: skip


def test_named_rows_report_live_tombstoned_and_absent_keys() -> None:
    applied_widget(1)
    version_set(2, 4, deleted=True)

    states = {
        s.pk: (s.version, s.deleted, s.data is not None)
        for s in row_states(widget_shape(), ["1", "2", "3"])
    }

    assert states == {"1": (0, False, True), "2": (4, True, False), "3": (0, False, False)}
