"""The product filters, shared by the API list and the storefront page.

Every filter rejects a value it cannot read (400 naming the parameter) rather than ignoring
it: a client that typos ``in_stock=yes`` must learn so, not get the unfiltered list.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from monolith.catalog.models import Category, Product
from monolith.catalog.selectors import category_descendant_ids
from strangler.servicekit.bounds import KEY_SCHEMA
from strangler.servicekit.strict_filters import (
    KeyChoiceFilter,
    StrictBooleanFilter,
    StrictNumberFilter,
)

__all__ = ["PRODUCT_ORDERING_FIELDS", "ProductFilter"]

PRODUCT_ORDERING_FIELDS = ("name", "price", "created_at", "sku")


class _StableOrderingFilter(django_filters.OrderingFilter):  # type: ignore[misc]
    """The requested ordering, then ``id``, so equal keys still page deterministically."""

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        ordered: QuerySet[Any] = super().filter(qs, value)
        if value in django_filters.constants.EMPTY_VALUES:
            return ordered
        return ordered.order_by(*ordered.query.order_by, "id")


class ProductFilter(django_filters.FilterSet):  # type: ignore[misc]
    category = KeyChoiceFilter(
        queryset=Category.objects.all(),
        method="filter_category",
        label="Category id; includes products of every category below it.",
    )
    category_slug = django_filters.ModelChoiceFilter(
        queryset=Category.objects.all(),
        to_field_name="slug",
        method="filter_category_slug",
        label="Category slug; includes products of every category below it.",
    )
    min_price = StrictNumberFilter(
        field_name="price", lookup_expr="gte", label="Lowest price, inclusive."
    )
    max_price = StrictNumberFilter(
        field_name="price", lookup_expr="lte", label="Highest price, inclusive."
    )
    in_stock = StrictBooleanFilter(
        field_name="in_stock", label="true: only products with units available; false: none."
    )
    is_active = StrictBooleanFilter(
        field_name="is_active", label="Staff only: shoppers never see inactive products."
    )
    search = django_filters.CharFilter(
        method="filter_search", label="Text in the name or SKU, case-insensitive."
    )
    ordering = _StableOrderingFilter(
        fields=PRODUCT_ORDERING_FIELDS,
        label="One of name, price, created_at, sku; '-' prefix for descending. "
        "Ties are broken by id. Default: name.",
    )

    class Meta:
        model = Product
        fields: list[str] = []

    @extend_schema_field(KEY_SCHEMA)
    def filter_category(
        self, queryset: QuerySet[Product], name: str, value: Category
    ) -> QuerySet[Product]:
        return queryset.filter(category_id__in=category_descendant_ids(category_ids=[value.pk]))

    @extend_schema_field(OpenApiTypes.STR)
    def filter_category_slug(
        self, queryset: QuerySet[Product], name: str, value: Category
    ) -> QuerySet[Product]:
        return self.filter_category(queryset, name, value)

    def filter_search(
        self, queryset: QuerySet[Product], name: str, value: str
    ) -> QuerySet[Product]:
        text = value.strip()
        if not text:
            return queryset
        return queryset.filter(Q(name__icontains=text) | Q(sku__icontains=text))
