"""``/api/v1/orders/``: every endpoint's happy path, its validation, and who may call it."""

from __future__ import annotations

import pytest

from monolith.cart.models import CartLine
from monolith.cart.services import cart_line_add
from monolith.inventory.models import StockLevel
from monolith.orders.models import Order
from monolith.payments.models import Payment
from monolith.payments.services import payment_create
from tests.monolith.factories import make_address, make_product
from tests.monolith.orders.factories import make_order

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"
CARD = "4242424242424242"


def _url(order: Order | int, action: str = "") -> str:
    pk = order if isinstance(order, int) else order.pk
    return f"{ORDERS}{pk}/{action + '/' if action else ''}"


def _paid(order: Order) -> Order:
    payment_create(user=order.user, order_id=order.pk, idempotency_key="k", card_number=CARD)
    order.refresh_from_db()
    return order


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", ORDERS),
        ("post", ORDERS),
        ("get", _url(1)),
        ("post", _url(1, "cancel")),
        ("post", _url(1, "ship")),
        ("post", _url(1, "deliver")),
    ],
)
def test_anonymous_callers_are_told_to_authenticate(anon_api, method, path) -> None:
    response = getattr(anon_api, method)(path, {}, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


# -- placing -------------------------------------------------------------------------------


def test_placing_explicit_lines_returns_the_order_with_201(customer_api, address) -> None:
    product = make_product(name="Teapot", sku="TEA-1", price="12.50")

    response = customer_api.post(
        ORDERS,
        {"shipping_address_id": address.pk, "lines": [{"product_id": product.pk, "quantity": 2}]},
    )

    assert response.status_code == 201
    body = response.json()
    assert body["number"].startswith("ORD-")
    assert (body["status"], body["currency"], body["total"]) == ("pending", "EUR", "25.00")
    assert body["lines"] == [
        {
            "id": body["lines"][0]["id"],
            "product_id": product.pk,
            "sku": "TEA-1",
            "product_name": "Teapot",
            "unit_price": "12.50",
            "quantity": 2,
            "line_total": "25.00",
        }
    ]
    assert body["shipping_address"]["city"] == address.city
    assert [(c["from_status"], c["to_status"]) for c in body["status_history"]] == [("", "pending")]


def test_placing_without_lines_orders_the_cart_and_empties_it(
    customer, customer_api, address
) -> None:
    product = make_product()
    cart_line_add(user=customer, product_id=product.pk, quantity=3)

    response = customer_api.post(ORDERS, {"shipping_address_id": address.pk})

    assert response.status_code == 201
    assert [line["quantity"] for line in response.json()["lines"]] == [3]
    assert not CartLine.objects.filter(cart__user=customer).exists()


def test_placing_from_an_empty_cart_conflicts_with_cart_empty(customer_api, address) -> None:
    response = customer_api.post(ORDERS, {"shipping_address_id": address.pk})

    assert response.status_code == 409
    assert response.json()["code"] == "cart_empty"


def test_placing_more_than_the_stock_conflicts_with_the_details(customer_api, address) -> None:
    product = make_product(stock=1)

    response = customer_api.post(
        ORDERS,
        {"shipping_address_id": address.pk, "lines": [{"product_id": product.pk, "quantity": 2}]},
    )

    assert response.status_code == 409
    assert response.json()["code"] == "out_of_stock"
    assert response.json()["details"] == {"product_id": product.pk, "requested": 2, "available": 1}
    assert not Order.objects.exists()


def test_an_address_of_someone_else_is_a_field_error(customer_api, other_customer) -> None:
    theirs = make_address(user=other_customer)

    response = customer_api.post(
        ORDERS,
        {"shipping_address_id": theirs.pk, "lines": [{"product_id": make_product().pk}]},
    )

    assert response.status_code == 400
    assert "shipping_address_id" in response.json()["fields"]


def test_a_missing_address_is_a_field_error(customer_api) -> None:
    response = customer_api.post(ORDERS, {})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["shipping_address_id"]


@pytest.mark.parametrize(
    "lines",
    [
        [],
        [{"product_id": 999_999, "quantity": 1}],
        [{"quantity": 1}],
        [{"product_id": "PRODUCT", "quantity": 0}],
    ],
    ids=["empty", "unknown-product", "no-product", "zero-quantity"],
)
def test_invalid_lines_are_field_errors(customer_api, address, lines) -> None:
    response = customer_api.post(ORDERS, {"shipping_address_id": address.pk, "lines": lines})

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert list(response.json()["fields"]) == ["lines"]


def test_naming_a_product_twice_is_a_field_error(customer_api, address) -> None:
    product = make_product()
    line = {"product_id": product.pk, "quantity": 1}

    response = customer_api.post(ORDERS, {"shipping_address_id": address.pk, "lines": [line, line]})

    assert response.status_code == 400
    assert response.json()["fields"] == {"lines": ["List each product once."]}


# -- reading -------------------------------------------------------------------------------


def test_customers_list_their_own_orders_newest_first(
    customer, other_customer, customer_api
) -> None:
    product = make_product()
    older = make_order(user=customer, lines={product: 1})
    newer = make_order(user=customer, lines={product: 1})
    make_order(user=other_customer, lines={product: 1})

    response = customer_api.get(ORDERS)

    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert [o["id"] for o in response.json()["results"]] == [newer.pk, older.pk]


def test_the_order_list_is_paginated(customer, customer_api) -> None:
    product = make_product()
    for _ in range(3):
        make_order(user=customer, lines={product: 1})

    response = customer_api.get(ORDERS, {"page_size": 2})

    assert (response.json()["count"], len(response.json()["results"])) == (3, 2)
    assert response.json()["next"] is not None


def test_staff_list_everyones_orders(customer, other_customer, staff_api) -> None:
    product = make_product()
    make_order(user=customer, lines={product: 1})
    make_order(user=other_customer, lines={product: 1})

    assert staff_api.get(ORDERS).json()["count"] == 2


def test_an_order_shows_its_lines_and_history_to_its_owner(customer, customer_api) -> None:
    order = make_order(user=customer, lines={make_product(): 2})

    response = customer_api.get(_url(order))

    assert response.status_code == 200
    assert response.json()["number"] == order.number
    assert len(response.json()["lines"]) == 1
    assert response.json()["status_history"][0]["actor"] == "alice"


def test_another_customers_order_is_not_found(customer, other_api) -> None:
    order = make_order(user=customer, lines={make_product(): 1})

    response = other_api.get(_url(order))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_staff_see_any_order(customer, staff_api) -> None:
    order = make_order(user=customer, lines={make_product(): 1})

    assert staff_api.get(_url(order)).status_code == 200


# -- cancelling ----------------------------------------------------------------------------


def test_the_owner_cancels_a_pending_order_and_the_stock_comes_back(customer, customer_api) -> None:
    product = make_product(stock=4)
    order = make_order(user=customer, lines={product: 3})

    response = customer_api.post(_url(order, "cancel"))

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert StockLevel.objects.get(product=product).available == 4


def test_cancelling_a_paid_order_refunds_it(customer, customer_api) -> None:
    order = _paid(make_order(user=customer, lines={make_product(): 1}))

    response = customer_api.post(_url(order, "cancel"))

    assert response.json()["status"] == "cancelled"
    assert Payment.objects.get(order=order).status == "refunded"


def test_staff_cancel_any_order(customer, staff_api) -> None:
    order = make_order(user=customer, lines={make_product(): 1})

    response = staff_api.post(_url(order, "cancel"))

    assert response.json()["status_history"][-1]["actor"] == "stella"


def test_another_customer_cannot_cancel_an_order(customer, other_api) -> None:
    order = make_order(user=customer, lines={make_product(): 1})

    response = other_api.post(_url(order, "cancel"))

    assert response.status_code == 404
    order.refresh_from_db()
    assert order.status == "pending"


def test_cancelling_twice_is_an_order_state_conflict(customer, customer_api) -> None:
    order = make_order(user=customer, lines={make_product(): 1})
    customer_api.post(_url(order, "cancel"))

    response = customer_api.post(_url(order, "cancel"))

    assert response.status_code == 409
    assert response.json()["code"] == "order_state_conflict"


# -- shipping and delivering ---------------------------------------------------------------


def test_staff_ship_a_paid_order(customer, staff_api) -> None:
    product = make_product(stock=5)
    order = _paid(make_order(user=customer, lines={product: 2}))

    response = staff_api.post(_url(order, "ship"))

    assert response.status_code == 200
    assert response.json()["status"] == "shipped"
    assert StockLevel.objects.get(product=product).on_hand == 3


def test_staff_deliver_a_shipped_order(customer, staff_api) -> None:
    order = _paid(make_order(user=customer, lines={make_product(): 1}))
    staff_api.post(_url(order, "ship"))

    response = staff_api.post(_url(order, "deliver"))

    assert response.json()["status"] == "delivered"


@pytest.mark.parametrize("action", ["ship", "deliver"])
def test_customers_may_not_ship_or_deliver_even_their_own_order(
    customer, customer_api, action
) -> None:
    order = _paid(make_order(user=customer, lines={make_product(): 1}))

    response = customer_api.post(_url(order, action))

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_shipping_a_pending_order_is_an_order_state_conflict(customer, staff_api) -> None:
    order = make_order(user=customer, lines={make_product(): 1})

    response = staff_api.post(_url(order, "ship"))

    assert response.status_code == 409
    assert response.json()["code"] == "order_state_conflict"


def test_delivering_a_paid_order_is_an_order_state_conflict(customer, staff_api) -> None:
    order = _paid(make_order(user=customer, lines={make_product(): 1}))

    response = staff_api.post(_url(order, "deliver"))

    assert response.status_code == 409


def test_shipping_a_missing_order_is_not_found(staff_api) -> None:
    assert staff_api.post(_url(999_999, "ship")).status_code == 404
