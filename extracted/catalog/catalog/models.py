"""Categories and products, column for column the monolith's; stock as a read-only mirror.

``Category`` and ``Product`` rows arrive from the monolith by sync with their primary keys
(the ids clients know), and after cut-over are written here. ``StockLevel`` is the monolith's
``inventory_stocklevel``, copied by the sync and never written by this service: inventory
stays with the monolith. ``InitialStock`` is the one stock fact born here: the units a
product was created with, until the monolith's stock level for it arrives.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

__all__ = ["Category", "InitialStock", "Product", "StockLevel", "currency_code"]

currency_code = RegexValidator(r"^[A-Z]{3}$", "Use an ISO 4217 code in capitals, e.g. EUR.")


class Category(models.Model):
    """A node of the category tree; ``parent`` is null at the roots."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    description = models.TextField(blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "categories"
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=models.F("id")), name="category_not_its_own_parent"
            ),
        ]

    def __str__(self) -> str:
        return self.name


def _default_currency() -> str:
    return str(settings.STOREFRONT_CURRENCY)


class Product(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    sku = models.CharField(max_length=64, unique=True)
    description = models.TextField(blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=3, default=_default_currency, validators=[currency_code])
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="products"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["is_active", "price"], name="product_active_price"),
            models.Index(fields=["is_active", "name"], name="product_active_name"),
            models.Index(fields=["category", "is_active"], name="product_category_active"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"


class StockLevel(models.Model):
    """The monolith's stock level of one product, as the sync last delivered it. Read-only.

    No foreign key constraint on ``product``: the sync may deliver a stock level before the
    product it belongs to, and neither side's order of arrival should matter. No
    ``auto_now`` on ``updated_at``: the value is the monolith's.
    """

    product = models.OneToOneField(
        Product,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="stock",
    )
    on_hand = models.PositiveIntegerField(default=0)
    reserved = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.product_id}: {self.on_hand - self.reserved} available"


class InitialStock(models.Model):
    """The ``stock`` a product was created with here, for the monolith's inventory to take up.

    In the monolith, creating a product creates its stock level in the same transaction.
    Here inventory is not ours: the request is kept, keyed by product, for the sync to carry
    to the monolith, and product answers use it until the mirrored ``StockLevel`` exists.
    """

    product = models.OneToOneField(
        Product, on_delete=models.CASCADE, primary_key=True, related_name="initial_stock"
    )
    on_hand = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.product_id}: created with {self.on_hand} on hand"
