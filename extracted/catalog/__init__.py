"""The catalog service: categories and products carved out of the monolith.

Its own Django project and database, serving the monolith's public catalog contract
(``/api/v1/categories/``, ``/api/v1/products/``) so a client cannot tell which answered.
Stock levels stay with the monolith's inventory and arrive here by sync, read-only.
"""

from extracted.catalog.celery import app as celery_app

__all__ = ["celery_app"]
