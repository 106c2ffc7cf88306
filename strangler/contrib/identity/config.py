"""``settings.STRANGLER_IDENTITY`` read once into a frozen object.

``{"resolvers": [dotted paths], "claims": ["permissions", "groups"]}``, both optional. The
default resolvers are DRF's token when ``rest_framework.authtoken`` is installed, then the
session when the project has sessions (``django.contrib.sessions``, or an engine that
needs no table); no claims. An error names the setting and the
entry, and the app's ``ready()`` reads it, so a bad one stops the process at start.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

from strangler.contrib.identity.resolvers import Resolver

__all__ = ["SETTING", "Claim", "IdentitySettings", "identity_settings"]

SETTING = "STRANGLER_IDENTITY"
Claim = Literal["permissions", "groups"]
_CLAIMS: tuple[str, ...] = get_args(Claim)
_KEYS = frozenset({"resolvers", "claims"})
_DRF_TOKEN = "strangler.contrib.identity.resolvers.drf_token"  # noqa: S105 - a dotted path
_SESSION = "strangler.contrib.identity.resolvers.session"
_DRF_APP = "rest_framework.authtoken"
# Session engines that keep sessions in django.contrib.sessions' table.
_DB_ENGINES = ("django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cached_db")


@dataclass(frozen=True)
class IdentitySettings:
    resolvers: tuple[Resolver, ...]
    claims: frozenset[Claim]


@functools.cache
def identity_settings() -> IdentitySettings:
    """The configuration, parsed once per process (re-read when a test overrides it)."""
    raw = getattr(settings, SETTING, {})
    if not isinstance(raw, Mapping):
        raise ImproperlyConfigured(f"{SETTING} must be a dict with 'resolvers' and 'claims'.")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise ImproperlyConfigured(
            f"{SETTING}: unknown key(s) {', '.join(map(repr, unknown))} "
            "(expected 'resolvers', 'claims')."
        )
    paths = raw["resolvers"] if "resolvers" in raw else _default_resolvers()
    return IdentitySettings(
        resolvers=tuple(
            _resolver(path, f"{SETTING}['resolvers'][{i}]")
            for i, path in enumerate(_strings(paths, "resolvers"))
        ),
        claims=frozenset(_claim(name) for name in _strings(raw.get("claims", []), "claims")),
    )


def _default_resolvers() -> list[str]:
    paths = []
    if apps.is_installed(_DRF_APP):
        paths.append(_DRF_TOKEN)
    if apps.is_installed("django.contrib.sessions") or settings.SESSION_ENGINE not in _DB_ENGINES:
        paths.append(_SESSION)
    return paths


def _strings(value: Any, key: str) -> Sequence[str]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ImproperlyConfigured(f"{SETTING}['{key}'] must be a list of strings.")
    if not all(isinstance(item, str) for item in value):
        raise ImproperlyConfigured(f"{SETTING}['{key}'] must be a list of strings.")
    return value


def _resolver(path: str, where: str) -> Resolver:
    if path == _DRF_TOKEN and not apps.is_installed(_DRF_APP):
        raise ImproperlyConfigured(f"{where}: {path!r} needs {_DRF_APP!r} in INSTALLED_APPS.")
    try:
        resolver = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"{where}: cannot import {path!r} ({exc}).") from None
    if not callable(resolver):
        raise ImproperlyConfigured(f"{where}: {path!r} is not callable.")
    checked: Resolver = resolver
    return checked


def _claim(name: str) -> Claim:
    if name == "permissions":
        return "permissions"
    if name == "groups":
        return "groups"
    raise ImproperlyConfigured(
        f"{SETTING}['claims']: unknown claim {name!r} (expected {', '.join(_CLAIMS)})."
    )


def _clear_cache(*, setting: str, **_: Any) -> None:
    if setting in (SETTING, "INSTALLED_APPS"):
        identity_settings.cache_clear()


setting_changed.connect(_clear_cache, dispatch_uid="strangler_identity_config")
