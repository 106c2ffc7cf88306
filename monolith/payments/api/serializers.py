from __future__ import annotations

from typing import Any

from rest_framework import serializers

from monolith.payments.gateway import card_number_normalise, card_number_passes_luhn
from monolith.payments.models import Payment, Refund
from strangler.servicekit.bounds import BoundedModelSerializer
from strangler.servicekit.strict_fields import StrictCharField

__all__ = [
    "PaymentCreateSerializer",
    "PaymentSerializer",
    "RefundCreateSerializer",
    "RefundSerializer",
]


class PaymentSerializer(BoundedModelSerializer[Payment]):
    order_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = Payment
        fields = ["id", "order_id", "amount", "currency", "status", "card_last4", "created_at"]
        read_only_fields = fields


class PaymentCreateSerializer(serializers.Serializer[dict[str, Any]]):
    card_number = StrictCharField(
        max_length=32,
        help_text="Test cards: 4242424242424242 succeeds, 4000000000000002 is declined, "
        "4000000000000119 times out.",
    )
    cardholder_name = StrictCharField(max_length=100, required=False, allow_blank=True, default="")

    def validate_card_number(self, value: str) -> str:
        digits = card_number_normalise(value)
        if not card_number_passes_luhn(digits):
            raise serializers.ValidationError("This is not a valid card number.")
        return digits


class RefundSerializer(BoundedModelSerializer[Refund]):
    payment_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = Refund
        fields = ["id", "payment_id", "amount", "reason", "created_at"]
        read_only_fields = fields


class RefundCreateSerializer(serializers.Serializer[dict[str, Any]]):
    reason = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
