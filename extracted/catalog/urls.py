"""The catalog service's routes: the public catalog API, health, schema and docs."""

from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from strangler.servicekit.health import healthz, readyz

handler404 = "extracted.catalog.core.views.page_not_found"
handler500 = "extracted.catalog.core.views.server_error"

urlpatterns: list[URLPattern | URLResolver] = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("internal/sync/", include("strangler.sync.urls")),
    path("internal/", include("strangler.servicekit.metrics_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("extracted.catalog.catalog.api.urls")),
]
