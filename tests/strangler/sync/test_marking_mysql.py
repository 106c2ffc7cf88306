"""MySQL/MariaDB: an apply's mark silences its own writes only, and holds no writer back."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection, transaction

from strangler.sync.marking import applying
from strangler.sync.models import Change
from tests.strangler.sync.conftest import alpha_database_url, mysql_connect
from tests.sync_project.widgets.models import Widget

pytestmark = [pytest.mark.mysql, pytest.mark.django_db(transaction=True)]


def test_a_writer_is_captured_at_once_while_an_apply_is_open() -> None:
    writer = mysql_connect(alpha_database_url())
    try:
        with writer.cursor() as cursor:
            # Waiting on the apply's transaction would fail here instead of hanging.
            cursor.execute("SET SESSION innodb_lock_wait_timeout = 1")
        with transaction.atomic(), applying():
            Widget.objects.create(id=1, sku="APPLIED", name="by sync", price=Decimal(1))
            with writer.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO widgets_widget (id, sku, name, price, updated_at) "
                    "VALUES (2, 'LOCAL', 'local', 1, UTC_TIMESTAMP(6))"
                )
    finally:
        writer.close()

    assert list(Change.objects.values_list("row_pk", flat=True)) == ["2"]


def test_the_mark_is_cleared_when_the_apply_fails() -> None:
    with pytest.raises(RuntimeError), transaction.atomic(), applying():
        raise RuntimeError("apply failed")

    Widget.objects.create(id=3, sku="AFTER", name="after", price=Decimal(1))

    assert list(Change.objects.values_list("row_pk", flat=True)) == ["3"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT @strangler_sync_applying")
        assert cursor.fetchone()[0] is None
