"""Cart writes. A cart holds one line per product, 1 to 99 units, all in one currency."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from monolith.accounts.models import User
from monolith.cart.models import MAX_LINE_QUANTITY, Cart, CartLine
from monolith.cart.selectors import cart_line_get, product_get_purchasable
from monolith.core.errors import Conflict, StorefrontError

__all__ = [
    "MAX_LINE_QUANTITY",
    "cart_clear",
    "cart_line_add",
    "cart_line_remove",
    "cart_line_update",
]


def _check_quantity(quantity: int) -> None:
    if not 1 <= quantity <= MAX_LINE_QUANTITY:
        raise StorefrontError(
            f"Quantity must be between 1 and {MAX_LINE_QUANTITY}.",
            code="invalid_quantity",
            quantity=quantity,
        )


def _cart_lock(*, user: User) -> Cart:
    """The user's cart row, locked, so concurrent adds of one product merge into one line."""
    cart, _ = Cart.objects.get_or_create(user=user)
    return Cart.objects.select_for_update().get(pk=cart.pk)


@transaction.atomic
def cart_line_add(*, user: User, product_id: int, quantity: int) -> CartLine:
    """Add ``quantity`` units of a product; adding a product already in the cart adds up."""
    _check_quantity(quantity)
    product = product_get_purchasable(product_id=product_id)
    if product is None:
        raise StorefrontError(
            f"Product {product_id} does not exist or is not on sale.",
            code="product_unavailable",
            product_id=product_id,
        )
    cart = _cart_lock(user=user)
    other_currency = (
        CartLine.objects.filter(cart=cart)
        .exclude(product__currency=product.currency)
        .values_list("product__currency", flat=True)
        .first()
    )
    if other_currency is not None:
        raise Conflict(
            f"The cart holds {other_currency} items; {product.name} is priced in "
            f"{product.currency}. Order them separately.",
            code="currency_mismatch",
        )
    line = CartLine.objects.filter(cart=cart, product=product).first()
    if line is None:
        return CartLine.objects.create(cart=cart, product=product, quantity=quantity)
    if line.quantity + quantity > MAX_LINE_QUANTITY:
        raise StorefrontError(
            f"The cart already holds {line.quantity} of {product.name}; "
            f"at most {MAX_LINE_QUANTITY} fit on one line.",
            code="cart_line_quantity_exceeded",
            in_cart=line.quantity,
            maximum=MAX_LINE_QUANTITY,
        )
    CartLine.objects.filter(pk=line.pk).update(quantity=F("quantity") + quantity)
    line.refresh_from_db()
    return line


@transaction.atomic
def cart_line_update(*, user: User, line_id: int, quantity: int) -> CartLine:
    """Set the units of one of the user's lines."""
    _check_quantity(quantity)
    line = cart_line_get(user=user, line_id=line_id)
    line.quantity = quantity
    line.save(update_fields=["quantity", "updated_at"])
    return line


@transaction.atomic
def cart_line_remove(*, user: User, line_id: int) -> None:
    cart_line_get(user=user, line_id=line_id).delete()


@transaction.atomic
def cart_clear(*, user: User) -> int:
    """Empty the user's cart; returns how many lines went."""
    deleted, _ = CartLine.objects.filter(cart__user=user).delete()
    return deleted
