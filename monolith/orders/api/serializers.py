from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from monolith.accounts.models import User
from monolith.accounts.selectors import address_list_for_user
from monolith.cart.models import MAX_LINE_QUANTITY
from monolith.cart.selectors import product_get_purchasable
from monolith.orders.models import Order, OrderLine, OrderStatusChange
from strangler.servicekit.bounds import KEY_COLUMN, BoundedIntegerField, BoundedModelSerializer

__all__ = ["OrderDetailSerializer", "OrderPlaceSerializer", "OrderSerializer"]


class OrderLineSerializer(BoundedModelSerializer[OrderLine]):
    class Meta:
        model = OrderLine
        fields = ["id", "product_id", "sku", "product_name", "unit_price", "quantity", "line_total"]
        read_only_fields = fields


class OrderStatusChangeSerializer(BoundedModelSerializer[OrderStatusChange]):
    actor: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = OrderStatusChange
        fields = ["from_status", "to_status", "actor", "note", "at"]
        read_only_fields = fields


class ShippingAddressSerializer(serializers.Serializer[Order]):
    name = serializers.CharField(source="shipping_name")
    line1 = serializers.CharField(source="shipping_line1")
    line2 = serializers.CharField(source="shipping_line2")
    city = serializers.CharField(source="shipping_city")
    postal_code = serializers.CharField(source="shipping_postal_code")
    country = serializers.CharField(source="shipping_country")


# One named component: the list and the detail share it instead of colliding as two enums.
@extend_schema_field(
    {"type": "string", "enum": [status.value for status in Order.Status]},
    component_name="OrderStatus",
)
class OrderStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=Order.Status.choices, **kwargs)


class OrderSerializer(BoundedModelSerializer[Order]):
    user_id = serializers.IntegerField(read_only=True)
    status = OrderStatusField(read_only=True)
    shipping_address = ShippingAddressSerializer(source="*", read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "user_id",
            "status",
            "currency",
            "total",
            "shipping_address",
            "placed_at",
            "paid_at",
            "cancelled_at",
        ]
        read_only_fields = fields


class OrderDetailSerializer(OrderSerializer):
    lines = OrderLineSerializer(many=True, read_only=True)
    status_history = OrderStatusChangeSerializer(source="status_changes", many=True, read_only=True)

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "lines", "status_history"]
        read_only_fields = fields


class OrderPlaceLineSerializer(serializers.Serializer[dict[str, Any]]):
    product_id = BoundedIntegerField(column=KEY_COLUMN, min_value=1)
    quantity = BoundedIntegerField(
        column="PositiveIntegerField", min_value=1, max_value=MAX_LINE_QUANTITY
    )

    def validate_product_id(self, value: int) -> int:
        if product_get_purchasable(product_id=value) is None:
            raise serializers.ValidationError("No product on sale has this id.")
        return value


class OrderPlaceSerializer(serializers.Serializer[dict[str, Any]]):
    """Needs ``context={"user": ...}``: the address must be one of the caller's."""

    shipping_address_id = BoundedIntegerField(
        column=KEY_COLUMN,
        min_value=1,
        help_text="One of the caller's addresses (GET /api/v1/addresses/).",
    )
    lines = OrderPlaceLineSerializer(
        many=True,
        required=False,
        allow_empty=False,
        help_text="What to order. Leave out to order the cart, which is then emptied.",
    )

    def validate_shipping_address_id(self, value: int) -> int:
        user: User = self.context["user"]
        if not address_list_for_user(user=user).filter(pk=value).exists():
            raise serializers.ValidationError("You have no address with this id.")
        return value

    def validate_lines(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        product_ids = [line["product_id"] for line in value]
        if len(set(product_ids)) != len(product_ids):
            raise serializers.ValidationError("List each product once.")
        return value
