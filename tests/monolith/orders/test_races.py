"""Concurrent placements on real connections: on SQLite (one writer at a time) and on
PostgreSQL (row locks) alike, stock never goes below zero and nobody deadlocks."""

from __future__ import annotations

import pytest

from monolith.accounts.models import User
from monolith.core.errors import OutOfStock
from monolith.inventory.models import StockLevel
from monolith.orders.models import Order
from tests.monolith.factories import make_address, make_product
from tests.monolith.orders.factories import make_order, run_concurrently

pytestmark = pytest.mark.django_db(transaction=True)

BUYERS = 12
UNITS = 3


def _buyers(count: int) -> list[User]:
    """Users with an address each. No password: hashing a dozen would take most of the test."""
    buyers = [
        User.objects.create(username=f"racer{i}", email=f"racer{i}@example.com")
        for i in range(count)
    ]
    for buyer in buyers:
        make_address(user=buyer)
    return buyers


def test_concurrent_buyers_of_scarce_stock_get_exactly_the_units_there_are() -> None:
    product = make_product(stock=UNITS)
    buyers = _buyers(BUYERS)

    results = run_concurrently(BUYERS, lambda i: make_order(user=buyers[i], lines={product: 1}))

    placed = [r for r in results if isinstance(r, Order)]
    refused = [r for r in results if isinstance(r, OutOfStock)]
    assert (len(placed), len(refused)) == (UNITS, BUYERS - UNITS), results
    assert Order.objects.count() == UNITS
    level = StockLevel.objects.get(product=product)
    assert (level.available, level.reserved) == (0, UNITS)


def test_orders_naming_the_same_products_in_opposite_orders_do_not_deadlock() -> None:
    first, second = make_product(stock=5), make_product(stock=5)
    buyers = _buyers(BUYERS)

    def place(i: int) -> Order:
        lines = {first: 1, second: 1} if i % 2 else {second: 1, first: 1}
        return make_order(user=buyers[i], lines=lines)

    results = run_concurrently(BUYERS, place)

    placed = [r for r in results if isinstance(r, Order)]
    refused = [r for r in results if isinstance(r, OutOfStock)]
    assert (len(placed), len(refused)) == (5, BUYERS - 5), results
    levels = StockLevel.objects.filter(product__in=[first, second])
    assert sorted((level.available, level.reserved) for level in levels) == [(0, 5), (0, 5)]
