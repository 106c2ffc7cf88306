"""How big the demo is: the named sizes, and the customers and orders a catalogue gets."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEMO_SIZES", "MAX_PRODUCTS", "DemoScale", "demo_scale"]

DEMO_SIZES = {"small": 200, "medium": 5_000, "large": 100_000}
# SKU-0000001 and DEMO-000001 are fixed width, so each kind of demo row is one range of its
# unique index; ten times "large" leaves both formats room.
MAX_PRODUCTS = 1_000_000


@dataclass(frozen=True)
class DemoScale:
    products: int
    customers: int  # alice and bob included
    orders: int


def demo_scale(*, products: int) -> DemoScale:
    """How many customers and orders go with a catalogue of ``products``."""
    return DemoScale(products=products, customers=2 + products // 20, orders=max(10, products // 5))
