from __future__ import annotations

from decimal import Decimal

import pytest

from monolith.cart.selectors import cart_get
from monolith.cart.services import cart_line_add
from tests.monolith.factories import make_product

pytestmark = pytest.mark.django_db


def test_the_cart_totals_its_lines_exactly(customer) -> None:
    cart_line_add(user=customer, product_id=make_product(price="0.10").pk, quantity=3)
    cart_line_add(user=customer, product_id=make_product(price="19.99").pk, quantity=2)

    cart = cart_get(user=customer)

    assert [line.line_total for line in cart.lines] == [Decimal("0.30"), Decimal("39.98")]
    assert cart.total == Decimal("40.28")
    assert cart.item_count == 5


def test_a_line_wanting_more_than_the_free_stock_is_not_available(customer) -> None:
    cart_line_add(user=customer, product_id=make_product(stock=2).pk, quantity=3)

    assert cart_get(user=customer).lines[0].available is False


def test_a_line_whose_product_left_the_catalog_is_not_available(customer) -> None:
    product = make_product()
    cart_line_add(user=customer, product_id=product.pk, quantity=1)
    product.is_active = False
    product.save()

    assert cart_get(user=customer).lines[0].available is False


def test_an_empty_cart_is_priced_in_the_storefront_currency(customer, settings) -> None:
    settings.STOREFRONT_CURRENCY = "GBP"

    cart = cart_get(user=customer)

    assert (cart.lines, cart.total, cart.currency, cart.item_count) == ((), 0, "GBP", 0)
