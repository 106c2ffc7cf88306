"""Order writes: placing an order, and every change of its status.

The only transitions, all made by ``_order_transition`` under a row lock on the order:

    pending -> paid        the payment succeeded (payments app)
    pending -> cancelled   owner or staff; reserved stock goes back
    paid    -> shipped     staff; reserved stock leaves the warehouse
    paid    -> cancelled   owner or staff; the payment is refunded, stock goes back
    shipped -> delivered   staff
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from django.db import IntegrityError, transaction
from django.utils import timezone

from monolith.accounts.models import Address, User
from monolith.cart.models import MAX_LINE_QUANTITY, Cart, CartLine
from monolith.catalog.models import Product
from monolith.core.errors import Conflict, OrderStateConflict, StorefrontError
from monolith.inventory.services import stock_fulfil, stock_release, stock_reserve
from monolith.orders.models import Order, OrderLine, OrderStatusChange
from monolith.payments.models import Payment
from monolith.payments.refunds import payment_refund_for_order

__all__ = [
    "ALLOWED_TRANSITIONS",
    "ShippingAddress",
    "order_cancel",
    "order_deliver",
    "order_mark_paid",
    "order_place",
    "order_ship",
]

Status = Order.Status

ALLOWED_TRANSITIONS: Final[Mapping[str, frozenset[str]]] = {
    Status.PENDING: frozenset({Status.PAID, Status.CANCELLED}),
    Status.PAID: frozenset({Status.SHIPPED, Status.CANCELLED}),
    Status.SHIPPED: frozenset({Status.DELIVERED}),
    Status.DELIVERED: frozenset(),
    Status.CANCELLED: frozenset(),
}

# 10 symbols from 32 (no 0/O or 1/I, so a number survives being read out on the phone) give
# 50 bits: a collision among a million orders has odds of about 1 in 2,000, and is retried.
_NUMBER_ALPHABET: Final = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_NUMBER_ATTEMPTS: Final = 3
_CENT: Final = Decimal("0.01")


@dataclass(frozen=True)
class ShippingAddress:
    """Where an order goes; copied onto the order, so editing the address book later is safe."""

    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str = ""

    @classmethod
    def from_address(cls, address: Address) -> ShippingAddress:
        return cls(
            name=address.full_name,
            line1=address.line1,
            line2=address.line2,
            city=address.city,
            postal_code=address.postal_code,
            country=address.country,
        )


def _order_number() -> str:
    token = "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(10))
    return f"ORD-{token[:5]}-{token[5:]}"


def _cart_take(*, user: User) -> dict[int, int]:
    """Lock the user's cart, empty it, and return what it held (product id to units).

    Runs inside the placing transaction: if the order fails, the cart comes back untouched.
    """
    cart = Cart.objects.select_for_update().filter(user=user).first()
    lines = list(CartLine.objects.select_for_update().filter(cart=cart)) if cart else []
    if not lines:
        raise Conflict("Your cart is empty; add products before ordering.", code="cart_empty")
    CartLine.objects.filter(pk__in=[line.pk for line in lines]).delete()
    return {line.product_id: line.quantity for line in lines}


def _products_for(quantities: Mapping[int, int]) -> dict[int, Product]:
    """The ordered products, checked: all on sale, all in one currency, sane quantities."""
    for product_id, quantity in quantities.items():
        if not 1 <= quantity <= MAX_LINE_QUANTITY:
            raise StorefrontError(
                f"Quantity of product {product_id} must be between 1 and {MAX_LINE_QUANTITY}.",
                code="invalid_quantity",
                product_id=product_id,
                quantity=quantity,
            )
    products = Product.objects.filter(is_active=True).in_bulk(list(quantities))
    missing = sorted(set(quantities) - set(products))
    if missing:
        raise Conflict(
            f"Products {missing} do not exist or are no longer on sale.",
            code="product_unavailable",
            product_ids=missing,
        )
    currencies = sorted({product.currency for product in products.values()})
    if len(currencies) > 1:
        raise Conflict(
            f"An order is paid in one currency; these products are priced in {currencies}.",
            code="mixed_currencies",
            currencies=currencies,
        )
    return products


def _order_create(**fields: object) -> Order:
    for attempt in range(1, _NUMBER_ATTEMPTS + 1):
        try:
            with transaction.atomic():  # a savepoint, so a taken number can be retried
                return Order.objects.create(number=_order_number(), **fields)
        except IntegrityError:
            if attempt == _NUMBER_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def order_place(
    *, user: User, shipping: ShippingAddress, quantities: Mapping[int, int] | None = None
) -> Order:
    """Place an order for ``quantities`` (product id to units), or for the cart if None.

    One transaction: the prices are snapshotted, the stock reserved, and the cart emptied,
    or nothing happens. Raises ``OutOfStock`` when a product has too few free units.
    """
    wanted = dict(quantities) if quantities is not None else _cart_take(user=user)
    if not wanted:
        raise StorefrontError("An order needs at least one line.", code="order_empty")
    products = _products_for(wanted)
    lines = [
        OrderLine(
            product_id=product_id,
            sku=products[product_id].sku,
            product_name=products[product_id].name,
            unit_price=products[product_id].price,
            quantity=quantity,
            line_total=(products[product_id].price * quantity).quantize(_CENT),
        )
        for product_id, quantity in wanted.items()
    ]
    order = _order_create(
        user=user,
        status=Status.PENDING,
        currency=next(iter(products.values())).currency,
        total=sum((line.line_total for line in lines), Decimal("0.00")),
        shipping_name=shipping.name,
        shipping_line1=shipping.line1,
        shipping_line2=shipping.line2,
        shipping_city=shipping.city,
        shipping_postal_code=shipping.postal_code,
        shipping_country=shipping.country,
    )
    for line in lines:
        line.order = order
    OrderLine.objects.bulk_create(lines)
    OrderStatusChange.objects.create(
        order=order, from_status="", to_status=Status.PENDING, actor=user, note="placed"
    )
    stock_reserve(order=order, quantities=wanted)
    return order


def _order_lock(*, order_id: int) -> Order:
    return Order.objects.select_for_update().get(pk=order_id)


def _order_transition(*, order: Order, to_status: str, actor: User | None, note: str = "") -> str:
    """Move a locked ``order`` to ``to_status`` if the table allows it; returns the old status."""
    from_status = order.status
    if to_status not in ALLOWED_TRANSITIONS[from_status]:
        raise OrderStateConflict(
            f"Order {order.number} is {from_status}; it cannot become {to_status}.",
            status=from_status,
            requested=to_status,
        )
    order.status = to_status
    changed = ["status", "updated_at"]
    if to_status == Status.PAID:
        order.paid_at = timezone.now()
        changed.append("paid_at")
    elif to_status == Status.CANCELLED:
        order.cancelled_at = timezone.now()
        changed.append("cancelled_at")
    order.save(update_fields=changed)
    OrderStatusChange.objects.create(
        order=order, from_status=from_status, to_status=to_status, actor=actor, note=note
    )
    return from_status


def order_mark_paid(*, order: Order, actor: User) -> Order:
    """pending -> paid; the payments app calls this inside its own transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("order_mark_paid must run inside the payment's transaction")
    locked = _order_lock(order_id=order.pk)
    _order_transition(order=locked, to_status=Status.PAID, actor=actor, note="payment succeeded")
    return locked


@transaction.atomic
def order_cancel(*, order: Order, actor: User, note: str = "") -> Order:
    """Cancel a pending or paid order: refund the payment if paid, and release the stock.

    ``note`` goes into the history and, for a paid order, becomes the refund's reason.
    """
    locked = _order_lock(order_id=order.pk)
    if Payment.objects.filter(order=locked, status=Payment.Status.PROCESSING).exists():
        raise Conflict(
            f"A payment for order {locked.number} is being processed; try again shortly.",
            code="payment_in_progress",
        )
    note = note or f"order {locked.number} cancelled"
    from_status = _order_transition(
        order=locked, to_status=Status.CANCELLED, actor=actor, note=note
    )
    if from_status == Status.PAID:
        payment_refund_for_order(order=locked, reason=note)
    stock_release(order=locked)
    return locked


@transaction.atomic
def order_ship(*, order: Order, actor: User) -> Order:
    """paid -> shipped: the reserved units leave the warehouse."""
    locked = _order_lock(order_id=order.pk)
    _order_transition(order=locked, to_status=Status.SHIPPED, actor=actor)
    stock_fulfil(order=locked)
    return locked


@transaction.atomic
def order_deliver(*, order: Order, actor: User) -> Order:
    """shipped -> delivered."""
    locked = _order_lock(order_id=order.pk)
    _order_transition(order=locked, to_status=Status.DELIVERED, actor=actor)
    return locked
