from __future__ import annotations

from typing import Any

from rest_framework import serializers

from monolith.cart.models import MAX_LINE_QUANTITY
from monolith.cart.selectors import CartLineView, CartView, product_get_purchasable
from strangler.servicekit.bounds import KEY_COLUMN, BoundedIntegerField

__all__ = [
    "CartLineAddSerializer",
    "CartLineSerializer",
    "CartLineUpdateSerializer",
    "CartSerializer",
]


class CartLineSerializer(serializers.Serializer[CartLineView]):
    """Renders a ``CartLineView``."""

    id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    quantity = serializers.IntegerField()
    line_total = serializers.DecimalField(max_digits=14, decimal_places=2)
    available = serializers.BooleanField(
        help_text="False when the product is no longer sold or fewer units are free."
    )


class CartSerializer(serializers.Serializer[CartView]):
    """Renders a ``CartView``."""

    lines = CartLineSerializer(many=True)
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    item_count = serializers.IntegerField(help_text="Units over all lines.")


class CartLineAddSerializer(serializers.Serializer[dict[str, Any]]):
    product_id = BoundedIntegerField(column=KEY_COLUMN, min_value=1)
    quantity = BoundedIntegerField(
        column="PositiveIntegerField", min_value=1, max_value=MAX_LINE_QUANTITY, default=1
    )

    def validate_product_id(self, value: int) -> int:
        if product_get_purchasable(product_id=value) is None:
            raise serializers.ValidationError("No product on sale has this id.")
        return value


class CartLineUpdateSerializer(serializers.Serializer[dict[str, Any]]):
    # The view validates it whole on PATCH as on PUT (strangler.servicekit.openapi).
    whole_on_patch = True
    quantity = BoundedIntegerField(
        column="PositiveIntegerField", min_value=1, max_value=MAX_LINE_QUANTITY
    )
