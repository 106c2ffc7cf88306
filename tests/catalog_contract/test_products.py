"""Reading products, on both sides: /api/v1/products/, /api/v1/products/<id>/,
/api/v1/products/by-slug/<slug>/."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

PRODUCT_FIELDS = {
    "id",
    "name",
    "slug",
    "sku",
    "description",
    "price",
    "currency",
    "category",
    "is_active",
    "stock_available",
    "in_stock",
    "created_at",
    "updated_at",
}


def test_anyone_can_list_products_as_a_page(side, anon_api):
    side.make_product(name="Kettle")

    response = anon_api.get("/api/v1/products/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert [p["name"] for p in body["results"]] == ["Kettle"]


def test_a_product_has_exactly_the_contract_fields(side, anon_api):
    category = side.make_category()
    product = side.make_product(
        name="Kettle",
        slug="kettle",
        sku="KT-1",
        price="12.5",
        stock=3,
        category=category,
        description="Boils water.",
    )

    body = anon_api.get(f"/api/v1/products/{product.pk}/").json()

    assert set(body) == PRODUCT_FIELDS
    assert body["id"] == product.pk
    assert (body["name"], body["slug"], body["sku"]) == ("Kettle", "kettle", "KT-1")
    assert body["description"] == "Boils water."
    assert body["category"] == category.pk
    assert body["is_active"] is True


def test_a_price_is_a_string_with_two_decimals(side, anon_api):
    product = side.make_product(price="12.5")

    body = anon_api.get(f"/api/v1/products/{product.pk}/").json()

    assert body["price"] == "12.50"
    assert body["currency"] == "EUR"


def test_a_product_without_a_category_has_a_null_category(side, anon_api):
    product = side.make_product(category=None)

    assert anon_api.get(f"/api/v1/products/{product.pk}/").json()["category"] is None


def test_stock_available_is_on_hand_minus_reserved(side, anon_api):
    product = side.make_product(stock=10, reserved=4)

    body = anon_api.get(f"/api/v1/products/{product.pk}/").json()

    assert body["stock_available"] == 6
    assert body["in_stock"] is True


def test_a_product_with_everything_reserved_is_out_of_stock(side, anon_api):
    product = side.make_product(stock=2, reserved=2)

    body = anon_api.get(f"/api/v1/products/{product.pk}/").json()

    assert (body["stock_available"], body["in_stock"]) == (0, False)


def test_a_product_without_a_stock_row_has_nothing_available(side, anon_api):
    product = side.Product.objects.create(name="Bare", slug="bare", sku="BARE", price=Decimal(1))

    body = anon_api.get(f"/api/v1/products/{product.pk}/").json()

    assert (body["stock_available"], body["in_stock"]) == (0, False)


def test_shoppers_do_not_see_inactive_products_in_the_list(side, shopper_api):
    side.make_product(name="Visible")
    side.make_product(name="Hidden", is_active=False)

    results = shopper_api.get("/api/v1/products/").json()["results"]

    assert [p["name"] for p in results] == ["Visible"]


def test_staff_see_inactive_products_in_the_list(side, staff_api):
    side.make_product(name="Visible")
    side.make_product(name="Hidden", is_active=False)

    results = staff_api.get("/api/v1/products/").json()["results"]

    assert [(p["name"], p["is_active"]) for p in results] == [("Hidden", False), ("Visible", True)]


def test_an_inactive_product_is_not_found_for_shoppers(side, shopper_api):
    product = side.make_product(is_active=False)

    response = shopper_api.get(f"/api/v1/products/{product.pk}/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_staff_can_read_an_inactive_product(side, staff_api):
    product = side.make_product(is_active=False)

    response = staff_api.get(f"/api/v1/products/{product.pk}/")

    assert response.status_code == 200
    assert response.json()["is_active"] is False


def test_an_unknown_product_is_not_found(anon_api):
    response = anon_api.get("/api/v1/products/999999/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_product_is_found_by_its_slug(side, shopper_api):
    product = side.make_product(slug="blue-kettle")

    response = shopper_api.get("/api/v1/products/by-slug/blue-kettle/")

    assert response.status_code == 200
    assert set(response.json()) == PRODUCT_FIELDS
    assert response.json()["id"] == product.pk


def test_an_inactive_product_is_not_found_by_slug_for_shoppers(side, shopper_api):
    side.make_product(slug="retired", is_active=False)

    response = shopper_api.get("/api/v1/products/by-slug/retired/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_staff_find_an_inactive_product_by_slug(side, staff_api):
    side.make_product(slug="retired", is_active=False)

    assert staff_api.get("/api/v1/products/by-slug/retired/").status_code == 200


def test_an_unknown_slug_is_not_found(anon_api):
    response = anon_api.get("/api/v1/products/by-slug/no-such-thing/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_listing_products_takes_the_same_few_queries_however_many_there_are(
    side, anon_api, django_assert_max_num_queries
):
    category = side.make_category()
    for _ in range(30):
        side.make_product(category=category)

    # One query counts the rows, one reads the page with stock and category joined.
    with django_assert_max_num_queries(2):
        response = anon_api.get("/api/v1/products/?page_size=30")

    assert len(response.json()["results"]) == 30


def test_a_filtered_product_list_stays_within_a_fixed_query_budget(
    side, customer_api, django_assert_max_num_queries
):
    category = side.make_category()
    for _ in range(30):
        side.make_product(category=side.make_category(parent=category))

    # Who is asking (the monolith looks the token up), the category, the tree, count, page.
    with django_assert_max_num_queries(side.identity_queries + 4):
        response = customer_api.get(f"/api/v1/products/?category={category.pk}&page_size=30")

    assert response.json()["count"] == 30


def test_times_are_utc_iso_8601_with_microseconds(side, anon_api):
    product = side.make_product()
    side.Product.objects.filter(pk=product.pk).update(
        created_at=datetime(2025, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
    )

    body = anon_api.get(f"/api/v1/products/{product.pk}/").json()

    assert body["created_at"] == "2025-03-04T05:06:07.890123Z"
