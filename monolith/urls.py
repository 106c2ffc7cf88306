from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from strangler.servicekit.health import healthz, readyz

handler404 = "monolith.core.views.page_not_found"
handler500 = "monolith.core.views.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("internal/identity/", include("strangler.contrib.identity.urls")),
    path("internal/sync/", include("strangler.sync.urls")),
    path("internal/", include("strangler.servicekit.metrics_urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("monolith.api_urls")),
    path("accounts/", include("monolith.accounts.urls")),
    path("cart/", include("monolith.cart.urls")),
    path("orders/", include("monolith.orders.urls")),
    path("", include("monolith.catalog.urls")),
]
