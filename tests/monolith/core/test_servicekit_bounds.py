"""strangler.servicekit.bounds: integer input bounded by the column it ends up in."""

from __future__ import annotations

import pytest
from django.urls import resolve
from django.urls.exceptions import Resolver404

from monolith.cart.models import CartLine
from strangler.servicekit.bounds import (
    KEY_COLUMN,
    BoundedIntegerField,
    BoundedModelSerializer,
    DatabaseKeyConverter,
    column_range,
)

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1


class _CartLineSerializer(BoundedModelSerializer[CartLine]):
    class Meta:
        model = CartLine
        fields = ["id", "quantity", "product", "cart"]
        read_only_fields = ["cart"]


def test_a_column_range_is_postgresqls_even_on_sqlite():
    # SQLite would store 64 bits in these columns; the PostgreSQL node would not.
    assert column_range("PositiveIntegerField") == (0, INT32_MAX)
    assert column_range("IntegerField") == (-(2**31), INT32_MAX)
    assert column_range(KEY_COLUMN) == (-(2**63), INT64_MAX)


def test_a_bounded_field_takes_the_columns_range():
    field = BoundedIntegerField(column="PositiveIntegerField")

    assert (field.min_value, field.max_value) == (0, INT32_MAX)


def test_bounds_given_with_the_column_narrow_it_and_never_widen_it():
    narrower = BoundedIntegerField(column="PositiveIntegerField", min_value=1, max_value=99)
    wider = BoundedIntegerField(column="PositiveIntegerField", min_value=-5, max_value=2**40)

    assert (narrower.min_value, narrower.max_value) == (1, 99)
    assert (wider.min_value, wider.max_value) == (0, INT32_MAX)


def test_a_model_serializers_integer_field_gets_its_columns_range():
    quantity = _CartLineSerializer().fields["quantity"]

    assert (quantity.min_value, quantity.max_value) == (0, INT32_MAX)


def test_a_writable_key_relation_is_bounded_to_keys_that_can_exist():
    serializer = _CartLineSerializer(data={"quantity": 1, "product": 2**63})

    assert not serializer.is_valid()
    assert "product" in serializer.errors


def test_read_only_fields_carry_no_input_bounds():
    fields = _CartLineSerializer().fields

    assert getattr(fields["id"], "max_value", None) is None
    assert getattr(fields["cart"], "pk_field", None) is None


@pytest.mark.parametrize("text", ["1", str(INT64_MAX)])
def test_the_key_converter_reads_every_key_a_column_holds(text):
    assert DatabaseKeyConverter().to_python(text) == int(text)


@pytest.mark.parametrize("text", ["0", str(INT64_MAX + 1), "9" * 5000])
def test_the_key_converter_refuses_what_no_key_can_be(text):
    with pytest.raises(ValueError):
        DatabaseKeyConverter().to_python(text)


def test_a_path_with_a_key_no_column_holds_matches_no_route():
    assert resolve(f"/api/v1/products/{INT64_MAX}/").kwargs == {"pk": INT64_MAX}
    with pytest.raises(Resolver404):
        resolve(f"/api/v1/products/{INT64_MAX + 1}/")
