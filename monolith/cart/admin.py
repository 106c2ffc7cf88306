from __future__ import annotations

from django.contrib import admin

from monolith.cart.models import Cart, CartLine


class CartLineInline(admin.TabularInline[CartLine, Cart]):
    model = CartLine
    extra = 0
    raw_id_fields = ["product"]
    readonly_fields = ["added_at", "updated_at"]


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin[Cart]):
    list_display = ["id", "user", "created_at", "updated_at"]
    search_fields = ["user__username", "user__email"]
    raw_id_fields = ["user"]
    inlines = [CartLineInline]


@admin.register(CartLine)
class CartLineAdmin(admin.ModelAdmin[CartLine]):
    list_display = ["id", "cart", "product", "quantity", "updated_at"]
    search_fields = ["cart__user__username", "product__sku", "product__name"]
    raw_id_fields = ["cart", "product"]
    list_select_related = ["cart__user", "product"]
