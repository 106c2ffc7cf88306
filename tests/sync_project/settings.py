"""One settings module, two nodes: ``SYNC_NODE`` (alpha | beta) picks which one this process is.

Each node has its own database (``DATABASE_URL``: a SQLite file by default, PostgreSQL in CI)
and its own peer URL (``SYNC_PEER_URL``). Alpha sends widgets, parts, vouchers, labels and
shipments to beta; beta's stream back to alpha is registered but disabled unless
``SYNC_OUTBOUND_ENABLED=1``, so the tests can run one direction, or both at once.
"""

from __future__ import annotations

import os
from pathlib import Path

import environ

from strangler.servicekit.celery_config import celery_settings
from strangler.servicekit.db import database_from_url
from strangler.servicekit.secret_settings import (
    SYNC_METRICS_TOKEN,
    SecretSpec,
    django_secret_key,
    read_secrets_or_exit,
)
from strangler.sync.schedule import BROKER_VISIBILITY_TIMEOUT_SECONDS

REPO_DIR = Path(__file__).resolve().parents[2]
env = environ.Env()

NODE = env.str("SYNC_NODE", default="alpha")
if NODE not in ("alpha", "beta"):
    raise environ.ImproperlyConfigured(f"SYNC_NODE={NODE!r}: expected alpha or beta")
PEER = "beta" if NODE == "alpha" else "alpha"
# Separates concurrent test runs on one machine (queues, spool); child processes inherit it.
RUN_ID = env.str("SYNC_RUN_ID", default=str(os.getpid()))
VAR_DIR = Path(env.str("STRANGLER_VAR_DIR", default=str(REPO_DIR / "var" / "sync_project")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# The test suites run in demo mode (STRANGLER_DEMO=1, pyproject.toml's [tool.pytest_env]);
# the nodes read their secrets through the same check as the real projects.
_SECRET_KEY = django_secret_key("insecure-sync-test-project")
_SYNC_SECRET = SecretSpec("STRANGLER_SYNC_SECRET", "insecure-sync-test-secret")
_secrets = read_secrets_or_exit(env.ENVIRON, (_SECRET_KEY, _SYNC_SECRET, SYNC_METRICS_TOKEN))
SECRET_KEY = _secrets[_SECRET_KEY.name]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "strangler.sync",
    "tests.sync_project.widgets",
]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "tests.sync_project.urls"
WSGI_APPLICATION = "tests.sync_project.wsgi.application"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

DATABASES = {
    "default": database_from_url(
        env.str("DATABASE_URL", default=f"sqlite:///{VAR_DIR / f'{NODE}.sqlite3'}"),
        test_name_prefix=f"test_sync_{NODE}",
        var_dir=VAR_DIR,
    )
}

# SYNC_WIDGET_FIELDS (comma-separated) stands for a registration not yet fixed: a worker
# started with it holds a drifted one (tests/strangler/sync/test_resume_workers.py).
_WIDGET_COLUMNS = env.list(
    "SYNC_WIDGET_FIELDS", default=["id", "sku", "name", "price", "updated_at"]
)
_PART_COLUMNS = ["id", "widget_id", "name", "quantity"]
# Tables keyed by a UUID, by text and by a big integer, each the same way both ways.
_KEYED = {
    "widgets.Voucher": ["id", "name", "amount"],
    "widgets.Label": ["code", "name", "position"],
    "widgets.Shipment": ["id", "name", "amount"],
}
_OUTBOUND_ENABLED = env.bool("SYNC_OUTBOUND_ENABLED", default=NODE == "alpha")
STRANGLER_SYNC = {
    "node": NODE,
    "secret": _secrets[_SYNC_SECRET.name],
    "metrics_token": _secrets[SYNC_METRICS_TOKEN.name],
    "peers": {PEER: {"url": env.str("SYNC_PEER_URL", default="http://127.0.0.1:9")}},
    "outbound": [
        {"model": "widgets.Widget", "to": PEER, "fields": _WIDGET_COLUMNS, "exclude": [],
         "enabled": _OUTBOUND_ENABLED},
        {"model": "widgets.Part", "to": PEER, "fields": _PART_COLUMNS, "exclude": [],
         "enabled": _OUTBOUND_ENABLED},
        *({"model": model, "to": PEER, "fields": fields, "exclude": [],
           "enabled": _OUTBOUND_ENABLED} for model, fields in _KEYED.items()),
    ],
    "inbound": [
        {"from": PEER, "table": "widgets_widget", "model": "widgets.Widget"},
        {"from": PEER, "table": "widgets_part", "model": "widgets.Part"},
        *({"from": PEER, "table": f"widgets_{model.split('.')[1].lower()}", "model": model}
          for model in _KEYED),
    ],
}  # fmt: skip

_celery = celery_settings(
    broker_url=env.str("CELERY_BROKER_URL", default=""),
    result_backend=env.str("CELERY_RESULT_BACKEND", default=""),
    var_dir=VAR_DIR / "celery" / RUN_ID,
)
CELERY_BROKER_URL = _celery.broker_url
CELERY_BROKER_TRANSPORT = _celery.broker_transport
CELERY_RESULT_BACKEND = _celery.result_backend
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **_celery.broker_transport_options,
    "visibility_timeout": BROKER_VISIBILITY_TIMEOUT_SECONDS,
}
CELERY_TASK_DEFAULT_QUEUE = f"sync-{NODE}-{RUN_ID}"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}
