"""Stock writes. Reservation is one conditional UPDATE per product, so it is race-free on any
database: the row lock (PostgreSQL) or the write lock (SQLite, BEGIN IMMEDIATE) serialises
buyers, and the ``WHERE on_hand >= reserved + n`` re-check lets exactly the ones who fit win.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from monolith.catalog.models import Product
from monolith.core.errors import Conflict, OutOfStock
from monolith.inventory.models import Reservation, StockLevel
from monolith.orders.models import Order

__all__ = ["stock_fulfil", "stock_level_set", "stock_release", "stock_reserve"]


def stock_reserve(*, order: Order, quantities: Mapping[int, int]) -> list[Reservation]:
    """Reserve ``quantities`` (product id to units) for ``order``; all or nothing.

    Must run inside the caller's transaction (the one that creates the order), so a failure
    on the third product undoes the first two. Products are locked in id order, so two
    orders over the same products cannot deadlock on PostgreSQL.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("stock_reserve must run inside transaction.atomic()")
    for product_id in sorted(quantities):
        wanted = quantities[product_id]
        updated = StockLevel.objects.filter(
            product_id=product_id, on_hand__gte=F("reserved") + wanted
        ).update(reserved=F("reserved") + wanted)
        if updated == 0:
            level = StockLevel.objects.filter(product_id=product_id).first()
            available = level.available if level else 0
            raise OutOfStock(
                f"Only {available} of product {product_id} available; {wanted} requested.",
                product_id=product_id,
                requested=wanted,
                available=available,
            )
    return Reservation.objects.bulk_create(
        Reservation(order=order, product_id=pid, quantity=qty)
        for pid, qty in sorted(quantities.items())
    )


def _settle(*, order: Order, to_status: str, consume_on_hand: bool) -> int:
    """Move the order's active reservations to ``to_status``; returns how many moved."""
    reservations = list(
        Reservation.objects.select_for_update()
        .filter(order=order, status=Reservation.Status.ACTIVE)
        .order_by("product_id")
    )
    for reservation in reservations:
        changes = {"reserved": F("reserved") - reservation.quantity}
        if consume_on_hand:
            changes["on_hand"] = F("on_hand") - reservation.quantity
        StockLevel.objects.filter(product_id=reservation.product_id).update(**changes)
        reservation.status = to_status
        reservation.updated_at = timezone.now()  # bulk_update skips auto_now
    Reservation.objects.bulk_update(reservations, ["status", "updated_at"])
    return len(reservations)


@transaction.atomic
def stock_release(*, order: Order) -> int:
    """Give back what ``order`` reserved (the order was cancelled). Idempotent."""
    return _settle(order=order, to_status=Reservation.Status.RELEASED, consume_on_hand=False)


@transaction.atomic
def stock_fulfil(*, order: Order) -> int:
    """The reserved units left the warehouse (the order shipped). Idempotent."""
    return _settle(order=order, to_status=Reservation.Status.FULFILLED, consume_on_hand=True)


@transaction.atomic
def stock_level_set(*, product: Product, on_hand: int) -> StockLevel:
    """Set the units on hand after a count or a delivery; never below what is reserved."""
    level, _ = StockLevel.objects.select_for_update().get_or_create(product=product)
    if on_hand < level.reserved:
        raise Conflict(
            f"{level.reserved} units are reserved by open orders; on_hand cannot go below that.",
            code="stock_below_reserved",
            reserved=level.reserved,
        )
    level.on_hand = on_hand
    level.save(update_fields=["on_hand", "updated_at"])
    return level
