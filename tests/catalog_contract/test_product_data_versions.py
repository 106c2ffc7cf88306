"""X-Strangler-Data-Versions on product answers, where both sides agree; the versions
of stock levels are each side's (its own suite)."""

from __future__ import annotations

from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext

WANT = {"HTTP_X_STRANGLER_WANT_VERSIONS": "1"}
HEADER = "X-Strangler-Data-Versions"


def test_the_product_version_goes_up_after_a_price_update(side, anon_api):
    product = side.make_product(name="Kettle", price="10.00")
    side.services.product_update(product=product, price=Decimal("12.50"))

    response = anon_api.get(f"/api/v1/products/{product.pk}/", **WANT)

    assert response[HEADER].startswith(f"catalog_product:{product.pk}=2,")


def test_without_the_request_header_there_is_no_header_and_no_extra_query(side, anon_api):
    product = side.make_product(name="Kettle")
    path = f"/api/v1/products/{product.pk}/"

    with CaptureQueriesContext(connection) as plain:
        response = anon_api.get(path)
    with CaptureQueriesContext(connection) as asked:
        anon_api.get(path, **WANT)

    assert HEADER not in response
    assert len(asked.captured_queries) == len(plain.captured_queries) + 1
