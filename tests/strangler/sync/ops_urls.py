"""The test project's URLs plus ``strangler.sync.urls_ops`` under ``internal/sync/``."""

from django.urls import include, path

from tests.sync_project.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("internal/sync/", include("strangler.sync.urls_ops")),
    *project_urlpatterns,
]
