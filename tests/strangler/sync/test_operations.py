"""``CaptureTable`` and ``sync_check``: capture installed, reversible, and checked."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection, models
from django.db.migrations.state import ProjectState

from strangler.sync import shapes
from strangler.sync.errors import UnsupportedKey
from strangler.sync.models import Change
from strangler.sync.operations import CaptureTable
from strangler.sync.triggers import capture_installed
from tests.sync_project.widgets.models import Widget

pytestmark = pytest.mark.django_db(transaction=True)  # schema changes happen outside a transaction


def test_capture_table_describes_itself_and_deconstructs() -> None:
    operation = CaptureTable(table="widgets_widget", pk="id")

    assert operation.describe() == "Capture writes to widgets_widget for strangler.sync"
    assert operation.deconstruct() == ("CaptureTable", [], {"table": "widgets_widget", "pk": "id"})
    assert operation.migration_name_fragment == "capture_widgets_widget"
    assert operation.reversible


def test_capture_table_refuses_a_name_it_would_have_to_quote() -> None:
    with pytest.raises(ValueError, match="table='widgets; DROP': expected a plain identifier"):
        CaptureTable(table="widgets; DROP")


def test_capture_table_backwards_stops_capture_and_forwards_restores_it() -> None:
    operation = CaptureTable(table="widgets_widget", pk="id")
    state = ProjectState()
    with connection.schema_editor() as editor:
        operation.database_backwards("widgets", editor, state, state)
    try:
        Widget.objects.create(sku="UNSEEN", name="n", price=Decimal(1))
        assert not capture_installed(connection, table="widgets_widget")
        assert not Change.objects.exists()
    finally:
        with connection.schema_editor() as editor:
            operation.database_forwards("widgets", editor, state, state)

    Widget.objects.create(sku="SEEN", name="n", price=Decimal(1))
    assert capture_installed(connection, table="widgets_widget")
    assert Change.objects.count() == 1


def test_sqlmigrate_prints_the_trigger_sql_without_running_it() -> None:
    operation = CaptureTable(table="widgets_widget", pk="id")
    state = ProjectState()
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        operation.database_backwards("widgets", editor, state, state)
        collected = list(editor.collected_sql)

    assert any("DROP TRIGGER" in statement for statement in collected)
    assert capture_installed(connection, table="widgets_widget")


def test_a_migration_that_rebuilds_a_captured_table_leaves_it_captured() -> None:
    # SQLite rebuilds the table to alter a column (dropping its triggers; the post-migrate
    # handler puts them back); PostgreSQL alters in place and keeps them.
    old = Widget._meta.get_field("name")
    new = models.CharField(max_length=120)
    new.set_attributes_from_name("name")
    new.model = Widget
    with connection.schema_editor() as editor:
        editor.alter_field(Widget, old, new)
    try:
        emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
        assert capture_installed(connection, table="widgets_widget")
    finally:
        with connection.schema_editor() as editor:
            editor.alter_field(Widget, new, old)
        emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    assert capture_installed(connection, table="widgets_widget")


def test_sync_check_passes_a_captured_fully_registered_node() -> None:
    out = StringIO()

    call_command("sync_check", stdout=out)

    assert "ok  widgets_widget -> beta" in out.getvalue()


def test_sync_check_says_what_the_sync_does_with_each_tables_key() -> None:
    out = StringIO()

    call_command("sync_check", stdout=out)

    lines = out.getvalue()
    assert "ok  widgets_widget -> beta: key id (integer): backfill, live sync, reconcile" in lines
    assert "ok  widgets_voucher -> beta: key id (UUID): backfill, live sync, reconcile" in lines
    assert "ok  widgets_shipment -> beta: key id (integer): backfill" in lines
    assert "ok  widgets_label -> beta: key code (text, " in lines


def test_sync_check_names_a_key_reconcile_cannot_compare(monkeypatch: Any) -> None:
    original = shapes.key_kind

    def as_if_labels_key_were_a_date(field: Any, *, label: str) -> Any:
        if label == "widgets.Label":
            raise UnsupportedKey(f"{label}: reconcile compares integer, UUID and text primary keys")
        return original(field, label=label)

    monkeypatch.setattr(shapes, "key_kind", as_if_labels_key_were_a_date)
    err = StringIO()

    with pytest.raises(CommandError, match="problem"):
        call_command("sync_check", stdout=StringIO(), stderr=err)

    assert (
        "widgets_label: widgets.Label: reconcile compares integer, UUID and text primary keys; "
        "backfill and the live sync carry it, but reconcile (the plan's verify and cutover "
        "gates) cannot compare it"
    ) in err.getvalue()


def test_sync_check_names_an_unregistered_column(settings: Any) -> None:
    registered = settings.STRANGLER_SYNC
    settings.STRANGLER_SYNC = {**registered, "outbound": [
        {**registered["outbound"][0], "fields": ["id", "sku", "price", "updated_at"]},
        registered["outbound"][1],
    ]}  # fmt: skip
    err = StringIO()

    with pytest.raises(CommandError, match="1 problem"):
        call_command("sync_check", stdout=StringIO(), stderr=err)

    assert "widgets_widget: column(s) name in neither 'fields' nor 'exclude'" in err.getvalue()
