"""X-Strangler-Data-Versions on the service's product answers, and agreement with the monolith.

The service's own rows are versioned by its capture triggers (its products are registered
outbound, for after the cutover); rows that arrive from the monolith carry the monolith's
version, under the monolith's table name.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from extracted.catalog.catalog.models import Product, StockLevel
from extracted.catalog.catalog.services import product_update
from strangler.sync.models import RowVersion
from tests.extracted.catalog.factories import make_product
from tests.extracted.catalog.processes import fresh_database, manage, project_env
from tests.strangler.sync.factories import signed_post

WANT = {"HTTP_X_STRANGLER_WANT_VERSIONS": "1"}
HEADER = "X-Strangler-Data-Versions"


def _stock_id(product: Product) -> int:
    return StockLevel.objects.get(product=product).pk


def test_a_product_detail_names_its_stock_level_by_the_monolith_table(anon_api):
    product = make_product(name="Kettle")

    response = anon_api.get(f"/api/v1/products/{product.pk}/", **WANT)

    assert response.status_code == 200
    # The stock level is a mirror no trigger versions here: version 0 until the sync sets one.
    assert response[HEADER] == (
        f"catalog_product:{product.pk}=1,inventory_stocklevel:{_stock_id(product)}=0"
    )


def test_a_list_page_lists_every_row_on_the_page(anon_api):
    products = [make_product(name=f"Kettle {n}") for n in range(3)]
    product_update(product=products[2], price=Decimal("3.00"))

    response = anon_api.get("/api/v1/products/", **WANT)

    entries = dict(entry.split("=") for entry in response[HEADER].split(","))
    assert entries == {
        **{f"catalog_product:{p.pk}": "1" for p in products},
        f"catalog_product:{products[2].pk}": "2",
        **{f"inventory_stocklevel:{_stock_id(p)}": "0" for p in products},
    }


def test_a_product_without_a_stock_level_yet_lists_only_itself(anon_api):
    product = make_product(name="Kettle", stock=None)

    response = anon_api.get(f"/api/v1/products/{product.pk}/", **WANT)

    assert response[HEADER] == f"catalog_product:{product.pk}=1"


# The monolith's side, run as its own process on a fresh database: a product written and
# repriced, the stream's next batch exactly as the relay reads it, and the monolith's own
# answer to a detail request asking for versions.
_MONOLITH_SIDE = """
import json
from decimal import Decimal
from django.test import Client
from django.test.utils import setup_test_environment
from monolith.catalog.models import Product
from monolith.catalog.services import product_update
from monolith.inventory.models import StockLevel
from strangler.sync.changelog import batch_read
from strangler.sync.position import Position
from strangler.sync.schema import send_tables
from strangler.sync.wire import ApplyRequest, dumps

setup_test_environment()
product = Product.objects.create(name="Kettle", slug="kettle", sku="KT-1", price=Decimal("10"))
StockLevel.objects.create(product=product, on_hand=4)
product_update(product=product, price=Decimal("12.50"))
tables = send_tables("catalog")
batch = batch_read(after=Position(xid=0, seq=0), tables=tables, limit=1000)
columns = {t.table: t.columns for t in tables if any(c.table == t.table for c in batch.changes)}
apply = ApplyRequest(source="monolith", start=batch.start, end=batch.end, columns=columns,
                     changes=batch.changes, heartbeat_at=batch.heartbeat_at)
answer = Client().get(f"/api/v1/products/{product.pk}/", HTTP_X_STRANGLER_WANT_VERSIONS="1")
print(json.dumps({"pk": product.pk, "apply": json.loads(dumps(apply.as_json())),
                  "header": answer["X-Strangler-Data-Versions"]}))
"""


@pytest.mark.e2e
def test_after_the_sync_applies_a_change_both_nodes_list_the_same_versions(
    anon_api, tmp_path: Path
):
    # Given the monolith's product, written twice, and the batch its relay would send
    with fresh_database("versions_monolith", tmp_path) as url:
        env = project_env(
            var_dir=tmp_path / "monolith", DJANGO_SETTINGS_MODULE="monolith.settings",
            DATABASE_URL=url, STRANGLER_SERVICE="monolith",
        )  # fmt: skip
        manage("monolith", "migrate", "--noinput", env=env)
        monolith = json.loads(
            manage("monolith", "shell", "-c", _MONOLITH_SIDE, env=env).strip().splitlines()[-1]
        )
    # When the service receives it on its apply endpoint
    applied = signed_post(
        Client(),
        "/internal/sync/apply",
        monolith["apply"],
        secret=settings.STRANGLER_SYNC["secret"],
        sender="monolith",
        receiver="catalog",
    )
    assert applied.status_code == 200, applied.content
    assert applied.json()["dead_lettered"] == 0
    # Then both answers list the same keys at the same versions
    response = anon_api.get(f"/api/v1/products/{monolith['pk']}/", **WANT)
    assert response[HEADER] == monolith["header"]
    assert f"catalog_product:{monolith['pk']}=2," in response[HEADER]
    assert "inventory_stocklevel:" in response[HEADER]
    assert RowVersion.objects.filter(table_name="catalog_stocklevel").count() == 1
