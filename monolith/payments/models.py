from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Payment(models.Model):
    """One attempt to pay an order, keyed by the client's idempotency key.

    The response the client got is stored with it, so a retry with the same key receives the
    same answer and the card is charged at most once.
    """

    class Status(models.TextChoices):
        PROCESSING = "processing", "processing"
        SUCCEEDED = "succeeded", "succeeded"
        DECLINED = "declined", "declined"
        FAILED = "failed", "failed"
        REFUNDED = "refunded", "refunded"

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="payments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments"
    )
    idempotency_key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PROCESSING, db_index=True
    )
    card_last4 = models.CharField(max_length=4, blank=True)
    gateway_reference = models.CharField(max_length=64, blank=True)
    failure_code = models.CharField(max_length=64, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "idempotency_key"], name="payment_idempotency_key_per_user"
            ),
            # Two different keys must not both charge one order.
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status__in=["processing", "succeeded", "refunded"]),
                name="one_live_payment_per_order",
            ),
        ]

    def __str__(self) -> str:
        return f"payment {self.pk} of order {self.order_id}: {self.status}"


class Refund(models.Model):
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="refund")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    reason = models.CharField(max_length=200, blank=True)
    gateway_reference = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"refund of payment {self.payment_id}"


class SimulatedCharge(models.Model):
    """The simulated gateway's own ledger: what a real gateway would have charged."""

    reference = models.CharField(max_length=64, unique=True)
    idempotency_key = models.CharField(max_length=128, unique=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    card_last4 = models.CharField(max_length=4)
    refunded = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.reference}: {self.amount} {self.currency}"
