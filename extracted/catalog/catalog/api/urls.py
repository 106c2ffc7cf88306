"""Catalog API routes, mounted under ``/api/v1/``."""

from django.urls import URLPattern, URLResolver, path

from extracted.catalog.catalog.api.views import CategoryViewSet, ProductBySlugView, ProductViewSet
from strangler.servicekit.bounds import register_key_converter

# <key:...>: a row key a column can hold; a larger number is a 404, not a 500.
register_key_converter()

app_name = "catalog-api"

categories = CategoryViewSet.as_view({"get": "list", "post": "create"})
category = CategoryViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
)
products = ProductViewSet.as_view({"get": "list", "post": "create"})
product = ProductViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
)

urlpatterns: list[URLPattern | URLResolver] = [
    path("categories/", categories, name="category-list"),
    path("categories/<key:pk>/", category, name="category-detail"),
    path("products/", products, name="product-list"),
    path("products/<key:pk>/", product, name="product-detail"),
    path("products/by-slug/<slug:slug>/", ProductBySlugView.as_view(), name="product-by-slug"),
]
