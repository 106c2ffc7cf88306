"""Backfill's, reconcile's and Prometheus' endpoints, under the same ``internal/sync/`` prefix.

``strangler.sync.urls`` adds these to its own: ``urlpatterns += urls_ops.urlpatterns``, so a
project's one ``include("strangler.sync.urls")`` serves them all.
"""

from __future__ import annotations

from django.urls import path

from strangler.sync import views_ops

__all__ = ["urlpatterns"]

urlpatterns = [
    path("rows/apply", views_ops.rows_apply_view, name="rows-apply"),
    path("rows/resend", views_ops.rows_resend_view, name="rows-resend"),
    path("rows", views_ops.rows_view, name="rows"),
    path("checksum", views_ops.checksum_view, name="checksum"),
    path("columns", views_ops.columns_view, name="columns"),
    path("splits", views_ops.splits_view, name="splits"),
    path("metrics", views_ops.metrics_view, name="metrics"),
]
