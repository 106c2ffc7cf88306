"""Keys as reconcile orders and converts them: orders both sides share, wire and stored text."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection, models

from strangler.sync.errors import BadRequest, UnsupportedKey
from strangler.sync.keys import (
    key_param,
    key_value,
    order_token,
    shared_order,
    version_param,
    wire_sort_key,
)
from strangler.sync.shapes import TableShape, key_kind
from tests.strangler.sync.conftest import is_postgres
from tests.sync_project.widgets.models import Label, Shipment, Voucher, Widget


def _shape(model: type[models.Model]) -> TableShape:
    return TableShape.for_model(model, sync_name=model._meta.db_table, wire_to_attname={})


EN_US = "text:postgresql:default:c:en_US.UTF-8:2.36"


def test_equal_orders_compare_each_side_in_its_own_order() -> None:
    assert shared_order("uuid", "uuid") == "native"
    assert shared_order(EN_US, EN_US) == "native"


def test_text_keys_in_different_orders_are_compared_in_code_point_order() -> None:
    assert shared_order("text:binary", EN_US) == "binary"


def test_keys_of_different_kinds_cannot_be_compared() -> None:
    with pytest.raises(UnsupportedKey, match="uuid keys here, int keys on the peer"):
        shared_order("uuid", "int")


def test_a_key_of_a_kind_reconcile_cannot_order_is_named() -> None:
    with pytest.raises(UnsupportedKey, match=r"x\.Y: reconcile compares integer, UUID and text"):
        key_kind(models.DateTimeField(), label="x.Y")


def test_wire_keys_sort_integers_by_number_and_others_by_text() -> None:
    assert sorted(["10", "9", "-3"], key=wire_sort_key) == ["-3", "9", "10"]
    assert sorted(["b", "B", "a"], key=wire_sort_key) == ["B", "a", "b"]


@pytest.mark.django_db
def test_integer_and_uuid_keys_are_ordered_alike_on_every_engine() -> None:
    assert order_token(_shape(Widget), connection) == "int"
    assert order_token(_shape(Shipment), connection) == "int"
    assert order_token(_shape(Voucher), connection) == "uuid"


@pytest.mark.django_db
def test_a_text_key_names_its_collation() -> None:
    token = order_token(_shape(Label), connection)

    if is_postgres():  # the test database's own collation, whatever this server's is
        assert token.startswith("text:postgresql:default:") or token == "text:binary"
    elif connection.vendor == "mysql":  # the column's collation, the database's default
        assert token.startswith(("text:mariadb:", "text:mysql:")) or token == "text:binary"
    else:
        assert token == "text:binary"  # SQLite's BINARY: code-point order


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_text_key_in_the_c_collation_is_in_code_point_order() -> None:
    with connection.cursor() as cursor:
        cursor.execute('ALTER TABLE widgets_label ALTER COLUMN code TYPE varchar(64) COLLATE "C"')

    assert order_token(_shape(Label), connection) == "text:binary"


@pytest.mark.django_db
def test_a_uuid_travels_with_hyphens_and_is_stored_as_its_database_writes_it() -> None:
    value = uuid.UUID("12345678-9abc-4def-8123-456789abcdef")
    shape = _shape(Voucher)

    stored = version_param(shape, str(value), connection)

    assert key_value(shape, str(value)) == value
    # The capture trigger's text: the column's own (with hyphens where it is a uuid type).
    assert stored == (str(value) if connection.features.has_native_uuid_field else value.hex)
    assert key_param(shape, value.hex, connection) == key_param(shape, str(value), connection)


@pytest.mark.django_db
def test_a_key_that_is_not_one_of_the_table_is_a_bad_request() -> None:
    with pytest.raises(BadRequest, match="key 'seven'"):
        key_value(_shape(Shipment), "seven")
