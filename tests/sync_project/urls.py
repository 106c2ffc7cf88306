from django.urls import include, path

from strangler.servicekit.health import healthz, readyz

urlpatterns = [
    path("healthz", healthz),
    path("readyz", readyz),
    path("internal/sync/", include("strangler.sync.urls")),
]
