"""The catalog service's Celery app; its configuration comes from Django settings (``CELERY_*``).

Nothing but a ping runs here yet: the data sync (``strangler.sync``) brings its own tasks
once it is installed, found by ``autodiscover_tasks``.
"""

import os

from celery import Celery

from strangler.servicekit.celery_request_id import connect_request_id_signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "extracted.catalog.settings")

app = Celery("catalog")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
connect_request_id_signals()
