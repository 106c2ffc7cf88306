"""``/api/v1/``: each bounded context mounts its own API routes."""

from django.urls import include, path

urlpatterns = [
    path("", include("monolith.accounts.api.urls")),
    path("", include("monolith.catalog.api.urls")),
    path("", include("monolith.inventory.api.urls")),
    path("", include("monolith.cart.api.urls")),
    path("", include("monolith.orders.api.urls")),
    path("", include("monolith.payments.api.urls")),
]
