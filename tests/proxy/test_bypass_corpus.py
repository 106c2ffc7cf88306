"""Bypass attempts against the catalog extraction's table, judged by Django's own resolver:
whatever spelling a client uses, the upstream the proxy picks is the owner of the view that
the forwarded (canonical) path resolves to in the monolith."""

from __future__ import annotations

import os

import django
import pytest
from django.urls import Resolver404, resolve

from strangler.proxy.config import parse_table_config
from strangler.proxy.errors import PathRejected
from strangler.proxy.normalise import decoded_path, normalise_path
from strangler.proxy.routing import RouteTable

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monolith.settings")
django.setup()

UPSTREAMS = {
    "monolith": {"url": "http://127.0.0.1:8100"},
    "catalog": {"url": "http://127.0.0.1:8200"},
}


def _service(name: str, **pattern: str) -> dict[str, str]:
    return {"name": name, "owner": "catalog", "mode": "service", **pattern}


# The catalog routes moved to the service, two ways of writing the table.
TABLES = {
    "by-prefix": [
        _service("products", prefix="/api/v1/products/"),
        _service("categories", prefix="/api/v1/categories/"),
    ],
    "by-pattern": [
        _service("product-list", path="/api/v1/products/"),
        _service("product-detail", path="/api/v1/products/<int:pk>/"),
        _service("product-slug", path="/api/v1/products/by-slug/<slug:slug>/"),
        _service("category-list", path="/api/v1/categories/"),
        _service("category-detail", path="/api/v1/categories/<int:pk>/"),
    ],
}
CORPUS = [
    "/api/v1/products/",
    "/api/v1/products/1/",
    "/api/v1/orders/",
    "/api/v1/orders/../products/",
    "/api/v1/products/../orders/",
    "/api/v1/products/1/../../orders/",
    "/api/v1/%2e%2e/v1/orders/",
    "/api/v1/products/%2e%2e/orders/",
    "/api/v1/products/%2E%2E/%2E%2E/v1/orders/",
    "/api/v1/products/.%2e/orders/",
    "//api/v1/orders/",
    "/api//v1/products//1/",
    "///api/v1/products/",
    "/api/v1/./products/",
    "/api/v1/product%73/",
    "/api/v1/%6frders/",
    "/api/v1/products;x=1/",
    "/api/v1/orders;/",
    "/api/v1/products/1;/",
    "/API/v1/products/",
    "/api/V1/orders/",
    "/api/v1/Products/",
    "/api/v1/products",
    "/api/v1/orders",
    "/api/v1/products/1",
    "/api/v1/categories",
    "/api/v1/products/by-slug/red-shoe/",
    "/api/v1/products/by-slug/../../orders/",
    "/api/v1/products/%31/",
    "/api/v1/products/+1/",
    "/api/v1/products/-1/",
    "/api/v1/products/1%20/",
    "/api/v1/products/%2F/",
    "/api/v1/orders%2F..%2Fproducts/",
    "/api/v1/products%5C..%5Corders/",
    "/api/v1/products/%00/",
    "/api/v1/products\\..\\orders/",
    "/api/v1/products/%/",
    "/admin/",
    "/admin/../api/v1/products/",
    "/internal/identity/resolve",
]


def _expected_owner(path: str) -> str | None:
    """Who serves ``path`` in the monolith's own URLconf: None when it resolves to nothing."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return "catalog" if match.namespace == "catalog-api" else "monolith"


def _proxy_owner(table: RouteTable, method: str, path: str) -> str:
    route = table.match(method, path)
    return (
        route.config.owner if route is not None and route.config.mode == "service" else table.legacy
    )


@pytest.mark.parametrize("table_name", sorted(TABLES))
@pytest.mark.parametrize("raw", CORPUS)
def test_no_spelling_reaches_an_owner_the_table_does_not_give_it(table_name: str, raw: str) -> None:
    table = RouteTable(
        parse_table_config({"upstreams": UPSTREAMS, "routes": TABLES[table_name]}, source="t")
    )
    try:
        canonical = normalise_path(raw)
    except PathRejected:
        return  # answered 400: reaches nobody
    path = decoded_path(canonical)

    expected = _expected_owner(path)
    if expected is not None:
        assert _proxy_owner(table, "GET", path) == expected, (raw, canonical)
    elif not path.endswith("/") and _expected_owner(path + "/") is not None:
        # APPEND_SLASH: whoever answers redirects to the slashed path, which routes right.
        assert _proxy_owner(table, "GET", path + "/") == _expected_owner(path + "/")


@pytest.mark.parametrize(
    "raw", [p for p in CORPUS if "%2F" in p or "%5C" in p or "%00" in p or "\\" in p]
)
def test_encoded_separators_and_nul_are_refused(raw: str) -> None:
    with pytest.raises(PathRejected):
        normalise_path(raw)
