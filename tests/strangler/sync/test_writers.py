"""The writers' contract: an outcome per row, a lost race as stale, a failing row named."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from django.db import connection, transaction

from strangler.sync.marking import applying
from strangler.sync.models import RowVersion
from strangler.sync.rows import RowFailed
from strangler.sync.writers import (
    BatchRefused,
    BulkWriter,
    RowByRowWriter,
    Statements,
    Writer,
    statements_for,
)
from tests.strangler.sync.factories import WHEN, WIDGET, part, prepared, tombstone, widget
from tests.sync_project.widgets.models import Part, Widget

pytestmark = pytest.mark.django_db

WRITERS: list[Callable[[Statements], Writer]] = [BulkWriter, RowByRowWriter]


@pytest.fixture(autouse=True)
def _marked_as_applying() -> Iterator[None]:
    """Writers run inside apply's marked transaction, where capture stays silent."""
    with transaction.atomic(), applying():
        yield


def _names() -> dict[int, str]:
    return dict(Widget.objects.values_list("id", "name"))


@pytest.mark.parametrize("writer", WRITERS)
def test_a_writer_writes_the_row_and_its_version(writer: Callable[[Statements], Writer]) -> None:
    outcomes = writer(statements_for(connection.vendor)).write(
        [prepared(widget(1, 3, name="gear")), prepared(widget(2, 1, name="cog"))], now=WHEN
    )

    assert outcomes == ["applied", "applied"]
    assert _names() == {1: "gear", 2: "cog"}
    assert RowVersion.objects.get(table_name=WIDGET, row_pk="1").version == 3


@pytest.mark.parametrize("writer", WRITERS)
def test_a_row_whose_version_was_raised_since_it_was_judged_is_reported_stale(
    writer: Callable[[Statements], Writer],
) -> None:
    RowVersion.objects.create(table_name=WIDGET, row_pk="1", version=5, updated_at=WHEN)

    outcomes = writer(statements_for(connection.vendor)).write(
        [prepared(widget(1, 3)), prepared(widget(2, 1))], now=WHEN
    )

    assert outcomes == ["stale", "applied"]
    assert set(_names()) == {2}
    assert RowVersion.objects.get(table_name=WIDGET, row_pk="1").version == 5


@pytest.mark.parametrize("writer", WRITERS)
def test_a_tombstone_deletes_the_row(writer: Callable[[Statements], Writer]) -> None:
    writer(statements_for(connection.vendor)).write([prepared(widget(1, 1))], now=WHEN)

    outcomes = writer(statements_for(connection.vendor)).write(
        [prepared(tombstone(WIDGET, 1, 2))], now=WHEN
    )

    assert outcomes == ["applied"]
    assert _names() == {}


def test_the_bulk_writer_refuses_a_batch_with_a_failing_row_and_writes_none_of_it() -> None:
    Widget.objects.create(id=99, sku="SKU-1", name="local", price=Decimal(1))
    rows = [prepared(widget(1, 1, sku="SKU-1")), prepared(widget(2, 1))]

    with pytest.raises(BatchRefused):
        BulkWriter(statements_for(connection.vendor)).write(rows, now=WHEN)

    assert set(_names()) == {99}
    assert not RowVersion.objects.filter(table_name=WIDGET, row_pk__in=["1", "2"]).exists()


def test_the_row_by_row_writer_names_the_failing_row_and_writes_the_rest() -> None:
    Widget.objects.create(id=99, sku="SKU-1", name="local", price=Decimal(1))
    rows = [prepared(widget(1, 1, sku="SKU-1")), prepared(widget(2, 1))]

    first, second = RowByRowWriter(statements_for(connection.vendor)).write(rows, now=WHEN)

    assert isinstance(first, RowFailed)
    assert first.code == "unique_collision"
    assert second == "applied"
    assert set(_names()) == {2, 99}
    assert not RowVersion.objects.filter(table_name=WIDGET, row_pk="1").exists()


def test_a_child_whose_parent_is_missing_fails_as_a_missing_reference() -> None:
    (outcome,) = RowByRowWriter(statements_for(connection.vendor)).write(
        [prepared(part(10, 1, widget_id=7))], now=WHEN
    )

    assert isinstance(outcome, RowFailed)
    assert outcome.code == "missing_reference"
    assert not Part.objects.exists()


def test_a_database_without_statements_is_named() -> None:
    with pytest.raises(NotImplementedError, match="oracle"):
        statements_for("oracle")
