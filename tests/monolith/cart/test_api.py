"""``/api/v1/cart/``: every endpoint's happy path, its validation, and who may call it."""

from __future__ import annotations

import pytest

from monolith.cart.models import CartLine
from monolith.cart.services import cart_line_add
from tests.monolith.factories import make_product

pytestmark = pytest.mark.django_db

CART = "/api/v1/cart/"
LINES = "/api/v1/cart/lines/"


def _line_url(line_id: int) -> str:
    return f"/api/v1/cart/lines/{line_id}/"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", CART),
        ("delete", CART),
        ("post", LINES),
        ("patch", _line_url(1)),
        ("delete", _line_url(1)),
    ],
)
def test_anonymous_callers_are_told_to_authenticate(anon_api, method, path) -> None:
    response = getattr(anon_api, method)(path, {}, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_the_cart_lists_lines_with_prices_and_availability(customer, customer_api) -> None:
    product = make_product(name="Teapot", sku="TEA-1", price="12.50", stock=5)
    line = cart_line_add(user=customer, product_id=product.pk, quantity=2)

    response = customer_api.get(CART)

    assert response.status_code == 200
    assert response.json() == {
        "lines": [
            {
                "id": line.pk,
                "product_id": product.pk,
                "sku": "TEA-1",
                "name": "Teapot",
                "unit_price": "12.50",
                "currency": "EUR",
                "quantity": 2,
                "line_total": "25.00",
                "available": True,
            }
        ],
        "total": "25.00",
        "currency": "EUR",
        "item_count": 2,
    }


def test_adding_a_line_returns_the_cart_with_201(customer_api) -> None:
    product = make_product(price="3.00")

    response = customer_api.post(LINES, {"product_id": product.pk, "quantity": 4})

    assert response.status_code == 201
    assert response.json()["total"] == "12.00"


def test_adding_a_product_twice_adds_to_its_line(customer_api) -> None:
    product = make_product()
    customer_api.post(LINES, {"product_id": product.pk, "quantity": 1})

    response = customer_api.post(LINES, {"product_id": product.pk, "quantity": 2})

    assert [line["quantity"] for line in response.json()["lines"]] == [3]


@pytest.mark.parametrize("active", [True, False], ids=["unknown", "inactive"])
def test_adding_a_product_not_on_sale_is_a_field_error(customer_api, active) -> None:
    product_id = make_product(is_active=False).pk if not active else 999_999

    response = customer_api.post(LINES, {"product_id": product_id, "quantity": 1})

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "product_id" in response.json()["fields"]


@pytest.mark.parametrize("quantity", [0, 100, "many"])
def test_adding_a_quantity_outside_1_to_99_is_a_field_error(customer_api, quantity) -> None:
    response = customer_api.post(LINES, {"product_id": make_product().pk, "quantity": quantity})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["quantity"]


def test_growing_a_line_past_99_units_is_refused(customer, customer_api) -> None:
    product = make_product()
    cart_line_add(user=customer, product_id=product.pk, quantity=90)

    response = customer_api.post(LINES, {"product_id": product.pk, "quantity": 10})

    assert response.status_code == 400
    assert response.json()["code"] == "cart_line_quantity_exceeded"


def test_adding_a_product_in_another_currency_conflicts(customer, customer_api) -> None:
    cart_line_add(user=customer, product_id=make_product(currency="EUR").pk, quantity=1)

    response = customer_api.post(LINES, {"product_id": make_product(currency="USD").pk})

    assert response.status_code == 409
    assert response.json()["code"] == "currency_mismatch"


def test_patching_a_line_sets_its_quantity(customer, customer_api) -> None:
    line = cart_line_add(user=customer, product_id=make_product().pk, quantity=1)

    response = customer_api.patch(_line_url(line.pk), {"quantity": 6})

    assert response.status_code == 200
    assert response.json()["lines"][0]["quantity"] == 6


def test_patching_without_a_quantity_is_a_field_error(customer, customer_api) -> None:
    line = cart_line_add(user=customer, product_id=make_product().pk, quantity=1)

    response = customer_api.patch(_line_url(line.pk), {})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["quantity"]


@pytest.mark.parametrize("client_name", ["other_api", "staff_api"])
def test_another_users_line_cannot_be_patched(request, customer, client_name) -> None:
    line = cart_line_add(user=customer, product_id=make_product().pk, quantity=1)

    response = request.getfixturevalue(client_name).patch(_line_url(line.pk), {"quantity": 2})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_deleting_a_line_removes_it(customer, customer_api) -> None:
    line = cart_line_add(user=customer, product_id=make_product().pk, quantity=1)

    response = customer_api.delete(_line_url(line.pk))

    assert response.status_code == 204
    assert not CartLine.objects.filter(pk=line.pk).exists()


def test_another_users_line_cannot_be_deleted(customer, other_api) -> None:
    line = cart_line_add(user=customer, product_id=make_product().pk, quantity=1)

    response = other_api.delete(_line_url(line.pk))

    assert response.status_code == 404
    assert CartLine.objects.filter(pk=line.pk).exists()


def test_deleting_the_cart_empties_it(customer, customer_api) -> None:
    cart_line_add(user=customer, product_id=make_product().pk, quantity=1)
    cart_line_add(user=customer, product_id=make_product().pk, quantity=1)

    response = customer_api.delete(CART)

    assert response.status_code == 204
    assert customer_api.get(CART).json()["lines"] == []


def test_each_user_sees_only_their_own_cart(customer, staff_api) -> None:
    cart_line_add(user=customer, product_id=make_product().pk, quantity=1)

    response = staff_api.get(CART)

    assert response.json()["item_count"] == 0
