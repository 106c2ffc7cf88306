"""Builders for the catalog service's test data, overridable by keyword.

Stock levels are the monolith's, mirrored here by the sync; ``make_product`` writes the
mirror row directly, standing in for the sync.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from django.utils import timezone

from extracted.catalog.catalog.models import Category, Product, StockLevel

_seq = itertools.count(1)


def make_category(
    *, name: str | None = None, parent: Category | None = None, **fields: Any
) -> Category:
    n = next(_seq)
    name = name or f"Category {n}"
    fields.setdefault("slug", f"category-{n}")
    return Category.objects.create(name=name, parent=parent, **fields)


def make_product(
    *,
    name: str | None = None,
    price: Decimal | str = "10.00",
    stock: int | None = 10,
    reserved: int = 0,
    category: Category | None = None,
    **fields: Any,
) -> Product:
    """A product with a mirrored stock level (``stock=None``: none has arrived yet)."""
    n = next(_seq)
    name = name or f"Product {n}"
    fields.setdefault("slug", f"product-{n}")
    fields.setdefault("sku", f"SKU-{n:06d}")
    product = Product.objects.create(name=name, price=Decimal(price), category=category, **fields)
    if stock is not None:
        mirror_stock(product=product, on_hand=stock, reserved=reserved)
    return product


def mirror_stock(*, product: Product, on_hand: int, reserved: int = 0) -> StockLevel:
    """What the sync does when the monolith's stock level of ``product`` changes."""
    level, _ = StockLevel.objects.update_or_create(
        product=product,
        defaults={"on_hand": on_hand, "reserved": reserved, "updated_at": timezone.now()},
    )
    return level
