"""Refund writes: giving a succeeded payment's money back through the gateway.

Cancel-and-refund is the orders app's: ``order_cancel`` refunds a paid order's payment
here, and ``payment_refund`` of an unshipped order's payment cancels the order through
``order_cancel``. This module imports no services module, so ``orders.services`` reaches the
gateway without importing ``payments.services``, its caller (an import-linter contract in
pyproject.toml keeps it so).
"""

from __future__ import annotations

from django.db import transaction

from monolith.core.errors import Conflict
from monolith.orders.models import Order
from monolith.payments.gateway import RefundRejected, gateway_get
from monolith.payments.models import Payment, Refund

__all__ = ["payment_refund_for_order", "payment_refund_locked"]


def payment_refund_locked(*, payment: Payment, reason: str) -> Refund:
    """Refund a locked payment. The gateway call runs under the row lock on purpose:
    refunds are rare, and a lock held a little longer is cheaper than a double refund."""
    if payment.status == Payment.Status.REFUNDED:
        raise Conflict(f"Payment {payment.pk} is refunded already.", code="already_refunded")
    if payment.status != Payment.Status.SUCCEEDED:
        raise Conflict(
            f"Payment {payment.pk} is {payment.status}; only a succeeded payment is refunded.",
            code="payment_not_refundable",
        )
    try:
        reference = gateway_get().refund(reference=payment.gateway_reference)
    except RefundRejected as rejected:
        raise Conflict(str(rejected), code="already_refunded") from rejected
    refund = Refund.objects.create(
        payment=payment, amount=payment.amount, reason=reason, gateway_reference=reference
    )
    payment.status = Payment.Status.REFUNDED
    payment.save(update_fields=["status", "updated_at"])
    return refund


def payment_refund_for_order(*, order: Order, reason: str) -> Refund | None:
    """Refund the order's succeeded payment, if any; runs in the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("payment_refund_for_order must run inside a transaction")
    payment = (
        Payment.objects.select_for_update()
        .filter(order=order, status=Payment.Status.SUCCEEDED)
        .first()
    )
    return payment_refund_locked(payment=payment, reason=reason) if payment is not None else None
