"""Storefront pages, mounted at the site root."""

from django.urls import URLPattern, URLResolver, path

from monolith.catalog import views

app_name = "catalog"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.product_list, name="product-list"),
    path("products/<slug:slug>/", views.product_detail, name="product-detail"),
]
