"""A tiny Django project that runs as two sync nodes, ``alpha`` and ``beta`` (SYNC_NODE)."""

from tests.sync_project.celery import app as celery_app

__all__ = ["celery_app"]
