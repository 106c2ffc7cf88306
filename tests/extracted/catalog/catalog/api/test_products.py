"""Reading products from the catalog service, its own part: stock and ids as the sync
delivers them. The contract both sides keep is tests/catalog_contract."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from extracted.catalog.catalog.models import Product, StockLevel
from tests.extracted.catalog.factories import make_product, mirror_stock


def test_a_stock_change_mirrored_from_the_monolith_shows_in_the_next_answer(anon_api):
    product = make_product(stock=5)

    mirror_stock(product=product, on_hand=5, reserved=5)

    body = anon_api.get(f"/api/v1/products/{product.pk}/").json()
    assert (body["stock_available"], body["in_stock"]) == (0, False)


def test_a_stock_level_that_arrives_before_its_product_counts_once_the_product_does(anon_api):
    StockLevel.objects.create(product_id=4242, on_hand=3, updated_at=timezone.now())

    Product.objects.create(id=4242, name="Late", slug="late", sku="LATE", price=Decimal(1))

    body = anon_api.get("/api/v1/products/4242/").json()
    assert (body["stock_available"], body["in_stock"]) == (3, True)


def test_ids_are_the_monoliths_as_delivered(anon_api):
    Product.objects.create(id=90017, name="Synced", slug="synced", sku="SYN", price=Decimal(2))

    response = anon_api.get("/api/v1/products/by-slug/synced/")

    assert response.json()["id"] == 90017
