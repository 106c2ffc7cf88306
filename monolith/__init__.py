"""The storefront monolith: the Django project the toolkit migrates away from."""

from monolith.celery import app as celery_app

__all__ = ["celery_app"]
