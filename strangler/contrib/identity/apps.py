"""The Django app: reads ``STRANGLER_IDENTITY`` and the secret at start, not at a request."""

from __future__ import annotations

from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from strangler.identity import SECRET_SETTING

__all__ = ["StranglerIdentityConfig"]


class StranglerIdentityConfig(AppConfig):
    name = "strangler.contrib.identity"
    label = "strangler_identity"
    verbose_name = "Strangler identity endpoint"

    def ready(self) -> None:
        from strangler.contrib.identity.config import identity_settings

        if not getattr(settings, SECRET_SETTING, ""):
            raise ImproperlyConfigured(
                f"{SECRET_SETTING} is empty: the identity endpoint authenticates the proxy "
                "with it; set the value the proxy and the services share."
            )
        identity_settings()  # a malformed STRANGLER_IDENTITY stops start-up here
