"""Catalog reads: the category tree and what shoppers see, stock as the monolith counts it."""

from __future__ import annotations

from extracted.catalog.catalog.models import InitialStock
from extracted.catalog.catalog.selectors import (
    category_descendant_ids,
    category_parent_creates_cycle,
    product_list_visible,
)
from tests.extracted.catalog.factories import make_category, make_product


def test_descendants_include_the_category_itself_and_every_level_below(db):
    top = make_category()
    middle = make_category(parent=top)
    bottom = make_category(parent=middle)
    make_category()

    assert category_descendant_ids(category_ids=[top.pk]) == {top.pk, middle.pk, bottom.pk}


def test_a_parent_below_the_category_would_create_a_cycle(db):
    top = make_category()
    below = make_category(parent=make_category(parent=top))

    assert category_parent_creates_cycle(category=top, parent=below)


def test_a_parent_beside_the_category_is_no_cycle(db):
    top = make_category()

    assert not category_parent_creates_cycle(category=make_category(parent=top), parent=top)


def test_visible_products_leave_out_inactive_ones(db):
    make_product(name="Live")
    make_product(name="Retired", is_active=False)

    assert [p.name for p in product_list_visible()] == ["Live"]
    assert [p.name for p in product_list_visible(include_inactive=True)] == ["Live", "Retired"]


def test_available_stock_is_the_mirrors_on_hand_minus_reserved(db):
    make_product(stock=9, reserved=4)

    assert product_list_visible().get().stock_available == 5


def test_a_mirrored_stock_level_outranks_the_initial_stock(db):
    product = make_product(stock=2)
    InitialStock.objects.create(product=product, on_hand=30)

    assert product_list_visible().get().stock_available == 2


def test_without_a_stock_level_the_initial_stock_counts(db):
    product = make_product(stock=None)
    InitialStock.objects.create(product=product, on_hand=30)

    assert product_list_visible().get().stock_available == 30


def test_with_neither_nothing_is_available(db):
    make_product(stock=None)

    listed = product_list_visible().get()
    assert (listed.stock_available, listed.in_stock) == (0, False)
