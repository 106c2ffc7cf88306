"""Inventory admin. ``reserved`` is read-only: only orders move it, through the stock services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from monolith.catalog.models import Product
from monolith.inventory.models import Reservation, StockLevel

__all__ = ["ReservationAdmin", "StockLevelAdmin", "StockLevelForm", "StockLevelInline"]


class StockLevelForm(forms.ModelForm[StockLevel]):
    """Refuses an ``on_hand`` below what open orders have reserved, as ``stock_level_set`` does."""

    class Meta:
        model = StockLevel
        fields = ["on_hand"]

    def clean_on_hand(self) -> int:
        on_hand: int = self.cleaned_data["on_hand"]
        if on_hand < self.instance.reserved:
            raise forms.ValidationError(
                "%(reserved)s units are reserved by open orders; on hand cannot go below that.",
                code="stock_below_reserved",
                params={"reserved": self.instance.reserved},
            )
        return on_hand


class StockLevelInline(admin.StackedInline[StockLevel, Product]):
    model = StockLevel
    form = StockLevelForm
    fields = ["on_hand", "reserved", "updated_at"]
    readonly_fields = ["reserved", "updated_at"]
    can_delete = False
    min_num = 1
    max_num = 1


@admin.register(StockLevel)
class StockLevelAdmin(admin.ModelAdmin[StockLevel]):
    form = StockLevelForm
    list_display = ["product", "on_hand", "reserved", "available", "updated_at"]
    list_select_related = ["product"]
    search_fields = ["product__name", "product__sku"]
    raw_id_fields = ["product"]
    fields = ["product", "on_hand", "reserved", "updated_at"]
    readonly_fields = ["reserved", "updated_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: StockLevel | None = None) -> Any:
        # A level belongs to one product for good; only a new level picks its product.
        return [*self.readonly_fields, "product"] if obj is not None else self.readonly_fields

    def get_form(
        self,
        request: HttpRequest,
        obj: StockLevel | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> Any:
        kwargs["fields"] = ["product", "on_hand"] if obj is None else ["on_hand"]
        return super().get_form(request, obj, change, **kwargs)


@admin.register(Reservation)
class ReservationAdmin(admin.ModelAdmin[Reservation]):
    """Read-only: a reservation changes only with its order, so stock counts stay true."""

    list_display = ["id", "order", "product", "quantity", "status", "created_at"]
    list_filter = ["status"]
    list_select_related = ["order", "product"]
    search_fields = ["order__number", "product__sku"]
    raw_id_fields = ["order", "product"]
    readonly_fields = ["order", "product", "quantity", "status", "created_at", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Reservation | None = None) -> bool:
        return False
