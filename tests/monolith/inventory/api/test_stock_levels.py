"""Staff reading and setting stock: /api/v1/inventory/<product_id>/."""

from __future__ import annotations

from decimal import Decimal

import pytest

from monolith.catalog.models import Product
from monolith.inventory.models import StockLevel
from tests.monolith.factories import make_product

STOCK_FIELDS = {"product_id", "on_hand", "reserved", "available", "updated_at"}


def _reserve(product, units):
    StockLevel.objects.filter(product=product).update(reserved=units)


def test_staff_read_a_products_stock_level(staff_api):
    product = make_product(stock=10)
    _reserve(product, 3)

    response = staff_api.get(f"/api/v1/inventory/{product.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == STOCK_FIELDS
    assert (body["product_id"], body["on_hand"], body["reserved"], body["available"]) == (
        product.pk,
        10,
        3,
        7,
    )
    assert body["updated_at"] is not None


def test_staff_read_the_stock_of_an_inactive_product(staff_api):
    product = make_product(stock=2, is_active=False)

    assert staff_api.get(f"/api/v1/inventory/{product.pk}/").json()["on_hand"] == 2


def test_a_product_without_a_stock_row_reads_as_zero_never_counted(staff_api):
    product = Product.objects.create(name="Bare", slug="bare", sku="BARE", price=Decimal(1))

    body = staff_api.get(f"/api/v1/inventory/{product.pk}/").json()

    assert (body["on_hand"], body["reserved"], body["available"]) == (0, 0, 0)
    assert body["updated_at"] is None


def test_the_stock_of_an_unknown_product_is_not_found(staff_api):
    response = staff_api.get("/api/v1/inventory/999999/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_non_staff_cannot_read_stock_levels(non_staff):
    client, status, code = non_staff
    product = make_product()

    response = client.get(f"/api/v1/inventory/{product.pk}/")

    assert (response.status_code, response.json()["code"]) == (status, code)


@pytest.mark.parametrize("method", ["put", "patch"])
def test_staff_set_the_units_on_hand(staff_api, method):
    product = make_product(stock=10)
    _reserve(product, 3)

    response = getattr(staff_api, method)(f"/api/v1/inventory/{product.pk}/", {"on_hand": 25})

    assert response.status_code == 200
    assert (response.json()["on_hand"], response.json()["available"]) == (25, 22)
    assert StockLevel.objects.get(product=product).on_hand == 25


def test_setting_stock_shows_up_in_the_product(staff_api, anon_api):
    product = make_product(stock=0)

    staff_api.patch(f"/api/v1/inventory/{product.pk}/", {"on_hand": 4})

    body = anon_api.get(f"/api/v1/products/{product.pk}/").json()
    assert (body["stock_available"], body["in_stock"]) == (4, True)


def test_on_hand_may_drop_to_exactly_what_is_reserved(staff_api):
    product = make_product(stock=10)
    _reserve(product, 3)

    response = staff_api.patch(f"/api/v1/inventory/{product.pk}/", {"on_hand": 3})

    assert response.status_code == 200
    assert response.json()["available"] == 0


def test_on_hand_below_what_is_reserved_is_a_conflict(staff_api):
    product = make_product(stock=10)
    _reserve(product, 3)

    response = staff_api.patch(f"/api/v1/inventory/{product.pk}/", {"on_hand": 2})

    assert response.status_code == 409
    assert response.json()["code"] == "stock_below_reserved"
    assert StockLevel.objects.get(product=product).on_hand == 10


def test_setting_stock_creates_the_missing_stock_row(staff_api):
    product = Product.objects.create(name="Bare", slug="bare", sku="BARE", price=Decimal(1))

    response = staff_api.put(f"/api/v1/inventory/{product.pk}/", {"on_hand": 5})

    assert response.status_code == 200
    assert StockLevel.objects.get(product=product).on_hand == 5


@pytest.mark.parametrize("body", [{}, {"on_hand": -1}, {"on_hand": "many"}, {"on_hand": None}])
def test_an_on_hand_that_is_missing_or_not_a_count_is_a_validation_error(staff_api, body):
    product = make_product(stock=10)

    response = staff_api.patch(f"/api/v1/inventory/{product.pk}/", body)

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "on_hand" in response.json()["fields"]


def test_setting_the_stock_of_an_unknown_product_is_not_found(staff_api):
    response = staff_api.put("/api/v1/inventory/999999/", {"on_hand": 5})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("method", ["put", "patch"])
def test_non_staff_cannot_set_stock(non_staff, method):
    client, status, code = non_staff
    product = make_product(stock=10)

    response = getattr(client, method)(f"/api/v1/inventory/{product.pk}/", {"on_hand": 99})

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert StockLevel.objects.get(product=product).on_hand == 10


@pytest.mark.parametrize("on_hand", [99999999999999999999999, 2**31])
@pytest.mark.parametrize("method", ["put", "patch"])
def test_units_beyond_the_stock_column_are_a_validation_error(staff_api, method, on_hand):
    product = make_product(stock=3)

    response = getattr(staff_api, method)(f"/api/v1/inventory/{product.pk}/", {"on_hand": on_hand})

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "on_hand" in response.json()["fields"]
    assert StockLevel.objects.get(product=product).on_hand == 3


@pytest.mark.parametrize("method", ["get", "put", "patch"])
def test_a_product_id_no_key_can_be_is_not_found(staff_api, method):
    response = getattr(staff_api, method)(
        "/api/v1/inventory/99999999999999999999999/", {"on_hand": 1}
    )

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
