from __future__ import annotations

from typing import Any

from django.db.models import Sum
from django.http import HttpRequest

from monolith.cart.models import CartLine


def cart_summary(request: HttpRequest) -> dict[str, Any]:
    """The number of items in the user's cart, for the header of every page."""
    if not request.user.is_authenticated:
        return {"cart_item_count": 0}
    total = CartLine.objects.filter(cart__user=request.user).aggregate(n=Sum("quantity"))["n"]
    return {"cart_item_count": total or 0}
