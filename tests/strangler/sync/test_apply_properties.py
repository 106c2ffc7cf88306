"""Apply is order-insensitive and idempotent: any shuffle, with repeats, ends the same."""

from __future__ import annotations

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strangler.sync.apply import apply_changes
from strangler.sync.models import RowVersion
from strangler.sync.wire import RowChange
from tests.strangler.sync.factories import COLUMNS, SOURCE, WIDGET, tombstone, widget
from tests.sync_project.widgets.models import Widget

pytestmark = pytest.mark.django_db

# One write: which of a few rows, deleted or not, and a name to tell states apart.
_writes = st.lists(
    st.tuples(st.integers(1, 4), st.booleans(), st.sampled_from("abcdef")), min_size=1, max_size=12
)


def _history(writes: list[tuple[int, bool, str]]) -> list[RowChange]:
    """The changes a source makes: versions count up per row, as its trigger does."""
    versions: dict[int, int] = {}
    changes = []
    for pk, deleted, name in writes:
        versions[pk] = versions.get(pk, 0) + 1
        changes.append(
            tombstone(WIDGET, pk, versions[pk]) if deleted else widget(pk, versions[pk], name=name)
        )
    return changes


def _final(changes: list[RowChange]) -> dict[int, str]:
    latest: dict[str, RowChange] = {}
    for change in changes:
        if change.pk not in latest or change.version > latest[change.pk].version:
            latest[change.pk] = change
    return {int(c.pk): c.data["name"] for c in latest.values() if not c.deleted and c.data}


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(writes=_writes, data=st.data())
def test_any_order_with_repeats_and_any_batching_reaches_the_same_state(writes, data) -> None:
    changes = _history(writes)
    delivered = data.draw(st.permutations(changes)) + data.draw(
        st.lists(st.sampled_from(changes), max_size=6)
    )
    cuts = sorted(data.draw(st.lists(st.integers(0, len(delivered)), max_size=3)))

    with transaction.atomic():
        for start, end in zip([0, *cuts], [*cuts, len(delivered)], strict=True):
            apply_changes(source=SOURCE, changes=delivered[start:end], columns=COLUMNS)
        state = dict(Widget.objects.values_list("id", "name"))
        versions = dict(RowVersion.objects.values_list("row_pk", "version"))
        transaction.set_rollback(True)

    assert state == _final(changes)
    assert versions == {c.pk: max(d.version for d in changes if d.pk == c.pk) for c in changes}
