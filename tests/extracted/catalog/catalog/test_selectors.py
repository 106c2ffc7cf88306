"""Catalog reads, the service's own part: stock as the monolith counts it, from the mirror
or the initial stock. The reads both sides share are tests/catalog_contract."""

from __future__ import annotations

from extracted.catalog.catalog.models import InitialStock
from extracted.catalog.catalog.selectors import product_list_visible
from tests.extracted.catalog.factories import make_product


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
