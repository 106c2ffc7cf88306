"""Catalog writes called directly, the monolith's own part: a new product's stock level.
The writes both sides share are tests/catalog_contract."""

from __future__ import annotations

from decimal import Decimal

from monolith.catalog.services import product_create
from monolith.inventory.models import StockLevel


def test_creating_a_product_creates_its_stock_level(db):
    product = product_create(name="Kettle", sku="KT-1", price=Decimal("9.99"), stock=4)

    assert StockLevel.objects.get(product=product).on_hand == 4
