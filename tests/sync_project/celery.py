"""The test project's Celery app; ``strangler.sync.tasks`` is found by autodiscovery."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.sync_project.settings")

app = Celery("sync_project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
