"""Payment reads: customers see their own payments, staff see all."""

from __future__ import annotations

from django.db.models import QuerySet

from monolith.accounts.models import User
from monolith.core.errors import NotFound
from monolith.payments.models import Payment

__all__ = ["payment_get_visible", "payment_list_visible"]


def payment_list_visible(*, user: User) -> QuerySet[Payment]:
    payments = Payment.objects.order_by("-created_at", "-id")
    return payments if user.is_staff else payments.filter(user=user)


def payment_get_visible(*, user: User, payment_id: int) -> Payment:
    payment = payment_list_visible(user=user).filter(pk=payment_id).first()
    if payment is None:
        raise NotFound(f"No payment {payment_id}.", payment_id=payment_id)
    return payment
