"""Include under ``internal/sync/``: ``path("internal/sync/", include("strangler.sync.urls"))``."""

from __future__ import annotations

from django.urls import path

from strangler.sync import urls_ops, views

__all__ = ["app_name", "urlpatterns"]

app_name = "strangler_sync"
urlpatterns = [
    path("cursor", views.cursor_view, name="cursor"),
    path("apply", views.apply_view, name="apply"),
    path("status", views.status_view, name="status"),
    path("switch", views.switch_view, name="switch"),
]
urlpatterns += urls_ops.urlpatterns
