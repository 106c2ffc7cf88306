"""Catalog writes called directly, with the monolith's rules."""

from __future__ import annotations

from decimal import Decimal

import pytest

from extracted.catalog.catalog.models import InitialStock, Product, StockLevel
from extracted.catalog.catalog.services import (
    category_delete,
    category_update,
    product_create,
    product_deactivate,
    product_update,
)
from extracted.catalog.core.errors import CatalogError, Conflict
from tests.extracted.catalog.factories import make_category, make_product


def test_creating_a_product_records_its_initial_stock_for_the_monolith(db):
    product = product_create(name="Kettle", sku="KT-1", price=Decimal("9.99"), stock=4)

    assert InitialStock.objects.get(product=product).on_hand == 4
    assert not StockLevel.objects.filter(product=product).exists()


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

    with pytest.raises(CatalogError) as raised:
        category_update(category=top, parent=below)

    assert raised.value.code == "category_parent_cycle"


def test_a_category_in_use_says_what_still_uses_it(db):
    category = make_category(name="Busy")
    make_product(category=category)
    make_category(parent=category)

    with pytest.raises(Conflict) as raised:
        category_delete(category=category)

    assert raised.value.code == "category_in_use"
    assert raised.value.details == {"product_count": 1, "child_count": 1}


def test_deactivating_a_product_keeps_it(db):
    product = make_product()

    product_deactivate(product=product)

    product.refresh_from_db()
    assert product.is_active is False
