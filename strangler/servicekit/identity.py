"""``X-Strangler-Identity`` in an extracted service: the user the proxy vouches for.

The proxy strips any identity header a client sends and signs its own, so a service trusts
the header only when it verifies with ``settings.STRANGLER_IDENTITY_SECRET``. An invalid or
expired one makes the request anonymous (and logs why): it never fails the request.

``identity_middleware`` sets ``request.strangler_identity`` (an ``Identity`` or ``None``)
and, for a valid one, ``request.user`` to an ``IdentityUser`` (no database row behind it).
``StranglerIdentityAuthentication`` gives DRF views the same user. The user classes, and
how they answer ``has_perm``, are ``strangler.servicekit.identity_users`` (re-exported here).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from strangler.identity import (
    IDENTITY_HEADER,
    IDENTITY_LEEWAY_SECONDS,
    SECRET_SETTING,
    Identity,
    IdentityInvalid,
    require_secret,
    verify_identity,
)
from strangler.servicekit.identity_users import AnonymousIdentityUser, IdentityUser

__all__ = [
    "AnonymousIdentityUser",
    "IdentityUser",
    "StranglerIdentityAuthentication",
    "identity_from_request",
    "identity_middleware",
]

logger = logging.getLogger(__name__)

_META_KEY = "HTTP_X_STRANGLER_IDENTITY"
_ATTRIBUTE = "strangler_identity"


def _secret() -> str:
    return str(getattr(settings, SECRET_SETTING, ""))


def identity_from_request(request: HttpRequest) -> Identity | None:
    """The verified identity of ``request``, checked once per request and remembered."""
    if hasattr(request, _ATTRIBUTE):
        remembered: Identity | None = getattr(request, _ATTRIBUTE)
        return remembered
    identity: Identity | None = None
    value = request.META.get(_META_KEY)
    if value:
        try:
            identity = verify_identity(
                value, secret=_secret(), now=time.time(), leeway=IDENTITY_LEEWAY_SECONDS
            )
        except IdentityInvalid as exc:
            # The value itself is a bearer credential for its lifetime: never logged.
            logger.warning(
                "Ignoring %s (%s): %s The request is served as anonymous.",
                IDENTITY_HEADER,
                exc.code,
                exc.message,
                extra={"identity_error": exc.code, "path": request.path},
            )
    setattr(request, _ATTRIBUTE, identity)
    return identity


def identity_middleware(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """Django middleware: ``request.strangler_identity`` and, when valid, ``request.user``."""
    require_secret(_secret())  # at start-up, not at the first request

    def middleware(request: HttpRequest) -> HttpResponse:
        identity = identity_from_request(request)
        if identity is not None:
            request.user = IdentityUser(identity)  # type: ignore[assignment]
        elif not hasattr(request, "user"):
            request.user = AnonymousIdentityUser()  # type: ignore[assignment]
        return get_response(request)

    return middleware


class StranglerIdentityAuthentication(BaseAuthentication):
    """DRF authentication by the proxy's signed identity header.

    Works with or without ``identity_middleware`` (the header is verified once either way).
    """

    # An invalid header makes the request anonymous, never a 401 (the schema says so too:
    # strangler.servicekit.openapi).
    anonymous_when_invalid = True

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        identity = identity_from_request(request._request)
        if identity is None:
            return None
        return IdentityUser(identity), identity

    def authenticate_header(self, request: Request) -> str:
        # Clients authenticate to the proxy with a token, exactly as to the monolith; the
        # same challenge also keeps a service's 401 identical to the monolith's in shadow.
        return "Token"
