"""Catalog writes: categories and products, with the monolith's rules and error codes.

Products are never deleted, only deactivated: the monolith's order lines and reservations
keep a product's id, and this service cannot see them, so it cannot tell whether a delete
would orphan history. Deactivating hides the product from shoppers and keeps every past
reference resolvable.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypedDict, Unpack

from django.conf import settings
from django.db import transaction
from django.db.models import ProtectedError, QuerySet
from django.utils.text import slugify

from extracted.catalog.catalog.models import Category, InitialStock, Product
from extracted.catalog.catalog.selectors import category_parent_creates_cycle
from extracted.catalog.core.errors import CatalogError, Conflict

__all__ = [
    "CategoryChanges",
    "ProductChanges",
    "category_create",
    "category_delete",
    "category_update",
    "product_create",
    "product_deactivate",
    "product_update",
]

# Room kept at the end of a generated slug for a "-<n>" suffix (as in the monolith, so a
# generated slug is the same whichever side made it).
_SLUG_SUFFIX_ROOM = 8


class CategoryChanges(TypedDict, total=False):
    name: str
    slug: str
    description: str
    parent: Category | None


class ProductChanges(TypedDict, total=False):
    name: str
    slug: str
    sku: str
    description: str
    price: Decimal
    currency: str
    category: Category | None
    is_active: bool


def _unique_slug(*, name: str, taken_in: QuerySet[Any], max_length: int) -> str:
    """``slugify(name)``, suffixed ``-2``, ``-3``... until no row of ``taken_in`` has it."""
    base = slugify(name)[: max_length - _SLUG_SUFFIX_ROOM].strip("-") or "item"
    taken = set(taken_in.filter(slug__startswith=base).values_list("slug", flat=True))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _check_parent(*, category: Category, parent: Category | None) -> None:
    if category_parent_creates_cycle(category=category, parent=parent):
        raise CatalogError(
            f"Category {parent} is {category} itself or below it; the tree cannot loop.",
            code="category_parent_cycle",
        )


@transaction.atomic
def category_create(
    *, name: str, slug: str = "", description: str = "", parent: Category | None = None
) -> Category:
    """Create a category; without ``slug`` one is made from the name, unique-suffixed."""
    slug = slug or _unique_slug(name=name, taken_in=Category.objects.all(), max_length=140)
    return Category.objects.create(name=name, slug=slug, description=description, parent=parent)


@transaction.atomic
def category_update(*, category: Category, **changes: Unpack[CategoryChanges]) -> Category:
    """Apply ``changes``; a parent that would loop the tree raises ``category_parent_cycle``."""
    if "parent" in changes:
        _check_parent(category=category, parent=changes["parent"])
    for field, value in changes.items():
        setattr(category, field, value)
    if not category.slug:
        others = Category.objects.exclude(pk=category.pk)
        category.slug = _unique_slug(name=category.name, taken_in=others, max_length=140)
    category.save()
    return category


@transaction.atomic
def category_delete(*, category: Category) -> None:
    """Delete an empty leaf category; one with products or children raises ``category_in_use``.

    The foreign keys are ``PROTECT``, so the database has the last word even against a
    product added between a check and the delete.
    """
    try:
        category.delete()
    except ProtectedError:
        raise Conflict(
            f"Category {category} still has products or subcategories; move or remove them first.",
            code="category_in_use",
            product_count=category.products.count(),
            child_count=category.children.count(),
        ) from None


@transaction.atomic
def product_create(
    *,
    name: str,
    sku: str,
    price: Decimal,
    slug: str = "",
    description: str = "",
    currency: str = "",
    category: Category | None = None,
    is_active: bool = True,
    stock: int = 0,
) -> Product:
    """Create a product and record the ``stock`` units it starts with.

    The monolith creates the stock level itself; here the units are kept as the product's
    ``InitialStock`` for the monolith's inventory to take up (see ``models``). Without
    ``slug`` one is made from the name, unique-suffixed; without ``currency`` the store's
    (``settings.STOREFRONT_CURRENCY``).
    """
    product = Product.objects.create(
        name=name,
        slug=slug or _unique_slug(name=name, taken_in=Product.objects.all(), max_length=220),
        sku=sku,
        description=description,
        price=price,
        currency=currency or settings.STOREFRONT_CURRENCY,
        category=category,
        is_active=is_active,
    )
    InitialStock.objects.create(product=product, on_hand=stock)
    return product


@transaction.atomic
def product_update(*, product: Product, **changes: Unpack[ProductChanges]) -> Product:
    """Apply ``changes``. Stock is not a product field: the monolith's inventory owns it."""
    for field, value in changes.items():
        setattr(product, field, value)
    if not product.slug:
        others = Product.objects.exclude(pk=product.pk)
        product.slug = _unique_slug(name=product.name, taken_in=others, max_length=220)
    product.save()
    return product


@transaction.atomic
def product_deactivate(*, product: Product) -> Product:
    """Hide the product from shoppers, keeping it for order history. Idempotent."""
    if product.is_active:
        product.is_active = False
        product.save(update_fields=["is_active", "updated_at"])
    return product
