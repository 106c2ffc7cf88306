"""Inventory API routes, mounted under ``/api/v1/``."""

from django.urls import URLPattern, URLResolver, path

from monolith.inventory.api.views import StockLevelView
from strangler.servicekit.bounds import register_key_converter

# <key:...>: a row key a column can hold; a larger number is a 404, not a 500.
register_key_converter()

app_name = "inventory-api"

urlpatterns: list[URLPattern | URLResolver] = [
    path("inventory/<key:product_id>/", StockLevelView.as_view(), name="stock-level"),
]
