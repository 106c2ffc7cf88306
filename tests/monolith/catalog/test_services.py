"""Catalog writes called directly, as the admin and other contexts do."""

from __future__ import annotations

from decimal import Decimal

import pytest

from monolith.catalog.models import Product
from monolith.catalog.services import (
    category_update,
    product_create,
    product_deactivate,
    product_update,
)
from monolith.core.errors import StorefrontError
from monolith.inventory.models import StockLevel
from tests.monolith.factories import make_category, make_product


def test_creating_a_product_creates_its_stock_level(db):
    product = product_create(name="Kettle", sku="KT-1", price=Decimal("9.99"), stock=4)

    assert StockLevel.objects.get(product=product).on_hand == 4


def test_a_name_without_letters_still_gets_a_slug(db):
    product = product_create(name="!!!", sku="BANG", price=Decimal(1))

    assert product.slug == "item"


def test_a_long_name_gets_a_slug_that_fits_with_room_for_a_suffix(db):
    longest = "x" * Product._meta.get_field("name").max_length
    first = product_create(name=longest, sku="LONG-1", price=Decimal(1))
    second = product_create(name=longest, sku="LONG-2", price=Decimal(1))

    assert len(first.slug) <= 220
    assert second.slug == f"{first.slug}-2"


def test_clearing_a_slug_makes_a_new_one_from_the_name(db):
    product = make_product(name="Blue Kettle", slug="old")

    product_update(product=product, slug="")

    assert product.slug == "blue-kettle"


def test_a_category_cannot_be_moved_below_itself_by_the_service(db):
    top = make_category()
    below = make_category(parent=top)

    with pytest.raises(StorefrontError) as raised:
        category_update(category=top, parent=below)

    assert raised.value.code == "category_parent_cycle"


def test_deactivating_a_product_keeps_it(db):
    product = make_product()

    product_deactivate(product=product)

    product.refresh_from_db()
    assert product.is_active is False
