"""X-Strangler-Data-Versions on product answers: the sync version of every row served, the
monolith's stock levels versioned by its own capture. What both sides agree on is
tests/catalog_contract."""

from __future__ import annotations

from decimal import Decimal

from monolith.catalog.models import Product
from monolith.catalog.services import product_update
from monolith.inventory.models import StockLevel
from strangler.sync.freshness import MAX_ROWS, TOO_MANY, ServedRows, versions_header
from strangler.sync.models import RowVersion
from tests.monolith.factories import make_product

WANT = {"HTTP_X_STRANGLER_WANT_VERSIONS": "1"}
HEADER = "X-Strangler-Data-Versions"


def _stock_id(product: Product) -> int:
    return StockLevel.objects.get(product=product).pk


def test_a_product_detail_lists_the_product_and_its_stock_level(anon_api):
    product = make_product(name="Kettle")

    response = anon_api.get(f"/api/v1/products/{product.pk}/", **WANT)

    assert response.status_code == 200
    assert response[HEADER] == (
        f"catalog_product:{product.pk}=1,inventory_stocklevel:{_stock_id(product)}=1"
    )


def test_a_product_by_slug_carries_the_header_too(anon_api):
    product = make_product(name="Kettle", slug="kettle")

    response = anon_api.get("/api/v1/products/by-slug/kettle/", **WANT)

    assert response[HEADER].startswith(f"catalog_product:{product.pk}=1,")


def test_a_list_page_lists_every_row_on_the_page(anon_api):
    products = [make_product(name=f"Kettle {n}") for n in range(3)]
    product_update(product=products[1], price=Decimal("3.00"))

    response = anon_api.get("/api/v1/products/", **WANT)

    entries = dict(entry.split("=") for entry in response[HEADER].split(","))
    assert entries == {
        **{f"catalog_product:{p.pk}": "1" for p in products},
        f"catalog_product:{products[1].pk}": "2",
        **{f"inventory_stocklevel:{_stock_id(p)}": "1" for p in products},
    }


def test_a_row_seeded_before_capture_is_version_zero(anon_api):
    product = make_product(name="Kettle")
    RowVersion.objects.all().delete()

    response = anon_api.get(f"/api/v1/products/{product.pk}/", **WANT)

    assert response[HEADER] == (
        f"catalog_product:{product.pk}=0,inventory_stocklevel:{_stock_id(product)}=0"
    )


def test_more_rows_than_the_cap_are_summed_up_as_too_many(db):
    served = ServedRows()
    for pk in range(MAX_ROWS + 1):
        served.add(Product, pk)

    assert versions_header(served) == TOO_MANY
