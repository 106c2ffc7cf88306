"""Fixtures for side-by-side tests: the monolith and the catalog service running for real,
and a ``side_by_side`` that sends a request to both and fails with a field-level diff.

    def test_the_product_list_is_the_same(side_by_side):
        side_by_side.assert_same("GET", "/api/v1/products/?page=2", caller="alice")

Run them as their own target: ``pytest tests/sidebyside`` (no Django settings: every
Django project here runs only as a process).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from strangler.compare import RuleBook, parse_rules
from tests.sidebyside.harness import SideBySide, Sides
from tests.sidebyside.services import PUBLIC_HOST, Pair, catalog_pair, credentials

# The rules the catalog service is held to: every header a client acts on is compared,
# and a price or a stock figure is never explained away as noise.
CATALOG_RULES = {
    "critical": ["**.price", "**.stock_available", "**.in_stock"],
    "headers": {
        "compare": [
            "content-type",
            "allow",
            "www-authenticate",
            "vary",
            "cache-control",
            "content-language",
            "x-frame-options",
            "x-content-type-options",
            "referrer-policy",
            "cross-origin-opener-policy",
        ]
    },
}


@pytest.fixture(scope="session")
def catalog_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    with catalog_pair(tmp_path_factory.mktemp("sidebyside")) as pair:
        yield pair


@pytest.fixture(scope="session")
def side_by_side(catalog_services: Pair) -> SideBySide:
    return SideBySide(
        Sides(catalog_services.monolith, catalog_services.catalog, "monolith", "catalog"),
        rules=RuleBook(parse_rules(CATALOG_RULES)),
        credentials=credentials,
        host=PUBLIC_HOST,
    )
