from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from monolith.core.admin import ReadOnlyModelAdmin
from monolith.orders.models import Order, OrderLine, OrderStatusChange


class OrderLineInline(admin.TabularInline[OrderLine, Order]):
    model = OrderLine
    extra = 0
    can_delete = False
    readonly_fields = ["product_id", "sku", "product_name", "unit_price", "quantity", "line_total"]

    def has_add_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False


class OrderStatusChangeInline(admin.TabularInline[OrderStatusChange, Order]):
    model = OrderStatusChange
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "actor", "note", "at"]

    def has_add_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin[Order]):
    """Status changes go through the API or the order page, which keep stock and payments in
    step; here the status is read-only."""

    list_display = ["number", "user", "status", "total", "currency", "placed_at"]
    list_filter = ["status", "placed_at"]
    search_fields = ["number", "user__username", "user__email"]
    date_hierarchy = "placed_at"
    list_select_related = ["user"]
    readonly_fields = [
        "number",
        "user",
        "status",
        "currency",
        "total",
        "placed_at",
        "updated_at",
        "paid_at",
        "cancelled_at",
    ]
    inlines = [OrderLineInline, OrderStatusChangeInline]


@admin.register(OrderLine)
class OrderLineAdmin(ReadOnlyModelAdmin):
    list_display = ["order", "sku", "product_name", "unit_price", "quantity", "line_total"]
    search_fields = ["order__number", "sku", "product_name"]
    list_select_related = ["order"]


@admin.register(OrderStatusChange)
class OrderStatusChangeAdmin(ReadOnlyModelAdmin):
    list_display = ["order", "from_status", "to_status", "actor", "note", "at"]
    list_filter = ["to_status"]
    search_fields = ["order__number", "actor__username"]
    list_select_related = ["order", "actor"]
