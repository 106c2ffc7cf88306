"""A tiny monolith for ``strangler extract``'s tests: UUID-keyed books pointing at authors
of another app (the shape of ``examples/library``), no auth, no sessions."""

SECRET_KEY = "uuid-library-test-only"
INSTALLED_APPS = ["shelf", "people"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
ROOT_URLCONF = "library.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
USE_TZ = True
# A plain literal: strangler extract merges the service's entries into it.
STRANGLER_SYNC = {
    "node": "library",
    "peers": {},
    "outbound": [],
    "inbound": [],
}
