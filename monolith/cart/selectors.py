"""Cart reads: the cart as its owner sees it, priced and checked against today's stock."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from monolith.accounts.models import User
from monolith.cart.models import CartLine
from monolith.catalog.models import Product
from monolith.core.errors import NotFound
from monolith.inventory.models import StockLevel

__all__ = [
    "CartLineView",
    "CartView",
    "cart_get",
    "cart_line_get",
    "product_get_purchasable",
]


@dataclass(frozen=True)
class CartLineView:
    id: int
    product_id: int
    sku: str
    name: str
    unit_price: Decimal
    currency: str
    quantity: int
    line_total: Decimal
    # Whether the line could be ordered right now: product still sold and enough units free.
    available: bool


@dataclass(frozen=True)
class CartView:
    lines: tuple[CartLineView, ...]
    total: Decimal
    currency: str
    item_count: int

    @property
    def is_empty(self) -> bool:
        return not self.lines


def cart_get(*, user: User) -> CartView:
    """The user's cart; an empty one if the user never added anything."""
    lines = list(CartLine.objects.filter(cart__user=user).select_related("product"))
    stock_rows = StockLevel.objects.filter(
        product_id__in=[line.product_id for line in lines]
    ).values_list("product_id", "on_hand", "reserved")
    free_units = {product_id: on_hand - reserved for product_id, on_hand, reserved in stock_rows}
    views = tuple(
        CartLineView(
            id=line.pk,
            product_id=line.product_id,
            sku=line.product.sku,
            name=line.product.name,
            unit_price=line.product.price,
            currency=line.product.currency,
            quantity=line.quantity,
            line_total=line.product.price * line.quantity,
            available=line.product.is_active
            and free_units.get(line.product_id, 0) >= line.quantity,
        )
        for line in lines
    )
    return CartView(
        lines=views,
        total=sum((view.line_total for view in views), Decimal("0.00")),
        currency=views[0].currency if views else str(settings.STOREFRONT_CURRENCY),
        item_count=sum(view.quantity for view in views),
    )


def cart_line_get(*, user: User, line_id: int) -> CartLine:
    """One line of the user's own cart; another user's line is as absent as a missing one."""
    line = CartLine.objects.filter(cart__user=user, pk=line_id).select_related("product").first()
    if line is None:
        raise NotFound(f"Your cart has no line {line_id}.", line_id=line_id)
    return line


def product_get_purchasable(*, product_id: int) -> Product | None:
    """The product if it exists and is on sale, else None."""
    return Product.objects.filter(pk=product_id, is_active=True).first()
