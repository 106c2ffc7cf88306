"""Monolith settings, read once from the environment; a malformed variable stops start-up.

Defaults need no server: SQLite under ``var/`` and a Celery broker on the file system.
``DATABASE_URL`` switches to PostgreSQL, ``CELERY_BROKER_URL`` to Redis (or RabbitMQ).
"""

from __future__ import annotations

from pathlib import Path

import django_stubs_ext
import environ

from strangler.servicekit.celery_wiring import sync_celery_settings
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

# Generic Django classes (ModelAdmin[Product], ...) become subscriptable at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent
REPO_DIR = BASE_DIR.parent

env = environ.Env()
VAR_DIR = Path(env.str("STRANGLER_VAR_DIR", default=str(REPO_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Outside demo mode (STRANGLER_DEMO=1) a missing, short or published secret stops start-up.
_SECRET_KEY = django_secret_key("insecure-demo-key-monolith-change-me")
_secrets = read_secrets_or_exit(
    env.ENVIRON, (_SECRET_KEY, IDENTITY_SECRET, SYNC_SECRET, SYNC_METRICS_TOKEN)
)
SECRET_KEY = _secrets[_SECRET_KEY.name]
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "monolith.core",
    "monolith.accounts",
    "monolith.catalog",
    "monolith.inventory",
    "monolith.cart",
    "monolith.orders",
    "monolith.payments",
    "strangler.sync",
    "strangler.contrib.identity",
    METRICS_APP,  # request metrics at /internal/metrics (strangler.servicekit.request_metrics)
]

MIDDLEWARE = with_request_metrics(
    [
        "strangler.servicekit.request_id.request_id_middleware",
        "strangler.sync.freshness.data_versions_middleware",
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ]
)

# Prometheus reads /internal/metrics with the token it holds for the sync's figures.
STRANGLER_METRICS_TOKEN = _secrets[SYNC_METRICS_TOKEN.name]

ROOT_URLCONF = "monolith.urls"
WSGI_APPLICATION = "monolith.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "monolith.cart.context_processors.cart_summary",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(
        env.str("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'monolith.sqlite3'}"),
        test_name_prefix="test_monolith",
        var_dir=VAR_DIR,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "catalog:product-list"
LOGOUT_REDIRECT_URL = "catalog:product-list"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static" / "monolith"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns (an error in tests) without it
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve from the finders too, so a fresh clone needs no collectstatic step before `make up`.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

REST_FRAMEWORK = {
    # JSON bodies only, read strictly by type (strangler.servicekit.strict_fields). A form
    # has no types ("0" would have to read as false, an empty field as absent): a form body is
    # a 415 saying to send JSON, instead of a second, looser contract the schema never states.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # Token first: its WWW-Authenticate header makes unauthenticated API calls 401, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "strangler.servicekit.pagination.StandardPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "strangler.servicekit.openapi.ServiceAutoSchema",
    "EXCEPTION_HANDLER": "monolith.core.api.errors.api_exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Storefront monolith API",
    "DESCRIPTION": "The public API of the storefront. Errors are JSON: "
    '`{"code": "...", "message": "...", "fields": {...}}`.',
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
}

STOREFRONT_CURRENCY = env.str("STOREFRONT_CURRENCY", default="EUR")
# The simulated gateway's "timeout" behaviour waits this long before giving up.
PAYMENT_GATEWAY_TIMEOUT_SECONDS = env.float("PAYMENT_GATEWAY_TIMEOUT_SECONDS", default=2.0)
STRANGLER_IDENTITY_SECRET = _secrets[IDENTITY_SECRET.name]
# The proxy's question "who is this?" (strangler.contrib.identity): DRF's token, then the
# session, as the API authenticates; permissions and groups go along, so that a service's
# perms checks (staff pages) decide as ours do.
STRANGLER_IDENTITY = {
    "resolvers": [
        "strangler.contrib.identity.resolvers.drf_token",
        "strangler.contrib.identity.resolvers.session",
    ],
    "claims": ["permissions", "groups"],
}

# Data sync with the extracted catalog service (docs/sync.md). The catalog and its stock go
# to the service from the start; the service's catalog comes back once the migration plan's
# cutover enables the service's stream to us (strangler plan next catalog).
_CATEGORY_COLUMNS = ["id", "name", "slug", "description", "parent_id", "created_at", "updated_at"]
_PRODUCT_COLUMNS = [
    "id", "name", "slug", "sku", "description", "price", "currency", "category_id",
    "is_active", "created_at", "updated_at",
]  # fmt: skip
_STOCK_COLUMNS = ["id", "product_id", "on_hand", "reserved", "updated_at"]
STRANGLER_SYNC = {
    "node": "monolith",
    "secret": _secrets[SYNC_SECRET.name],
    "metrics_token": _secrets[SYNC_METRICS_TOKEN.name],
    "peers": {
        "catalog": {
            "url": env.str(
                "CATALOG_URL", default=f"http://127.0.0.1:{env.int('CATALOG_PORT', default=8200)}"
            )
        }
    },
    "outbound": [
        {"model": "catalog.Category", "to": "catalog", "fields": _CATEGORY_COLUMNS},
        {"model": "catalog.Product", "to": "catalog", "fields": _PRODUCT_COLUMNS},
        {"model": "inventory.StockLevel", "to": "catalog", "fields": _STOCK_COLUMNS},
    ],
    "inbound": [
        {"from": "catalog", "table": "catalog_category", "model": "catalog.Category"},
        {"from": "catalog", "table": "catalog_product", "model": "catalog.Product"},
    ],
}

LOGGING = json_logging_config(level=env.str("LOG_LEVEL", default="INFO"), service="monolith")

# Every CELERY_* setting the sync needs (strangler.servicekit.celery_wiring), on its own queue:
# the catalog service's workers may share the broker (docker-compose.yml). A heartbeat and a
# relay pass every 2 s keep the measured lag within ~4 s when idle: the migration plan's
# gates allow 5 s (migration_plans/catalog.yaml). Each costs one small query when idle.
globals().update(
    sync_celery_settings(
        env=env.ENVIRON,
        var_dir=VAR_DIR / "celery" / "monolith",
        queue="monolith",
        relay_every=2.0,
        heartbeat_every=2.0,
    )
)

if env.bool("DJANGO_SECURE", default=False):  # served over TLS in production
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
if env.bool("DJANGO_TRUST_X_FORWARDED_PROTO", default=False):
    # Only behind the strangler proxy, which always overwrites X-Forwarded-Proto (docs/proxy.md).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

SPECTACULAR_SETTINGS.update(
    {
        "SWAGGER_UI_DIST": "SIDECAR",
        "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
        "REDOC_DIST": "SIDECAR",
    }
)
