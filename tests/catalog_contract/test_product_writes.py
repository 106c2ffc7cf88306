"""Staff writing products, on both sides: POST /api/v1/products/, PUT/PATCH/DELETE
/api/v1/products/<id>/. How initial stock is kept is each side's (its own suite)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.catalog_contract.answers import assert_invalid


def _new_product(**overrides):
    return {"name": "Blue Kettle", "sku": "KT-1", "price": "12.50", **overrides}


def test_staff_create_a_product(side, staff_api):
    category = side.make_category()

    response = staff_api.post(
        "/api/v1/products/",
        _new_product(
            slug="blue-kettle", description="Boils.", currency="USD", category=category.pk
        ),
    )

    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Blue Kettle"
    assert body["slug"] == "blue-kettle"
    assert body["price"] == "12.50"
    assert body["currency"] == "USD"
    assert body["category"] == category.pk
    assert body["is_active"] is True
    product = side.Product.objects.get(pk=body["id"])
    assert (product.sku, product.price) == ("KT-1", Decimal("12.50"))


def test_a_new_product_without_a_slug_gets_one_from_its_name(staff_api):
    body = staff_api.post("/api/v1/products/", _new_product(name="Blue Kettle XL")).json()

    assert body["slug"] == "blue-kettle-xl"


def test_a_generated_product_slug_is_suffixed_to_stay_unique(side, staff_api):
    side.make_product(slug="kettle")
    side.make_product(slug="kettle-2")

    body = staff_api.post("/api/v1/products/", _new_product(name="Kettle")).json()

    assert body["slug"] == "kettle-3"


def test_a_new_product_without_a_currency_uses_the_stores(staff_api, settings):
    settings.STOREFRONT_CURRENCY = "GBP"

    body = staff_api.post("/api/v1/products/", _new_product()).json()

    assert body["currency"] == "GBP"


def test_a_product_without_name_sku_or_price_is_a_validation_error(staff_api):
    response = staff_api.post("/api/v1/products/", {})

    assert response.status_code == 400
    assert {"name", "sku", "price"} <= set(response.json()["fields"])


def test_a_taken_sku_is_a_validation_error(side, staff_api):
    side.make_product(sku="KT-1")

    assert_invalid(staff_api.post("/api/v1/products/", _new_product(sku="KT-1")), "sku")


def test_a_taken_slug_is_a_validation_error(side, staff_api):
    side.make_product(slug="kettle")

    assert_invalid(staff_api.post("/api/v1/products/", _new_product(slug="kettle")), "slug")


def test_a_negative_price_is_a_validation_error(staff_api):
    assert_invalid(staff_api.post("/api/v1/products/", _new_product(price="-0.01")), "price")


def test_a_price_with_three_decimals_is_a_validation_error(staff_api):
    assert_invalid(staff_api.post("/api/v1/products/", _new_product(price="1.005")), "price")


def test_a_price_that_is_not_a_number_is_a_validation_error(staff_api):
    assert_invalid(staff_api.post("/api/v1/products/", _new_product(price="cheap")), "price")


def test_a_free_product_is_allowed(staff_api):
    response = staff_api.post("/api/v1/products/", _new_product(price="0"))

    assert response.status_code == 201
    assert response.json()["price"] == "0.00"


@pytest.mark.parametrize("currency", ["eur", "EURO", "E1R", ""])
def test_a_currency_that_is_not_three_capitals_is_a_validation_error(staff_api, currency):
    response = staff_api.post("/api/v1/products/", _new_product(currency=currency))

    assert_invalid(response, "currency")


def test_an_unknown_category_is_a_validation_error(staff_api):
    response = staff_api.post("/api/v1/products/", _new_product(category=999999))

    assert_invalid(response, "category")


def test_a_negative_initial_stock_is_a_validation_error(staff_api):
    assert_invalid(staff_api.post("/api/v1/products/", _new_product(stock=-1)), "stock")


# 2**31: more than PostgreSQL's integer column holds, though SQLite would store it.
@pytest.mark.parametrize("stock", [99999999999999999999999, 2**63, 2**31])
def test_an_initial_stock_beyond_the_stock_column_is_a_validation_error(side, staff_api, stock):
    response = staff_api.post("/api/v1/products/", _new_product(stock=stock))

    assert_invalid(response, "stock")
    assert side.Product.objects.count() == 0


def test_the_largest_initial_stock_the_column_holds_is_accepted(staff_api):
    response = staff_api.post("/api/v1/products/", _new_product(stock=2**31 - 1))

    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("method", ["put", "patch"])
def test_a_category_id_no_key_can_be_is_a_validation_error(side, staff_api, method):
    product = side.make_product()
    body = {**_new_product(sku=product.sku), "category": 99999999999999999999999}

    response = getattr(staff_api, method)(f"/api/v1/products/{product.pk}/", body)

    assert_invalid(response, "category")


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_a_product_id_no_key_can_be_is_not_found(staff_api, method):
    response = getattr(staff_api, method)(
        "/api/v1/products/99999999999999999999999/", _new_product()
    )

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_non_staff_cannot_create_a_product(side, refused_writer):
    client, status, code = refused_writer

    response = client.post("/api/v1/products/", _new_product())

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert not side.Product.objects.filter(sku="KT-1").exists()


@pytest.mark.parametrize("method", ["put", "patch"])
def test_non_staff_cannot_change_a_product(side, refused_writer, method):
    client, status, code = refused_writer
    product = side.make_product(name="Before")

    response = getattr(client, method)(f"/api/v1/products/{product.pk}/", _new_product())

    assert (response.status_code, response.json()["code"]) == (status, code)
    product.refresh_from_db()
    assert product.name == "Before"


def test_non_staff_cannot_delete_a_product(side, refused_writer):
    client, status, code = refused_writer
    product = side.make_product()

    response = client.delete(f"/api/v1/products/{product.pk}/")

    assert (response.status_code, response.json()["code"]) == (status, code)
    product.refresh_from_db()
    assert product.is_active is True


def test_staff_change_a_products_price(side, staff_api):
    product = side.make_product(price="10.00", stock=4)

    response = staff_api.patch(f"/api/v1/products/{product.pk}/", {"price": "8.99"})

    assert response.status_code == 200
    assert response.json()["price"] == "8.99"
    assert response.json()["stock_available"] == 4
    product.refresh_from_db()
    assert product.price == Decimal("8.99")


def test_staff_replace_a_product(side, staff_api):
    product = side.make_product(name="Old", sku="OLD", slug="old")
    category = side.make_category()

    response = staff_api.put(
        f"/api/v1/products/{product.pk}/",
        _new_product(name="New", sku="NEW", slug="new", category=category.pk),
    )

    assert response.status_code == 200
    product.refresh_from_db()
    assert (product.name, product.sku, product.slug) == ("New", "NEW", "new")
    assert product.category == category


def test_a_product_keeps_its_own_sku_and_slug_when_saved_unchanged(side, staff_api):
    product = side.make_product(sku="KT-1", slug="kettle")

    response = staff_api.patch(f"/api/v1/products/{product.pk}/", {"sku": "KT-1", "slug": "kettle"})

    assert response.status_code == 200


def test_changing_to_another_products_sku_is_a_validation_error(side, staff_api):
    side.make_product(sku="TAKEN")
    product = side.make_product()

    response = staff_api.patch(f"/api/v1/products/{product.pk}/", {"sku": "TAKEN"})

    assert_invalid(response, "sku")


def test_a_change_cannot_set_stock(side, staff_api):
    product = side.make_product(stock=3)

    response = staff_api.patch(f"/api/v1/products/{product.pk}/", {"stock": 50})

    assert_invalid(response, "stock")
    assert side.StockLevel.objects.get(product=product).on_hand == 3


def test_changing_an_unknown_product_is_not_found(staff_api):
    response = staff_api.patch("/api/v1/products/999999/", {"price": "1.00"})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_deleting_a_product_deactivates_it(side, staff_api):
    product = side.make_product()

    response = staff_api.delete(f"/api/v1/products/{product.pk}/")

    assert response.status_code == 204
    product.refresh_from_db()
    assert product.is_active is False


def test_a_deleted_product_is_gone_for_shoppers(side, staff_api, anon_api):
    product = side.make_product()

    staff_api.delete(f"/api/v1/products/{product.pk}/")

    assert anon_api.get(f"/api/v1/products/{product.pk}/").status_code == 404


def test_deleting_a_product_twice_is_harmless(side, staff_api):
    product = side.make_product()

    staff_api.delete(f"/api/v1/products/{product.pk}/")
    response = staff_api.delete(f"/api/v1/products/{product.pk}/")

    assert response.status_code == 204


def test_staff_reactivate_a_deactivated_product(side, staff_api, anon_api):
    product = side.make_product(is_active=False)

    response = staff_api.patch(f"/api/v1/products/{product.pk}/", {"is_active": True})

    assert response.status_code == 200
    assert anon_api.get(f"/api/v1/products/{product.pk}/").status_code == 200
