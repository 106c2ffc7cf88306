"""The demo's orders with their lines, reservations and status histories, computed from the
seed and the planned customers and products: no database is read.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings

from monolith.accounts.models import User
from monolith.core.demo_data.plans import _CustomerPlan, _moment, _ProductPlan, _stream
from monolith.core.demo_data.scale import DemoScale
from monolith.inventory.models import Reservation
from monolith.orders.models import Order, OrderLine, OrderStatusChange

__all__ = ["demo_order_number"]

_STATUS = Order.Status
# Weights of each status among generated orders, in percent.
_STATUS_MIX: dict[str, int] = {
    _STATUS.PENDING: 12,
    _STATUS.PAID: 18,
    _STATUS.SHIPPED: 15,
    _STATUS.DELIVERED: 45,
    _STATUS.CANCELLED: 10,
}
_HOLDS_STOCK: frozenset[str] = frozenset({_STATUS.PENDING, _STATUS.PAID})
_RESERVATION_STATUS: dict[str, str] = {
    _STATUS.PENDING: Reservation.Status.ACTIVE,
    _STATUS.PAID: Reservation.Status.ACTIVE,
    _STATUS.SHIPPED: Reservation.Status.FULFILLED,
    _STATUS.DELIVERED: Reservation.Status.FULFILLED,
    _STATUS.CANCELLED: Reservation.Status.RELEASED,
}
# How long ago (in hours) an order of each status was placed: pending ones are fresh,
# delivered ones old enough for the whole history to fit before the demo clock.
_PLACED_HOURS_AGO: dict[str, tuple[int, int]] = {
    _STATUS.PENDING: (1, 72),
    _STATUS.PAID: (2, 7 * 24),
    _STATUS.SHIPPED: (3 * 24, 14 * 24),
    _STATUS.DELIVERED: (10 * 24, 365 * 24),
    _STATUS.CANCELLED: (2 * 24, 365 * 24),
}


def demo_order_number(*, index: int) -> str:
    """Fixed width, so the demo orders are one range of the unique index."""
    return f"DEMO-{index:06d}"


@dataclass
class _OrderPlan:
    order: Order
    lines: list[OrderLine] = field(default_factory=list)
    reservations: list[Reservation] = field(default_factory=list)
    history: list[OrderStatusChange] = field(default_factory=list)


def _orders_plan(
    *,
    scale: DemoScale,
    seed: int,
    staff: User,
    customers: list[_CustomerPlan],
    catalogue: list[_ProductPlan],
) -> list[_OrderPlan]:
    """Orders in every status; pending and paid ones reserve units, within what is on hand.

    The first ten go to alice and bob, one of each status each, so a demo login sees them all.
    """
    rng = _stream(seed, "orders")
    statuses = list(_STATUS_MIX)
    weights = list(_STATUS_MIX.values())
    plans: list[_OrderPlan] = []
    for index in range(1, scale.orders + 1):
        if index <= 2 * len(statuses):
            customer = customers[(index - 1) // len(statuses)]
            status = statuses[(index - 1) % len(statuses)]
        else:
            customer = rng.choice(customers)
            status = rng.choices(statuses, weights)[0]
        picks = _order_picks(rng, catalogue=catalogue, holds_stock=status in _HOLDS_STOCK)
        if not picks:  # nothing left to reserve in a tiny catalogue: a cancelled order, then
            status = _STATUS.CANCELLED
            picks = _order_picks(rng, catalogue=catalogue, holds_stock=False)
        plans.append(
            _order_plan(
                rng,
                number=demo_order_number(index=index),
                status=status,
                staff=staff,
                customer=customer,
                picks=picks,
            )
        )
    return plans


def _order_picks(
    rng: random.Random, *, catalogue: list[_ProductPlan], holds_stock: bool
) -> list[tuple[_ProductPlan, int]]:
    """One to four (product, quantity) pairs, popular (low-numbered) products more often.

    An order that holds stock takes only active products with the units free; it may come
    back empty. Past orders may name products since retired or sold out.
    """
    wanted = rng.choice((1, 1, 1, 2, 2, 3, 4))
    picks: dict[int, tuple[_ProductPlan, int]] = {}
    for _ in range(4 * wanted):
        product = catalogue[int(len(catalogue) * rng.random() ** 2)]
        quantity = rng.choice((1, 1, 1, 2, 3))
        free = product.is_active and product.on_hand - product.reserved >= quantity
        if product.pk not in picks and (free or not holds_stock):
            picks[product.pk] = (product, quantity)
            if len(picks) == wanted:
                break
    return list(picks.values())


def _order_plan(
    rng: random.Random,
    *,
    number: str,
    status: str,
    staff: User,
    customer: _CustomerPlan,
    picks: list[tuple[_ProductPlan, int]],
) -> _OrderPlan:
    address = customer.address
    placed = _moment(rng, hours_ago=_PLACED_HOURS_AGO[status])
    order = Order(
        number=number,
        user=customer.user,
        status=status,
        currency=str(settings.STOREFRONT_CURRENCY),
        total=sum((product.price * quantity for product, quantity in picks), Decimal("0.00")),
        shipping_name=address.full_name,
        shipping_line1=address.line1,
        shipping_line2=address.line2,
        shipping_city=address.city,
        shipping_postal_code=address.postal_code,
        shipping_country=address.country,
        placed_at=placed,
    )
    plan = _OrderPlan(order=order)
    at, previous = placed, ""
    for to_status, actor, note, max_minutes in _order_steps(rng, status=status):
        at += timedelta(minutes=rng.randint(1, max_minutes)) if previous else timedelta(0)
        plan.history.append(
            OrderStatusChange(
                order=order,
                from_status=previous,
                to_status=to_status,
                actor={"customer": customer.user, "staff": staff}.get(actor),
                note=note,
                at=at,
            )
        )
        order.paid_at = at if to_status == _STATUS.PAID else order.paid_at
        order.cancelled_at = at if to_status == _STATUS.CANCELLED else order.cancelled_at
        previous = to_status
    order.updated_at = at
    reservation_status = _RESERVATION_STATUS[status]
    for product, quantity in picks:
        plan.lines.append(
            OrderLine(
                order=order,
                product_id=product.pk,
                sku=product.sku,
                product_name=product.name,
                unit_price=product.price,
                quantity=quantity,
                line_total=product.price * quantity,
            )
        )
        plan.reservations.append(
            Reservation(
                order=order,
                product_id=product.pk,
                quantity=quantity,
                status=reservation_status,
                created_at=placed,
                # Settled (fulfilled or released) by the order's last step; active ones untouched.
                updated_at=at if status not in _HOLDS_STOCK else placed,
            )
        )
        if reservation_status == Reservation.Status.ACTIVE:
            product.reserved += quantity
    return plan


def _order_steps(rng: random.Random, *, status: str) -> list[tuple[str, str, str, int]]:
    """The transitions that led to ``status``: (to, actor, note, longest delay in minutes)."""
    steps: list[tuple[str, str, str, int]] = [(_STATUS.PENDING, "customer", "order placed", 0)]
    cancelled_after_payment = status == _STATUS.CANCELLED and rng.random() < 0.4
    if status in (_STATUS.PAID, _STATUS.SHIPPED, _STATUS.DELIVERED) or cancelled_after_payment:
        steps.append((_STATUS.PAID, "customer", "payment succeeded", 30))
    if status in (_STATUS.SHIPPED, _STATUS.DELIVERED):
        steps.append((_STATUS.SHIPPED, "staff", "handed to the carrier", 2 * 24 * 60))
    if status == _STATUS.DELIVERED:
        steps.append((_STATUS.DELIVERED, "carrier", "delivered", 4 * 24 * 60))
    if status == _STATUS.CANCELLED:
        who = rng.choice(("customer", "staff"))
        steps.append((_STATUS.CANCELLED, who, f"cancelled by {who}", 24 * 60))
    return steps
