"""Staff writing products to the catalog service: POST /api/v1/products/, PUT/PATCH/DELETE
/api/v1/products/<id>/. Stock stays the monolith's: the service never writes its mirror.
The contract both sides keep is tests/catalog_contract."""

from __future__ import annotations

from extracted.catalog.catalog.models import InitialStock, Product, StockLevel
from tests.extracted.catalog.factories import make_product, mirror_stock


def _new_product(**overrides):
    return {"name": "Blue Kettle", "sku": "KT-1", "price": "12.50", **overrides}


def test_a_new_product_has_nothing_in_stock(staff_api):
    body = staff_api.post("/api/v1/products/", _new_product()).json()

    assert (body["stock_available"], body["in_stock"]) == (0, False)
    assert InitialStock.objects.get(product_id=body["id"]).on_hand == 0


def test_a_new_product_starts_with_the_initial_stock_given(staff_api):
    body = staff_api.post("/api/v1/products/", _new_product(stock=7)).json()

    assert (body["stock_available"], body["in_stock"]) == (7, True)
    assert "stock" not in body
    assert InitialStock.objects.get(product_id=body["id"]).on_hand == 7


def test_creating_a_product_leaves_the_stock_mirror_to_the_sync(staff_api):
    staff_api.post("/api/v1/products/", _new_product(stock=7))

    assert not StockLevel.objects.exists()


def test_the_initial_stock_counts_in_lists_and_filters_until_the_monolith_stock_arrives(
    staff_api, anon_api
):
    body = staff_api.post("/api/v1/products/", _new_product(stock=7)).json()

    listed = anon_api.get("/api/v1/products/?in_stock=true").json()["results"]

    assert [(p["id"], p["stock_available"]) for p in listed] == [(body["id"], 7)]


def test_the_monolith_stock_level_wins_over_the_initial_stock_once_it_arrives(staff_api, anon_api):
    body = staff_api.post("/api/v1/products/", _new_product(stock=7)).json()

    mirror_stock(product=Product.objects.get(pk=body["id"]), on_hand=7, reserved=2)

    after = anon_api.get(f"/api/v1/products/{body['id']}/").json()
    assert (after["stock_available"], after["in_stock"]) == (5, True)


def test_deleting_a_product_keeps_its_mirrored_stock_level(staff_api):
    product = make_product(stock=5, reserved=2)

    response = staff_api.delete(f"/api/v1/products/{product.pk}/")

    assert response.status_code == 204
    level = StockLevel.objects.get(product=product)
    assert (level.on_hand, level.reserved) == (5, 2)
