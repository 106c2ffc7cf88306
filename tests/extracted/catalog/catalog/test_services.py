"""Catalog writes called directly, the service's own part: a new product's initial stock.
The writes both sides share, with the monolith's rules, are tests/catalog_contract."""

from __future__ import annotations

from decimal import Decimal

from extracted.catalog.catalog.models import InitialStock, StockLevel
from extracted.catalog.catalog.services import product_create


def test_creating_a_product_records_its_initial_stock_for_the_monolith(db):
    product = product_create(name="Kettle", sku="KT-1", price=Decimal("9.99"), stock=4)

    assert InitialStock.objects.get(product=product).on_hand == 4
    assert not StockLevel.objects.filter(product=product).exists()
