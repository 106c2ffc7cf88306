"""The monolith's Celery app; its configuration comes from Django settings (``CELERY_*``)."""

import os

from celery import Celery

from strangler.servicekit.celery_request_id import connect_request_id_signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monolith.settings")

app = Celery("monolith")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
connect_request_id_signals()
