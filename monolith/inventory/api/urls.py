"""Inventory API routes, mounted under ``/api/v1/``."""

from django.urls import URLPattern, URLResolver, path

from monolith.inventory.api.views import StockLevelView

app_name = "inventory-api"

urlpatterns: list[URLPattern | URLResolver] = [
    path("inventory/<int:product_id>/", StockLevelView.as_view(), name="stock-level"),
]
