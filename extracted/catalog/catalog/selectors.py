"""Catalog reads: the category tree and the products a shopper (or staff) may see.

The category tree is read whole, as ``(id, parent_id)`` pairs in one query: a storefront has
hundreds of categories, not millions, and one small query beats a query per tree level.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import BooleanField, ExpressionWrapper, F, IntegerField, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from extracted.catalog.catalog.models import Category, Product

__all__ = [
    "category_descendant_ids",
    "category_list",
    "category_parent_creates_cycle",
    "product_list_visible",
]


def _parent_map() -> dict[int, int | None]:
    return dict(Category.objects.values_list("id", "parent_id"))


def category_list() -> QuerySet[Category]:
    return Category.objects.order_by("name", "id")


def category_descendant_ids(*, category_ids: Iterable[int]) -> set[int]:
    """The given categories and every category below them."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for child_id, parent_id in _parent_map().items():
        children[parent_id].append(child_id)
    found: set[int] = set()
    pending = list(category_ids)
    while pending:
        current = pending.pop()
        if current not in found:
            found.add(current)
            pending.extend(children.get(current, []))
    return found


def category_parent_creates_cycle(*, category: Category, parent: Category | None) -> bool:
    """Whether making ``parent`` the parent of ``category`` would loop the tree."""
    if parent is None or category.pk is None:
        return False
    parents = _parent_map()
    current: int | None = parent.pk
    seen: set[int] = set()
    while current is not None and current not in seen:
        if current == category.pk:
            return True
        seen.add(current)
        current = parents.get(current)
    return False


def product_list_visible(*, include_inactive: bool = False) -> QuerySet[Product]:
    """Products annotated with ``stock_available`` and ``in_stock``, as the monolith computes them.

    ``stock_available`` is the mirrored stock level's on hand minus reserved; for a product
    created here whose stock level has not arrived yet, the units it was created with (the
    monolith would have created the level with exactly those); otherwise 0. Shoppers see
    active products only; staff pass ``include_inactive=True``. Ordered by name then id, so
    pages never overlap or skip.
    """
    products = Product.objects.select_related("category", "stock")
    if not include_inactive:
        products = products.filter(is_active=True)
    return (
        products.annotate(
            stock_available=Coalesce(
                F("stock__on_hand") - F("stock__reserved"),
                F("initial_stock__on_hand"),
                Value(0),
                output_field=IntegerField(),
            )
        )
        .annotate(in_stock=ExpressionWrapper(Q(stock_available__gt=0), output_field=BooleanField()))
        .order_by("name", "id")
    )
