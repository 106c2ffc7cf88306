"""Staff writing products, the monolith's own part: the stock level a new product gets, and the
order history a deleted one keeps. The shared contract is tests/catalog_contract."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from monolith.catalog.models import Product
from monolith.inventory.models import Reservation, StockLevel
from monolith.inventory.services import stock_reserve
from monolith.orders.models import Order, OrderLine
from tests.monolith.factories import make_product


def _new_product(**overrides):
    return {"name": "Blue Kettle", "sku": "KT-1", "price": "12.50", **overrides}


def test_a_new_product_has_an_empty_stock_level(staff_api):
    body = staff_api.post("/api/v1/products/", _new_product()).json()

    assert (body["stock_available"], body["in_stock"]) == (0, False)
    assert StockLevel.objects.get(product_id=body["id"]).on_hand == 0


def test_a_new_product_starts_with_the_initial_stock_given(staff_api):
    body = staff_api.post("/api/v1/products/", _new_product(stock=7)).json()

    assert (body["stock_available"], body["in_stock"]) == (7, True)
    assert "stock" not in body
    assert StockLevel.objects.get(product_id=body["id"]).on_hand == 7


def test_deleting_an_ordered_product_keeps_its_order_history(staff_api, customer):
    product = make_product(stock=5)
    order = Order.objects.create(
        number="ORD-1",
        user=customer,
        currency="EUR",
        total=Decimal("20.00"),
        shipping_name="Alice",
        shipping_line1="1 Market Street",
        shipping_city="Berlin",
        shipping_postal_code="10115",
        shipping_country="DE",
    )
    OrderLine.objects.create(
        order=order,
        product_id=product.pk,
        sku=product.sku,
        product_name=product.name,
        unit_price=product.price,
        quantity=2,
        line_total=Decimal("20.00"),
    )
    with transaction.atomic():
        stock_reserve(order=order, quantities={product.pk: 2})

    response = staff_api.delete(f"/api/v1/products/{product.pk}/")

    assert response.status_code == 204
    line = OrderLine.objects.get(order=order)
    assert Product.objects.get(pk=line.product_id).sku == line.sku
    assert Reservation.objects.get(order=order).product_id == product.pk
    assert StockLevel.objects.get(product=product).reserved == 2
