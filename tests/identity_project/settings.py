"""A small monolith as a team might have one: no DRF, its own session cookie name, and
Bearer tokens verified by a resolver of its own (``tests.identity_project.resolvers``).

Importing ``rest_framework`` fails here, as on a machine where it is not installed: the
identity app must work without it (the venv has DRF for the bundled monolith).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType


class _NotInstalled(MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname == "rest_framework" or fullname.startswith("rest_framework."):
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


sys.meta_path.insert(0, _NotInstalled())

SECRET_KEY = "insecure-identity-test-project"
STRANGLER_IDENTITY_SECRET = "identity-project-test-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "strangler.contrib.identity",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "tests.identity_project.urls"
# pytest-django's live server serves static files under it, needed or not.
STATIC_URL = "/static/"
SESSION_COOKIE_NAME = "shop_session"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
# Fast hashing: the tests log users in often, and the hash is not what they test.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

STRANGLER_IDENTITY = {
    "resolvers": [
        "tests.identity_project.resolvers.signed_bearer",
        "strangler.contrib.identity.resolvers.session",
    ],
    "claims": ["permissions", "groups"],
}
