"""Capture: every write path leaves a changelog row and bumps the row's version."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from strangler.sync.marking import applying
from strangler.sync.models import Change, RowVersion
from tests.strangler.sync.conftest import is_postgres
from tests.sync_project.widgets.models import Part, Widget

pytestmark = pytest.mark.django_db


def _changes() -> list[tuple[str, str, int, bool]]:
    return list(
        Change.objects.order_by("id").values_list("table_name", "row_pk", "version", "deleted")
    )


def _version(table: str, pk: object) -> tuple[int, bool]:
    row = RowVersion.objects.get(table_name=table, row_pk=str(pk))
    return row.version, row.deleted


def _widget(sku: str = "A-1", **fields: object) -> Widget:
    return Widget.objects.create(sku=sku, name=fields.get("name", "gear"), price=Decimal("9.99"))


def test_a_save_is_captured_at_version_one() -> None:
    w = _widget()

    assert _changes() == [("widgets_widget", str(w.pk), 1, False)]
    assert _version("widgets_widget", w.pk) == (1, False)


def test_each_later_save_bumps_the_version() -> None:
    w = _widget()
    w.name = "cog"
    w.save()
    w.save()

    assert [c[2] for c in _changes()] == [1, 2, 3]
    assert _version("widgets_widget", w.pk) == (3, False)


def test_queryset_update_is_captured_for_every_row() -> None:
    a, b = _widget("A-1"), _widget("B-1")

    Widget.objects.update(name="renamed")

    assert _changes()[2:] == [
        ("widgets_widget", str(a.pk), 2, False),
        ("widgets_widget", str(b.pk), 2, False),
    ]


def test_bulk_create_and_bulk_update_are_captured() -> None:
    made = Widget.objects.bulk_create(
        [Widget(sku=f"S-{i}", name="n", price=Decimal(1)) for i in range(3)]
    )
    made = list(Widget.objects.order_by("id"))
    for w in made:
        w.name = "bulk"
    Widget.objects.bulk_update(made, ["name"])

    versions = {pk: _version("widgets_widget", pk)[0] for pk in (w.pk for w in made)}
    assert versions == {w.pk: 2 for w in made}
    assert len(_changes()) == 6


def test_a_delete_leaves_a_tombstone_with_the_next_version() -> None:
    w = _widget()
    pk = w.pk
    w.delete()

    assert _changes()[-1] == ("widgets_widget", str(pk), 2, True)
    assert _version("widgets_widget", pk) == (2, True)


def test_a_queryset_delete_is_captured_children_first() -> None:
    w = _widget()
    p = Part.objects.create(widget=w, name="bolt")

    Widget.objects.filter(pk=w.pk).delete()

    tombstones = [(c[0], c[1]) for c in _changes() if c[3]]
    assert tombstones == [("widgets_part", str(p.pk)), ("widgets_widget", str(w.pk))]


def test_raw_sql_writes_are_captured() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO widgets_widget (id, sku, name, price, updated_at) "
            "VALUES (700, 'RAW-1', 'raw', 1.50, %s)",
            ["2024-01-01 00:00:00+00:00" if is_postgres() else "2024-01-01 00:00:00"],
        )
        cursor.execute("UPDATE widgets_widget SET name = 'raw2' WHERE id = 700")
        cursor.execute("DELETE FROM widgets_widget WHERE id = 700")

    assert _changes() == [
        ("widgets_widget", "700", 1, False),
        ("widgets_widget", "700", 2, False),
        ("widgets_widget", "700", 3, True),
    ]


def test_changing_a_primary_key_is_a_delete_of_the_old_key_and_a_write_of_the_new() -> None:
    w = _widget()

    Widget.objects.filter(pk=w.pk).update(id=900)

    assert _changes()[1:] == [
        ("widgets_widget", str(w.pk), 2, True),
        ("widgets_widget", "900", 1, False),
    ]


def test_writes_marked_as_applying_are_not_captured() -> None:
    with transaction.atomic(), applying():
        _widget("SYNCED-1")

    assert _changes() == []
    assert not RowVersion.objects.exists()


def test_writes_after_the_applying_block_in_the_same_transaction_are_captured() -> None:
    with transaction.atomic():
        with applying():
            _widget("SYNCED-1")
        local = _widget("LOCAL-1")

    assert _changes() == [("widgets_widget", str(local.pk), 1, False)]


@pytest.mark.django_db(transaction=True)
def test_applying_outside_a_transaction_is_refused() -> None:
    with pytest.raises(RuntimeError, match=r"inside transaction\.atomic"), applying():
        pass


def _truncate_as_an_ordinary_session(tables: str) -> None:
    # This test session allows TRUNCATE for pytest-django's flush (conftest); not here.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL strangler.allow_truncate = 'off'")
        cursor.execute(f"TRUNCATE {tables}")


@pytest.mark.postgres
def test_truncate_is_refused_on_postgresql() -> None:
    _widget()

    with pytest.raises(DatabaseError, match="TRUNCATE of widgets_part is refused"):
        _truncate_as_an_ordinary_session("widgets_part, widgets_widget")

    assert Widget.objects.count() == 1


@pytest.mark.postgres
def test_changes_carry_the_writing_transactions_id_on_postgresql() -> None:
    with transaction.atomic():
        _widget("A-1")
        _widget("B-1")
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_xact_id()::text::bigint")
            xid = cursor.fetchone()[0]

    assert set(Change.objects.values_list("xid", flat=True)) == {xid}
