"""Inventory reads."""

from __future__ import annotations

import pytest

from monolith.core.errors import NotFound
from monolith.inventory.selectors import stock_level_get
from tests.monolith.factories import make_product


def test_a_stock_level_reads_its_counts(db):
    product = make_product(stock=5)

    assert stock_level_get(product_id=product.pk).available == 5


def test_the_stock_level_of_an_unknown_product_is_not_found(db):
    with pytest.raises(NotFound):
        stock_level_get(product_id=999999)
