"""The catalog service under gunicorn, as it is deployed: real processes, its own database."""

from __future__ import annotations

import json
import re
import signal
from collections.abc import Iterator

import pytest
import requests

from strangler.identity import Identity
from tests.extracted.catalog.contract import PRODUCTS, fixture
from tests.extracted.catalog.identities import identity_header
from tests.extracted.catalog.processes import (
    Server,
    fresh_database,
    gunicorn,
    manage,
    project_env,
)
from tests.monolith.processes import wait_until

pytestmark = pytest.mark.e2e

SECRET = "e2e-identity-secret"
STAFF = Identity(user_id="1", username="stella", is_staff=True)
# A local request takes a few ms; 10 s only trips on a hung server.
TIMEOUT = 10


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("e2e-catalog")
    with fresh_database("e2e_catalog", tmp) as database_url:
        env = project_env(
            var_dir=tmp / "var", DJANGO_SETTINGS_MODULE="extracted.catalog.settings",
            CATALOG_DATABASE_URL=database_url, STRANGLER_SERVICE="catalog",
            STRANGLER_IDENTITY_SECRET=SECRET,
        )  # fmt: skip
        data = tmp / "catalog.json"
        data.write_text(json.dumps(fixture(stock_model="catalog.stocklevel")))
        manage("extracted.catalog", "migrate", "--noinput", env=env)
        manage("extracted.catalog", "loaddata", str(data), env=env)
        with gunicorn("extracted.catalog.wsgi", env=env, log=tmp / "gunicorn.log", workers=2) as s:
            yield s


def test_health_and_readiness_answer(server: Server) -> None:
    assert requests.get(f"{server.url}/healthz", timeout=TIMEOUT).json() == {"status": "ok"}
    assert requests.get(f"{server.url}/readyz", timeout=TIMEOUT).json()["status"] == "ok"


def test_the_request_id_comes_back_and_is_in_the_json_access_log(server: Server) -> None:
    response = requests.get(
        f"{server.url}/api/v1/products/", headers={"X-Request-ID": "e2e-catalog-0001"},
        timeout=TIMEOUT,
    )  # fmt: skip
    assert response.status_code == 200
    assert response.json()["count"] == sum(p["is_active"] for p in PRODUCTS)
    assert response.headers["X-Request-ID"] == "e2e-catalog-0001"

    def access_line_logged() -> bool:
        return any(
            entry.get("request_id") == "e2e-catalog-0001"
            and entry.get("status") == "200"
            and entry.get("service") == "catalog"
            for entry in server.log_entries()
        )

    wait_until(access_line_logged, deadline=10, what="the access log line")


def test_a_staff_identity_creates_a_product_that_every_worker_then_serves(server: Server) -> None:
    staff = {"X-Strangler-Identity": identity_header(STAFF, secret=SECRET)}
    created = requests.post(
        f"{server.url}/api/v1/products/",
        json={"name": "Gunicorn kettle", "sku": "E2E-1", "price": "19.90", "stock": 3},
        headers=staff, timeout=TIMEOUT,
    )  # fmt: skip
    assert created.status_code == 201, created.text

    # Two workers, fresh connections each time: the read is not answered from one's memory.
    for _ in range(4):
        read = requests.get(
            f"{server.url}/api/v1/products/by-slug/gunicorn-kettle/",
            headers={"Connection": "close"}, timeout=TIMEOUT,
        )  # fmt: skip
        assert read.json()["id"] == created.json()["id"]
        assert (read.json()["stock_available"], read.json()["in_stock"]) == (3, True)


def test_an_anonymous_write_is_refused(server: Server) -> None:
    response = requests.post(
        f"{server.url}/api/v1/categories/", json={"name": "Nope"}, timeout=TIMEOUT
    )

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_the_docs_page_and_its_assets_are_served_offline(server: Server) -> None:
    page = requests.get(f"{server.url}/api/docs/", timeout=TIMEOUT)
    assert page.status_code == 200
    stylesheet = re.search(r'href="(/static/[^"]+swagger-ui\.css)"', page.text)
    assert stylesheet, page.text[:500]

    asset = requests.get(f"{server.url}{stylesheet.group(1)}", timeout=TIMEOUT)

    assert asset.status_code == 200
    assert asset.headers["Content-Type"].startswith("text/css")


def test_sigterm_stops_the_server_cleanly(server: Server) -> None:
    # Last in the module: it ends the shared server.
    server.proc.send_signal(signal.SIGTERM)

    assert server.proc.wait(timeout=30) == 0
