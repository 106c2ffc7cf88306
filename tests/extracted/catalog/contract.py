"""What the monolith and the service must agree on: the catalog paths, one data set that both
load, and the requests both must answer byte for byte alike.

The data set is deliberately awkward: ids with gaps (the monolith's, kept by the sync),
names equal but for case, non-ASCII text, equal prices (ties broken by id), a product with
no stock level, inactive products, a category three levels deep and one left empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

__all__ = [
    "CATALOG_PATHS",
    "CATEGORIES",
    "PRODUCTS",
    "STOCK_LEVELS",
    "Request",
    "fixture",
    "read_corpus",
    "refused_write_corpus",
    "staff_invalid_write_corpus",
]

CATALOG_PATHS = {
    "/api/v1/categories/",
    "/api/v1/categories/{id}/",
    "/api/v1/products/",
    "/api/v1/products/{id}/",
    "/api/v1/products/by-slug/{slug}/",
}

_EPOCH = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def _time(offset: int) -> str:
    return (_EPOCH + timedelta(hours=offset, microseconds=offset * 137)).isoformat()


# (id, name, slug, parent id)
_CATEGORY_ROWS = [
    (3, "Kitchen", "kitchen", None),
    (7, "Appliances", "appliances", 3),
    (12, "Kettles", "kettles", 7),
    (20, "apparel", "apparel", None),
    (21, "Zubehör & Co", "zubehor", 20),
    (40, "Empty shelf", "empty-shelf", None),
]
CATEGORIES: list[dict[str, Any]] = [
    {
        "id": pk,
        "name": name,
        "slug": slug,
        "description": f"All things {name.lower()}.\nSecond line: «quoted».",
        "parent": parent,
        "created_at": _time(n),
        "updated_at": _time(n + 1),
    }
    for n, (pk, name, slug, parent) in enumerate(_CATEGORY_ROWS)
]

_NAMES = ["Kettle", "kettle", "Toaster", "Ünïcode mug", 'Mug "quoted"', "Zebra print apron"]
_PRICES = ["0.00", "1.50", "9.99", "9.99", "10.00", "1234567.89", "42.10"]
_CATEGORY_CYCLE = [3, 7, 12, 20, 21, None]
PRODUCT_COUNT = 45
PRODUCTS: list[dict[str, Any]] = [
    {
        "id": 100 + 3 * i,
        "name": f"{_NAMES[i % len(_NAMES)]} {i // (2 * len(_NAMES))}",  # each name twice
        "slug": f"item-{i}",
        "sku": f"{'sku' if i % 4 == 0 else 'SKU'}-{i:04d}",
        "description": "" if i % 5 == 0 else f"Product {i} — “curly” quotes & <tags>.",
        "price": _PRICES[i % len(_PRICES)],
        "currency": "EUR" if i % 9 else "USD",
        "category": _CATEGORY_CYCLE[i % len(_CATEGORY_CYCLE)],
        "is_active": i % 7 != 3,
        "created_at": _time(100 - i if i % 2 else 100 + i),
        "updated_at": _time(200 + i),
    }
    for i in range(PRODUCT_COUNT)
]
# Every sixth product has no stock level: it answers stock_available 0.
STOCK_LEVELS: list[dict[str, Any]] = [
    {
        "id": 500 + i,
        "product": product["id"],
        "on_hand": i % 5,
        "reserved": min(i % 3, i % 5),
        "updated_at": _time(300 + i),
    }
    for i, product in enumerate(PRODUCTS)
    if i % 6 != 5
]


def fixture(*, stock_model: str) -> list[dict[str, Any]]:
    """The data set as a Django fixture; ``stock_model`` is each project's stock level model."""
    rows: list[dict[str, Any]] = []
    for model, items in (
        ("catalog.category", CATEGORIES),
        ("catalog.product", PRODUCTS),
        (stock_model, STOCK_LEVELS),
    ):
        rows += [
            {
                "model": model,
                "pk": item["id"],
                "fields": {k: v for k, v in item.items() if k != "id"},
            }
            for item in items
        ]
    return rows


@dataclass(frozen=True)
class Request:
    """One request of the corpus, made as ``caller`` (None: anonymous)."""

    method: str
    path: str
    caller: str | None = None
    body: dict[str, Any] | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.path} as {self.caller or 'anonymous'}"


def _some(active: bool) -> dict[str, Any]:
    return next(p for p in PRODUCTS if p["is_active"] is active)


def read_corpus() -> list[Request]:
    """Safe requests (GET, HEAD, OPTIONS), each as anonymous, a customer and staff."""
    active, inactive = _some(True), _some(False)
    price = Decimal(active["price"])
    reads = [
        "/api/v1/categories/",
        "/api/v1/categories/?page_size=2",
        "/api/v1/categories/?page=2&page_size=4",
        "/api/v1/categories/?page=9",
        "/api/v1/categories/?page=zero",
        "/api/v1/categories/12/",
        "/api/v1/categories/999999/",
        "/api/v1/products/",
        "/api/v1/products/?page=2",
        "/api/v1/products/?page=3",
        "/api/v1/products/?page=99",
        "/api/v1/products/?page_size=7&page=3",
        "/api/v1/products/?page_size=500",
        "/api/v1/products/?page_size=0",
        "/api/v1/products/?category=3",
        "/api/v1/products/?category=12&page_size=3",
        "/api/v1/products/?category=40",
        "/api/v1/products/?category=999999",
        "/api/v1/products/?category=kettles",
        "/api/v1/products/?category_slug=apparel",
        "/api/v1/products/?category_slug=nope",
        f"/api/v1/products/?min_price={price}&max_price=100",
        "/api/v1/products/?min_price=9.99&ordering=-price",
        "/api/v1/products/?max_price=cheap",
        "/api/v1/products/?in_stock=true",
        "/api/v1/products/?in_stock=false&ordering=sku",
        "/api/v1/products/?in_stock=yes",
        "/api/v1/products/?is_active=false",
        "/api/v1/products/?search=KETTLE",
        "/api/v1/products/?search=sku-00",
        "/api/v1/products/?search=%C3%BCn%C3%AFcode",
        "/api/v1/products/?search=%20%20",
        "/api/v1/products/?ordering=price",
        "/api/v1/products/?ordering=-price&page=2",
        "/api/v1/products/?ordering=sku",
        "/api/v1/products/?ordering=-sku",
        "/api/v1/products/?ordering=created_at",
        "/api/v1/products/?ordering=-created_at",
        "/api/v1/products/?ordering=-name",
        "/api/v1/products/?ordering=stock",
        # Spellings int() and Decimal() read, the schema's types do not (strict_filters).
        "/api/v1/products/?in_stock=TRUE",
        "/api/v1/products/?min_price=1_0",
        "/api/v1/products/?category=%2B3",
        "/api/v1/products/?page=%2B1",
        "/api/v1/products/?page=last",
        "/api/v1/products/?category=3&max_price=50&search=e&ordering=-price&page_size=2",
        f"/api/v1/products/{active['id']}/",
        f"/api/v1/products/{inactive['id']}/",
        f"/api/v1/products/{PRODUCTS[5]['id']}/",
        "/api/v1/products/999999/",
        f"/api/v1/products/by-slug/{active['slug']}/",
        f"/api/v1/products/by-slug/{inactive['slug']}/",
        "/api/v1/products/by-slug/no-such-thing/",
        "/api/v1/products/by-slug/item-1/?search=ignored",
        "/api/v1/no-such-endpoint/",
        "/api/v1/products",
    ]
    others = [
        Request("HEAD", "/api/v1/products/?ordering=-price"),
        Request("OPTIONS", "/api/v1/categories/"),
        Request("OPTIONS", "/api/v1/categories/12/"),
        Request("OPTIONS", "/api/v1/products/"),
        Request("OPTIONS", f"/api/v1/products/{active['id']}/"),
        Request("OPTIONS", f"/api/v1/products/by-slug/{active['slug']}/"),
    ]
    return [
        Request(request.method, request.path, caller)
        for caller in (None, "alice", "stella")
        for request in [*(Request("GET", path) for path in reads), *others]
    ]


def refused_write_corpus() -> list[Request]:
    """Writes that callers who are not staff may not make: nothing changes on either side."""
    product = f"/api/v1/products/{PRODUCTS[0]['id']}/"
    writes = [
        Request("POST", "/api/v1/categories/", body={"name": "Nope"}),
        Request("PATCH", "/api/v1/categories/12/", body={"name": "Nope"}),
        Request("DELETE", "/api/v1/categories/40/"),
        Request("POST", "/api/v1/products/", body={"name": "Nope", "sku": "N", "price": "1"}),
        Request("PUT", product, body={"name": "Nope", "sku": "N", "price": "1"}),
        Request("PATCH", product, body={"price": "0.01"}),
        Request("DELETE", product),
    ]
    return [Request(w.method, w.path, caller, w.body) for caller in (None, "alice") for w in writes]


def staff_invalid_write_corpus() -> list[Request]:
    """Staff writes refused for their content: nothing changes on either side."""
    taken = PRODUCTS[1]
    product = f"/api/v1/products/{PRODUCTS[0]['id']}/"
    return [
        Request("POST", "/api/v1/categories/", "stella", {}),
        Request("POST", "/api/v1/categories/", "stella", {"name": "X", "slug": "kitchen"}),
        Request("POST", "/api/v1/categories/", "stella", {"name": "X", "parent": 999999}),
        Request("PATCH", "/api/v1/categories/3/", "stella", {"parent": 12}),
        Request("PATCH", "/api/v1/categories/3/", "stella", {"parent": 3}),
        Request("DELETE", "/api/v1/categories/3/", "stella"),
        Request("DELETE", "/api/v1/categories/999999/", "stella"),
        Request("POST", "/api/v1/products/", "stella", {}),
        Request(
            "POST",
            "/api/v1/products/",
            "stella",
            {"name": "X", "sku": taken["sku"], "slug": taken["slug"], "price": "1.005"},
        ),
        Request(
            "POST",
            "/api/v1/products/",
            "stella",
            {"name": "X", "sku": "NEW", "price": "-1", "currency": "eur", "stock": -1},
        ),
        Request("POST", "/api/v1/products/", "stella", {"name": "X", "sku": "N", "price": "x"}),
        Request("PATCH", product, "stella", {"stock": 50}),
        Request("PATCH", product, "stella", {"category": 999999, "is_active": "maybe"}),
        Request("PUT", product, "stella", {"name": "Only a name"}),
        Request("PATCH", "/api/v1/products/999999/", "stella", {"price": "1.00"}),
        # JSON values of another type than the schema's (strict_fields).
        Request("POST", "/api/v1/categories/", "stella", {"name": "X", "description": 0}),
        Request("POST", "/api/v1/categories/", "stella", {"name": "X", "parent": "3"}),
        Request("POST", "/api/v1/products/", "stella", {"name": "X", "sku": "N", "price": "1e2"}),
        Request(
            "POST",
            "/api/v1/products/",
            "stella",
            {"name": "X", "sku": "N", "price": "1", "stock": "2", "is_active": 1},
        ),
        Request("PATCH", product, "stella", {"is_active": 0}),
    ]
