"""Payment writes: paying an order exactly once per idempotency key, and refunds.

Paying runs in three steps, so the gateway call never holds a database transaction open:

1. claim (one transaction, order row locked): replay a stored answer for a known key and
   body, refuse a reused or in-flight key, or record a ``processing`` payment;
2. charge through the gateway, with the payment's own id as the gateway's idempotency key,
   so a retry after a timeout cannot take money twice;
3. settle (one transaction): succeeded (order paid) or declined, storing the response that
   every retry with the same key then receives. A timeout stores nothing final: the payment
   is marked failed and the same key may try again.

The stored response is the API's own: the API serializer renders the payment once, when it
settles, and every replay returns that same status and JSON body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any, Final

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework import status

from monolith.accounts.models import User
from monolith.core.errors import (
    Conflict,
    IdempotencyConflict,
    NotFound,
    OrderStateConflict,
    PaymentDeclined,
    PaymentGatewayTimeout,
    StorefrontError,
)
from monolith.orders.models import Order
from monolith.orders.services import order_cancel, order_mark_paid
from monolith.payments.api.serializers import PaymentSerializer
from monolith.payments.gateway import (
    CardDeclined,
    CardInvalid,
    Charge,
    GatewayTimeout,
    gateway_get,
)
from monolith.payments.models import Payment, Refund
from monolith.payments.refunds import payment_refund_locked
from strangler.servicekit.api_errors import error_body

__all__ = [
    "IDEMPOTENCY_KEY_MAX_LENGTH",
    "PaymentResponse",
    "payment_create",
    "payment_fingerprint",
    "payment_refund",
]

IDEMPOTENCY_KEY_MAX_LENGTH: Final = 255


@dataclass(frozen=True)
class PaymentResponse:
    """The answer to a pay request: fresh, or replayed from the first request with its key."""

    status_code: int
    body: dict[str, Any]
    payment: Payment
    replayed: bool


def payment_fingerprint(*, order_id: int, card_number: str, cardholder_name: str) -> str:
    """SHA-256 HMAC of the canonical request, keyed so the stored value hides the card number."""
    canonical = json.dumps(
        {"order_id": order_id, "card_number": card_number, "cardholder_name": cardholder_name},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hmac.new(settings.SECRET_KEY.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def _replay(payment: Payment) -> PaymentResponse:
    assert payment.response_status is not None
    assert payment.response_body is not None
    return PaymentResponse(
        status_code=payment.response_status,
        body=payment.response_body,
        payment=payment,
        replayed=True,
    )


@transaction.atomic
def _payment_claim(
    *, user: User, order_id: int, idempotency_key: str, fingerprint: str, card_last4: str
) -> Payment | PaymentResponse:
    order = Order.objects.select_for_update().filter(pk=order_id, user=user).first()
    if order is None:
        raise NotFound(f"No order {order_id}.", order_id=order_id)
    payment = (
        Payment.objects.select_for_update()
        .filter(user=user, idempotency_key=idempotency_key)
        .first()
    )
    if payment is not None:
        if payment.request_fingerprint != fingerprint:
            raise IdempotencyConflict(
                "This Idempotency-Key was used for a different request; use a new key.",
                code="idempotency_key_reused",
            )
        if payment.status == Payment.Status.PROCESSING:
            raise IdempotencyConflict(
                "A request with this Idempotency-Key is still being processed; retry shortly.",
                code="idempotency_request_in_progress",
            )
        if payment.response_status is not None:
            return _replay(payment)
    if order.status != Order.Status.PENDING:
        raise OrderStateConflict(
            f"Order {order.number} is {order.status}; only a pending order can be paid.",
            status=order.status,
        )
    if Payment.objects.filter(order=order, status=Payment.Status.PROCESSING).exists():
        raise Conflict(
            f"Another payment for order {order.number} is being processed.",
            code="payment_in_progress",
        )
    if payment is None:
        return Payment.objects.create(
            order=order,
            user=user,
            idempotency_key=idempotency_key,
            request_fingerprint=fingerprint,
            amount=order.total,
            currency=order.currency,
            status=Payment.Status.PROCESSING,
            card_last4=card_last4,
        )
    # An earlier attempt with this key timed out: try again on the same row.
    payment.status = Payment.Status.PROCESSING
    payment.failure_code = ""
    payment.save(update_fields=["status", "failure_code", "updated_at"])
    return payment


@transaction.atomic
def _payment_settle_succeeded(*, payment: Payment, charge: Charge, user: User) -> PaymentResponse:
    order_mark_paid(order=payment.order, actor=user)  # locks the order before the payment
    locked = Payment.objects.select_for_update().get(pk=payment.pk)
    locked.status = Payment.Status.SUCCEEDED
    locked.gateway_reference = charge.reference
    locked.card_last4 = charge.card_last4
    locked.response_status = status.HTTP_201_CREATED
    locked.response_body = dict(PaymentSerializer(locked).data)
    locked.save()
    return PaymentResponse(
        status_code=locked.response_status,
        body=locked.response_body,
        payment=locked,
        replayed=False,
    )


@transaction.atomic
def _payment_settle_declined(*, payment: Payment, decline: CardDeclined) -> PaymentResponse:
    locked = Payment.objects.select_for_update().get(pk=payment.pk)
    error = PaymentDeclined(str(decline), decline_code=decline.code, payment_id=locked.pk)
    locked.status = Payment.Status.DECLINED
    locked.failure_code = decline.code
    locked.response_status = error.http_status
    locked.response_body = error_body(error.code, error.message, details=error.details)
    locked.save()
    return PaymentResponse(
        status_code=error.http_status, body=locked.response_body, payment=locked, replayed=False
    )


def _payment_mark_failed(*, payment: Payment, failure_code: str) -> None:
    """Not a final answer: nothing is stored to replay, so the same key may try again."""
    Payment.objects.filter(pk=payment.pk).update(
        status=Payment.Status.FAILED, failure_code=failure_code, updated_at=timezone.now()
    )


def payment_create(
    *,
    user: User,
    order_id: int,
    idempotency_key: str,
    card_number: str,
    cardholder_name: str = "",
) -> PaymentResponse:
    """Pay the user's pending order with a card, at most once per ``idempotency_key``.

    Returns the response to send (201 payment, or 402 declined), fresh or replayed. Raises
    ``IdempotencyConflict``, ``OrderStateConflict``, ``NotFound`` or, when the gateway does
    not answer, ``PaymentGatewayTimeout``.
    """
    if not 1 <= len(idempotency_key) <= IDEMPOTENCY_KEY_MAX_LENGTH:
        raise StorefrontError(
            f"The Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} characters.",
            code="idempotency_key_invalid",
        )
    claimed = _payment_claim(
        user=user,
        order_id=order_id,
        idempotency_key=idempotency_key,
        fingerprint=payment_fingerprint(
            order_id=order_id, card_number=card_number, cardholder_name=cardholder_name
        ),
        card_last4=card_number[-4:],
    )
    if isinstance(claimed, PaymentResponse):
        return claimed
    payment = claimed
    try:
        charge = gateway_get().charge(
            amount=payment.amount,
            currency=payment.currency,
            card_number=card_number,
            idempotency_key=f"payment-{payment.pk}",
        )
    except CardDeclined as decline:
        return _payment_settle_declined(payment=payment, decline=decline)
    except GatewayTimeout as timeout:
        _payment_mark_failed(payment=payment, failure_code=timeout.code)
        raise PaymentGatewayTimeout(
            "The card gateway did not answer in time. Retry with the same Idempotency-Key: "
            "the card is charged at most once.",
            payment_id=payment.pk,
        ) from timeout
    except CardInvalid as invalid:
        _payment_mark_failed(payment=payment, failure_code=invalid.code)
        raise StorefrontError(str(invalid), code=invalid.code) from invalid
    except BaseException:
        # Whatever else went wrong, leave the key retryable; the gateway key prevents a
        # second charge if this one went through.
        _payment_mark_failed(payment=payment, failure_code="gateway_error")
        raise
    return _payment_settle_succeeded(payment=payment, charge=charge, user=user)


@transaction.atomic
def payment_refund(*, payment: Payment, actor: User, reason: str = "") -> Refund:
    """Refund a payment in full. If its order has not shipped, the order is cancelled too
    (and its stock released): money back and goods kept is not a state we allow."""
    order = Order.objects.select_for_update().get(pk=payment.order_id)  # order, then payment
    locked = Payment.objects.select_for_update().get(pk=payment.pk)
    if locked.status == Payment.Status.SUCCEEDED and order.status == Order.Status.PAID:
        order_cancel(order=order, actor=actor, note=reason)
        return Refund.objects.get(payment=locked)
    return payment_refund_locked(payment=locked, reason=reason)
