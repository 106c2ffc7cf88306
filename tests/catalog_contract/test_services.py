"""Catalog writes called directly, as the admin and other contexts do, on both sides."""

from __future__ import annotations

from decimal import Decimal

import pytest


def test_a_name_without_letters_still_gets_a_slug(side, db):
    product = side.services.product_create(name="!!!", sku="BANG", price=Decimal(1))

    assert product.slug == "item"


def test_a_long_name_gets_a_slug_that_fits_with_room_for_a_suffix(side, db):
    longest = "x" * side.Product._meta.get_field("name").max_length
    first = side.services.product_create(name=longest, sku="LONG-1", price=Decimal(1))
    second = side.services.product_create(name=longest, sku="LONG-2", price=Decimal(1))

    assert len(first.slug) <= 220
    assert second.slug == f"{first.slug}-2"


def test_clearing_a_slug_makes_a_new_one_from_the_name(side, db):
    product = side.make_product(name="Blue Kettle", slug="old")

    side.services.product_update(product=product, slug="")

    assert product.slug == "blue-kettle"


def test_deactivating_a_product_keeps_it(side, db):
    product = side.make_product()

    side.services.product_deactivate(product=product)

    product.refresh_from_db()
    assert product.is_active is False


def test_a_category_cannot_be_moved_below_itself_by_the_service(side, db):
    top = side.make_category()
    below = side.make_category(parent=top)

    with pytest.raises(side.error_root) as raised:
        side.services.category_update(category=top, parent=below)

    assert raised.value.code == "category_parent_cycle"


def test_a_category_in_use_says_what_still_uses_it(side, db):
    category = side.make_category(name="Busy")
    side.make_product(category=category)
    side.make_category(parent=category)

    with pytest.raises(side.conflict) as raised:
        side.services.category_delete(category=category)

    assert raised.value.code == "category_in_use"
    assert raised.value.details == {"product_count": 1, "child_count": 1}
