"""X-Strangler-Data-Versions on product answers: the sync version of every row served."""

from __future__ import annotations

from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext

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


def test_the_product_version_goes_up_after_a_price_update(anon_api):
    product = make_product(name="Kettle", price="10.00")
    product_update(product=product, price=Decimal("12.50"))

    response = anon_api.get(f"/api/v1/products/{product.pk}/", **WANT)

    assert f"catalog_product:{product.pk}=2," in response[HEADER]


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


def test_without_the_request_header_there_is_no_header_and_no_extra_query(anon_api):
    product = make_product(name="Kettle")
    path = f"/api/v1/products/{product.pk}/"

    with CaptureQueriesContext(connection) as plain:
        response = anon_api.get(path)
    with CaptureQueriesContext(connection) as asked:
        anon_api.get(path, **WANT)

    assert HEADER not in response
    assert len(asked.captured_queries) == len(plain.captured_queries) + 1


def test_more_rows_than_the_cap_are_summed_up_as_too_many(db):
    served = ServedRows()
    for pk in range(MAX_ROWS + 1):
        served.add(Product, pk)

    assert versions_header(served) == TOO_MANY
