"""The two sides that serve the catalog's contract: the monolith and the catalog service.

A contract test names what it needs through a ``CatalogSide`` (models, factories, the
catalog's services and selectors, its error root, an API client per caller) and runs against
the side whose settings pytest loaded: ``make test-monolith`` runs the suite with
``--ds=monolith.settings``, ``make test-catalog`` with ``--ds=extracted.catalog.settings``.
Each side's modules are imported only when that side is loaded: the other's apps are not
installed, and the two code bases never import each other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from rest_framework.test import APIClient

__all__ = ["CatalogSide", "side_for"]


@dataclass(frozen=True)
class CatalogSide:
    name: str
    Category: type[Any]
    Product: type[Any]
    # The stock level a product is served with: the monolith's own, the service's mirror.
    StockLevel: type[Any]
    make_category: Callable[..., Any]
    # make_product(*, name, price, stock, reserved, category, **fields): a product with a
    # stock level of ``stock`` units, ``reserved`` of them reserved.
    make_product: Callable[..., Any]
    services: ModuleType
    selectors: ModuleType
    error_root: type[Exception]
    conflict: type[Exception]
    # Queries the side spends to know who is asking: the monolith looks the token up, the
    # service reads the proxy's signed header.
    identity_queries: int
    # An API client for a caller: "anon", "customer", "other" (another customer) or "staff".
    client_for: Callable[[str], APIClient]
    test_settings: Mapping[str, Any]


def _monolith() -> CatalogSide:
    from monolith.catalog import selectors, services
    from monolith.catalog.models import Category, Product
    from monolith.core.errors import Conflict, StorefrontError
    from monolith.inventory.models import StockLevel
    from tests.monolith.clients import client_for
    from tests.monolith.factories import (
        FAST_PASSWORD_HASHERS,
        make_category,
        make_product,
        make_user,
    )

    users = {
        "customer": {"username": "alice"},
        "other": {"username": "bob"},
        "staff": {"username": "stella", "is_staff": True},
    }

    def monolith_client(caller: str) -> APIClient:
        return client_for(make_user(**users[caller]) if caller != "anon" else None)

    return CatalogSide(
        name="monolith",
        Category=Category,
        Product=Product,
        StockLevel=StockLevel,
        make_category=make_category,
        make_product=make_product,
        services=services,
        selectors=selectors,
        error_root=StorefrontError,
        conflict=Conflict,
        identity_queries=1,
        client_for=monolith_client,
        test_settings={"PASSWORD_HASHERS": FAST_PASSWORD_HASHERS},
    )


def _catalog() -> CatalogSide:
    from extracted.catalog.catalog import selectors, services
    from extracted.catalog.catalog.models import Category, Product, StockLevel
    from extracted.catalog.core.errors import CatalogError, Conflict
    from tests.extracted.catalog.factories import make_category, make_product
    from tests.extracted.catalog.identities import ALICE, BOB, STELLA, client_for

    identities = {"anon": None, "customer": ALICE, "other": BOB, "staff": STELLA}

    def service_client(caller: str) -> APIClient:
        return client_for(identities[caller])

    return CatalogSide(
        name="catalog",
        Category=Category,
        Product=Product,
        StockLevel=StockLevel,
        make_category=make_category,
        make_product=make_product,
        services=services,
        selectors=selectors,
        error_root=CatalogError,
        conflict=Conflict,
        identity_queries=0,
        client_for=service_client,
        test_settings={},
    )


_SIDES = {"monolith.settings": _monolith, "extracted.catalog.settings": _catalog}


def side_for(settings_module: str) -> CatalogSide:
    """The side that ``settings_module`` (pytest's ``--ds``) configures."""
    try:
        return _SIDES[settings_module]()
    except KeyError:
        raise LookupError(
            f"the catalog contract runs with --ds={' or --ds='.join(_SIDES)}, not {settings_module}"
        ) from None
