"""Inventory reads."""

from __future__ import annotations

from monolith.catalog.models import Product
from monolith.core.errors import NotFound
from monolith.inventory.models import StockLevel

__all__ = ["stock_level_get"]


def stock_level_get(*, product_id: int) -> StockLevel:
    """The stock level of any product, active or not.

    A product without a stock row (made outside ``product_create``) has nothing on hand: it
    gets an unsaved level of zeros, whose ``updated_at`` is None until the first count.
    """
    level = StockLevel.objects.filter(product_id=product_id).first()
    if level is not None:
        return level
    if not Product.objects.filter(pk=product_id).exists():
        raise NotFound(f"No product with id {product_id}.")
    return StockLevel(product_id=product_id, on_hand=0, reserved=0)
