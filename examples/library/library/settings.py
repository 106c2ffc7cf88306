"""Settings for the library, read from the environment.

``LIBRARY_SECRET_KEY`` is required; ``LIBRARY_DEMO=1`` allows a published demo key instead.
``DATABASE_URL`` (``sqlite:///path`` or ``postgres://user:password@host:port/name``) picks
the database; without it, SQLite in ``$LIBRARY_VAR_DIR`` (default: this project's directory).
"""

import os
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("LIBRARY_VAR_DIR") or BASE_DIR)

DEMO = os.environ.get("LIBRARY_DEMO") == "1"
SECRET_KEY = os.environ.get("LIBRARY_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEMO:
        sys.exit("library: set LIBRARY_SECRET_KEY (or LIBRARY_DEMO=1 for the demo's key)")
    SECRET_KEY = "library-demo-key-not-for-production"  # noqa: S105 - the published demo key

DEBUG = os.environ.get("LIBRARY_DEBUG") == "1"
ALLOWED_HOSTS = os.environ.get("LIBRARY_ALLOWED_HOSTS", "localhost,127.0.0.1,testserver").split(",")

# How long a loan lasts, in days.
LOAN_DAYS = int(os.environ.get("LIBRARY_LOAN_DAYS", "21"))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "shelf",
    "members",
    "loans",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After the session's user: an ``Authorization: ApiKey`` header takes precedence.
    "members.auth.ApiKeyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "members.auth.ApiKeyBackend",
]

ROOT_URLCONF = "library.urls"
WSGI_APPLICATION = "library.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "library" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "members.context_processors.member",
            ],
        },
    },
]


def _database(url: str) -> dict[str, object]:
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": unquote(parts.path[1:])}
    if parts.scheme in ("postgres", "postgresql"):
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path[1:]),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
        }
    sys.exit(f"library: DATABASE_URL must be sqlite:/// or postgres://, not {parts.scheme!r}")


DATABASES = {
    "default": _database(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'library.sqlite3'}"
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"

LOGIN_URL = "members:login"
LOGIN_REDIRECT_URL = "loans:mine"
LOGOUT_REDIRECT_URL = "shelf:book-list"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First: a request with an API key never falls through to the session (and its CSRF).
        "members.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
