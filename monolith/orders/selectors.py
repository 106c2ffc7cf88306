"""Order reads. Customers see their own orders, staff see everyone's; anything else is absent."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from monolith.accounts.models import User
from monolith.core.errors import NotFound
from monolith.orders.models import Order, OrderStatusChange

__all__ = ["order_get_owned", "order_get_visible", "order_list_owned", "order_list_visible"]


def order_list_visible(*, user: User) -> QuerySet[Order]:
    """Newest first: the user's own orders, or every order for staff."""
    orders = Order.objects.order_by("-placed_at", "-id")
    return orders if user.is_staff else orders.filter(user=user)


def order_list_owned(*, user: User) -> QuerySet[Order]:
    """The user's own orders, newest first, even for staff (the 'my orders' page)."""
    return Order.objects.filter(user=user).order_by("-placed_at", "-id")


def _with_details(orders: QuerySet[Order]) -> QuerySet[Order]:
    return orders.select_related("user").prefetch_related(
        "lines",
        Prefetch("status_changes", queryset=OrderStatusChange.objects.select_related("actor")),
    )


def order_get_visible(*, user: User, order_id: int) -> Order:
    """One order with its lines and history, if the user may see it."""
    order = _with_details(order_list_visible(user=user)).filter(pk=order_id).first()
    if order is None:
        raise NotFound(f"No order {order_id}.", order_id=order_id)
    return order


def order_get_owned(*, user: User, order_id: int) -> Order:
    """One of the user's own orders: only the buyer pays an order."""
    order = _with_details(order_list_owned(user=user)).filter(pk=order_id).first()
    if order is None:
        raise NotFound(f"No order {order_id}.", order_id=order_id)
    return order
