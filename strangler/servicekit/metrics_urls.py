"""The project's request metrics at ``/internal/metrics`` (strangler.servicekit.request_metrics),
with one include: ``path("internal/", include("strangler.servicekit.metrics_urls"))``.
"""

from __future__ import annotations

from django.urls import path

from strangler.servicekit.request_metrics import metrics_view

__all__ = ["app_name", "urlpatterns"]

app_name = "strangler_metrics"
urlpatterns = [path("metrics", metrics_view, name="metrics")]
