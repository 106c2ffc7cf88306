"""The monolith's Celery app; its configuration comes from Django settings (``CELERY_*``)."""

from strangler.servicekit.celery_wiring import celery_app

app = celery_app("monolith", "monolith.settings")
