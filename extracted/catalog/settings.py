"""Catalog service settings, read once from the environment; a malformed variable stops start-up.

Defaults need no server: SQLite at ``var/catalog.sqlite3`` and a Celery broker on the file
system. ``CATALOG_DATABASE_URL`` (not ``DATABASE_URL``, so one shell can start the monolith
and the service side by side) switches to PostgreSQL, ``CELERY_BROKER_URL`` to Redis or
RabbitMQ.

The service has no users, sessions or tokens of its own: it trusts the strangler proxy's
signed ``X-Strangler-Identity`` header and nothing else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import django_stubs_ext
import environ
from django.core.exceptions import ImproperlyConfigured

from strangler.servicekit.celery_config import celery_settings
from strangler.servicekit.db import database_from_url
from strangler.servicekit.logging import json_logging_config
from strangler.servicekit.request_metrics import METRICS_APP, with_request_metrics
from strangler.servicekit.secret_settings import (
    IDENTITY_SECRET,
    SYNC_METRICS_TOKEN,
    SYNC_SECRET,
    django_secret_key,
    read_secrets_or_exit,
)
from strangler.sync.schedule import BROKER_VISIBILITY_TIMEOUT_SECONDS, beat_schedule

# Generic Django classes (ModelSerializer[Product], ...) become subscriptable at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent
REPO_DIR = BASE_DIR.parents[1]

env = environ.Env()
VAR_DIR = Path(env.str("STRANGLER_VAR_DIR", default=str(REPO_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Outside demo mode (STRANGLER_DEMO=1) a missing, short or published secret stops start-up.
_SECRET_KEY = django_secret_key("insecure-demo-key-catalog-change-me")
_secrets = read_secrets_or_exit(
    env.ENVIRON, (_SECRET_KEY, IDENTITY_SECRET, SYNC_SECRET, SYNC_METRICS_TOKEN)
)
SECRET_KEY = _secrets[_SECRET_KEY.name]
# The proxy passes the public Host through; list it here as for the monolith.
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "extracted.catalog.catalog",
    "strangler.sync",
    METRICS_APP,  # request metrics at /internal/metrics (strangler.servicekit.request_metrics)
]

MIDDLEWARE = with_request_metrics(
    [
        "strangler.servicekit.request_id.request_id_middleware",
        "strangler.sync.freshness.data_versions_middleware",
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
        "extracted.catalog.core.api.authentication.vary_on_cookie_middleware",
        "django.middleware.common.CommonMiddleware",
        "strangler.servicekit.identity.identity_middleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ]
)

# Prometheus reads /internal/metrics with the token it holds for the sync's figures.
STRANGLER_METRICS_TOKEN = _secrets[SYNC_METRICS_TOKEN.name]

ROOT_URLCONF = "extracted.catalog.urls"
WSGI_APPLICATION = "extracted.catalog.wsgi.application"

TEMPLATES = [
    {
        # DRF's browsable API and the Swagger UI page render templates of their apps.
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    },
]


# The two engines the service is tested on, by URL scheme; anything else would fail later,
# at the first query.
_DATABASE_SCHEMES = ("sqlite", "postgres", "postgresql")


def _catalog_database() -> dict[str, Any]:
    """``CATALOG_DATABASE_URL`` (empty or unset: the embedded SQLite file) as a database."""
    url = env.str("CATALOG_DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'catalog.sqlite3'}"
    scheme = url.partition("://")[0]
    if scheme not in _DATABASE_SCHEMES:
        # The URL itself may hold a password: name the variable and the scheme only.
        raise ImproperlyConfigured(
            f"CATALOG_DATABASE_URL has the scheme {scheme!r}; use sqlite:///<path> or "
            "postgres://<user>@<host>:<port>/<name>."
        )
    return database_from_url(url, test_name_prefix="test_catalog", var_dir=VAR_DIR)


DATABASES = {"default": _catalog_database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static" / "catalog"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns (an error in tests) without it
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve from the finders too, so the docs page works without a collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

REST_FRAMEWORK = {
    # JSON bodies only, read strictly by type (strangler.servicekit.strict_fields). A form
    # has no types ("0" would have to read as false, an empty field as absent): a form body is
    # a 415 saying to send JSON, instead of a second, looser contract the schema never states.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "extracted.catalog.core.api.authentication.ProxyIdentityAuthentication",
    ],
    # DRF's default anonymous user lives in django.contrib.auth, which the service lacks.
    "UNAUTHENTICATED_USER": "strangler.servicekit.identity.AnonymousIdentityUser",
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "strangler.servicekit.pagination.StandardPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "strangler.servicekit.openapi.ServiceAutoSchema",
    "EXCEPTION_HANDLER": "extracted.catalog.core.api.errors.api_exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Catalog service API",
    "DESCRIPTION": "The public catalog API of the storefront, served by the catalog service. "
    'Errors are JSON: `{"code": "...", "message": "...", "fields": {...}}`.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # <key:pk> path segments (strangler.servicekit.bounds.DatabaseKeyConverter): a BigAutoField
    # key, 1 to 2**63 - 1; any other number is a 404.
    # The API's contract is JSON (REST_FRAMEWORK's DEFAULT_PARSER_CLASSES).
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    "PATH_CONVERTER_OVERRIDES": {
        "key": {"type": "integer", "format": "int64", "minimum": 1, "maximum": 2**63 - 1}
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

STOREFRONT_CURRENCY = env.str("STOREFRONT_CURRENCY", default="EUR")
STRANGLER_IDENTITY_SECRET = _secrets[IDENTITY_SECRET.name]

LOGGING = json_logging_config(level=env.str("LOG_LEVEL", default="INFO"), service="catalog")

# Data sync with the monolith (docs/sync.md). The catalog and its stock levels arrive from the
# monolith from the start; our own catalog writes go back to the monolith once the migration
# plan's cutover enables this stream (it starts disabled: until then the monolith owns writes).
_CATEGORY_COLUMNS = ["id", "name", "slug", "description", "parent_id", "created_at", "updated_at"]
_PRODUCT_COLUMNS = [
    "id", "name", "slug", "sku", "description", "price", "currency", "category_id",
    "is_active", "created_at", "updated_at",
]  # fmt: skip
STRANGLER_SYNC = {
    "node": "catalog",
    "secret": _secrets[SYNC_SECRET.name],
    "metrics_token": _secrets[SYNC_METRICS_TOKEN.name],
    "peers": {
        "monolith": {
            "url": env.str(
                "MONOLITH_URL", default=f"http://127.0.0.1:{env.int('MONOLITH_PORT', default=8100)}"
            )
        }
    },
    "outbound": [
        {
            "model": "catalog.Category",
            "to": "monolith",
            "fields": _CATEGORY_COLUMNS,
            "enabled": False,
        },
        {
            "model": "catalog.Product",
            "to": "monolith",
            "fields": _PRODUCT_COLUMNS,
            "enabled": False,
        },
    ],
    "inbound": [
        {"from": "monolith", "table": "catalog_category", "model": "catalog.Category"},
        {"from": "monolith", "table": "catalog_product", "model": "catalog.Product"},
        {"from": "monolith", "table": "inventory_stocklevel", "model": "catalog.StockLevel"},
    ],
}

_celery = celery_settings(
    broker_url=env.str("CELERY_BROKER_URL", default=""),
    result_backend=env.str("CELERY_RESULT_BACKEND", default=""),
    var_dir=VAR_DIR / "celery" / "catalog",
)
CELERY_BROKER_URL = _celery.broker_url
CELERY_BROKER_TRANSPORT = _celery.broker_transport
CELERY_RESULT_BACKEND = _celery.result_backend
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **_celery.broker_transport_options,
    "visibility_timeout": BROKER_VISIBILITY_TIMEOUT_SECONDS,
}
# Its own queue: the monolith's workers may share the broker (docker-compose.yml).
CELERY_TASK_DEFAULT_QUEUE = "catalog"
# A heartbeat and a relay pass every 2 s keep the measured lag within ~4 s when idle: the
# migration plan's gates allow 5 s (migration_plans/catalog.yaml). Each costs one small
# query when there is nothing to send.
CELERY_BEAT_SCHEDULE = beat_schedule(relay_every=2.0, heartbeat_every=2.0)
# As the monolith's: a task is acknowledged after it ran, one at a time per worker process, and
# killed well before the broker's visibility timeout would hand it out again.
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

if env.bool("DJANGO_TRUST_X_FORWARDED_PROTO", default=False):
    # Only behind the strangler proxy, which always overwrites X-Forwarded-Proto (docs/proxy.md);
    # page links then say https exactly as the monolith's do.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
