"""The catalog's public JSON shapes: one serializer to read, one to write, per resource.

Reading and writing are separate so that the contract says exactly what a client may send
(``stock`` only on create) and what it gets back (``stock_available``, timestamps).

These are the monolith's shapes, docstrings and help texts included: drf-spectacular turns
them into the OpenAPI schema, which must read the same from either side (the contract test
compares the two).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from rest_framework import serializers

from extracted.catalog.catalog.models import Category, Product
from extracted.catalog.catalog.selectors import category_parent_creates_cycle
from strangler.servicekit.bounds import BoundedIntegerField, BoundedModelSerializer
from strangler.servicekit.strict_fields import StrictCharField, StrictDecimalField
from strangler.sync.freshness import ServedRowsMixin

__all__ = [
    "CategorySerializer",
    "CategoryWriteSerializer",
    "ProductCreateSerializer",
    "ProductSerializer",
    "ProductWriteSerializer",
]

_CURRENCY = re.compile(r"^[A-Z]{3}$")


class CategorySerializer(ServedRowsMixin, BoundedModelSerializer[Category]):
    """A node of the category tree; `parent` is null at the roots."""

    class Meta:
        model = Category
        fields = ["id", "name", "slug", "description", "parent", "created_at", "updated_at"]
        read_only_fields = fields


class CategoryWriteSerializer(BoundedModelSerializer[Category]):
    """What staff send to create or change a category; `slug` is made from the name if omitted."""

    class Meta:
        model = Category
        fields = ["name", "slug", "description", "parent"]
        extra_kwargs = {
            "slug": {"required": False},
            "description": {"required": False},
            "parent": {"required": False},
        }

    def validate_parent(self, parent: Category | None) -> Category | None:
        if self.instance is not None and category_parent_creates_cycle(
            category=self.instance, parent=parent
        ):
            raise serializers.ValidationError(
                "A category cannot be its own parent or sit below one of its subcategories.",
                code="cycle",
            )
        return parent


class ProductSerializer(ServedRowsMixin, BoundedModelSerializer[Product]):
    """A product with its stock summary. `price` is a decimal string with two places."""

    # The stock level behind `stock_available` is a synced row of its own (freshness header).
    served_relations = ("stock",)

    # The stock fields are annotations: serialise products from `product_list_visible`.
    stock_available = serializers.IntegerField(
        read_only=True, help_text="Units that can be ordered now: on hand minus reserved."
    )
    in_stock = serializers.BooleanField(read_only=True, help_text="stock_available > 0.")

    class Meta:
        model = Product
        fields = [
            "id",
            "name",
            "slug",
            "sku",
            "description",
            "price",
            "currency",
            "category",
            "is_active",
            "stock_available",
            "in_stock",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ProductWriteSerializer(BoundedModelSerializer[Product]):
    """What staff send to change a product. Stock is set through the inventory API."""

    price = StrictDecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0"), coerce_to_string=True
    )
    currency = StrictCharField(
        required=False,
        help_text="ISO 4217 code in capitals; defaults to the store's currency.",
    )

    class Meta:
        model = Product
        fields = [
            "name",
            "slug",
            "sku",
            "description",
            "price",
            "currency",
            "category",
            "is_active",
        ]
        extra_kwargs = {
            "slug": {"required": False, "help_text": "Made from the name when omitted."},
            "description": {"required": False},
            "category": {"required": False},
            "is_active": {"required": False},
        }

    def validate_currency(self, currency: str) -> str:
        if not _CURRENCY.match(currency):
            raise serializers.ValidationError(
                "Use an ISO 4217 code in capitals, e.g. EUR.", code="invalid"
            )
        return currency

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None and "stock" in self.initial_data:
            raise serializers.ValidationError(
                {"stock": ["Stock is set with PUT /api/v1/inventory/<product_id>/."]},
                code="read_only",
            )
        return attrs


class ProductCreateSerializer(ProductWriteSerializer):
    """What staff send to create a product; `stock` is the initial units on hand."""

    stock = BoundedIntegerField(
        column="PositiveIntegerField",  # the stock level's on_hand
        required=False,
        default=0,
        write_only=True,
        help_text="Initial units on hand; 0 when omitted.",
    )

    class Meta(ProductWriteSerializer.Meta):
        fields = [*ProductWriteSerializer.Meta.fields, "stock"]
