"""Inventory JSON shapes: the stock level as staff read it, and the one field they set."""

from __future__ import annotations

from rest_framework import serializers

from monolith.inventory.models import StockLevel
from strangler.servicekit.bounds import BoundedIntegerField, BoundedModelSerializer

__all__ = ["StockLevelSerializer", "StockLevelWriteSerializer"]


class StockLevelSerializer(BoundedModelSerializer[StockLevel]):
    """A product's units: on hand in the warehouse, reserved by open orders, available."""

    product_id = serializers.IntegerField(read_only=True)
    available = serializers.IntegerField(
        read_only=True, help_text="on_hand minus reserved: what can still be ordered."
    )
    updated_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Null until the first count is recorded."
    )

    class Meta:
        model = StockLevel
        fields = ["product_id", "on_hand", "reserved", "available", "updated_at"]
        read_only_fields = fields


class StockLevelWriteSerializer(serializers.Serializer[StockLevel]):
    """The units on hand after a count; required for PUT and PATCH alike."""

    # The view validates it whole on PATCH as on PUT (strangler.servicekit.openapi).
    whole_on_patch = True

    on_hand = BoundedIntegerField(
        column="PositiveIntegerField", help_text="Units counted in the warehouse."
    )
